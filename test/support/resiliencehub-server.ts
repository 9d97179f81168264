/**
 * A local stand-in for AWS Resilience Hub (next generation) `ListSystemEvents`
 * (`GET /v2/list-system-events`), following the API reference in `/work/shared/seeds/004_*.txt`, for
 * driving the archive's own client in tests and benchmarks:
 *
 * ```ts
 * const server = await startResilienceHubServer({ systems: { [arn]: events } });
 * // AWS_ENDPOINT_URL_RESILIENCEHUBV2=server.url, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY from server.credentials
 * ```
 *
 * Behaviour worth knowing (all of it is deliberate):
 * - Every request must be signed with SigV4, which this server VERIFIES with its own implementation
 *   (node:crypto: canonical request, string to sign, signing key), independent of
 *   `@smithy/signature-v4`. Failures are 403s with the error types AWS uses:
 *   `MissingAuthenticationTokenException` (no Authorization header), `IncompleteSignatureException`
 *   (a malformed one), `UnrecognizedClientException` (unknown access key, wrong or missing session
 *   token), `InvalidSignatureException` (wrong signature, wrong signing name or region in the
 *   credential scope, date more than 15 minutes off the signature clock, payload hash mismatch).
 *   The signature clock ({@link ResilienceHubServerOptions.signatureNow}, default `Date.now`) is
 *   separate from the event clock, so tests can fix the event clock while clients sign with real time.
 * - Check order: faults, route (404 `UnknownOperationException`), signature (403), query parameters
 *   (400 `ValidationException` `{ message, reason, fieldList: [{ name, message }] }`, every bad field
 *   listed), denied system (403 `AccessDeniedException`), unknown system (404
 *   `ResourceNotFoundException` `{ message, resourceId, resourceType }`), nextToken (400).
 * - Results are `startTime <= timestamp < endTime` (either bound optional) and of the given
 *   `eventTypes` (repeat the parameter for several), NOT in time order: a listing is ordered by a
 *   stable hash of the eventId. `maxResults` defaults to {@link DEFAULT_MAX_RESULTS}; the seed does
 *   not document the service's default.
 * - `startTime`/`endTime` are ISO 8601 date-times (`Z` or `±hh:mm`, any fraction digits truncated to
 *   ms; a bare date means midnight UTC). `timestamp` in responses is epoch seconds with a
 *   millisecond fraction.
 * - `nextToken` is opaque (base64url JSON + HMAC): a cursor (hash/id of the last item returned)
 *   bound to systemArn, startTime, endTime and eventTypes (maxResults may change). A token of another
 *   request, another server, or a forged one is a 400; with `tokenTtlMs`, an old one too. Events
 *   added behind the cursor are not seen by that listing (LATE events).
 * - Events older than `now() - retentionMs` are not returned and not in `events()`: expiry.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseRfc3339 } from './codecatalyst-server';
import { mulberry32 } from './sample-events';
import { SYSTEM_EVENT_TYPE_VALUES, type SystemEventWire, stringifyWithRaw } from './sample-system-events';

export const DEFAULT_MAX_RESULTS = 50;
export const DEFAULT_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
/** How far a request's `x-amz-date` may be from the signature clock, as AWS allows. */
export const MAX_SKEW_MS = 15 * 60 * 1000;
export const DEFAULT_SIGNING_NAME = 'resiliencehub';
export const RESOURCE_TYPE = 'System';

/** Key pairs that the default options accept. */
export const TEST_CREDENTIALS: readonly SigningCredentials[] = [
  { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
  {
    accessKeyId: 'ASIAIOSFODNN7SESSION',
    secretAccessKey: 'je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY',
    sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE-session-token-0123456789',
  },
];

export const ERROR_STATUS = {
  ValidationException: 400,
  ServiceQuotaExceededException: 402,
  AccessDeniedException: 403,
  InvalidSignatureException: 403,
  UnrecognizedClientException: 403,
  MissingAuthenticationTokenException: 403,
  IncompleteSignatureException: 403,
  ResourceNotFoundException: 404,
  UnknownOperationException: 404,
  ConflictException: 409,
  ThrottlingException: 429,
  InternalServerException: 500,
} as const;
export type ErrorName = keyof typeof ERROR_STATUS;

export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** When set, requests with this key must carry (and sign) it as `x-amz-security-token`. */
  sessionToken?: string;
}

