/**
 * A local stand-in for Amazon CodeCatalyst `ListEventLogs` (`POST /v1/spaces/{spaceName}/eventLogs`),
 * following the API reference in `/work/shared/seeds/000_*.txt` and `001_*.txt`, for driving the real
 * `@aws-sdk/client-codecatalyst` client in tests and benchmarks:
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
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type EventLogEntryWire, mulberry32 } from './sample-events';

/** Page size when the request has no `maxResults`. */
export const DEFAULT_MAX_RESULTS = 50;
/** Default retention: ListEventLogs guarantees 30 days. */
export const DEFAULT_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * Error names of the seed and their status codes, plus `InternalServerException` (the `serverError`
 * fault) and `UnknownOperationException` (a request to any other route or method).
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

/** A fault the server can inject instead of (or into) a response. */
export type FaultKind = 'throttle' | 'serverError' | 'unavailable' | 'reset' | 'truncate';

/**
 * Probabilistic faults, read on every request (replace or mutate `server.faults` at any time).
 * Probabilities are per request and drawn from a PRNG seeded by the `seed` option, in this order:
 * throttle, serverError, unavailable, reset, truncate.
 */
export interface CodeCatalystFaults {
  /** 429 `ThrottlingException`. */
  throttle?: number;
  /** 500 `InternalServerException` (JSON body, `x-amzn-ErrorType`): the SDK retries it. */
  serverError?: number;
  /**
   * Plain-text 503 `Service Unavailable` without an error type, as a load balancer sends it. The
   * CodeCatalyst SDK (3.693) cannot parse the body: it throws a `SyntaxError` ("Deserialization
   * error", status only in `err.$response.statusCode`) and does NOT retry it.
   */
  unavailable?: number;
  /** Destroy the socket without any response. */
  reset?: number;
  /** Send the 200 headers (with the full content-length) and half the body, then destroy the socket. */
  truncate?: number;
  /** Requests arriving while this many are already in flight get an immediate 429 ThrottlingException. */
  maxConcurrent?: number;
}

/** Options of {@link startCodeCatalystServer}. */
export interface CodeCatalystServerOptions {
  /** Initial events per space name. A space exists once it has been given events (an empty array is fine). */
  spaces?: Record<string, EventLogEntryWire[]>;
  /** Accepted bearer tokens. Default `['test-token']`. */
  tokens?: string[];
  /** Spaces that answer 403 AccessDeniedException. */
  deniedSpaces?: string[];
  /** How long the source remembers events. Default 30 days. */
  retentionMs?: number;
  /** Clock for expiry. Default `Date.now`. See also {@link CodeCatalystServer.setNow}. */
  now?: () => number;
  /** Delay before every response (ms). Default 0. */
  latencyMs?: number;
  /** Repeat the last item of page N as the first item of page N+1 (only when maxResults >= 2). */
  repeatAcrossPages?: boolean;
  /** Sometimes return an empty `items` with a `nextToken` (never twice in a row), also after the last page. */
  emptyPages?: boolean;
  /** Probability of an empty page when `emptyPages` is on. Default 0.25. */
  emptyPageProbability?: number;
  /** Initial {@link CodeCatalystFaults}. */
  faults?: CodeCatalystFaults;
  /** Seed of the fault and paging PRNGs. Default 1. */
  seed?: number;
  /** How many requests {@link CodeCatalystServer.requests} keeps (the newest). Default 1000. */
  requestLogLimit?: number;
}

/** Counters of {@link CodeCatalystServer.stats}. */
export interface CodeCatalystServerStats {
  /** Requests received. */
  requests: number;
  /** 200 responses delivered in full. */
  pages: number;
  /** Items in those pages. */
  items: number;
  /** Delivered pages with no items. */
  emptyPages: number;
  /** Responses by HTTP status (faults included; a reset has no status). */
  byStatus: Record<string, number>;
  /** Error responses by `x-amzn-ErrorType` (plain 503s as `ServiceUnavailable`). */
  byError: Record<string, number>;
  /** Injected faults by kind (`maxConcurrent` for concurrency rejections). */
  faults: Record<FaultKind | 'maxConcurrent', number>;
  /** Requests in progress now. */
  inFlight: number;
  /** Peak of `inFlight`. */
  maxInFlight: number;
}

