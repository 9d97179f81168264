/**
 * What a source is. Adding a source means one module that implements this interface: how to name
 * and validate an instance, which fields an event has, and how to fetch one page of a time window.
 * The pipeline, storage, ledger and coverage never change for a new source.
 */
import type { Page } from '@eventlog-archive/shared';
import type { ArchiveRecord, FieldSpec } from '../archive/records';

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
}

/**
 * A source without its client: everything the query side, the CDK app and the CLI's listings need.
 * Each source keeps it in `sources/<name>/definition.ts`, which imports no client code, so a bundle
 * that only reads the archive (the query Lambda) never carries an SDK client.
 */
export interface SourceDefinition {
  /** `--source` value, e.g. `codecatalyst`. */
  readonly name: string;
  /** Human name for messages, e.g. `CodeCatalyst event logs`. */
  readonly title: string;
  /** Table folder and Glue table name. */
  readonly table: string;
  /** Partition column of an instance, e.g. `space`. */
  readonly partitionKey: string;
  /** CLI option naming an instance, e.g. `space` for `--space`. */
  readonly instanceOption: string;
  /** Event fields, in the source's order. */
  readonly fields: readonly FieldSpec[];
  /** Field holding the event's unique id. */
  readonly idField: string;
  /** Field holding the event time (a `timestamp` field). */
  readonly timeField: string;
  /** The page size asked of the source and its allowed range. */
  readonly pageSize: number;
  readonly pageSizeLimits: { min: number; max: number };
  /** How long the source keeps events: the default backfill. */
  readonly retentionDays: number;
  /** Validates an instance name; throws an error naming `field` and the rule. */
  checkInstance(value: unknown, field: string): string;
  /** The path-safe partition value of an instance. */
  partitionValue(instance: string): string;
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
  /** CodeCatalyst: read ordinary pages without the SDK's deserializer (default true; false for comparisons). */
  fastPageReader?: boolean;
}
