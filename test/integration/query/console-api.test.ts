/**
 * The console's endpoints of `serve` (`/console/api/…`, docs/console-api.md) over raw HTTP, with
 * the real DuckDB engine, over an archive built by the real ingest of both sources:
 * - the histogram counts exactly what paging the list route with the same filters returns, in
 *   total, per series and per bucket, with dense UTC-aligned buckets for ranges off the boundaries;
 * - every bad parameter is a 4xx naming it; never a 5xx;
 * - coverage reports a window removed from the ledger as missing, day by day and hour by hour;
 * - verify streams its progress and the reports of `verify --json`, finds a changed data file, and
 *   stops quietly when the client leaves.
 */
import { createHash, createPublicKey } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RunningServer, startServer } from '../../../bin/commands/serve';
import { createLogger } from '../../../lambdas/shared/src';
import { DAY_MS, floorTo, HOUR_MS, MINUTE_MS, utcDay } from '../../../lambdas/shared/src/time';
import { pinnedClock } from '../../helpers/clock';
import { runCli } from '../../helpers/run-process';
import { generateEvents } from '../../support/sample-events';
import { generateSystemEvents } from '../../support/sample-system-events';
import { buildArchive, buildSystemArchive } from './api-fixture';

// Noon: the days before today are final and sealed, today's data is an unsealed note.
const NOW = Date.UTC(2026, 8, 10, 12);
const clock = pinnedClock(NOW);
const SPACE = 'console-space';
const ARN = 'arn:aws:resiliencehub:us-west-2:123456789012:system/console-checkout';
const MIDNIGHT = floorTo(NOW, DAY_MS);
const FROM = NOW - 10 * DAY_MS;
const iso = (ms: number): string => new Date(ms).toISOString();
const quiet = createLogger({ logLevel: 'CRITICAL' });

let work: string;
let dir: string;
let server: RunningServer;
let ccEvents: ReturnType<typeof generateEvents>;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'console-api-'));
  dir = path.join(work, 'archive');
  ccEvents = generateEvents({ count: 900, fromMs: FROM, toMs: NOW - HOUR_MS, seed: 77 });
  await buildArchive(dir, { [SPACE]: ccEvents }, NOW);
  await buildSystemArchive(
    dir,
    {
      [ARN]: generateSystemEvents({
        count: 260,
        fromMs: FROM,
        toMs: NOW - HOUR_MS,
        systemArn: ARN,
        seed: 78,
      }),
    },
    NOW,
  );
  server = await startServer({ archive: dir, port: 0, logger: quiet, clock });
}, 120_000);

