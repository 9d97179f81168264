/**
 * Resilience Hub ingest end to end on the wire: the archive's own SigV4 client (credentials from
 * the environment it is given) against a local ListSystemEvents server that verifies every
 * signature independently, throttles, fails, resets connections, cuts bodies short, repeats items
 * across pages and returns empty pages; the archive is read back with DuckDB and compared with the
 * source field by field (`eventMetadata` as parsed JSON, and byte for byte where a JS object
 * could not hold it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalStore } from '../../../lambdas/core/local-store';
import { defaultEndpoint, parseSystemArn } from '../../../lambdas/core/sources/resiliencehub/arn';
import { type IngestRequest, ingestInstance } from '../../../lambdas/ingest/ingest-instance';
import { runIngest } from '../../../lambdas/ingest/ingest-run';
import { sourceByName } from '../../../lambdas/ingest/sources';
import { resiliencehub, systemPartitionValue } from '../../../lambdas/ingest/sources/resiliencehub';
import {
  createResilienceHubClient,
  type ResilienceHubClient,
  START_SLACK_MS,
} from '../../../lambdas/ingest/sources/resiliencehub/client';
import {
  decodeListSystemEvents,
  epochSecondsToMs,
  eventMetadataTexts,
} from '../../../lambdas/ingest/sources/resiliencehub/wire';
import type { SourceClient } from '../../../lambdas/ingest/sources/types';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../../lambdas/shared/src/time';
import { readArchiveTable } from '../../helpers/archive-reader-generic';
import {
  type ResilienceHubServer,
  type SigningCredentials,
  startResilienceHubServer,
  TEST_CREDENTIALS,
} from '../../support/resiliencehub-server';
import {
  generateSystemEvents,
  metadataValue,
  RawJson,
  type SystemEventWire,
} from '../../support/sample-system-events';

const NOW = Date.UTC(2026, 10, 20, 12, 0, 0);
const ARN = 'arn:aws:resiliencehub:us-west-2:123456789012:system/checkout:abc123';
const KEY = TEST_CREDENTIALS[1]!; // with a session token
const TABLE = 'resiliencehub_system_events';
let server: ResilienceHubServer;
let client: SourceClient;
let dir: string;
let store: LocalStore;

function envFor(target: ResilienceHubServer, key: SigningCredentials = KEY): NodeJS.ProcessEnv {
  return {
    AWS_ENDPOINT_URL_RESILIENCEHUBV2: target.url,
    // Not the systems' region: the client signs for the region in the ARN.
    AWS_REGION: 'eu-central-1',
    AWS_ACCESS_KEY_ID: key.accessKeyId,
    AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
    ...(key.sessionToken ? { AWS_SESSION_TOKEN: key.sessionToken } : {}),
  };
}

function clientFor(target: ResilienceHubServer, key?: SigningCredentials, extra: NodeJS.ProcessEnv = {}) {
  return createResilienceHubClient({ env: { ...envFor(target, key), ...extra } });
}

beforeAll(async () => {
  server = await startResilienceHubServer({ now: () => NOW, seed: 7, region: 'us-west-2' });
  client = await clientFor(server);
});
afterAll(() => server.close());

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'rh-ingest-'));
  store = new LocalStore(dir);
  for (const arn of server.systemArns())
    server.removeEvents(
      arn,
      server.events(arn).map((e) => e.eventId),
    );
  server.faults = {};
  server.setNow(NOW);
  server.resetStats();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function ingest(overrides: Partial<IngestRequest> = {}): ReturnType<typeof ingestInstance> {
  return ingestInstance({
    source: resiliencehub,
    instance: ARN,
    store,
    client,
    now: () => NOW,
    settings: { backfillDays: 5 },
    retry: { baseMs: 2, throttleBaseMs: 5, capMs: 50, maxAttempts: 12 },
    ...overrides,
  });
}

function dropNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropNulls);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) out[k] = dropNulls(v);
    return out;
  }
  return value;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => [k, sortKeys(v)]),
    );
  return value;
}

/** A source event in comparable form: metadata parsed, nulls inside documents kept. */
function comparable(event: SystemEventWire): string {
  const { eventDetails, ...rest } = event;
  const details =
    eventDetails === undefined
      ? undefined
      : {
          ...eventDetails,
          ...(eventDetails.eventMetadata === undefined
            ? {}
            : { eventMetadata: metadataValue(eventDetails.eventMetadata) }),
        };
  return JSON.stringify(sortKeys(details === undefined ? rest : { ...rest, eventDetails: details }));
}

