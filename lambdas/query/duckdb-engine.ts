/**
 * The local query engine: DuckDB (`@duckdb/node-api`) over an archive folder, standing in for
 * Athena. Partition pruning is done before DuckDB sees the query: the engine lists the instance's
 * `dt=` folders and hands `read_parquet` exactly the files of the days in range, so a one-day query
 * opens one file and a query over days with no data runs no SQL at all. Days read again (paging
 * through a range) are kept decoded in memory within a budget, so later pages skip decompressing it.
 *
 * The pieces live in duckdb/: day-files.ts (the pruning), day-cache.ts (the decoded days),
 * connection-pool.ts (the shared connections and their queue) and run-query.ts (one query).
 */
import path from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { CLOSED_MESSAGE, ConnectionPool, type EngineActivity } from './duckdb/connection-pool';
import { DayCache } from './duckdb/day-cache';
import { type DayFile, dayFilesOf } from './duckdb/day-files';
import { type DayQuery, runDayQuery } from './duckdb/run-query';
import type { EventQuery, EventSelection, QueryEngine, QueryOptions, QueryStats } from './engine';
import { duckDbCells, recordsFromRows } from './records-from-rows';
import {
  type HistogramQuery,
  type HistogramRow,
  histogramRows,
  planHistogram,
  planQuery,
  type QueryPlan,
  renderDuckDb,
  renderDuckDbHistogram,
} from './sql';

export type { EngineActivity } from './duckdb/connection-pool';
export type { DayFile } from './duckdb/day-files';

/** Which local Parquet files hold a plan's days, oldest first (the pruning step of every query). */
export type DayFileResolver = (plan: QueryPlan) => Promise<DayFile[]>;

/** Default memory for decoded days kept between queries. */
export const DEFAULT_CACHE_BYTES = 256 * 2 ** 20;
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
   * one-shot query never pays for it, and paging through a range reads and decompresses the Parquet once. Days are
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
  beforeQuerySql?: (query: EventSelection) => string | undefined;
  /**
   * Where the days of a query are (default: the `dt=` folders under the archive folder). An S3
   * archive read through a local cache resolves them by fetching the missing day objects first.
   */
  dayFiles?: DayFileResolver;
}

/** The DuckDB engine: a `QueryEngine` that also counts events per bucket and says what its day cache holds. */
export interface DuckDbEngine extends QueryEngine {
  /**
   * The selection's events per UTC-aligned bucket, split into series (the console's histogram):
   * through the same day files, connections, day cache and bound parameters as `listEvents`.
   */
  histogram(
    query: HistogramQuery,
    options?: QueryOptions,
  ): Promise<{ rows: HistogramRow[]; stats: QueryStats }>;
  /** Days held decoded in memory and the memory DuckDB reports for them. */
  cacheInfo(): Promise<{ days: number; bytes: number }>;
  activity(): EngineActivity;
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
  const size = Math.max(1, Math.floor(options.connections ?? DEFAULT_CONNECTIONS));
  const maxWaiting = Math.max(0, Math.floor(options.maxWaiting ?? DEFAULT_MAX_WAITING));
  const instance = await DuckDBInstance.create(':memory:');
  const connections = await openConnections(instance, size, options.threads);
  const pool = new ConnectionPool(connections, maxWaiting);
  const cache = new DayCache(options.cacheBytes ?? DEFAULT_CACHE_BYTES);
  const resolveDays: DayFileResolver = options.dayFiles ?? ((plan) => dayFilesOf(root, plan));

  /** Runs the SQL of a query over the days of its plan that exist; none: no SQL, no rows. */
  const runOnDays = async (
    query: EventSelection,
    plan: QueryPlan,
    render: DayQuery['render'],
    signal: AbortSignal | undefined,
    caching: DayQuery['caching'],
  ): Promise<{ rows: unknown[][]; stats: QueryStats }> => {
    if (pool.closed) throw new Error(CLOSED_MESSAGE);
    const days = await resolveDays(plan);
    try {
      const stats: QueryStats = { filesRead: days.length };
      if (days.length === 0) return { rows: [], stats };
      const rows = await pool.withConnection(signal, async (connection) => {
        if (pool.closed) throw new Error(CLOSED_MESSAGE);
        const beforeSql = () => options.beforeQuerySql?.(query);
        return runDayQuery(connection, cache, { render, days, signal, beforeSql, caching });
      });
      return { rows, stats };
    } finally {
      // The resolver's files may be evicted from a download cache once the query is done with them.
      for (const day of days) day.release?.();
    }
  };

  return {
    async listEvents(query: EventQuery, { signal }: QueryOptions = {}) {
      const plan = planQuery(query);
      const { rows, stats } = await runOnDays(query, plan, (s) => renderDuckDb(plan, s), signal, 'admit');
      return { records: recordsFromRows(query.source.fields, plan.columns, rows, duckDbCells), stats };
    },
    async histogram(query: HistogramQuery, { signal }: QueryOptions = {}) {
      const plan = planHistogram(query);
      const render: DayQuery['render'] = (s) => renderDuckDbHistogram(plan, s);
      // A histogram reads a few columns of each day: cheap from the files, and no sign that the
      // days will be paged through, so it never pays for decoding them into the cache.
      const { rows, stats } = await runOnDays(query, plan.events, render, signal, 'use');
      return { rows: histogramRows(rows), stats };
    },
    cacheInfo() {
      return pool.withConnection(undefined, (connection) =>
        cache.lock(async () => ({
          days: cache.days,
          bytes: pool.closed ? 0 : await cache.memory(connection),
        })),
      );
    },
    activity(): EngineActivity {
      return pool.activity();
    },
    async close() {
      if (pool.closed) return;
      await pool.close();
      instance.closeSync();
    },
  };
}

/** `size` connections to `instance`, set up for the engine; none are left open if one fails. */
async function openConnections(
  instance: DuckDBInstance,
  size: number,
  threads: number | undefined,
): Promise<DuckDBConnection[]> {
  const connections: DuckDBConnection[] = [];
  try {
    for (let i = 0; i < size; i++) {
      const connection = await instance.connect();
      connections.push(connection);
      // The TimeZone option of `create` needs the icu extension loaded first; SET after connecting
      // works. Both settings are per connection (`threads` is global but harmless to repeat).
      await connection.run("SET TimeZone = 'UTC'");
      if (threads !== undefined) await connection.run(`SET threads = ${Math.max(1, Math.floor(threads))}`);
    }
  } catch (err) {
    for (const connection of connections) connection.closeSync();
    instance.closeSync();
    throw err;
  }
  return connections;
}