afterAll(async () => {
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

type Params = Record<string, string | readonly string[] | undefined>;

function search(params: Params): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    for (const v of value === undefined ? [] : typeof value === 'string' ? [value] : value)
      query.append(key, v);
  const text = query.toString();
  return text ? `?${text}` : '';
}

interface Answer<T> {
  status: number;
  type: string | null;
  json: T;
}

async function get<T = Record<string, unknown>>(
  endpoint: string,
  params: Params = {},
  on: RunningServer = server,
  method = 'GET',
): Promise<Answer<T>> {
  const response = await fetch(`${on.url}/console/api/${endpoint}${search(params)}`, { method });
  return {
    status: response.status,
    type: response.headers.get('x-amzn-errortype'),
    json: (await response.json()) as T,
  };
}

type Series = 'read' | 'write' | 'failed';
interface Counted {
  time: number;
  series: Series;
}

/** Every CodeCatalyst event of the list route for the filters, paged to the end. */
async function listEventLogs(startTime: number, endTime: number, filters: Record<string, string>) {
  const out: Counted[] = [];
  let nextToken: string | undefined;
  do {
    const response = await fetch(`${server.url}/v1/spaces/${SPACE}/eventLogs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        startTime: iso(startTime),
        endTime: iso(endTime),
        maxResults: 250,
        ...filters,
        nextToken,
      }),
    });
    expect(response.status).toBe(200);
    const page = (await response.json()) as {
      items: { eventTime: string; errorCode?: string; operationType?: string }[];
      nextToken?: string;
    };
    for (const item of page.items)
      out.push({
        time: Date.parse(item.eventTime),
        series: item.errorCode ? 'failed' : item.operationType === 'READONLY' ? 'read' : 'write',
      });
    nextToken = page.nextToken;
  } while (nextToken);
  return out;
}

/** Every system event of the list route for the types, paged to the end: all writes. */
async function listSystemEvents(startTime: number, endTime: number, eventTypes: readonly string[]) {
  const out: Counted[] = [];
  let nextToken: string | undefined;
  do {
    const params = {
      systemArn: ARN,
      startTime: iso(startTime),
      endTime: iso(endTime),
      eventTypes,
      nextToken,
    };
    const response = await fetch(`${server.url}/v2/list-system-events${search(params)}`);
    expect(response.status).toBe(200);
    const page = (await response.json()) as { events: { timestamp: number }[]; nextToken?: string };
    for (const event of page.events) out.push({ time: Math.round(event.timestamp * 1000), series: 'write' });
    nextToken = page.nextToken;
  } while (nextToken);
  return out;
}

interface HistogramJson {
  source: string;
  instance: string;
  startTime: string;
  endTime: string;
  bucket: 'hour' | 'day';
  buckets: { start: string; read: number; write: number; failed: number }[];
  total: number;
  read: number;
  write: number;
  failed: number;
}

/** The histogram the listed events make: every bucket from floor(start) to the one holding end - 1 ms. */
function expectedHistogram(events: readonly Counted[], start: number, end: number, bucketMs: number) {
  const buckets: HistogramJson['buckets'] = [];
  for (let at = floorTo(start, bucketMs); at <= floorTo(end - 1, bucketMs); at += bucketMs) {
    const inBucket = events.filter((e) => floorTo(e.time, bucketMs) === at);
    const count = (series: Series) => inBucket.filter((e) => e.series === series).length;
    buckets.push({ start: iso(at), read: count('read'), write: count('write'), failed: count('failed') });
  }
  const count = (series: Series) => events.filter((e) => e.series === series).length;
  return {
    buckets,
    total: events.length,
    read: count('read'),
    write: count('write'),
    failed: count('failed'),
  };
}

describe('GET /console/api/instances', () => {
  it('lists both instances, sorted, named as their ledger names them, with the clock of the server', async () => {
    const { status, json } = await get<{ now: string; instances: Record<string, unknown>[] }>('instances');
    expect(status).toBe(200);
    const now = Date.parse(json.now);
    expect(now).toBeGreaterThanOrEqual(NOW);
    expect(now - NOW).toBeLessThan(10 * 60_000);
    expect(json.instances).toEqual([
      {
        source: 'codecatalyst',
        sourceTitle: 'CodeCatalyst event logs',
        instance: SPACE,
        partition: `space=${SPACE}`,
        firstDay: utcDay(NOW - 30 * DAY_MS),
        lastDay: utcDay(NOW),
      },
      {
        source: 'resiliencehub',
        sourceTitle: 'Resilience Hub system events',
        instance: ARN,
        partition: expect.stringMatching(/^system=console-checkout-[0-9a-f]{16}$/),
        firstDay: utcDay(NOW - 30 * DAY_MS),
        lastDay: utcDay(NOW),
      },
    ]);
  });
});

describe('GET /console/api/histogram counts what the list route returns', () => {
  const sample = (): (typeof ccEvents)[number] =>
    ccEvents.find((e) => e.errorCode && e.userIdentity?.userName)!;

  it.each<[string, () => Record<string, string>, number, number]>([
    ['no filter, ten days (day buckets by default)', () => ({}), FROM, NOW],
    [
      'no filter, off the hour boundaries',
      () => ({}),
      NOW - 3 * DAY_MS + 17 * MINUTE_MS + 5_000,
      NOW - DAY_MS - 13 * MINUTE_MS,
    ],
    ['eventName', () => ({ eventName: sample().eventName! }), FROM, NOW],
    [
      'userName and operationType',
      () => ({ userName: sample().userIdentity!.userName!, operationType: 'MUTATION' }),
      FROM,
      NOW,
    ],
    ['errorCode', () => ({ errorCode: sample().errorCode! }), FROM - 5 * DAY_MS, NOW],
    [
      'projectName and eventSource',
      () => ({ projectName: sample().projectInformation!.name!, eventSource: sample().eventSource! }),
      FROM,
      NOW,
    ],
    ['an eventName nothing has', () => ({ eventName: "x' OR 1=1 --" }), FROM, NOW],
  ])('CodeCatalyst, %s', async (_name, filters, start, end) => {
    const listed = await listEventLogs(start, end, filters());
    const { status, json } = await get<HistogramJson>('histogram', {
      source: 'codecatalyst',
      instance: SPACE,
      startTime: iso(start),
      endTime: iso(end),
      ...filters(),
    });
    expect(status).toBe(200);
    const bucketMs = end - start <= 7 * DAY_MS ? HOUR_MS : DAY_MS;
    expect(json.bucket).toBe(bucketMs === HOUR_MS ? 'hour' : 'day');
    expect(json).toMatchObject({
      source: 'codecatalyst',
      instance: SPACE,
      startTime: iso(start),
      endTime: iso(end),
    });
    expect(json).toMatchObject(expectedHistogram(listed, start, end, bucketMs));
    if (_name.startsWith('no filter')) expect(json.read * json.write * json.failed).toBeGreaterThan(0);
  });

  it.each<[string, string[], string | undefined]>([
    ['every type', [], undefined],
    ['two types', ['SYSTEM_CREATED', 'SYSTEM_SERVICE_ASSOCIATED'], undefined],
    ['one type, hour buckets', ['SYSTEM_POLICY_ASSOCIATED'], 'hour'],
  ])('Resilience Hub, %s: every system event is a write', async (_name, eventTypes, bucket) => {
    const start = FROM + 7 * MINUTE_MS;
    const end = NOW - 2 * DAY_MS - 1;
    const listed = await listSystemEvents(start, end, eventTypes);
    const { status, json } = await get<HistogramJson>('histogram', {
      source: 'resiliencehub',
      instance: ARN,
      startTime: iso(start),
      endTime: iso(end),
      eventTypes,
      bucket,
    });
    expect(status).toBe(200);
    expect(json).toMatchObject(expectedHistogram(listed, start, end, bucket === 'hour' ? HOUR_MS : DAY_MS));
    expect(json.total).toBeGreaterThan(0);
    expect(json.read + json.failed).toBe(0);
  });
});

describe('GET /console/api/histogram buckets', () => {
  const histogram = (startTime: number, endTime: number, bucket?: string) =>
    get<HistogramJson>('histogram', {
      source: 'codecatalyst',
      instance: SPACE,
      startTime: iso(startTime),
      endTime: iso(endTime),
      bucket,
    });

  it.each<[string, number, number, string | undefined, number]>([
    ['exactly 7 days: hours', NOW - 7 * DAY_MS, NOW, undefined, 7 * 24],
    ['7 days and 1 ms: days', NOW - 7 * DAY_MS - 1, NOW, undefined, 8],
    [
      '90 minutes across an hour: 2 hours',
      NOW - 2 * DAY_MS + 45 * MINUTE_MS,
      NOW - 2 * DAY_MS + 135 * MINUTE_MS,
      undefined,
      3,
    ],
    ['one ms', NOW - DAY_MS + 1, NOW - DAY_MS + 2, 'hour', 1],
    [
      'ending on midnight: the bucket of the end is not included',
      MIDNIGHT - 3 * DAY_MS,
      MIDNIGHT - DAY_MS,
      'day',
      2,
    ],
    ['off midnight, by day', MIDNIGHT - 3 * DAY_MS + 7 * HOUR_MS, MIDNIGHT - DAY_MS + 1, 'day', 3],
    ['31 days by the hour', NOW - 31 * DAY_MS, NOW, 'hour', 31 * 24],
    ['ten years by the day', NOW - 3653 * DAY_MS, NOW, undefined, 3654],
  ])('%s', async (_name, start, end, bucket, count) => {
    const { status, json } = await histogram(start, end, bucket);
    expect(status).toBe(200);
    const bucketMs = json.bucket === 'hour' ? HOUR_MS : DAY_MS;
    expect(json.buckets).toHaveLength(count);
    // Dense and aligned: consecutive UTC buckets from floor(start) to the one holding end - 1 ms.
    for (const [i, b] of json.buckets.entries())
      expect(Date.parse(b.start)).toBe(floorTo(start, bucketMs) + i * bucketMs);
    expect(Date.parse(json.buckets.at(-1)!.start)).toBe(floorTo(end - 1, bucketMs));
    const sum = json.buckets.reduce((n, b) => n + b.read + b.write + b.failed, 0);
    expect(sum).toBe(json.total);
  });
});

describe('console endpoints keep the API deadline', () => {
  it('answers 504 when the histogram query runs past it, and interrupts the query', async () => {
    // Minutes of real DuckDB work before the histogram's own query.
    const slow = await startServer({
      archive: dir,
      port: 0,
      logger: quiet,
      clock,
      limits: { queryTimeoutMs: 300 },
      engine: { beforeQuerySql: () => 'SELECT sum(i % 7) FROM range(100000000000) t(i)' },
    });
    try {
      const started = performance.now();
      const answer = await get<{ message: string }>(
        'histogram',
        { source: 'codecatalyst', instance: SPACE, startTime: iso(FROM), endTime: iso(NOW) },
        slow,
      );
      expect(answer.status).toBe(504);
      expect(answer.type).toBe('InternalServerException');
      expect(performance.now() - started).toBeLessThan(10_000);
      await vi.waitFor(() => expect(slow.activity()).toMatchObject({ running: 0, interrupted: 1 }));
      // The ledger-only endpoints have no query to stop.
      expect((await get('instances', {}, slow)).status).toBe(200);
    } finally {
      await slow.close();
    }
  });
});

describe('console endpoints refuse bad parameters with a 4xx naming them', () => {
  const cc = { source: 'codecatalyst', instance: SPACE, startTime: iso(FROM), endTime: iso(NOW) };
  const rh = { source: 'resiliencehub', instance: ARN, startTime: iso(FROM), endTime: iso(NOW) };
  const cases: [string, string, Params, number, string, string][] = [
    ['histogram', 'no source', { ...cc, source: undefined }, 400, 'ValidationException', 'source'],
    ['histogram', 'an unknown source', { ...cc, source: 'jira' }, 400, 'ValidationException', 'source'],
    [
      'histogram',
      'source twice',
      { ...cc, source: ['codecatalyst', 'codecatalyst'] },
      400,
      'ValidationException',
      'source',
    ],
    ['histogram', 'no instance', { ...cc, instance: undefined }, 400, 'ValidationException', 'instance'],
    ['histogram', 'a bad space name', { ...cc, instance: 'a' }, 400, 'ValidationException', 'instance'],
    [
      'histogram',
      'a bad system ARN',
      { ...rh, instance: 'arn:nope' },
      400,
      'ValidationException',
      'instance',
    ],
    [
      'histogram',
      'a space never archived',
      { ...cc, instance: 'never-archived' },
      404,
      'ResourceNotFoundException',
      'instance',
    ],
    ['histogram', 'no startTime', { ...cc, startTime: undefined }, 400, 'ValidationException', 'startTime'],
    [
      'histogram',
      'no endTime (Resilience Hub)',
      { ...rh, endTime: undefined },
      400,
      'ValidationException',
      'endTime',
    ],
    [
      'histogram',
      'a bad startTime',
      { ...cc, startTime: 'yesterday' },
      400,
      'ValidationException',
      'startTime',
    ],
    [
      'histogram',
      'a bad endTime',
      { ...rh, endTime: '2026-02-30T00:00:00Z' },
      400,
      'ValidationException',
      'endTime',
    ],
    [
      'histogram',
      'endTime equal to startTime',
      { ...cc, endTime: iso(FROM) },
      400,
      'ValidationException',
      'endTime',
    ],
    [
      'histogram',
      'endTime before startTime',
      { ...rh, endTime: iso(FROM - 1) },
      400,
      'ValidationException',
      'endTime',
    ],
    [
      'histogram',
      'more than ten years',
      { ...cc, startTime: iso(NOW - 3654 * DAY_MS) },
      400,
      'ValidationException',
      'endTime',
    ],
    ['histogram', 'a bad bucket', { ...cc, bucket: 'week' }, 400, 'ValidationException', 'bucket'],
    [
      'histogram',
      'hours over 32 days',
      { ...cc, startTime: iso(NOW - 32 * DAY_MS), bucket: 'hour' },
      400,
      'ValidationException',
      'bucket',
    ],
    ['histogram', 'an empty userName', { ...cc, userName: '' }, 400, 'ValidationException', 'userName'],
    [
      'histogram',
      'a projectName of 257 characters',
      { ...cc, projectName: 'p'.repeat(257) },
      400,
      'ValidationException',
      'projectName',
    ],
    [
      'histogram',
      'an eventName over 511 bytes',
      { ...cc, eventName: 'é'.repeat(256) },
      400,
      'ValidationException',
      'eventName',
    ],
    [
      'histogram',
      'errorCode twice',
      { ...cc, errorCode: ['A', 'B'] },
      400,
      'ValidationException',
      'errorCode',
    ],
    [
      'histogram',
      'an unknown event type',
      { ...rh, eventTypes: ['SYSTEM_CREATED', 'SYSTEM_EXPLODED'] },
      400,
      'ValidationException',
      'eventTypes',
    ],
    ['coverage', 'no source', { instance: SPACE }, 400, 'ValidationException', 'source'],
    [
      'coverage',
      'a bad instance',
      { source: 'codecatalyst', instance: 'a b' },
      400,
      'ValidationException',
      'instance',
    ],
    [
      'coverage',
      'a system never archived',
      { source: 'resiliencehub', instance: `${ARN}-2` },
      404,
      'ResourceNotFoundException',
      'instance',
    ],
    [
      'coverage',
      'a bad from',
      { source: 'codecatalyst', instance: SPACE, from: 'soon' },
      400,
      'ValidationException',
      'from',
    ],
    [
      'coverage',
      'to before from',
      { source: 'codecatalyst', instance: SPACE, from: iso(NOW), to: iso(NOW - 1) },
      400,
      'ValidationException',
      'to',
    ],
    [
      'coverage',
      'from after now',
      { source: 'codecatalyst', instance: SPACE, from: iso(NOW + DAY_MS) },
      400,
      'ValidationException',
      'from',
    ],
    [
      'coverage/hours',
      'no day',
      { source: 'codecatalyst', instance: SPACE },
      400,
      'ValidationException',
      'day',
    ],
    [
      'coverage/hours',
      'a time for a day',
      { source: 'codecatalyst', instance: SPACE, day: iso(NOW) },
      400,
      'ValidationException',
      'day',
    ],
    [
      'coverage/hours',
      'February 30',
      { source: 'codecatalyst', instance: SPACE, day: '2026-02-30' },
      400,
      'ValidationException',
      'day',
    ],
    ['verify', 'an instance without its source', { instance: SPACE }, 400, 'ValidationException', 'instance'],
    ['verify', 'an unknown source', { source: 'x' }, 400, 'ValidationException', 'source'],
    ['verify', 'to before from', { from: iso(NOW), to: iso(NOW - DAY_MS) }, 400, 'ValidationException', 'to'],
  ];
  it.each(cases)('%s: %s', async (endpoint, _name, params, status, type, field) => {
    const answer = await get<{ message: string }>(endpoint, params);
    expect(answer.status).toBe(status);
    expect(answer.type).toBe(type);
    expect(answer.json.message).toMatch(new RegExp(`^${field}: `));
  });

  it('answers another method 405 and an unknown endpoint 404', async () => {
    const post = await get<{ message: string }>('instances', {}, server, 'POST');
    expect(post.status).toBe(405);
    expect(post.type).toBe('MethodNotAllowedException');
    const verifyPost = await get('verify', {}, server, 'DELETE');
    expect(verifyPost.status).toBe(405);
    const unknown = await get<{ message: string }>('nothing-here');
    expect(unknown.status).toBe(404);
    expect(unknown.type).toBe('UnknownOperationException');
    expect(unknown.json.message).toContain('GET /console/api/histogram');
  });
});

describe('GET /console/api/coverage', () => {
  const gapDay = utcDay(NOW - 2 * DAY_MS);
  const gapStart = Date.parse(`${gapDay}T05:00:00.000Z`);
  let gapped: RunningServer;

  beforeAll(async () => {
    // A copy whose ledger forgot one window of the space.
    const copy = path.join(work, 'gap');
    cpSync(dir, copy, { recursive: true });
    const file = path.join(copy, `_ledger/codecatalyst_event_logs/space=${SPACE}/dt=${gapDay}.json`);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { windows: Record<string, unknown> };
    delete doc.windows[iso(gapStart)];
    writeFileSync(file, JSON.stringify(doc));
    gapped = await startServer({ archive: copy, port: 0, logger: quiet, clock });
  });
  afterAll(() => gapped?.close());

  interface CoverageJson {
    from: string;
    to: string;
    now: string;
    windows: { final: number; provisional: number; missing: number };
    events: number;
    runs: { status: string; start: string; end: string; windows: number; events: number }[];
    days: { day: string; final: number; provisional: number; missing: number; events: number }[];
    firstEventTime: string | null;
    lastEventTime: string | null;
    lagSeconds: number | null;
    lastRun: { at: string } | null;
  }

  it('is the report of `coverage --json`, with days, event bounds, lag and the last run', async () => {
    const { status, json } = await get<CoverageJson>('coverage', { source: 'codecatalyst', instance: SPACE });
    expect(status).toBe(200);
    const cli = await runCli(
      ['coverage', '--archive', dir, '--source', 'codecatalyst', '--space', SPACE, '--json'],
      {
        cwd: work,
        clock,
      },
    );
    expect(cli.code).toBe(0);
    const [report] = JSON.parse(cli.stdout) as Record<string, unknown>[];
    const { now, days, firstEventTime, lastEventTime, lagSeconds, lastRun, ...rest } = json;
    expect(rest).toEqual(report);
    expect(json.windows.missing).toBe(0);
    expect(days).toHaveLength(31);
    expect(days[0]!.day).toBe(utcDay(Date.parse(json.from)));
    expect(days.at(-1)!.day).toBe(utcDay(NOW));
    expect(days.reduce((n, d) => n + d.events, 0)).toBe(json.events);
    expect(days.reduce((n, d) => n + d.final + d.provisional + d.missing, 0)).toBe(
      json.windows.final + json.windows.provisional + json.windows.missing,
    );
    const times = ccEvents.map((e) => Date.parse(e.eventTime));
    expect(firstEventTime).toBe(iso(Math.min(...times)));
    expect(lastEventTime).toBe(iso(Math.max(...times)));
    // The ingest ran at NOW and covered every window that had ended by then.
    expect(lagSeconds).toBe(Math.round((Date.parse(now) - NOW) / 1000));
    expect(lastRun).toEqual({ at: iso(NOW) });
  });

  it('shows a window removed from the ledger as missing', async () => {
    const { status, json } = await get<CoverageJson>(
      'coverage',
      { source: 'codecatalyst', instance: SPACE },
      gapped,
    );
    expect(status).toBe(200);
    expect(json.windows.missing).toBe(1);
    expect(json.runs).toContainEqual(
      expect.objectContaining({
        status: 'missing',
        start: iso(gapStart),
        end: iso(gapStart + HOUR_MS),
        windows: 1,
      }),
    );
    expect(json.days.find((d) => d.day === gapDay)).toMatchObject({ missing: 1, final: 23 });
    expect(json.days.filter((d) => d.missing > 0)).toHaveLength(1);
  });

  it('takes a range', async () => {
    const from = NOW - 3 * DAY_MS + 30 * MINUTE_MS;
    const to = NOW - DAY_MS;
    const { json } = await get<CoverageJson>(
      'coverage',
      { source: 'codecatalyst', instance: SPACE, from: iso(from), to: iso(to) },
      gapped,
    );
    expect(json.from).toBe(iso(floorTo(from, HOUR_MS)));
    expect(json.to).toBe(iso(to));
    expect(json.days.map((d) => d.day)).toEqual([utcDay(from), utcDay(from + DAY_MS), utcDay(to)]);
    expect(json.windows).toEqual({ final: 47, provisional: 0, missing: 1 });
  });

  it('hours: 24 entries of the day, the removed window missing', async () => {
    const { status, json } = await get<{ day: string; hours: CoverageJson['days'] }>(
      'coverage/hours',
      { source: 'codecatalyst', instance: SPACE, day: gapDay },
      gapped,
    );
    expect(status).toBe(200);
    expect(json.day).toBe(gapDay);
    expect(json.hours).toHaveLength(24);
    for (const [i, h] of json.hours.entries())
      expect(h).toMatchObject({
        start: iso(Date.parse(`${gapDay}T00:00:00.000Z`) + i * HOUR_MS),
        final: i === 5 ? 0 : 1,
        missing: i === 5 ? 1 : 0,
      });
    const whole = await get<CoverageJson>('coverage', { source: 'codecatalyst', instance: SPACE }, gapped);
    const day = whole.json.days.find((d) => d.day === gapDay)!;
    expect(json.hours.reduce((n, h) => n + h.events, 0)).toBe(day.events);
  });

  it('hours of today: only the windows that have ended count', async () => {
    const { json } = await get<{ hours: CoverageJson['days'] }>('coverage/hours', {
      source: 'resiliencehub',
      instance: ARN,
      day: utcDay(NOW),
    });
    const counted = json.hours.map((h) => h.final + h.provisional + h.missing);
    const ended = (NOW - Date.parse(`${utcDay(NOW)}T00:00:00.000Z`)) / HOUR_MS;
    expect(counted).toEqual(Array.from({ length: 24 }, (_, i) => (i < ended ? 1 : 0)));
  });
});

interface VerifyLine {
  type: string;
  [key: string]: unknown;
}

async function verifyLines(
  on: RunningServer,
  params: Params = {},
): Promise<{ contentType: string | null; lines: VerifyLine[] }> {
  const response = await fetch(`${on.url}/console/api/verify${search(params)}`);
  expect(response.status).toBe(200);
  const text = await response.text();
  expect(text.endsWith('\n')).toBe(true);
  return {
    contentType: response.headers.get('content-type'),
    lines: text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as VerifyLine),
  };
}

describe('GET /console/api/verify', () => {
  it('streams start, progress for each instance and the result of `verify --json` on a clean archive', async () => {
    const { contentType, lines } = await verifyLines(server);
    expect(contentType).toBe('application/x-ndjson');
    expect(lines[0]).toEqual({ type: 'start', instances: 2 });
    const progress = lines.filter((l) => l.type === 'progress');
    expect(progress.map((p) => [p.source, p.instance, p.done, p.total])).toEqual([
      ['codecatalyst', SPACE, 1, 2],
      ['resiliencehub', ARN, 2, 2],
    ]);
    const result = lines.at(-1)!;
    expect(lines.filter((l) => l.type === 'result')).toHaveLength(1);
    expect(result.ok).toBe(true);
    const pem = readFileSync(path.join(dir, '_keys/digest-signing-key.pem'), 'utf8');
    const der = createPublicKey(pem).export({ type: 'spki', format: 'der' });
    expect(result.signingKey).toEqual({
      fingerprint: `SHA256:${createHash('sha256').update(der).digest('base64')}`,
      origin: 'file',
    });
    const reports = result.reports as (Record<string, unknown> & { chainHead: Record<string, unknown> })[];
    const cli = await runCli(['verify', '--archive', dir, '--json'], { cwd: work, clock });
    expect(cli.code).toBe(0);
    const printed = JSON.parse(cli.stdout) as { instances: Record<string, unknown>[] };
    expect(reports.map(({ chainHead, ...report }) => report)).toEqual(printed.instances);
    for (const report of reports) {
      const digests = report.digests as number;
      expect(report.chainHead).toMatchObject({
        sequence: digests,
        day: report.lastSealedDay,
        key: expect.stringMatching(new RegExp(`/${String(digests).padStart(10, '0')}\\.json$`)),
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
    }
    expect(progress.at(-1)!.dataObjectsChecked).toBe(
      reports.reduce((n, r) => n + (r.dataObjectsChecked as number), 0),
    );
  });

  it('finds a changed data file: ok false, the problem as verify reports it', async () => {
    const copy = path.join(work, 'tampered');
    cpSync(dir, copy, { recursive: true });
    const day = utcDay(NOW - 3 * DAY_MS);
    const key = `codecatalyst_event_logs/space=${SPACE}/dt=${day}/events.parquet`;
    writeFileSync(
      path.join(copy, key),
      Buffer.concat([readFileSync(path.join(copy, key)), Buffer.from([0])]),
    );
    const tampered = await startServer({ archive: copy, port: 0, logger: quiet, clock });
    try {
      const { lines } = await verifyLines(tampered, { source: 'codecatalyst', instance: SPACE });
      expect(lines[0]).toEqual({ type: 'start', instances: 1 });
      const result = lines.at(-1)!;
      expect(result.ok).toBe(false);
      const [report] = result.reports as { problems: Record<string, unknown>[] }[];
      expect(report!.problems).toEqual([
        expect.objectContaining({ kind: 'changed', problem: true, day, key }),
      ]);
    } finally {
      await tampered.close();
    }
  });

  it('stops when the client leaves, without error logs', async () => {
    // Many instances: the space's folders copied under 120 more names.
    const copy = path.join(work, 'many');
    cpSync(dir, copy, { recursive: true });
    for (const root of [
      'codecatalyst_event_logs',
      '_ledger/codecatalyst_event_logs',
      '_digests/codecatalyst_event_logs',
    ])
      for (let i = 0; i < 120; i++)
        cpSync(path.join(copy, root, `space=${SPACE}`), path.join(copy, root, `space=copy-${i}`), {
          recursive: true,
        });
    expect(readdirSync(path.join(copy, 'codecatalyst_event_logs'))).toHaveLength(121);
    const logger = createLogger({ logLevel: 'CRITICAL' });
    const errors = vi.spyOn(logger, 'error');
    const infos = vi.spyOn(logger, 'info');
    const many = await startServer({ archive: copy, port: 0, logger, clock });
    try {
      // Leaves as soon as the first line has come.
      const first = await new Promise<string>((resolve, reject) => {
        const req = request(`${many.url}/console/api/verify`, (res) => {
          res.once('data', (chunk: Buffer) => {
            req.destroy();
            resolve(chunk.toString('utf8'));
          });
        });
        req.on('error', reject);
        req.end();
      });
      expect(JSON.parse(first.split('\n')[0]!)).toEqual({ type: 'start', instances: 122 });
      const logged = async () => {
        for (;;) {
          const call = infos.mock.calls.find(
            ([message, extra]) =>
              message === 'request' && (extra as { path?: string })?.path === '/console/api/verify',
          );
          if (call) return call[1] as { outcome: string; done: number; total: number };
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      const line = await logged();
      expect(line).toMatchObject({ outcome: 'stopped', total: 122 });
      expect(line.done).toBeLessThan(122);
      expect(errors).not.toHaveBeenCalled();
      // The server goes on answering.
      expect((await get('instances', {}, many)).status).toBe(200);
    } finally {
      await many.close();
    }
  }, 60_000);
});
