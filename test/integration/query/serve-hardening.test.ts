/**
 * `serve` against a hostile browser and a hostile or careless client (security review, issue 10):
 * - DNS rebinding and cross-site requests: a Host that is not one of the server's names, an Origin
 *   that is not its own, a cross-site `Sec-Fetch-Site` and a non-JSON POST are refused in the API's
 *   error shape; loopback names, curl-like clients and the official SDK still get answers; every
 *   answer carries headers against framing, sniffing and caching.
 * - Limits: queries of clients that left are cancelled in DuckDB, a full queue answers 429
 *   ThrottlingException, a query past its deadline answers 504 and is interrupted, and a body (or
 *   headers) sent a byte at a time gets the connection closed.
 * Slow queries are real DuckDB work: the engine's `beforeQuerySql` hook runs a long `range` scan
 * before the queries of one space, which `interrupt()` stops like any query.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { type ClientRequest, type IncomingHttpHeaders, request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CodeCatalystClient, ListEventLogsCommand } from '@aws-sdk/client-codecatalyst';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RunningServer, type ServeOptions, startServer } from '../../../bin/commands/serve';
import { codecatalyst } from '../../../lambdas/ingest/sources/codecatalyst';
import { createDuckDbEngine } from '../../../lambdas/query/duckdb-engine';
import type { EventQuery } from '../../../lambdas/query/engine';
import { createLogger } from '../../../lambdas/shared/src';
import { DAY_MS, HOUR_MS } from '../../../lambdas/shared/src/time';
import { pinnedClock } from '../../helpers/clock';
import { generateEvents } from '../../support/sample-events';
import { buildArchive } from './api-fixture';

const NOW = Date.UTC(2026, 9, 1, 12);
const clock = pinnedClock(NOW);
const SPACE = 'hardened-space';
/** Queries of this space run a long scan first (see `slowEngine`). */
const SLOW_SPACE = 'slow-space';
/** Events over a week: queries of single days fill and evict the day cache. */
const WEEK_SPACE = 'week-space';
const quiet = createLogger({ logLevel: 'CRITICAL' });
const BODY = JSON.stringify({
  startTime: new Date(NOW - DAY_MS).toISOString(),
  endTime: new Date(NOW).toISOString(),
  maxResults: 5,
});
/** Minutes of work on one thread: never finishes within a test unless interrupted. */
const ENDLESS_SQL = 'SELECT sum(i % 7) FROM range(100000000000) t(i)';
const slowEngine: ServeOptions['engine'] = {
  threads: 1,
  beforeQuerySql: (query) => (query.instance === SLOW_SPACE ? ENDLESS_SQL : undefined),
};
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'serve-hardening-'));
  const events = (seed: number) =>
    generateEvents({ count: 40, fromMs: NOW - DAY_MS, toMs: NOW - HOUR_MS, seed });
  await buildArchive(
    dir,
    {
      [SPACE]: events(91),
      [SLOW_SPACE]: events(92),
      [WEEK_SPACE]: generateEvents({ count: 300, fromMs: NOW - 7 * DAY_MS, toMs: NOW - HOUR_MS, seed: 93 }),
    },
    NOW,
  );
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function withServer<T>(
  options: Partial<ServeOptions>,
  task: (server: RunningServer, port: number) => Promise<T>,
): Promise<T> {
  const server = await startServer({ archive: dir, port: 0, logger: quiet, clock, ...options });
  try {
    return await task(server, Number(new URL(server.url).port));
  } finally {
    await server.close();
  }
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/**
 * Raw HTTP to the server's address with exactly the headers given (fetch would not let a test set
 * Host or Origin): what a browser under DNS rebinding, curl or another tool sends.
 */
function send(
  server: RunningServer,
  options: { method?: string; path?: string; headers?: Record<string, string>; body?: string },
  started?: (req: ClientRequest) => void,
): Promise<Answer> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const headers = { ...options.headers };
    if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
    const req = request(
      {
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port,
        method: options.method ?? 'POST',
        path: options.path ?? `/v1/spaces/${SPACE}/eventLogs`,
        headers,
        setHost: headers.host === undefined,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    started?.(req);
    req.end(options.body);
  });
}

function expectSafetyHeaders(headers: IncomingHttpHeaders): void {
  expect(headers).toMatchObject({
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'content-security-policy': "frame-ancestors 'none'",
    'cross-origin-resource-policy': 'same-origin',
    'cache-control': 'no-store',
  });
  expect(headers['access-control-allow-origin']).toBeUndefined();
}