export type FaultKind = 'throttle' | 'serverError' | 'unavailable' | 'reset' | 'truncate';

/** Per-request fault probabilities, drawn in this order from a PRNG seeded by `seed`. */
export interface ResilienceHubFaults {
  /** 429 `ThrottlingException`. */
  throttle?: number;
  /** 500 `InternalServerException`. */
  serverError?: number;
  /** Plain-text 503 without an error type, as a load balancer sends it. */
  unavailable?: number;
  /** Destroy the socket without a response. */
  reset?: number;
  /** Send the 200 headers (full content-length) and half the body, then destroy the socket. */
  truncate?: number;
  /** Requests arriving while this many are in flight get an immediate 429. */
  maxConcurrent?: number;
}

export interface ResilienceHubServerOptions {
  /** Initial events by system ARN; a system exists once given events (an empty array is fine). */
  systems?: Record<string, SystemEventWire[]>;
  /** Accepted key pairs. Default {@link TEST_CREDENTIALS}. */
  credentials?: readonly SigningCredentials[];
  /** The signing name the credential scope must name. Default `resiliencehub`. */
  signingName?: string;
  /** The region the credential scope must name; default: any region. */
  region?: string;
  /** Systems answering 403 AccessDeniedException. */
  deniedSystems?: string[];
  /** How long the source remembers events. Default 30 days. */
  retentionMs?: number;
  /** Event clock (expiry, token age). Default `Date.now`. */
  now?: () => number;
  /** Signature clock (x-amz-date skew). Default `Date.now`. */
  signatureNow?: () => number;
  /** Tokens older than this (event clock) are rejected. Default: never. */
  tokenTtlMs?: number;
  latencyMs?: number;
  /** Repeat the last item of page N as the first of page N+1 (when maxResults >= 2). */
  repeatAcrossPages?: boolean;
  /** Sometimes an empty page with a nextToken (never twice in a row), also after the last page. */
  emptyPages?: boolean;
  faults?: ResilienceHubFaults;
  /** Seed of the fault and paging PRNGs. Default 1. */
  seed?: number;
  requestLogLimit?: number;
}

export interface ResilienceHubServerStats {
  requests: number;
  /** 200 responses delivered in full, and their items. */
  pages: number;
  items: number;
  emptyPages: number;
  byStatus: Record<string, number>;
  /** Error responses by type (plain 503s as `ServiceUnavailable`). */
  byError: Record<string, number>;
  faults: Record<FaultKind | 'maxConcurrent', number>;
  /** Requests whose signature was verified. */
  signaturesVerified: number;
  inFlight: number;
  maxInFlight: number;
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  status?: number;
  errorType?: string;
  fault?: FaultKind | 'maxConcurrent';
}

interface Stored {
  readonly event: SystemEventWire;
  readonly id: string;
  readonly time: number;
  readonly hash: number;
}

interface SystemData {
  readonly byId: Map<string, Stored>;
  byTime: Stored[];
  dirty: boolean;
}

interface TokenPayload {
  v: 1;
  f: string;
  h: number;
  i: string;
  /** 1 = the cursor item is returned again (repeatAcrossPages). */
  r: 0 | 1;
  /** 1 = this token came with an empty page. */
  e: 0 | 1;
  /** Issued at (event clock). */
  t: number;
  n: number;
}

interface Response {
  status: number;
  headers: Record<string, string>;
  body: string;
  items?: number;
}

interface FieldProblem {
  name: string;
  message: string;
}

