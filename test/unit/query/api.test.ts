/**
 * The HTTP API router over an in-memory engine: routing, ListEventLogs validation per its API reference
 * (https://docs.aws.amazon.com/codecatalyst/latest/APIReference/API_ListEventLogs.html), paging,
 * filters, tokens and error mapping. The wire with the official SDK and the real DuckDB engine is
 * tested in test/integration/query.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { ArchiveRecord } from '../../../lambdas/core/records';
import { codecatalystDefinition } from '../../../lambdas/core/sources/codecatalyst/definition';
import { codecatalyst } from '../../../lambdas/ingest/sources/codecatalyst';
import { type ApiDeps, type ApiRequest, handleApiRequest, MAX_BODY_BYTES } from '../../../lambdas/query/api';
import { DEFAULT_MAX_RESULTS, parseListEventLogs } from '../../../lambdas/query/list-event-logs';
import { NextTokenCodec } from '../../../lambdas/query/next-token';
import { ApiError } from '../../../lambdas/shared/src';
import { record } from '../ingest/fake-source';
import { MemoryEngine, memoryCatalog } from './api-memory-engine';

const NOW = Date.UTC(2026, 4, 10, 12);
const HOUR = 3_600_000;
const SPACE = 'acme-corp';
const KEY = new Uint8Array(Buffer.from('unit-test-token-key-0123456789ab'));
const RANGE = { startTime: '2026-05-01T00:00:00Z', endTime: '2026-05-10T00:00:00Z' };

let engine: MemoryEngine;
let deps: ApiDeps;
let now: number;

/** 60 events, two per hour-ish, with time ties, two users, a project on every third, errors on every fifth. */
function sampleRecords(): ArchiveRecord[] {
  const out: ArchiveRecord[] = [];
  for (let i = 0; i < 60; i++) {
    const time = Date.UTC(2026, 4, 2) + Math.floor(i / 2) * HOUR; // pairs share a time: ties broken by id
    out.push(
      record(`evt-${String(59 - i).padStart(3, '0')}`, time, {
        eventName: i % 4 === 0 ? 'createProject' : 'listEventLogs',
        userIdentity: {
          userType: 'USER',
          principalId: `p-${i % 2}`,
          userName: i % 2 === 0 ? 'MaryMajor' : 'JohnDoe',
          awsAccountId: null,
        },
        projectInformation: i % 3 === 0 ? { name: 'proj-a', projectId: 'pid-a' } : null,
        operationType: i % 4 === 0 ? 'MUTATION' : 'READONLY',
        eventSource: i % 6 === 0 ? 'sourcecode' : 'manage',
        errorCode: i % 5 === 0 ? 'AccessDeniedException' : null,
      }),
    );
  }
  return out;
}

function post(body: unknown, space = SPACE): ApiRequest {
  return {
    method: 'POST',
    path: `/v1/spaces/${space}/eventLogs`,
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  };
}

interface Reply {
  items: Array<Record<string, unknown> & { id: string; eventTime: string }>;
  nextToken?: string;
  message: string;
  service?: string;
}

async function call(
  request: ApiRequest,
): Promise<{ status: number; headers: Record<string, string>; json: Reply }> {
  const response = await handleApiRequest(request, deps);
  return { status: response.statusCode, headers: response.headers, json: JSON.parse(response.body) as Reply };
}

/** Pages to the end; returns the ids in the order received. */
async function pageAll(body: Record<string, unknown>): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const { status, json } = await call(post({ ...body, ...(nextToken ? { nextToken } : {}) }));
    expect(status).toBe(200);
    ids.push(...json.items.map((item: { id: string }) => item.id));
    nextToken = json.nextToken;
    pages++;
  } while (nextToken && pages < 1000);
  return { ids, pages };
}

function expectedIds(filter: (r: ArchiveRecord) => boolean = () => true): string[] {
  return sampleRecords()
    .filter(filter)
    .sort(
      (a, b) =>
        (a.eventTime as Date).getTime() - (b.eventTime as Date).getTime() ||
        (String(a.id) < String(b.id) ? -1 : 1),
    )
    .map((r) => String(r.id));
}

