/**
 * Property-based fuzzing of both routes of the query API over real HTTP (`serve`, DuckDB engine),
 * over an archive built by the real ingest of both sources. Each case is a valid request with at
 * most one fault: a wrong type, an out-of-range or boundary value, an overlong or unicode string,
 * a forged, tampered, expired or another request's nextToken, unknown fields, malformed or oversized
 * JSON, another content type (refused 415 before anything else), path injection in spaceName, repeated query parameters, and SQL/LIKE
 * injection strings in every string filter. Properties:
 * - never a 5xx;
 * - a 4xx has the error shape of the route's API reference (ListEventLogs:
 *   https://docs.aws.amazon.com/codecatalyst/latest/APIReference/API_ListEventLogs.html;
 *   ListSystemEvents: https://docs.aws.amazon.com/resilience-hub/v2/APIReference/API_ListSystemEvents.html):
 *   `x-amzn-ErrorType` from the route's list of errors in its API reference, a JSON `message`
 *   naming the field (Resilience Hub adds `reason`/`fieldList` or `resourceId`/`resourceType`), and
 *   a case with a fault is refused naming exactly the faulty field;
 * - a 2xx has the API reference's response shape and exactly the rows computed here from the source
 *   events (not through the API): a filter value matches only rows whose field equals it literally, so an
 *   injection string returns the events crafted to hold that very string, and nothing else.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../../bin/commands/serve';
import { LocalStore } from '../../../lambdas/core/local-store';
import { ingestInstance } from '../../../lambdas/ingest/ingest-instance';
import { resiliencehub } from '../../../lambdas/ingest/sources/resiliencehub';
import { LOCAL_TOKEN_KEY, NextTokenCodec, requestBinding } from '../../../lambdas/query/next-token';
import { createLogger } from '../../../lambdas/shared/src';
import { DAY_MS, HOUR_MS } from '../../../lambdas/shared/src/time';
import { pinnedClock } from '../../helpers/clock';
import { startResilienceHubServer, TEST_CREDENTIALS } from '../../support/resiliencehub-server';
import { type EventLogEntryWire, generateEvents } from '../../support/sample-events';
import {
  generateSystemEvents,
  SYSTEM_EVENT_TYPE_VALUES,
  type SystemEventWire,
} from '../../support/sample-system-events';
import { buildArchive, inArchiveOrder } from './api-fixture';

const NOW = Date.UTC(2026, 6, 1, 12);
// serve's clock (token expiry, the end of the archive): the instant the archive was built at.
const clock = pinnedClock(NOW);
const SPACE = 'fuzz-space';
const UNKNOWN_SPACE = 'never-archived-space';
const ARN = 'arn:aws:resiliencehub:us-west-2:123456789012:system/fuzz-checkout';
const UNKNOWN_ARN = 'arn:aws:resiliencehub:us-west-2:123456789012:system/never-archived';
const FROM = NOW - 2 * DAY_MS;
const RUNS = 1_000;
const SEED = 20_261_122;

/** Strings that would change a query if they were spliced into SQL, a LIKE pattern or a path. */
const INJECTIONS = [
  "' OR 1=1 --",
  "' OR '1'='1",
  "\\'); DROP TABLE x; --",
  "'); DROP TABLE codecatalyst_event_logs; --",
  '" OR ""="',
  '%',
  '_',
  '%%',
  'a%',
  '\\',
  '\\%',
  '\\_',
  '*',
  '.*',
  '$1',
  '\u0024{x}',
  '?',
  ':name',
  '/*',
  '*/ OR 1=1 /*',
  '--',
  ';',
  'NULL',
  'null',
  "1; SELECT * FROM read_parquet('/etc/passwd')",
  "x' UNION SELECT * FROM events --",
  '\u202eevil',
  'Ünïcödé 😀',
  'e\u0301',
];
/** Also sent as filters; not in events (DuckDB strings hold no NUL byte, so no event can). */
const NUL_STRINGS = ['\u0000', 'a\u0000b', "\u0000' OR 1=1 --"];

type Wire = Record<string, unknown>;
let dir: string;
let server: RunningServer;
let rhEvents: SystemEventWire[];
let tokenKey: Uint8Array;
const counts = {
  eventLogs: 0,
  systemEvents: 0,
  byStatus: {} as Record<string, number>,
  /** 200s with at least one row, and 200s of a filter holding an injection string (with rows). */
  eventLogsWithRows: 0,
  injectionFilters: 0,
  injectionFiltersWithRows: 0,
  systemEventsWithRows: 0,
};

/** Events whose string fields hold the injection strings literally: a filter for one must return exactly these. */
function craftedEvents(base: readonly EventLogEntryWire[]): EventLogEntryWire[] {
  return INJECTIONS.map((text, i) => {
    const event = structuredClone(base[i * 7]!);
    event.id = `crafted-${String(i).padStart(3, '0')}`;
    switch (i % 5) {
      case 0:
        event.userIdentity.userName = text;
        break;
      case 1:
        event.projectInformation = { ...event.projectInformation, name: text };
        break;
      case 2:
        event.eventName = text;
        break;
      case 3:
        event.errorCode = text;
        break;
      default:
        event.eventSource = text;
    }
    return event;
  });
}

