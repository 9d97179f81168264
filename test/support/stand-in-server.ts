/**
 * What the local stand-ins of ListEventLogs (codecatalyst-server.ts) and ListSystemEvents
 * (resiliencehub-server.ts) share, so each of them keeps only its API (route, validation, auth,
 * event selection): body intake, a bounded request log, stats, scripted and seeded random faults,
 * latency, truncation, HMAC-signed cursor tokens with the paging quirks, and listen/close.
 *
 * Order of one request: maxConcurrent (immediate 429), a scripted error (after the latency), a
 * scripted or random fault, the latency, then the fault's canned answer or the subclass's `route`.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { mulberry32 } from './sample-events';

/** A fault the server can inject instead of (or into) a response. */
export type FaultKind = 'throttle' | 'serverError' | 'unavailable' | 'reset' | 'truncate';
/** Random faults are drawn in this order from one PRNG draw per request. */
const FAULT_ORDER: readonly FaultKind[] = ['throttle', 'serverError', 'unavailable', 'reset', 'truncate'];

/**
 * Probabilistic faults, read on every request (replace or mutate `server.faults` at any time).
 * Probabilities are per request and drawn from a PRNG seeded by the `seed` option, in this order:
 * throttle, serverError, unavailable, reset, truncate.
 */
export interface StandInFaults {
  /** 429 `ThrottlingException`. */
  throttle?: number;
  /** 500 `InternalServerException` (JSON body, `x-amzn-ErrorType`): the SDKs retry it. */
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

/** Options every stand-in takes. */
export interface StandInOptions {
  /** How long the source remembers events. Default 30 days. */
  retentionMs?: number;
  /** Event clock (expiry, token age). Default `Date.now`. See also `setNow`. */
  now?: () => number;
  /** Delay before every response (ms). Default 0. */
  latencyMs?: number;
  /** Repeat the last item of page N as the first item of page N+1 (only when maxResults >= 2). */
  repeatAcrossPages?: boolean;
  /** Sometimes return an empty page with a `nextToken` (never twice in a row), also after the last page. */
  emptyPages?: boolean;
  /** Initial {@link StandInFaults}. */
  faults?: StandInFaults;
  /** Seed of the fault and paging PRNGs. Default 1. */
  seed?: number;
  /** How many requests `requests` keeps (the newest). Default 1000. */
  requestLogLimit?: number;
}

/** Counters of `server.stats`. */
export interface StandInStats {
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

/** One entry of `server.requests`. */
export interface StandInRecord {
  method: string;
  /** Raw request target, e.g. `/v1/spaces/my%20space/eventLogs`. */
  url: string;
  headers: IncomingHttpHeaders;
  /** Response status, once sent (undefined for a reset). */
  status?: number;
  /** The fault injected into this request, if any. */
  fault?: FaultKind | 'maxConcurrent';
}

export interface StandInResponse {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
  /** Items in a 200 page (counted in the stats once delivered). */
  items?: number;
}

/** An error answered as `x-amzn-ErrorType: errorType` with `{ message, ...extra }`. */
export class StandInError<E extends string = string> extends Error {
  constructor(
    readonly errorType: E,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** What a nextToken carries (before signing). */
export interface PageToken {
  v: 1;
  /** Request fingerprint: the token is only good for the request that got it. */
  f: string;
  /** Cursor: hash and id of the last item returned (-1/'' = before the first). */
  h: number;
  i: string;
  /** 1 = the cursor item itself is returned again (repeatAcrossPages). */
  r: 0 | 1;
  /** 1 = this token came with an empty page (the next page is never empty again). */
  e: 0 | 1;
  /** Issued at (event clock), when the subclass stamps it. */
  t?: number;
  /** Page serial: keeps every token distinct. */
  n: number;
}

/** A stored event: its wire form and its keys (listings are in cursor order: `hash`, then `id`). */
export interface StoredEvent {
  readonly event: unknown;
  readonly id: string;
  readonly hash: number;
  readonly time: number;
}

/** What one page request asks of {@link StandInServer.listPage}. */
export interface PageQuery<T extends StoredEvent> {
  book: Book<T>;
  /** Of the request's fields that its tokens are bound to; also the key of the cached listing. */
  fingerprint: string;
  cursor: PageToken | undefined;
  maxResults: number;
  /** The window `startMs <= time < endMs`; an absent bound is open. */
  startMs?: number;
  endMs?: number;
  /** Which events of the window the listing holds; default all. */
  keep?: (item: T) => boolean;
  /** Fields added to each new token (called once per token, e.g. the issue time). */
  stamp?: () => { t?: number };
}

/**
 * Listings kept (LRU). The ingest pages 16 windows at a time over up to 3 days of 24 hourly windows,
 * so 72 listings are in use at once: a smaller cache would rebuild listings in the middle of them.
 */
const LISTING_CACHE_SIZE = 256;

/** What differs between the stand-ins' plumbing. */
export interface StandInSpec<T extends StoredEvent, S extends StandInStats> {
  /** Order of each book's `byTime` (see {@link EventBooks}). */
  timeOrder: (a: T, b: T) => number;
  /** HTTP status of every error type (ThrottlingException and InternalServerException included). */
  errorStatus: Readonly<Record<string, number>>;
  /** Counters the subclass adds to {@link StandInStats}, zeroed. */
  extraStats?: Omit<S, keyof StandInStats>;
  /** Message of the `serverError` fault. */
  serverErrorMessage: string;
  /** Mixed into the seed for the paging PRNG, so paging and faults draw independently. */
  pageSeedMix: number;
  /** Bodies beyond this many bytes are not kept; `route` is told. Default: no limit. */
  maxBody?: number;
  /** Keep the request body (first 64 KiB, UTF-8) in the request log as `body`. */
  recordBody?: boolean;
  /** Keep the error type of an error response in the request log as `errorType`. */
  recordErrorType?: boolean;
}

/** Default retention: ListEventLogs guarantees 30 days. */
export const DEFAULT_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

/** FNV-1a over the UTF-16 code units of `s`: the stable listing order. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function compareKey(a: StoredEvent, h: number, id: string): number {
  return a.hash !== h ? a.hash - h : a.id < id ? -1 : a.id > id ? 1 : 0;
}

/** First index whose time is >= t (items in time order). */
export function lowerBoundTime(items: readonly { readonly time: number }[], t: number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (items[mid]!.time < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index at (inclusive) or after (exclusive) the cursor (h, id), items in cursor order. */
export function seekCursor(items: readonly StoredEvent[], h: number, id: string, inclusive: boolean): number {
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

/** The events of one space or system: by id, and in time order (kept lazily). */
export interface Book<T extends StoredEvent> {
  readonly byId: Map<string, T>;
  /** Events by time; stale while `sortNeeded`, rebuilt from `byId` when `rebuildNeeded`. */
  byTime: T[];
  sortNeeded: boolean;
  rebuildNeeded: boolean;
  /** Bumped on every change: cached listings of an older generation are stale. */
  generation: number;
}

/** The events a stand-in holds, in books by space or system name. */
export class EventBooks<T extends StoredEvent> extends Map<string, Book<T>> {
  /** `order` sorts `byTime` (a stable sort: ties keep their insertion order). */
  constructor(private readonly order: (a: T, b: T) => number) {
    super();
  }

  /**
   * Adds events to a book (creating it), replacing any with the same id. When `items` throws,
   * the events before stay added: the listings must see them.
   */
  add(name: string, items: Iterable<T>): void {
    let book = this.get(name);
    if (!book) {
      book = { byId: new Map(), byTime: [], sortNeeded: false, rebuildNeeded: false, generation: 0 };
      this.set(name, book);
    }
    try {
      for (const item of items) {
        if (book.byId.has(item.id)) book.rebuildNeeded = true;
        else if (!book.rebuildNeeded) book.byTime.push(item);
        book.byId.set(item.id, item);
      }
    } finally {
      book.sortNeeded = true;
      book.generation++;
    }
  }

  /** Removes events by id. @returns how many were removed. */
  remove(name: string, ids: Iterable<string>): number {
    const book = this.get(name);
    if (!book) return 0;
    let removed = 0;
    for (const id of ids) if (book.byId.delete(id)) removed++;
    if (removed > 0) {
      book.rebuildNeeded = true;
      book.generation++;
    }
    return removed;
  }

  /** The book's events in time order. */
  sorted(book: Book<T>): T[] {
    if (book.rebuildNeeded) {
      book.byTime = [...book.byId.values()];
      book.rebuildNeeded = false;
      book.sortNeeded = true;
    }
    if (book.sortNeeded) {
      book.byTime.sort(this.order);
      book.sortNeeded = false;
    }
    return book.byTime;
  }

  /** The events of `name` at or after `cutoff` (the older ones are expired), in time order. */
  since(name: string, cutoff: number): T[] {
    const book = this.get(name);
    if (!book) return [];
    const byTime = this.sorted(book);
    return byTime.slice(lowerBoundTime(byTime, cutoff));
  }
}

export function bump(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}

/** At most one fault, by the per-request probabilities in `faults` tried in `order`, from one `rng` draw. */
export function drawFault<K extends string>(
  faults: Partial<Record<K, number>>,
  order: readonly K[],
  rng: () => number,
): K | undefined {
  if (order.every((kind) => (faults[kind] ?? 0) <= 0)) return undefined;
  let u = rng();
  for (const kind of order) {
    const p = faults[kind] ?? 0;
    if (u < p) return kind;
    u -= p;
  }
  return undefined;
}

/**
 * Counts a request in `stats()` (in flight until its response closes) and collects its body,
 * keeping the first `maxBody` bytes. `stats` is read at each use: `resetStats` replaces the object.
 */
export function intake(
  req: IncomingMessage,
  res: ServerResponse,
  stats: () => { requests: number; inFlight: number; maxInFlight: number },
  maxBody: number,
  done: (body: Buffer, tooLarge: boolean) => void,
): void {
  const counters = stats();
  counters.requests++;
  counters.inFlight++;
  counters.maxInFlight = Math.max(counters.maxInFlight, counters.inFlight);
  res.on('close', () => {
    stats().inFlight--;
  });
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= maxBody) chunks.push(chunk);
  });
  req.on('error', () => res.destroy());
  req.on('end', () => done(Buffer.concat(chunks), size > maxBody));
}

/** Listens on 127.0.0.1 at an ephemeral port. @returns the base URL, e.g. `http://127.0.0.1:41234`. */
export async function listenLocal(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * The running fake service, without its API. Settable at run time: `faults`, `latencyMs`,
 * `repeatAcrossPages`, `emptyPages`, `emptyPageProbability`, `retentionMs`; the clock via
 * {@link setNow}. `E` is the subclass's error names, `S` its stats, `R` its request log entries,
 * `T` its stored events.
 */
export abstract class StandInServer<
  E extends string,
  S extends StandInStats,
  R extends StandInRecord,
  T extends StoredEvent,
> {
  /** Base URL for the client's endpoint, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Probabilistic faults, read on every request. */
  faults: StandInFaults;
  latencyMs: number;
  repeatAcrossPages: boolean;
  emptyPages: boolean;
  /** Probability of an empty page when `emptyPages` is on. */
  emptyPageProbability: number;
  retentionMs: number;
  /** Counters since start or {@link resetStats}. */
  stats: S;
  /** The newest requests (bounded by `requestLogLimit`), oldest first. */
  requests: R[] = [];

  protected clock: () => number;
  /** The events of each space or system. */
  protected readonly books: EventBooks<T>;
  private readonly listings = new Map<string, { generation: number; items: T[] }>();
  private readonly pageRng: () => number;
  private readonly server: Server;
  private readonly spec: StandInSpec<T, S>;
  private readonly scripted: (FaultKind | StandInError)[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly hmacKey = randomBytes(32);
  private readonly faultRng: () => number;
  private readonly requestLogLimit: number;
  private admitted = 0;
  private requestCounter = 0;
  private closed = false;

  protected constructor(
    server: Server,
    url: string,
    options: StandInOptions & { emptyPageProbability?: number },
    spec: StandInSpec<T, S>,
  ) {
    this.server = server;
    this.url = url;
    this.spec = spec;
    this.books = new EventBooks(spec.timeOrder);
    this.stats = this.freshStats();
    this.faults = { ...options.faults };
    this.latencyMs = options.latencyMs ?? 0;
    this.repeatAcrossPages = options.repeatAcrossPages ?? false;
    this.emptyPages = options.emptyPages ?? false;
    this.emptyPageProbability = options.emptyPageProbability ?? 0.25;
    this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.clock = options.now ?? Date.now;
    const seed = options.seed ?? 1;
    this.faultRng = mulberry32(seed);
    this.pageRng = mulberry32(seed ^ spec.pageSeedMix);
    this.requestLogLimit = options.requestLogLimit ?? 1000;
  }

  /** Answers a request that got past the faults; throws a {@link StandInError} to answer with it. */
  protected abstract route(req: IncomingMessage, body: Buffer, tooLarge: boolean): StandInResponse;

  /** Removes events by id from a space or system. @returns how many were removed. */
  removeEvents(name: string, ids: Iterable<string>): number {
    return this.books.remove(name, ids);
  }

  /** What the source holds for a space or system now (expired events excluded), in time order. */
  events(name: string): T['event'][] {
    return this.books.since(name, this.clock() - this.retentionMs).map((s) => s.event);
  }

  /** Current time of the event clock (epoch ms). */
  now(): number {
    return this.clock();
  }

  /** Fixes the event clock at `ms`, or installs a clock function. */
  setNow(now: number | (() => number)): void {
    this.clock = typeof now === 'number' ? () => now : now;
  }

  /** Makes the next `count` requests fail with `kind` (scripted faults come before probabilistic ones). */
  failNext(kind: FaultKind, count = 1): void {
    for (let i = 0; i < count; i++) this.scripted.push(kind);
  }

  /**
   * Makes the next `count` requests answer with the API's error `errorType` (e.g.
   * `ServiceQuotaExceededException` 402, `ConflictException` 409), body `{ message, ...extra }`, in
   * the queue shared with {@link failNext}.
   */
  failNextWith(
    errorType: E,
    count = 1,
    message = `injected ${errorType}`,
    extra: Record<string, unknown> = {},
  ): void {
    for (let i = 0; i < count; i++) this.scripted.push(new StandInError(errorType, message, extra));
  }

  /** Drops scripted faults not yet used. */
  clearScriptedFaults(): void {
    this.scripted.length = 0;
  }

  /** Zeroes the counters (keeps `inFlight`) and empties the request log. */
  resetStats(): void {
    const inFlight = this.stats.inFlight;
    this.stats = this.freshStats();
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

  private freshStats(): S {
    return {
      requests: 0,
      pages: 0,
      items: 0,
      emptyPages: 0,
      byStatus: {},
      byError: {},
      faults: { throttle: 0, serverError: 0, unavailable: 0, reset: 0, truncate: 0, maxConcurrent: 0 },
      ...this.spec.extraStats,
      inFlight: 0,
      maxInFlight: 0,
    } as S;
  }

  // ---------------------------------------------------------------------------------------------
  // Page tokens and paging

  /** A fingerprint of the request fields a token is bound to. */
  protected fingerprint(fields: unknown[]): string {
    return createHash('sha256').update(JSON.stringify(fields)).digest('base64url').slice(0, 22);
  }

  /** base64url JSON + a truncated HMAC under this instance's key (tokens of other instances fail). */
  private signToken(payload: PageToken): string {
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    const mac = createHmac('sha256', this.hmacKey).update(body).digest().subarray(0, 16);
    return `${body}.${mac.toString('base64url')}`;
  }

  /**
   * The payload of a token this instance signed for the request `fingerprint`; otherwise throws
   * `fail('invalid')` (forged, foreign, garbled) or `fail('otherRequest')`.
   */
  protected readToken(
    token: string,
    fingerprint: string,
    fail: (problem: 'invalid' | 'otherRequest') => Error,
  ): PageToken {
    const dot = token.indexOf('.');
    if (dot < 0) throw fail('invalid');
    const body = token.slice(0, dot);
    const mac = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = createHmac('sha256', this.hmacKey).update(body).digest().subarray(0, 16);
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) throw fail('invalid');
    let payload: PageToken;
    try {
      payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as PageToken;
    } catch {
      throw fail('invalid');
    }
    if (payload.f !== fingerprint) throw fail('otherRequest');
    return payload;
  }

  /**
   * One page of the listing after the cursor, expired events skipped (expiry is applied per page,
   * so a moving clock needs no cache invalidation), with the paging quirks: an empty page that
   * does not move the cursor, the last item repeated on the next page, a token after the last item
   * leading to an empty final page.
   */
  protected listPage(q: PageQuery<T>): { items: T[]; next: string | undefined } {
    const { cursor, maxResults } = q;
    const listing = this.listing(q);
    const n = (cursor?.n ?? 0) + 1;
    const token = (h: number, i: string, r: 0 | 1, e: 0 | 1): string =>
      this.signToken({ v: 1, f: q.fingerprint, h, i, r, e, ...q.stamp?.(), n });
    const wasEmpty = cursor?.e === 1;
    const emptyQuirk = (): boolean =>
      this.emptyPages && !wasEmpty && this.pageRng() < this.emptyPageProbability;
    if (emptyQuirk()) {
      return { items: [], next: cursor ? token(cursor.h, cursor.i, cursor.r, 1) : token(-1, '', 1, 1) };
    }

    const cutoff = this.clock() - this.retentionMs;
    let i = cursor ? seekCursor(listing, cursor.h, cursor.i, cursor.r === 1) : 0;
    const items: T[] = [];
    for (; i < listing.length && items.length < maxResults; i++) {
      if (listing[i]!.time >= cutoff) items.push(listing[i]!);
    }
    while (i < listing.length && listing[i]!.time < cutoff) i++;
    const last = items.at(-1);
    let next: string | undefined;
    if (last && i < listing.length) {
      next = token(last.hash, last.id, this.repeatAcrossPages && maxResults >= 2 ? 1 : 0, 0);
    } else if (last && emptyQuirk()) next = token(last.hash, last.id, 0, 1);
    return { items, next };
  }

  /**
   * The window of the query in cursor order. The first page of a request builds it (binary search
   * by time, sort of that window by hash) and caches it until the book changes; every later page
   * costs O(log n + page).
   */
  private listing(q: PageQuery<T>): T[] {
    const cached = this.listings.get(q.fingerprint);
    if (cached && cached.generation === q.book.generation) {
      this.listings.delete(q.fingerprint); // LRU: re-insert as newest
      this.listings.set(q.fingerprint, cached);
      return cached.items;
    }
    const byTime = this.books.sorted(q.book);
    const lo = q.startMs === undefined ? 0 : lowerBoundTime(byTime, q.startMs);
    const hi = q.endMs === undefined ? byTime.length : lowerBoundTime(byTime, q.endMs);
    const slice = byTime.slice(lo, hi);
    const items = q.keep ? slice.filter(q.keep) : slice;
    items.sort((a, b) => compareKey(a, b.hash, b.id));
    this.listings.delete(q.fingerprint);
    this.listings.set(q.fingerprint, { generation: q.book.generation, items });
    if (this.listings.size > LISTING_CACHE_SIZE) {
      const oldest = this.listings.keys().next().value;
      if (oldest !== undefined) this.listings.delete(oldest);
    }
    return items;
  }

  // ---------------------------------------------------------------------------------------------
  // Request handling

  /** @internal */
  handle(req: IncomingMessage, res: ServerResponse): void {
    intake(
      req,
      res,
      () => this.stats,
      this.spec.maxBody ?? Number.POSITIVE_INFINITY,
      (body, tooLarge) => {
        void this.respond(req, res, body, tooLarge);
      },
    );
  }

  protected errorResponse(err: StandInError): StandInResponse {
    return {
      status: this.spec.errorStatus[err.errorType] ?? 500,
      headers: { 'content-type': 'application/json', 'x-amzn-errortype': err.errorType },
      body: JSON.stringify({ message: err.message, ...err.extra }),
    };
  }

  private async respond(req: IncomingMessage, res: ServerResponse, body: Buffer, tooLarge: boolean) {
    const record = { method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers } } as R;
    if (this.spec.recordBody) Object.assign(record, { body: body.toString('utf8').slice(0, 65536) });
    this.requests.push(record);
    if (this.requests.length > this.requestLogLimit)
      this.requests.splice(0, this.requests.length - this.requestLogLimit);

    const maxConcurrent = this.faults.maxConcurrent;
    if (maxConcurrent !== undefined && maxConcurrent > 0 && this.admitted >= maxConcurrent) {
      record.fault = 'maxConcurrent';
      this.stats.faults.maxConcurrent++;
      const error = new StandInError('ThrottlingException', 'Rate exceeded: too many concurrent requests');
      this.send(res, record, this.errorResponse(error));
      return;
    }
    this.admitted++;
    try {
      const scripted = this.scripted.shift();
      if (scripted instanceof StandInError) {
        if (this.latencyMs > 0) await this.sleep(this.latencyMs);
        if (!this.closed) this.send(res, record, this.errorResponse(scripted));
        return;
      }
      const fault = scripted ?? drawFault(this.faults, FAULT_ORDER, this.faultRng);
      if (fault) {
        record.fault = fault;
        this.stats.faults[fault]++;
      }
      if (this.latencyMs > 0) await this.sleep(this.latencyMs);
      if (this.closed || res.destroyed) return;
      if (fault === 'reset') {
        req.socket.destroy();
        return;
      }

      let response: StandInResponse;
      if (fault === 'throttle') {
        response = this.errorResponse(new StandInError('ThrottlingException', 'Rate exceeded'));
      } else if (fault === 'serverError') {
        response = this.errorResponse(
          new StandInError('InternalServerException', this.spec.serverErrorMessage),
        );
      } else if (fault === 'unavailable') {
        response = { status: 503, headers: { 'content-type': 'text/plain' }, body: 'Service Unavailable' };
      } else {
        try {
          response = this.route(req, body, tooLarge);
        } catch (err) {
          const error =
            err instanceof StandInError
              ? err
              : new StandInError('InternalServerException', `unexpected: ${String(err)}`);
          response = this.errorResponse(error);
        }
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

  private send(res: ServerResponse, record: R, response: StandInResponse): void {
    if (res.destroyed) return;
    record.status = response.status;
    bump(this.stats.byStatus, String(response.status));
    const errorType = response.headers['x-amzn-errortype'];
    if (errorType) {
      if (this.spec.recordErrorType) Object.assign(record, { errorType });
      bump(this.stats.byError, errorType);
    } else if (response.status === 503) bump(this.stats.byError, 'ServiceUnavailable');
    this.requestCounter++;
    const length =
      typeof response.body === 'string' ? Buffer.byteLength(response.body, 'utf8') : response.body.length;
    res.writeHead(response.status, {
      ...response.headers,
      'content-length': String(length),
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

  /** A latency timer that {@link close} cancels, so a closed server holds no timers. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }
}

/** Starts a stand-in made by `make` on 127.0.0.1 with an ephemeral port. */
export async function startStandIn<T extends { handle(req: IncomingMessage, res: ServerResponse): void }>(
  make: (server: Server, url: string) => T,
): Promise<T> {
  let instance: T | undefined;
  const server = createServer((req, res) => instance!.handle(req, res));
  server.keepAliveTimeout = 5_000;
  instance = make(server, await listenLocal(server));
  return instance;
}