function expectError(answer: Answer, status: number, type: string, message: RegExp): void {
  expect(answer.status, answer.text.slice(0, 300)).toBe(status);
  expect(answer.headers['x-amzn-errortype']).toBe(type);
  expect(answer.headers['content-type']).toBe('application/json');
  const json = JSON.parse(answer.text) as Record<string, unknown>;
  expect(Object.keys(json)).toEqual(['message']);
  expect(json.message).toMatch(message);
  expectSafetyHeaders(answer.headers);
}

describe('serve against DNS rebinding and cross-site requests', () => {
  it('refuses the rebinding attack: foreign Host and Origin, text/plain body', async () => {
    await withServer({}, async (server, port) => {
      const attack = await send(server, {
        headers: {
          host: `evil.attacker.example:${port}`,
          origin: `http://evil.attacker.example:${port}`,
          'content-type': 'text/plain',
        },
        body: BODY,
      });
      expectError(
        attack,
        403,
        'AccessDeniedException',
        /^host: must be one of 127\.0\.0\.1, localhost, \[::1\]/,
      );
      expect(attack.text).not.toContain('items');
      expect(attack.headers.connection).toBe('close');
      // The same attack as a GET of the other route.
      const get = await send(server, {
        method: 'GET',
        path: '/v2/list-system-events?systemArn=x',
        headers: { host: `evil.attacker.example:${port}`, origin: `http://evil.attacker.example:${port}` },
      });
      expectError(get, 403, 'AccessDeniedException', /^host: /);
    });
  });

  it.each([
    ['another name on the port', (port: number) => `evil.attacker.example:${port}`],
    ['a loopback name on another port', (port: number) => `127.0.0.1:${port + 1}`],
    ['a loopback name as a prefix', (port: number) => `127.0.0.1.evil.attacker.example:${port}`],
    ['an empty port', () => 'localhost:'],
    ['a rebound IPv6 name', (port: number) => `[::2]:${port}`],
  ])('refuses a Host of %s', async (_, host) => {
    await withServer({}, async (server, port) => {
      const answer = await send(server, {
        headers: { host: host(port), 'content-type': 'application/json' },
        body: BODY,
      });
      expectError(answer, 403, 'AccessDeniedException', /^host: /);
    });
  });

  it('refuses a foreign Origin, a cross-site fetch and a non-JSON POST, each naming its rule', async () => {
    await withServer({}, async (server, port) => {
      const host = `127.0.0.1:${port}`;
      for (const origin of [
        `http://evil.attacker.example:${port}`,
        `http://localhost:${port + 1}`,
        `https://127.0.0.1:${port}`,
        'null',
      ]) {
        const answer = await send(server, {
          headers: { host, origin, 'content-type': 'application/json' },
          body: BODY,
        });
        expectError(answer, 403, 'AccessDeniedException', /^origin: cross-origin requests are refused/);
      }
      const noCors = await send(server, {
        method: 'GET',
        path: '/',
        headers: { host, 'sec-fetch-site': 'cross-site' },
      });
      expectError(noCors, 403, 'AccessDeniedException', /^sec-fetch-site: /);
      for (const type of [
        'text/plain',
        'text/plain;charset=UTF-8',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
      ]) {
        const answer = await send(server, { headers: { host, 'content-type': type }, body: BODY });
        expectError(answer, 415, 'UnsupportedMediaTypeException', /^content-type: must be application\/json/);
      }
      const none = await send(server, { headers: { host }, body: BODY });
      expectError(none, 415, 'UnsupportedMediaTypeException', /^content-type: .*\(got none\)$/);
    });
  });

  it('answers loopback names with and without the port, its own origin, and curl-like clients', async () => {
    await withServer({}, async (server, port) => {
      const allowed: Array<Record<string, string>> = [
        { host: `127.0.0.1:${port}` },
        { host: `localhost:${port}` },
        { host: `LOCALHOST:${port}` },
        { host: 'localhost' },
        { host: `[::1]:${port}` },
        { host: `localhost:${port}`, origin: `http://localhost:${port}`, 'sec-fetch-site': 'same-origin' },
        { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}` },
        { host: `127.0.0.1:${port}`, 'sec-fetch-site': 'none' },
      ];
      for (const headers of allowed) {
        for (const type of ['application/json', 'application/json; charset=utf-8']) {
          const answer = await send(server, { headers: { ...headers, 'content-type': type }, body: BODY });
          expect(answer.status, `${JSON.stringify(headers)} ${answer.text}`).toBe(200);
          expect((JSON.parse(answer.text) as { items: unknown[] }).items).toHaveLength(5);
          expectSafetyHeaders(answer.headers);
        }
      }
      // What the printed curl line sends, and the GET routes without a body.
      const health = await send(server, { method: 'GET', path: '/', headers: { host: `127.0.0.1:${port}` } });
      expect(health.status).toBe(200);
      expectSafetyHeaders(health.headers);
      const system = await send(server, {
        method: 'GET',
        path: '/v2/list-system-events?systemArn=arn%3Aaws%3Aresiliencehub%3Aus-west-2%3A123456789012%3Asystem%2Fnone',
        headers: { host: `localhost:${port}` },
      });
      expect(system.status).toBe(404);
      expectSafetyHeaders(system.headers);
    });
  });

  it('answers the official AWS SDK client', async () => {
    await withServer({}, async (server) => {
      const client = new CodeCatalystClient({
        endpoint: server.url,
        region: 'us-east-1',
        token: { token: 'local' },
      });
      try {
        const page = await client.send(
          new ListEventLogsCommand({
            spaceName: SPACE,
            startTime: new Date(NOW - DAY_MS),
            endTime: new Date(NOW),
            maxResults: 3,
          }),
        );
        expect(page.items).toHaveLength(3);
        expect(page.nextToken).toEqual(expect.any(String));
      } finally {
        client.destroy();
      }
    });
  });

  it('answers [::1] when it listens there', async (context) => {
    let server: RunningServer;
    try {
      server = await startServer({ archive: dir, port: 0, host: '::1', logger: quiet, clock });
    } catch {
      context.skip('no IPv6 loopback on this machine');
      return;
    }
    try {
      const port = Number(new URL(server.url).port);
      expect(server.url).toBe(`http://[::1]:${port}`);
      const answer = await send(server, {
        headers: {
          host: `[::1]:${port}`,
          origin: `http://[::1]:${port}`,
          'content-type': 'application/json',
        },
        body: BODY,
      });
      expect(answer.status, answer.text).toBe(200);
      const attack = await send(server, {
        headers: { host: `evil.attacker.example:${port}`, 'content-type': 'application/json' },
        body: BODY,
      });
      expectError(attack, 403, 'AccessDeniedException', /^host: /);
    } finally {
      await server.close();
    }
  });
});

describe('serve limits', () => {
  /** Starts a query of the slow space; `req` is the client's side, to abandon it. */
  const slowQuery = (server: RunningServer) => {
    let req: ClientRequest | undefined;
    const answer = send(
      server,
      {
        path: `/v1/spaces/${SLOW_SPACE}/eventLogs`,
        headers: { 'content-type': 'application/json' },
        body: BODY,
      },
      (r) => {
        req = r;
      },
    );
    answer.catch(() => undefined);
    return { answer, abandon: () => req?.destroy() };
  };

  it('cancels the queries of clients that left: waiting ones leave the queue, the running one is interrupted', async () => {
    await withServer({ engine: slowEngine, limits: { connections: 1, maxWaiting: 50 } }, async (server) => {
      const queries = Array.from({ length: 20 }, () => slowQuery(server));
      await vi.waitFor(() => expect(server.activity()).toMatchObject({ running: 1, waiting: 19 }), {
        timeout: 20_000,
        interval: 20,
      });
      for (const query of queries) query.abandon();
      await vi.waitFor(() => expect(server.activity()).toMatchObject({ running: 0, waiting: 0 }), {
        timeout: 20_000,
        interval: 20,
      });
      expect(server.activity().cancelled).toBe(20);
      expect(server.activity().interrupted).toBeGreaterThanOrEqual(1);
      // The one connection is free again and still works.
      const next = await send(server, { headers: { 'content-type': 'application/json' }, body: BODY });
      expect(next.status, next.text).toBe(200);
      expect((JSON.parse(next.text) as { items: unknown[] }).items).toHaveLength(5);
    });
  }, 60_000);

  it('answers 429 ThrottlingException when the queue is full', async () => {
    await withServer({ engine: slowEngine, limits: { connections: 1, maxWaiting: 2 } }, async (server) => {
      const queries = Array.from({ length: 3 }, () => slowQuery(server));
      await vi.waitFor(() => expect(server.activity()).toMatchObject({ running: 1, waiting: 2 }), {
        timeout: 20_000,
        interval: 20,
      });
      const refused = await send(server, { headers: { 'content-type': 'application/json' }, body: BODY });
      expectError(refused, 429, 'ThrottlingException', /^Too many queries: 1 running and 2 waiting; retry/);
      expect(server.activity().throttled).toBe(1);
      for (const query of queries) query.abandon();
    });
  }, 60_000);

  it('answers 504 InternalServerException to a query past its deadline, and interrupts it', async () => {
    await withServer({ engine: slowEngine, limits: { queryTimeoutMs: 300 } }, async (server) => {
      const answer = await slowQuery(server).answer;
      expectError(answer, 504, 'InternalServerException', /^The query did not finish within 300 ms/);
      await vi.waitFor(() => expect(server.activity()).toMatchObject({ running: 0, interrupted: 1 }), {
        timeout: 20_000,
        interval: 20,
      });
      // Queries that finish in time are not affected.
      const fast = await send(server, { headers: { 'content-type': 'application/json' }, body: BODY });
      expect(fast.status).toBe(200);
    });
  }, 60_000);

  /**
   * Opens a raw connection, sends `head` then `drip` a byte every 50 ms, and resolves with what
   * the server sent once it closes the connection, or `undefined` if it is still open after
   * `giveUpMs` (a generous bound: the deadline under test is a fraction of it).
   */
  const drip = (server: RunningServer, head: string, dripText: string, giveUpMs: number) =>
    new Promise<{ received: string; ms: number } | undefined>((resolve, reject) => {
      const url = new URL(server.url);
      const socket = connect(Number(url.port), url.hostname);
      const started = performance.now();
      let received = '';
      let sent = 0;
      const ticker = setInterval(() => {
        if (sent < dripText.length && !socket.destroyed) socket.write(dripText[sent++]!);
      }, 50);
      const giveUp = setTimeout(() => {
        clearInterval(ticker);
        socket.destroy();
        resolve(undefined);
      }, giveUpMs);
      socket.on('data', (c: Buffer) => {
        received += c.toString('utf8');
      });
      socket.on('error', (err: NodeJS.ErrnoException) => {
        // A reset after the answer still closes the connection; anything else is a failure.
        if (err.code !== 'ECONNRESET') reject(err);
      });
      socket.on('close', () => {
        clearInterval(ticker);
        clearTimeout(giveUp);
        resolve({ received, ms: performance.now() - started });
      });
      socket.write(head);
    });

  it('closes the connection of a body sent a byte at a time, answering 408 RequestTimeoutException', async () => {
    await withServer({ limits: { bodyTimeoutMs: 300 } }, async (server, port) => {
      const body = `${BODY}${' '.repeat(400)}`;
      const head =
        `POST /v1/spaces/${SPACE}/eventLogs HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
      // The whole body would take about 30 s at this pace.
      const closed = await drip(server, head, body, 15_000);
      expect(closed, 'the connection was still open after 15 s').toBeDefined();
      expect(closed!.received).toMatch(/^HTTP\/1\.1 408 /);
      expect(closed!.received).toMatch(/x-amzn-ErrorType: RequestTimeoutException/i);
      expect(closed!.received).toContain('body: not received within 300 ms');
    });
  }, 30_000);

  it('closes the connection of headers sent a byte at a time', async () => {
    await withServer({ limits: { headersTimeoutMs: 500 } }, async (server, port) => {
      const headers = `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: ${'a'.repeat(600)}\r\n\r\n`;
      const closed = await drip(server, '', headers, 15_000);
      expect(closed, 'the connection was still open after 15 s').toBeDefined();
      // Node answers 408 itself (or just closes, if the check falls between two bytes).
      expect(closed!.received).not.toMatch(/^HTTP\/1\.1 200/);
    });
  }, 30_000);
});

describe('DuckDB connection pool', () => {
  it('answers concurrent queries on two connections exactly as one connection does, while days are cached and evicted', async () => {
    // A budget of one byte: every cached day is evicted by the next, unless a running query reads it.
    // A little DuckDB work between planning a query and running it widens the window in which the
    // other connection's query could drop a day this one is about to read.
    const pooled = await createDuckDbEngine(dir, {
      connections: 2,
      cacheBytes: 1,
      threads: 1,
      beforeQuerySql: () => 'SELECT sum(i % 7) FROM range(3000000) t(i)',
    });
    const reference = await createDuckDbEngine(dir, { connections: 1, cacheBytes: 0 });
    try {
      const day0 = Math.floor(NOW / DAY_MS) * DAY_MS - 7 * DAY_MS;
      const queries: EventQuery[] = [];
      for (let round = 0; round < 4; round++)
        for (let d = 0; d < 8; d++)
          queries.push({
            source: codecatalyst,
            instance: WEEK_SPACE,
            start: day0 + d * DAY_MS,
            end: day0 + (d + 1 + (round % 2)) * DAY_MS,
            limit: 500,
          });
      const expected = await Promise.all(queries.map((q) => reference.listEvents(q)));
      const got = await Promise.all(queries.map((q) => pooled.listEvents(q)));
      got.forEach((answer, i) => {
        expect(answer.records).toStrictEqual(expected[i]!.records);
      });
      expect(expected.some((answer) => answer.records.length > 0)).toBe(true);
      expect(pooled.activity()).toMatchObject({ running: 0, waiting: 0, cancelled: 0, throttled: 0 });
      // Within budget but for the days the last caching query and the other connection's held.
      expect((await pooled.cacheInfo()).days).toBeLessThanOrEqual(4);
    } finally {
      await pooled.close();
      await reference.close();
    }
  }, 60_000);
});
