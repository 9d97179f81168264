/**
 * A small local Amazon CodeCatalyst `ListEventLogs` endpoint for the demo (`npm start`) and the
 * benchmark: the official `@aws-sdk/client-codecatalyst` client pages through it as it would
 * through the service (https://docs.aws.amazon.com/codecatalyst/latest/APIReference/API_ListEventLogs.html).
 *
 * ```ts
 * const server = await startListEventLogsServer({ spaces: { 'demo-space': events }, tokens: ['t'] });
 * const client = new CodeCatalystClient({ region: 'us-east-1', endpoint: server.url, token: { token: 't' } });
 * ```
 *
 * - `POST /v1/spaces/{spaceName}/eventLogs` with a bearer token; body `startTime`, `endTime`
 *   (RFC 3339, required), `eventName`, `maxResults` (1–250, default 50), `nextToken`.
 * - Answers `{ items, nextToken }` with the events of `startTime <= eventTime < endTime`, in time
 *   order; `nextToken` is opaque and good only for the request that got it.
 * - Events older than `now() - retentionMs` (default 30 days, what the API guarantees) are gone.
 * - Errors carry `x-amzn-ErrorType` and `{ message }`: ValidationException 400,
 *   AccessDeniedException 403 (token), ResourceNotFoundException 404 (space), and 404
 *   UnknownOperationException for any other route.
 * - Each event is serialised once, when the server starts; a page copies those bytes, so a page
 *   costs a binary search and a copy (fast enough for the benchmark's million events).
 *
 * No fault injection: the tests' stand-in (test/support/codecatalyst-server.ts) does that.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ApiError,
  checkIntRange,
  checkLength,
  checkSpaceName,
  DAY_MS,
  isApiError,
  parseRfc3339,
} from '@eventlog-archive/shared';
import type { EventLogEntryWire } from './codecatalyst-events';

export interface ListEventLogsServerOptions {
  /** The events of each space (any order). */
  spaces: Record<string, readonly EventLogEntryWire[]>;
  /** Accepted bearer tokens. */
  tokens: readonly string[];
  /** Delay before every response (ms), so that a demo shows progress. Default 0. */
  latencyMs?: number;
  /** The clock (retention). Default `Date.now`. */
  now?: () => number;
  /** How long events stay listed. Default 30 days. */
  retentionMs?: number;
  /** Interface to listen on. Default 127.0.0.1 (with an ephemeral port). */
  host?: string;
}

/** Counters since the start or {@link ListEventLogsServer.resetStats}. */
export interface ListEventLogsServerStats {
  requests: number;
  /** 200 responses. */
  pages: number;
  /** Events in those pages. */
  items: number;
  maxInFlight: number;
  byStatus: Record<string, number>;
}

