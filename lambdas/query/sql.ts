/**
 * One SQL builder, two dialects. `planQuery` turns an `EventQuery` into a dialect-free plan (the
 * columns to read, the predicates with their values, the order and the limit); `renderDuckDb` and
 * `renderAthena` print that one plan as SQL. Both engines therefore filter, order and page by the
 * same predicates with the same values, and the tests compare the plan, not two hand-written queries.
 *
 * Caller values never reach the SQL text: every time, filter value and cursor id is a positional
 * `?` parameter. The only literals are values this module formats itself from checked inputs: the
 * partition value (re-checked here against the source's instance rule and a generic path-safe
 * pattern), `YYYY-MM-DD` dates from `utcDay`, the LIMIT integer, and (DuckDB only) the file paths.
 */
import { utcDay } from '@eventlog-archive/shared';
import type { FieldSpec } from '../core/records';
import type { SourceDefinition } from '../core/sources/types';
import type { EventQuery } from './engine';

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

/** SQL text plus its positional parameters, in `?` order. */
export interface RenderedSql {
  sql: string;
  params: readonly QueryParam[];
}

/** Generic rule for a partition value that may be printed into SQL: path-safe, no quote. */
export const PARTITION_VALUE_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
/** Field, table and database names: code, not input, but checked before they are quoted. */
const IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const DATABASE_PATTERN = /^[A-Za-z0-9_-]{1,255}$/;
const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
/** Largest LIMIT a caller may ask for (a page plus one is 251; the CLI may ask for more). */
export const MAX_LIMIT = 10_000;
/** Moments are clamped to [1970, 10000): the archive holds nothing earlier, ISO 8601 nothing later. */
const MIN_TIME = 0;
const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999) + 1;
/** Table alias in both dialects; qualified references never collide with output aliases. */
const ALIAS = 'e';

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
function filterPath(source: SourceDefinition, dotted: string): FieldPath {
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
  const ts = (value: number): QueryParam => ({ type: 'timestamp', value });
  const where: Predicate[] = [
    { kind: 'compare', path: time, op: '>=', value: ts(start) },
    { kind: 'compare', path: time, op: '<', value: ts(end) },
  ];

  // Sorted by path so one request always gives one SQL text.
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

  let from = start;
  if (query.after !== undefined) {
    const at = moment(query.after.time, 'after.time');
    const afterId = stringParam(query.after.id, 'after.id');
    // Keyset: (time, id) > (at, afterId), spelled out so both dialects read it the same way.
    where.push({
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
    });
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

interface Dialect {
  /** A field reference, e.g. `e."userIdentity"."userName"`. */
  column(path: FieldPath): string;
  /** The SELECT expression of a leaf column. */
  select(column: Extract<OutputColumn, { kind: 'leaf' }>): string;
  /** A parameter placeholder of a value (the value itself goes to the parameter list). */
  param(value: QueryParam): string;
}

const columnRef = (path: FieldPath): string => [ALIAS, ...path.map((p) => quoteIdentifier(p))].join('.');

function renderPredicate(p: Predicate, dialect: Dialect, params: QueryParam[]): string {
  const bind = (value: QueryParam): string => {
    params.push(value);
    return dialect.param(value);
  };
  switch (p.kind) {
    case 'compare':
      return `${dialect.column(p.path)} ${p.op} ${bind(p.value)}`;
    case 'in':
      return `${dialect.column(p.path)} IN (${p.values.map(bind).join(', ')})`;
    case 'and':
      return `(${p.of.map((q) => renderPredicate(q, dialect, params)).join(' AND ')})`;
    case 'or':
      return `(${p.of.map((q) => renderPredicate(q, dialect, params)).join(' OR ')})`;
  }
}

function renderSelect(plan: QueryPlan, dialect: Dialect, from: string, partition: string[]): RenderedSql {
  const params: QueryParam[] = [];
  const columns = plan.columns.map((c) =>
    c.kind === 'struct-null'
      ? `${dialect.column(c.path)} IS NULL AS ${quoteAlias(c.alias)}`
      : `${dialect.select(c)} AS ${quoteAlias(c.alias)}`,
  );
  const where = [...partition, ...plan.where.map((p) => renderPredicate(p, dialect, params))];
  const limit = plan.limit;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT)
    throw new QueryPlanError('limit out of range');
  const sql = [
    `SELECT ${columns.join(', ')}`,
    `FROM ${from} AS ${ALIAS}`,
    `WHERE ${where.join(' AND ')}`,
    `ORDER BY ${plan.orderBy.map((p) => `${dialect.column(p)} ASC`).join(', ')}`,
    `LIMIT ${limit}`,
  ].join('\n');
  return { sql, params };
}

/** Output aliases are field paths (`userIdentity.userName`, `userIdentity.$null`) built from checked names. */
function quoteAlias(alias: string): string {
  if (!/^[A-Za-z0-9_.$]+$/.test(alias)) throw new QueryPlanError(`unsafe alias ${alias}`);
  return `"${alias}"`;
}

const duckDbDialect: Dialect = {
  column: columnRef,
  // JSON columns come back as VARCHAR text whatever logical type the file declares.
  select: (c) => (c.type === 'json' ? `CAST(${columnRef(c.path)} AS VARCHAR)` : columnRef(c.path)),
  // Timestamps are bound as TIMESTAMPTZ values, strings as VARCHAR: no casts needed in the text.
  param: () => '?',
};

/** What a DuckDB query reads: day files, and (optionally) days the engine holds as in-memory tables. */
export interface DuckDbSources {
  files: readonly string[];
  /** Names of in-memory tables with the files' schema (the engine's cache of decoded days). */
  tables?: readonly string[];
}

/**
 * DuckDB: `read_parquet` over an explicit list of files (the engine lists the days that exist, so
 * a one-day query opens one file), unioned with the in-memory tables of cached days if any. Paths
 * are printed as string literals: they come from the engine's own archive folder, the checked
 * partition value and `utcDay` dates, never from a caller.
 */
export function renderDuckDb(plan: QueryPlan, { files, tables = [] }: DuckDbSources): RenderedSql {
  const parts = tables.map((t) => `SELECT * FROM ${quoteIdentifier(t)}`);
  if (files.length > 0)
    parts.push(
      `SELECT * FROM read_parquet([${files.map(quoteString).join(', ')}], hive_partitioning = false)`,
    );
  if (parts.length === 0) throw new QueryPlanError('no files to read');
  const from =
    parts.length === 1 && tables.length === 0
      ? parts[0]!.slice('SELECT * FROM '.length)
      : `(${parts.join(' UNION ALL BY NAME ')})`;
  return renderSelect(plan, duckDbDialect, from, []);
}

/**
 * Athena (Trino) dialect.
 *
 * Why the SELECT list looks the way it does: `GetQueryResults` returns every value as a string
 * (`VarCharValue`, absent for NULL), and a struct as Trino's display form `{userType=USER, …}`,
 * which cannot be parsed back (values are not quoted, so a `,` or `=` inside one is ambiguous).
 * So each struct leaf is selected as its own column (`e."userIdentity"."userName" AS
 * "userIdentity.userName"`), plus `e."userIdentity" IS NULL AS "userIdentity.$null"` to tell a
 * null struct from a struct whose members are all null. Timestamps are selected as
 * `to_iso8601(col)`: the Glue column is `timestamp` (Trino `timestamp(3)`, no zone; the Parquet
 * values are UTC-adjusted and Athena's session zone is UTC), for which Trino prints the ISO form
 * at the column's precision and without a zone, `2024-05-01T12:34:56.789`; the decoder reads that
 * as UTC (and also accepts `Z`, offsets, other fraction lengths and the space-separated display
 * form, should the table declare the column differently). No format string is needed, so the SQL
 * holds no literal beyond the partition ones.
 *
 * Why the partition predicates are literals: partition projection prunes only on predicates it
 * can evaluate while planning (an `injected` projection even requires an equality with a literal),
 * so the instance and the `dt` range are printed as literals, from the double-checked partition
 * value and from `utcDay` dates only.
 *
 * Why strings are `from_utf8(from_hex(?))`: Athena substitutes each execution parameter as an SQL
 * expression, so a string parameter has to be passed as a quoted literal. Doubling quotes is the
 * whole escaping rule in Trino, but a literal made only of hex digits needs no escaping rule at all:
 * whatever a value contains (quotes, backslashes, NUL, line separators), its parameter is
 * `'[0-9A-F]*'`, one literal under any SQL dialect's lexer. Trino folds the constant call while
 * planning, so the comparison still pushes down to Parquet statistics. Times are passed as our own
 * ISO 8601 text (`[0-9:.TZ-]` only) into `from_iso8601_timestamp(?)`.
 */
export function renderAthena(plan: QueryPlan, database: string): RenderedSql {
  const athenaDialect: Dialect = {
    column: columnRef,
    select: (c) => (c.type === 'timestamp' ? `to_iso8601(${columnRef(c.path)})` : columnRef(c.path)),
    param: (value) => (value.type === 'timestamp' ? 'from_iso8601_timestamp(?)' : 'from_utf8(from_hex(?))'),
  };
  if (!plan.firstDay || !plan.lastDay) throw new QueryPlanError('empty time range: nothing to query');
  for (const day of [plan.firstDay, plan.lastDay])
    if (!DAY_PATTERN.test(day)) throw new QueryPlanError(`not a UTC day: ${day}`);
  if (!PARTITION_VALUE_PATTERN.test(plan.partitionValue) || plan.partitionValue.includes("'"))
    throw new QueryPlanError('partition value is not path-safe');
  const partition = [
    `${ALIAS}.${quoteIdentifier(plan.partitionKey)} = ${quoteString(plan.partitionValue)}`,
    `${ALIAS}."dt" BETWEEN ${quoteString(plan.firstDay)} AND ${quoteString(plan.lastDay)}`,
  ];
  const from = `${quoteIdentifier(database, DATABASE_PATTERN)}.${quoteIdentifier(plan.table)}`;
  return renderSelect(plan, athenaDialect, from, partition);
}

/** RFC 3339 in UTC with milliseconds: the one text form of a moment in parameters. */
export function isoMillis(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Athena's limit on the length of each `ExecutionParameters` value
 * (https://docs.aws.amazon.com/athena/latest/APIReference/API_StartQueryExecution.html): a longer
 * one fails StartQueryExecution with an InvalidRequestException.
 */
export const ATHENA_PARAMETER_MAX_LENGTH = 1024;

/** A string parameter as Athena gets it: the hex digits of its UTF-8 bytes, quoted. */
function athenaStringParameter(value: string): string {
  return `'${Buffer.from(value, 'utf8').toString('hex').toUpperCase()}'`;
}

/**
 * The most UTF-8 bytes a string parameter may have, derived from the encoding above rather than
 * written down: its fixed overhead (the quotes) and its characters per byte (two hex digits), so a
 * change of encoding moves the limit with it. 511 for quoted hex.
 */
export const MAX_STRING_PARAMETER_BYTES: number = (() => {
  const overhead = athenaStringParameter('').length;
  const perByte = athenaStringParameter('\0').length - overhead;
  return Math.floor((ATHENA_PARAMETER_MAX_LENGTH - overhead) / perByte);
})();

/**
 * `ExecutionParameters` of a rendered Athena query, in `?` order: a string as the hex digits of its
 * UTF-8 bytes (decoded in SQL by `from_utf8(from_hex(?))`), a time as ISO 8601 text, each quoted as
 * the single string literal Athena expects. Neither form can contain a quote or a backslash. A value
 * over Athena's length limit is a bug of the caller (the API layer refuses longer filters with a 400).
 */
export function athenaExecutionParameters(params: readonly QueryParam[]): string[] {
  return params.map((p) => {
    const text = p.type === 'timestamp' ? `'${isoMillis(p.value)}'` : athenaStringParameter(p.value);
    if (text.length > ATHENA_PARAMETER_MAX_LENGTH)
      throw new QueryPlanError(
        `execution parameter of ${text.length} characters (Athena allows ${ATHENA_PARAMETER_MAX_LENGTH})`,
      );
    return text;
  });
}
