/**
 * The ingest's metric figures, each checked against what the run really did: events archived, pages,
 * throttles and retries under injected faults, windows re-swept, ingestion lag, failed instances.
 * Then the Lambda handler end to end: the EMF documents it writes to stdout, parsed back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { archiveInstance } from '../../../bin/commands/ingest';
import { instanceDataPrefix } from '../../../lambdas/core/layout';
import { LocalStore } from '../../../lambdas/core/local-store';
import { decodeParquet } from '../../../lambdas/core/parquet';
import type { ArchiveRecord } from '../../../lambdas/core/records';
import { Lease } from '../../../lambdas/ingest/archive/lease';
import { handler } from '../../../lambdas/ingest/index';
import { type IngestRequest, ingestInstance, partialResultOf } from '../../../lambdas/ingest/ingest-instance';
import { type RunRequest, runIngest } from '../../../lambdas/ingest/ingest-run';
import { codecatalyst } from '../../../lambdas/ingest/sources/codecatalyst';
import type { InstanceFigures } from '../../../lambdas/shared/src/metrics';
import { DAY_MS, HOUR_MS, iso, MINUTE_MS } from '../../../lambdas/shared/src/time';
import { clockEnv, pinnedClock } from '../../helpers/clock';
import { startCodeCatalystServer } from '../../support/codecatalyst-server';
import { generateEvents } from '../../support/sample-events';
import { FakeSource, record } from './fake-source';

// 2024-05-10T12:00Z; with a 3-day backfill the period starts 2024-05-07T12:00Z.
const NOW = Date.UTC(2024, 4, 10, 12, 0, 0);
const BACKFILL_FROM = NOW - 3 * DAY_MS;
const table = { table: codecatalyst.table, partitionKey: 'space', partitionValue: 'acme' };
let dir: string;
let store: LocalStore;
let source: FakeSource;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ingest-metrics-'));
  store = new LocalStore(dir);
  source = new FakeSource();
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

function events(count: number, from: number, to: number, prefix = 'e'): ArchiveRecord[] {
  return Array.from({ length: count }, (_, i) =>
    record(`${prefix}${String(i).padStart(6, '0')}`, from + Math.floor(((to - from) * i) / count)),
  );
}

/** Runs like the Lambda does (runIngest) and returns each instance's figures with the outcomes. */
async function run(overrides: Partial<RunRequest> = {}) {
  const figures: InstanceFigures[] = [];
  const outcomes = await runIngest({
    source: codecatalyst,
    instances: ['acme'],
    store,
    client: source,
    now: () => NOW,
    settings: { backfillDays: 3, maxConcurrency: 8 },
    retry: { baseMs: 1, throttleBaseMs: 1 },
    onFigures: (f) => figures.push(f),
    ...overrides,
  });
  return { outcomes, figures, result: outcomes[0]?.result, figure: figures[0]! };
}

async function archivedCount(instance = 'acme'): Promise<number> {
  let count = 0;
  for await (const object of store.list(instanceDataPrefix({ ...table, partitionValue: instance }))) {
    count += (await decodeParquet(codecatalyst.fields, (await store.get(object.key))!.body)).length;
  }
  return count;
}

const error = (name: string, status: number, message = name): Error =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

