/**
 * `GET /v2/list-system-events`: Resilience Hub (next generation) `ListSystemEvents` over the archive.
 *
 * Same query parameters, validation, response and errors as the service (ListSystemEvents API
 * reference: https://docs.aws.amazon.com/resilience-hub/v2/APIReference/API_ListSystemEvents.html):
 * `systemArn` (required, the API reference's pattern and minimum length), `eventTypes` (repeated, each
 * one of the API reference's values), `startTime`/`endTime` (ISO 8601), `maxResults` (1–100),
 * `nextToken` (`\S{1,2000}`). Every ValidationException carries the API reference's `reason` and
 * `fieldList`; a system never archived is
 * a 404 ResourceNotFoundException with `resourceId` (the ARN) and `resourceType` (`System`).
 *
 * Decisions where the service documents nothing:
 * - `maxResults` defaults to {@link DEFAULT_SYSTEM_EVENTS_MAX_RESULTS} (100, the API reference's maximum: the
 *   fewest round trips, and a page of 100 events is small).
 * - `startTime` is inclusive and `endTime` exclusive (events with startTime ≤ timestamp < endTime);
 *   either may be absent (no bound); `endTime` before `startTime` is a ValidationException, equal
 *   times an empty page.
 * - A parameter that is not a list (`systemArn`, the times, `maxResults`, `nextToken`) given more
 *   than once is a ValidationException; repeated `eventTypes` values count once.
 * - Unknown query parameters are ignored, as AWS services do.
 * - Results are in archive order (event time, then `eventId`); `nextToken` is the same signed keyset
 *   cursor as the CodeCatalyst route (bound to systemArn, times and eventTypes; `maxResults` may
 *   change between pages; expires), so pages never repeat or skip an event.
 * - `timestamp` is epoch seconds with the milliseconds as a decimal fraction, and
 *   `eventDetails.eventMetadata` the exact JSON document that was archived (spliced, not re-serialised).
 */

import {
  ApiError,
  checkIntRange,
  checkSystemArn,
  checkSystemEventsNextToken,
  checkSystemEventTypes,
  isApiError,
  parseRfc3339,
  SYSTEM_EVENT_TYPES,
  SYSTEM_EVENTS_MAX_RESULTS,
  SYSTEM_EVENTS_VALIDATION_REASON,
  type SystemEventType,
  validationError,
} from '@eventlog-archive/shared';
import { type ArchiveRecord, epochSecondsJson, toWireJson } from '../core/records';
import { resiliencehubDefinition } from '../core/sources/resiliencehub/definition';
import type { SourceDefinition } from '../core/sources/types';
import type { EventQuery, QueryStats } from './engine';
import { carriedBytes, cursorOf, itemsWithinBudget, pageBytesOf } from './list-event-logs';
import { requestBinding } from './next-token';
import type { RouteDeps } from './route-deps';

export const LIST_SYSTEM_EVENTS_PATH = '/v2/list-system-events';
/** Page size when the request has no `maxResults` (the API reference documents no default). */
export const DEFAULT_SYSTEM_EVENTS_MAX_RESULTS = 100;
/** The API reference's limit on a `nextToken` in a response. */
export const SYSTEM_EVENTS_NEXT_TOKEN_MAX_LENGTH = 2000;
/** `resourceType` of the 404 for a system the archive has never recorded. */
export const SYSTEM_RESOURCE_TYPE = 'System';

// Events after this much past "now" cannot be in the archive (ingest stops at the present).
const FUTURE_SLACK_MS = 24 * 60 * 60 * 1000;
const TOKEN_FIELDS = 'systemArn, startTime, endTime and eventTypes';

export type QueryParams = Readonly<Record<string, string | readonly string[] | undefined>>;

/** A validated ListSystemEvents request. */
export interface ListSystemEventsInput {
  systemArn: string;
  /** Inclusive, epoch ms; absent: no lower bound. */
  startTime?: number;
  /** Exclusive, epoch ms; absent: no upper bound. */
  endTime?: number;
  /** Distinct values in the API reference's order; empty: every type. */
  eventTypes: SystemEventType[];
  maxResults: number;
  nextToken?: string;
}

export interface ListSystemEventsResult {
  /** The response body: `{"events":[…],"nextToken"?:…}`, metadata documents spliced in verbatim. */
  body: string;
  count: number;
  nextToken?: string;
  stats: QueryStats;
}

/**
 * A ValidationException with the API reference's extra fields. Errors of the shared checks already carry
 * them; the others (times, maxResults, the token codec) get `INVALID_FIELD_VALUE` and a `fieldList`
 * naming the field their message starts with.
 */
function withValidationFields(err: unknown): unknown {
  if (!isApiError(err) || err.errorType !== 'ValidationException' || 'reason' in err.extra) return err;
  const colon = err.message.indexOf(': ');
  const name = colon > 0 ? err.message.slice(0, colon) : 'request';
  const message = colon > 0 ? err.message.slice(colon + 2) : err.message;
  return new ApiError('ValidationException', err.message, {
    ...err.extra,
    reason: SYSTEM_EVENTS_VALIDATION_REASON.InvalidFieldValue,
    fieldList: [{ name, message }],
  });
}

/** A parameter that is not a list: its one value, or undefined; given twice it is a ValidationException. */
export function single(query: QueryParams, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (value.length === 0) return undefined;
  if (value.length > 1) throw validationError(name, `must be given at most once (got ${value.length})`);
  return value[0];
}

