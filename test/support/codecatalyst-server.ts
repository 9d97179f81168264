/**
 * A local stand-in for Amazon CodeCatalyst `ListEventLogs` (`POST /v1/spaces/{spaceName}/eventLogs`),
 * following the API reference
 * (https://docs.aws.amazon.com/codecatalyst/latest/APIReference/API_ListEventLogs.html and
 * https://docs.aws.amazon.com/codecatalyst/latest/APIReference/CommonErrors.html), for driving the
 * real `@aws-sdk/client-codecatalyst` client in tests and benchmarks. The plumbing (faults, latency,
 * stats, tokens, listen/close) is {@link StandInServer}'s; this file is the API.
 *
 * ```ts
 * const server = await startCodeCatalystServer({ spaces: { myspace: events }, tokens: ['tkn'] });
 * const client = new CodeCatalystClient({ region: 'us-east-1', endpoint: server.url, token: { token: 'tkn' } });
 * ```
 *
 * Behaviour worth knowing (all of it is deliberate):
 * - Results are `startTime <= eventTime < endTime` (and `eventName ===` if given), NOT in time order:
 *   a listing is ordered by a stable hash of the event id, the same on every page.
 * - `maxResults` defaults to {@link DEFAULT_MAX_RESULTS} (50) when absent; the service's own default is
 *   not documented.
 * - `nextToken` is opaque (base64url JSON + HMAC). It is bound to the request's spaceName, startTime,
 *   endTime and eventName (compared as instants, so `…:00Z` and `…:00.000Z` are the same); maxResults
 *   may change between pages. A token of another request, of another server instance, or a forged
 *   one is a 400 ValidationException. A token is a cursor (the hash/id of the last item returned),
 *   not an offset: events added or removed between pages neither shift nor repeat the rest of the
 *   listing (an event added behind the cursor is simply not seen by that listing: a LATE event).
 * - Events older than `now() - retentionMs` are not returned (and not counted in `events()`): the
 *   source forgets them. Expiry is applied per page, so a moving clock needs no cache invalidation.
 * - `startTime`/`endTime` accept RFC 3339 date-times (`Z` or `±hh:mm`, any number of fraction digits,
 *   truncated to ms) and, as in the reference's sample request, a full-date (`2022-11-30` = midnight UTC).
 * - Check order: route, bearer token (403), spaceName, body fields (400), denied space (403), unknown
 *   space (404), nextToken (400). Faults (`failNext`, `faults`) are decided before all of that.
 * - Cost: the first page of a new (space, startTime, endTime, eventName) builds and caches its listing
 *   (binary search by time + sort of that window by hash); every later page costs O(log n + page).
 *   Each event is serialised once, in `addEvents` (its JSON kept as UTF-8 bytes); a page body is
 *   those bytes joined, sent as a Buffer.
 *   With 1,000,000 events, run the server in a child process for benchmarks: in the client's process
 *   its heap slows the client's GC (measured: 16 slices × 250/page, 50 ms latency: ~26 s out of
 *   process vs ~71 s in process, both bound by the SDK's deserialization at ~4 ms of CPU per page).
 */
import type { IncomingMessage, Server } from 'node:http';
import type { EventLogEntryWire } from './sample-events';
import {
  fnv1a,
  StandInError,
  type StandInFaults,
  type StandInOptions,
  type StandInRecord,
  type StandInResponse,
  StandInServer,
  type StandInStats,
  type StoredEvent,
  startStandIn,
} from './stand-in-server';

export { DEFAULT_RETENTION_MS, type FaultKind } from './stand-in-server';

/** Page size when the request has no `maxResults`. */
export const DEFAULT_MAX_RESULTS = 50;

/**
 * Error names of the API reference and their status codes, plus `InternalServerException` (the
 * `serverError` fault) and `UnknownOperationException` (a request to any other route or method).
 */
