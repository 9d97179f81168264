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
 *
 * Parts: list-event-logs/request.ts (parse and validate, `nextToken`), list-event-logs/space-log.ts
 * (the serialised events, the page), this file (HTTP: body, latency, respond, stats).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError, DAY_MS } from '@eventlog-archive/shared';
import type { EventLogEntryWire } from './codecatalyst/wire';
import { CursorSigner, errorReply, fingerprint, parseListEventLogs } from './list-event-logs/request';
import { pageBytes, type SpaceLog, selectPage, spaceLog } from './list-event-logs/space-log';

export { DEFAULT_MAX_RESULTS } from './list-event-logs/request';

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

const MAX_BODY = 64 * 1024;

/** A running server's state. */
interface State {
  logs: Map<string, SpaceLog>;
  tokens: Set<string>;
  now: () => number;
  retentionMs: number;
  latencyMs: number;
  signer: CursorSigner;
  timers: Set<NodeJS.Timeout>;
  inFlight: number;
  pagePool: PagePool;
  stats: ListEventLogsServerStats;
}

/** Starts the server on an ephemeral port. */
export async function startListEventLogsServer(
  options: ListEventLogsServerOptions,
): Promise<ListEventLogsServer> {
  const state: State = {
    logs: new Map(Object.entries(options.spaces).map(([space, events]) => [space, spaceLog(events)])),
    tokens: new Set(options.tokens),
    now: options.now ?? Date.now,
    retentionMs: options.retentionMs ?? 30 * DAY_MS,
    latencyMs: options.latencyMs ?? 0,
    signer: new CursorSigner(),
    timers: new Set(),
    inFlight: 0,
    pagePool: new PagePool(),
    stats: { requests: 0, pages: 0, items: 0, maxInFlight: 0, byStatus: {} },
  };
  const server: Server = createServer((req, res) => receive(state, req, res));
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  let closed = false;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    stats: state.stats,
    resetStats() {
      Object.assign(state.stats, {
        requests: 0,
        pages: 0,
        items: 0,
        maxInFlight: state.inFlight,
        byStatus: {},
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const timer of state.timers) clearTimeout(timer);
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await done;
    },
  };
}

/** Counts the request, reads its body (a body over MAX_BODY reads as invalid JSON), responds after the latency. */
function receive(state: State, req: IncomingMessage, res: ServerResponse): void {
  const { stats } = state;
  stats.requests++;
  state.inFlight++;
  stats.maxInFlight = Math.max(stats.maxInFlight, state.inFlight);
  res.on('close', () => state.inFlight--);
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_BODY) chunks.push(chunk);
  });
  req.on('end', () => {
    const body = size > MAX_BODY ? '\u0000' : Buffer.concat(chunks).toString('utf8');
    if (state.latencyMs <= 0) return respond(state, req, res, body);
    const timer = setTimeout(() => {
      state.timers.delete(timer);
      respond(state, req, res, body);
    }, state.latencyMs);
    state.timers.add(timer);
  });
}

/** A page of the space's events (`startTime <= eventTime < endTime`, not expired), as response bytes. */
function listEventLogs(
  state: State,
  req: IncomingMessage,
  body: string,
  allocate: (size: number) => Buffer,
): Buffer {
  const input = parseListEventLogs(req, body, state.tokens);
  const log = state.logs.get(input.spaceName);
  if (!log)
    throw new ApiError('ResourceNotFoundException', `spaceName: space ${input.spaceName} was not found`);
  const f = fingerprint(input);
  const after = input.nextToken === undefined ? undefined : state.signer.unsign(input.nextToken, f);
  const fromMs = Math.max(input.startMs, state.now() - state.retentionMs);
  const { endMs, eventName, maxResults } = input;
  const { page, more } = selectPage(log, { fromMs, endMs, eventName, maxResults, after });
  const last = page.at(-1);
  const next =
    last !== undefined && more ? state.signer.sign({ f, t: log.times[last]!, i: log.ids[last]! }) : undefined;
  state.stats.items += page.length;
  return pageBytes(log, page, next, allocate);
}

function respond(state: State, req: IncomingMessage, res: ServerResponse, body: string): void {
  let status = 200;
  let headers: Record<string, string> = { 'content-type': 'application/json' };
  let bytes: Buffer;
  let pooled: Buffer | undefined;
  try {
    bytes = listEventLogs(state, req, body, (size) => {
      pooled = state.pagePool.take(size);
      return pooled;
    });
    state.stats.pages++;
  } catch (err) {
    const [type, code, message] = errorReply(err);
    status = code;
    headers = { ...headers, 'x-amzn-errortype': type };
    bytes = Buffer.from(JSON.stringify({ message }));
    if (pooled) state.pagePool.release(pooled);
    pooled = undefined;
  }
  state.stats.byStatus[status] = (state.stats.byStatus[status] ?? 0) + 1;
  res.writeHead(status, {
    ...headers,
    'content-length': String(bytes.length),
    // randomUUID draws entropy in batches: randomBytes per response cost ~0.3 ms here (a syscall each).
    'x-amzn-requestid': randomUUID(),
  });
  res.end(bytes);
  // The page's buffer is reused once the socket has written it (`finish`), never before.
  const reusable = pooled;
  if (reusable) res.once('finish', () => state.pagePool.release(reusable));
}

/**
 * Page buffers reused across responses. A fresh ~300 KB buffer per page cost the server more than
 * building the page: glibc maps and unmaps memory that large on every allocation, and V8 counts it
 * as external memory that triggers full collections of the whole event log (bench/: ~3 ms of server
 * CPU per page at 1M events, enough to make the server the bench's bottleneck).
 */
class PagePool {
  readonly #free: Buffer[] = [];

  take(size: number): Buffer {
    const i = this.#free.findIndex((b) => b.length >= size);
    if (i >= 0) return this.#free.splice(i, 1)[0]!;
    return Buffer.allocUnsafeSlow(Math.max(size, PAGE_BUFFER_BYTES));
  }

  release(buffer: Buffer): void {
    if (this.#free.length < MAX_POOLED_PAGES) this.#free.push(buffer);
  }
}

/** The least size of a pooled page buffer (a full page of demo events is ~250 KB), and how many are kept. */
const PAGE_BUFFER_BYTES = 512 * 1024;
const MAX_POOLED_PAGES = 64;
