/**
 * The day objects of a remote archive (S3), read on one machine through a local cache so DuckDB
 * queries them exactly as it queries a folder archive. Only the day objects a query needs are
 * fetched, each one checked against the SHA-256 the coverage ledger records for its day before
 * DuckDB may see it, and the cache stays under a size bound by evicting the least recently used days.
 *
 * - The ledger is the index: which days hold data, and each day object's SHA-256 (`data.sha256`,
 *   hex). It is read from the archive (never from disk), and read again once older than a short TTL.
 * - A cached day is `<cache>/<table>/<key>=<instance>/dt=<day>/<sha256>.parquet`: named by its
 *   content, so a day rewritten by a later ingest (a new SHA-256 in the ledger) is fetched again and
 *   the old file removed, and a cached file is reused across runs while the ledger still names it.
 * - A fetch is written to a temporary file, checked, then renamed into place: nothing unchecked or
 *   corrupt is ever visible under a cache name. A mismatch is an {@link ArchiveObjectChangedError}.
 * - The archive is only read (GET and LIST): nothing is ever written to it.
 *
 * The store can be any `ArchiveStore`; `bin/commands/query-archive.ts` gives it the S3 store.
 */
import { createHash, randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ArchiveError, withRetry } from '@eventlog-archive/shared';
import { dataKey, dayOfLedgerKey, ledgerKey, ledgerPrefix, type TableLocation } from '../core/layout';
import { type LedgerDay, readLedgerDay } from '../core/ledger';
import type { ArchiveStore } from '../core/store';
import type { DayFile, DayFileResolver } from './duckdb-engine';
import type { QueryPlan } from './sql';

/** Default bound of a cache folder: 2 GiB of day objects. */
export const DEFAULT_CACHE_MAX_BYTES = 2 * 2 ** 30;
/** Default age after which the ledger is read from the archive again. */
export const DEFAULT_LEDGER_TTL_MS = 60_000;
/** Default day objects fetched at once. */
export const DEFAULT_FETCH_CONCURRENCY = 8;
/** Ledger documents read at once. */
const LEDGER_CONCURRENCY = 16;
const CACHED_FILE = /^([0-9a-f]{64})\.parquet$/;
// A temporary file older than this was left by a run that died mid-fetch: removed when the cache opens.
const STALE_TEMP_MS = 60 * 60_000;

/**
 * A day object's bytes are not what the ledger recorded for it: the object was replaced or changed
 * after the ledger recorded it (or the ledger names an object that is gone). The object is not cached.
 */
export class ArchiveObjectChangedError extends ArchiveError {
  constructor(
    readonly archive: string,
    readonly key: string,
    readonly expectedSha256: string,
    readonly actualSha256: string | undefined,
  ) {
    super(
      actualSha256 === undefined
        ? `${joinUri(archive, key)}: the ledger records this day object (SHA-256 ${expectedSha256}) but it is ` +
            'missing from the archive; it was deleted after the ledger recorded it. Run `eventlog-archive verify` on the archive.'
        : `${joinUri(archive, key)}: the archive object changed since the ledger recorded it ` +
            `(expected SHA-256 ${expectedSha256}, actual SHA-256 ${actualSha256}); it was not cached. ` +
            'Retry if an ingest was writing this day just now; otherwise run `eventlog-archive verify` on the archive.',
    );
    this.name = 'ArchiveObjectChangedError';
  }
}

function joinUri(archive: string, key: string): string {
  return `${archive.replace(/\/+$/, '')}/${key}`;
}

export interface ArchiveDayCacheOptions {
  /** The archive the days come from (only `get` and `list` are used). */
  store: ArchiveStore;
  /** This archive's own cache folder (created if missing). */
  dir: string;
  /** Bound of the cached day objects in bytes (default {@link DEFAULT_CACHE_MAX_BYTES}). */
  maxBytes?: number;
  /** Age after which a ledger listing or document is read again (default {@link DEFAULT_LEDGER_TTL_MS}). */
  ledgerTtlMs?: number;
  /** Day objects fetched at once (default {@link DEFAULT_FETCH_CONCURRENCY}). */
  concurrency?: number;
  /** Clock of the ledger TTL (default the system clock). */
  now?: () => number;
  /** Attempts per fetch for transient faults on top of the S3 client's own (default 3). */
  fetchAttempts?: number;
}

/** What the cache did since it was opened. */
export interface ArchiveDayCacheStats {
  /** Day objects fetched from the archive (and checked). */
  fetched: number;
  fetchedBytes: number;
  /** Day files answered from the cache folder without a fetch. */
  reused: number;
  /** Day files removed: evicted for the bound, or replaced by a newer version of their day. */
  evicted: number;
  /** Day files and their bytes in the cache folder now (as this process knows it). */
  files: number;
  bytes: number;
}