export const ERROR_STATUS = {
  ValidationException: 400,
  ServiceQuotaExceededException: 402,
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
  ConflictException: 409,
  ThrottlingException: 429,
  InternalServerException: 500,
  UnknownOperationException: 404,
} as const;
export type ErrorName = keyof typeof ERROR_STATUS;

/** Probabilistic faults, read on every request: see {@link StandInFaults}. */
export type CodeCatalystFaults = StandInFaults;

/** Options of {@link startCodeCatalystServer} (and the {@link StandInOptions} every stand-in takes). */
export interface CodeCatalystServerOptions extends StandInOptions {
  /** Initial events per space name. A space exists once it has been given events (an empty array is fine). */
  spaces?: Record<string, EventLogEntryWire[]>;
  /** Accepted bearer tokens. Default `['test-token']`. */
  tokens?: string[];
  /** Spaces that answer 403 AccessDeniedException. */
  deniedSpaces?: string[];
  /** Probability of an empty page when `emptyPages` is on. Default 0.25. */
  emptyPageProbability?: number;
  /** Initial {@link CodeCatalystFaults}. */
  faults?: CodeCatalystFaults;
}

/** Counters of {@link CodeCatalystServer.stats}. */
export type CodeCatalystServerStats = StandInStats;

/** One entry of {@link CodeCatalystServer.requests}. */
export interface RecordedRequest extends StandInRecord {
  /** Request body (first 64 KiB). */
  body: string;
}

interface Stored extends StoredEvent {
  readonly event: EventLogEntryWire;
  /**
   * `JSON.stringify(event)` as UTF-8, made once when added ({@link storedEvents}):
   * `jsonChunk[jsonStart, jsonEnd)`. Events added together share one chunk (a million small Buffers
   * would cost more to allocate and to GC than the serialisation itself); pages copy these ranges.
   */
  readonly jsonChunk: Buffer;
  readonly jsonStart: number;
  readonly jsonEnd: number;
}

class HttpError extends StandInError<ErrorName> {}

const SPACE_NAME = /^[a-zA-Z0-9]+(?:[-_.][a-zA-Z0-9]+)*$/;
const ROUTE = /^\/v1\/spaces\/([^/]*)\/eventLogs$/;
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2})))?$/;
const MAX_BODY = 1024 * 1024;
/** Events serialised into one Buffer by addEvents (~4 MB at ~1 KB an event). */
const JSON_CHUNK_EVENTS = 4096;

/** Parses an RFC 3339 date-time (or full-date) to epoch ms; undefined if it is not one. */
export function parseRfc3339(value: string): number | undefined {
  const m = RFC3339.exec(value);
  if (!m) return undefined;
  const [, ys, mos, ds, hs, mis, ss, frac, , sign, ohs, oms] = m;
  const y = Number(ys);
  const mo = Number(mos);
  const d = Number(ds);
  const h = hs === undefined ? 0 : Number(hs);
  const mi = mis === undefined ? 0 : Number(mis);
  const s = ss === undefined ? 0 : Number(ss);
  const ms = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'));
  const oh = ohs === undefined ? 0 : Number(ohs);
  const om = oms === undefined ? 0 : Number(oms);
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 60 || oh > 23 || om > 59) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  if (date.getUTCDate() !== d) return undefined; // e.g. 2026-02-30
  date.setUTCHours(h, mi, s, ms);
  const offsetMs = (oh * 60 + om) * 60_000 * (sign === '-' ? -1 : 1);
  return date.getTime() - offsetMs;
}

/**
 * The running fake service. Settable at run time, besides {@link StandInServer}'s: `tokens`,
 * `deniedSpaces`.
 */
export class CodeCatalystServer extends StandInServer<
  ErrorName,
  CodeCatalystServerStats,
  RecordedRequest,
  Stored
