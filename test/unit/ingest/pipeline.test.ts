import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { instanceDataPrefix, leaseKey } from '../../../lambdas/core/layout';
import { coverageOf, listLedgerDays, readLedgerDays } from '../../../lambdas/core/ledger';
import { LocalStore } from '../../../lambdas/core/local-store';
import { decodeParquet } from '../../../lambdas/core/parquet';
import { type ArchiveRecord, canonicalJson } from '../../../lambdas/core/records';
import { Lease } from '../../../lambdas/ingest/archive/lease';
import { type CommitStep, type IngestRequest, ingestInstance } from '../../../lambdas/ingest/ingest-instance';
import { runIngest } from '../../../lambdas/ingest/ingest-run';
import { codecatalyst } from '../../../lambdas/ingest/sources/codecatalyst';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../../lambdas/shared/src/time';
import { FakeSource, record } from './fake-source';

const NOW = Date.UTC(2024, 4, 10, 12, 0, 0);
const table = { table: codecatalyst.table, partitionKey: 'space', partitionValue: 'acme' };
let dir: string;
let store: LocalStore;
let source: FakeSource;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'pipeline-'));
  store = new LocalStore(dir);
  source = new FakeSource();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function events(count: number, from: number, to: number, prefix = 'e'): ArchiveRecord[] {
  return Array.from({ length: count }, (_, i) =>
    record(`${prefix}${String(i).padStart(6, '0')}`, from + Math.floor(((to - from) * i) / count)),
  );
}

function run(overrides: Partial<IngestRequest> = {}): ReturnType<typeof ingestInstance> {
  return ingestInstance({
    source: codecatalyst,
    instance: 'acme',
    store,
    client: source,
    now: () => NOW,
    settings: { backfillDays: 3, maxConcurrency: 8 },
    retry: { baseMs: 1, throttleBaseMs: 1 },
    ...overrides,
  });
}

async function archived(instance = 'acme'): Promise<ArchiveRecord[]> {
  const out: ArchiveRecord[] = [];
  for await (const object of store.list(instanceDataPrefix({ ...table, partitionValue: instance }))) {
    const body = (await store.get(object.key))!.body;
    out.push(...(await decodeParquet(codecatalyst.fields, body)));
  }
  return out;
}

/** Archive equals the given records: none missing, none duplicated, every field identical. */
async function expectArchiveEquals(expected: ArchiveRecord[], instance = 'acme'): Promise<void> {
  const actual = await archived(instance);
  const ids = actual.map((r) => r.id);
  expect(new Set(ids).size).toBe(ids.length);
  const canon = (rs: ArchiveRecord[]): string[] =>
    rs.map((r) => canonicalJson(codecatalyst.fields, r)).sort();
  expect(canon(actual)).toEqual(canon(expected));
}