export interface ArchiveDayCache {
  /** The cache folder of this archive. */
  readonly dir: string;
  readonly maxBytes: number;
  /**
   * The engine hook: the plan's days that hold data by the ledger, fetched if missing or stale,
   * as local files, oldest first. Each file is pinned (never evicted) until the engine calls its
   * `release`.
   */
  readonly dayFiles: DayFileResolver;
  stats(): ArchiveDayCacheStats;
  /** Resolves once the evictions and removals under way have finished (the folder is within bound). */
  settled(): Promise<void>;
}

interface Entry {
  bytes: number;
  /** Order of last use (higher is more recent). */
  used: number;
  pins: number;
  /** A newer version of its day replaced it: removed once no query holds it. */
  superseded: boolean;
}

interface Timed<T> {
  at: number;
  value: Promise<T>;
}

/** A day with data, as the ledger records it. */
interface LedgerData {
  day: string;
  key: string;
  sha256: string;
  bytes: number;
}

/**
 * Opens the day cache of one archive in `options.dir`. Safe for concurrent queries of one process;
 * two processes may share a folder (writes are atomic renames), though one may evict a day the
 * other then fetches again.
 *
 * @example
 * const cache = await openArchiveDayCache({ store: new S3Store('bucket', 'prefix/'), dir });
 * const engine = await createDuckDbEngine(cache.dir, { dayFiles: cache.dayFiles });
 */
