import { describe, expect, it, vi } from 'vitest';
import { decodeParquet } from '../../../../lambdas/core/parquet';
import { canonicalJson, normaliseRecord } from '../../../../lambdas/core/records';
import { CODECATALYST_FIELDS } from '../../../../lambdas/core/sources/codecatalyst/schema';
import { encodeDay, parquetWorkerStats } from '../../../../lambdas/ingest/archive/parquet-worker';
import { record } from '../fake-source';

const { UnloadableWorker } = vi.hoisted(() => {
  // require: the hoisted block runs before the imports of this file.
  const { EventEmitter } = require('node:events') as typeof import('node:events');
  /** A worker whose entry cannot load: it fails before it reports ready, as a broken bundle would. */
  class UnloadableWorker extends EventEmitter {
    constructor() {
      super();
      setImmediate(() => {
        this.emit('error', new Error('Cannot find module'));
        this.emit('exit', 1);
      });
    }
    ref(): void {}
    unref(): void {}
    postMessage(): void {}
  }
  return { UnloadableWorker };
});

vi.mock('node:worker_threads', async (importOriginal) => ({
  ...(await importOriginal<typeof import('node:worker_threads')>()),
  Worker: UnloadableWorker,
}));

describe('Parquet worker that cannot start', () => {
  it('encodes on the main thread instead, then and from then on', async () => {
    const records = [record('a', Date.UTC(2024, 4, 1)), record('b', Date.UTC(2024, 4, 1, 1))].map((r) =>
      normaliseRecord(CODECATALYST_FIELDS, r),
    );
    const job = {
      fields: CODECATALYST_FIELDS,
      records,
      timeField: 'eventTime',
      idField: 'id',
      encode: true,
      windows: [{ start: Date.UTC(2024, 4, 1), end: Date.UTC(2024, 4, 2) }],
    };
    const [first, second] = await Promise.all([encodeDay(job), encodeDay(job)]);
    expect(first!.encodedIn).toBe('main');
    expect(second!.encodedIn).toBe('main');
    expect(parquetWorkerStats()).toMatchObject({ worker: 0, main: 2, workersStarted: 1 });
    expect(parquetWorkerStats().unavailable).toContain('Cannot find module');
    const back = await decodeParquet(CODECATALYST_FIELDS, first!.body!);
    expect(back.map((r) => canonicalJson(CODECATALYST_FIELDS, r))).toEqual(
      records.map((r) => canonicalJson(CODECATALYST_FIELDS, r)),
    );
    // No second attempt: later days go straight to the main thread.
    expect((await encodeDay(job)).encodedIn).toBe('main');
    expect(parquetWorkerStats()).toMatchObject({ main: 3, workersStarted: 1 });
  });
});