// The source events exist before the arbitraries, which draw filter values from them.
const generatedEvents = generateEvents({ count: 600, fromMs: FROM, toMs: NOW - HOUR_MS, seed: 91 });
const ccEvents: EventLogEntryWire[] = [...generatedEvents, ...craftedEvents(generatedEvents)];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'query-fuzz-'));
  await buildArchive(dir, { [SPACE]: ccEvents }, NOW);

  const rh = await startResilienceHubServer({
    systems: {
      [ARN]: generateSystemEvents({
        count: 300,
        fromMs: FROM,
        toMs: NOW - HOUR_MS,
        systemArn: ARN,
        seed: 92,
      }),
    },
    now: () => NOW,
    region: 'us-west-2',
  });
  try {
    rhEvents = rh.events(ARN);
    const key = TEST_CREDENTIALS[0]!;
    const client = await resiliencehub.createClient({
      env: {
        AWS_ENDPOINT_URL_RESILIENCEHUBV2: rh.url,
        AWS_ACCESS_KEY_ID: key.accessKeyId,
        AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
      },
    });
    const result = await ingestInstance({
      source: resiliencehub,
      instance: ARN,
      store: new LocalStore(dir),
      client,
      now: () => NOW,
      settings: { backfillDays: 3 },
    });
    if (result.status !== 'complete' || result.events !== rhEvents.length)
      throw new Error(`fixture ingest: ${result.status}, ${result.events} of ${rhEvents.length}`);
  } finally {
    await rh.close();
  }
  server = await startServer({
    archive: dir,
    port: 0,
    logger: createLogger({ logLevel: 'CRITICAL' }),
    clock,
  });
  // A first paged answer creates the token key; tests sign expired tokens with it.
  const paged = await send('POST', `/v1/spaces/${SPACE}/eventLogs`, {
    body: JSON.stringify({ startTime: iso(FROM), endTime: iso(NOW), maxResults: 1 }),
  });
  if (paged.status !== 200) throw new Error(`fixture query: ${paged.status} ${paged.text}`);
  tokenKey = new Uint8Array(readFileSync(path.join(dir, LOCAL_TOKEN_KEY)));
}, 120_000);

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
  console.info(
    `fuzz cases: ${counts.eventLogs} ListEventLogs requests, ${counts.systemEvents} ListSystemEvents requests; statuses ${JSON.stringify(counts.byStatus)}`,
  );
});

const iso = (ms: number): string => new Date(ms).toISOString();
/** The request whose nextToken the fuzzer replays as another request's token. */
const BASE_EVENT_LOGS_BODY = { startTime: iso(FROM), endTime: iso(NOW), maxResults: 3 };