interface ArchivedEvent {
  wire: SystemEventWire;
  rawMetadata?: string;
  file: string;
  system: string;
  dt: string;
}

async function readArchive(): Promise<{ events: ArchivedEvent[]; columnTypes: Record<string, string> }> {
  const { rows, columnTypes } = await readArchiveTable(dir, TABLE, ['timestamp']);
  const events = rows.map((row): ArchivedEvent => {
    const { __file, system, dt, eventDetails, ...fields } = row as Record<string, unknown> & {
      eventDetails: Record<string, unknown> | null;
    };
    const rawMetadata =
      eventDetails?.eventMetadata == null ? undefined : (eventDetails.eventMetadata as string);
    // Documents may contain nulls: only the record's own absent fields are dropped.
    const wire = dropNulls({ ...fields, timestamp: (fields.timestamp as number) / 1000 }) as Record<
      string,
      unknown
    >;
    if (eventDetails) {
      const { eventMetadata: _m, ...details } = eventDetails;
      wire.eventDetails = {
        ...(dropNulls(details) as object),
        ...(rawMetadata === undefined ? {} : { eventMetadata: JSON.parse(rawMetadata) }),
      };
    }
    return {
      wire: wire as unknown as SystemEventWire,
      ...(rawMetadata === undefined ? {} : { rawMetadata }),
      file: String(__file),
      system: String(system),
      dt: String(dt),
    };
  });
  return { events, columnTypes };
}

async function expectArchiveEqualsSource(
  expected: SystemEventWire[] = server.events(ARN),
  arn = ARN,
): Promise<ArchivedEvent[]> {
  const { events, columnTypes } = await readArchive();
  const archived = events.filter((e) => e.wire.systemArn === arn);
  const byId = new Map<string, ArchivedEvent>();
  const duplicates: string[] = [];
  for (const e of archived) {
    if (byId.has(e.wire.eventId)) duplicates.push(e.wire.eventId);
    byId.set(e.wire.eventId, e);
  }
  const missing: string[] = [];
  const different: string[] = [];
  const rawDifferent: string[] = [];
  for (const event of expected) {
    const got = byId.get(event.eventId);
    if (!got) {
      missing.push(event.eventId);
      continue;
    }
    if (comparable(got.wire) !== comparable(event)) different.push(event.eventId);
    const metadata = event.eventDetails?.eventMetadata;
    if (metadata instanceof RawJson && got.rawMetadata !== metadata.text) rawDifferent.push(event.eventId);
  }
  const expectedIds = new Set(expected.map((e) => e.eventId));
  const extra = [...byId.keys()].filter((id) => !expectedIds.has(id));
  expect({
    missing: missing.length,
    duplicates: duplicates.length,
    different: different.slice(0, 3),
    rawDifferent,
    extra: extra.length,
  }).toEqual({ missing: 0, duplicates: 0, different: [], rawDifferent: [], extra: 0 });
  expect(columnTypes.timestamp).toBe('TIMESTAMP WITH TIME ZONE');
  const partition = systemPartitionValue(arn);
  for (const e of archived) {
    const day = new Date(e.wire.timestamp * 1000).toISOString().slice(0, 10);
    expect(e.file).toBe(`${TABLE}/system=${partition}/dt=${day}/events.parquet`);
    expect([e.system, e.dt]).toEqual([partition, day]);
  }
  return archived;
}

