/**
 * `POST /v1/spaces/{spaceName}/eventLogs`: CodeCatalyst `ListEventLogs` over the archive.
 *
 * Same request body, validation, response and errors as the service (seed 001), plus optional
 * filters that only narrow the result. Decisions where the service documents nothing:
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
import { type ArchiveRecord, toWire } from '../ingest/archive/records';
import { codecatalystDefinition } from '../ingest/sources/codecatalyst/definition';
import type { SourceDefinition } from '../ingest/sources/types';
import type { ArchiveCatalog } from './catalog';
import type { EventQuery, QueryEngine, QueryStats } from './engine';
import { type NextTokenCodec, requestBinding } from './next-token';

/** Page size when the request has no `maxResults` (CodeCatalyst documents no default). */
export const DEFAULT_MAX_RESULTS = 50;
export const MAX_RESULTS = 250;
export const NEXT_TOKEN_MAX_LENGTH = 10_000;
/** Length limits of the extra filters. */
export const FILTER_MAX_LENGTH = 256;

/** Extra body fields (not in ListEventLogs) → the event field each one must equal. */
export const EXTRA_FILTERS = {
  userName: 'userIdentity.userName',
  projectName: 'projectInformation.name',
  operationType: 'operationType',
  eventSource: 'eventSource',
  errorCode: 'errorCode',
} as const;
export type ExtraFilter = keyof typeof EXTRA_FILTERS;

// Events after this much past "now" cannot be in the archive (ingest stops at the present).
const FUTURE_SLACK_MS = 24 * 60 * 60 * 1000;

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

export interface ListEventLogsDeps {
  engine: QueryEngine;
  catalog: ArchiveCatalog;
  /** Asked for only when a token is to be checked or made: a one-page answer never needs the key. */
  tokens: () => Promise<NextTokenCodec>;
  now?: () => number;
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
    input.eventName = body.eventName;
  }
  for (const name of Object.keys(EXTRA_FILTERS) as ExtraFilter[]) {
    if (!absent(body[name])) input.filters[name] = checkLength(body[name], name, 1, FILTER_MAX_LENGTH);
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
  deps: ListEventLogsDeps,
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
  const { records, stats } = await deps.engine.listEvents(query);
  const page = records.slice(0, input.maxResults);
  const items = page.map((record) => toWire(source.fields, record));
  const last = page.at(-1);
  if (records.length > input.maxResults && last) {
    return { items, nextToken: (await deps.tokens()).sign(binding, cursorOf(source, last)), stats };
  }
  return { items, stats };
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