interface Sent {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * Raw HTTP: the path goes out exactly as given (no URL normalisation of `..` or `%2F`). A body goes
 * as `application/json` unless `contentType` says otherwise (`null`: no Content-Type at all).
 */
function send(
  method: string,
  target: string,
  options: { body?: string; contentType?: string | null } = {},
): Promise<Sent> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    const contentType = options.contentType === undefined ? 'application/json' : options.contentType;
    if (options.body !== undefined && contentType !== null) headers['content-type'] = contentType;
    if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
    const req = request({ host: url.hostname, port: url.port, method, path: target, headers }, (res) => {
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
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

function count(route: 'eventLogs' | 'systemEvents', status: number): void {
  counts[route]++;
  counts.byStatus[status] = (counts.byStatus[status] ?? 0) + 1;
}

// ---------------------------------------------------------------------------------------------
// Shared properties of every answer.

const ROUTING_ERRORS = ['UnknownOperationException', 'MethodNotAllowedException'];
const EVENT_LOGS_ERRORS = [
  'AccessDeniedException',
  'ConflictException',
  'ResourceNotFoundException',
  'ServiceQuotaExceededException',
  'ThrottlingException',
  'ValidationException',
];
const SYSTEM_EVENTS_ERRORS = [
  'AccessDeniedException',
  'InternalServerException',
  'ResourceNotFoundException',
  'ValidationException',
];
const EVENT_LOGS_FIELDS = [
  'spaceName',
  'body',
  'startTime',
  'endTime',
  'maxResults',
  'nextToken',
  'eventName',
  'userName',
  'projectName',
  'operationType',
  'eventSource',
  'errorCode',
];
const SYSTEM_EVENTS_FIELDS = ['systemArn', 'eventTypes', 'startTime', 'endTime', 'maxResults', 'nextToken'];

/** Checks the API reference's error shape and returns the body and the field its message names. */
function expectErrorShape(
  sent: Sent,
  route: 'eventLogs' | 'systemEvents',
): { type: string; field?: string; json: Wire } {
  expect(sent.status, sent.text).toBeGreaterThanOrEqual(400);
  expect(sent.status, sent.text).toBeLessThan(500);
  expect(sent.headers['content-type']).toBe('application/json');
  const type = String(sent.headers['x-amzn-errortype']);
  const json = JSON.parse(sent.text) as Wire;
  expect(typeof json.message).toBe('string');
  expect((json.message as string).length).toBeGreaterThan(0);
  if (ROUTING_ERRORS.includes(type)) {
    expect(json.message).toMatch(/no such operation|method not allowed/);
    return { type, json };
  }
  if (type === 'UnsupportedMediaTypeException') {
    expect(sent.status).toBe(415);
    expect(json.message).toMatch(/^content-type: must be application\/json/);
    return { type, field: 'content-type', json };
  }
  expect(route === 'eventLogs' ? EVENT_LOGS_ERRORS : SYSTEM_EVENTS_ERRORS).toContain(type);
  const field = /^([A-Za-z]+): /.exec(json.message as string)?.[1];
  expect(route === 'eventLogs' ? EVENT_LOGS_FIELDS : SYSTEM_EVENTS_FIELDS, String(json.message)).toContain(
    field,
  );
  if (route === 'systemEvents' && type === 'ValidationException') {
    expect(['INVALID_FIELD_VALUE', 'MISSING_REQUIRED_FIELD']).toContain(json.reason);
    expect(json.fieldList).toEqual([{ name: field, message: expect.any(String) }]);
  }
  if (route === 'systemEvents' && type === 'ResourceNotFoundException') {
    expect(json).toMatchObject({ resourceId: expect.any(String), resourceType: 'System' });
  }
  return { type, field, json };
}

// ---------------------------------------------------------------------------------------------
// ListEventLogs.

const FILTERS = {
  userName: (e: EventLogEntryWire) => e.userIdentity?.userName,
  projectName: (e: EventLogEntryWire) => e.projectInformation?.name,
  operationType: (e: EventLogEntryWire) => e.operationType,
  eventSource: (e: EventLogEntryWire) => e.eventSource,
  errorCode: (e: EventLogEntryWire) => e.errorCode,
} as const;
type FilterName = keyof typeof FILTERS;
const FILTER_NAMES = Object.keys(FILTERS) as FilterName[];

/** The expected page, computed from the source events: the oracle of every 200. */
function expectedEventLogs(body: Wire): EventLogEntryWire[] {
  const start = Date.parse(String(body.startTime));
  const end = Date.parse(String(body.endTime));
  return inArchiveOrder(
    ccEvents.filter((e) => {
      const t = Date.parse(e.eventTime);
      if (t < start || t >= end) return false;
      if (body.eventName != null && e.eventName !== body.eventName) return false;
      return FILTER_NAMES.every((name) => body[name] == null || FILTERS[name](e) === body[name]);
    }),
  );
}

/** RFC 3339 text of `ms` in a random but equivalent form: Z or an offset, with or without fraction. */
const timeText = (ms: number, offsetMinutes: number, fraction: boolean): string => {
  const local = new Date(ms + offsetMinutes * 60_000).toISOString();
  const text = fraction ? local : `${local.slice(0, 19)}Z`;
  if (offsetMinutes === 0) return text;
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${text.slice(0, -1)}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
};
const timeArb = (min: number, max: number) =>
  fc
    .record({
      ms: fc.integer({ min, max }),
      offset: fc.constantFrom(0, 0, 60, -300, 330, 840, -720),
      fraction: fc.boolean(),
    })
    // Without a fraction the value must be a whole second to round-trip.
    .map(({ ms, offset, fraction }) => {
      const whole = fraction ? ms : Math.floor(ms / 1000) * 1000;
      return { ms: whole, text: timeText(whole, offset, fraction) };
    });

const existing = <T>(pick: (e: EventLogEntryWire) => T | undefined): T[] =>
  [...new Set(ccEvents.slice(0, 200).map(pick))].filter((v): v is T => v !== undefined);

/** A valid filter value: an existing value, an injection string, or random unicode (1–30 code points). */
const filterValueArb = (name: FilterName | 'eventName') =>
  fc.oneof(
    fc.constantFrom(...existing(name === 'eventName' ? (e) => e.eventName : FILTERS[name])),
    fc.constantFrom(...INJECTIONS, ...NUL_STRINGS),
    fc.string({ minLength: 1, maxLength: 30, unit: 'binary' }),
    fc.string({ minLength: 1, maxLength: 30, unit: 'grapheme' }),
  );

const generalEventLogsBodyArb = fc
  .tuple(
    timeArb(FROM - DAY_MS, NOW),
    fc.integer({ min: 1, max: 3 * DAY_MS }),
    fc.option(fc.oneof(fc.constantFrom(1, 2, 249, 250), fc.integer({ min: 1, max: 250 })), {
      nil: undefined,
    }),
    fc.option(filterValueArb('eventName'), { nil: undefined, freq: 2 }),
    fc.constantFrom(...FILTER_NAMES),
    fc.constantFrom(...FILTER_NAMES),
    fc.tuple(filterValueArb('userName'), filterValueArb('eventSource')),
    fc.nat({ max: 9 }),
  )
  .map(([start, length, maxResults, eventName, first, second, values, filterCount]) => {
    const body: Wire = { startTime: start.text, endTime: timeText(start.ms + length, 0, true) };
    if (maxResults !== undefined) body.maxResults = maxResults;
    if (eventName !== undefined && filterCount % 3 === 0) body.eventName = eventName;
    // Zero, one or two extra filters (more would rarely leave a row to compare).
    if (filterCount >= 4) body[first] = filterCount % 2 === 0 ? values[0] : pickExisting(first, filterCount);
    if (filterCount >= 8) body[second] = values[1];
    return body;
  });

/** An existing value of a filter's field (so filters that match rows are common). */
function pickExisting(name: FilterName, i: number): string {
  const values = existing(FILTERS[name]);
  return values[i % values.length]!;
}

/** A filter holding an injection string that some crafted event holds literally: exactly those rows. */
const craftedFilterBodyArb = fc
  .tuple(
    fc.nat({ max: INJECTIONS.length - 1 }),
    fc.option(fc.integer({ min: 1, max: 250 }), { nil: undefined }),
  )
  .map(([i, maxResults]) => {
    const field = (['userName', 'projectName', 'eventName', 'errorCode', 'eventSource'] as const)[i % 5]!;
    const body: Wire = { startTime: iso(FROM - DAY_MS), endTime: iso(NOW), [field]: INJECTIONS[i] };
    if (maxResults !== undefined) body.maxResults = maxResults;
    return body;
  });

const validEventLogsBodyArb = fc.oneof(
  { weight: 4, arbitrary: generalEventLogsBodyArb },
  { weight: 1, arbitrary: craftedFilterBodyArb },
);

/** What a case changes in a valid request, and which field the answer must then name (none: a 200). */
interface Fault {
  kind: string;
  field?: string;
  /** 404 ResourceNotFoundException / a routing error instead of a 400. */
  status?: number;
}

const wrongTypeArb = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)),
);
const BAD_TIMES = [
  'yesterday',
  '2026-13-01T00:00:00Z',
  '2026-02-30T00:00:00Z',
  '2026-06-01T24:00:01Z',
  '2026-06-01T00:00:00+25:00',
  ' ',
  '',
  "2026-06-01' OR 1=1 --",
  '２０２６-06-01T00:00:00Z',
  '1751371200',
  '2026-06-01T00:00:00Z\u0000',
  'x'.repeat(5_000),
];
const BAD_JSON = [
  '{',
  '{"startTime":',
  '{"a":1}{',
  "{'startTime':'x'}",
  '[]',
  '"text"',
  '123',
  'null',
  'true',
  '\u0000',
];