describe('Resilience Hub ingest over the wire', () => {
  it('archives every event equal to the source under throttling, 500s, plain 503s, resets, cut bodies, repeats and empty pages', async () => {
    const faulty = await startResilienceHubServer({
      now: () => NOW,
      seed: 11,
      repeatAcrossPages: true,
      emptyPages: true,
      faults: { throttle: 0.08, serverError: 0.04, unavailable: 0.03, reset: 0.03, truncate: 0.03 },
      // ~170 events an hour: two pages of 100 a window, so repeats across page boundaries happen.
      systems: {
        [ARN]: generateSystemEvents({
          count: 8_000,
          fromMs: NOW - 2 * DAY_MS,
          toMs: NOW - HOUR_MS,
          systemArn: ARN,
          seed: 3,
        }),
      },
    });
    try {
      const result = await ingest({ client: await clientFor(faulty) });
      expect(result.status).toBe('complete');
      expect(result.events).toBe(8_000);
      expect(result.duplicates).toBeGreaterThan(0);
      for (const kind of ['throttle', 'serverError', 'unavailable', 'reset', 'truncate'] as const)
        expect(faulty.stats.faults[kind]).toBeGreaterThan(0);
      expect(result.throttles).toBeGreaterThan(0);
      expect(result.retries).toBeGreaterThan(0);
      expect(faulty.stats.signaturesVerified).toBeGreaterThan(result.pages);
      expect(
        Object.keys(faulty.stats.byError).filter((e) => /Signature|Unrecognized|Missing/.test(e)),
      ).toEqual([]);
      const archived = await expectArchiveEqualsSource(faulty.events(ARN));
      expect(
        archived.some((e) => e.rawMetadata !== undefined && /12345678901234567890123/.test(e.rawMetadata)),
      ).toBe(true);
    } finally {
      await faulty.close();
    }
  });

  it('keeps the archive equal to the source across reruns, concurrent runs and late events', async () => {
    server.addEvents(
      ARN,
      generateSystemEvents({
        count: 3_000,
        fromMs: NOW - 5 * DAY_MS,
        toMs: NOW - HOUR_MS,
        systemArn: ARN,
        seed: 5,
      }),
    );
    const [a, b] = await Promise.all([ingest(), ingest()]);
    expect([a.status, b.status].sort()).toEqual(['busy', 'complete']);
    await expectArchiveEqualsSource();

    // Late events: they appear after their window was first swept, within the lookback.
    const late = generateSystemEvents({
      count: 40,
      fromMs: NOW - 100 * MINUTE_MS,
      toMs: NOW - 5 * MINUTE_MS,
      systemArn: ARN,
      seed: 9,
      idPrefix: 'late-',
    });
    server.addEvents(ARN, late);
    const later = NOW + 15 * MINUTE_MS;
    server.setNow(later);
    const rerun = await ingest({ now: () => later });
    expect(rerun.newEvents).toBe(40);
    await expectArchiveEqualsSource();

    const explicit = await ingest({ now: () => later, from: NOW - 5 * DAY_MS, to: NOW });
    expect(explicit.newEvents).toBe(0);
    await expectArchiveEqualsSource();
  });

  it('keeps events the source has expired (a rewrite is a union)', async () => {
    const events = generateSystemEvents({
      count: 2_000,
      fromMs: NOW - 5 * DAY_MS,
      toMs: NOW - HOUR_MS,
      systemArn: ARN,
      seed: 13,
    });
    server.addEvents(ARN, events);
    await ingest();
    const later = NOW + 28 * DAY_MS;
    server.setNow(later);
    expect(server.events(ARN).length).toBeLessThan(events.length);
    // A late event in an old day makes that day's file be rewritten while its neighbours have expired.
    const lateOld = generateSystemEvents({
      count: 1,
      fromMs: NOW - DAY_MS,
      toMs: NOW - DAY_MS + HOUR_MS,
      systemArn: ARN,
      seed: 21,
      idPrefix: 'old-late-',
    });
    server.addEvents(ARN, lateOld);
    const result = await ingest({ now: () => later, from: NOW - 5 * DAY_MS, to: NOW });
    expect(result.status).toBe('complete');
    expect(result.newEvents).toBe(1);
    await expectArchiveEqualsSource([...events, ...lateOld]);
  });

  it('fails the instance with a clear InvalidSignatureException when the secret key is wrong, archiving nothing', async () => {
    server.addEvents(
      ARN,
      generateSystemEvents({ count: 50, fromMs: NOW - DAY_MS, toMs: NOW - HOUR_MS, systemArn: ARN }),
    );
    const wrong = await clientFor(server, {
      ...TEST_CREDENTIALS[0]!,
      secretAccessKey: 'not-the-secret-key-0000',
    });
    const failure = ingest({ client: wrong, settings: { backfillDays: 1 } });
    await expect(failure).rejects.toMatchObject({
      name: 'SourceFailedError',
      message: expect.stringMatching(
        /^resiliencehub arn:aws:resiliencehub:us-west-2:123456789012:system\/checkout:abc123: InvalidSignatureException: The request signature we calculated does not match/,
      ),
    });
    expect((await readArchive()).events).toEqual([]);
    // Fatal: not retried.
    expect(server.stats.byError.InvalidSignatureException).toBeLessThanOrEqual(resiliencehub.pageSize);
    expect(server.stats.byStatus['200']).toBeUndefined();
  });

  // Errors and their details as in the ListSystemEvents API reference:
  // https://docs.aws.amazon.com/resilience-hub/v2/APIReference/API_ListSystemEvents.html
  it('reports unknown and denied systems with the error details of the API reference, and goes on with the others', async () => {
    const unknown = ARN.replace('checkout', 'nothing');
    const denied = ARN.replace('checkout', 'secret');
    server.deniedSystems.add(denied);
    server.addEvents(denied, []);
    server.addEvents(
      ARN,
      generateSystemEvents({
        count: 300,
        fromMs: NOW - DAY_MS,
        toMs: NOW - HOUR_MS,
        systemArn: ARN,
        seed: 4,
      }),
    );
    const outcomes = await runIngest({
      source: resiliencehub,
      instances: [unknown, denied, ARN],
      store,
      client,
      now: () => NOW,
      settings: { backfillDays: 1 },
      retry: { baseMs: 1, throttleBaseMs: 1, capMs: 5 },
    });
    expect(outcomes[0]!.error).toEqual({
      name: 'SourceFailedError',
      message: expect.stringContaining(
        `ResourceNotFoundException: System ${unknown} was not found (resource System ${unknown})`,
      ),
    });
    expect(outcomes[1]!.error?.message).toMatch(/AccessDeniedException: User is not authorized/);
    expect(outcomes[2]!.result?.status).toBe('complete');
    await expectArchiveEqualsSource();
  });

  it('gives two systems with the same name in different accounts their own partitions', async () => {
    const twin = ARN.replace('123456789012', '210987654321');
    const mine = generateSystemEvents({
      count: 500,
      fromMs: NOW - DAY_MS,
      toMs: NOW - HOUR_MS,
      systemArn: ARN,
      seed: 31,
    });
    const theirs = generateSystemEvents({
      count: 500,
      fromMs: NOW - DAY_MS,
      toMs: NOW - HOUR_MS,
      systemArn: twin,
      seed: 32,
      idPrefix: 'twin-',
    });
    server.addEvents(ARN, mine);
    server.addEvents(twin, theirs);
    expect(systemPartitionValue(twin)).not.toBe(systemPartitionValue(ARN));
    await ingest({ settings: { backfillDays: 1 } });
    await ingest({ instance: twin, settings: { backfillDays: 1 } });
    await expectArchiveEqualsSource(mine, ARN);
    await expectArchiveEqualsSource(theirs, twin);
  });

  it('sends credentials only as the signature and the session token header', async () => {
    server.addEvents(
      ARN,
      generateSystemEvents({
        count: 200,
        fromMs: NOW - DAY_MS,
        toMs: NOW - HOUR_MS,
        systemArn: ARN,
        seed: 2,
      }),
    );
    await ingest({ settings: { backfillDays: 1 } });
    expect(server.requests.length).toBeGreaterThan(0);
    for (const request of server.requests) {
      const headers = JSON.stringify(request.headers);
      expect(headers).not.toContain(KEY.secretAccessKey);
      expect(request.url).not.toContain(KEY.secretAccessKey);
      expect(request.url).not.toContain(KEY.sessionToken);
      expect(request.headers['x-amz-security-token']).toBe(KEY.sessionToken);
      expect(request.headers.authorization).toMatch(
        new RegExp(
          `^AWS4-HMAC-SHA256 Credential=${KEY.accessKeyId}/\\d{8}/us-west-2/resiliencehub/aws4_request, SignedHeaders=`,
        ),
      );
    }
  });

  it('stores eventMetadata as the JSON text itself, so SQL engines read a document', async () => {
    server.addEvents(
      ARN,
      generateSystemEvents({ count: 50, fromMs: NOW - DAY_MS, toMs: NOW - HOUR_MS, systemArn: ARN, seed: 8 }),
    );
    await ingest({ settings: { backfillDays: 1 } });
    const { columnTypes } = await readArchive();
    expect(columnTypes.eventDetails).toMatch(/eventMetadata VARCHAR/);
  });
});