export interface ListEventLogsServer {
  /** Base URL for the client's `endpoint`, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly stats: ListEventLogsServerStats;
  resetStats(): void;
  close(): Promise<void>;
}

export const DEFAULT_MAX_RESULTS = 50;
const ROUTE = /^\/v1\/spaces\/([^/?]*)\/eventLogs(?:\?.*)?$/;
const MAX_BODY = 64 * 1024;
/** Events serialised into one Buffer (thousands of small Buffers cost more than the JSON). */
const CHUNK_EVENTS = 4096;

/** A space's events in (time, id) order, each one's JSON kept as bytes. */
interface SpaceLog {
  times: Float64Array;
  ids: string[];
  names: string[];
  chunks: Buffer[];
  /** Event i is `chunks[i / CHUNK_EVENTS]` from `starts[i]` to `ends[i]`. */
  starts: Uint32Array;
  ends: Uint32Array;
}

function spaceLog(events: readonly EventLogEntryWire[]): SpaceLog {
  const keyed = events.map((event) => {
    const time = Date.parse(event.eventTime);
    if (typeof event.id !== 'string' || Number.isNaN(time)) {
      throw new TypeError(`event ${String(event.id)}: needs a string id and an RFC 3339 eventTime`);
    }
    return { event, time };
  });
  keyed.sort((a, b) => a.time - b.time || (a.event.id < b.event.id ? -1 : a.event.id > b.event.id ? 1 : 0));
  const log: SpaceLog = {
    times: Float64Array.from(keyed, (k) => k.time),
    ids: keyed.map((k) => k.event.id),
    names: keyed.map((k) => k.event.eventName),
    chunks: [],
    starts: new Uint32Array(keyed.length),
    ends: new Uint32Array(keyed.length),
  };
  for (let from = 0; from < keyed.length; from += CHUNK_EVENTS) {
    const texts = keyed.slice(from, from + CHUNK_EVENTS).map((k) => JSON.stringify(k.event));
    let offset = 0;
    for (const [j, text] of texts.entries()) {
      log.starts[from + j] = offset;
      offset += Buffer.byteLength(text);
      log.ends[from + j] = offset;
    }
    log.chunks.push(Buffer.from(texts.join('')));
  }
  return log;
}

/** First index whose (time, id) is after (time, id) — or at it when `inclusive`. */
function seek(log: SpaceLog, time: number, id: string, inclusive: boolean): number {
  let lo = 0;
  let hi = log.times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const t = log.times[mid]!;
    const before = t < time || (t === time && (inclusive ? log.ids[mid]! < id : log.ids[mid]! <= id));
    if (before) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface Cursor {
  /** Fingerprint of the request fields the token is bound to. */
  f: string;
  /** Time and id of the last event returned. */
  t: number;
  i: string;
}

/** Starts the server on an ephemeral port. */
export async function startListEventLogsServer(
  options: ListEventLogsServerOptions,
): Promise<ListEventLogsServer> {
  const logs = new Map(Object.entries(options.spaces).map(([space, events]) => [space, spaceLog(events)]));
  const tokens = new Set(options.tokens);
  const now = options.now ?? Date.now;
  const retentionMs = options.retentionMs ?? 30 * DAY_MS;
  const latencyMs = options.latencyMs ?? 0;
  const key = randomBytes(32);
  const timers = new Set<NodeJS.Timeout>();
  let inFlight = 0;
  const stats: ListEventLogsServerStats = { requests: 0, pages: 0, items: 0, maxInFlight: 0, byStatus: {} };

  const sign = (cursor: Cursor): string => {
    const body = Buffer.from(JSON.stringify(cursor)).toString('base64url');
    return `${body}.${createHmac('sha256', key).update(body).digest('base64url').slice(0, 22)}`;
  };
  const unsign = (token: string): Cursor => {
    const [body = '', mac = ''] = token.split('.');
    const expected = createHmac('sha256', key).update(body).digest('base64url').slice(0, 22);
    if (mac.length !== expected.length || !timingSafeEqual(Buffer.from(mac), Buffer.from(expected))) {
      throw new ApiError('ValidationException', 'nextToken: is not a token issued by this service');
    }
    return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Cursor;
  };

  function listEventLogs(req: IncomingMessage, body: string): Buffer {
    const route = ROUTE.exec(req.url ?? '');
    if (!route || req.method !== 'POST') throw new UnknownOperation(`${req.method} ${req.url}`);
    const auth = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!auth || !tokens.has(auth[1]!)) {
      throw new ApiError('AccessDeniedException', 'authorization: a valid bearer token is required');
    }
    let spaceName: string;
    try {
      spaceName = checkSpaceName(decodeURIComponent(route[1]!));
    } catch (err) {
      if (isApiError(err)) throw err;
      throw new ApiError('ValidationException', 'spaceName: is not valid percent-encoding');
    }
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(body || '{}') as Record<string, unknown>;
    } catch {
      throw new ApiError('ValidationException', 'body: must be a JSON object');
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw new ApiError('ValidationException', 'body: must be a JSON object');
    }
    const startMs = parseRfc3339(input.startTime, 'startTime');
    const endMs = parseRfc3339(input.endTime, 'endTime');
    if (endMs < startMs) throw new ApiError('ValidationException', 'endTime: must not be before startTime');
    const eventName =
      input.eventName === undefined || input.eventName === null
        ? undefined
        : checkLength(input.eventName, 'eventName', 1, 1024);
    const maxResults = checkIntRange(input.maxResults ?? DEFAULT_MAX_RESULTS, 'maxResults', 1, 250);
    const nextToken =
      input.nextToken === undefined || input.nextToken === null
        ? undefined
        : checkLength(input.nextToken, 'nextToken', 1, 10000);

    const log = logs.get(spaceName);
    if (!log) throw new ApiError('ResourceNotFoundException', `spaceName: space ${spaceName} was not found`);
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([spaceName, startMs, endMs, eventName ?? null]))
      .digest('base64url')
      .slice(0, 16);
    const cursor = nextToken === undefined ? undefined : unsign(nextToken);
    if (cursor && cursor.f !== fingerprint) {
      throw new ApiError(
        'ValidationException',
        'nextToken: belongs to a different request (spaceName, startTime, endTime and eventName must not change)',
      );
    }