class HttpError extends Error {
  constructor(
    readonly errorType: ErrorName,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const ROUTE = '/v2/list-system-events';
const SYSTEM_ARN =
  /^arn:(aws|aws-cn|aws-iso|aws-iso-[a-z]{1}|aws-us-gov):[A-Za-z0-9][A-Za-z0-9_/.-]{0,62}:([a-z]{2}-((iso[a-z]{0,1}-)|(gov-)){0,1}[a-z]+-[0-9]):[0-9]{12}:[A-Za-z0-9/][A-Za-z0-9:_/+.-]{0,1023}$/;
const NEXT_TOKEN = /^\S{1,2000}$/u;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const EVENT_TYPES: ReadonlySet<string> = new Set(SYSTEM_EVENT_TYPE_VALUES);

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

const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding as SigV4 canonicalisation requires. */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** `YYYYMMDDTHHMMSSZ` to epoch ms, or undefined. */
function parseAmzDate(value: string): number | undefined {
  const m = AMZ_DATE.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const ms = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
  return Number.isFinite(ms) ? ms : undefined;
}

const amzDateOf = (ms: number): string =>
  new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

/** Query parameters of a raw query string, percent-decoded, in order. Throws on bad encoding. */
function parseQuery(raw: string): Array<[string, string]> {
  if (raw === '') return [];
  return raw.split('&').map((part) => {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    return [decodeURIComponent(key), decodeURIComponent(value)];
  });
}

/**
 * The SigV4 canonical request of an HTTP request as received (exported for the self-tests).
 * The path is the raw (encoded) path, normalised and encoded once more, as for every service but S3.
 */
export function canonicalRequest(
  method: string,
  rawPath: string,
  query: Array<[string, string]>,
  headers: IncomingHttpHeaders,
  signedHeaders: string[],
  payloadHash: string,
): string {
  const segments: string[] = [];
  for (const segment of rawPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalised = `/${segments.join('/')}${segments.length > 0 && rawPath.endsWith('/') ? '/' : ''}`;
  const uri = uriEncode(normalised).replace(/%2F/g, '/');
  const encoded = query
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0));
  const canonicalQuery = encoded.map(([k, v]) => `${k}=${v}`).join('&');
  const canonicalHeaders = signedHeaders
    .map((name) => {
      const raw = headers[name];
      const value = Array.isArray(raw) ? raw.join(',') : (raw ?? '');
      return `${name}:${value.replace(/\s+/g, ' ').trim()}\n`;
    })
    .join('');
  return [method, uri, canonicalQuery, canonicalHeaders, signedHeaders.join(';'), payloadHash].join('\n');
}

/** The SigV4 signing key of a secret for a date, region and service. */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

function emptyFaultCounts(): Record<FaultKind | 'maxConcurrent', number> {
  return { throttle: 0, serverError: 0, unavailable: 0, reset: 0, truncate: 0, maxConcurrent: 0 };
}

function bump(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}

/**
 * The running fake service. Settable at run time: `faults`, `latencyMs`, `repeatAcrossPages`,
 * `emptyPages`, `retentionMs`, `tokenTtlMs`, `credentials`, `deniedSystems`; clocks via
 * {@link setNow} and {@link setSignatureNow}.
 */
export class ResilienceHubServer {
  /** Base URL for `AWS_ENDPOINT_URL_RESILIENCEHUBV2`, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  faults: ResilienceHubFaults;
  latencyMs: number;
  repeatAcrossPages: boolean;
  emptyPages: boolean;
  retentionMs: number;
  tokenTtlMs: number | undefined;
  /** Accepted key pairs by access key id. */
  readonly credentials: Map<string, SigningCredentials>;
  readonly deniedSystems: Set<string>;
  readonly signingName: string;
  readonly region: string | undefined;
  stats: ResilienceHubServerStats = ResilienceHubServer.freshStats();
  requests: RecordedRequest[] = [];