describe('Resilience Hub client', () => {
  let direct: ResilienceHubClient;
  beforeAll(async () => {
    direct = await clientFor(server);
  });

  it('is registered as a source with the limits of the API reference and the documented layout', async () => {
    expect(sourceByName('resiliencehub')).toBe(resiliencehub);
    expect(resiliencehub).toMatchObject({
      name: 'resiliencehub',
      title: 'Resilience Hub system events',
      table: TABLE,
      partitionKey: 'system',
      instanceOption: 'system-arn',
      idField: 'eventId',
      timeField: 'timestamp',
      pageSize: 100,
      pageSizeLimits: { min: 1, max: 100 },
      retentionDays: 90,
    });
    expect(() => resiliencehub.checkInstance('arn:nope', '--system-arn')).toThrow(
      /^--system-arn: must be at least 31/,
    );
  });

  it('derives a path-safe, readable, account- and region-unique partition value from the ARN', () => {
    const value = systemPartitionValue(ARN);
    expect(value).toMatch(/^checkout-abc123-[0-9a-f]{16}$/);
    expect(systemPartitionValue(ARN)).toBe(value);
    const variants = [
      ARN.replace('us-west-2', 'eu-west-1'),
      ARN.replace('123456789012', '123456789013'),
      ARN.replace(':abc123', '/abc123'),
      ARN.replace(':abc123', '+abc123'),
      'arn:aws-cn:resiliencehub:cn-north-1:123456789012:system/checkout:abc123',
    ];
    const values = new Set([value, ...variants.map(systemPartitionValue)]);
    expect(values.size).toBe(variants.length + 1);
    for (const v of values) expect(v).toMatch(/^[A-Za-z0-9._-]{1,128}$/);
    const long = systemPartitionValue(
      `arn:aws:resiliencehub:us-east-1:123456789012:system/${'n'.repeat(1000)}`,
    );
    expect(long.length).toBeLessThanOrEqual(97);
    expect(systemPartitionValue('arn:aws:resiliencehub:us-east-1:123456789012:/::/+')).toMatch(
      /^system-[0-9a-f]{16}$/,
    );
    expect(() => systemPartitionValue('arn:aws:x')).toThrow(/^systemArn: /);
  });

  it('uses the region of the ARN and the partition DNS suffix for the default endpoint', () => {
    expect(parseSystemArn(ARN)).toEqual({
      partition: 'aws',
      service: 'resiliencehub',
      region: 'us-west-2',
      accountId: '123456789012',
      resource: 'system/checkout:abc123',
    });
    expect(defaultEndpoint('aws', 'us-west-2')).toBe('https://resiliencehub.us-west-2.amazonaws.com');
    expect(defaultEndpoint('aws-cn', 'cn-north-1')).toBe('https://resiliencehub.cn-north-1.amazonaws.com.cn');
  });

  it('sends the query of the API reference: ISO 8601 times, maxResults, several eventTypes, nextToken', async () => {
    server.addEvents(
      ARN,
      generateSystemEvents({ count: 120, fromMs: NOW - DAY_MS, toMs: NOW, systemArn: ARN, seed: 12 }),
    );
    const types = ['SYSTEM_CREATED', 'SYSTEM_DELETED', 'SYSTEM_POLICY_ASSOCIATED'] as const;
    const first = await direct.listSystemEvents({
      systemArn: ARN,
      startTime: NOW - DAY_MS,
      endTime: new Date(NOW),
      eventTypes: types,
      maxResults: 5,
    });
    expect(first.events).toHaveLength(5);
    expect(first.events.every((e) => (types as readonly string[]).includes(e.eventType!))).toBe(true);
    await direct.listSystemEvents({
      systemArn: ARN,
      eventTypes: types,
      startTime: NOW - DAY_MS,
      endTime: NOW,
      nextToken: first.nextToken!,
    });
    const url = new URL(server.requests[0]!.url, server.url);
    expect(url.pathname).toBe('/v2/list-system-events');
    expect([...url.searchParams]).toEqual([
      ['systemArn', ARN],
      ['startTime', '2026-11-19T12:00:00Z'],
      ['endTime', '2026-11-20T12:00:00Z'],
      ['eventTypes', 'SYSTEM_CREATED'],
      ['eventTypes', 'SYSTEM_DELETED'],
      ['eventTypes', 'SYSTEM_POLICY_ASSOCIATED'],
      ['maxResults', '5'],
    ]);
    expect(new URL(server.requests[1]!.url, server.url).searchParams.get('nextToken')).toBe(first.nextToken);
    // A window is asked from just before its start.
    await direct.listPage({
      instance: ARN,
      start: NOW - HOUR_MS,
      end: NOW,
      nextToken: undefined,
      pageSize: 100,
    });
    expect(new URL(server.requests[2]!.url, server.url).searchParams.get('startTime')).toBe(
      new Date(NOW - HOUR_MS - START_SLACK_MS).toISOString(),
    );
  });

  it.each<[string, Parameters<ResilienceHubClient['listSystemEvents']>[0], RegExp]>([
    ['a bad systemArn', { systemArn: 'arn:aws:resiliencehub:us-west-2:123:system/x' }, /^systemArn: /],
    ['maxResults 101', { systemArn: ARN, maxResults: 101 }, /^maxResults: must be an integer from 1 to 100/],
    ['maxResults 0', { systemArn: ARN, maxResults: 0 }, /^maxResults: /],
    ['an unknown event type', { systemArn: ARN, eventTypes: ['SYSTEM_GONE' as never] }, /^eventTypes: /],
    ['a nextToken with a space', { systemArn: ARN, nextToken: 'a b' }, /^nextToken: /],
    ['an empty nextToken', { systemArn: ARN, nextToken: '' }, /^nextToken: /],
    ['endTime before startTime', { systemArn: ARN, startTime: NOW, endTime: NOW - 1 }, /^endTime: /],
  ])('refuses %s before sending anything', async (_case, input, message) => {
    await expect(direct.listSystemEvents(input)).rejects.toMatchObject({
      errorType: 'ValidationException',
      message: expect.stringMatching(message),
    });
    expect(server.stats.requests).toBe(0);
  });

  it('puts the error details of the API reference into the message and keeps them on the error', async () => {
    server.addEvents(ARN, []);
    server.failNextWith('ValidationException', 1, 'Invalid input', {
      reason: 'INVALID_FIELD_VALUE',
      fieldList: [{ name: 'startTime', message: 'too far in the past' }],
    });
    const error = await direct.listSystemEvents({ systemArn: ARN }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: 'ValidationException',
      message: 'Invalid input (reason INVALID_FIELD_VALUE; fields startTime: too far in the past)',
      $metadata: { httpStatusCode: 400 },
      body: {
        reason: 'INVALID_FIELD_VALUE',
        fieldList: [{ name: 'startTime', message: 'too far in the past' }],
      },
    });
    const missing = ARN.replace('checkout', 'gone');
    const notFound = await direct.listSystemEvents({ systemArn: missing }).catch((e: unknown) => e);
    expect(notFound).toMatchObject({
      name: 'ResourceNotFoundException',
      $metadata: { httpStatusCode: 404 },
      body: { resourceId: missing, resourceType: 'System' },
      message: `System ${missing} was not found (resource System ${missing})`,
    });
    server.failNext('unavailable');
    const plain = await direct.listSystemEvents({ systemArn: ARN }).catch((e: unknown) => e);
    expect(plain).toMatchObject({
      name: 'Http503',
      message: 'ListSystemEvents answered HTTP 503: Service Unavailable',
    });
  });

  it('times a request out, and the pipeline retries it', async () => {
    const slow = await clientFor(server);
    const quick = await createResilienceHubClient({ env: envFor(server), requestTimeoutMs: 50 });
    server.addEvents(
      ARN,
      generateSystemEvents({ count: 10, fromMs: NOW - HOUR_MS, toMs: NOW, systemArn: ARN }),
    );
    server.latencyMs = 200;
    try {
      await expect(quick.listSystemEvents({ systemArn: ARN })).rejects.toMatchObject({
        name: 'TimeoutError',
      });
      expect((await slow.listSystemEvents({ systemArn: ARN })).events).toHaveLength(10);
    } finally {
      server.latencyMs = 0;
    }
  });

  it('takes the signing name from RESILIENCEHUB_SIGNING_NAME', async () => {
    const custom = await startResilienceHubServer({
      now: () => NOW,
      signingName: 'resiliencehub-beta',
      systems: { [ARN]: [] },
    });
    try {
      const wrongName = await clientFor(custom);
      await expect(wrongName.listSystemEvents({ systemArn: ARN })).rejects.toMatchObject({
        name: 'InvalidSignatureException',
        message: expect.stringContaining("scoped to correct service: 'resiliencehub-beta'"),
      });
      const right = await clientFor(custom, KEY, { RESILIENCEHUB_SIGNING_NAME: 'resiliencehub-beta' });
      expect((await right.listSystemEvents({ systemArn: ARN })).events).toEqual([]);
    } finally {
      await custom.close();
    }
  });
});

