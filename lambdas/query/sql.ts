/**
 * One SQL builder, two dialects. `planQuery` turns an `EventQuery` into a dialect-free plan (the
 * columns to read, the predicates with their values, the order and the limit); `renderDuckDb` and
 * `renderAthena` print that one plan as SQL. Both engines therefore filter, order and page by the
 * same predicates with the same values, and the tests compare the plan, not two hand-written queries.
 *
 * Caller values never reach the SQL text: every time, filter value and cursor id is a positional
 * `?` parameter. The only literals are values these modules format themselves from checked inputs: the
 * partition value (re-checked in the plan against the source's instance rule and a generic path-safe
 * pattern), `YYYY-MM-DD` dates from `utcDay`, the LIMIT integer, and (DuckDB only) the file paths.
 *
 * The pieces live in sql/: plan.ts (the plan), select.ts (the SELECT both dialects share), duckdb.ts
 * and athena.ts (the dialects and Athena's parameters), histogram.ts (the console's aggregate of a
 * listing plan, DuckDB only). This file is their one import point.
 */
export {
  ATHENA_PARAMETER_MAX_LENGTH,
  athenaExecutionParameters,
  isoMillis,
  MAX_STRING_PARAMETER_BYTES,
  renderAthena,
} from './sql/athena';
export { type DuckDbSources, renderDuckDb } from './sql/duckdb';
export {
  type EventSeries,
  type HistogramPlan,
  type HistogramQuery,
  type HistogramRow,
  histogramRows,
  planHistogram,
  renderDuckDbHistogram,
} from './sql/histogram';
export {
  checkedPartitionValue,
  type FieldPath,
  fieldAt,
  type LeafType,
  MAX_LIMIT,
  type OutputColumn,
  outputColumns,
  PARTITION_VALUE_PATTERN,
  type Predicate,
  planQuery,
  type QueryParam,
  type QueryPlan,
  QueryPlanError,
  quoteIdentifier,
  quoteString,
} from './sql/plan';
export type { RenderedSql } from './sql/select';
