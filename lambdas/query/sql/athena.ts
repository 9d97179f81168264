/**
 * Athena rendering of a plan, and the `ExecutionParameters` its `?` placeholders are bound to:
 * what the AWS engine (athena-engine.ts) runs.
 */
import {
  PARTITION_VALUE_PATTERN,
  type QueryParam,
  type QueryPlan,
  QueryPlanError,
  quoteIdentifier,
  quoteString,
} from './plan';
import { ALIAS, columnRef, type Dialect, type RenderedSql, renderSelect } from './select';

/** Database names: configuration, not input, but checked before they are quoted. */
const DATABASE_PATTERN = /^[A-Za-z0-9_-]{1,255}$/;
const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

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