beforeEach(() => {
  now = NOW;
  engine = new MemoryEngine();
  engine.add(SPACE, sampleRecords());
  deps = {
    engine,
    catalog: memoryCatalog([SPACE, 'empty-space']),
    tokens: new NextTokenCodec({ keys: [KEY], now: () => now }),
    now: () => now,
  };
});

describe('POST /v1/spaces/{spaceName}/eventLogs', () => {
  it('returns items in the wire form with content-type application/json and no nextToken on the last page', async () => {
    const { status, headers, json } = await call(post({ ...RANGE, maxResults: 250 }));
    expect(status).toBe(200);
    expect(headers['content-type']).toBe('application/json');
    expect(json.nextToken).toBeUndefined();
    expect(json.items).toHaveLength(60);
    const first = json.items[0]!;
    // Absent fields are omitted, timestamps are RFC 3339, nested structs stay nested.
    expect(first).not.toHaveProperty('responsePayload');
    expect(first.eventTime).toBe('2026-05-02T00:00:00.000Z');
    // Two events share the first time: the smaller id comes first.
    expect(first.id).toBe('evt-058');
    expect(first.userIdentity).toEqual({ userType: 'USER', principalId: 'p-1', userName: 'JohnDoe' });
    expect(Object.keys(first)[0]).toBe('id');
  });

  it.each([1, 7, 50, 250])(
    'pages with maxResults %i in event-time-then-id order, none repeated or skipped',
    async (maxResults) => {
      const { ids, pages } = await pageAll({ ...RANGE, maxResults });
      expect(ids).toEqual(expectedIds());
      expect(pages).toBe(Math.max(1, Math.ceil(60 / maxResults)));
    },
  );

  it(`uses ${DEFAULT_MAX_RESULTS} results when maxResults is absent or null`, async () => {
    expect((await call(post(RANGE))).json.items).toHaveLength(DEFAULT_MAX_RESULTS);
    expect((await call(post({ ...RANGE, maxResults: null }))).json.items).toHaveLength(DEFAULT_MAX_RESULTS);
  });

  it('asks the engine for one more than a page and no nextToken when exactly a page remains', async () => {
    const { json } = await call(post({ ...RANGE, maxResults: 60 }));
    expect(json.items).toHaveLength(60);
    expect(json.nextToken).toBeUndefined();
    expect(engine.queries.at(-1)?.limit).toBe(61);
  });

  it('lets maxResults change between pages (the token binds the request, not the page size)', async () => {
    const first = await call(post({ ...RANGE, maxResults: 7 }));
    const second = await call(post({ ...RANGE, maxResults: 250, nextToken: first.json.nextToken }));
    expect([...first.json.items, ...second.json.items].map((i: { id: string }) => i.id)).toEqual(
      expectedIds(),
    );
  });

  it('treats endTime as exclusive and startTime as inclusive', async () => {
    const { json } = await call(
      post({ startTime: '2026-05-02T01:00:00Z', endTime: '2026-05-02T02:00:00Z', maxResults: 250 }),
    );
    expect(json.items.map((i: { eventTime: string }) => i.eventTime)).toEqual([
      '2026-05-02T01:00:00.000Z',
      '2026-05-02T01:00:00.000Z',
    ]);
  });

  it('accepts the forms of RFC 3339 the API reference shows (full-date, offsets, fractions)', async () => {
    const { json } = await call(
      post({ startTime: '2026-05-02', endTime: '2026-05-02T03:00:00.000+01:00', maxResults: 250 }),
    );
    expect(json.items).toHaveLength(4);
  });

  it.each([
    ['eventName', 'createProject', (r: ArchiveRecord) => r.eventName === 'createProject'],
    [
      'userName',
      'JohnDoe',
      (r: ArchiveRecord) => (r.userIdentity as { userName: string }).userName === 'JohnDoe',
    ],
    [
      'projectName',
      'proj-a',
      (r: ArchiveRecord) => (r.projectInformation as { name: string } | null)?.name === 'proj-a',
    ],
    ['operationType', 'MUTATION', (r: ArchiveRecord) => r.operationType === 'MUTATION'],
    ['eventSource', 'sourcecode', (r: ArchiveRecord) => r.eventSource === 'sourcecode'],
    ['errorCode', 'AccessDeniedException', (r: ArchiveRecord) => r.errorCode === 'AccessDeniedException'],
  ])('filters by %s across pages', async (field, value, predicate) => {
    const { ids } = await pageAll({ ...RANGE, maxResults: 3, [field]: value });
    expect(ids).toEqual(expectedIds(predicate));
    expect(ids.length).toBeGreaterThan(0);
  });

  it('combines filters (all must hold) and maps them to the engine fields', async () => {
    const { ids } = await pageAll({
      ...RANGE,
      eventName: 'createProject',
      userName: 'MaryMajor',
      projectName: 'proj-a',
    });
    expect(ids).toEqual(
      expectedIds(
        (r) =>
          r.eventName === 'createProject' &&
          (r.userIdentity as { userName: string }).userName === 'MaryMajor' &&
          (r.projectInformation as { name: string } | null)?.name === 'proj-a',
      ),
    );
    expect(engine.queries.at(-1)?.equals).toEqual({
      eventName: 'createProject',
      'userIdentity.userName': 'MaryMajor',
      'projectInformation.name': 'proj-a',
    });
  });

  it('ignores unknown body fields and treats null optional fields as absent', async () => {
    const { status, json } = await call(
      post({ ...RANGE, maxResults: 250, someFutureField: { x: 1 }, eventName: null, userName: null }),
    );
    expect(status).toBe(200);
    expect(json.items).toHaveLength(60);
  });

  it('returns an empty page for a space archived without events in range, and for an empty string eventName', async () => {
    expect((await call(post(RANGE, 'empty-space'))).json).toEqual({ items: [] });
    expect((await call(post({ ...RANGE, eventName: '' }))).json).toEqual({ items: [] });
  });

  it('never asks the engine for times before 1970 or beyond a day from now', async () => {
    await call(post({ startTime: '1000-01-01T00:00:00Z', endTime: '9999-12-31T23:59:59Z' }));
    const query = engine.queries.at(-1)!;
    expect(query.start).toBe(0);
    expect(query.end).toBe(NOW + 24 * HOUR);
    engine.queries.length = 0;
    const { json } = await call(post({ startTime: '2030-01-01T00:00:00Z', endTime: '2031-01-01T00:00:00Z' }));
    expect(json).toEqual({ items: [] });
    expect(engine.queries).toHaveLength(0);
  });

  it('decodes a percent-encoded space name once', async () => {
    const { status, json } = await call({
      ...post({ ...RANGE, maxResults: 1 }),
      path: '/v1/spaces/acme%2Dcorp/eventLogs',
    });
    expect(status).toBe(200);
    expect(json.items).toHaveLength(1);
  });

  it('passes the source the ingest archived with (its client-free definition)', async () => {
    await call(post(RANGE));
    const source = engine.queries.at(-1)!.source;
    expect(source).toBe(codecatalystDefinition);
    const { createClient: _a, ...ingestSide } = codecatalyst;
    expect(ingestSide).toEqual(codecatalystDefinition);
    expect('createClient' in source).toBe(false);
  });
});

