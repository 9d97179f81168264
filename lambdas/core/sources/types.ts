/**
 * What a source is, without its client: how to name and validate an instance, which fields an event
 * has, where its table lives. Both functions, the CDK app and the CLI read it; only the ingest adds a
 * client (lambdas/ingest/sources), so a bundle that only reads the archive carries no SDK client.
 */
import type { FieldSpec } from '../records';

/**
 * A source without its client: everything the query side, the CDK app and the CLI's listings need.
 * Each source keeps it in `sources/<name>/definition.ts`, which imports no client code.
 */
export interface SourceDefinition {
  /** `--source` value, e.g. `codecatalyst`. */
  readonly name: string;
  /** Human name for messages, e.g. `CodeCatalyst event logs`. */
  readonly title: string;
  /** What the table holds, for its Glue table description. */
  readonly description: string;
  /** The API route wire-compatible with the source's own list call, if the archive serves one. */
  readonly route?: SourceRoute;
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

/** An HTTP route of the query API: API Gateway and `serve` expose it; the query handler answers it. */
export interface SourceRoute {
  readonly method: 'GET' | 'POST';
  /** The resource path, `{name}` for a path parameter, e.g. `/v1/spaces/{spaceName}/eventLogs`. */
  readonly path: string;
  /**
   * How the service's own SDK authenticates this call: `bearer` (`Authorization: Bearer …`, as the
   * CodeCatalyst SDK does) or `sigv4`. With `query.authorization: "token"` the deployed API puts the
   * token authorizer on bearer routes and keeps IAM on SigV4 ones, so each official SDK works unchanged.
   */
  readonly authentication: 'bearer' | 'sigv4';
}
