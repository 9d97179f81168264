/**
 * `GET /v2/list-system-events` over raw HTTP through `serve` (real DuckDB engine), over an archive
 * built by the real Resilience Hub ingest (SigV4 client → the signature-verifying local
 * ListSystemEvents server → the pipeline → Parquet):
 * - paging at several page sizes returns exactly the source's events, in archive order, equal field
 *   by field (timestamps as epoch seconds, `eventMetadata` as the archived document, verbatim);
 * - every rule and error of the ListSystemEvents API reference
 *   (https://docs.aws.amazon.com/resilience-hub/v2/APIReference/API_ListSystemEvents.html) answers its
 *   status, `x-amzn-ErrorType` and extra fields
 *   (`reason`/`fieldList`, `resourceId`/`resourceType`), never a 5xx.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { coverageCommand } from '../../../bin/commands/coverage';
import { type RunningServer, startServer } from '../../../bin/commands/serve';
import { LocalStore } from '../../../lambdas/core/local-store';
import { ingestInstance } from '../../../lambdas/ingest/ingest-instance';
import { resiliencehub } from '../../../lambdas/ingest/sources/resiliencehub';
import { LIST_SYSTEM_EVENTS_PATH } from '../../../lambdas/query/list-system-events';
import { LOCAL_TOKEN_KEY, NextTokenCodec, requestBinding } from '../../../lambdas/query/next-token';
import { createLogger } from '../../../lambdas/shared/src';
import { DAY_MS, HOUR_MS } from '../../../lambdas/shared/src/time';
import { pinnedClock } from '../../helpers/clock';
import { startResilienceHubServer, TEST_CREDENTIALS } from '../../support/resiliencehub-server';
import {
  generateSystemEvents,
  metadataValue,
  RawJson,
  type SystemEventWire,
} from '../../support/sample-system-events';

const NOW = Date.UTC(2026, 10, 20, 12, 0, 0);
const ARN = 'arn:aws:resiliencehub:us-west-2:123456789012:system/checkout:abc123';
const OTHER_ARN = 'arn:aws:resiliencehub:us-west-2:123456789012:system/never-archived';
const FROM = NOW - 3 * DAY_MS;
// serve's clock (token expiry, the end of the archive) and coverage's: the instant the archive was made at.
const clock = pinnedClock(NOW);
const RANGE = { startTime: new Date(FROM).toISOString(), endTime: new Date(NOW).toISOString() };
let source: SystemEventWire[];
let dir: string;
let server: RunningServer;

/** Events with ties: copies at the same instant as an original, told apart by eventId only. */
function withTies(events: SystemEventWire[]): SystemEventWire[] {
  const ties = events
    .filter((_, i) => i % 9 === 0)
    .map((e, i) => ({ ...structuredClone(e), eventId: `tie-${String(i).padStart(4, '0')}-${e.eventId}` }));
  // structuredClone drops the RawJson class: keep the original metadata object.
  for (const [i, tie] of ties.entries()) {
    const original = events.filter((_, j) => j % 9 === 0)[i]!;
    if (original.eventDetails && tie.eventDetails)
      tie.eventDetails.eventMetadata = original.eventDetails.eventMetadata;
  }
  return [...events, ...ties];
}

beforeAll(async () => {
  const generated = generateSystemEvents({
    count: 220,
    fromMs: FROM,
    toMs: NOW - HOUR_MS,
    systemArn: ARN,
    seed: 404,
    rawShare: 0.15,
  });
  const rh = await startResilienceHubServer({
    systems: { [ARN]: withTies(generated) },
    now: () => NOW,
    region: 'us-west-2',
  });
  try {
    source = rh.events(ARN);
    dir = mkdtempSync(path.join(tmpdir(), 'rh-query-'));
    const key = TEST_CREDENTIALS[0]!;
    const client = await resiliencehub.createClient({
      env: {
        AWS_ENDPOINT_URL_RESILIENCEHUBV2: rh.url,
        AWS_ACCESS_KEY_ID: key.accessKeyId,
        AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
        ...(key.sessionToken ? { AWS_SESSION_TOKEN: key.sessionToken } : {}),
      },
    });
    const result = await ingestInstance({
      source: resiliencehub,
      instance: ARN,
      store: new LocalStore(dir),
      client,
      now: () => NOW,
      settings: { backfillDays: 5 },
    });
    if (result.status !== 'complete' || result.events !== source.length)
      throw new Error(`fixture ingest: ${result.status}, ${result.events} of ${source.length} events`);
  } finally {
    await rh.close();
  }
  server = await startServer({
    archive: dir,
    port: 0,
    logger: createLogger({ logLevel: 'CRITICAL' }),
    clock,
  });
}, 60_000);

afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type Params = Record<string, string | number | readonly string[] | undefined>;

/** `?a=1&eventTypes=X&eventTypes=Y`, RFC 3986-encoded, a list repeating its key. */
function search(params: Params): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value])
      parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(v))}`);
  }
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

interface Sent {
  status: number;
  type: string | null;
  text: string;
  json: Record<string, unknown>;
}

async function get(params: Params, rawQuery?: string, method = 'GET'): Promise<Sent> {
  const response = await fetch(`${server.url}${LIST_SYSTEM_EVENTS_PATH}${rawQuery ?? search(params)}`, {
    method,
  });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('x-amzn-errortype'),
    text,
    json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

/** Archive order: event time, then eventId. */
function inArchiveOrder(events: readonly SystemEventWire[]): SystemEventWire[] {
  return [...events].sort((a, b) =>
    a.timestamp !== b.timestamp
      ? a.timestamp - b.timestamp
      : a.eventId < b.eventId
        ? -1
        : a.eventId > b.eventId
          ? 1
          : 0,
  );
}

/** A source event as a plain JSON value (RawJson documents parsed). */
function plain(event: SystemEventWire): unknown {
  const { eventDetails, ...rest } = event;
  if (!eventDetails) return rest;
  const { eventMetadata, ...details } = eventDetails;
  return {
    ...rest,
    eventDetails: {
      ...details,
      ...(eventMetadata === undefined ? {} : { eventMetadata: metadataValue(eventMetadata) }),
    },
  };
}

async function pageAll(params: Params): Promise<{ events: Record<string, unknown>[]; texts: string[] }> {
  const events: Record<string, unknown>[] = [];
  const texts: string[] = [];
  let nextToken: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const { status, json, text } = await get({ ...params, nextToken });
    expect(status).toBe(200);
    expect(Object.keys(json).every((k) => k === 'events' || k === 'nextToken')).toBe(true);
    events.push(...(json.events as Record<string, unknown>[]));
    texts.push(text);
    nextToken = json.nextToken as string | undefined;
    if (nextToken === undefined) return { events, texts };
    expect(nextToken).toMatch(/^\S{1,2000}$/);
  }
  throw new Error('no last page');
}

describe('GET /v2/list-system-events pages through the archive exactly', () => {
  it.each([1, 7, 100])('maxResults %i: the source, in order, field by field', async (maxResults) => {
    const { events, texts } = await pageAll({ systemArn: ARN, ...RANGE, maxResults });
    const expected = inArchiveOrder(source);
    expect(events.map((e) => e.eventId)).toEqual(expected.map((e) => e.eventId));
    expect(events).toEqual(expected.map(plain));
    for (const event of events) expect(typeof event.timestamp).toBe('number');
    // Documents a JS object cannot hold reach the caller byte for byte.
    const body = texts.join('\n');
    const raws = expected.filter((e) => e.eventDetails?.eventMetadata instanceof RawJson);
    expect(raws.length).toBeGreaterThan(0);
    for (const e of raws)
      expect(body).toContain(`"eventMetadata":${(e.eventDetails!.eventMetadata as RawJson).text}`);
  });

  it('without times or maxResults: everything, 100 per page', async () => {
    const first = await get({ systemArn: ARN });
    expect(first.status).toBe(200);
    expect(first.json.events).toHaveLength(100);
    const { events } = await pageAll({ systemArn: ARN });
    expect(events.map((e) => e.eventId)).toEqual(inArchiveOrder(source).map((e) => e.eventId));
  });

  it('filters on several eventTypes (repeated parameter), paging within the filter', async () => {
    const types = ['SYSTEM_CREATED', 'SYSTEM_POLICY_ASSOCIATED', 'SYSTEM_SERVICE_DISASSOCIATED'];
    const { events } = await pageAll({ systemArn: ARN, ...RANGE, eventTypes: types, maxResults: 5 });
    const expected = inArchiveOrder(source.filter((e) => types.includes(e.eventType)));
    expect(expected.length).toBeGreaterThan(5);
    expect(events).toEqual(expected.map(plain));
    const one = await pageAll({ systemArn: ARN, ...RANGE, eventTypes: 'SYSTEM_DELETED' });
    expect(one.events.map((e) => e.eventId)).toEqual(
      inArchiveOrder(source.filter((e) => e.eventType === 'SYSTEM_DELETED')).map((e) => e.eventId),
    );
  });

  it('startTime inclusive, endTime exclusive', async () => {
    const ordered = inArchiveOrder(source);
    const pivot = ordered[50]!;
    const iso = new Date(Math.round(pivot.timestamp * 1000)).toISOString();
    const before = await pageAll({ systemArn: ARN, startTime: RANGE.startTime, endTime: iso });
    const after = await pageAll({ systemArn: ARN, startTime: iso, endTime: RANGE.endTime });
    expect(before.events.every((e) => (e.timestamp as number) < pivot.timestamp)).toBe(true);
    expect((after.events[0] as { timestamp: number }).timestamp).toBe(pivot.timestamp);
    expect(before.events.length + after.events.length).toBe(source.length);
  });

  it('equal times: an empty page', async () => {
    const { status, json } = await get({ systemArn: ARN, startTime: RANGE.endTime, endTime: RANGE.endTime });
    expect(status).toBe(200);
    expect(json).toEqual({ events: [] });
  });
});

const long = (n: number): string => 'a'.repeat(n);
const ARN_PREFIX = 'arn:aws:resiliencehub:us-west-2:123456789012:';

describe('bad requests answer 400 ValidationException with reason and fieldList', () => {
  it.each<[string, Params, string, string]>([
    ['systemArn missing', { ...RANGE }, 'systemArn', 'MISSING_REQUIRED_FIELD'],
    ['systemArn empty', { systemArn: '' }, 'systemArn', 'MISSING_REQUIRED_FIELD'],
    [
      'systemArn of 30 characters',
      { systemArn: ARN_PREFIX.slice(0, 30) },
      'systemArn',
      'INVALID_FIELD_VALUE',
    ],
    [
      'systemArn bad partition',
      { systemArn: ARN.replace('arn:aws:', 'arn:gcp:') },
      'systemArn',
      'INVALID_FIELD_VALUE',
    ],
    [
      'systemArn bad region',
      { systemArn: ARN.replace('us-west-2', 'uswest2') },
      'systemArn',
      'INVALID_FIELD_VALUE',
    ],
    [
      'systemArn bad account',
      { systemArn: ARN.replace('123456789012', '12345') },
      'systemArn',
      'INVALID_FIELD_VALUE',
    ],
    ['systemArn with a space', { systemArn: `${ARN} x` }, 'systemArn', 'INVALID_FIELD_VALUE'],
    ['systemArn twice', { systemArn: [ARN, ARN] }, 'systemArn', 'INVALID_FIELD_VALUE'],
    [
      'eventTypes unknown',
      { systemArn: ARN, eventTypes: 'SYSTEM_EXPLODED' },
      'eventTypes',
      'INVALID_FIELD_VALUE',
    ],
    [
      'eventTypes lowercase',
      { systemArn: ARN, eventTypes: 'system_created' },
      'eventTypes',
      'INVALID_FIELD_VALUE',
    ],
    ['eventTypes empty', { systemArn: ARN, eventTypes: '' }, 'eventTypes', 'INVALID_FIELD_VALUE'],
    [
      'eventTypes one bad among several',
      { systemArn: ARN, eventTypes: ['SYSTEM_CREATED', 'NOPE'] },
      'eventTypes',
      'INVALID_FIELD_VALUE',
    ],
    ['maxResults 0', { systemArn: ARN, maxResults: 0 }, 'maxResults', 'INVALID_FIELD_VALUE'],
    ['maxResults 101', { systemArn: ARN, maxResults: 101 }, 'maxResults', 'INVALID_FIELD_VALUE'],
    ['maxResults -1', { systemArn: ARN, maxResults: -1 }, 'maxResults', 'INVALID_FIELD_VALUE'],
    ['maxResults 1.5', { systemArn: ARN, maxResults: '1.5' }, 'maxResults', 'INVALID_FIELD_VALUE'],
    ['maxResults ten', { systemArn: ARN, maxResults: 'ten' }, 'maxResults', 'INVALID_FIELD_VALUE'],
    ['maxResults empty', { systemArn: ARN, maxResults: '' }, 'maxResults', 'INVALID_FIELD_VALUE'],
    ['maxResults 1e2', { systemArn: ARN, maxResults: '1e2' }, 'maxResults', 'INVALID_FIELD_VALUE'],
    ['nextToken empty', { systemArn: ARN, nextToken: '' }, 'nextToken', 'INVALID_FIELD_VALUE'],
    ['nextToken with a space', { systemArn: ARN, nextToken: 'a b' }, 'nextToken', 'INVALID_FIELD_VALUE'],
    [
      'nextToken of 2001 characters',
      { systemArn: ARN, nextToken: long(2001) },
      'nextToken',
      'INVALID_FIELD_VALUE',
    ],
    ['nextToken not ours', { systemArn: ARN, nextToken: 'abc' }, 'nextToken', 'INVALID_FIELD_VALUE'],
    ['startTime not a time', { systemArn: ARN, startTime: 'yesterday' }, 'startTime', 'INVALID_FIELD_VALUE'],
    [
      'startTime epoch seconds',
      { systemArn: ARN, startTime: '1763640000' },
      'startTime',
      'INVALID_FIELD_VALUE',
    ],
    [
      'endTime month 13',
      { systemArn: ARN, endTime: '2026-13-01T00:00:00Z' },
      'endTime',
      'INVALID_FIELD_VALUE',
    ],
    [
      'endTime before startTime',
      { systemArn: ARN, startTime: RANGE.endTime, endTime: RANGE.startTime },
      'endTime',
      'INVALID_FIELD_VALUE',
    ],
  ])('%s', async (_name, params, field, reason) => {
    const { status, type, json } = await get(params);
    expect({ status, type }).toEqual({ status: 400, type: 'ValidationException' });
    expect(json.reason).toBe(reason);
    expect(json.message).toMatch(new RegExp(`^${field}: `));
    expect(json.fieldList).toEqual([{ name: field, message: expect.any(String) }]);
    expect(Object.keys(json).sort()).toEqual(['fieldList', 'message', 'reason']);
  });

  it('contract smoke: GET /v2/list-system-events?maxResults=0 is a typed 4xx', async () => {
    const { status, type, json } = await get({}, '?maxResults=0');
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(500);
    expect(type).toBe('ValidationException');
    expect(json.fieldList).toEqual([{ name: expect.any(String), message: expect.any(String) }]);
  });

  it('a percent-encoded "+" in a system ARN is a plus sign; malformed escapes are a 400', async () => {
    const plus = await get({ systemArn: `${ARN_PREFIX}system/a+b` });
    expect(plus.status).toBe(404);
    expect(plus.json.resourceId).toBe(`${ARN_PREFIX}system/a+b`);
    const raw = await get({}, `?systemArn=${ARN_PREFIX}system/a+b`);
    expect(raw.json.resourceId).toBe(`${ARN_PREFIX}system/a+b`);
    const bad = await get({}, '?systemArn=%E0%A4%A');
    expect({ status: bad.status, type: bad.type }).toEqual({ status: 400, type: 'ValidationException' });
  });
});

describe('nextToken guarantees', () => {
  async function firstToken(params: Params = { systemArn: ARN, ...RANGE }): Promise<string> {
    const { status, json } = await get({ ...params, maxResults: 3 });
    expect(status).toBe(200);
    return json.nextToken as string;
  }

  function expectTokenError(sent: Sent, message: RegExp): void {
    expect({ status: sent.status, type: sent.type }).toEqual({ status: 400, type: 'ValidationException' });
    expect(sent.json.reason).toBe('INVALID_FIELD_VALUE');
    expect(sent.json.fieldList).toEqual([{ name: 'nextToken', message: expect.any(String) }]);
    expect(sent.json.message).toMatch(message);
  }

  it('a tampered token is refused', async () => {
    const token = await firstToken();
    const dot = token.indexOf('.');
    const payload = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString()) as { t: number };
    payload.t -= 1000;
    const forged = `${Buffer.from(JSON.stringify(payload)).toString('base64url')}${token.slice(dot)}`;
    expectTokenError(
      await get({ systemArn: ARN, ...RANGE, nextToken: forged }),
      /^nextToken: is not a token/,
    );
    const flipped = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    expectTokenError(await get({ systemArn: ARN, ...RANGE, nextToken: flipped }), /^nextToken: /);
  });

  it('a token of another request is refused; maxResults may change', async () => {
    const token = await firstToken();
    for (const params of [
      { systemArn: ARN, startTime: RANGE.startTime },
      { systemArn: ARN, ...RANGE, eventTypes: 'SYSTEM_CREATED' },
      { systemArn: ARN, ...RANGE, startTime: new Date(FROM + 1).toISOString() },
    ]) {
      expectTokenError(
        await get({ ...params, nextToken: token }),
        /^nextToken: belongs to a different request; send the same systemArn, startTime, endTime and eventTypes/,
      );
    }
    expect((await get({ systemArn: ARN, ...RANGE, maxResults: 50, nextToken: token })).status).toBe(200);
  });

  it('the same eventTypes in another order or repeated bind the same token', async () => {
    const token = await firstToken({
      systemArn: ARN,
      ...RANGE,
      eventTypes: ['SYSTEM_DELETED', 'SYSTEM_CREATED'],
    });
    const again = await get({
      systemArn: ARN,
      ...RANGE,
      eventTypes: ['SYSTEM_CREATED', 'SYSTEM_DELETED', 'SYSTEM_CREATED'],
      nextToken: token,
    });
    expect(again.status).toBe(200);
  });

  it('an expired token is refused', async () => {
    await firstToken(); // makes sure the key exists
    const key = new Uint8Array(readFileSync(path.join(dir, LOCAL_TOKEN_KEY)));
    const binding = requestBinding([
      'resiliencehub',
      ARN,
      Date.parse(RANGE.startTime),
      Date.parse(RANGE.endTime),
      [],
    ]);
    const past = new NextTokenCodec({ keys: [key], now: () => clock() - 36 * HOUR_MS });
    const stale = past.sign(binding, { time: FROM, id: 'x' });
    const fresh = new NextTokenCodec({ keys: [key], now: clock }).sign(binding, { time: FROM, id: 'x' });
    expect((await get({ systemArn: ARN, ...RANGE, nextToken: fresh })).status).toBe(200);
    expectTokenError(await get({ systemArn: ARN, ...RANGE, nextToken: stale }), /^nextToken: has expired/);
  });
});

describe('other errors', () => {
  it('a system never archived is 404 ResourceNotFoundException with resourceId and resourceType', async () => {
    const { status, type, json } = await get({ systemArn: OTHER_ARN, ...RANGE });
    expect({ status, type }).toEqual({ status: 404, type: 'ResourceNotFoundException' });
    expect(json).toEqual({
      message: expect.stringMatching(/^systemArn: /),
      resourceId: OTHER_ARN,
      resourceType: 'System',
    });
  });

  it('other methods are 405 with Allow: GET', async () => {
    const response = await fetch(`${server.url}${LIST_SYSTEM_EVENTS_PATH}?systemArn=${ARN}`, {
      method: 'POST',
    });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
    expect(response.headers.get('x-amzn-errortype')).toBe('MethodNotAllowedException');
  });

  it('injection strings and odd input never yield a 5xx', async () => {
    const odd = [
      "' OR 1=1 --",
      `${ARN_PREFIX}system/x'; DROP TABLE t; --`,
      '\u0000',
      '%00',
      long(5000),
      '../../etc/passwd',
    ];
    for (const value of odd) {
      for (const name of ['systemArn', 'eventTypes', 'startTime', 'endTime', 'maxResults', 'nextToken']) {
        const { status, type } = await get({ systemArn: ARN, [name]: value });
        expect(status, `${name}=${JSON.stringify(value.slice(0, 30))}`).toBeLessThan(500);
        expect(type).not.toBeNull();
      }
    }
  });
});

describe('coverage over the same archive', () => {
  it('reports the system by its ARN (the ledger folder is the hashed partition value)', async () => {
    const out: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    try {
      expect(await coverageCommand(['--archive', dir, '--source', 'resiliencehub', '--json'], clock)).toBe(0);
      expect(
        await coverageCommand(
          ['--archive', dir, '--system-arn', ARN, '--source', 'resiliencehub', '--json'],
          clock,
        ),
      ).toBe(0);
    } finally {
      write.mockRestore();
    }
    const [all, one] = out.map(
      (text) => JSON.parse(text) as { source: string; instance: string; events: number }[],
    );
    expect(all).toEqual([
      expect.objectContaining({ source: 'resiliencehub', instance: ARN, events: source.length }),
    ]);
    expect(one).toEqual(all);
  });
});