describe('nextToken', () => {
  async function firstToken(body: Record<string, unknown> = RANGE): Promise<string> {
    const { json } = await call(post({ ...body, maxResults: 5 }));
    expect(json.nextToken).toEqual(expect.any(String));
    return json.nextToken!;
  }

  it.each([
    ['another space', { ...RANGE }, 'empty-space'],
    ['another startTime', { ...RANGE, startTime: '2026-05-01T00:00:01Z' }, SPACE],
    ['another endTime', { ...RANGE, endTime: '2026-05-09T00:00:00Z' }, SPACE],
    ['an added eventName', { ...RANGE, eventName: 'createProject' }, SPACE],
    ['an added filter', { ...RANGE, userName: 'JohnDoe' }, SPACE],
  ])('is refused when reused with %s', async (_label, body, space) => {
    const token = await firstToken();
    const { status, headers, json } = await call(post({ ...body, nextToken: token }, space));
    expect(status).toBe(400);
    expect(headers['x-amzn-ErrorType']).toBe('ValidationException');
    expect(json.message).toMatch(/^nextToken: belongs to a different request/);
  });

  it('binds parsed times: the same instant written differently is the same request', async () => {
    const token = await firstToken();
    const { status } = await call(
      post({ startTime: '2026-05-01T00:00:00.000Z', endTime: '2026-05-10T02:00:00+02:00', nextToken: token }),
    );
    expect(status).toBe(200);
  });

  it('is refused when tampered with, and when expired', async () => {
    const token = await firstToken();
    const tampered = `${token.slice(0, 10)}${token[10] === 'A' ? 'B' : 'A'}${token.slice(11)}`;
    const bad = await call(post({ ...RANGE, nextToken: tampered }));
    expect(bad.status).toBe(400);
    expect(bad.json.message).toMatch(/^nextToken: (is not a token issued|is malformed)/);
    now += 25 * HOUR;
    const expired = await call(post({ ...RANGE, nextToken: token }));
    expect(expired.status).toBe(400);
    expect(expired.json.message).toBe('nextToken: has expired; repeat the request without nextToken');
  });
});