function mutateEventLogs(body: Wire, token: string | undefined): fc.Arbitrary<{ fault: Fault; body: Wire }> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant<{ fault: Fault; body: Wire }>({ fault: { kind: 'none' }, body }) },
    {
      weight: 1,
      arbitrary: fc
        .dictionary(
          fc
            .string({ minLength: 1, maxLength: 12 })
            .filter((k) => !EVENT_LOGS_FIELDS.includes(k) && k !== '__proto__'),
          fc.jsonValue({ maxDepth: 2 }),
          { minKeys: 1, maxKeys: 3 },
        )
        .map((extra) => ({ fault: { kind: 'unknown fields' }, body: { ...extra, ...body } })),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('maxResults', 'nextToken', 'eventName', ...FILTER_NAMES)
        .map((f) => ({ fault: { kind: 'null optional' }, body: { ...body, [f]: null } })),
    },
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          fc.constantFrom('startTime', 'endTime', 'maxResults', 'nextToken', 'eventName', ...FILTER_NAMES),
          wrongTypeArb,
        )
        // An integer is the right type for maxResults.
        .filter(([f, v]) => !(f === 'maxResults' && Number.isInteger(v)))
        .map(([f, v]) => ({ fault: { kind: 'wrong type', field: f }, body: { ...body, [f]: v } })),
    },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom(0, -1, 251, 1_000_000, 2 ** 53, -(2 ** 31), 1.5, 250.0001, '10', '')
        .map((v) => ({
          fault: { kind: 'maxResults out of range', field: 'maxResults' },
          body: { ...body, maxResults: v },
        })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom('startTime', 'endTime'), fc.constantFrom(...BAD_TIMES))
        .map(([f, v]) => ({ fault: { kind: 'bad time', field: f }, body: { ...body, [f]: v } })),
    },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 0, max: DAY_MS }).map((back) => ({
        fault: { kind: 'end not after start', field: 'endTime' },
        body: { ...body, endTime: iso(Date.parse(String(body.startTime)) - back) },
      })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.constantFrom(...FILTER_NAMES),
          fc.oneof(fc.constant(''), fc.string({ minLength: 257, maxLength: 2_000 })),
        )
        .map(([f, v]) => ({ fault: { kind: 'filter length', field: f }, body: { ...body, [f]: v } })),
    },
    {
      weight: 3,
      arbitrary: nextTokenFaultArb(
        eventLogsBinding(body, 0) === eventLogsBinding(BASE_EVENT_LOGS_BODY, 0) ? undefined : token,
        (when) => eventLogsBinding(body, when),
      ).map((nextToken) => ({
        fault: { kind: 'bad nextToken', field: 'nextToken' },
        body: { ...body, nextToken },
      })),
    },
  );
}

