/**
 * Days read again (paging through a range) kept decoded in memory as DuckDB tables, within a
 * budget, so later pages skip decompressing it. A day is cached on its second read at the same file version;
 * days are evicted least recently used first; a cached day read by a running query is pinned and
 * never dropped under it. Changes to the cache are made by one query at a time ({@link lock}).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteIdentifier, quoteString } from '../sql';
import type { DayFile } from './day-files';

/** A query over more days than this reads them from their files and caches none of them. */
const MAX_DAYS_TO_CACHE = 31;

interface CachedDay {
  table: string;
  version: string;
  lastUsed: number;
}

/** What one query reads: files from disk, and cached tables it has pinned. */
export interface DaySources {
  files: string[];
  tables: string[];
}

export class DayCache {
  readonly #budget: number;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #cached = new Map<string, CachedDay>();
  /** Files read once, with the version read: the second read at that version caches the day. */
  readonly #seenOnce = new Map<string, string>();
  /** Cached tables read by running queries: never dropped until the last of them ends. */
  readonly #pins = new Map<string, number>();
  /** Tables out of the cache that a running query still reads: dropped when it ends. */
  readonly #retired = new Set<string>();
  #tables = 0;
  #uses = 0;

  /** `budget`: bytes of decoded days DuckDB may report (0 turns the cache off). */
  constructor(budget: number) {
    this.#budget = budget;
  }

  /** Days held decoded in memory. */
  get days(): number {
    return this.#cached.size;
  }

  /** Runs `task` once the changes queued before it are done (whether they failed or not). */
  lock<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** The memory DuckDB reports for in-memory tables (the cached days). */
  async memory(connection: DuckDBConnection): Promise<number> {
    const reader = await connection.runAndReadAll(
      "SELECT coalesce(sum(memory_usage_bytes), 0)::DOUBLE FROM duckdb_memory() WHERE tag = 'IN_MEMORY_TABLE'",
    );
    return Number(reader.getRowsJS()[0]?.[0] ?? 0);
  }

  /**
   * Splits a query's days into cached tables and files to read, caching days read before when
   * `admit` (else neither caching nor counting a read); only with the lock held. The tables returned
   * are pinned: the caller {@link unpin}s them when its query ends.
   */
  async sourcesOf(connection: DuckDBConnection, days: readonly DayFile[], admit = true): Promise<DaySources> {
    const out: DaySources = { files: [], tables: [] };
    try {
      await this.#planSources(connection, days, out, admit);
    } catch (err) {
      // Interrupted (or failed) half-way: the days pinned so far are not going to be read.
      await this.#dropRetired(connection, this.#releasePins(out.tables));
      throw err;
    }
    return out;
  }

  /** Ends a query's reads of `tables`, dropping those retired meanwhile that nobody reads any more. */
  async unpin(connection: DuckDBConnection, tables: readonly string[]): Promise<void> {
    const done = this.#releasePins(tables);
    if (done.length > 0) await this.lock(() => this.#dropRetired(connection, done));
  }

  async #planSources(
    connection: DuckDBConnection,
    days: readonly DayFile[],
    out: DaySources,
    admit: boolean,
  ): Promise<void> {
    // A query over many days, or a budget already filled by this query's days, caches nothing more.
    let room = this.#budget > 0 && days.length <= MAX_DAYS_TO_CACHE;
    for (const { file, version } of days) {
      const hit = this.#cached.get(file);
      if (hit?.version === version) {
        hit.lastUsed = ++this.#uses;
        out.tables.push(hit.table);
        this.#pin(hit.table);
        continue;
      }
      if (hit) await this.#drop(connection, file);
      if (!admit) {
        out.files.push(file);
        continue;
      }
      if (room && this.#seenOnce.get(file) === version) {
        out.tables.push(await this.#admit(connection, file, version));
        room = await this.#evict(connection, new Set(out.tables));
      } else {
        if (this.#seenOnce.size >= 100_000) this.#seenOnce.clear();
        if (this.#budget > 0) this.#seenOnce.set(file, version);
        out.files.push(file);
      }
    }
  }

  /** Decodes a day into a new in-memory table, cached and pinned; returns the table's name. */
  async #admit(connection: DuckDBConnection, file: string, version: string): Promise<string> {
    const table = `day_cache_${++this.#tables}`;
    await connection.run(
      `CREATE TABLE ${quoteIdentifier(table)} AS SELECT * FROM read_parquet(${quoteString(file)}, hive_partitioning = false)`,
    );
    this.#seenOnce.delete(file);
    this.#cached.set(file, { table, version, lastUsed: ++this.#uses });
    this.#pin(table);
    return table;
  }

  /**
   * Drops least recently used days (never those in `keep`) while over the budget; false when the
   * days in `keep` alone are over it.
   */
  async #evict(connection: DuckDBConnection, keep: ReadonlySet<string>): Promise<boolean> {
    for (;;) {
      if ((await this.memory(connection)) <= this.#budget) return true;
      // Days other running queries read are not dropped either (they would count until they end).
      const victim = [...this.#cached.entries()]
        .filter(([, day]) => !keep.has(day.table) && !this.#pins.has(day.table))
        .sort(([, a], [, b]) => a.lastUsed - b.lastUsed)[0];
      if (!victim) return false;
      await this.#drop(connection, victim[0]);
    }
  }

  /** Takes a file's day out of the cache; its table is dropped now, or retired while still read. */
  async #drop(connection: DuckDBConnection, file: string): Promise<void> {
    const day = this.#cached.get(file);
    if (!day) return;
    this.#cached.delete(file);
    if (this.#pins.has(day.table)) this.#retired.add(day.table);
    else await connection.run(`DROP TABLE IF EXISTS ${quoteIdentifier(day.table)}`);
  }

  #pin(table: string): void {
    this.#pins.set(table, (this.#pins.get(table) ?? 0) + 1);
  }

  /** Drops the pins of `tables`; returns those retired ones that nobody reads any more. */
  #releasePins(tables: readonly string[]): string[] {
    for (const table of tables) {
      const left = (this.#pins.get(table) ?? 1) - 1;
      if (left > 0) this.#pins.set(table, left);
      else this.#pins.delete(table);
    }
    return tables.filter((table) => this.#retired.has(table) && !this.#pins.has(table));
  }

  /** Drops retired tables; only with the lock held. */
  async #dropRetired(connection: DuckDBConnection, tables: readonly string[]): Promise<void> {
    for (const table of tables) {
      if (!this.#retired.delete(table)) continue;
      await connection.run(`DROP TABLE IF EXISTS ${quoteIdentifier(table)}`);
    }
  }
}