describe('validation (ListEventLogs API reference)', () => {
  const long = (n: number): string => 'a'.repeat(n);
  it.each([
    ['spaceName too short', post(RANGE, 'ab'), /^spaceName: must be 3 to 63 characters/],
    ['spaceName too long', post(RANGE, long(64)), /^spaceName: must be 3 to 63 characters/],
    ['spaceName empty', post(RANGE, ''), /^spaceName: must be 3 to 63 characters/],
    ['spaceName with a space', post(RANGE, 'my%20space'), /^spaceName: must match the pattern/],
    ['spaceName with an encoded slash', post(RANGE, 'acme%2Fcorp'), /^spaceName: must match the pattern/],
    ['spaceName leading dash', post(RANGE, '-acme'), /^spaceName: must match the pattern/],
    ['spaceName double dot', post(RANGE, 'acme..corp'), /^spaceName: must match the pattern/],
    ['spaceName bad percent-encoding', post(RANGE, 'acme%zz'), /^spaceName: is not valid percent-encoding/],
    ['spaceName SQL', post(RANGE, "x'%20OR%201=1--"), /^spaceName: must match the pattern/],
    ['startTime missing', post({ endTime: RANGE.endTime }), /^startTime: is required/],
    ['startTime null', post({ ...RANGE, startTime: null }), /^startTime: is required/],
    [
      'startTime a number',
      post({ ...RANGE, startTime: 1714521600 }),
      /^startTime: is required and must be an RFC 3339/,
    ],
    [
      'startTime not RFC 3339',
      post({ ...RANGE, startTime: '05/01/2026' }),
      /^startTime: must be an RFC 3339 timestamp/,
    ],
    [
      'startTime no zone',
      post({ ...RANGE, startTime: '2026-05-01T00:00:00' }),
      /^startTime: must be an RFC 3339/,
    ],
    [
      'startTime Feb 30',
      post({ ...RANGE, startTime: '2026-02-30T00:00:00Z' }),
      /^startTime: is not a valid date/,
    ],
    [
      'startTime SQL',
      post({ ...RANGE, startTime: "2026-05-01' OR '1'='1" }),
      /^startTime: must be an RFC 3339/,
    ],
    ['endTime missing', post({ startTime: RANGE.startTime }), /^endTime: is required/],
    ['endTime invalid', post({ ...RANGE, endTime: 'tomorrow' }), /^endTime: must be an RFC 3339/],
    [
      'endTime before startTime',
      post({ startTime: RANGE.endTime, endTime: RANGE.startTime }),
      /^endTime: must be later than startTime/,
    ],
    [
      'endTime equal to startTime',
      post({ startTime: RANGE.startTime, endTime: RANGE.startTime }),
      /^endTime: must be later than startTime/,
    ],
    ['maxResults 0', post({ ...RANGE, maxResults: 0 }), /^maxResults: must be an integer from 1 to 250$/],
    ['maxResults 251', post({ ...RANGE, maxResults: 251 }), /^maxResults: must be an integer from 1 to 250$/],
    ['maxResults 1.5', post({ ...RANGE, maxResults: 1.5 }), /^maxResults: must be an integer from 1 to 250$/],
    ['maxResults "7"', post({ ...RANGE, maxResults: '7' }), /^maxResults: must be an integer from 1 to 250$/],
    ['maxResults -1', post({ ...RANGE, maxResults: -1 }), /^maxResults: must be an integer from 1 to 250$/],
    [
      'maxResults 1e400',
      post(`{"startTime":"${RANGE.startTime}","endTime":"${RANGE.endTime}","maxResults":1e400}`),
      /^maxResults: must be an integer/,
    ],
    [
      'nextToken empty',
      post({ ...RANGE, nextToken: '' }),
      /^nextToken: must be 1 to 10000 characters long \(got 0\)$/,
    ],
    [
      'nextToken 10001 chars',
      post({ ...RANGE, nextToken: long(10_001) }),
      /^nextToken: must be 1 to 10000 characters long/,
    ],
    ['nextToken a number', post({ ...RANGE, nextToken: 5 }), /^nextToken: must be a string/],
    ['nextToken garbage', post({ ...RANGE, nextToken: "' OR 1=1 --" }), /^nextToken: is malformed/],
    ['eventName a number', post({ ...RANGE, eventName: 5 }), /^eventName: must be a string/],
    ['userName empty', post({ ...RANGE, userName: '' }), /^userName: must be 1 to 256 characters long/],
    [
      'projectName too long',
      post({ ...RANGE, projectName: long(257) }),
      /^projectName: must be 1 to 256 characters long/,
    ],
    [
      'operationType an object',
      post({ ...RANGE, operationType: { $ne: 1 } }),
      /^operationType: must be a string/,
    ],
    ['eventSource an array', post({ ...RANGE, eventSource: ['a'] }), /^eventSource: must be a string/],
    ['errorCode a boolean', post({ ...RANGE, errorCode: true }), /^errorCode: must be a string/],
    ['invalid JSON', post('{"startTime":'), /^body: is not valid JSON$/],
    ['an array body', post('[1,2]'), /^body: must be a JSON object$/],
    ['a string body', post('"hello"'), /^body: must be a JSON object$/],
    ['a null body', post('null'), /^body: must be a JSON object$/],
    ['no body', { ...post(RANGE), body: undefined }, /^startTime: is required/],
    [
      'a huge body',
      post({ ...RANGE, pad: long(MAX_BODY_BYTES) }),
      /^body: must not be larger than 65536 bytes$/,
    ],
    [
      'a body flagged too large by the server',
      { ...post(RANGE), bodyTooLarge: true },
      /^body: must not be larger/,
    ],
  ])('answers 400 ValidationException naming the field for %s', async (_label, request, message) => {
    const { status, headers, json } = await call(request);
    expect(status).toBe(400);
    expect(headers['x-amzn-ErrorType']).toBe('ValidationException');
    expect(headers['content-type']).toBe('application/json');
    expect(Object.keys(json)).toEqual(['message']);
    expect(json.message).toMatch(message);
  });

  it('answers 404 ResourceNotFoundException for a space never archived, after validating the body', async () => {
    const missing = await call(post(RANGE, 'never-archived'));
    expect(missing.status).toBe(404);
    expect(missing.headers['x-amzn-ErrorType']).toBe('ResourceNotFoundException');
    expect(missing.json.message).toMatch(/^spaceName: the space never-archived has never been archived/);
    const invalid = await call(post({ ...RANGE, maxResults: 0 }, 'never-archived'));
    expect(invalid.status).toBe(400);
  });

  it('returns zero rows, not an error or more rows, for injection strings in every filter', async () => {
    for (const field of [
      'eventName',
      'userName',
      'projectName',
      'operationType',
      'eventSource',
      'errorCode',
    ]) {
      for (const value of ["' OR '1'='1", '%', '*', "x'); DROP TABLE events; --", '\\', 'MaryMajor\u0000']) {
        const { status, json } = await call(post({ ...RANGE, [field]: value }));
        expect({ field, value, status, items: json.items?.length }).toEqual({
          field,
          value,
          status: 200,
          items: 0,
        });
      }
    }
  });

  it('parses exactly as the handler does (parseListEventLogs is the one validator)', () => {
    expect(parseListEventLogs('acme', { ...RANGE, maxResults: 9, userName: 'u' })).toEqual({
      spaceName: 'acme',
      startTime: Date.UTC(2026, 4, 1),
      endTime: Date.UTC(2026, 4, 10),
      maxResults: 9,
      filters: { userName: 'u' },
    });
  });
});