  private readonly server: ReturnType<typeof createServer>;
  private readonly systems = new Map<string, SystemData>();
  private readonly scripted: (FaultKind | HttpError)[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly hmacKey = randomBytes(32);
  private readonly faultRng: () => number;
  private readonly pageRng: () => number;
  private readonly requestLogLimit: number;
  private clock: () => number;
  private signatureClock: () => number;
  private admitted = 0;
  private requestCounter = 0;
  private closed = false;

  /** @internal Use {@link startResilienceHubServer}. */
  constructor(server: ReturnType<typeof createServer>, url: string, options: ResilienceHubServerOptions) {
    this.server = server;
    this.url = url;
    this.faults = { ...options.faults };
    this.latencyMs = options.latencyMs ?? 0;
    this.repeatAcrossPages = options.repeatAcrossPages ?? false;
    this.emptyPages = options.emptyPages ?? false;
    this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.tokenTtlMs = options.tokenTtlMs;
    this.credentials = new Map((options.credentials ?? TEST_CREDENTIALS).map((c) => [c.accessKeyId, c]));
    this.deniedSystems = new Set(options.deniedSystems ?? []);
    this.signingName = options.signingName ?? DEFAULT_SIGNING_NAME;
    this.region = options.region;
    this.clock = options.now ?? Date.now;
    this.signatureClock = options.signatureNow ?? Date.now;
    const seed = options.seed ?? 1;
    this.faultRng = mulberry32(seed);
    this.pageRng = mulberry32(seed ^ 0x5bd1e995);
    this.requestLogLimit = options.requestLogLimit ?? 1000;
    for (const [arn, events] of Object.entries(options.systems ?? {})) this.addEvents(arn, events);
  }

  private static freshStats(): ResilienceHubServerStats {
    return {
      requests: 0,
      pages: 0,
      items: 0,
      emptyPages: 0,
      byStatus: {},
      byError: {},
      faults: emptyFaultCounts(),
      signaturesVerified: 0,
      inFlight: 0,
      maxInFlight: 0,
    };
  }

  /**
   * Adds events to a system (creating it) at any time: past timestamps model LATE events. An event
   * with an eventId already present replaces it. Events are kept by reference: do not mutate them.
   */
  addEvents(systemArn: string, events: readonly SystemEventWire[]): void {
    const data = this.system(systemArn);
    for (const event of events) {
      if (typeof event.eventId !== 'string') throw new TypeError('event.eventId must be a string');
      if (typeof event.timestamp !== 'number' || !Number.isFinite(event.timestamp))
        throw new TypeError(`event ${event.eventId}: timestamp must be epoch seconds`);
      const time = Math.round(event.timestamp * 1000);
      data.byId.set(event.eventId, { event, id: event.eventId, time, hash: fnv1a(event.eventId) });
    }
    data.dirty = true;
  }

  /** Removes events by id. @returns how many were removed. */
  removeEvents(systemArn: string, ids: Iterable<string>): number {
    const data = this.systems.get(systemArn);
    if (!data) return 0;
    let removed = 0;
    for (const id of ids) if (data.byId.delete(id)) removed++;
    if (removed > 0) data.dirty = true;
    return removed;
  }

  /** What the source holds for a system now (expired events excluded), in time order. */
  events(systemArn: string): SystemEventWire[] {
    const data = this.systems.get(systemArn);
    if (!data) return [];
    const byTime = this.sorted(data);
    return byTime.slice(lowerBoundTime(byTime, this.clock() - this.retentionMs)).map((s) => s.event);
  }

  systemArns(): string[] {
    return [...this.systems.keys()];
  }

  now(): number {
    return this.clock();
  }

  /** Fixes the event clock at `ms`, or installs a clock function. */
  setNow(now: number | (() => number)): void {
    this.clock = typeof now === 'number' ? () => now : now;
  }

  /** Fixes the signature clock at `ms`, or installs a clock function. */
  setSignatureNow(now: number | (() => number)): void {
    this.signatureClock = typeof now === 'number' ? () => now : now;
  }

  /** Makes the next `count` requests fail with `kind` (before probabilistic faults). */
  failNext(kind: FaultKind, count = 1): void {
    for (let i = 0; i < count; i++) this.scripted.push(kind);
  }

  /** Makes the next `count` requests answer with `errorType` (shared queue with {@link failNext}). */
  failNextWith(
    errorType: ErrorName,
    count = 1,
    message = `injected ${errorType}`,
    extra: Record<string, unknown> = {},
  ): void {
    for (let i = 0; i < count; i++) this.scripted.push(new HttpError(errorType, message, extra));
  }

  clearScriptedFaults(): void {
    this.scripted.length = 0;
  }

  /** Zeroes the counters (keeps `inFlight`) and empties the request log. */
  resetStats(): void {
    const inFlight = this.stats.inFlight;
    this.stats = ResilienceHubServer.freshStats();
    this.stats.inFlight = inFlight;
    this.stats.maxInFlight = inFlight;
    this.requests = [];
  }

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
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => res.destroy());
    req.on('end', () => {
      void this.respond(req, res, Buffer.concat(chunks));
    });
  }

