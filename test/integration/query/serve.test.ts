/** `startServer` in process: the node:http front of the API over a folder archive. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveBanner, startServer } from '../../../bin/commands/serve';
import { LOCAL_TOKEN_KEY } from '../../../lambdas/query/next-token';
import { createLogger } from '../../../lambdas/shared/src';
import { DAY_MS, HOUR_MS } from '../../../lambdas/shared/src/time';
import { pinnedClock } from '../../helpers/clock';
import { generateEvents } from '../../support/sample-events';
import { buildArchive } from './api-fixture';

const NOW = Date.UTC(2026, 8, 1, 12);
// serve's clock (token expiry, the end of the archive): the instant the archive was built at.
const clock = pinnedClock(NOW);
const SPACE = 'serve-space';
const quiet = createLogger({ logLevel: 'CRITICAL' });
const BODY = JSON.stringify({
  startTime: new Date(NOW - DAY_MS).toISOString(),
  endTime: new Date(NOW).toISOString(),
  maxResults: 10,
});
// serve refuses a POST body of another type (fetch sends a string as text/plain).
const JSON_TYPE = { 'content-type': 'application/json' };
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'serve-'));
  await buildArchive(
    dir,
    { [SPACE]: generateEvents({ count: 100, fromMs: NOW - DAY_MS, toMs: NOW - HOUR_MS, seed: 61 }) },
    NOW,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('startServer', () => {
  it('serves on a free port, answers health and queries with a request id, and closes cleanly', async () => {
    // Prepare
    const server = await startServer({ archive: dir, port: 0, logger: quiet, clock });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // Act
    const health = await fetch(`${server.url}/`);
    const page = await fetch(`${server.url}/v1/spaces/${SPACE}/eventLogs`, {
      method: 'POST',
      headers: JSON_TYPE,
      body: BODY,
    });
    // Assess
    expect(health.status).toBe(200);
    expect(((await health.json()) as { service: string }).service).toBe('eventlog-archive');
    expect(page.status).toBe(200);
    expect(page.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    const json = (await page.json()) as { items: unknown[]; nextToken?: string };
    expect(json.items).toHaveLength(10);
    expect(json.nextToken).toEqual(expect.any(String));
    await server.close();
    await expect(fetch(`${server.url}/`)).rejects.toThrow();
  });

  it('creates the token key only when a page needs a nextToken', async () => {
    const fresh = mkdtempSync(path.join(tmpdir(), 'serve-key-'));
    try {
      await buildArchive(
        fresh,
        { [SPACE]: generateEvents({ count: 3, fromMs: NOW - DAY_MS, toMs: NOW - HOUR_MS, seed: 62 }) },
        NOW,
      );
      const server = await startServer({ archive: `file://${fresh}`, port: 0, logger: quiet, clock });
      try {
        const one = await fetch(`${server.url}/v1/spaces/${SPACE}/eventLogs`, {
          method: 'POST',
          headers: JSON_TYPE,
          body: BODY,
        });
        expect(((await one.json()) as { items: unknown[] }).items).toHaveLength(3);
        expect(existsSync(path.join(fresh, LOCAL_TOKEN_KEY))).toBe(false);
        const paged = await fetch(`${server.url}/v1/spaces/${SPACE}/eventLogs`, {
          method: 'POST',
          headers: JSON_TYPE,
          body: JSON.stringify({ ...JSON.parse(BODY), maxResults: 1 }),
        });
        expect(((await paged.json()) as { nextToken?: string }).nextToken).toBeDefined();
        expect(existsSync(path.join(fresh, LOCAL_TOKEN_KEY))).toBe(true);
      } finally {
        await server.close();
      }
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it('answers many concurrent requests, and closes while keep-alive connections are open', async () => {
    const server = await startServer({ archive: dir, port: 0, logger: quiet, clock });
    const statuses = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        fetch(`${server.url}/v1/spaces/${SPACE}/eventLogs`, {
          method: 'POST',
          headers: JSON_TYPE,
          body: JSON.stringify({ ...JSON.parse(BODY), maxResults: 1 + (i % 5) }),
        }).then((r) => r.status),
      ),
    );
    expect(new Set(statuses)).toEqual(new Set([200]));
    const started = performance.now();
    await server.close();
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('answers a body past the limit with 400 naming the body, without reading it all into memory', async () => {
    const server = await startServer({ archive: dir, port: 0, logger: quiet, clock });
    try {
      const big = Buffer.alloc(4 * 1024 * 1024, 0x61);
      const { status, type, body } = await new Promise<{ status: number; type: string; body: string }>(
        (resolve, reject) => {
          const req = request(
            `${server.url}/v1/spaces/${SPACE}/eventLogs`,
            { method: 'POST', headers: { ...JSON_TYPE, 'content-length': String(big.length) } },
            (res) => {
              let text = '';
              res.on('data', (c: Buffer) => {
                text += c.toString();
              });
              res.on('end', () =>
                resolve({
                  status: res.statusCode ?? 0,
                  type: String(res.headers['x-amzn-errortype']),
                  body: text,
                }),
              );
            },
          );
          req.on('error', reject);
          req.end(big);
        },
      );
      expect(status).toBe(400);
      expect(type).toBe('ValidationException');
      expect(JSON.parse(body).message).toBe('body: must not be larger than 65536 bytes');
    } finally {
      await server.close();
    }
  });

  it('refuses a port in use with a usage error naming the option', async () => {
    const first = await startServer({ archive: dir, port: 0, logger: quiet, clock });
    try {
      const port = Number(new URL(first.url).port);
      await expect(startServer({ archive: dir, port, logger: quiet, clock })).rejects.toThrow(
        /^--port: \d+ is in use/,
      );
    } finally {
      await first.close();
    }
  });
});

describe('serveBanner', () => {
  it('prints a curl for the last 30 days and the SDK configuration for the URL', () => {
    const banner = serveBanner('http://127.0.0.1:3000', 'demo-space', Date.UTC(2026, 0, 31, 12, 0, 0, 500));
    expect(banner).toContain(
      `curl -s -X POST 'http://127.0.0.1:3000/v1/spaces/demo-space/eventLogs' -H 'content-type: application/json' -d '{"startTime":"2026-01-01T12:00:00Z","endTime":"2026-01-31T12:00:00Z","maxResults":5}'`,
    );
    expect(banner).toContain(
      "new CodeCatalystClient({ endpoint: 'http://127.0.0.1:3000', region: 'us-east-1', token: { token: 'local' } })",
    );
    expect(banner).toMatch(/does not check authentication locally/);
  });
});
