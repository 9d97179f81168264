/**
 * The request of `GET /console/api/histogram` (docs/console-api.md#histogram): a source, an
 * instance, a range and the filters of that source's list route, validated by the list route's own
 * parser, so that the histogram counts exactly the events the list route returns for them.
 */
import { DAY_MS, HOUR_MS, parseRfc3339, validationError } from '@eventlog-archive/shared';
import type { SourceDefinition } from '../../core/sources/types';
import type { EventSelection } from '../engine';
import { EXTRA_FILTERS, equalsOf, parseListEventLogs } from '../list-event-logs';
import { parseListSystemEvents, single, systemEventFilters } from '../list-system-events';
import { instanceParam, type QueryParams, sourceParam } from './params';

/** Bucket lengths by name. */
export const HISTOGRAM_BUCKETS = { hour: HOUR_MS, day: DAY_MS } as const;
export type HistogramBucket = keyof typeof HISTOGRAM_BUCKETS;
/** A range up to this long gets hour buckets unless `bucket` says otherwise; a longer one day buckets. */
export const HOURLY_BY_DEFAULT_MS = 7 * DAY_MS;
/** The longest range of hour buckets (744 of them). */
export const MAX_HOURLY_RANGE_MS = 31 * DAY_MS;
/** The longest range of a histogram: ten years of days (3,653 day buckets, 3,654 off midnight). */
export const MAX_RANGE_DAYS = 3653;

/** The engine filters of a request, as the source's list route builds them. */
export type SelectionFilters = Pick<EventSelection, 'equals' | 'anyOf'>;

export interface HistogramRequest {
  source: SourceDefinition;
  instance: string;
  /** [start, end), epoch ms. */
  start: number;
  end: number;
  bucket: HistogramBucket;
  filters: SelectionFilters;
}

/** Reads the range and filters of a source's list route from the console's query parameters. */
type SelectionParser = (
  query: QueryParams,
  instance: string,
) => { start: number; end: number; filters: SelectionFilters };

const SELECTION_PARSERS: Readonly<Record<string, SelectionParser>> = {
  // The body fields of ListEventLogs and the archive's extra filters, as query parameters.
  codecatalyst: (query, instance) => {
    const body: Record<string, string> = {};
    for (const name of ['startTime', 'endTime', 'eventName', ...Object.keys(EXTRA_FILTERS)]) {
      const value = single(query, name);
      if (value !== undefined) body[name] = value;
    }
    const input = parseListEventLogs(instance, body);
    return { start: input.startTime, end: input.endTime, filters: { equals: equalsOf(input) } };
  },
  // ListSystemEvents' own parameters (eventTypes repeated); the times are required here.
  resiliencehub: (query, instance) => {
    const start = parseRfc3339(single(query, 'startTime'), 'startTime');
    const end = parseRfc3339(single(query, 'endTime'), 'endTime');
    const input = parseListSystemEvents({ systemArn: instance, eventTypes: query.eventTypes });
    return { start, end, filters: systemEventFilters(input) };
  },
};

/** Validates a histogram request; each rule throws a 400 ValidationException naming the parameter. */
export function parseHistogramRequest(query: QueryParams): HistogramRequest {
  const source = sourceParam(query);
  const instance = instanceParam(query, source);
  const parse = Object.hasOwn(SELECTION_PARSERS, source.name) ? SELECTION_PARSERS[source.name] : undefined;
  if (!parse) throw validationError('source', `${source.name} has no console histogram`);
  const { start, end, filters } = parse(query, instance);
  if (end <= start) throw validationError('endTime', 'must be later than startTime');
  const span = end - start;
  if (span > MAX_RANGE_DAYS * DAY_MS)
    throw validationError('endTime', `must be at most ${MAX_RANGE_DAYS} days (10 years) after startTime`);
  return { source, instance, start, end, bucket: bucketParam(query, span), filters };
}

/** `bucket`: `hour` or `day`; by default hours up to 7 days, else days. Hours cover at most 31 days. */
function bucketParam(query: QueryParams, span: number): HistogramBucket {
  const value = single(query, 'bucket');
  if (value === undefined) return span <= HOURLY_BY_DEFAULT_MS ? 'hour' : 'day';
  if (value !== 'hour' && value !== 'day')
    throw validationError('bucket', `must be hour or day (got "${value.slice(0, 40)}")`);
  if (value === 'hour' && span > MAX_HOURLY_RANGE_MS)
    throw validationError(
      'bucket',
      `hour buckets cover at most ${MAX_HOURLY_RANGE_MS / DAY_MS} days (the range spans ${Math.ceil(span / DAY_MS)}); use day`,
    );
  return value;
}
