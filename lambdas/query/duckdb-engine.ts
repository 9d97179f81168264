/**
 * The local query engine: DuckDB (`@duckdb/node-api`) over an archive folder, standing in for
 * Athena. Partition pruning is done before DuckDB sees the query: the engine lists the instance's
 * `dt=` folders and hands `read_parquet` exactly the files of the days in range, so a one-day query
 * opens one file and a query over days with no data runs no SQL at all. Days read again (paging
 * through a range) are kept decoded in memory within a budget, so later pages skip GZIP.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { type DuckDBConnection, DuckDBInstance, type DuckDBValue, timestampTZValue } from '@duckdb/node-api';
import { ApiError } from '@eventlog-archive/shared';
import { dataKey } from '../core/layout';
import type { EventQuery, QueryEngine, QueryOptions, QueryStats } from './engine';
import { duckDbCells, recordsFromRows } from './records-from-rows';
import {
  planQuery,
  type QueryParam,
  type QueryPlan,
  quoteIdentifier,
  quoteString,
  renderDuckDb,
} from './sql';

const DAY_FOLDER = /^dt=(\d{4}-\d{2}-\d{2})$/;
/** Default memory for decoded days kept between queries. */
export const DEFAULT_CACHE_BYTES = 256 * 2 ** 20;
/** A query over more days than this reads them from their files and caches none of them. */
const MAX_DAYS_TO_CACHE = 31;
/** Default connections: queries run at once. */
export const DEFAULT_CONNECTIONS = 2;
/** Default queries waiting for a connection before more are refused. */
export const DEFAULT_MAX_WAITING = 64;

export interface DuckDbEngineOptions {
  /** DuckDB worker threads (default: DuckDB's own default, the number of cores). */
  threads?: number;
  /**
   * Memory for decoded days kept between queries, in bytes (default 256 MiB; 0 turns it off).
   * A day is decoded into an in-memory table on its second read at the same file version, so a
   * one-shot query never pays for it, and paging through a range reads GZIP Parquet once. Days are
   * dropped least recently used first when DuckDB reports more memory than this (a query stops
   * caching once its own days fill the budget, so it overshoots by one day at most); a file that
   * changed on disk (new inode, size or mtime) is read again.
   */
  cacheBytes?: number;
  /**
   * Connections to the one instance, i.e. queries run at once (default {@link DEFAULT_CONNECTIONS}).
   * DuckDB runs one statement per connection but many connections per instance; with two, a cheap
   * page is not stuck behind a long scan.
   */
  connections?: number;
  /**
   * Queries that may wait for a free connection (default {@link DEFAULT_MAX_WAITING}); one more is
   * refused at once with a `ThrottlingException` (429), which the AWS SDKs retry with backoff.
   */
  maxWaiting?: number;
  /**
   * SQL to run on a query's connection before it, if any. For tests of cancellation and timeouts:
   * real DuckDB work (`SELECT sum(i) FROM range(1e11) t(i)`) that `interrupt()` stops like a query.
   */
  beforeQuerySql?: (query: EventQuery) => string | undefined;
}

/** What the engine is doing: for tests and the request log. */
export interface EngineActivity {
  /** Queries holding a connection. */
  running: number;
  /** Queries waiting for one. */
  waiting: number;
  /** Queries stopped through their signal (waiting ones dropped, running ones interrupted). */
  cancelled: number;
  /** Running queries `interrupt()` was called on. */
  interrupted: number;
  /** Queries refused because the wait queue was full. */
  throttled: number;
}

/** The DuckDB engine: a `QueryEngine` that can also say what its day cache holds. */
export interface DuckDbEngine extends QueryEngine {
  /** Days held decoded in memory and the memory DuckDB reports for them. */
  cacheInfo(): Promise<{ days: number; bytes: number }>;
  activity(): EngineActivity;
}

interface DayFile {
  file: string;
  /** Changes whenever the ingest replaces the file (write-then-rename gives a new inode). */
  version: string;
}

interface CachedDay {
  table: string;
  version: string;
  lastUsed: number;
}

