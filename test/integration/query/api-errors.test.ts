/**
 * Error conformance over the wire: every rule of the ListEventLogs API reference
 * (https://docs.aws.amazon.com/codecatalyst/latest/APIReference/API_ListEventLogs.html), nextToken
 * abuse, injection strings, huge and malformed bodies, unknown routes and methods, sent as raw HTTP
 * to `serve` (real DuckDB engine): the exact status, `x-amzn-ErrorType` and a message naming the
 * field. None yields a 5xx.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../../bin/commands/serve';
import { EXTRA_FILTERS } from '../../../lambdas/query/list-event-logs';
import { LOCAL_TOKEN_KEY, NextTokenCodec, requestBinding } from '../../../lambdas/query/next-token';
import { createLogger } from '../../../lambdas/shared/src';
import { DAY_MS, HOUR_MS } from '../../../lambdas/shared/src/time';
import { pinnedClock } from '../../helpers/clock';
import { generateEvents, mulberry32 } from '../../support/sample-events';
import { buildArchive } from './api-fixture';

const NOW = Date.UTC(2026, 6, 1, 12);
// serve's clock (token expiry, the end of the archive): the instant the archive was built at.
const clock = pinnedClock(NOW);
const SPACE = 'acme-corp';
const RANGE = { startTime: new Date(NOW - 2 * DAY_MS).toISOString(), endTime: new Date(NOW).toISOString() };
let dir: string;
let server: RunningServer;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'query-errors-'));
  await buildArchive(
    dir,
    { [SPACE]: generateEvents({ count: 300, fromMs: NOW - 2 * DAY_MS, toMs: NOW - HOUR_MS, seed: 41 }) },
    NOW,
  );
  server = await startServer({
    archive: dir,
    port: 0,
    logger: createLogger({ logLevel: 'CRITICAL' }),
    clock,
  });
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Sent {
  status: number;
  type: string | null;
  contentType: string | null;
  json: Record<string, unknown>;
}

async function send(
  body: unknown,
  options: { space?: string; method?: string; path?: string; raw?: boolean } = {},
): Promise<Sent> {
  const target = options.path ?? `/v1/spaces/${options.space ?? SPACE}/eventLogs`;
  const method = options.method ?? 'POST';
  const response = await fetch(`${server.url}${target}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(method === 'GET' || method === 'HEAD' || body === undefined
      ? {}
      : { body: options.raw ? (body as string) : JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('x-amzn-errortype'),
    contentType: response.headers.get('content-type'),
    json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

async function firstToken(body: Record<string, unknown> = RANGE): Promise<string> {
  const { status, json } = await send({ ...body, maxResults: 2 });
  expect(status).toBe(200);
  return json.nextToken as string;
}

const long = (n: number): string => 'a'.repeat(n);

describe('bad requests answer 400 ValidationException naming the field', () => {
  it.each<[string, unknown, { space?: string; raw?: boolean }, RegExp]>([
    ['spaceName of 2 characters', RANGE, { space: 'ab' }, /^spaceName: must be 3 to 63 characters/],
    ['spaceName of 64 characters', RANGE, { space: long(64) }, /^spaceName: must be 3 to 63 characters/],
    [
      'spaceName with a percent-encoded slash',
      RANGE,
      { space: 'acme%2Fcorp' },
      /^spaceName: must match the pattern/,
    ],
    [
      'spaceName with a percent-encoded space',
      RANGE,
      { space: 'acme%20corp' },
      /^spaceName: must match the pattern/,
    ],
    [
      'spaceName with a percent-encoded quote',
      RANGE,
      { space: 'acme%27%20OR%201%3D1' },
      /^spaceName: must match the pattern/,
    ],
    ['spaceName ending in a dot', RANGE, { space: 'acme.' }, /^spaceName: must match the pattern/],
    [
      'spaceName with broken percent-encoding',
      RANGE,
      { space: 'acme%E0%A4%A' },
      /^spaceName: is not valid percent-encoding/,
    ],
    ['startTime missing', { endTime: RANGE.endTime }, {}, /^startTime: is required/],
    [
      'startTime invalid',
      { ...RANGE, startTime: 'yesterday' },
      {},
      /^startTime: must be an RFC 3339 timestamp/,
    ],
    [
      'startTime SQL',
      { ...RANGE, startTime: "2026-01-01' OR 1=1 --" },
      {},
      /^startTime: must be an RFC 3339/,
    ],
    [
      'startTime month 13',
      { ...RANGE, startTime: '2026-13-01T00:00:00Z' },
      {},
      /^startTime: is not a valid date/,
    ],
    ['endTime missing', { startTime: RANGE.startTime }, {}, /^endTime: is required/],
    ['endTime invalid', { ...RANGE, endTime: '2026-07-01T25:00:00Z' }, {}, /^endTime: is not a valid date/],
    ['endTime SQL', { ...RANGE, endTime: "'; DROP TABLE x; --" }, {}, /^endTime: must be an RFC 3339/],
    [
      'endTime before startTime',
      { startTime: RANGE.endTime, endTime: RANGE.startTime },
      {},
      /^endTime: must be later than startTime$/,
    ],
    ['maxResults 0', { ...RANGE, maxResults: 0 }, {}, /^maxResults: must be an integer from 1 to 250$/],
    ['maxResults 251', { ...RANGE, maxResults: 251 }, {}, /^maxResults: must be an integer from 1 to 250$/],
    ['maxResults 1.5', { ...RANGE, maxResults: 1.5 }, {}, /^maxResults: must be an integer from 1 to 250$/],
    ['maxResults "7"', { ...RANGE, maxResults: '7' }, {}, /^maxResults: must be an integer from 1 to 250$/],
    ['maxResults SQL', { ...RANGE, maxResults: '1; DROP TABLE x' }, {}, /^maxResults: must be an integer/],
    ['nextToken empty', { ...RANGE, nextToken: '' }, {}, /^nextToken: must be 1 to 10000 characters long/],
    [
      'nextToken of 10001 characters',
      { ...RANGE, nextToken: long(10_001) },
      {},
      /^nextToken: must be 1 to 10000 characters long/,
    ],
    [
      'nextToken of 10000 characters of garbage',
      { ...RANGE, nextToken: long(10_000) },
      {},
      /^nextToken: is malformed/,
    ],
    ['nextToken SQL', { ...RANGE, nextToken: "x' OR '1'='1" }, {}, /^nextToken: is malformed/],
    ['eventName not a string', { ...RANGE, eventName: ['x'] }, {}, /^eventName: must be a string$/],
    [
      'userName too long',
      { ...RANGE, userName: long(257) },
      {},
      /^userName: must be 1 to 256 characters long/,
    ],
    ['errorCode empty', { ...RANGE, errorCode: '' }, {}, /^errorCode: must be 1 to 256 characters long/],
    ['invalid JSON', '{"startTime": "2026-', { raw: true }, /^body: is not valid JSON$/],
    [
      'an array body',
      '[{"startTime":"2026-01-01T00:00:00Z"}]',
      { raw: true },
      /^body: must be a JSON object$/,
    ],
    ['a number body', '42', { raw: true }, /^body: must be a JSON object$/],
    ['a 1 MiB body', { ...RANGE, pad: long(1024 * 1024) }, {}, /^body: must not be larger than 65536 bytes$/],
  ])('%s', async (_label, body, options, message) => {
    const { status, type, contentType, json } = await send(body, options);
    expect({ status, type, contentType }).toEqual({
      status: 400,
      type: 'ValidationException',
      contentType: 'application/json',
    });
    expect(json.message).toMatch(message);
  });
});

describe('nextToken over the wire', () => {
  it('is refused when tampered with', async () => {
    const token = await firstToken();
    const [body, mac] = token.split('.') as [string, string];
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
    const moved = Buffer.from(JSON.stringify({ ...payload, t: 0, i: '' })).toString('base64url');
    const { status, type, json } = await send({ ...RANGE, nextToken: `${moved}.${mac}` });
    expect({ status, type }).toEqual({ status: 400, type: 'ValidationException' });
    expect(json.message).toMatch(/^nextToken: is not a token issued by this archive/);
  });

  it("is refused for another request's listing, and when reused with other filters", async () => {
    const token = await firstToken();
    for (const body of [
      { ...RANGE, startTime: new Date(NOW - DAY_MS).toISOString() },
      { ...RANGE, eventName: 'createProject' },
      { ...RANGE, userName: 'user1' },
      { ...RANGE, errorCode: 'AccessDeniedException' },
    ]) {
      const { status, json } = await send({ ...body, nextToken: token });
      expect(status).toBe(400);
      expect(json.message).toMatch(/^nextToken: belongs to a different request/);
    }
  });

  it('is refused once expired, with a message that says to start again', async () => {
    // A token this archive's key signed a day and a half ago for exactly this request.
    const key = new Uint8Array(readFileSync(path.join(dir, LOCAL_TOKEN_KEY)));
    const past = new NextTokenCodec({ keys: [key], now: () => clock() - 36 * HOUR_MS });
    const binding = requestBinding([
      'codecatalyst',
      SPACE,
      Date.parse(RANGE.startTime),
      Date.parse(RANGE.endTime),
      undefined,
      {},
    ]);
    const stale = past.sign(binding, { time: NOW - DAY_MS, id: 'x' });
    const fresh = new NextTokenCodec({ keys: [key], now: clock }).sign(binding, {
      time: NOW - DAY_MS,
      id: 'x',
    });
    expect((await send({ ...RANGE, nextToken: fresh })).status).toBe(200);
    const { status, type, json } = await send({ ...RANGE, nextToken: stale });
    expect({ status, type }).toEqual({ status: 400, type: 'ValidationException' });
    expect(json.message).toBe('nextToken: has expired; repeat the request without nextToken');
  });
});

describe('other errors', () => {
  it('answers 404 ResourceNotFoundException for a space never archived', async () => {
    const { status, type, json } = await send(RANGE, { space: 'never-archived' });
    expect({ status, type }).toEqual({ status: 404, type: 'ResourceNotFoundException' });
    expect(json.message).toMatch(/^spaceName: /);
  });

  it.each([
    ['GET', '/v1/spaces/acme-corp/eventLogs', 405, 'MethodNotAllowedException'],
    ['DELETE', '/v1/spaces/acme-corp/eventLogs', 405, 'MethodNotAllowedException'],
    ['POST', '/v1/spaces/acme-corp/events', 404, 'UnknownOperationException'],
    ['POST', '/v2/list-system-events', 405, 'MethodNotAllowedException'],
    ['POST', '/v2/list-system-events/x', 404, 'UnknownOperationException'],
    ['GET', '/favicon.ico', 404, 'UnknownOperationException'],
  ])('answers %s %s with %i %s', async (method, target, status, type) => {
    const sent = await send(method === 'GET' ? undefined : RANGE, { method, path: target });
    expect({ status: sent.status, type: sent.type, contentType: sent.contentType }).toEqual({
      status,
      type,
      contentType: 'application/json',
    });
    expect(typeof sent.json.message).toBe('string');
  });

  it('answers GET / with 200 and a JSON description', async () => {
    const sent = await send(undefined, { method: 'GET', path: '/' });
    expect(sent.status).toBe(200);
    expect(sent.json.service).toBe('eventlog-archive');
  });
});

describe('injection strings', () => {
  const INJECTIONS = [
    "' OR '1'='1",
    "x' UNION SELECT * FROM read_parquet('/etc/passwd') --",
    "'); COPY (SELECT 1) TO '/tmp/pwned.csv'; --",
    '%',
    '_',
    '*',
    '\\',
    '$1',
    '?',
    "user1' --",
  ];

  it('in every filter return zero rows, not an error or more rows', async () => {
    for (const field of ['eventName', ...Object.keys(EXTRA_FILTERS)]) {
      for (const value of INJECTIONS) {
        const { status, json } = await send({ ...RANGE, maxResults: 250, [field]: value });
        expect({ field, value, status, items: (json.items as unknown[] | undefined)?.length }).toEqual({
          field,
          value,
          status: 200,
          items: 0,
        });
      }
    }
  });

  it('in the path, the times and the token are refused as invalid', async () => {
    for (const value of INJECTIONS) {
      for (const sent of [
        await send(RANGE, { space: encodeURIComponent(value) }),
        await send({ ...RANGE, startTime: value }),
        await send({ ...RANGE, endTime: value }),
        await send({ ...RANGE, nextToken: value }),
      ]) {
        expect(sent.status).toBe(400);
        expect(sent.type).toBe('ValidationException');
      }
    }
  });
});

describe('no input yields a 5xx', () => {
  it('survives 300 random bodies of random shapes', async () => {
    const random = mulberry32(2024);
    const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
    const values: unknown[] = [
      null,
      true,
      0,
      -1,
      1.5,
      1e308,
      '',
      'x',
      '2026-06-30T00:00:00Z',
      '2026-06-30',
      '9999-12-31T23:59:59Z',
      '0000-01-01T00:00:00Z',
      '2026-06-30T00:00:00.123456789+14:00',
      [],
      {},
      { nested: [1, { a: null }] },
      "'; --",
      '\u0000',
      '\ud800',
      long(300),
    ];
    const fields = [
      'startTime',
      'endTime',
      'maxResults',
      'nextToken',
      'eventName',
      ...Object.keys(EXTRA_FILTERS),
      '__proto__',
      'constructor',
    ];
    const statuses = new Map<number, number>();
    for (let i = 0; i < 300; i++) {
      const body: Record<string, unknown> = {};
      for (const field of fields) if (random() < 0.6) body[field] = pick(values);
      if (random() < 0.5) Object.assign(body, RANGE);
      const { status } = await send(body);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      expect(status).toBeLessThan(500);
    }
    expect(statuses.get(400)).toBeGreaterThan(0);
  });
});