export async function openArchiveDayCache(options: ArchiveDayCacheOptions): Promise<ArchiveDayCache> {
  const root = path.resolve(options.dir);
  const maxBytes = Math.max(0, options.maxBytes ?? DEFAULT_CACHE_MAX_BYTES);
  const ttlMs = Math.max(0, options.ledgerTtlMs ?? DEFAULT_LEDGER_TTL_MS);
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? DEFAULT_FETCH_CONCURRENCY));
  const now = options.now ?? Date.now;
  const { store } = options;
  await fs.mkdir(root, { recursive: true });

  const entries = new Map<string, Entry>();
  let uses = 0;
  let total = 0;
  const counts = { fetched: 0, fetchedBytes: 0, reused: 0, evicted: 0 };
  // Fetches under way, by target file: a day two queries need at once is fetched once.
  const inFlight = new Map<string, Promise<{ file: string; sha256: string }>>();
  // Files being deleted: a query that wants one waits and fetches it again.
  const removals = new Map<string, Promise<void>>();
  const listings = new Map<string, Timed<string[]>>();
  const documents = new Map<string, Timed<LedgerDay | undefined>>();

  // What earlier runs left: the cached days, oldest use first (the file times keep the order across runs).
  for (const found of await scanCache(root)) {
    entries.set(found.file, { bytes: found.bytes, used: ++uses, pins: 0, superseded: false });
    total += found.bytes;
  }

  const fresh = <T>(map: Map<string, Timed<T>>, key: string, read: () => Promise<T>, force = false) => {
    const held = map.get(key);
    if (!force && held && now() - held.at < ttlMs) return held.value;
    const value = read();
    map.set(key, { at: now(), value });
    // A failed read is not kept: the next query asks again.
    value.catch(() => {
      if (map.get(key)?.value === value) map.delete(key);
    });
    return value;
  };

  const readDoc = (table: TableLocation, day: string, force = false) =>
    fresh(documents, ledgerKey(table, day), () => withRetry(() => readLedgerDay(store, table, day)), force);

  /** The plan's days that hold data, by the ledger (read again when older than the TTL). */
  const ledgerData = async (plan: QueryPlan): Promise<LedgerData[]> => {
    const { firstDay, lastDay } = plan;
    if (!firstDay || !lastDay) return [];
    const table = tableOf(plan);
    const days = await fresh(listings, ledgerPrefix(table), () =>
      withRetry(async () => {
        const out: string[] = [];
        for await (const object of store.list(ledgerPrefix(table))) {
          const day = dayOfLedgerKey(object.key);
          if (day) out.push(day);
        }
        return out.sort();
      }),
    );
    const wanted = days.filter((day) => day >= firstDay && day <= lastDay);
    const docs = await mapLimit(wanted, LEDGER_CONCURRENCY, (day) => readDoc(table, day));
    const out: LedgerData[] = [];
    for (const [i, doc] of docs.entries()) {
      const data = doc?.data;
      if (!data || data.events === 0) continue;
      out.push(checkedData(wanted[i]!, table, data));
    }
    return out;
  };

  const pin = (file: string): void => {
    const entry = entries.get(file);
    if (!entry) return;
    entry.pins++;
    entry.used = ++uses;
  };

  const release = (file: string): void => {
    const entry = entries.get(file);
    if (!entry || entry.pins === 0) return;
    entry.pins--;
    if (entry.pins === 0 && entry.superseded) void remove(file).catch(() => {});
    else if (total > maxBytes) void evict();
  };

  const remove = async (file: string): Promise<void> => {
    const entry = entries.get(file);
    if (!entry || entry.pins > 0) return;
    entries.delete(file);
    total -= entry.bytes;
    counts.evicted++;
    const removal = fs.rm(file, { force: true });
    removals.set(file, removal);
    try {
      await removal;
    } finally {
      if (removals.get(file) === removal) removals.delete(file);
    }
  };

  /**
   * Removes the least recently used unpinned days until the cache is within its bound. One eviction
   * runs at a time; the promise is settled once this one (and those before it) finished.
   */
  let evicting: Promise<void> = Promise.resolve();
  const evict = (): Promise<void> => {
    evicting = evicting.then(async () => {
      if (total <= maxBytes) return;
      const candidates = [...entries].filter(([, e]) => e.pins === 0).sort((a, b) => a[1].used - b[1].used);
      for (const [file] of candidates) {
        if (total <= maxBytes) break;
        await remove(file).catch(() => {});
      }
    });
    return evicting;
  };

  /**
   * The cache file of a day, pinned for the calling query: reused when a file of the ledger's SHA-256 is there, else
   * fetched (once, however many queries want it at the same time).
   */
  const ensure = async (
    table: TableLocation,
    data: LedgerData,
  ): Promise<{ file: string; sha256: string }> => {
    const wanted = cacheFile(root, table, data.day, data.sha256);
    const running = inFlight.get(wanted);
    if (running) {
      // Pinned by the query that started the fetch until that query ends: safe to pin now.
      const found = await running;
      pin(found.file);
      return found;
    }
    const placed = place(table, data, wanted);
    inFlight.set(wanted, placed);
    const forget = (): void => {
      if (inFlight.get(wanted) === placed) inFlight.delete(wanted);
    };
    placed.then(forget, forget);
    return placed;
  };

  const place = async (
    table: TableLocation,
    data: LedgerData,
    wanted: string,
  ): Promise<{ file: string; sha256: string }> => {
    // A file of that name holds exactly those bytes (it is named by its checked hash): ours from an
    // earlier query or run, or one another process cached. The size guards against a cut-off copy.
    await removals.get(wanted);
    const size = await sizeOf(wanted);
    // (A removal that began meanwhile wins: the day is fetched again.)
    if (size !== undefined && size === data.bytes && !removals.has(wanted)) {
      if (!entries.has(wanted)) track(wanted, size);
      pin(wanted);
      counts.reused++;
      // Its time keeps the least-recently-used order across runs.
      const at = new Date();
      await fs.utimes(wanted, at, at).catch(() => {});
      return { file: wanted, sha256: data.sha256 };
    }
    return fetchDay(table, data);
  };

  const track = (file: string, bytes: number): void => {
    const previous = entries.get(file);
    if (previous) total -= previous.bytes;
    entries.set(file, { bytes, used: ++uses, pins: previous?.pins ?? 0, superseded: false });
    total += bytes;
  };

  /** GETs, checks and places one day object; returns its cache file and SHA-256. */
  const fetchDay = async (
    table: TableLocation,
    data: LedgerData,
  ): Promise<{ file: string; sha256: string }> => {
    const body = await withRetry(
      async () => {
        const object = await store.get(data.key);
        if (!object) throw new ArchiveObjectChangedError(store.uri, data.key, data.sha256, undefined);
        return object.body;
      },
      { maxAttempts: options.fetchAttempts ?? 3 },
    );
    const actual = createHash('sha256').update(body).digest('hex');
    let sha256 = data.sha256;
    if (actual !== sha256) {
      // An ingest may have rewritten the day between our ledger read and the GET: the ledger's
      // current record decides. Anything else is a changed object and is refused.
      const current = (await readDoc(table, data.day, true))?.data;
      if (current?.sha256 !== actual || current.key !== data.key)
        throw new ArchiveObjectChangedError(store.uri, data.key, data.sha256, actual);
      sha256 = actual;
    }
    const target = cacheFile(root, table, data.day, sha256);
    await removals.get(target);
    await fs.mkdir(path.dirname(target), { recursive: true });
    const temp = `${target}.${randomUUID()}.tmp`;
    try {
      await fs.writeFile(temp, body, { flush: true });
      // The file time orders days by last use across runs: set from the same clock as on reuse.
      const at = new Date();
      await fs.utimes(temp, at, at);
      await fs.rename(temp, target);
    } finally {
      await fs.rm(temp, { force: true });
    }
    counts.fetched++;
    counts.fetchedBytes += body.byteLength;
    track(target, body.byteLength);
    pin(target);
    await supersedeOthers(target);
    return { file: target, sha256 };
  };

  /** Marks the other versions of `target`'s day as replaced; each is removed once no query holds it. */
  const supersedeOthers = async (target: string): Promise<void> => {
    const folder = path.dirname(target);
    for (const [file, entry] of [...entries]) {
      if (file === target || path.dirname(file) !== folder) continue;
      if (entry.pins > 0) entry.superseded = true;
      else await remove(file);
    }
    // Versions this process never knew of (another process's).
    const names = await fs.readdir(folder).catch(() => [] as string[]);
    for (const name of names) {
      const file = path.join(folder, name);
      if (file !== target && CACHED_FILE.test(name) && !entries.has(file)) await fs.rm(file, { force: true });
    }
  };

  const dayFiles: DayFileResolver = async (plan) => {
    const table = tableOf(plan);
    const days = await ledgerData(plan);
    const held: string[] = [];
    try {
      const found = await mapLimit(days, concurrency, async (data) => {
        const day = await ensure(table, data);
        held.push(day.file);
        return day;
      });
      await evict();
      return found.map(({ file, sha256 }): DayFile => {
        let released = false;
        const done = (): void => {
          if (!released) release(file);
          released = true;
        };
        return { file, version: sha256, release: done };
      });
    } catch (err) {
      for (const file of held) release(file);
      throw err;
    }
  };

  return {
    dir: root,
    maxBytes,
    dayFiles,
    stats: () => ({ ...counts, files: entries.size, bytes: total }),
    settled: async () => {
      await evict();
      await Promise.all(removals.values());
    },
  };
}