/**
 * Opens a DuckDB engine over an archive folder (the `dir` of a `file://` archive).
 *
 * One in-memory DuckDB instance and a small pool of connections, reused for every query: a query
 * waits for a free connection (a DuckDB connection runs one statement at a time), in a bounded
 * queue, so the engine is safe to share between concurrent requests. A query whose signal aborts
 * leaves the queue, or is interrupted on its connection. The day cache is changed by one query at
 * a time, and a cached day read by a running query is never dropped under it. `close()` waits for
 * the running queries and releases the instance. `stats.filesRead` counts the day files a query
 * covered, whether decoded from disk or from the day cache.
 *
 * @example
 * const engine = await createDuckDbEngine('/data/archive');
 * const { records } = await engine.listEvents({ source: codecatalyst, instance: 'acme', start, end, limit: 251 });
 */
export async function createDuckDbEngine(
  archiveDir: string,
  options: DuckDbEngineOptions = {},
): Promise<DuckDbEngine> {
  const root = path.resolve(archiveDir);
  const cacheBytes = options.cacheBytes ?? DEFAULT_CACHE_BYTES;
  const size = Math.max(1, Math.floor(options.connections ?? DEFAULT_CONNECTIONS));
  const maxWaiting = Math.max(0, Math.floor(options.maxWaiting ?? DEFAULT_MAX_WAITING));
  const instance = await DuckDBInstance.create(':memory:');
  const connections: DuckDBConnection[] = [];
  try {
    for (let i = 0; i < size; i++) {
      const connection = await instance.connect();
      connections.push(connection);
      // The TimeZone option of `create` needs the icu extension loaded first; SET after connecting
      // works. Both settings are per connection (`threads` is global but harmless to repeat).
      await connection.run("SET TimeZone = 'UTC'");
      if (options.threads !== undefined)
        await connection.run(`SET threads = ${Math.max(1, Math.floor(options.threads))}`);
    }
  } catch (err) {
    for (const connection of connections) connection.closeSync();
    instance.closeSync();
    throw err;
  }

  let closed = false;
  const free = [...connections];
  const waiters: Array<{ grant: (connection: DuckDBConnection) => void; fail: (err: unknown) => void }> = [];
  const running = new Set<Promise<unknown>>();
  const counts = { cancelled: 0, interrupted: 0, throttled: 0 };

  /** A free connection, after the queries that asked first; refused when the queue is full. */
  const acquire = (signal: AbortSignal | undefined): Promise<DuckDBConnection> => {
    if (closed) return Promise.reject(new Error('the DuckDB engine is closed'));
    if (signal?.aborted) {
      counts.cancelled++;
      return Promise.reject(signal.reason);
    }
    const connection = free.pop();
    if (connection) return Promise.resolve(connection);
    if (waiters.length >= maxWaiting) {
      counts.throttled++;
      return Promise.reject(
        new ApiError(
          'ThrottlingException',
          `Too many queries: ${size} running and ${maxWaiting} waiting; retry with backoff.`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        const at = waiters.indexOf(waiter);
        if (at >= 0) waiters.splice(at, 1);
        counts.cancelled++;
        reject(signal?.reason);
      };
      const waiter = {
        grant: (connection: DuckDBConnection) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(connection);
        },
        fail: (err: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  };
  const release = (connection: DuckDBConnection): void => {
    const next = waiters.shift();
    if (next) next.grant(connection);
    else free.push(connection);
  };
  /**
   * Runs `task` on a connection of its own; an abort of `signal` meanwhile interrupts DuckDB there
   * (the connection stays usable) and the call rejects with the signal's reason.
   */
  const withConnection = async <T>(
    signal: AbortSignal | undefined,
    task: (connection: DuckDBConnection) => Promise<T>,
  ): Promise<T> => {
    const connection = await acquire(signal);
    const onAbort = (): void => {
      counts.cancelled++;
      counts.interrupted++;
      connection.interrupt();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const run = (async () => {
      try {
        // Aborted before the listener was there (between the grant and now): not seen by onAbort.
        if (signal?.aborted) {
          counts.cancelled++;
          throw signal.reason;
        }
        const result = await task(connection);
        // An abort that came after DuckDB finished still means nobody wants the answer.
        if (signal?.aborted) throw signal.reason;
        return result;
      } catch (err) {
        throw signal?.aborted ? signal.reason : err;
      } finally {
        signal?.removeEventListener('abort', onAbort);
        release(connection);
      }
    })();
    running.add(run);
    void run.then(
      () => running.delete(run),
      () => running.delete(run),
    );
    return run;
  };

  /** Changes to the day cache (create, drop, evict) are made by one query at a time. */
  let cacheQueue: Promise<unknown> = Promise.resolve();
  const cacheLock = <T>(task: () => Promise<T>): Promise<T> => {
    const run = cacheQueue.then(task, task);
    cacheQueue = run.catch(() => undefined);
    return run;
  };
  /** Cached tables read by running queries: never dropped until the last of them ends. */
  const pins = new Map<string, number>();
  /** Tables out of the cache that a running query still reads: dropped when it ends. */
  const retired = new Set<string>();
  const pin = (table: string): void => {
    pins.set(table, (pins.get(table) ?? 0) + 1);
  };
  /** Drops the pins of `tables`; returns those retired ones that nobody reads any more. */
  const releasePins = (tables: readonly string[]): string[] => {
    for (const table of tables) {
      const left = (pins.get(table) ?? 1) - 1;
      if (left > 0) pins.set(table, left);
      else pins.delete(table);
    }
    return tables.filter((table) => retired.has(table) && !pins.has(table));
  };
  /** Drops retired tables; only with the cache lock held. */
  const dropRetired = async (connection: DuckDBConnection, tables: readonly string[]): Promise<void> => {
    for (const table of tables) {
      if (!retired.delete(table)) continue;
      await connection.run(`DROP TABLE IF EXISTS ${quoteIdentifier(table)}`);
    }
  };
  const unpin = async (connection: DuckDBConnection, tables: readonly string[]): Promise<void> => {
    const done = releasePins(tables);
    if (done.length > 0) await cacheLock(() => dropRetired(connection, done));
  };

  const cached = new Map<string, CachedDay>();
  /** Files read once, with the version read: the second read at that version caches the day. */
  const seenOnce = new Map<string, string>();
  let tables = 0;
  let uses = 0;

  /** The data files of the plan's days that exist, oldest first. */
  const filesOf = async (plan: QueryPlan): Promise<DayFile[]> => {
    const { firstDay, lastDay } = plan;
    if (!firstDay || !lastDay) return [];
    const location = {
      table: plan.table,
      partitionKey: plan.partitionKey,
      partitionValue: plan.partitionValue,
    };
    const instanceDir = path.join(root, plan.table, `${plan.partitionKey}=${plan.partitionValue}`);
    let entries: string[];
    try {
      entries = await fs.readdir(instanceDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const days = entries
      .map((name) => DAY_FOLDER.exec(name)?.[1])
      .filter((day): day is string => day !== undefined && day >= firstDay && day <= lastDay)
      .sort();
    const files = await Promise.all(
      days.map(async (day): Promise<DayFile | undefined> => {
        const file = path.join(root, dataKey(location, day));
        try {
          const stat = await fs.stat(file);
          return stat.isFile() ? { file, version: `${stat.ino}:${stat.size}:${stat.mtimeMs}` } : undefined;
        } catch {
          return undefined;
        }
      }),
    );
    return files.filter((f): f is DayFile => f !== undefined);
  };

  const drop = async (connection: DuckDBConnection, file: string): Promise<void> => {
    const day = cached.get(file);
    if (!day) return;
    cached.delete(file);
    if (pins.has(day.table)) retired.add(day.table);
    else await connection.run(`DROP TABLE IF EXISTS ${quoteIdentifier(day.table)}`);
  };

  const cacheMemory = async (connection: DuckDBConnection): Promise<number> => {
    const reader = await connection.runAndReadAll(
      "SELECT coalesce(sum(memory_usage_bytes), 0)::DOUBLE FROM duckdb_memory() WHERE tag = 'IN_MEMORY_TABLE'",
    );
    return Number(reader.getRowsJS()[0]?.[0] ?? 0);
  };

  /**
   * Drops least recently used days (never those in `keep`) while over the budget; false when the
   * days in `keep` alone are over it.
   */
  const evict = async (connection: DuckDBConnection, keep: ReadonlySet<string>): Promise<boolean> => {
    for (;;) {
      if ((await cacheMemory(connection)) <= cacheBytes) return true;
      // Days other running queries read are not dropped either (they would count until they end).
      const victim = [...cached.entries()]
        .filter(([, day]) => !keep.has(day.table) && !pins.has(day.table))
        .sort(([, a], [, b]) => a.lastUsed - b.lastUsed)[0];
      if (!victim) return false;
      await drop(connection, victim[0]);
    }
  };

  /**
   * Splits a query's days into cached tables and files to read, caching days read before. The
   * tables returned are pinned: the caller unpins them when its query ends.
   */
  const sourcesOf = async (
    connection: DuckDBConnection,
    days: DayFile[],
  ): Promise<{ files: string[]; tables: string[] }> => {
    const out = { files: [] as string[], tables: [] as string[] };
    try {
      await planSources(connection, days, out);
    } catch (err) {
      // Interrupted (or failed) half-way: the days pinned so far are not going to be read.
      await dropRetired(connection, releasePins(out.tables));
      throw err;
    }
    return out;
  };
  const planSources = async (
    connection: DuckDBConnection,
    days: DayFile[],
    out: { files: string[]; tables: string[] },
  ): Promise<void> => {
    // A query over many days, or a budget already filled by this query's days, caches nothing more.
    let room = cacheBytes > 0 && days.length <= MAX_DAYS_TO_CACHE;
    for (const { file, version } of days) {
      const hit = cached.get(file);
      if (hit?.version === version) {
        hit.lastUsed = ++uses;
        out.tables.push(hit.table);
        pin(hit.table);
        continue;
      }
      if (hit) await drop(connection, file);
      if (room && seenOnce.get(file) === version) {
        const table = `day_cache_${++tables}`;
        await connection.run(
          `CREATE TABLE ${quoteIdentifier(table)} AS SELECT * FROM read_parquet(${quoteString(file)}, hive_partitioning = false)`,
        );
        seenOnce.delete(file);
        cached.set(file, { table, version, lastUsed: ++uses });
        out.tables.push(table);
        pin(table);
        room = await evict(connection, new Set(out.tables));
      } else {
        if (seenOnce.size >= 100_000) seenOnce.clear();
        if (cacheBytes > 0) seenOnce.set(file, version);
        out.files.push(file);
      }
    }
  };

  return {
    async listEvents(query: EventQuery, queryOptions: QueryOptions = {}) {
      const { signal } = queryOptions;
      if (closed) throw new Error('the DuckDB engine is closed');
      const plan = planQuery(query);
      const days = await filesOf(plan);
      const stats: QueryStats = { filesRead: days.length };
      if (days.length === 0) return { records: [], stats };
      const rows = await withConnection(signal, async (connection) => {
        if (closed) throw new Error('the DuckDB engine is closed');
        const sources = await cacheLock(() => {
          if (signal?.aborted) throw signal.reason;
          return sourcesOf(connection, days);
        });
        try {
          const before = options.beforeQuerySql?.(query);
          if (before !== undefined) await connection.run(before);
          if (signal?.aborted) throw signal.reason;
          const { sql, params } = renderDuckDb(plan, sources);
          const statement = await connection.prepare(sql);
          try {
            statement.bind(params.map(toDuckDbValue));
            // An interrupt between two statements is lost (DuckDB clears it when the next starts).
            if (signal?.aborted) throw signal.reason;
            return (await statement.runAndReadAll()).getRowsJS();
          } finally {
            statement.destroySync();
          }
        } finally {
          await unpin(connection, sources.tables);
        }
      });
      return { records: recordsFromRows(query.source.fields, plan.columns, rows, duckDbCells), stats };
    },
    cacheInfo() {
      return withConnection(undefined, (connection) =>
        cacheLock(async () => ({ days: cached.size, bytes: closed ? 0 : await cacheMemory(connection) })),
      );
    },
    activity() {
      return { running: running.size, waiting: waiters.length, ...counts };
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const waiter of waiters.splice(0)) waiter.fail(new Error('the DuckDB engine is closed'));
      await Promise.allSettled([...running]);
      for (const connection of connections) connection.closeSync();
      instance.closeSync();
    },
  };
}

function toDuckDbValue(param: QueryParam): DuckDBValue {
  return param.type === 'timestamp' ? timestampTZValue(BigInt(param.value) * 1000n) : param.value;
}
