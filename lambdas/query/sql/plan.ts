/**
 * The dialect-free plan of a query: which columns to read, which predicates with which values, the
 * order and the limit. `planQuery` decides it once; sql/duckdb.ts and sql/athena.ts print it.
 * Caller values stay values (`QueryParam`s) here: nothing in a plan is SQL text.
 */
import { utcDay } from '@eventlog-archive/shared';
import type { FieldSpec } from '../../core/records';
import type { SourceDefinition } from '../../core/sources/types';
import type { EventQuery } from '../engine';

/** A field of the source, top level or inside structs: `['userIdentity', 'userName']`. */
export type FieldPath = readonly string[];

/** A leaf type the engines read back: structs are flattened into their leaves. */
export type LeafType = 'string' | 'timestamp' | 'json';

/**
 * One output column of the flattened projection, in SELECT order. Both dialects select the same
 * columns in the same order, so one decoder (`records-from-rows.ts`) rebuilds records for both.
 */
export type OutputColumn =
  | { kind: 'leaf'; path: FieldPath; type: LeafType; alias: string }
  /** True when the struct at `path` is null (so its leaves are not "a struct of nulls"). */
  | { kind: 'struct-null'; path: FieldPath; alias: string };

/** A value bound as a parameter: a string, or a moment (epoch ms) the dialect encodes. */
export type QueryParam = { type: 'string'; value: string } | { type: 'timestamp'; value: number };

/** A dialect-free predicate over source fields; values are parameters, never SQL text. */
export type Predicate =
  | { kind: 'compare'; path: FieldPath; op: '>=' | '<' | '>' | '='; value: QueryParam }
  | { kind: 'in'; path: FieldPath; values: readonly QueryParam[] }
  | { kind: 'and'; of: readonly Predicate[] }
  | { kind: 'or'; of: readonly Predicate[] };

/** Everything both dialects render, decided once. */
export interface QueryPlan {
  /** Glue table and archive folder. */
  table: string;
  partitionKey: string;
  /** Checked path-safe partition value of the instance (rendered as a literal for Athena pruning). */
  partitionValue: string;
  /**
   * UTC days whose partitions can hold a result: from the later of `start` and the cursor's time,
   * to the day of `end - 1`. Empty when the range is empty (then no query needs to run).
   */
  firstDay: string | undefined;
  lastDay: string | undefined;
  columns: readonly OutputColumn[];
  /** ANDed predicates (time range, filters, keyset cursor), without partition predicates. */
  where: readonly Predicate[];
  /** Archive order: event time, then id. */
  orderBy: readonly FieldPath[];
  limit: number;
}

/** Generic rule for a partition value that may be printed into SQL: path-safe, no quote. */
export const PARTITION_VALUE_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
/** Field and table names: code, not input, but checked before they are quoted. */
const IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** Largest LIMIT a caller may ask for (a page plus one is 251; the CLI may ask for more). */
export const MAX_LIMIT = 10_000;
/** Moments are clamped to [1970, 10000): the archive holds nothing earlier, ISO 8601 nothing later. */
const MIN_TIME = 0;
const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999) + 1;

/** A bug in the caller (the API layer validates and whitelists): never a caller's 4xx. */
export class QueryPlanError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = 'QueryPlanError';
  }
}

/** `"name"`, with embedded quotes doubled; the name is checked against a strict pattern first. */
export function quoteIdentifier(name: string, pattern: RegExp = IDENTIFIER_PATTERN): string {
  if (!pattern.test(name)) throw new QueryPlanError(`not a safe SQL identifier: ${JSON.stringify(name)}`);
  return `"${name.replaceAll('"', '""')}"`;
}

/** A Trino/DuckDB string literal: quotes doubled, nothing else is special in either dialect. */
export function quoteString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** The flattened projection of a source's fields: leaves in declared order, a null flag before each struct. */
export function outputColumns(fields: readonly FieldSpec[]): OutputColumn[] {
  const out: OutputColumn[] = [];
  const walk = (specs: readonly FieldSpec[], prefix: readonly string[]): void => {
    for (const field of specs) {
      quoteIdentifier(field.name);
      const path = [...prefix, field.name];
      const alias = path.join('.');
      if (field.type === 'struct') {
        out.push({ kind: 'struct-null', path, alias: `${alias}.$null` });
        walk(field.fields, path);
      } else {
        out.push({ kind: 'leaf', path, type: field.type, alias });
      }
    }
  };
  walk(fields, []);
  return out;
}

/** The field a dotted path names, or undefined. */
export function fieldAt(fields: readonly FieldSpec[], path: FieldPath): FieldSpec | undefined {
  let specs: readonly FieldSpec[] = fields;
  let found: FieldSpec | undefined;
  for (const [i, name] of path.entries()) {
    found = specs.find((f) => f.name === name);
    if (!found) return undefined;
    if (i < path.length - 1) {
      if (found.type !== 'struct') return undefined;
      specs = found.fields;
    }
  }
  return found;
}