describe('ListSystemEvents decoding', () => {
  it('reads epoch seconds exactly to the millisecond, truncating below it', () => {
    expect(epochSecondsToMs(1763640000.123)).toBe(1763640000123);
    expect(epochSecondsToMs(1763640000.1)).toBe(1763640000100);
    expect(epochSecondsToMs(1763640000)).toBe(1763640000000);
    expect(epochSecondsToMs(1763640000.9999)).toBe(1763640000999);
    expect(epochSecondsToMs(0.001)).toBe(1);
    for (let ms = 1763640000000; ms < 1763640001000; ms += 7) expect(epochSecondsToMs(ms / 1000)).toBe(ms);
    expect(epochSecondsToMs('2026-11-20T12:00:00.5Z')).toBe(NOW + 500);
    expect(epochSecondsToMs('soon')).toBeUndefined();
    expect(epochSecondsToMs(Number.NaN)).toBeUndefined();
  });

  it('keeps each eventMetadata as the exact text sent, whatever surrounds it', () => {
    const text =
      '{ "nextToken" : "t", "events" : [ {"eventId":"a","timestamp":1,"eventDetails":{"title":"x \\" } ] {","eventMetadata" : {"n":12345678901234567890,"2":[1.0,{"k":"]}"}],"1":-0 } }},' +
      '{"eventId":"b","timestamp":2},' +
      '{"eventId":"c","timestamp":3,"eventDetails":{"eventMetadata":null}},' +
      '{"eventId":"d","timestamp":4,"eventDetails":{"eventMetadata":"just a string"}},' +
      '{"eventId":"e","timestamp":5,"eventDetails":{"eventMetadata":{"x":1},"eventMetadata":[2]}},' +
      '{"eventId":"f","timestamp":6,"eventDetails":{"eventMetadata":{"x":1}},"eventDetails":{"title":"no metadata"}},' +
      '{"eventId":"g","timestamp":7,"eventDet\\u0061ils":{"eventMetadata":{"escaped":"key"}}}]}';
    expect([...eventMetadataTexts(text)]).toEqual([
      [0, '{"n":12345678901234567890,"2":[1.0,{"k":"]}"}],"1":-0 }'],
      [3, '"just a string"'],
      [4, '[2]'],
      [6, '{"escaped":"key"}'],
    ]);
    const out = decodeListSystemEvents(text);
    expect(out.nextToken).toBe('t');
    expect(out.events.map((e) => e.eventDetails?.eventMetadata ?? null)).toEqual([
      '{"n":12345678901234567890,"2":[1.0,{"k":"]}"}],"1":-0 }',
      null,
      null,
      '"just a string"',
      '[2]',
      null,
      '{"escaped":"key"}',
    ]);
    expect(out.events[1]).toEqual({ eventId: 'b', timestamp: new Date(2000) });
  });

  it.each([
    ['not JSON', '{"events":[', /not JSON/],
    ['events not an array', '{"events":{}}', /events: is not an array/],
    ['an event without eventId', '{"events":[{"timestamp":1}]}', /events\[0\]\.eventId: is missing/],
    [
      'an event without timestamp',
      '{"events":[{"eventId":"x"}]}',
      /events\[0\]\.timestamp: is not epoch seconds/,
    ],
    ['a timestamp as text', '{"events":[{"eventId":"x","timestamp":"yesterday"}]}', /is not epoch seconds/],
  ])('fails loudly on %s', (_case, text, message) => {
    expect(() => decodeListSystemEvents(text)).toThrow(message);
  });
});
