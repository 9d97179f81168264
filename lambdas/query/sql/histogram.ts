/**
 * The histogram of a selection: its events counted per UTC-aligned bucket (an hour or a day), split
 * into failed, read and the rest, with the first and last event time. Planned from the listing plan
 * of the same selection (`planQuery`: the same partition, days, time range and filter predicates
 * with the same bound values), so a histogram counts exactly the events the list route pages
 * through. DuckDB only: the console of `serve` asks for it (docs/console-api.md).
 */
import { DAY_MS, MINUTE_MS } from '@eventlog-archive/shared';
import type { EventSelection } from '../engine';
import { type DuckDbSources, duckDbDialect, duckDbFrom } from './duckdb';
import {
  type FieldPath,
  filterPath,
  type Predicate,
  planQuery,
  type QueryParam,
  type QueryPlan,
  QueryPlanError,
} from './plan';
import { ALIAS, type RenderedSql, renderPredicate } from './select';

/** How a source's events fall into the histogram's series: failed, else read, else write. */
export interface EventSeries {
  /** A string field whose non-empty value marks a failed event. */
  failedWhenSet?: string;
  /** A string field and the value that mark a read (among the events not failed). */
  readWhen?: { field: string; value: string };
}

export interface HistogramQuery extends EventSelection {
  /** Bucket length in ms: a day, or a whole number of minutes that divides a day. */
  bucketMs: number;
  series: EventSeries;
}

/** The events of one bucket that has any. */
export interface HistogramRow {
  /** Bucket start, epoch ms. */
  start: number;
  total: number;
  failed: number;
  read: number;
  /** First and last event time in the bucket, epoch ms. */
  first: number;
  last: number;
}

export interface HistogramPlan {
  /** The listing plan of the same selection: its partition, days and WHERE. */
  events: QueryPlan;
  time: FieldPath;
  bucketMs: number;
  failed?: Predicate;
  read?: Predicate;
}

/** Plans a histogram, rejecting what the API layer should have refused (a bug, never a 4xx). */
export function planHistogram(query: HistogramQuery): HistogramPlan {
  const { source, series, bucketMs } = query;
  if (!Number.isSafeInteger(bucketMs) || bucketMs < MINUTE_MS || DAY_MS % bucketMs !== 0)
    throw new QueryPlanError('bucketMs must be a day or a whole number of minutes that divides a day');
  // The limit of a listing plan is not rendered: a histogram reads every matching event.
  const events = planQuery({ ...query, limit: 1 });
  const plan: HistogramPlan = { events, time: [source.timeField], bucketMs };
  if (series.failedWhenSet !== undefined)
    // `> ''` holds for a non-empty string and is NULL for a null one.
    plan.failed = compare(filterPath(source, series.failedWhenSet), '>', '');
  if (series.readWhen !== undefined)
    plan.read = compare(filterPath(source, series.readWhen.field), '=', series.readWhen.value);
  return plan;
}

function compare(path: FieldPath, op: '>' | '=', value: string): Predicate {
  return { kind: 'compare', path, op, value: { type: 'string', value } };
}

/**
 * The aggregate over the plan's days: one row a non-empty bucket, in time order. Series values are
 * bound parameters like the filters; the bucket length is the one literal, a checked integer.
 */
export function renderDuckDbHistogram(plan: HistogramPlan, sources: DuckDbSources): RenderedSql {
  const params: QueryParam[] = [];
  const { bucketMs } = plan;
  if (!Number.isSafeInteger(bucketMs) || bucketMs <= 0) throw new QueryPlanError('bucketMs out of range');
  const time = duckDbDialect.column(plan.time);
  // A predicate that is NULL (a null field) does not hold. Rendered in text order: params are positional.
  const holds = (p: Predicate | undefined): string =>
    p ? `coalesce(${renderPredicate(p, duckDbDialect, params)}, false)` : 'false';
  const columns = [
    `(epoch_ms(${time}) // ${bucketMs}) * ${bucketMs} AS "start"`,
    'count(*) AS "total"',
    `count(*) FILTER (WHERE ${holds(plan.failed)}) AS "failed"`,
    `count(*) FILTER (WHERE NOT ${holds(plan.failed)} AND ${holds(plan.read)}) AS "read"`,
    `epoch_ms(min(${time})) AS "first"`,
    `epoch_ms(max(${time})) AS "last"`,
  ];
  const where = plan.events.where.map((p) => renderPredicate(p, duckDbDialect, params));
  const sql = [
    `SELECT ${columns.join(', ')}`,
    `FROM ${duckDbFrom(sources)} AS ${ALIAS}`,
    `WHERE ${where.join(' AND ')}`,
    'GROUP BY 1',
    'ORDER BY 1',
  ].join('\n');
  return { sql, params };
}

/** DuckDB's rows of {@link renderDuckDbHistogram} (BIGINTs come back as bigint). */
export function histogramRows(rows: readonly unknown[][]): HistogramRow[] {
  return rows.map(([start, total, failed, read, first, last]) => ({
    start: Number(start),
    total: Number(total),
    failed: Number(failed),
    read: Number(read),
    first: Number(first),
    last: Number(last),
  }));
}
