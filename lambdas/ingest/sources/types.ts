/**
 * A source as the ingest runs it: its definition (lambdas/core/sources) plus a client that fetches
 * one page of a time window. The pipeline, storage, ledger and coverage never change for a source.
 */
import type { DeferredPage, Page } from '@eventlog-archive/shared';
import type { ArchiveRecord } from '../../core/records';
import type { SourceDefinition } from '../../core/sources/types';

export interface PageRequest {
  /** The source instance (a space name, a system ARN). */
  instance: string;
  /** Window start, inclusive, epoch ms. */
  start: number;
  /** Window end, exclusive, epoch ms. */
  end: number;
  nextToken: string | undefined;
  pageSize: number;
  signal?: AbortSignal;
}

/** Fetches pages of a source; each item already normalised to the source's fields. */
export interface SourceClient {
  listPage(request: PageRequest): Promise<Page<ArchiveRecord>>;
  /**
   * The same page, answered but not yet read, where the client can tell the next token from the raw
   * answer (a guess that reading confirms): the pipeline then asks for the next page before it
   * parses this one. Optional; without it the pipeline uses `listPage`.
   */
  listPageDeferred?(request: PageRequest): Promise<DeferredPage<ArchiveRecord>>;
}

/** A source with its client: what the ingest runs. */
export interface SourceModule extends SourceDefinition {
  /** Builds a client from the environment (credentials, tokens, endpoint overrides). */
  createClient(options: SourceClientOptions): Promise<SourceClient>;
}

export interface SourceClientOptions {
  /** Environment to read endpoints and local tokens from (defaults to process.env). */
  env?: NodeJS.ProcessEnv;
  /** Per-request timeout in ms. */
  requestTimeoutMs?: number;
  /**
   * CodeCatalyst: read ordinary pages with the fast reader (default true); false reads every page as
   * the official client's deserializer does (for comparisons).
   */
  fastPageReader?: boolean;
}