/** A filter path must name a string field of the source (top level or in structs). */
export function filterPath(source: SourceDefinition, dotted: string): FieldPath {
  const path = typeof dotted === 'string' ? dotted.split('.') : [];
  const field = fieldAt(source.fields, path);
  if (field?.type !== 'string') {
    throw new QueryPlanError(
      `filter path ${JSON.stringify(dotted)} does not name a string field of ${source.name}`,
    );
  }
  return path;
}

function stringParam(value: unknown, what: string): QueryParam {
  if (typeof value !== 'string') throw new QueryPlanError(`${what} must be a string`);
  return { type: 'string', value };
}

function moment(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    throw new QueryPlanError(`${what} must be an integer epoch-millisecond time`);
  return Math.min(MAX_TIME, Math.max(MIN_TIME, value));
}

/**
 * The partition value of an instance, checked twice: by the source's own instance rule (which
 * throws the source's ValidationException) and by the generic path-safe pattern. Only a value that
 * passes both is ever printed into SQL.
 */
export function checkedPartitionValue(source: SourceDefinition, instance: string): string {
  const checked = source.checkInstance(instance, source.instanceOption);
  const value = source.partitionValue(checked);
  if (typeof value !== 'string' || !PARTITION_VALUE_PATTERN.test(value) || value.includes("'")) {
    throw new QueryPlanError(`partition value of ${source.name} instance is not path-safe`);
  }
  return value;
}

const ts = (value: number): QueryParam => ({ type: 'timestamp', value });

/** Builds the dialect-free plan of a query, rejecting anything the API layer should have refused. */
export function planQuery(query: EventQuery): QueryPlan {
  const { source } = query;
  const partitionValue = checkedPartitionValue(source, query.instance);
  quoteIdentifier(source.table);
  quoteIdentifier(source.partitionKey);
  const timeField = fieldAt(source.fields, [source.timeField]);
  const idField = fieldAt(source.fields, [source.idField]);
  if (timeField?.type !== 'timestamp' || idField?.type !== 'string')
    throw new QueryPlanError(`${source.name}: timeField must be a timestamp and idField a string field`);
  if (!Number.isSafeInteger(query.limit) || query.limit < 1 || query.limit > MAX_LIMIT)
    throw new QueryPlanError(`limit must be an integer from 1 to ${MAX_LIMIT}`);

  const start = moment(query.start, 'start');
  const end = moment(query.end, 'end');
  const time: FieldPath = [source.timeField];
  const id: FieldPath = [source.idField];
  const where: Predicate[] = [
    { kind: 'compare', path: time, op: '>=', value: ts(start) },
    { kind: 'compare', path: time, op: '<', value: ts(end) },
    ...filterPredicates(query),
  ];

  let from = start;
  if (query.after !== undefined) {
    const at = moment(query.after.time, 'after.time');
    const afterId = stringParam(query.after.id, 'after.id');
    where.push(keysetPredicate(time, id, at, afterId));
    // Days before the cursor cannot hold a result: later pages read fewer partitions.
    from = Math.max(from, at);
  }

  const empty = from >= end;
  return {
    table: source.table,
    partitionKey: source.partitionKey,
    partitionValue,
    firstDay: empty ? undefined : utcDay(from),
    lastDay: empty ? undefined : utcDay(end - 1),
    columns: outputColumns(source.fields),
    where,
    orderBy: [time, id],
    limit: query.limit,
  };
}

/** The `equals` and `anyOf` filters of a query, sorted by path so one request always gives one SQL text. */
function filterPredicates(query: EventQuery): Predicate[] {
  const { source } = query;
  const where: Predicate[] = [];
  const byPath = <T>(record: Readonly<Record<string, T>> | undefined): [string, T][] =>
    Object.entries(record ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [dotted, value] of byPath(query.equals)) {
    where.push({
      kind: 'compare',
      path: filterPath(source, dotted),
      op: '=',
      value: stringParam(value, `equals[${dotted}]`),
    });
  }
  for (const [dotted, values] of byPath(query.anyOf)) {
    const path = filterPath(source, dotted);
    if (!Array.isArray(values) || values.length === 0)
      throw new QueryPlanError(`anyOf[${dotted}] must be a non-empty list`);
    where.push({ kind: 'in', path, values: values.map((v) => stringParam(v, `anyOf[${dotted}]`)) });
  }
  return where;
}

/** Keyset: (time, id) > (at, afterId), spelled out so both dialects read it the same way. */
function keysetPredicate(time: FieldPath, id: FieldPath, at: number, afterId: QueryParam): Predicate {
  return {
    kind: 'or',
    of: [
      { kind: 'compare', path: time, op: '>', value: ts(at) },
      {
        kind: 'and',
        of: [
          { kind: 'compare', path: time, op: '=', value: ts(at) },
          { kind: 'compare', path: id, op: '>', value: afterId },
        ],
      },
    ],
  };
}