/**
 * Validates the query string of a request (values already percent-decoded; a repeated parameter as a
 * list). Throws a 400 ValidationException with `reason` and `fieldList`.
 */
export function parseListSystemEvents(query: QueryParams): ListSystemEventsInput {
  try {
    const systemArn = checkSystemArn(single(query, 'systemArn'), 'systemArn');
    const raw = query.eventTypes;
    const listed = raw === undefined ? [] : typeof raw === 'string' ? [raw] : [...raw];
    const given = new Set<string>(checkSystemEventTypes(listed, 'eventTypes'));
    const input: ListSystemEventsInput = {
      systemArn,
      // Distinct, in the API reference's order: the same set of types binds the same token.
      eventTypes: SYSTEM_EVENT_TYPES.filter((t) => given.has(t)),
      maxResults: DEFAULT_SYSTEM_EVENTS_MAX_RESULTS,
    };
    const start = single(query, 'startTime');
    if (start !== undefined) input.startTime = parseRfc3339(start, 'startTime');
    const end = single(query, 'endTime');
    if (end !== undefined) input.endTime = parseRfc3339(end, 'endTime');
    if (input.startTime !== undefined && input.endTime !== undefined && input.endTime < input.startTime)
      throw validationError('endTime', 'must not be before startTime');
    const maxResults = single(query, 'maxResults');
    if (maxResults !== undefined)
      input.maxResults = checkIntRange(
        maxResults,
        'maxResults',
        SYSTEM_EVENTS_MAX_RESULTS.min,
        SYSTEM_EVENTS_MAX_RESULTS.max,
        true,
      );
    const nextToken = single(query, 'nextToken');
    if (nextToken !== undefined) input.nextToken = checkSystemEventsNextToken(nextToken, 'nextToken');
    return input;
  } catch (err) {
    throw withValidationFields(err);
  }
}

/** Runs a validated request: 404 for a system never archived, 400 for a bad token, else a page. */
export async function listSystemEvents(
  input: ListSystemEventsInput,
  deps: RouteDeps,
  source: SourceDefinition = resiliencehubDefinition,
): Promise<ListSystemEventsResult> {
  if (!(await deps.catalog.hasInstance(source, input.systemArn))) throw notFound(input.systemArn);
  const binding = requestBinding([
    source.name,
    input.systemArn,
    input.startTime,
    input.endTime,
    input.eventTypes,
  ]);
  let after: { time: number; id: string } | undefined;
  if (input.nextToken !== undefined) {
    try {
      after = (await deps.tokens()).verify(input.nextToken, binding, TOKEN_FIELDS);
    } catch (err) {
      throw withValidationFields(err);
    }
  }

  // The archive holds nothing before 1970 or after the present.
  const now = (deps.now ?? Date.now)();
  const start = Math.max(input.startTime ?? 0, 0);
  const end = Math.min(input.endTime ?? Number.POSITIVE_INFINITY, now + FUTURE_SLACK_MS);
  if (start >= end) return { body: '{"events":[]}', count: 0, stats: {} };

  const query: EventQuery = {
    source,
    instance: input.systemArn,
    start,
    end,
    ...systemEventFilters(input),
    limit: input.maxResults + 1,
    ...(after ? { after } : {}),
  };
  const budget = pageBytesOf(deps);
  const { records, stats } = await deps.engine.listEvents(query);
  const all = records.slice(0, input.maxResults).map((record) => systemEventJson(source, record));
  // Bounded by bytes as well as by count, as ListEventLogs pages are.
  const fit = itemsWithinBudget(
    all,
    budget,
    carriedBytes('{"events":[],"nextToken":""}') + SYSTEM_EVENTS_NEXT_TOKEN_MAX_LENGTH,
  );
  const events = all.slice(0, fit);
  const page = records.slice(0, fit);
  const last = page.at(-1);
  let nextToken: string | undefined;
  if (records.length > fit && last) {
    nextToken = (await deps.tokens()).sign(binding, cursorOf(source, last));
    // Holds for any eventId of sane length; a longer token would break the API reference's response contract.
    if (nextToken.length > SYSTEM_EVENTS_NEXT_TOKEN_MAX_LENGTH)
      throw new Error(`nextToken of ${nextToken.length} characters (event id too long for a cursor)`);
  }
  const body = `{"events":[${events.join(',')}]${nextToken === undefined ? '' : `,"nextToken":${JSON.stringify(nextToken)}`}}`;
  return { body, count: page.length, ...(nextToken === undefined ? {} : { nextToken }), stats };
}

/**
 * An archived event as ListSystemEvents returns it, as JSON text: one of `events` (the CLI's `query
 * --format json` prints these), `timestamp` in epoch seconds, `eventMetadata` spliced in verbatim.
 */
export function systemEventJson(source: SourceDefinition, record: ArchiveRecord): string {
  return toWireJson(source.fields, record, epochSecondsJson);
}

/** The engine filters of a request: its event types, if any. */
export function systemEventFilters(
  input: Pick<ListSystemEventsInput, 'eventTypes'>,
): Pick<EventQuery, 'anyOf'> {
  return input.eventTypes.length > 0 ? { anyOf: { eventType: input.eventTypes } } : {};
}

function notFound(systemArn: string): ApiError {
  return new ApiError(
    'ResourceNotFoundException',
    `systemArn: the system ${systemArn} has never been archived (no ingest run has recorded it)`,
    { resourceId: systemArn, resourceType: SYSTEM_RESOURCE_TYPE },
  );
}