/** The binding of a ListEventLogs request, as the server computes it (for expired but otherwise valid tokens). */
function eventLogsBinding(body: Wire, _when: number): string {
  const filters: Record<string, string> = {};
  for (const name of FILTER_NAMES) if (body[name] != null) filters[name] = String(body[name]);
  return requestBinding([
    'codecatalyst',
    SPACE,
    Date.parse(String(body.startTime)),
    Date.parse(String(body.endTime)),
    body.eventName ?? undefined,
    filters,
  ]);
}

/** Forged, tampered, overlong, expired and other requests' tokens. */
function nextTokenFaultArb(
  realToken: string | undefined,
  binding: (when: number) => string,
): fc.Arbitrary<string> {
  const expired = (): string =>
    new NextTokenCodec({ keys: [tokenKey], now: () => clock() - 3 * DAY_MS }).sign(binding(0), {
      time: FROM,
      id: 'x',
    });
  const otherKey = (): string =>
    new NextTokenCodec({ keys: [new Uint8Array(32).fill(7)], now: clock }).sign(binding(0), {
      time: FROM,
      id: 'x',
    });
  return fc.oneof(
    fc.string({ minLength: 1, maxLength: 200 }).filter((s) => s.trim() !== ''),
    fc.base64String({ minLength: 4, maxLength: 400 }),
    fc.constantFrom(...INJECTIONS, 'a'.repeat(10_001)),
    fc.constant(null).map(() => expired()),
    fc.constant(null).map(() => otherKey()),
    ...(realToken
      ? [
          fc.constant(realToken), // another request's token (the base request of the fixture)
          fc
            .integer({ min: 0, max: realToken.length - 1 })
            .map((i) => realToken.slice(0, i) + (realToken[i] === 'A' ? 'B' : 'A') + realToken.slice(i + 1)),
        ]
      : []),
  );
}

