import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AdaptiveLimiter } from '@eventlog-archive/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { gatheredStrings, gatheredTimes, gatheredWriterValues } from '../../../../lambdas/core/columns';
import { dataKey, type TableLocation } from '../../../../lambdas/core/layout';
import { LocalStore } from '../../../../lambdas/core/local-store';
import { decodeParquet, encodeParquet } from '../../../../lambdas/core/parquet';
import { type ArchiveRecord, canonicalJson, sortRecords } from '../../../../lambdas/core/records';
import { codecatalystDefinition as source } from '../../../../lambdas/core/sources/codecatalyst/definition';
import { unionOrder } from '../../../../lambdas/ingest/archive/parquet-worker';
import { type DayCommit, mergeDay, writeDayData } from '../../../../lambdas/ingest/steps/commit-day';
import { fetchWindow } from '../../../../lambdas/ingest/steps/fetch-window';
import { FakeSource, record } from '../fake-source';

const DAY = Date.UTC(2026, 10, 22);
const HOUR = 3_600_000;
const table: TableLocation = { table: source.table, partitionKey: source.partitionKey, partitionValue: 's' };

async function fetched(fake: FakeSource, start: number, pageSize: number) {
  return fetchWindow(
    { start, end: start + HOUR },
    {
      source: { ...source, pageSize },
      client: fake,
      instance: 's',
      limiter: new AdaptiveLimiter(4),
      retry: { maxAttempts: 1 },
      signal: new AbortController().signal,
    },
  );
}

describe('mergeDay over windows fetched as chunks of columns', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('orders the union by time, then id, each id once, the archived form first', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'merge-day-'));
    const store = new LocalStore(dir);
    // Archived before: a, and c in a form the source no longer sends.
    const archived = [record('a', DAY + 10), record('c', DAY + HOUR + 5, { eventName: 'archivedForm' })];
    await store.put(dataKey(table, '2026-11-22'), encodeParquet(source.fields, archived));
    const fake = new FakeSource();
    const sent: ArchiveRecord[] = [
      record('a', DAY + 10),
      record('b', DAY + 10), // same time as a: after it by id
      record('z', DAY + 1),
      record('y', DAY + 1),
      record('c', DAY + HOUR + 5),
      record('d', DAY + HOUR),
      record('e', DAY + 2 * HOUR - 1),
    ];
    fake.add('s', sent);
    // Pages of two: several chunks per window.
    const windows = [await fetched(fake, DAY, 2), await fetched(fake, DAY + HOUR, 2)];
    expect(windows.map((w) => [w.events, w.chunks.length])).toEqual([
      [4, 2],
      [3, 2],
    ]);
    const commit: DayCommit = {
      store,
      table,
      source,
      instance: 's',
      day: '2026-11-22',
      fetched: windows,
      ledgerDay: undefined,
      now: () => DAY + 2 * 86_400_000,
      signal: new AbortController().signal,
    };
    const merged = await mergeDay(commit);
    expect(merged).toMatchObject({ archivedRows: 2, existed: true });
    expect(merged.rows.order).toBeUndefined();
    const expected = sortRecords(source, [...archived, ...sent.filter((r) => r.id !== 'a' && r.id !== 'c')]);
    const rows = {
      chunks: merged.rows.chunks,
      order: unionOrder(source.fields, source.timeField, source.idField, merged.rows.chunks),
    };
    expect(gatheredStrings(source.fields, 'id', rows)).toEqual(expected.map((r) => r.id));
    expect([...gatheredTimes(source.fields, 'eventTime', rows)]).toEqual(
      expected.map((r) => (r.eventTime as Date).getTime()),
    );
    const eventName = source.fields.findIndex((f) => f.name === 'eventName');
    const names = gatheredWriterValues(source.fields[eventName]!, eventName, rows);
    expect(names[expected.findIndex((r) => r.id === 'c')]).toBe('archivedForm');

    // The worker orders the same union, counts what it added, and writes the day.
    const written = await writeDayData(commit, merged);
    expect(written.encoded).toMatchObject({ events: 7, added: 5, encodedIn: 'worker' });
    const stored = await store.get(dataKey(table, '2026-11-22'));
    const back = await decodeParquet(source.fields, stored!.body);
    expect(back.map((r) => canonicalJson(source.fields, r))).toEqual(
      expected.map((r) => canonicalJson(source.fields, r)),
    );
    expect(written.data).toMatchObject({ events: 7, sha256: written.encoded.sha256 });

    // Nothing new the second time: no write, the ledger's entry as it was.
    const again = await writeDayData(commit, await mergeDay({ ...commit, fetched: [] }));
    expect(again.encoded).toMatchObject({ events: 7, added: 0 });
    expect(again.encoded.body).toBeUndefined();
  });
});