describe('routing', () => {
  it('answers GET / with a JSON description (health)', async () => {
    const { status, json } = await call({ method: 'GET', path: '/', body: undefined });
    expect(status).toBe(200);
    expect(json.service).toBe('eventlog-archive');
  });

  it.each([
    ['GET', '/v1/spaces/acme-corp/eventLogs', 405, 'MethodNotAllowedException'],
    ['PUT', '/v1/spaces/acme-corp/eventLogs', 405, 'MethodNotAllowedException'],
    ['POST', '/', 405, 'MethodNotAllowedException'],
    ['POST', '/v1/spaces/acme-corp/eventLogs/', 404, 'UnknownOperationException'],
    ['POST', '/v1/spaces/acme/corp/eventLogs', 404, 'UnknownOperationException'],
    ['POST', '/v1/spaces/acme-corp/projects', 404, 'UnknownOperationException'],
    ['GET', '/../../etc/passwd', 404, 'UnknownOperationException'],
    ['POST', `/${'x'.repeat(5000)}`, 404, 'UnknownOperationException'],
  ])('answers %s %.40s with %i %s', async (method, path, statusCode, type) => {
    const { status, headers, json } = await call({ method, path, body: '{}' });
    expect(status).toBe(statusCode);
    expect(headers['x-amzn-ErrorType']).toBe(type);
    expect(headers['content-type']).toBe('application/json');
    expect(typeof json.message).toBe('string');
    expect(json.message.length).toBeLessThan(400);
    if (statusCode === 405) expect(headers.allow).toMatch(/^(GET|POST)$/);
  });

  it('ignores a query string on the path', async () => {
    const { status } = await call({ ...post(RANGE), path: `/v1/spaces/${SPACE}/eventLogs?x=1` });
    expect(status).toBe(200);
  });
});