/** One entry of {@link CodeCatalystServer.requests}. */
export interface RecordedRequest {
  method: string;
  /** Raw request target, e.g. `/v1/spaces/my%20space/eventLogs`. */
  url: string;
  headers: IncomingHttpHeaders;
  /** Request body (first 64 KiB). */
  body: string;
  /** Response status, once sent (undefined for a reset). */
  status?: number;
  /** The fault injected into this request, if any. */
  fault?: FaultKind | 'maxConcurrent';
}

interface Stored {
  readonly event: EventLogEntryWire;
  /**
   * `JSON.stringify(event)` as UTF-8, made once in addEvents: `jsonChunk[jsonStart, jsonEnd)`. Events
   * added together share one chunk (a million small Buffers would cost more to allocate and to GC
   * than the serialisation itself); pages are built by copying these ranges.
   */
  readonly jsonChunk: Buffer;
  readonly jsonStart: number;
  readonly jsonEnd: number;
  readonly id: string;
  readonly time: number;
  readonly hash: number;
}

interface SpaceData {
  readonly byId: Map<string, Stored>;
  /** Events by time; stale while `sortNeeded`, rebuilt from `byId` when `rebuildNeeded`. */
  byTime: Stored[];
  sortNeeded: boolean;
  rebuildNeeded: boolean;
  generation: number;
}

interface Listing {
  readonly generation: number;
  readonly items: Stored[];
}

/** What a nextToken carries (before signing). */
interface TokenPayload {
  v: 1;
  /** Request fingerprint. */
  f: string;
  /** Cursor: hash and id of the last item returned (-1/'' = before the first). */
  h: number;
  i: string;
  /** 1 = the cursor item itself is returned again (repeatAcrossPages). */
  r: 0 | 1;
  /** 1 = this token came with an empty page (the next page is never empty again). */
  e: 0 | 1;
  /** Page serial: keeps every token distinct. */
  n: number;
}

interface Response {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
  /** Items in a 200 page. */
  items?: number;
}

class HttpError extends Error {
  constructor(
    readonly errorType: ErrorName,
    message: string,
  ) {
    super(message);
  }
}

const SPACE_NAME = /^[a-zA-Z0-9]+(?:[-_.][a-zA-Z0-9]+)*$/;
const ROUTE = /^\/v1\/spaces\/([^/]*)\/eventLogs$/;
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2})))?$/;
const MAX_BODY = 1024 * 1024;
/**
 * Listings kept (LRU). The ingest pages 16 windows at a time over up to 3 days of 24 hourly windows,
 * so 72 listings are in use at once: a smaller cache would rebuild listings in the middle of them.
 */
const LISTING_CACHE_SIZE = 256;
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

