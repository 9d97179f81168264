/**
 * Reads OCSF Parquet objects in Security Lake's layout back with DuckDB (an independent reader, as
 * Athena would read the custom source's table): every row as the JSON of its OCSF event (absent
 * values dropped, JSON columns parsed back), with its Hive partitions and file.
 */
import { DuckDBInstance } from '@duckdb/node-api';

export interface LakeRow {
  /** The event as OCSF JSON, as read back. */
  event: Record<string, unknown>;
  region: string;
  accountId: string;
  eventDay: string;
  /** The object's path relative to the root read. */
  file: string;
}

/** JSON attributes the writer stores as JSON text. */
const JSON_PATHS = [
  ['api', 'request', 'data'],
  ['api', 'response', 'data'],
] as const;

/** Every row under `root` (the custom source's `ext/<name>/` folder). */
export async function readLake(
  root: string,
): Promise<{ rows: LakeRow[]; columnTypes: Record<string, string> }> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const glob = `${root.replace(/\/+$/, '')}/*/*/*/*.parquet`.replaceAll("'", "''");
    const source = `read_parquet('${glob}', hive_partitioning = true, filename = true, union_by_name = true)`;
    const described = await connection.runAndReadAll(
      `DESCRIBE SELECT * EXCLUDE (region, accountId, eventDay, filename) FROM ${source}`,
    );
    const columnTypes: Record<string, string> = {};
    for (const row of described.getRowObjectsJson())
      columnTypes[String(row.column_name)] = String(row.column_type);
    // The whole row as JSON: the OCSF columns, the Hive partitions and the file name.
    const reader = await connection.runAndReadAll(`SELECT to_json(t)::VARCHAR AS row FROM ${source} AS t`);
    const prefix = `${root.replace(/\/+$/, '')}/`;
    const rows = reader.getRowObjectsJson().map((r) => {
      const { region, accountId, eventDay, filename, ...columns } = JSON.parse(String(r.row)) as Record<
        string,
        unknown
      >;
      const event = (withoutNulls(columns) ?? {}) as Record<string, unknown>;
      for (const path of JSON_PATHS) parseAt(event, path);
      const file = String(filename);
      return {
        event,
        region: String(region),
        accountId: String(accountId),
        eventDay: String(eventDay),
        file: file.startsWith(prefix) ? file.slice(prefix.length) : file,
      };
    });
    return { rows, columnTypes };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const kept = withoutNulls(v);
      if (kept !== null && kept !== undefined) out[k] = kept;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  return value;
}

function parseAt(event: Record<string, unknown>, path: readonly string[]): void {
  let parent: Record<string, unknown> | undefined = event;
  for (const key of path.slice(0, -1)) parent = parent?.[key] as Record<string, unknown> | undefined;
  const last = path[path.length - 1]!;
  if (parent && typeof parent[last] === 'string') parent[last] = JSON.parse(parent[last] as string);
}
