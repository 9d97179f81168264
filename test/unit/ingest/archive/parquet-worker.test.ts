import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeParquet } from '../../../../lambdas/core/parquet';
import { canonicalJson, normaliseRecord } from '../../../../lambdas/core/records';
import { CODECATALYST_FIELDS } from '../../../../lambdas/core/sources/codecatalyst/schema';
import {
  columnBuffers,
  encodeDay,
  encodeDayColumns,
  encodeDaySync,
  identityHash,
  parquetWorkerStats,
  toColumnJob,
  WORKER_NICE,
} from '../../../../lambdas/ingest/archive/parquet-worker';
import { record } from '../fake-source';

const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 4, 1);
const records = [
  record('a', T0 + 123),
  record('b', T0 + HOUR, {
    userIdentity: null,
    errorCode: 'AccessDenied',
    projectInformation: { name: 'p', projectId: null },
  }),
  record('c', T0 + HOUR + 5, {
    userIdentity: { userType: null, principalId: null, userName: null, awsAccountId: null },
    responsePayload: { contentType: 'application/json', data: '{"ok":true}' },
  }),
  record('d', T0 + 3 * HOUR - 1),
].map((r) => normaliseRecord(CODECATALYST_FIELDS, r));
const windows = [0, 1, 2, 3].map((i) => ({ start: T0 + i * HOUR, end: T0 + (i + 1) * HOUR }));
const job = {
  fields: CODECATALYST_FIELDS,
  records,
  timeField: 'eventTime',
  idField: 'id',
  encode: true,
  statisticsFor: ['eventTime', 'id'],
  metadata: { day: '2024-05-01' },
  windows,
};

describe('Parquet worker', () => {
  it('encodes in a worker thread and the file decodes to the same records', async () => {
    const day = await encodeDay(job);
    expect(day.encodedIn).toBe('worker');
    expect(parquetWorkerStats().worker).toBeGreaterThan(0);
    // Below the paging thread's priority (Linux, where this runs in CI and in Lambda).
    if (process.platform === 'linux') expect(parquetWorkerStats().workerNice).toBe(WORKER_NICE);
    const back = await decodeParquet(CODECATALYST_FIELDS, day.body!);
    expect(back.map((r) => canonicalJson(CODECATALYST_FIELDS, r))).toEqual(
      records.map((r) => canonicalJson(CODECATALYST_FIELDS, r)),
    );
    // Window counts and hashes equal a per-window filter, as the pipeline did before.
    expect(day.windows).toEqual(
      windows.map((w) => {
        const inWindow = records.filter((r) => {
          const t = (r.eventTime as Date).getTime();
          return t >= w.start && t < w.end;
        });
        return { archived: inWindow.length, contentHash: identityHash('eventTime', 'id', inWindow) };
      }),
    );
    expect(day.windows.map((w) => w.archived)).toEqual([1, 2, 1, 0]);
    expect(day.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives the same bytes and hashes as the main-thread encoder, with several days in flight', async () => {
    const inline = encodeDaySync(job);
    const days = await Promise.all([encodeDay(job), encodeDay(job), encodeDay({ ...job, encode: false })]);
    for (const day of days.slice(0, 2)) {
      expect(Buffer.from(day.body!).equals(Buffer.from(inline.body!))).toBe(true);
      expect(day.windows).toEqual(inline.windows);
    }
    expect(days[2]!.body).toBeUndefined();
    expect(days[2]!.windows).toEqual(inline.windows);
  });

  it('hands a started worker the memory of the columns rather than a copy, each buffer once', async () => {
    await encodeDay(job); // the worker is started and ready
    const columns = toColumnJob(job);
    const buffers = columnBuffers(columns.rows);
    expect(new Set(buffers).size).toBe(buffers.length);
    const times =
      columns.rows.chunks[0]!.columns[CODECATALYST_FIELDS.findIndex((f) => f.name === 'eventTime')]!;
    expect((times as Float64Array).length).toBe(records.length);
    const day = await encodeDayColumns(columns);
    // Moved to the worker: the main thread's view is detached.
    expect((times as Float64Array).length).toBe(0);
    expect(buffers.every((b) => b.byteLength === 0)).toBe(true);
    expect(Buffer.from(day.body!).equals(Buffer.from(encodeDaySync(job).body!))).toBe(true);
  });

  it('surfaces an encoding error of the worker as a rejected day, and goes on', async () => {
    const bad = normaliseRecord(CODECATALYST_FIELDS, record('e', T0));
    bad.id = 42; // not a string: the UTF8 column cannot write it
    await expect(encodeDay({ ...job, records: [bad] })).rejects.toThrow();
    expect((await encodeDay(job)).encodedIn).toBe('worker');
  });

  it('encodes on the main thread with PARQUET_WORKER=off', async () => {
    process.env.PARQUET_WORKER = 'off';
    try {
      const before = parquetWorkerStats().main;
      const day = await encodeDay(job);
      expect(day.encodedIn).toBe('main');
      expect(parquetWorkerStats().main).toBe(before + 1);
    } finally {
      delete process.env.PARQUET_WORKER;
    }
  });
});

describe('identityHash', () => {
  it('is the sha256 of the records\' "<epoch ms> <id>" lines, and changes when an event is added', () => {
    const rs = [
      { id: 'b', eventTime: new Date('2026-11-22T00:00:00.001Z') },
      { id: 'a', eventTime: new Date('2026-11-22T00:00:01Z') },
    ];
    const expected = createHash('sha256').update('1795305600001 b\n1795305601000 a\n').digest('hex');
    expect(identityHash('eventTime', 'id', rs)).toBe(`sha256:${expected}`);
    expect(identityHash('eventTime', 'id', [...rs, { id: 'c', eventTime: new Date(0) }])).not.toBe(
      `sha256:${expected}`,
    );
    expect(identityHash('eventTime', 'id', [])).toBe(`sha256:${createHash('sha256').digest('hex')}`);
  });
});
