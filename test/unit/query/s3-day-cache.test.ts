/**
 * The day cache of a remote archive (lambdas/query/s3-day-cache.ts) over a folder archive standing in
 * for the bucket: what it fetches, when it fetches again, what it refuses, what it keeps, and what
 * a later run finds. The store counts its GETs of day objects.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dataKey, type TableLocation } from '../../../lambdas/core/layout';
import { emptyLedgerDay, type LedgerDay, writeLedgerDay } from '../../../lambdas/core/ledger';
import { LocalStore } from '../../../lambdas/core/local-store';
import { codecatalystDefinition as codecatalyst } from '../../../lambdas/core/sources';
import type { ArchiveStore } from '../../../lambdas/core/store';
import type { DayFile } from '../../../lambdas/query/duckdb-engine';
import { type ArchiveDayCacheOptions, openArchiveDayCache } from '../../../lambdas/query/s3-day-cache';
import { planQuery } from '../../../lambdas/query/sql';
import { DAY_MS, dayStart } from '../../../lambdas/shared/src/time';

const SPACE = 'cache-space';
const TABLE: TableLocation = {
  table: codecatalyst.table,
  partitionKey: codecatalyst.partitionKey,
  partitionValue: SPACE,
};
const DAYS = ['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05', '2026-03-06'];
const SIZE = 1_000;

let work: string;
let archive: LocalStore;
let gets: string[];
/** The archive as the cache sees it: a folder whose GETs of day objects are counted. */
let counted: ArchiveStore;

beforeEach(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'day-cache-'));
  archive = new LocalStore(path.join(work, 'archive'));
  gets = [];
  counted = {
    uri: 's3://bucket/prefix',
    get: async (key) => {
      if (!key.startsWith('_ledger/')) gets.push(key);
      return archive.get(key);
    },
    put: () => Promise.reject(new Error('the cache must never write to the archive')),
    delete: () => Promise.reject(new Error('the cache must never delete from the archive')),
    list: (prefix) => archive.list(prefix),
  };
  for (const day of DAYS) await writeDay(day, bodyOf(day, 1));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

function bodyOf(day: string, version: number): Uint8Array {
  const body = new Uint8Array(SIZE).fill(version);
  body.set(new TextEncoder().encode(day));
  return body;
}

const sha256 = (body: Uint8Array): string => createHash('sha256').update(body).digest('hex');

/** What an ingest does: the day object, then the ledger's record of it. */
async function writeDay(day: string, body: Uint8Array, options: { ledger?: boolean } = {}): Promise<void> {
  await archive.put(dataKey(TABLE, day), body);
  if (options.ledger === false) return;
  const doc: LedgerDay = {
    ...emptyLedgerDay(codecatalyst.name, SPACE, day),
    data: {
      key: dataKey(TABLE, day),
      events: 3,
      bytes: body.byteLength,
      sha256: sha256(body),
      writtenAt: `${day}T12:00:00.000Z`,
    },
  };
  await writeLedgerDay(archive, TABLE, doc);
}

function plan(first: string, last: string) {
  return planQuery({
    source: codecatalyst,
    instance: SPACE,
    start: dayStart(first),
    end: dayStart(last) + DAY_MS,
    limit: 10,
  });
}

function open(options: Partial<ArchiveDayCacheOptions> = {}) {
  return openArchiveDayCache({ store: counted, dir: path.join(work, 'cache'), ...options });
}

const release = (files: DayFile[]): void => {
  for (const f of files) f.release?.();
};