describe('ingest metric figures', () => {
  it('counts events archived as the new events, and every page fetched', async () => {
    source.add('acme', events(600, BACKFILL_FROM, NOW - HOUR_MS));
    // The first 6 hours archived by an earlier run: not counted again.
    const { figure: first } = await run({ to: NOW - 3 * DAY_MS + 6 * HOUR_MS, from: BACKFILL_FROM });
    expect(first.eventsArchived).toBe(await archivedCount());
    expect(first.eventsArchived).toBeGreaterThan(0);
    const archivedBefore = await archivedCount();

    source.calls = 0;
    const { figure, result } = await run({ now: () => NOW + 5 * MINUTE_MS });
    expect(result?.newEvents).toBe(600 - archivedBefore);
    expect(figure).toEqual({
      source: 'codecatalyst',
      instance: 'acme',
      eventsArchived: 600 - archivedBefore,
      pagesFetched: source.calls,
      throttles: 0,
      retries: 0,
      windowsReswept: 0,
      // Everything is complete up to NOW; the run ends 5 minutes later.
      ingestionLagSeconds: 300,
      instanceFailed: false,
    });
    expect(figure.pagesFetched).toBe(result?.pages);
    expect(await archivedCount()).toBe(600);
  });

  it('counts throttles and retries of injected 429s, 5xx and a dropped connection', async () => {
    source.add('acme', events(300, NOW - DAY_MS, NOW - HOUR_MS));
    source.failures = [
      error('ThrottlingException', 429),
      error('InternalServerException', 500),
      error('ThrottlingException', 429),
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      error('ThrottlingException', 429),
      error('ServiceUnavailableException', 503),
    ];
    const { figure } = await run({ settings: { backfillDays: 1, maxConcurrency: 4 } });
    expect(figure).toMatchObject({ throttles: 3, retries: 3, eventsArchived: 300, instanceFailed: false });
    // Every call but the six failed ones delivered a page.
    expect(figure.pagesFetched).toBe(source.calls - 6);
  });

  it('counts windows swept again that the ledger already had complete', async () => {
    source.add('acme', events(500, BACKFILL_FROM, NOW - HOUR_MS));
    const { figure: first } = await run();
    expect(first.windowsReswept).toBe(0);

    // 10 minutes later the two windows inside the 2-hour lookback are swept again, and a late event appears.
    source.add('acme', [record('late', NOW - 90 * MINUTE_MS)]);
    const { figure: second, result } = await run({ now: () => NOW + 10 * MINUTE_MS });
    expect(result?.windowsTotal).toBe(2);
    expect(second).toMatchObject({ windowsReswept: 2, eventsArchived: 1 });

    // An explicit re-ingest of a whole day re-sweeps its 24 windows.
    const day = Date.UTC(2024, 4, 8);
    const { figure: explicit } = await run({ from: day, to: day + DAY_MS });
    expect(explicit).toMatchObject({ windowsReswept: 24, eventsArchived: 0 });
  });

  it('measures lag from the end of the contiguously complete backfill, down to zero when complete', async () => {
    source.add('acme', events(400, BACKFILL_FROM, NOW - HOUR_MS));
    // A day in the middle keeps failing: the backfill is complete only up to its start.
    const failing = Date.UTC(2024, 4, 8);
    source.failWhen = (req) =>
      req.start >= failing && req.start < failing + DAY_MS
        ? error('InternalServerException', 500)
        : undefined;
    const partly = await run({ retry: { maxAttempts: 2, baseMs: 1 } });
    expect(partly.result?.coveredThrough).toBe(iso(failing));
    expect(partly.figure).toMatchObject({
      ingestionLagSeconds: (NOW - failing) / 1000,
      instanceFailed: true,
    });

    source.failWhen = () => undefined;
    const complete = await run({ now: () => NOW + 20 * MINUTE_MS });
    expect(complete.result?.coveredThrough).toBe(iso(NOW));
    expect(complete.figure).toMatchObject({ ingestionLagSeconds: 20 * 60, instanceFailed: false });
  });

  it('measures lag from the start of the backfill period while its first window is not complete', async () => {
    source.add('acme', events(100, BACKFILL_FROM, NOW - HOUR_MS));
    source.failWhen = (req) =>
      req.start === BACKFILL_FROM ? error('InternalServerException', 500) : undefined;
    const { result, figure } = await run({ retry: { maxAttempts: 2, baseMs: 1 } });
    expect(result?.coveredThrough).toBeNull();
    expect(result?.backfillFrom).toBe(iso(BACKFILL_FROM));
    expect(figure.ingestionLagSeconds).toBe(3 * 24 * 3600);
    // The other days were archived all the same.
    expect(figure.eventsArchived).toBe(await archivedCount());
    expect(figure.eventsArchived).toBeGreaterThan(0);
  });

  it('reports a fatally failing instance as failed, with its lag, and the other one as not failed', async () => {
    source.add('acme', events(50, BACKFILL_FROM, NOW - HOUR_MS));
    source.add('other', events(10, NOW - DAY_MS, NOW - HOUR_MS, 'o'));
    source.failWhen = (req) => (req.instance === 'acme' ? error('AccessDeniedException', 403) : undefined);
    const { outcomes, figures } = await run({ instances: ['acme', 'other'] });
    expect(outcomes[0]?.error?.name).toBe('SourceFailedError');
    expect(figures).toEqual([
      {
        source: 'codecatalyst',
        instance: 'acme',
        eventsArchived: 0,
        pagesFetched: 0,
        throttles: 0,
        retries: 0,
        windowsReswept: 0,
        // It read its (empty) ledger before failing: nothing is complete.
        ingestionLagSeconds: 3 * 24 * 3600,
        instanceFailed: true,
      },
      expect.objectContaining({ instance: 'other', eventsArchived: 10, instanceFailed: false }),
    ]);
  });

  it('still counts what a failing instance archived before its fatal error', async () => {
    source.add('acme', events(900, BACKFILL_FROM, NOW - HOUR_MS));
    const lastDay = Date.UTC(2024, 4, 10);
    source.failWhen = (req) => (req.start >= lastDay ? error('AccessDeniedException', 403) : undefined);
    const request: IngestRequest = {
      source: codecatalyst,
      instance: 'acme',
      store,
      client: source,
      now: () => NOW,
      settings: { backfillDays: 3, maxConcurrency: 1 },
    };
    const failure = await ingestInstance(request).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect((failure as Error).name).toBe('SourceFailedError');
    const partial = partialResultOf(failure);
    // Days committed before the error are counted. A day whose data write raced the abort may hold
    // events that no ledger records yet (the next run re-sweeps it), so the file can hold more.
    expect(partial?.newEvents).toBeGreaterThan(0);
    expect(partial?.newEvents).toBeLessThanOrEqual(await archivedCount());
    // The last day never committed: coverage ends at its start at the latest.
    expect(Date.parse(partial!.coveredThrough!)).toBeLessThanOrEqual(lastDay);

    const before = await archivedCount();
    const { figure } = await run({ settings: { backfillDays: 3, maxConcurrency: 1 } });
    expect(figure).toMatchObject({ instanceFailed: true, eventsArchived: (await archivedCount()) - before });
    expect(figure.ingestionLagSeconds).toBeGreaterThanOrEqual((NOW - lastDay) / 1000);
  });

  it('reports a run that found the lease busy as not failed, with nothing done and the current lag', async () => {
    source.add('acme', events(200, BACKFILL_FROM, NOW - HOUR_MS));
    await run();
    const lease = await Lease.acquire(store, table, { ttlMs: 60_000 });
    try {
      const { result, figure } = await run({ now: () => NOW + 30 * MINUTE_MS });
      expect(result?.status).toBe('busy');
      expect(result?.coveredThrough).toBe(iso(NOW));
      expect(figure).toEqual({
        source: 'codecatalyst',
        instance: 'acme',
        eventsArchived: 0,
        pagesFetched: 0,
        throttles: 0,
        retries: 0,
        windowsReswept: 0,
        ingestionLagSeconds: 30 * 60,
        instanceFailed: false,
      });
    } finally {
      await lease.release();
    }
  });

  it('gives coverage for a range with nothing to fetch too (the early return)', async () => {
    source.add('acme', events(100, BACKFILL_FROM, NOW - HOUR_MS));
    await run();
    const { result } = await run({ from: NOW - HOUR_MS, to: NOW - HOUR_MS });
    expect(result).toMatchObject({ windowsTotal: 0, windowsReswept: 0, coveredThrough: iso(NOW) });
  });
});

