/** One query of the DuckDB engine on the connection it was granted. */
import { type DuckDBConnection, type DuckDBValue, timestampTZValue } from '@duckdb/node-api';
import type { DuckDbSources, QueryParam, RenderedSql } from '../sql';
import type { DayCache } from './day-cache';
import type { DayFile } from './day-files';

export interface DayQuery {
  /** The query's SQL over the days as they are read (cached tables and files). */
  render: (sources: DuckDbSources) => RenderedSql;
  /** The day files of the query's plan that exist (at least one). */
  days: readonly DayFile[];
  signal: AbortSignal | undefined;
  /**
   * `admit`: a day read for the second time is decoded into the cache (listings, which page).
   * `use`: cached days are read from the cache, others from their files, and nothing is admitted.
   */
  caching: 'admit' | 'use';
  /** SQL to run on the connection first, if any; asked for once the days are read (see `beforeQuerySql`). */
  beforeSql: () => string | undefined;
}

/**
 * Reads the query's days through the day cache (under its lock) and runs its SQL over the cached
 * tables and the remaining files; returns DuckDB's rows. The cached tables are unpinned however it
 * ends. An abort of `query.signal` is checked between the steps DuckDB cannot be interrupted in.
 */
export async function runDayQuery(
  connection: DuckDBConnection,
  cache: DayCache,
  query: DayQuery,
): Promise<unknown[][]> {
  const { days, signal } = query;
  const sources = await cache.lock(() => {
    if (signal?.aborted) throw signal.reason;
    return cache.sourcesOf(connection, days, query.caching === 'admit');
  });
  try {
    const before = query.beforeSql();
    if (before !== undefined) await connection.run(before);
    if (signal?.aborted) throw signal.reason;
    const { sql, params } = query.render(sources);
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
    await cache.unpin(connection, sources.tables);
  }
}

function toDuckDbValue(param: QueryParam): DuckDBValue {
  return param.type === 'timestamp' ? timestampTZValue(BigInt(param.value) * 1000n) : param.value;
}
