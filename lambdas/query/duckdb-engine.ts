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
import { dataKey } from '../ingest/archive/layout';
import type { EventQuery, QueryEngine, QueryStats } from './engine';
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
}

/** The DuckDB engine: a `QueryEngine` that can also say what its day cache holds. */
export interface DuckDbEngine extends QueryEngine {
  /** Days held decoded in memory and the memory DuckDB reports for them. */
  cacheInfo(): Promise<{ days: number; bytes: number }>;
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
 * One in-memory DuckDB instance and one connection, reused for every query; queries are run one
 * at a time (a DuckDB connection runs one statement at a time, and DuckDB already uses every core
 * for one query), so the engine is safe to share between concurrent requests. `close()` waits for
 * the running query and releases the instance. `stats.filesRead` counts the day files a query
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
  const instance = await DuckDBInstance.create(':memory:');
  let connection: DuckDBConnection;
  try {
    connection = await instance.connect();
    // The TimeZone option of `create` needs the icu extension loaded first; SET after connecting works.
    await connection.run("SET TimeZone = 'UTC'");
    if (options.threads !== undefined)
      await connection.run(`SET threads = ${Math.max(1, Math.floor(options.threads))}`);
  } catch (err) {
    instance.closeSync();
    throw err;
  }

  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;
  /** Runs `task` after every earlier one: one statement at a time on the one connection. */
  const serial = <T>(task: () => Promise<T>): Promise<T> => {
    const run = queue.then(task, task);
    queue = run.catch(() => undefined);
    return run;
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

  const drop = async (file: string): Promise<void> => {
    const day = cached.get(file);
    if (!day) return;
    cached.delete(file);
    await connection.run(`DROP TABLE IF EXISTS ${quoteIdentifier(day.table)}`);
  };

  const cacheMemory = async (): Promise<number> => {
    const reader = await connection.runAndReadAll(
      "SELECT coalesce(sum(memory_usage_bytes), 0)::DOUBLE FROM duckdb_memory() WHERE tag = 'IN_MEMORY_TABLE'",
    );
    return Number(reader.getRowsJS()[0]?.[0] ?? 0);
  };

  /**
   * Drops least recently used days (never those in `keep`) while over the budget; false when the
   * days in `keep` alone are over it.
   */
  const evict = async (keep: ReadonlySet<string>): Promise<boolean> => {
    for (;;) {
      if ((await cacheMemory()) <= cacheBytes) return true;
      const victim = [...cached.entries()]
        .filter(([, day]) => !keep.has(day.table))
        .sort(([, a], [, b]) => a.lastUsed - b.lastUsed)[0];
      if (!victim) return false;
      await drop(victim[0]);
    }
  };

  /** Splits a query's days into cached tables and files to read, caching days read before. */
  const sourcesOf = async (days: DayFile[]): Promise<{ files: string[]; tables: string[] }> => {
    const out = { files: [] as string[], tables: [] as string[] };
    // A query over many days, or a budget already filled by this query's days, caches nothing more.
    let room = cacheBytes > 0 && days.length <= MAX_DAYS_TO_CACHE;
    for (const { file, version } of days) {
      const hit = cached.get(file);
      if (hit?.version === version) {
        hit.lastUsed = ++uses;
        out.tables.push(hit.table);
        continue;
      }
      if (hit) await drop(file);
      if (room && seenOnce.get(file) === version) {
        const table = `day_cache_${++tables}`;
        await connection.run(
          `CREATE TABLE ${quoteIdentifier(table)} AS SELECT * FROM read_parquet(${quoteString(file)}, hive_partitioning = false)`,
        );
        seenOnce.delete(file);
        cached.set(file, { table, version, lastUsed: ++uses });
        out.tables.push(table);
        room = await evict(new Set(out.tables));
      } else {
        if (seenOnce.size >= 100_000) seenOnce.clear();
        if (cacheBytes > 0) seenOnce.set(file, version);
        out.files.push(file);
      }
    }
    return out;
  };

  return {
    async listEvents(query: EventQuery) {
      if (closed) throw new Error('the DuckDB engine is closed');
      const plan = planQuery(query);
      const days = await filesOf(plan);
      const stats: QueryStats = { filesRead: days.length };
      if (days.length === 0) return { records: [], stats };
      const rows = await serial(async () => {
        if (closed) throw new Error('the DuckDB engine is closed');
        const { sql, params } = renderDuckDb(plan, await sourcesOf(days));
        const statement = await connection.prepare(sql);
        try {
          statement.bind(params.map(toDuckDbValue));
          return (await statement.runAndReadAll()).getRowsJS();
        } finally {
          statement.destroySync();
        }
      });
      return { records: recordsFromRows(query.source.fields, plan.columns, rows, duckDbCells), stats };
    },
    cacheInfo() {
      return serial(async () => ({ days: cached.size, bytes: closed ? 0 : await cacheMemory() }));
    },
    async close() {
      if (closed) return;
      closed = true;
      await queue;
      connection.closeSync();
      instance.closeSync();
    },
  };
}

function toDuckDbValue(param: QueryParam): DuckDBValue {
  return param.type === 'timestamp' ? timestampTZValue(BigInt(param.value) * 1000n) : param.value;
}