/** FNV-1a over the UTF-16 code units of `s`: the stable listing order. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function compareKey(a: Stored, h: number, id: string): number {
  return a.hash !== h ? a.hash - h : a.id < id ? -1 : a.id > id ? 1 : 0;
}

/** First index whose time is >= t. */
function lowerBoundTime(items: Stored[], t: number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (items[mid]!.time < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index at (inclusive) or after (exclusive) the cursor (h, id). */
function seekCursor(items: Stored[], h: number, id: string, inclusive: boolean): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareKey(items[mid]!, h, id);
    if (c < 0 || (c === 0 && !inclusive)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function emptyFaultCounts(): Record<FaultKind | 'maxConcurrent', number> {
  return { throttle: 0, serverError: 0, unavailable: 0, reset: 0, truncate: 0, maxConcurrent: 0 };
}

function bump(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}

/**
 * The running fake service. Settable at run time: `faults`, `latencyMs`, `repeatAcrossPages`,
 * `emptyPages`, `emptyPageProbability`, `retentionMs`, `tokens`, `deniedSpaces`; the clock via
 * {@link setNow}.
 */
export class CodeCatalystServer {
  /** Base URL for the SDK's `endpoint`, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Probabilistic faults, read on every request. */
  faults: CodeCatalystFaults;
  latencyMs: number;
  repeatAcrossPages: boolean;
  emptyPages: boolean;
  emptyPageProbability: number;
  retentionMs: number;
  /** Accepted bearer tokens. */
  readonly tokens: Set<string>;
  /** Spaces answering 403 AccessDeniedException. */
  readonly deniedSpaces: Set<string>;
  /** Counters since start or {@link resetStats}. */
  stats: CodeCatalystServerStats = CodeCatalystServer.freshStats();
  /** The newest requests (bounded by `requestLogLimit`), oldest first. */
  requests: RecordedRequest[] = [];

  private readonly server: ReturnType<typeof createServer>;
  private readonly spaces = new Map<string, SpaceData>();
  private readonly listings = new Map<string, Listing>();
  private readonly scripted: (FaultKind | HttpError)[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly hmacKey = randomBytes(32);
  private readonly faultRng: () => number;
  private readonly pageRng: () => number;
  private readonly requestLogLimit: number;
  private clock: () => number;
  private admitted = 0;
  private requestCounter = 0;
  private closed = false;

  /** @internal Use {@link startCodeCatalystServer}. */
  constructor(server: ReturnType<typeof createServer>, url: string, options: CodeCatalystServerOptions) {
    this.server = server;
    this.url = url;
    this.faults = { ...options.faults };
    this.latencyMs = options.latencyMs ?? 0;
    this.repeatAcrossPages = options.repeatAcrossPages ?? false;
    this.emptyPages = options.emptyPages ?? false;
    this.emptyPageProbability = options.emptyPageProbability ?? 0.25;
    this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.tokens = new Set(options.tokens ?? ['test-token']);
    this.deniedSpaces = new Set(options.deniedSpaces ?? []);
    this.clock = options.now ?? Date.now;
    const seed = options.seed ?? 1;
    this.faultRng = mulberry32(seed);
    this.pageRng = mulberry32(seed ^ 0x9e3779b9);
    this.requestLogLimit = options.requestLogLimit ?? 1000;
    for (const [space, events] of Object.entries(options.spaces ?? {})) this.addEvents(space, events);
  }

  private static freshStats(): CodeCatalystServerStats {
    return {
      requests: 0,
      pages: 0,
      items: 0,
      emptyPages: 0,
      byStatus: {},
      byError: {},
      faults: emptyFaultCounts(),
      inFlight: 0,
      maxInFlight: 0,
    };
  }

  /**
   * Adds events to a space (creating the space), at any time: events whose eventTime is in the past
   * model LATE events. An event with an id already present replaces it. The server keeps the
   * objects by reference: do not mutate them afterwards.
   *
   * @throws TypeError if an event has no string id or an unparseable eventTime.
   */
  addEvents(space: string, events: readonly EventLogEntryWire[]): void {
    const data = this.space(space);
    try {
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
          const stored: Stored = {
            event,
            jsonChunk: chunk,
            jsonStart: start,
            jsonEnd: offset,
            id: event.id,
            time,
            hash: fnv1a(event.id),
          };
          if (data.byId.has(event.id)) data.rebuildNeeded = true;
          else if (!data.rebuildNeeded) data.byTime.push(stored);
          data.byId.set(event.id, stored);
        }
      }
    } finally {
      // Events before a rejected one stay added: the listings must see them.
      data.sortNeeded = true;
      data.generation++;
    }
  }

  /** Removes events by id from a space. @returns how many were removed. */
  removeEvents(space: string, ids: Iterable<string>): number {
    const data = this.spaces.get(space);
    if (!data) return 0;
    let removed = 0;
    for (const id of ids) if (data.byId.delete(id)) removed++;
    if (removed > 0) {
      data.rebuildNeeded = true;
      data.generation++;
    }
    return removed;
  }

  /** What the source holds for a space now (expired events excluded), in eventTime order. */
  events(space: string): EventLogEntryWire[] {
    const data = this.spaces.get(space);
    if (!data) return [];
    const byTime = this.sorted(data);
    const from = lowerBoundTime(byTime, this.clock() - this.retentionMs);
    return byTime.slice(from).map((s) => s.event);
  }

  /** Names of the spaces that exist. */
  spaceNames(): string[] {
    return [...this.spaces.keys()];
  }

  /** Current time of the server's clock (epoch ms). */
  now(): number {
    return this.clock();
  }

  /** Fixes the clock at `ms`, or installs a clock function. */
  setNow(now: number | (() => number)): void {
    this.clock = typeof now === 'number' ? () => now : now;
  }

  /** Makes the next `count` requests fail with `kind` (scripted faults come before probabilistic ones). */
  failNext(kind: FaultKind, count = 1): void {
    for (let i = 0; i < count; i++) this.scripted.push(kind);
  }

  /**
   * Makes the next `count` requests answer with the seed's error `errorType` (e.g.
   * `ServiceQuotaExceededException` 402, `ConflictException` 409), in the queue shared with {@link failNext}.
   */
  failNextWith(errorType: ErrorName, count = 1, message = `injected ${errorType}`): void {
    for (let i = 0; i < count; i++) this.scripted.push(new HttpError(errorType, message));
  }

  /** Drops scripted faults not yet used. */
  clearScriptedFaults(): void {
    this.scripted.length = 0;
  }

  /** Zeroes the counters (keeps `inFlight`) and empties the request log. */
  resetStats(): void {
    const inFlight = this.stats.inFlight;
    this.stats = CodeCatalystServer.freshStats();
    this.stats.inFlight = inFlight;
    this.stats.maxInFlight = inFlight;
    this.requests = [];
  }

  /** Stops listening and ends every connection, keep-alive ones included. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await done;
  }

  // ---------------------------------------------------------------------------------------------
  // Request handling

  /** @internal */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.stats.requests++;
    this.stats.inFlight++;
    this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.stats.inFlight);
    res.on('close', () => {
      this.stats.inFlight--;
    });
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on('error', () => res.destroy());
    req.on('end', () => {
      void this.respond(req, res, Buffer.concat(chunks).toString('utf8'), size > MAX_BODY);
    });
  }

  private async respond(
    req: IncomingMessage,
    res: ServerResponse,
    body: string,
    tooLarge: boolean,
  ): Promise<void> {
    const record: RecordedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: { ...req.headers },
      body: body.slice(0, 65536),
    };
    this.requests.push(record);
    if (this.requests.length > this.requestLogLimit)
      this.requests.splice(0, this.requests.length - this.requestLogLimit);

    const maxConcurrent = this.faults.maxConcurrent;
    if (maxConcurrent !== undefined && maxConcurrent > 0 && this.admitted >= maxConcurrent) {
      record.fault = 'maxConcurrent';
      this.stats.faults.maxConcurrent++;
      this.send(
        res,
        record,
        errorResponse('ThrottlingException', 'Rate exceeded: too many concurrent requests'),
      );
      return;
    }
    this.admitted++;
    try {
      const scripted = this.scripted.shift();
      if (scripted instanceof HttpError) {
        if (this.latencyMs > 0) await this.sleep(this.latencyMs);
        if (!this.closed) this.send(res, record, errorResponse(scripted.errorType, scripted.message));
        return;
      }
      const fault = scripted ?? this.drawFault();
      if (fault) {
        record.fault = fault;
        this.stats.faults[fault]++;
      }
      if (this.latencyMs > 0) await this.sleep(this.latencyMs);
      if (this.closed || res.destroyed) return;

      switch (fault) {
        case 'reset':
          req.socket.destroy();
          return;
        case 'throttle':
          this.send(res, record, errorResponse('ThrottlingException', 'Rate exceeded'));
          return;
        case 'serverError':
          this.send(res, record, errorResponse('InternalServerException', 'Internal server error'));
          return;
        case 'unavailable':
          this.send(res, record, {
            status: 503,
            headers: { 'content-type': 'text/plain' },
            body: 'Service Unavailable',
          });
          return;
        default:
          break;
      }

      let response: Response;
      try {
        if (tooLarge) throw new HttpError('ValidationException', 'body: must not exceed 1 MiB');
        response = this.listEventLogs(req, body);
      } catch (err) {
        response =
          err instanceof HttpError
            ? errorResponse(err.errorType, err.message)
            : errorResponse('InternalServerException', `unexpected: ${String(err)}`);
      }

      if (fault === 'truncate') {
        const bytes = typeof response.body === 'string' ? Buffer.from(response.body, 'utf8') : response.body;
        record.status = response.status;
        bump(this.stats.byStatus, String(response.status));
        res.writeHead(response.status, { ...response.headers, 'content-length': String(bytes.length) });
        res.write(bytes.subarray(0, bytes.length >> 1), () => res.destroy());
        return;
      }
      this.send(res, record, response);
    } finally {
      this.admitted--;
    }
  }

  private drawFault(): FaultKind | undefined {
    const f = this.faults;
    const order: [FaultKind, number][] = [
      ['throttle', f.throttle ?? 0],
      ['serverError', f.serverError ?? 0],
      ['unavailable', f.unavailable ?? 0],
      ['reset', f.reset ?? 0],
      ['truncate', f.truncate ?? 0],
    ];
    if (order.every(([, p]) => p <= 0)) return undefined;
    let u = this.faultRng();
    for (const [kind, p] of order) {
      if (u < p) return kind;
      u -= p;
    }
    return undefined;
  }

  private send(res: ServerResponse, record: RecordedRequest, response: Response): void {
    if (res.destroyed) return;
    record.status = response.status;
    bump(this.stats.byStatus, String(response.status));
    const errorType = response.headers['x-amzn-errortype'];
    if (errorType) bump(this.stats.byError, errorType);
    else if (response.status === 503) bump(this.stats.byError, 'ServiceUnavailable');
    this.requestCounter++;
    res.writeHead(response.status, {
      ...response.headers,
      'content-length': String(
        typeof response.body === 'string' ? Buffer.byteLength(response.body, 'utf8') : response.body.length,
      ),
      'x-amzn-requestid': `req-${this.requestCounter.toString(16).padStart(8, '0')}`,
    });
    res.end(response.body, () => {
      if (response.items !== undefined) {
        this.stats.pages++;
        this.stats.items += response.items;
        if (response.items === 0) this.stats.emptyPages++;
      }
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  private listEventLogs(req: IncomingMessage, body: string): Response {
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
    const data = this.spaces.get(spaceName);
    if (!data)
      throw new HttpError('ResourceNotFoundException', `spaceName: space ${spaceName} was not found`);

    const fingerprint = createHash('sha256')
      .update(JSON.stringify([spaceName, startMs, endMs, eventName ?? null]))
      .digest('base64url')
      .slice(0, 22);
    const cursor = nextToken === undefined ? undefined : this.verifyToken(nextToken, fingerprint);
    return this.page(data, spaceName, startMs, endMs, eventName, maxResults, fingerprint, cursor);
  }

  private page(
    data: SpaceData,
    spaceName: string,
    startMs: number,
    endMs: number,
    eventName: string | undefined,
    maxResults: number,
    fingerprint: string,
    cursor: TokenPayload | undefined,
  ): Response {
    const listing = this.listing(data, spaceName, startMs, endMs, eventName);
    const serial = (cursor?.n ?? 0) + 1;
    const token = (h: number, i: string, r: 0 | 1, e: 0 | 1): string =>
      this.signToken({ v: 1, f: fingerprint, h, i, r, e, n: serial });
    const wasEmpty = cursor?.e === 1;

    // Quirk: an empty page that does not move the cursor.
    if (this.emptyPages && !wasEmpty && this.pageRng() < this.emptyPageProbability) {
      const next = cursor ? token(cursor.h, cursor.i, cursor.r, 1) : token(-1, '', 1, 1);
      return pageResponse([], next);
    }

    const cutoff = this.clock() - this.retentionMs;
    let i = cursor ? seekCursor(listing, cursor.h, cursor.i, cursor.r === 1) : 0;
    const items: Stored[] = [];
    let last: Stored | undefined;
    for (; i < listing.length && items.length < maxResults; i++) {
      const s = listing[i]!;
      if (s.time < cutoff) continue;
      items.push(s);
      last = s;
    }
    while (i < listing.length && listing[i]!.time < cutoff) i++;
    const more = i < listing.length;

    let next: string | undefined;
    if (last && more) {
      next =
        this.repeatAcrossPages && maxResults >= 2
          ? token(last.hash, last.id, 1, 0)
          : token(last.hash, last.id, 0, 0);
    } else if (last && this.emptyPages && !wasEmpty && this.pageRng() < this.emptyPageProbability) {
      // Quirk: a nextToken after the last item that leads to one empty, final page.
      next = token(last.hash, last.id, 0, 1);
    }
    return pageResponse(items, next);
  }

  private listing(
    data: SpaceData,
    spaceName: string,
    startMs: number,
    endMs: number,
    eventName: string | undefined,
  ): Stored[] {
    const key = JSON.stringify([spaceName, startMs, endMs, eventName ?? null]);
    const cached = this.listings.get(key);
    if (cached && cached.generation === data.generation) {
      this.listings.delete(key); // LRU: re-insert as newest
      this.listings.set(key, cached);
      return cached.items;
    }
    const byTime = this.sorted(data);
    const slice = byTime.slice(lowerBoundTime(byTime, startMs), lowerBoundTime(byTime, endMs));
    const items = eventName === undefined ? slice : slice.filter((s) => s.event.eventName === eventName);
    items.sort((a, b) => compareKey(a, b.hash, b.id));
    this.listings.delete(key);
    this.listings.set(key, { generation: data.generation, items });
    if (this.listings.size > LISTING_CACHE_SIZE) {
      const oldest = this.listings.keys().next().value;
      if (oldest !== undefined) this.listings.delete(oldest);
    }
    return items;
  }

  private sorted(data: SpaceData): Stored[] {
    if (data.rebuildNeeded) {
      data.byTime = [...data.byId.values()];
      data.rebuildNeeded = false;
      data.sortNeeded = true;
    }
    if (data.sortNeeded) {
      data.byTime.sort((a, b) => a.time - b.time);
      data.sortNeeded = false;
    }
    return data.byTime;
  }

  private space(name: string): SpaceData {
    let data = this.spaces.get(name);
    if (!data) {
      data = { byId: new Map(), byTime: [], sortNeeded: false, rebuildNeeded: false, generation: 0 };
      this.spaces.set(name, data);
    }
    return data;
  }

  private signToken(payload: TokenPayload): string {
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    const mac = createHmac('sha256', this.hmacKey)
      .update(body)
      .digest()
      .subarray(0, 16)
      .toString('base64url');
    return `${body}.${mac}`;
  }

  private verifyToken(token: string, fingerprint: string): TokenPayload {
    const invalid = new HttpError('ValidationException', 'nextToken: is not a token issued by this service');
    const dot = token.indexOf('.');
    if (dot < 0) throw invalid;
    const body = token.slice(0, dot);
    const mac = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = createHmac('sha256', this.hmacKey).update(body).digest().subarray(0, 16);
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) throw invalid;
    let payload: TokenPayload;
    try {
      payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TokenPayload;
    } catch {
      throw invalid;
    }
    if (payload.f !== fingerprint) {
      throw new HttpError(
        'ValidationException',
        'nextToken: belongs to a different request (spaceName, startTime, endTime and eventName must not change between pages)',
      );
    }
    return payload;
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

function errorResponse(errorType: ErrorName, message: string): Response {
  return {
    status: ERROR_STATUS[errorType],
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': errorType },
    body: JSON.stringify({ message }),
  };
}

const PAGE_START = Buffer.from('{"items":[');
const COMMA = 0x2c;

/**
 * The bytes of `JSON.stringify({ items, nextToken })`, copied from each item's cached JSON (the
 * cost of a page is a copy, not a serialisation of 250 events).
 */
function pageResponse(items: readonly Stored[], nextToken: string | undefined): Response {
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
export async function startCodeCatalystServer(
  options: CodeCatalystServerOptions = {},
): Promise<CodeCatalystServer> {
  let instance: CodeCatalystServer | undefined;
  const server = createServer((req, res) => instance!.handle(req, res));
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  instance = new CodeCatalystServer(server, `http://127.0.0.1:${port}`, options);
  return instance;
}
