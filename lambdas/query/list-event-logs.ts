/**
 * `POST /v1/spaces/{spaceName}/eventLogs`: CodeCatalyst `ListEventLogs` over the archive.
 *
 * Same request body, validation, response and errors as the service (ListEventLogs API reference:
 * https://docs.aws.amazon.com/codecatalyst/latest/APIReference/API_ListEventLogs.html), plus
 * optional filters that only narrow the result. Decisions where the service documents nothing:
 * - `maxResults` defaults to {@link DEFAULT_MAX_RESULTS} (50).
 * - `endTime` is exclusive and must be later than `startTime` (events with startTime ≤ eventTime < endTime).
 * - `null` in an optional field means absent; unknown body fields are ignored, as AWS services do,
 *   so a newer SDK that sends a new optional field still works.
 * - Results are in archive order (event time, then id); `nextToken` is a signed keyset cursor, so
 *   pages never repeat or skip an event, even while an ingest run adds events.
 */

import {
  ApiError,
  checkIntRange,
  checkLength,
  checkSpaceName,
  parseRfc3339,
  validationError,
} from '@eventlog-archive/shared';
import { type ArchiveRecord, toWire } from '../core/records';
import { codecatalystDefinition } from '../core/sources/codecatalyst/definition';
import type { SourceDefinition } from '../core/sources/types';
import type { EventQuery, QueryStats } from './engine';
import { requestBinding } from './next-token';
import type { RouteDeps } from './route-deps';
import { MAX_STRING_PARAMETER_BYTES } from './sql';

/** Page size when the request has no `maxResults` (CodeCatalyst documents no default). */
export const DEFAULT_MAX_RESULTS = 50;
export const MAX_RESULTS = 250;
export const NEXT_TOKEN_MAX_LENGTH = 10_000;
/** Length limits of the extra filters. */
export const FILTER_MAX_LENGTH = 256;
/**
 * The most UTF-8 bytes of any filter value (`eventName` and the extra filters): each is bound as one
 * Athena execution parameter, which has a length limit (sql.ts). Checked here, where the request is
 * validated, so that every engine (DuckDB in `serve`, Athena in AWS) refuses the same values with
 * the same 400 instead of Athena failing the query. 256 characters fit unless they are non-ASCII.
 */
export const FILTER_MAX_BYTES = MAX_STRING_PARAMETER_BYTES;

/** A filter value's byte rule: `<field>: must be at most N bytes in UTF-8 (got M)`. */
export function checkFilterBytes(value: string, field: string): string {
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > FILTER_MAX_BYTES)
    throw validationError(field, `must be at most ${FILTER_MAX_BYTES} bytes in UTF-8 (got ${bytes})`);
  return value;
}

/** An extra filter's rules: 1–256 characters, and at most {@link FILTER_MAX_BYTES} bytes in UTF-8. */
export function checkFilter(value: unknown, field: string): string {
  return checkFilterBytes(checkLength(value, field, 1, FILTER_MAX_LENGTH), field);
}

/** Extra body fields (not in ListEventLogs) → the event field each one must equal. */
export const EXTRA_FILTERS = {
  userName: 'userIdentity.userName',
  projectName: 'projectInformation.name',
  operationType: 'operationType',
  eventSource: 'eventSource',
  errorCode: 'errorCode',
  requestId: 'requestId',
} as const;
export type ExtraFilter = keyof typeof EXTRA_FILTERS;

// Events after this much past "now" cannot be in the archive (ingest stops at the present).
const FUTURE_SLACK_MS = 24 * 60 * 60 * 1000;

/**
 * Default byte budget of one page's response body, as the Lambda proxy response carries it (a JSON
 * string: quotes and backslashes escaped, see {@link carriedBytes}). Lambda refuses a synchronous
 * response over 6 MB (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html) and
 * API Gateway then answers 502. 5 MiB (5,242,880 bytes) leaves over 700 KB below even a decimal
 * 6,000,000 for the proxy envelope (status, headers, `isBase64Encoded`: under 1 KB) and the
 * nextToken (reserved at its maximum length). `serve` pages by the same measure, so both answer alike.
 */
export const DEFAULT_PAGE_BYTES = 5 * 1024 * 1024;
/** The smallest budget accepted: room for the envelope and the longest nextToken. */
export const MIN_PAGE_BYTES = 16 * 1024;

/**
 * Bytes of a piece of the response body inside the Lambda proxy response, where the body is a JSON
 * string: UTF-8 length after JSON escaping (a `"` or `\` costs two bytes, a raw control character six).
 */
export function carriedBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text), 'utf8') - 2;
}

/**
 * How many of `items` (each one's JSON text, in page order) fit in `budget` bytes next to
 * `fixedBytes` (envelope and nextToken), measured by {@link carriedBytes} with the commas between
 * them. Never fewer than one: a single item larger than the budget is still answered alone, because
 * the alternatives stall paging (an empty page whose token points where it started, forever) or make
 * that item and everything after it unreachable. The budget keeps ~0.7 MB of headroom below Lambda's
 * limit for such an item; only one larger still (escaped) would fail its page in AWS, as any page did.
 */
export function itemsWithinBudget(items: readonly string[], budget: number, fixedBytes: number): number {
  let used = fixedBytes;
  for (const [i, item] of items.entries()) {
    used += carriedBytes(item) + (i > 0 ? 1 : 0);
    if (used > budget && i > 0) return i;
  }
  return items.length;
}