  private async respond(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const record: RecordedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: { ...req.headers },
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
        errorResponse(new HttpError('ThrottlingException', 'Rate exceeded: too many concurrent requests')),
      );
      return;
    }
    this.admitted++;
    try {
      const scripted = this.scripted.shift();
      if (scripted instanceof HttpError) {
        if (this.latencyMs > 0) await this.sleep(this.latencyMs);
        if (!this.closed) this.send(res, record, errorResponse(scripted));
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
          this.send(res, record, errorResponse(new HttpError('ThrottlingException', 'Rate exceeded')));
          return;
        case 'serverError':
          this.send(
            res,
            record,
            errorResponse(new HttpError('InternalServerException', 'Internal service error.')),
          );
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
        response = this.listSystemEvents(req, body);
      } catch (err) {
        response = errorResponse(
          err instanceof HttpError
            ? err
            : new HttpError('InternalServerException', `unexpected: ${String(err)}`),
        );
      }
      if (fault === 'truncate') {
        const bytes = Buffer.from(response.body, 'utf8');
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
    if (errorType) {
      record.errorType = errorType;
      bump(this.stats.byError, errorType);
    } else if (response.status === 503) bump(this.stats.byError, 'ServiceUnavailable');
    this.requestCounter++;
    res.writeHead(response.status, {
      ...response.headers,
      'content-length': String(Buffer.byteLength(response.body, 'utf8')),
      'x-amzn-requestid': `req-${this.requestCounter.toString(16).padStart(8, '0')}`,
    });
    res.end(response.body, 'utf8', () => {
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

  /** Verifies the request's SigV4 Authorization header; throws a 403 HttpError when it fails. */
  private verifySignature(
    req: IncomingMessage,
    rawPath: string,
    query: Array<[string, string]>,
    body: Buffer,
  ): void {
    const auth = req.headers.authorization;
    if (!auth) throw new HttpError('MissingAuthenticationTokenException', 'Missing Authentication Token');
    const m = /^AWS4-HMAC-SHA256\s+(.*)$/s.exec(auth);
    if (!m)
      throw new HttpError(
        'IncompleteSignatureException',
        'Authorization header requires the AWS4-HMAC-SHA256 algorithm.',
      );
    const parts = new Map<string, string>();
    for (const piece of m[1]!.split(/,\s*/)) {
      const eq = piece.indexOf('=');
      if (eq > 0) parts.set(piece.slice(0, eq).trim(), piece.slice(eq + 1).trim());
    }
    for (const name of ['Credential', 'SignedHeaders', 'Signature']) {
      if (!parts.get(name))
        throw new HttpError(
          'IncompleteSignatureException',
          `Authorization header requires '${name}' parameter.`,
        );
    }
    const scope = parts.get('Credential')!.split('/');
    if (scope.length !== 5 || scope[4] !== 'aws4_request')
      throw new HttpError(
        'IncompleteSignatureException',
        'Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/aws4_request.',
      );
    const [accessKeyId, date, region, service] = scope as [string, string, string, string];
    const key = this.credentials.get(accessKeyId);
    if (!key)
      throw new HttpError(
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      );

    const signedHeaders = parts.get('SignedHeaders')!.split(';');
    if (!signedHeaders.includes('host'))
      throw new HttpError(
        'InvalidSignatureException',
        "'Host' must be a 'SignedHeader' in the AWS Authorization.",
      );
    const amzDate = req.headers['x-amz-date'];
    const signedAt = typeof amzDate === 'string' ? parseAmzDate(amzDate) : undefined;
    if (signedAt === undefined || !signedHeaders.includes('x-amz-date'))
      throw new HttpError(
        'IncompleteSignatureException',
        'Authorization header requires a signed x-amz-date header in the ISO 8601 basic format (YYYYMMDDTHHMMSSZ).',
      );
    if (date !== (amzDate as string).slice(0, 8))
      throw new HttpError(
        'InvalidSignatureException',
        `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${date}' != '${(amzDate as string).slice(0, 8)}', from '${amzDate}'.`,
      );
    if (service !== this.signingName)
      throw new HttpError(
        'InvalidSignatureException',
        `Credential should be scoped to correct service: '${this.signingName}'.`,
      );
    if (this.region !== undefined && region !== this.region)
      throw new HttpError(
        'InvalidSignatureException',
        `Credential should be scoped to a valid region, not '${region}'. This endpoint is '${this.region}'.`,
      );
    const now = this.signatureClock();
    if (signedAt < now - MAX_SKEW_MS)
      throw new HttpError(
        'InvalidSignatureException',
        `Signature expired: ${amzDate} is now earlier than ${amzDateOf(now - MAX_SKEW_MS)} (${amzDateOf(now)} - 15 min.)`,
      );
    if (signedAt > now + MAX_SKEW_MS)
      throw new HttpError(
        'InvalidSignatureException',
        `Signature not yet current: ${amzDate} is still later than ${amzDateOf(now + MAX_SKEW_MS)} (${amzDateOf(now)} + 15 min.)`,
      );

    const token = req.headers['x-amz-security-token'];
    if (key.sessionToken !== undefined || token !== undefined) {
      if (token !== key.sessionToken)
        throw new HttpError(
          'UnrecognizedClientException',
          'The security token included in the request is invalid.',
        );
      if (!signedHeaders.includes('x-amz-security-token'))
        throw new HttpError(
          'InvalidSignatureException',
          "'x-amz-security-token' must be a 'SignedHeader' in the AWS Authorization.",
        );
    }
    const bodyHash = sha256Hex(body);
    const declared = req.headers['x-amz-content-sha256'];
    if (declared !== undefined && declared !== bodyHash)
      throw new HttpError(
        'InvalidSignatureException',
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
      );

    const canonical = canonicalRequest(
      req.method ?? 'GET',
      rawPath,
      query,
      req.headers,
      signedHeaders,
      bodyHash,
    );
    const stringToSign = [
      'AWS4-HMAC-SHA256',
      amzDate,
      `${date}/${region}/${service}/aws4_request`,
      sha256Hex(canonical),
    ].join('\n');
    const expected = createHmac('sha256', signingKey(key.secretAccessKey, date, region, service))
      .update(stringToSign)
      .digest();
    const given = Buffer.from(parts.get('Signature')!, 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      throw new HttpError(
        'InvalidSignatureException',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      );
    this.stats.signaturesVerified++;
  }

  private listSystemEvents(req: IncomingMessage, body: Buffer): Response {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    if (rawPath !== ROUTE || req.method !== 'GET')
      throw new HttpError('UnknownOperationException', `${req.method} ${rawPath}: no such operation`);
    let query: Array<[string, string]>;
    try {
      query = parseQuery(q < 0 ? '' : url.slice(q + 1));
    } catch {
      throw new HttpError('ValidationException', 'the query string is not valid percent-encoding', {
        reason: 'OTHER',
        fieldList: [],
      });
    }
    this.verifySignature(req, rawPath, query, body);

    const params = new Map<string, string[]>();
    for (const [k, v] of query) params.set(k, [...(params.get(k) ?? []), v]);
    const problems: FieldProblem[] = [];
    let missing = false;
    const single = (name: string): string | undefined => {
      const values = params.get(name);
      if (values && values.length > 1) problems.push({ name, message: 'must be given once' });
      return values?.[0];
    };

    const systemArn = single('systemArn');
    if (systemArn === undefined || systemArn === '') {
      missing = true;
      problems.push({ name: 'systemArn', message: 'is required' });
    } else if (systemArn.length < 31)
      problems.push({ name: 'systemArn', message: 'must have a minimum length of 31' });
    else if (!SYSTEM_ARN.test(systemArn))
      problems.push({
        name: 'systemArn',
        message: `must match the pattern ${SYSTEM_ARN.source.slice(1, -1)}`,
      });

    const eventTypes = params.get('eventTypes') ?? [];
    for (const value of eventTypes)
      if (!EVENT_TYPES.has(value))
        problems.push({
          name: 'eventTypes',
          message: `value '${value}' is not one of ${[...EVENT_TYPES].join(' | ')}`,
        });

    const maxRaw = single('maxResults');
    let maxResults = DEFAULT_MAX_RESULTS;
    if (maxRaw !== undefined) {
      maxResults = /^\d{1,4}$/.test(maxRaw) ? Number(maxRaw) : Number.NaN;
      if (!(maxResults >= 1 && maxResults <= 100))
        problems.push({ name: 'maxResults', message: 'must be an integer from 1 to 100' });
    }
    const nextToken = single('nextToken');
    if (nextToken !== undefined && !NEXT_TOKEN.test(nextToken))
      problems.push({ name: 'nextToken', message: 'must match the pattern \\S{1,2000}' });

    const time = (name: 'startTime' | 'endTime'): number | undefined => {
      const raw = single(name);
      if (raw === undefined) return undefined;
      const ms = parseRfc3339(raw);
      if (ms === undefined)
        problems.push({ name, message: 'must be an ISO 8601 date-time, e.g. 2026-05-01T00:00:00Z' });
      return ms;
    };
    const startMs = time('startTime');
    const endMs = time('endTime');
    if (startMs !== undefined && endMs !== undefined && endMs < startMs)
      problems.push({ name: 'endTime', message: 'must not be before startTime' });

    if (problems.length > 0)
      throw validation(problems, missing ? 'MISSING_REQUIRED_FIELD' : 'INVALID_FIELD_VALUE');
    const arn = systemArn!;
    if (this.deniedSystems.has(arn))
      throw new HttpError(
        'AccessDeniedException',
        `User is not authorized to perform resiliencehub:ListSystemEvents on resource ${arn}`,
      );
    const data = this.systems.get(arn);
    if (!data)
      throw new HttpError('ResourceNotFoundException', `System ${arn} was not found`, {
        resourceId: arn,
        resourceType: RESOURCE_TYPE,
      });

    const types = [...new Set(eventTypes)].sort();
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([arn, startMs ?? null, endMs ?? null, types]))
      .digest('base64url')
      .slice(0, 22);
    const cursor = nextToken === undefined ? undefined : this.verifyToken(nextToken, fingerprint);
    return this.page(data, startMs, endMs, new Set(types), maxResults, fingerprint, cursor);
  }

  private page(
    data: SystemData,
    startMs: number | undefined,
    endMs: number | undefined,
    types: ReadonlySet<string>,
    maxResults: number,
    fingerprint: string,
    cursor: TokenPayload | undefined,
  ): Response {
    const serial = (cursor?.n ?? 0) + 1;
    const token = (h: number, i: string, r: 0 | 1, e: 0 | 1): string =>
      this.signToken({ v: 1, f: fingerprint, h, i, r, e, t: this.clock(), n: serial });
    const wasEmpty = cursor?.e === 1;
    if (this.emptyPages && !wasEmpty && this.pageRng() < 0.25) {
      const next = cursor ? token(cursor.h, cursor.i, cursor.r, 1) : token(-1, '', 1, 1);
      return pageResponse([], next);
    }

    const byTime = this.sorted(data);
    const from = Math.max(startMs ?? Number.NEGATIVE_INFINITY, this.clock() - this.retentionMs);
    const lo = lowerBoundTime(byTime, from);
    const hi = endMs === undefined ? byTime.length : lowerBoundTime(byTime, endMs);
    const listing = byTime
      .slice(lo, Math.max(lo, hi))
      .filter((s) => types.size === 0 || types.has(s.event.eventType))
      .sort((a, b) => compareKey(a, b.hash, b.id));
    const startAt = cursor
      ? listing.findIndex((s) => {
          const c = compareKey(s, cursor.h, cursor.i);
          return c > 0 || (c === 0 && cursor.r === 1);
        })
      : 0;
    const begin = startAt < 0 ? listing.length : startAt;
    const items = listing.slice(begin, begin + maxResults);
    const last = items.at(-1);
    const more = begin + items.length < listing.length;
    let next: string | undefined;
    if (last && more) next = token(last.hash, last.id, this.repeatAcrossPages && maxResults >= 2 ? 1 : 0, 0);
    else if (last && this.emptyPages && !wasEmpty && this.pageRng() < 0.25)
      next = token(last.hash, last.id, 0, 1);
    return pageResponse(
      items.map((s) => s.event),
      next,
    );
  }

  private sorted(data: SystemData): Stored[] {
    if (data.dirty) {
      data.byTime = [...data.byId.values()].sort((a, b) => a.time - b.time || (a.id < b.id ? -1 : 1));
      data.dirty = false;
    }
    return data.byTime;
  }

  private system(arn: string): SystemData {
    let data = this.systems.get(arn);
    if (!data) {
      data = { byId: new Map(), byTime: [], dirty: false };
      this.systems.set(arn, data);
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
    const invalid = validation([{ name: 'nextToken', message: 'is not a token issued by this service' }]);
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
    if (payload.f !== fingerprint)
      throw validation([
        {
          name: 'nextToken',
          message:
            'belongs to a different request (systemArn, startTime, endTime and eventTypes must not change between pages)',
        },
      ]);
    if (this.tokenTtlMs !== undefined && this.clock() - payload.t > this.tokenTtlMs)
      throw validation([{ name: 'nextToken', message: 'has expired; start the listing again' }]);
    return payload;
  }
}

function validation(problems: FieldProblem[], reason = 'INVALID_FIELD_VALUE'): HttpError {
  const message =
    problems.length === 1
      ? `${problems[0]!.name}: ${problems[0]!.message}`
      : `${problems.length} validation errors detected: ${problems.map((p) => `${p.name}: ${p.message}`).join('; ')}`;
  return new HttpError('ValidationException', message, { reason, fieldList: problems });
}

function errorResponse(err: HttpError): Response {
  return {
    status: ERROR_STATUS[err.errorType],
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': err.errorType },
    body: JSON.stringify({ message: err.message, ...err.extra }),
  };
}

function pageResponse(events: SystemEventWire[], nextToken: string | undefined): Response {
  return {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: stringifyWithRaw(nextToken === undefined ? { events } : { events, nextToken }),
    items: events.length,
  };
}

/** Starts a {@link ResilienceHubServer} on 127.0.0.1 with an ephemeral port. */
export async function startResilienceHubServer(
  options: ResilienceHubServerOptions = {},
): Promise<ResilienceHubServer> {
  let instance: ResilienceHubServer | undefined;
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
  instance = new ResilienceHubServer(server, `http://127.0.0.1:${port}`, options);
  return instance;
}