function tableOf(plan: QueryPlan): TableLocation {
  return { table: plan.table, partitionKey: plan.partitionKey, partitionValue: plan.partitionValue };
}

/** The ledger's `data` entry of a day, checked: a key of that day and a hex SHA-256. */
function checkedData(day: string, table: TableLocation, data: NonNullable<LedgerDay['data']>): LedgerData {
  const key = dataKey(table, day);
  if (data.key !== key || !/^[0-9a-f]{64}$/.test(data.sha256))
    throw new ArchiveError(
      `${ledgerKey(table, day)}: the ledger's data entry is not a day object of ${day} with a SHA-256 (key ${data.key})`,
    );
  return { day, key, sha256: data.sha256, bytes: data.bytes };
}

/** `<root>/<table>/<key>=<value>/dt=<day>/<sha256>.parquet`, refusing anything that would leave `root`. */
function cacheFile(root: string, table: TableLocation, day: string, sha256: string): string {
  const dir = path.dirname(dataKey(table, day));
  const file = path.resolve(root, dir, `${sha256}.parquet`);
  if (!file.startsWith(root + path.sep))
    throw new ArchiveError(`a cache path escapes the cache folder: ${dir}`);
  return file;
}

async function sizeOf(file: string): Promise<number | undefined> {
  try {
    const stat = await fs.stat(file);
    return stat.isFile() ? stat.size : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The day files under `root` (table folders only, not `_keys/`), least recently written first;
 * temporary files left by a run that died mid-fetch are removed.
 */
async function scanCache(root: string): Promise<{ file: string; bytes: number }[]> {
  const found: { file: string; bytes: number; mtimeMs: number }[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    let names: import('node:fs').Dirent[];
    try {
      names = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of names) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (depth === 0 && entry.name.startsWith('_')) continue;
        if (depth < 3) await walk(file, depth + 1);
      } else if (entry.isFile() && depth === 3) {
        const stat = await fs.stat(file).catch(() => undefined);
        if (!stat) continue;
        if (CACHED_FILE.test(entry.name)) found.push({ file, bytes: stat.size, mtimeMs: stat.mtimeMs });
        else if (entry.name.endsWith('.tmp') && Date.now() - stat.mtimeMs > STALE_TEMP_MS)
          await fs.rm(file, { force: true });
      }
    }
  };
  await walk(root, 0);
  return found.sort((a, b) => a.mtimeMs - b.mtimeMs);
}

/**
 * `fn` over `items` with at most `limit` at once; results in the items' order. After a failure no
 * new item starts, and the first error is thrown once the running ones have ended (so what they
 * pinned is known to the caller).
 */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failure) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
  return out;
}