> {
  /** Accepted bearer tokens. */
  readonly tokens: Set<string>;
  /** Spaces answering 403 AccessDeniedException. */
  readonly deniedSpaces: Set<string>;

  /** @internal Use {@link startCodeCatalystServer}. */
  constructor(server: Server, url: string, options: CodeCatalystServerOptions) {
    super(server, url, options, {
      timeOrder: (a, b) => a.time - b.time,
      errorStatus: ERROR_STATUS,
      serverErrorMessage: 'Internal server error',
      pageSeedMix: 0x9e3779b9,
      maxBody: MAX_BODY,
      recordBody: true,
    });
    this.tokens = new Set(options.tokens ?? ['test-token']);
    this.deniedSpaces = new Set(options.deniedSpaces ?? []);
    for (const [space, events] of Object.entries(options.spaces ?? {})) this.addEvents(space, events);
  }

  /**
   * Adds events to a space (creating the space), at any time: events whose eventTime is in the past
   * model LATE events. An event with an id already present replaces it. The server keeps the
   * objects by reference: do not mutate them afterwards.
   *
   * @throws TypeError if an event has no string id or an unparseable eventTime.
   */
  addEvents(space: string, events: readonly EventLogEntryWire[]): void {
    this.books.add(space, storedEvents(events));
  }

  /** Names of the spaces that exist. */
  spaceNames(): string[] {
    return [...this.books.keys()];
  }

  // ---------------------------------------------------------------------------------------------
  // The API

  protected route(req: IncomingMessage, body: Buffer, tooLarge: boolean): StandInResponse {
    if (tooLarge) throw new HttpError('ValidationException', 'body: must not exceed 1 MiB');
    return this.listEventLogs(req, body.toString('utf8'));
  }

  private listEventLogs(req: IncomingMessage, body: string): StandInResponse {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const route = ROUTE.exec(q === -1 ? url : url.slice(0, q));
    if (!route || req.method !== 'POST') {
      throw new HttpError('UnknownOperationException', `${req.method} ${url}: no such operation`);
    }

    const auth = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (!auth || !this.tokens.has(auth[1]!.trim())) {
      throw new HttpError('AccessDeniedException', 'authorization: a valid bearer token is required');
    }

    let spaceName: string;
    try {
      spaceName = decodeURIComponent(route[1]!);
    } catch {
      throw new HttpError('ValidationException', 'spaceName: is not valid percent-encoding');
    }
    if (spaceName.length < 3 || spaceName.length > 63) {
      throw new HttpError('ValidationException', 'spaceName: must be 3 to 63 characters long');
    }
    if (!SPACE_NAME.test(spaceName)) {
      throw new HttpError(
        'ValidationException',
        'spaceName: must match [a-zA-Z0-9]+(?:[-_\\.][a-zA-Z0-9]+)*',
      );
    }

    let input: unknown;
    try {
      input = JSON.parse(body);
    } catch {
      throw new HttpError('ValidationException', 'body: must be a JSON object');
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw new HttpError('ValidationException', 'body: must be a JSON object');
    }
    const fields = input as Record<string, unknown>;
    const startMs = requiredTime(fields, 'startTime');
    const endMs = requiredTime(fields, 'endTime');
    const eventName = fields.eventName ?? undefined;
    if (eventName !== undefined && typeof eventName !== 'string') {
      throw new HttpError('ValidationException', 'eventName: must be a string');
    }
    const maxResults = fields.maxResults ?? DEFAULT_MAX_RESULTS;
    if (
      typeof maxResults !== 'number' ||
      !Number.isInteger(maxResults) ||
      maxResults < 1 ||
      maxResults > 250
    ) {
      throw new HttpError('ValidationException', 'maxResults: must be an integer from 1 to 250');
    }
    const nextToken = fields.nextToken ?? undefined;
    if (
      nextToken !== undefined &&
      (typeof nextToken !== 'string' || nextToken.length < 1 || nextToken.length > 10000)
    ) {
      throw new HttpError('ValidationException', 'nextToken: must be a string of 1 to 10000 characters');
    }
    if (endMs < startMs) throw new HttpError('ValidationException', 'endTime: must not be before startTime');

    if (this.deniedSpaces.has(spaceName)) {
      throw new HttpError('AccessDeniedException', `spaceName: access to space ${spaceName} is denied`);
    }
    const data = this.books.get(spaceName);
    if (!data)
      throw new HttpError('ResourceNotFoundException', `spaceName: space ${spaceName} was not found`);

    const fingerprint = this.fingerprint([spaceName, startMs, endMs, eventName ?? null]);
    const cursor =
      nextToken === undefined
        ? undefined
        : this.readToken(nextToken, fingerprint, (problem) =>
            problem === 'invalid'
              ? new HttpError('ValidationException', 'nextToken: is not a token issued by this service')
              : new HttpError(
                  'ValidationException',
                  'nextToken: belongs to a different request (spaceName, startTime, endTime and eventName must not change between pages)',
                ),
          );
    const keep = eventName === undefined ? undefined : (s: Stored) => s.event.eventName === eventName;
    const page = this.listPage({ book: data, fingerprint, cursor, maxResults, startMs, endMs, keep });
    return pageResponse(page.items, page.next);
  }
}

