/** DuckDB rendering of a plan: what the local engine (duckdb-engine.ts) runs. */
import { type QueryPlan, QueryPlanError, quoteIdentifier, quoteString } from './plan';
import { columnRef, type Dialect, type RenderedSql, renderSelect } from './select';

export const duckDbDialect: Dialect = {
  column: columnRef,
  // JSON columns come back as VARCHAR text whatever logical type the file declares.
  select: (c) => (c.type === 'json' ? `CAST(${columnRef(c.path)} AS VARCHAR)` : columnRef(c.path)),
  // Timestamps are bound as TIMESTAMPTZ values, strings as VARCHAR: no casts needed in the text.
  param: () => '?',
};

/** What a DuckDB query reads: day files, and (optionally) days the engine holds as in-memory tables. */
export interface DuckDbSources {
  files: readonly string[];
  /** Names of in-memory tables with the files' schema (the engine's cache of decoded days). */
  tables?: readonly string[];
}

/**
 * DuckDB: `read_parquet` over an explicit list of files (the engine lists the days that exist, so
 * a one-day query opens one file), unioned with the in-memory tables of cached days if any. Paths
 * are printed as string literals: they come from the engine's own archive folder, the checked
 * partition value and `utcDay` dates, never from a caller.
 */
export function renderDuckDb(plan: QueryPlan, sources: DuckDbSources): RenderedSql {
  return renderSelect(plan, duckDbDialect, duckDbFrom(sources), []);
}

/** The FROM of a DuckDB query over `sources` (without its alias); every DuckDB query reads days this way. */
export function duckDbFrom({ files, tables = [] }: DuckDbSources): string {
  const parts = tables.map((t) => `SELECT * FROM ${quoteIdentifier(t)}`);
  if (files.length > 0)
    parts.push(
      `SELECT * FROM read_parquet([${files.map(quoteString).join(', ')}], hive_partitioning = false)`,
    );
  if (parts.length === 0) throw new QueryPlanError('no files to read');
  return parts.length === 1 && tables.length === 0
    ? parts[0]!.slice('SELECT * FROM '.length)
    : `(${parts.join(' UNION ALL BY NAME ')})`;
}