describe('ingestInstance', () => {
  it('archives every event of the backfill into its UTC day, each once', async () => {
    const all = events(3_000, NOW - 3 * DAY_MS, NOW - HOUR_MS);
    source.add('acme', all);
    const result = await run();
    expect(result).toMatchObject({
      status: 'complete',
      events: 3_000,
      newEvents: 3_000,
      windowsRemaining: 0,
      failures: [],
    });
    await expectArchiveEquals(all);
    const keys: string[] = [];
    for await (const o of store.list('codecatalyst_event_logs/')) keys.push(o.key);
    expect(keys).toEqual([
      'codecatalyst_event_logs/space=acme/dt=2024-05-07/events.parquet',
      'codecatalyst_event_logs/space=acme/dt=2024-05-08/events.parquet',
      'codecatalyst_event_logs/space=acme/dt=2024-05-09/events.parquet',
      'codecatalyst_event_logs/space=acme/dt=2024-05-10/events.parquet',
    ]);
  });

  it('stores each day sorted by event time then id', async () => {
    source.add('acme', [
      record('b', NOW - 5 * HOUR_MS),
      record('a', NOW - 5 * HOUR_MS),
      record('c', NOW - 6 * HOUR_MS),
    ]);
    await run();
    expect((await archived()).map((r) => r.id)).toEqual(['c', 'a', 'b']);
  });

  it('records every window in the ledger and reports the recent ones as provisional', async () => {
    source.add('acme', events(100, NOW - 2 * DAY_MS, NOW - HOUR_MS));
    await run();
    const days = await listLedgerDays(store, table);
    const ledger = await readLedgerDays(store, table, days);
    const report = coverageOf(ledger, {
      source: 'codecatalyst',
      instance: 'acme',
      from: NOW - 3 * DAY_MS,
      to: NOW,
      sliceMs: HOUR_MS,
      lookbackMs: 2 * HOUR_MS,
    });
    expect(report.windows).toEqual({ final: 70, provisional: 2, missing: 0 });
    expect(report.events).toBe(100);
    const window = ledger.get('2024-05-09')?.windows['2024-05-09T00:00:00.000Z'];
    expect(window).toMatchObject({ complete: true, pages: 1, sweeps: 1 });
    expect(window?.contentHash).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('fetches only windows that are not final on the next run', async () => {
    source.add('acme', events(500, NOW - 3 * DAY_MS, NOW - HOUR_MS));
    await run();
    source.calls = 0;
    const second = await run({ now: () => NOW + 10 * MINUTE_MS });
    expect(second.windowsTotal).toBe(2); // the two windows still inside the 2-hour lookback
    expect(source.calls).toBe(2);
    expect(second.newEvents).toBe(0);
  });

  it('picks up late events in windows inside the lookback', async () => {
    const first = events(200, NOW - DAY_MS, NOW - HOUR_MS);
    source.add('acme', first);
    await run();
    const late = [record('late-1', NOW - 90 * MINUTE_MS), record('late-2', NOW - 30 * MINUTE_MS)];
    source.add('acme', late);
    const result = await run({ now: () => NOW + 5 * MINUTE_MS });
    expect(result.newEvents).toBe(2);
    await expectArchiveEquals([...first, ...late]);
  });

  it('never removes an archived event the source has since expired', async () => {
    const all = events(300, NOW - 3 * DAY_MS, NOW - HOUR_MS);
    source.add('acme', all);
    await run();
    source.expireBefore = NOW - DAY_MS;
    const result = await run({ from: NOW - 3 * DAY_MS, to: NOW });
    expect(result.status).toBe('complete');
    await expectArchiveEquals(all);
  });

  it('is idempotent: reruns of an explicit range change nothing', async () => {
    const all = events(1_000, NOW - 2 * DAY_MS, NOW - HOUR_MS);
    source.add('acme', all);
    await run({ from: NOW - 2 * DAY_MS, to: NOW });
    const again = await run({ from: NOW - 2 * DAY_MS, to: NOW });
    expect(again.newEvents).toBe(0);
    await expectArchiveEquals(all);
  });

  it('drops repeated items and items outside the asked window', async () => {
    const inside = record('x', NOW - 5 * HOUR_MS);
    const client = {
      calls: 0,
      async listPage(req: { start: number; nextToken?: string | undefined }) {
        if (req.start !== NOW - 5 * HOUR_MS) return { items: [] };
        // Page 1 ends with x, page 2 repeats it; page 2 also strays outside the window.
        if (!req.nextToken) return { items: [inside], nextToken: 'p2' };
        return { items: [inside, record('stray', NOW - 30 * HOUR_MS)] };
      },
    };
    const result = await run({ client: client as never });
    expect(result.duplicates).toBe(1);
    expect(result.outOfRange).toBe(1);
    await expectArchiveEquals([inside]);
  });

  it('retries throttling with backoff and lowers concurrency', async () => {
    const all = events(400, NOW - DAY_MS, NOW - HOUR_MS);
    source.add('acme', all);
    const throttle = Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 429 },
    });
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    source.failures = [throttle, throttle, reset, throttle];
    const result = await run({ settings: { backfillDays: 1, maxConcurrency: 8 } });
    expect(result.status).toBe('complete');
    expect(result.throttles).toBe(3);
    expect(result.retries).toBe(1);
    await expectArchiveEquals(all);
  });

  it('fails the instance with a clear error on AccessDenied and goes on with other instances', async () => {
    source.add('other', events(10, NOW - DAY_MS, NOW - HOUR_MS));
    const denied = Object.assign(new Error('no access'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 403 },
    });
    source.failures = [denied];
    const outcomes = await runIngest({
      source: codecatalyst,
      instances: ['acme', 'other'],
      store,
      client: source,
      now: () => NOW,
      settings: { backfillDays: 1, maxConcurrency: 1 },
    });
    expect(outcomes[0]).toMatchObject({
      instance: 'acme',
      error: { name: 'SourceFailedError', message: expect.stringContaining('AccessDeniedException') },
    });
    expect(outcomes[1]?.result?.status).toBe('complete');
    expect(await archived('other')).toHaveLength(10);
  });

  it('leaves a day whose fetch keeps failing for the next run', async () => {
    const all = events(50, NOW - DAY_MS, NOW - HOUR_MS);
    source.add('acme', all);
    const boom = Object.assign(new Error('boom'), {
      name: 'InternalServerException',
      $metadata: { httpStatusCode: 500 },
    });
    source.failWhen = (req) => (req.start === NOW - 5 * HOUR_MS ? boom : undefined);
    const result = await run({
      settings: { backfillDays: 1, maxConcurrency: 1 },
      retry: { maxAttempts: 3, baseMs: 1 },
    });
    source.failWhen = () => undefined;
    expect(result.status).toBe('partial');
    expect(result.failures).toHaveLength(1);
    expect(result.windowsRemaining).toBeGreaterThan(0);
    const next = await run({ settings: { backfillDays: 1, maxConcurrency: 1 } });
    expect(next.status).toBe('complete');
    await expectArchiveEquals(all);
  });

  it.each<CommitStep>(['fetched', 'merged', 'data-written', 'ledger-written'])(
    'loses nothing when it crashes after step %s',
    async (step) => {
      const all = events(2_000, NOW - 3 * DAY_MS, NOW - HOUR_MS);
      source.add('acme', all);
      let crashed = false;
      const crashing = await run({
        onStep: (s, day) => {
          if (s === step && day === '2024-05-08' && !crashed) {
            crashed = true;
            throw new Error(`crash after ${s}`);
          }
        },
      });
      expect(crashed).toBe(true);
      expect(crashing.status).toBe('partial');
      const resumed = await run();
      expect(resumed.status).toBe('complete');
      await expectArchiveEquals(all);
    },
  );

  it('stops starting new days at the soft deadline and continues on the next run', async () => {
    const all = events(900, NOW - 3 * DAY_MS, NOW - HOUR_MS);
    source.add('acme', all);
    let clock = NOW;
    const first = await run({
      now: () => clock,
      settings: { backfillDays: 3, maxConcurrency: 2 },
      softDeadline: NOW + 1,
      onStep: (s) => {
        if (s === 'ledger-written') clock += 10;
      },
    });
    expect(first.status).toBe('partial');
    expect(first.windowsRemaining).toBeGreaterThan(0);
    expect(first.failures).toEqual([]);
    const second = await run();
    expect(second.status).toBe('complete');
    await expectArchiveEquals(all);
  });

  it('does nothing while another run holds the lease, and two concurrent runs archive each event once', async () => {
    const all = events(1_500, NOW - 3 * DAY_MS, NOW - HOUR_MS);
    source.add('acme', all);
    const lease = await Lease.acquire(store, table, { ttlMs: 60_000 });
    expect((await run()).status).toBe('busy');
    await lease.release();
    expect(await store.get(leaseKey(table))).toBeUndefined();
    const [a, b] = await Promise.all([run(), run()]);
    expect([a.status, b.status].sort()).toEqual(['busy', 'complete']);
    await expectArchiveEquals(all);
  });

  it('takes over a lease that expired (a crashed run)', async () => {
    source.add('acme', events(10, NOW - DAY_MS, NOW - HOUR_MS));
    const stale = await Lease.acquire(store, table, { ttlMs: 1_000, now: () => NOW - 60_000 });
    const result = await run();
    expect(result.status).toBe('complete');
    await stale.release();
  });
});
