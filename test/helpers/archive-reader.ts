/**
 * Reads an archive folder back with DuckDB (the local query engine, an independent Parquet reader)
 * and turns rows into the source's wire form, so tests compare the archive with the source field by field.
 */
import { DuckDBInstance } from '@duckdb/node-api';

/** Drops nulls recursively: the wire form omits absent fields. */
export function dropNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropNulls);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) out[k] = dropNulls(v);
    return out;
  }
  return value;
}

/** Every CodeCatalyst event in the archive folder, in wire form, with its partition values. */
export async function readCodeCatalystArchive(dir: string): Promise<Array<Record<string, unknown>>> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run("SET TimeZone='UTC'");
    const glob = `${dir}/codecatalyst_event_logs/*/*/*.parquet`;
    const reader = await connection.runAndReadAll(
      `SELECT * EXCLUDE (eventTime), strftime(eventTime, '%Y-%m-%dT%H:%M:%S.%g') || 'Z' AS eventTime, typeof(eventTime) AS eventTimeType
       FROM read_parquet('${glob.replaceAll("'", "''")}', hive_partitioning = true)`,
    );
    return reader.getRowObjectsJson().map((row) => dropNulls(row) as Record<string, unknown>);
  } catch (err) {
    if (/No files found/.test((err as Error).message)) return [];
    throw err;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Compares the archive with the source: missing and duplicated ids, and events whose fields differ. */
export function diffArchive(
  archived: Array<Record<string, unknown>>,
  source: Array<Record<string, unknown>>,
): { missing: string[]; duplicates: string[]; different: string[]; extra: string[] } {
  const byId = new Map<string, Record<string, unknown>>();
  const duplicates: string[] = [];
  for (const row of archived) {
    const id = String(row.id);
    if (byId.has(id)) duplicates.push(id);
    byId.set(id, row);
  }
  const missing: string[] = [];
  const different: string[] = [];
  const sourceIds = new Set<string>();
  for (const event of source) {
    const id = String(event.id);
    sourceIds.add(id);
    const row = byId.get(id);
    if (!row) {
      missing.push(id);
      continue;
    }
    const { space: _s, dt: _d, eventTimeType: _t, ...fields } = row;
    if (JSON.stringify(sortKeys(fields)) !== JSON.stringify(sortKeys(dropNulls(event)))) different.push(id);
  }
  const extra = [...byId.keys()].filter((id) => !sourceIds.has(id));
  return { missing, duplicates, different, extra };
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => [k, sortKeys(v)]),
    );
  }
  return value;
}