describe('ingest Lambda metrics', () => {
  const context = {
    awsRequestId: 'req-metrics',
    functionName: 'ingest',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:ingest',
    memoryLimitInMB: '1024',
    getRemainingTimeInMillis: () => 900_000,
  } as unknown as Context;

  it('writes one EMF document per instance to stdout, also for the instance that failed', async () => {
    // Just after midnight: the one-day backfill and the lag both reach into the previous day.
    const clock = pinnedClock(Date.UTC(2026, 2, 10, 0, 22));
    const now = clock();
    const spaceEvents = generateEvents({ count: 300, fromMs: now - 20 * HOUR_MS, toMs: now - 3 * HOUR_MS });
    const server = await startCodeCatalystServer({
      now: clock,
      tokens: ['metrics-token-0123456789'],
      spaces: { 'acme-corp': spaceEvents, 'denied-space': [] },
      deniedSpaces: ['denied-space'],
      faults: { throttle: 0.05 },
    });
    const stdout: string[] = [];
    try {
      vi.stubEnv('ARCHIVE_URI', `file://${dir}`);
      vi.stubEnv('CODECATALYST_TOKEN', 'metrics-token-0123456789');
      vi.stubEnv('AWS_ENDPOINT_URL_CODECATALYST', server.url);
      vi.stubEnv('AWS_REGION', 'us-east-1');
      vi.stubEnv('BACKFILL_DAYS', '1');
      for (const [name, value] of Object.entries(clockEnv(clock))) vi.stubEnv(name, value);
      vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'eventlog-archive-ingest');
      vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', undefined);
      vi.stubEnv('POWERTOOLS_DEV', 'false');
      vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
      vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
        stdout.push(...String(chunk).split('\n').filter(Boolean));
        return true;
      });
      vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      await expect(
        handler({ source: 'codecatalyst', instances: ['acme-corp', 'denied-space'] }, context),
      ).rejects.toThrow('ingest incomplete for denied-space');
    } finally {
      vi.restoreAllMocks();
      await server.close();
    }

    const docs = stdout
      .filter((l) => l.startsWith('{') && l.includes('"_aws"'))
      .map((l) => JSON.parse(l) as Record<string, unknown> & { _aws: { CloudWatchMetrics: unknown[] } });
    expect(docs).toHaveLength(2);
    for (const doc of docs) {
      expect(doc._aws.CloudWatchMetrics).toEqual([
        {
          Namespace: 'EventlogArchive',
          Dimensions: [['service', 'Source', 'Instance']],
          Metrics: [
            { Name: 'EventsArchived', Unit: 'Count' },
            { Name: 'PagesFetched', Unit: 'Count' },
            { Name: 'Throttles', Unit: 'Count' },
            { Name: 'Retries', Unit: 'Count' },
            { Name: 'WindowsReswept', Unit: 'Count' },
            { Name: 'IngestionLagSeconds', Unit: 'Seconds' },
            { Name: 'InstanceFailed', Unit: 'Count' },
          ],
        },
      ]);
      expect(doc).toMatchObject({ service: 'eventlog-archive-ingest', Source: 'codecatalyst' });
    }
    const [acme, denied] = docs;
    expect(acme).toMatchObject({ Instance: 'acme-corp', EventsArchived: 300, InstanceFailed: 0 });
    expect(acme!.PagesFetched).toBeGreaterThanOrEqual(24);
    // Complete through the last whole hour (a 60-minute window), plus the run's own duration.
    expect(acme!.IngestionLagSeconds).toBeLessThan(3_600 + 60);
    expect(denied).toMatchObject({ Instance: 'denied-space', EventsArchived: 0, InstanceFailed: 1 });
    expect(denied!.IngestionLagSeconds).toBeGreaterThanOrEqual(24 * 3600);
    // The log lines around them are still the logger's, and no secret reached stdout.
    expect(stdout.some((l) => l.includes('"message":"ingest finished"'))).toBe(true);
    expect(stdout.join('\n')).not.toContain('metrics-token-0123456789');
  });

  it('the CLI writes no EMF document and shows re-sweeps and lag in its summary', async () => {
    const clock = pinnedClock(Date.UTC(2026, 2, 10, 0, 22));
    const now = clock();
    const server = await startCodeCatalystServer({
      now: clock,
      tokens: ['metrics-token-0123456789'],
      spaces: {
        'acme-corp': generateEvents({ count: 50, fromMs: now - 20 * HOUR_MS, toMs: now - 3 * HOUR_MS }),
      },
    });
    const stdout: string[] = [];
    try {
      vi.stubEnv('POWERTOOLS_DEV', 'false');
      vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
      vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
        stdout.push(...String(chunk).split('\n').filter(Boolean));
        return true;
      });
      vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      const code = await archiveInstance({
        source: codecatalyst,
        instance: 'acme-corp',
        archive: dir,
        settings: { backfillDays: 1 },
        clock,
        env: { CODECATALYST_TOKEN: 'metrics-token-0123456789', AWS_ENDPOINT_URL_CODECATALYST: server.url },
      });
      expect(code).toBe(0);
    } finally {
      vi.restoreAllMocks();
      await server.close();
    }
    expect(stdout.filter((l) => l.includes('"_aws"'))).toEqual([]);
    expect(stdout.join('\n')).toMatch(
      /^complete: .* 50 events fetched \(50 new\), .*; 0 windows re-swept, lag \d[\d,]* s \(complete through \d{4}-\d\d-\d\dT\d\d:00:00\.000Z\)$/m,
    );
  });
});
