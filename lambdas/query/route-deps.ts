/** What a route's list call reads from; the API resolves it per request (api.ts `routeDeps`). */
import type { ArchiveCatalog } from './catalog';
import type { QueryEngine } from './engine';
import type { NextTokenCodec } from './next-token';

export interface RouteDeps {
  engine: QueryEngine;
  catalog: ArchiveCatalog;
  /** Asked for only when a token is to be checked or made: a one-page answer never needs the key. */
  tokens: () => Promise<NextTokenCodec>;
  now?: () => number;
  /** Byte budget of a page's body: fewer items and a nextToken beyond it. */
  pageBytes?: number;
}