    const from = Math.max(startMs, now() - retentionMs);
    let i = cursor ? seek(log, cursor.t, cursor.i, false) : seek(log, from, '', true);
    if (i < log.times.length && log.times[i]! < from) i = seek(log, from, '', true);
    const end = seek(log, endMs, '', true);
    const page: number[] = [];
    for (; i < end && page.length < maxResults; i++) {
      if (eventName === undefined || log.names[i] === eventName) page.push(i);
    }
    if (eventName !== undefined) while (i < end && log.names[i] !== eventName) i++;
    const last = page.at(-1);
    const next =
      last !== undefined && i < end
        ? sign({ f: fingerprint, t: log.times[last]!, i: log.ids[last]! })
        : undefined;
    stats.items += page.length;
    return pageBytes(log, page, next);
  }

  function respond(req: IncomingMessage, res: ServerResponse, body: string): void {
    let status = 200;
    let headers: Record<string, string> = { 'content-type': 'application/json' };
    let bytes: Buffer;
    try {
      bytes = listEventLogs(req, body);
      stats.pages++;
    } catch (err) {
      const [type, code, message] =
        err instanceof UnknownOperation
          ? ['UnknownOperationException', 404, `${err.message}: no such operation`]
          : isApiError(err)
            ? [err.errorType, err.statusCode, err.message]
            : ['InternalServerException', 500, `unexpected: ${String(err)}`];
      status = code;
      headers = { ...headers, 'x-amzn-errortype': type };
      bytes = Buffer.from(JSON.stringify({ message }));
    }
    stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
    res.writeHead(status, {
      ...headers,
      'content-length': String(bytes.length),
      'x-amzn-requestid': randomBytes(16).toString('hex'),
    });
    res.end(bytes);
  }

  const server: Server = createServer((req, res) => {
    stats.requests++;
    inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
    res.on('close', () => inFlight--);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on('end', () => {
      const body = size > MAX_BODY ? '\u0000' : Buffer.concat(chunks).toString('utf8');
      if (latencyMs <= 0) return respond(req, res, body);
      const timer = setTimeout(() => {
        timers.delete(timer);
        respond(req, res, body);
      }, latencyMs);
      timers.add(timer);
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  let closed = false;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    stats,
    resetStats() {
      Object.assign(stats, { requests: 0, pages: 0, items: 0, maxInFlight: inFlight, byStatus: {} });
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await done;
    },
  };
}

class UnknownOperation extends Error {}

const PAGE_START = Buffer.from('{"items":[');

/** The bytes of `JSON.stringify({ items, nextToken })`, copied from the events' cached JSON. */
function pageBytes(log: SpaceLog, page: readonly number[], nextToken: string | undefined): Buffer {
  const end = Buffer.from(nextToken === undefined ? ']}' : `],"nextToken":${JSON.stringify(nextToken)}}`);
  let size = PAGE_START.length + Math.max(0, page.length - 1) + end.length;
  for (const i of page) size += log.ends[i]! - log.starts[i]!;
  const out = Buffer.allocUnsafe(size);
  let at = PAGE_START.copy(out, 0);
  for (const [k, i] of page.entries()) {
    if (k > 0) out[at++] = 0x2c; // ,
    at += log.chunks[Math.floor(i / CHUNK_EVENTS)]!.copy(out, at, log.starts[i]!, log.ends[i]!);
  }
  end.copy(out, at);
  return out;
}
