/**
 * Reads one table of an archive folder back with DuckDB (an independent Parquet reader), for any
 * source: every row with its Hive partition columns, the file it came from, timestamp columns as
 * epoch milliseconds, and the column types DuckDB sees.
 */
import { DuckDBInstance } from '@duckdb/node-api';

export interface ArchiveTable {
  /** One object per row; nested structs as objects, absent values as null. */
  rows: Array<Record<string, unknown>>;
  /** DuckDB's type of each column, e.g. `TIMESTAMP WITH TIME ZONE` or `STRUCT(a VARCHAR, …)`. */
  columnTypes: Record<string, string>;
}

/**
 * @param timestampColumns top-level timestamp columns, returned as epoch ms numbers.
 * Each row also has `__file`: its path relative to `dir`.
 */
export async function readArchiveTable(
  dir: string,
  table: string,
  timestampColumns: readonly string[] = [],
): Promise<ArchiveTable> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const q = (name: string): string => `"${name.replaceAll('"', '""')}"`;
  try {
    await connection.run("SET TimeZone='UTC'");
    const glob = `${dir}/${table}/*/*/*.parquet`.replaceAll("'", "''");
    const source = `read_parquet('${glob}', hive_partitioning = true, filename = true)`;
    const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
    const columnTypes: Record<string, string> = {};
    for (const row of described.getRowObjectsJson())
      columnTypes[String(row.column_name)] = String(row.column_type);
    const exclude = timestampColumns.length > 0 ? ` EXCLUDE (${timestampColumns.map(q).join(', ')})` : '';
    const select = [`*${exclude}`, ...timestampColumns.map((c) => `epoch_ms(${q(c)}) AS ${q(c)}`)].join(', ');
    const reader = await connection.runAndReadAll(`SELECT ${select} FROM ${source}`);
    const prefix = `${dir.replace(/\/+$/, '')}/`;
    const rows = reader.getRowObjectsJson().map((row) => {
      const out: Record<string, unknown> = { ...row };
      for (const c of timestampColumns) out[c] = out[c] === null ? null : Number(out[c]);
      out.__file = String(out.filename).startsWith(prefix)
        ? String(out.filename).slice(prefix.length)
        : out.filename;
      delete out.filename;
      return out;
    });
    return { rows, columnTypes };
  } catch (err) {
    if (/No files found/.test((err as Error).message)) return { rows: [], columnTypes: {} };
    throw err;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