describe('errors from below', () => {
  it('maps an unexpected engine error to a 500 without internals and logs it', async () => {
    const logged: unknown[] = [];
    deps.logger = { error: (...args: unknown[]) => logged.push(args), info: () => undefined } as never;
    engine.failNext = new Error('SELECT * FROM secret_table failed at /srv/internal/path');
    const { status, headers, json } = await call(post(RANGE));
    expect(status).toBe(500);
    expect(headers['x-amzn-ErrorType']).toBe('InternalServerException');
    expect(JSON.stringify(json)).not.toMatch(/secret_table|\/srv|stack|at /);
    expect(JSON.stringify(logged)).toContain('secret_table');
  });

  it('does not pass through a raw AWS error that happens to have an error name of the API reference', async () => {
    engine.failNext = Object.assign(new Error('Workgroup wg-internal is not found'), {
      name: 'ResourceNotFoundException',
      $metadata: { httpStatusCode: 400 },
    });
    const { status, json } = await call(post(RANGE));
    expect(status).toBe(500);
    expect(json.message).not.toContain('wg-internal');
  });

  it("passes through the engine's own API errors and maps raw throttling to 429", async () => {
    engine.failNext = new ApiError(
      'ServiceQuotaExceededException',
      'the query would scan more than the cutoff',
    );
    expect((await call(post(RANGE))).status).toBe(402);
    engine.failNext = Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' });
    const throttled = await call(post(RANGE));
    expect(throttled.status).toBe(429);
    expect(throttled.headers['x-amzn-ErrorType']).toBe('ThrottlingException');
  });

  it('answers 500 when a dependency cannot be set up (keys, catalog), without saying why', async () => {
    deps.tokens = () =>
      Promise.reject(
        Object.assign(new Error('secret arn:aws:… missing'), { name: 'ResourceNotFoundException' }),
      );
    const keys = await call(post(RANGE));
    expect(keys.status).toBe(500);
    expect(keys.json.message).not.toContain('arn:');
    deps.catalog = { hasInstance: () => Promise.reject(new Error('ENOENT /data/_ledger')) };
    deps.tokens = new NextTokenCodec({ keys: [KEY], now: () => now });
    expect((await call(post(RANGE))).status).toBe(500);
  });
});
