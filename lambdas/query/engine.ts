/**
 * One query-engine interface, two engines: Athena in AWS (athena-engine.ts) and DuckDB on one
 * machine (duckdb-engine.ts). Both answer the same `EventQuery` with the same rows in the same
 * order, so the HTTP API above them is one piece of code.
 */
import type { ArchiveRecord } from '../core/records';
import type { SourceDefinition } from '../core/sources/types';

/** A page of events of one source instance, in archive order (event time, then id). */
export interface EventQuery {
  source: SourceDefinition;
  /** The source instance (a space name), already validated by the source's rule. */
  instance: string;
  /** Half-open time range [start, end), epoch ms. */
  start: number;
  end: number;
  /**
   * Equality filters: dotted field path of the source (`eventName`, `userIdentity.userName`) → value.
   * Paths must name string fields of `source.fields`; values are always bound as parameters.
   */
  equals?: Readonly<Record<string, string>>;
  /** Membership filters: field path → allowed values (at least one). */
  anyOf?: Readonly<Record<string, readonly string[]>>;
  /** Keyset cursor: only events strictly after this (time, id) in archive order. */
  after?: { time: number; id: string };
  /** At most this many events (callers ask for one more than a page to learn whether more exist). */
  limit: number;
}

/** The events a query selects, without paging: the instance, the range and the filters. */
export type EventSelection = Omit<EventQuery, 'after' | 'limit'>;

export interface QueryStats {
  /** Data objects (day partitions) the query read, where the engine can tell. */
  filesRead?: number;
  /** Bytes the engine scanned, where it can tell (Athena). */
  bytesScanned?: number;
}

/** How a caller may stop a query it no longer needs. */
export interface QueryOptions {
  /**
   * Aborted when the answer is no longer wanted (the client left, the request timed out): the
   * engine stops the query where it can and rejects with the signal's reason.
   */
  signal?: AbortSignal;
}

export interface QueryEngine {
  /** Events in archive order, normalised exactly as the ingest stores them (`normaliseRecord`). */
  listEvents(
    query: EventQuery,
    options?: QueryOptions,
  ): Promise<{ records: ArchiveRecord[]; stats: QueryStats }>;
  close(): Promise<void>;
}