/** The cached days on disk, as `day:sha256-prefix`. */
function onDisk(): string[] {
  const root = path.join(work, 'cache');
  if (!existsSync(root)) return [];
  return (readdirSync(root, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.parquet') || f.endsWith('.tmp'))
    .map((f) => `${/dt=([\d-]+)/.exec(f)![1]}:${path.basename(f).slice(0, 8)}`)
    .sort();
}

describe('the day cache of a remote archive', () => {
  it('fetches the days in range that the ledger records, checked, and answers them from disk afterwards', async () => {
    const cache = await open();
    const files = await cache.dayFiles(plan('2026-03-02', '2026-03-04'));
    expect([...gets].sort()).toEqual(
      DAYS.slice(1, 4)
        .map((d) => dataKey(TABLE, d))
        .sort(),
    );
    expect(files.map((f) => f.version)).toEqual(DAYS.slice(1, 4).map((d) => sha256(bodyOf(d, 1))));
    expect(files.map((f) => path.basename(f.file))).toEqual(files.map((f) => `${f.version}.parquet`));
    release(files);
    gets = [];
    const again = await cache.dayFiles(plan('2026-03-01', '2026-03-04'));
    expect(gets).toEqual([dataKey(TABLE, '2026-03-01')]);
    expect(again.map((f) => f.file).slice(1)).toEqual(files.map((f) => f.file));
    expect(cache.stats()).toMatchObject({ fetched: 4, reused: 3, files: 4, bytes: 4 * SIZE });
  });

  it('skips days the ledger has no data object for, even when an object is there', async () => {
    await writeDay('2026-03-07', bodyOf('2026-03-07', 1), { ledger: false });
    const cache = await open();
    const files = await cache.dayFiles(plan('2026-03-06', '2026-03-09'));
    expect(files).toHaveLength(1);
    expect(gets).toEqual([dataKey(TABLE, '2026-03-06')]);
  });

  it('fetches a day once when two queries want it at the same time', async () => {
    const cache = await open();
    const [one, two] = await Promise.all([
      cache.dayFiles(plan('2026-03-01', '2026-03-03')),
      cache.dayFiles(plan('2026-03-02', '2026-03-04')),
    ]);
    expect(gets).toHaveLength(4);
    expect(one![1]!.file).toBe(two![0]!.file);
  });

  it('fetches a day again once the ledger records a rewrite, and removes the old file', async () => {
    let now = 1_000_000;
    const cache = await open({ now: () => now, ledgerTtlMs: 60_000 });
    release(await cache.dayFiles(plan('2026-03-03', '2026-03-03')));
    await writeDay('2026-03-03', bodyOf('2026-03-03', 2));
    gets = [];
    // Within the TTL the ledger read before is trusted: the cached file answers.
    const stale = await cache.dayFiles(plan('2026-03-03', '2026-03-03'));
    expect(gets).toEqual([]);
    expect(stale[0]!.version).toBe(sha256(bodyOf('2026-03-03', 1)));
    release(stale);
    now += 60_000;
    const fresh = await cache.dayFiles(plan('2026-03-03', '2026-03-03'));
    expect(gets).toEqual([dataKey(TABLE, '2026-03-03')]);
    expect(fresh[0]!.version).toBe(sha256(bodyOf('2026-03-03', 2)));
    await cache.settled();
    expect(onDisk()).toEqual([`2026-03-03:${sha256(bodyOf('2026-03-03', 2)).slice(0, 8)}`]);
  });

  it('keeps a replaced version while a query still holds it', async () => {
    let now = 0;
    const cache = await open({ now: () => now, ledgerTtlMs: 10 });
    const held = await cache.dayFiles(plan('2026-03-03', '2026-03-03'));
    await writeDay('2026-03-03', bodyOf('2026-03-03', 2));
    now += 10;
    const fresh = await cache.dayFiles(plan('2026-03-03', '2026-03-03'));
    expect(existsSync(held[0]!.file)).toBe(true);
    release(held);
    await cache.settled();
    expect(existsSync(held[0]!.file)).toBe(false);
    expect(existsSync(fresh[0]!.file)).toBe(true);
  });

  it('takes a rewrite that landed between its ledger read and its GET when the ledger now records it', async () => {
    const cache = await open();
    // The ledger of 03-04 is read (and kept: TTL 60 s) while 03-04 is cached …
    release(await cache.dayFiles(plan('2026-03-04', '2026-03-04')));
    // … then an ingest rewrites the day and the cached copy is lost.
    await writeDay('2026-03-04', bodyOf('2026-03-04', 2));
    rmSync(path.join(work, 'cache'), { recursive: true, force: true });
    const files = await cache.dayFiles(plan('2026-03-04', '2026-03-04'));
    expect(files[0]!.version).toBe(sha256(bodyOf('2026-03-04', 2)));
    expect(existsSync(files[0]!.file)).toBe(true);
  });

  it('refuses an object that changed after the ledger recorded it, naming it and both SHA-256s, and caches nothing', async () => {
    const expected = sha256(bodyOf('2026-03-02', 1));
    const changed = bodyOf('2026-03-02', 9);
    await writeDay('2026-03-02', changed, { ledger: false });
    // Bound 1 byte: whatever the failed query does not hold any more is evicted at once.
    const cache = await open({ maxBytes: 1 });
    const err = (await cache.dayFiles(plan('2026-03-01', '2026-03-03')).catch((e) => e)) as Error;
    expect(err.name).toBe('ArchiveObjectChangedError');
    expect(err.message).toContain(
      `s3://bucket/prefix/${dataKey(TABLE, '2026-03-02')}: the archive object changed since the ledger recorded it`,
    );
    expect(err.message).toContain(
      `(expected SHA-256 ${expected}, actual SHA-256 ${sha256(changed)}); it was not cached.`,
    );
    // The other days were fetched but are not held by the failed query: evicted for the bound.
    await cache.settled();
    expect(onDisk()).toEqual([]);
    expect(cache.stats()).toMatchObject({ fetched: 2, evicted: 2, files: 0 });
  });

  it('names a day object the ledger records but the archive no longer has', async () => {
    await archive.delete(dataKey(TABLE, '2026-03-05'));
    const cache = await open();
    await expect(cache.dayFiles(plan('2026-03-05', '2026-03-05'))).rejects.toThrow(
      /dt=2026-03-05\/events\.parquet: the ledger records this day object \(SHA-256 [0-9a-f]{64}\) but it is missing/,
    );
  });

  it('evicts least recently used days past the bound, never a day a query holds', async () => {
    const cache = await open({ maxBytes: 3 * SIZE });
    release(await cache.dayFiles(plan('2026-03-01', '2026-03-02')));
    release(await cache.dayFiles(plan('2026-03-03', '2026-03-03')));
    // 03-01 is used again: 03-02 is now the least recently used.
    release(await cache.dayFiles(plan('2026-03-01', '2026-03-01')));
    const held = await cache.dayFiles(plan('2026-03-04', '2026-03-04'));
    await cache.settled();
    expect(onDisk().map((f) => f.slice(0, 10))).toEqual(['2026-03-01', '2026-03-03', '2026-03-04']);
    // A query bigger than the bound: all of it stays until released, then the cache shrinks back.
    const big = await cache.dayFiles(plan('2026-03-01', '2026-03-06'));
    await cache.settled();
    expect(big.every((f) => existsSync(f.file))).toBe(true);
    release(big);
    release(held);
    await cache.settled();
    expect(onDisk()).toHaveLength(3);
    expect(cache.stats().bytes).toBe(3 * SIZE);
  });

  it('finds what an earlier run cached, oldest use first, and removes its stale temporary files', async () => {
    const first = await open();
    const files = await first.dayFiles(plan('2026-03-01', '2026-03-04'));
    release(files);
    // When each day was last used, as the earlier run left the file times: 03-03 longest ago.
    const hoursAgo = { '2026-03-01': 3, '2026-03-02': 1, '2026-03-03': 4, '2026-03-04': 2 };
    for (const [i, hours] of Object.values(hoursAgo).entries()) {
      const at = new Date(Date.now() - hours * 3_600_000);
      utimesSync(files[i]!.file, at, at);
    }
    const stale = path.join(path.dirname(files[0]!.file), `${files[0]!.version}.parquet.1234.tmp`);
    writeFileSync(stale, 'half');
    utimesSync(stale, new Date(Date.now() - 2 * 3_600_000), new Date(Date.now() - 2 * 3_600_000));
    gets = [];
    const second = await open({ maxBytes: 4 * SIZE });
    expect(second.stats()).toMatchObject({ files: 4, bytes: 4 * SIZE });
    expect(existsSync(stale)).toBe(false);
    release(await second.dayFiles(plan('2026-03-05', '2026-03-05')));
    expect(gets).toEqual([dataKey(TABLE, '2026-03-05')]);
    await second.settled();
    expect(onDisk().map((f) => f.slice(0, 10))).toEqual([
      '2026-03-01',
      '2026-03-02',
      '2026-03-04',
      '2026-03-05',
    ]);
  });
});