/** A page byte budget from deps: the default, or a checked integer. */
export function pageBytesOf(deps: { pageBytes?: number }): number {
  const budget = deps.pageBytes ?? DEFAULT_PAGE_BYTES;
  if (!Number.isSafeInteger(budget) || budget < MIN_PAGE_BYTES)
    throw new RangeError(`pageBytes must be an integer of at least ${MIN_PAGE_BYTES}`);
  return budget;
}

/** A validated ListEventLogs request. */
export interface ListEventLogsInput {
  spaceName: string;
  /** Inclusive, epoch ms. */
  startTime: number;
  /** Exclusive, epoch ms. */
  endTime: number;
  eventName?: string;
  maxResults: number;
  nextToken?: string;
  filters: Partial<Record<ExtraFilter, string>>;
}

export interface ListEventLogsOutput {
  items: Record<string, unknown>[];
  nextToken?: string;
}

const absent = (value: unknown): boolean => value === undefined || value === null;

/**
 * Validates a request: the decoded `spaceName` path segment and the parsed JSON body. Each rule
 * throws a 400 ValidationException whose message names the field and the rule.
 */
export function parseListEventLogs(spaceName: string, body: Record<string, unknown>): ListEventLogsInput {
  const space = checkSpaceName(spaceName, 'spaceName');
  const startTime = parseRfc3339(absent(body.startTime) ? undefined : body.startTime, 'startTime');
  const endTime = parseRfc3339(absent(body.endTime) ? undefined : body.endTime, 'endTime');
  if (endTime <= startTime) throw validationError('endTime', 'must be later than startTime');
  const maxResults = absent(body.maxResults)
    ? DEFAULT_MAX_RESULTS
    : checkIntRange(body.maxResults, 'maxResults', 1, MAX_RESULTS);
  const input: ListEventLogsInput = { spaceName: space, startTime, endTime, maxResults, filters: {} };
  if (!absent(body.nextToken))
    input.nextToken = checkLength(body.nextToken, 'nextToken', 1, NEXT_TOKEN_MAX_LENGTH);
  if (!absent(body.eventName)) {
    if (typeof body.eventName !== 'string') throw validationError('eventName', 'must be a string');
    input.eventName = checkFilterBytes(body.eventName, 'eventName');
  }
  for (const name of Object.keys(EXTRA_FILTERS) as ExtraFilter[]) {
    if (!absent(body[name])) input.filters[name] = checkFilter(body[name], name);
  }
  return input;
}

/** The `equals` filters of the engine query for a request. */
export function equalsOf(input: ListEventLogsInput): Record<string, string> {
  const equals: Record<string, string> = {};
  if (input.eventName !== undefined) equals.eventName = input.eventName;
  for (const [name, path] of Object.entries(EXTRA_FILTERS)) {
    const value = input.filters[name as ExtraFilter];
    if (value !== undefined) equals[path] = value;
  }
  return equals;
}

/** Runs a validated request: 404 for a space never archived, 400 for a bad token, else a page. */
export async function listEventLogs(
  input: ListEventLogsInput,
  deps: RouteDeps,
  source: SourceDefinition = codecatalystDefinition,
): Promise<ListEventLogsOutput & { stats: QueryStats }> {
  if (!(await deps.catalog.hasInstance(source, input.spaceName))) throw notFound(input.spaceName);
  const binding = requestBinding([
    source.name,
    input.spaceName,
    input.startTime,
    input.endTime,
    input.eventName,
    input.filters,
  ]);
  const after =
    input.nextToken === undefined ? undefined : (await deps.tokens()).verify(input.nextToken, binding);

  // The archive holds nothing before 1970 or after the present: a wider range asks for no more rows,
  // and a bounded range keeps partition lists small for any engine.
  const now = (deps.now ?? Date.now)();
  const start = Math.max(input.startTime, 0);
  const end = Math.min(input.endTime, now + FUTURE_SLACK_MS);
  if (start >= end) return { items: [], stats: {} };

  const query: EventQuery = {
    source,
    instance: input.spaceName,
    start,
    end,
    equals: equalsOf(input),
    limit: input.maxResults + 1,
    ...(after ? { after } : {}),
  };
  const budget = pageBytesOf(deps);
  const { records, stats } = await deps.engine.listEvents(query);
  const wire = records.slice(0, input.maxResults).map((record) => eventLogItem(source, record));
  // Bounded by bytes as well as by count: the body is JSON.stringify({items, nextToken}).
  const fit = itemsWithinBudget(
    wire.map((item) => JSON.stringify(item)),
    budget,
    carriedBytes('{"items":[],"nextToken":""}') + NEXT_TOKEN_MAX_LENGTH,
  );
  const items = wire.slice(0, fit);
  const last = records[fit - 1];
  if (records.length > fit && last) {
    return { items, nextToken: (await deps.tokens()).sign(binding, cursorOf(source, last)), stats };
  }
  return { items, stats };
}

/** An archived event as ListEventLogs returns it: one of `items` (the CLI's `query --format json` prints these). */
export function eventLogItem(source: SourceDefinition, record: ArchiveRecord): Record<string, unknown> {
  return toWire(source.fields, record);
}

export function cursorOf(source: SourceDefinition, record: ArchiveRecord): { time: number; id: string } {
  return {
    time: (record[source.timeField] as Date).getTime(),
    id: String(record[source.idField]),
  };
}

function notFound(spaceName: string): ApiError {
  return new ApiError(
    'ResourceNotFoundException',
    `spaceName: the space ${spaceName} has never been archived (no ingest run has recorded it)`,
  );
}