const spaceSegmentArb = fc.oneof(
  { weight: 12, arbitrary: fc.constant({ segment: SPACE, fault: undefined as Fault | undefined }) },
  { weight: 1, arbitrary: fc.constant({ segment: 'fuzz%2Dspace', fault: undefined as Fault | undefined }) },
  {
    weight: 1,
    arbitrary: fc.constant({
      segment: UNKNOWN_SPACE,
      fault: { kind: 'unknown space', field: 'spaceName', status: 404 } as Fault | undefined,
    }),
  },
  {
    weight: 3,
    arbitrary: fc
      .oneof(
        fc.constantFrom(
          ...INJECTIONS,
          ...NUL_STRINGS,
          'ab',
          'a'.repeat(64),
          'fuzz-space.',
          '.fuzz',
          'fuzz--space',
          '../fuzz-space',
          'fuzz/space',
        ),
        fc
          .string({ minLength: 1, maxLength: 70, unit: 'grapheme' })
          .filter((s) => !/^[a-zA-Z0-9]+(?:[-_.][a-zA-Z0-9]+)*$/.test(s)),
      )
      .map((s) => ({
        segment: encodeURIComponent(s),
        // Some injection words ('null', 'NULL') are well-formed names: of a space never archived.
        fault: (/^[a-zA-Z0-9]+(?:[-_.][a-zA-Z0-9]+)*$/.test(s) && s.length >= 3 && s.length <= 63
          ? { kind: 'unknown space', field: 'spaceName', status: 404 }
          : { kind: 'bad spaceName', field: 'spaceName' }) as Fault | undefined,
      })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('%E0%A4%A', '%', '%zz', 'fuzz%2', '%C0%AE%C0%AE').map((segment) => ({
      segment,
      fault: { kind: 'bad percent-encoding', field: 'spaceName' } as Fault | undefined,
    })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('..', '../fuzz-space', 'fuzz-space/..', '.', 'a/b', '', '..%2F..%2F')
      .map((segment) => ({ segment, fault: { kind: 'path injection' } as Fault | undefined })),
  },
);

const eventLogsCaseArb = fc
  .tuple(
    validEventLogsBodyArb,
    spaceSegmentArb,
    fc.constantFrom('application/json', 'application/json', 'application/json; charset=utf-8'),
    // serve refuses a body of another type (or of none) with 415, before reading it.
    fc.constantFrom<string | null>('text/plain', 'application/x-www-form-urlencoded', null),
    fc.integer({ min: 0, max: 29 }),
    fc.nat({ max: BAD_JSON.length - 1 }),
  )
  .chain(([body, space, jsonType, otherType, raw, badJson]) =>
    mutateEventLogs(body, baseToken).map(({ fault, body: mutated }) => {
      // A few cases send another content type (which no other fault in the case changes).
      const contentType = raw >= 28 ? otherType : jsonType;
      // A few cases replace the body by malformed JSON or an oversized one.
      if (raw < 2)
        return {
          space,
          contentType,
          fault: { kind: 'malformed JSON', field: 'body' } as Fault,
          text: BAD_JSON[badJson]!,
        };
      if (raw === 2)
        return {
          space,
          contentType,
          fault: { kind: 'oversized body', field: 'body' } as Fault,
          text: JSON.stringify({ ...mutated, pad: 'x'.repeat(70_000) }),
        };
      return { space, contentType, fault, text: JSON.stringify(mutated), body: mutated };
    }),
  );
let baseToken: string | undefined;

/**
 * The answers a case may get, in the server's order of checks: the path's percent-encoding, the
 * body's JSON, the spaceName pattern, the body fields, the space's existence (404), the nextToken's
 * signature. `undefined`: a 200; 'any': a path the router may refuse in more than one way.
 */
function expectedEventLogsError(
  space: Fault | undefined,
  body: Fault,
): Array<{ status: number; field: string }> | 'any' | undefined {
  const bodyFault = body.field ? { status: 400, field: body.field } : undefined;
  if (space?.kind === 'path injection') return 'any';
  if (space?.kind === 'bad percent-encoding') return [{ status: 400, field: 'spaceName' }];
  if (body.field === 'body') return [bodyFault!];
  if (space?.kind === 'bad spaceName') return [{ status: 400, field: 'spaceName' }];
  if (space?.kind === 'unknown space') {
    // A nextToken is verified only after the space was found; every other body fault comes first.
    const notFound = { status: 404, field: 'spaceName' };
    return bodyFault ? [bodyFault, notFound] : [notFound];
  }
  return bodyFault ? [bodyFault] : undefined;
}

describe('POST /v1/spaces/{spaceName}/eventLogs fuzzed', () => {
  it(`answers ${RUNS} generated requests: no 5xx, the API reference's error shape naming the field, exactly the expected rows`, async () => {
    const first = await send('POST', `/v1/spaces/${SPACE}/eventLogs`, {
      body: JSON.stringify(BASE_EVENT_LOGS_BODY),
    });
    baseToken = (JSON.parse(first.text) as { nextToken?: string }).nextToken;
    expect(baseToken).toEqual(expect.any(String));

    await fc.assert(
      fc.asyncProperty(eventLogsCaseArb, async (c) => {
        const sent = await send('POST', `/v1/spaces/${c.space.segment}/eventLogs`, {
          body: c.text,
          contentType: c.contentType,
        });
        count('eventLogs', sent.status);
        expect(sent.status, sent.text).toBeLessThan(500);
        const jsonType = c.contentType !== null && /^application\/json(;|$)/.test(c.contentType);
        const expected = jsonType
          ? expectedEventLogsError(c.space.fault, c.fault)
          : c.space.fault?.kind === 'path injection'
            ? 'any'
            : [{ status: 415, field: 'content-type' }];
        if (sent.status >= 400) {
          const error = expectErrorShape(sent, 'eventLogs');
          expect(expected, `refused a valid request: ${sent.text}`).toBeDefined();
          if (expected === 'any') return;
          expect(expected!.map((e) => `${e.status} ${e.field}`)).toContain(`${sent.status} ${error.field}`);
          return;
        }
        const fault = expected === undefined ? undefined : (c.space.fault ?? c.fault);
        expect(sent.status, `accepted a faulty request (${fault?.kind}): ${c.text.slice(0, 300)}`).toBe(200);
        expect(fault).toBeUndefined();
        expect(sent.headers['content-type']).toBe('application/json');
        const json = JSON.parse(sent.text) as { items: Wire[]; nextToken?: string };
        expect(Object.keys(json).sort()).toEqual(
          json.nextToken === undefined ? ['items'] : ['items', 'nextToken'],
        );
        const body = c.body!;
        const all = expectedEventLogs(body);
        const size = typeof body.maxResults === 'number' ? body.maxResults : 50;
        expect(json.items).toEqual(all.slice(0, size));
        if (all.length > 0) counts.eventLogsWithRows++;
        const injected = ['eventName', ...FILTER_NAMES].some((f) =>
          [...INJECTIONS, ...NUL_STRINGS].includes(body[f] as string),
        );
        if (injected) {
          counts.injectionFilters++;
          if (all.length > 0) counts.injectionFiltersWithRows++;
          // Never all rows: an injection string narrows like any other value.
          expect(all.length).toBeLessThan(ccEvents.length / 10);
        }
        expect(json.nextToken !== undefined).toBe(all.length > size);
        if (json.nextToken !== undefined) {
          // The token continues exactly where the page ended.
          const next = await send('POST', `/v1/spaces/${SPACE}/eventLogs`, {
            body: JSON.stringify({ ...body, nextToken: json.nextToken }),
          });
          count('eventLogs', next.status);
          expect(next.status, next.text).toBe(200);
          expect((JSON.parse(next.text) as { items: Wire[] }).items).toEqual(all.slice(size, 2 * size));
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    console.info(
      `ListEventLogs fuzz: ${counts.eventLogs} requests (${RUNS} generated cases), ${counts.eventLogsWithRows} pages with rows, ${counts.injectionFilters} injection filters (${counts.injectionFiltersWithRows} matching crafted rows)`,
    );
    expect(counts.eventLogs).toBeGreaterThanOrEqual(RUNS);
    // The generator keeps reaching rows, and injection strings that match rows literally.
    expect(counts.eventLogsWithRows).toBeGreaterThan(RUNS / 10);
    expect(counts.injectionFiltersWithRows).toBeGreaterThan(RUNS / 50);
  }, 120_000);
});

// ---------------------------------------------------------------------------------------------
// ListSystemEvents.

type Pair = [string, string];

/** The expected page of a valid query, from the source events. */
function expectedSystemEvents(pairs: readonly Pair[]): string[] {
  const one = (name: string) => pairs.find(([k]) => k === name)?.[1];
  const types = new Set(pairs.filter(([k]) => k === 'eventTypes').map(([, v]) => v));
  const start = one('startTime') === undefined ? Number.NEGATIVE_INFINITY : Date.parse(one('startTime')!);
  const end = one('endTime') === undefined ? Number.POSITIVE_INFINITY : Date.parse(one('endTime')!);
  return rhEvents
    .map((e) => ({ e, t: Math.round(e.timestamp * 1000) }))
    .filter(
      ({ e, t }) =>
        e.systemArn === one('systemArn') &&
        t >= start &&
        t < end &&
        (types.size === 0 || types.has(e.eventType)),
    )
    .sort((a, b) => a.t - b.t || (a.e.eventId < b.e.eventId ? -1 : a.e.eventId > b.e.eventId ? 1 : 0))
    .map(({ e }) => e.eventId);
}

const validSystemQueryArb = fc
  .record(
    {
      types: fc.uniqueArray(fc.constantFrom(...SYSTEM_EVENT_TYPE_VALUES), { maxLength: 4 }),
      start: timeArb(FROM - DAY_MS, NOW),
      length: fc.integer({ min: 0, max: 3 * DAY_MS }),
      maxResults: fc.oneof(fc.constantFrom(1, 2, 99, 100), fc.integer({ min: 1, max: 100 })),
    },
    { requiredKeys: ['types'] },
  )
  .map(({ types, start, length, maxResults }): Pair[] => {
    const pairs: Pair[] = [['systemArn', ARN]];
    for (const t of types) pairs.push(['eventTypes', t]);
    if (start) pairs.push(['startTime', start.text]);
    if (start && length !== undefined) pairs.push(['endTime', timeText(start.ms + length, 0, true)]);
    if (maxResults !== undefined) pairs.push(['maxResults', String(maxResults)]);
    return pairs;
  });

const replace = (pairs: readonly Pair[], name: string, value: string | undefined): Pair[] => {
  const out = pairs.filter(([k]) => k !== name);
  if (value !== undefined) out.push([name, value]);
  return out;
};

function systemArnBinding(pairs: readonly Pair[]): string {
  const one = (name: string) => pairs.find(([k]) => k === name)?.[1];
  const types = new Set(pairs.filter(([k]) => k === 'eventTypes').map(([, v]) => v));
  return requestBinding([
    'resiliencehub',
    one('systemArn'),
    one('startTime') === undefined ? undefined : Date.parse(one('startTime')!),
    one('endTime') === undefined ? undefined : Date.parse(one('endTime')!),
    SYSTEM_EVENT_TYPE_VALUES.filter((t) => types.has(t)),
  ]);
}

let systemToken: string | undefined;

function mutateSystemQuery(pairs: Pair[]): fc.Arbitrary<{ pairs: Pair[]; fault: Fault; method?: string }> {
  const f = (kind: string, field?: string, status?: number): Fault => ({
    kind,
    ...(field ? { field } : {}),
    ...(status ? { status } : {}),
  });
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant({ pairs, fault: f('none') }) },
    {
      weight: 1,
      arbitrary: fc
        .array(
          fc.tuple(
            fc.string({ minLength: 1, maxLength: 10 }).filter((k) => !SYSTEM_EVENTS_FIELDS.includes(k)),
            fc.string({ maxLength: 20 }),
          ),
          { minLength: 1, maxLength: 3 },
        )
        .map((extra) => ({ pairs: [...pairs, ...(extra as Pair[])], fault: f('unknown parameters') })),
    },
    {
      weight: 1,
      arbitrary: fc
        .shuffledSubarray(pairs, { minLength: pairs.length })
        .map((shuffled) => ({ pairs: shuffled, fault: f('parameter order') })),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(...SYSTEM_EVENT_TYPE_VALUES).map((t) => ({
        pairs: [...pairs, ['eventTypes', t], ['eventTypes', t]] as Pair[],
        fault: f('repeated eventTypes'),
      })),
    },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom(...pairs.filter(([k]) => k !== 'eventTypes'))
        .map((pair) => ({ pairs: [...pairs, pair], fault: f('repeated parameter', pair[0]) })),
    },
    {
      weight: 2,
      arbitrary: fc
        .oneof(
          fc.constantFrom(...INJECTIONS, ...NUL_STRINGS, 'system_created', 'SYSTEM_CREATED ', ''),
          fc.string({ maxLength: 30, unit: 'grapheme' }),
        )
        .filter((v) => !(SYSTEM_EVENT_TYPE_VALUES as readonly string[]).includes(v))
        .map((v) => ({
          pairs: [...pairs, ['eventTypes', v]] as Pair[],
          fault: f('bad eventTypes', 'eventTypes'),
        })),
    },
    {
      weight: 3,
      arbitrary: fc
        .oneof(
          fc.constantFrom(
            ...INJECTIONS,
            ...NUL_STRINGS,
            '',
            'arn:aws:resiliencehub:us-west-2:1234:system/x',
            `${ARN}' OR 1=1 --`,
            `${ARN}%`,
            `${ARN}\u0000`,
            'a'.repeat(3_000),
          ),
          fc.string({ maxLength: 60, unit: 'grapheme' }),
          fc
            .constantFrom(...INJECTIONS)
            .map((i) => `arn:aws:resiliencehub:us-west-2:123456789012:system/${i}`),
        )
        // Any of these either breaks the pattern (400) or names a system never archived (404), never rows.
        .map((v) => ({
          pairs: replace(pairs, 'systemArn', v),
          fault: f('systemArn injection', 'systemArn', -1),
        })),
    },
    {
      weight: 1,
      arbitrary: fc.constant({
        pairs: replace(pairs, 'systemArn', UNKNOWN_ARN),
        fault: f('unknown system', 'systemArn', 404),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.constant({
        pairs: replace(pairs, 'systemArn', undefined),
        fault: f('missing systemArn', 'systemArn'),
      }),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom('startTime', 'endTime'), fc.constantFrom(...BAD_TIMES.filter((t) => t !== '')))
        .map(([name, v]) => ({ pairs: replace(pairs, name, v), fault: f('bad time', name) })),
    },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom(
          '0',
          '101',
          '-1',
          '1.5',
          'abc',
          '1e2',
          '0x10',
          "10' OR 1=1",
          '99999999999999999999',
          '١٠',
        )
        .map((v) => ({ pairs: replace(pairs, 'maxResults', v), fault: f('bad maxResults', 'maxResults') })),
    },
    {
      weight: 3,
      arbitrary: fc
        .oneof(
          nextTokenFaultArb(
            // The fixture's token is this request's own when the bindings agree: not a fault then.
            systemArnBinding(pairs) === systemArnBinding([['systemArn', ARN]]) ? undefined : systemToken,
            () => systemArnBinding(pairs),
          ).filter((t) => t.length <= 10_000),
          fc.constantFrom('has space', 'tab\there', 'x'.repeat(2_001)),
        )
        .map((t) => ({ pairs: replace(pairs, 'nextToken', t), fault: f('bad nextToken', 'nextToken') })),
    },
    {
      weight: 1,
      arbitrary: fc.constant({ pairs, fault: f('wrong method', undefined, 405), method: 'POST' }),
    },
  );
}

const systemCaseArb = validSystemQueryArb.chain((pairs) => mutateSystemQuery(pairs));

describe('GET /v2/list-system-events fuzzed', () => {
  it(`answers ${RUNS} generated requests: no 5xx, the API reference's error shape naming the field, exactly the expected rows`, async () => {
    const first = await send(
      'GET',
      `/v2/list-system-events?systemArn=${encodeURIComponent(ARN)}&maxResults=2`,
    );
    systemToken = (JSON.parse(first.text) as { nextToken?: string }).nextToken;
    expect(systemToken).toEqual(expect.any(String));

    await fc.assert(
      fc.asyncProperty(systemCaseArb, async (c) => {
        const query = c.pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
        const sent = await send(c.method ?? 'GET', `/v2/list-system-events?${query}`);
        count('systemEvents', sent.status);
        expect(sent.status, sent.text).toBeLessThan(500);
        const hasFault = c.fault.field !== undefined || c.fault.status !== undefined;
        if (sent.status >= 400) {
          const error = expectErrorShape(sent, 'systemEvents');
          expect(hasFault, `refused a valid request (${c.fault.kind}): ${sent.text}`).toBe(true);
          if (c.fault.status === 405) {
            expect(error.type).toBe('MethodNotAllowedException');
            return;
          }
          expect(error.field, sent.text).toBe(c.fault.field);
          if (c.fault.status === -1) expect([400, 404]).toContain(sent.status);
          else expect(sent.status).toBe(c.fault.status ?? 400);
          if (sent.status === 404)
            expect(error.json.resourceId).toBe(c.pairs.find(([k]) => k === 'systemArn')?.[1]);
          return;
        }
        expect(sent.status, `accepted a faulty request (${c.fault.kind}): ${query.slice(0, 300)}`).toBe(200);
        expect(hasFault).toBe(false);
        const json = JSON.parse(sent.text) as { events: Wire[]; nextToken?: string };
        expect(Object.keys(json).sort()).toEqual(
          json.nextToken === undefined ? ['events'] : ['events', 'nextToken'],
        );
        for (const event of json.events) expect(typeof event.timestamp).toBe('number');
        const all = expectedSystemEvents(c.pairs);
        const size = Number(c.pairs.find(([k]) => k === 'maxResults')?.[1] ?? 100);
        expect(json.events.map((e) => e.eventId)).toEqual(all.slice(0, size));
        if (all.length > 0) counts.systemEventsWithRows++;
        expect(json.nextToken !== undefined).toBe(all.length > size);
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    console.info(
      `ListSystemEvents fuzz: ${counts.systemEvents} requests (${RUNS} generated cases), ${counts.systemEventsWithRows} pages with rows`,
    );
    expect(counts.systemEvents).toBeGreaterThanOrEqual(RUNS);
    expect(counts.systemEventsWithRows).toBeGreaterThan(RUNS / 10);
  }, 120_000);
});