/**
 * The stored form of `events`: each one's JSON made once, as UTF-8, `JSON_CHUNK_EVENTS` events to
 * a Buffer. @throws TypeError at an event with no string id or an unparseable eventTime.
 */
function* storedEvents(events: readonly EventLogEntryWire[]): Generator<Stored> {
  for (let from = 0; from < events.length; from += JSON_CHUNK_EVENTS) {
    const chunkEvents = events.slice(from, from + JSON_CHUNK_EVENTS);
    const texts = chunkEvents.map((event) => JSON.stringify(event) ?? 'null');
    const chunk = Buffer.from(texts.join(''));
    let offset = 0;
    for (const [k, event] of chunkEvents.entries()) {
      const start = offset;
      offset += Buffer.byteLength(texts[k]!);
      if (typeof event.id !== 'string') throw new TypeError('event.id must be a string');
      const time = typeof event.eventTime === 'string' ? Date.parse(event.eventTime) : Number.NaN;
      if (Number.isNaN(time)) throw new TypeError(`event ${event.id}: eventTime is not a timestamp`);
      yield {
        event,
        jsonChunk: chunk,
        jsonStart: start,
        jsonEnd: offset,
        id: event.id,
        time,
        hash: fnv1a(event.id),
      };
    }
  }
}

function requiredTime(fields: Record<string, unknown>, name: 'startTime' | 'endTime'): number {
  const value = fields[name];
  if (value === undefined || value === null)
    throw new HttpError('ValidationException', `${name}: is required`);
  const ms = typeof value === 'string' ? parseRfc3339(value) : undefined;
  if (ms === undefined) throw new HttpError('ValidationException', `${name}: must be an RFC 3339 timestamp`);
  return ms;
}

const PAGE_START = Buffer.from('{"items":[');
const COMMA = 0x2c;

/**
 * The bytes of `JSON.stringify({ items, nextToken })`, copied from each item's cached JSON (the
 * cost of a page is a copy, not a serialisation of 250 events).
 */
function pageResponse(items: readonly Stored[], nextToken: string | undefined): StandInResponse {
  const end = Buffer.from(nextToken === undefined ? ']}' : `],"nextToken":${JSON.stringify(nextToken)}}`);
  let size = PAGE_START.length + Math.max(0, items.length - 1) + end.length;
  for (const s of items) size += s.jsonEnd - s.jsonStart;
  const body = Buffer.allocUnsafe(size);
  let at = PAGE_START.copy(body, 0);
  for (let i = 0; i < items.length; i++) {
    const s = items[i]!;
    if (i > 0) body[at++] = COMMA;
    at += s.jsonChunk.copy(body, at, s.jsonStart, s.jsonEnd);
  }
  end.copy(body, at);
  return {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body,
    items: items.length,
  };
}

/** Starts a {@link CodeCatalystServer} on 127.0.0.1 with an ephemeral port. */
export function startCodeCatalystServer(
  options: CodeCatalystServerOptions = {},
): Promise<CodeCatalystServer> {
  return startStandIn((server, url) => new CodeCatalystServer(server, url, options));
}
