/**
 * Athena's query API played by DuckDB over an archive folder, for tests that run the real Athena
 * engine end to end without AWS. `StartQueryExecution` (refusing a parameter over Athena's 1,024
 * characters, as Athena does) runs the engine's Athena-dialect SQL text
 * unchanged against a view that looks like the Glue table (every instance and day of the archive,
 * with `space`/`dt` partition columns as partition projection exposes them); the Trino
 * functions the SQL uses that DuckDB lacks are DuckDB macros with Trino's output form. Each `ExecutionParameters`
 * entry must be exactly one quoted string literal, as Athena substitutes parameters as SQL
 * expressions. Results come back as Athena gives them: strings in `VarCharValue`, NULL as an empty
 * Datum, booleans as `true`/`false`, a header row first, pages of at most `MaxResults` rows.
 *
 * With `lake`, it also plays Amazon Security Lake's custom-source tables: each a view over a folder
 * in the lake's layout (`region=…/accountId=…/eventDay=…/*.parquet`, the partitions strings, as the
 * Glue table declares them) in the lake's database, which a query reaches by naming that database
 * in its `QueryExecutionContext` (queries run one at a time); `from_unixtime` and a list-or-map
 * `element_at` (NULL past the end or for a missing key, as Trino's) are macros then.
 *
 * What this cannot prove: Trino's own function and coercion semantics; the SQL is parsed with a
 * Trino-dialect parser in sql.test.ts, and the partition literals are checked there.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  InvalidRequestException,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { DuckDBInstance } from '@duckdb/node-api';
import { mockClient } from 'aws-sdk-client-mock';

export interface EmulatedQuery {
  sql: string;
  executionParameters: string[];
  rows: number;
}

export interface AthenaOnDuckDb {
  client: AthenaClient;
  queries: EmulatedQuery[];
  close(): Promise<void>;
}

const STRING_LITERAL = /^'((?:[^']|'')*)'$/s;
/**
 * Athena's limit on each ExecutionParameters value, written down here rather than imported from the
 * code under test (https://docs.aws.amazon.com/athena/latest/APIReference/API_StartQueryExecution.html).
 */
const ATHENA_PARAMETER_MAX_LENGTH = 1024;

export async function athenaOnDuckDb(
  archiveDir: string,
  database: string,
  options: {
    pageRows?: number;
    /**
     * Print numbers and timestamps as Athena prints them (`42`, `2026-01-02 03:04:05.678`), for
     * people's queries; by default such a cell is an error, since the engine's SQL casts every
     * column to a string itself.
     */
    printAsAthena?: boolean;
    /** Security Lake's Glue database and its custom-source tables: table name → the source's `ext/<name>/` folder. */
    lake?: { database: string; tables: Record<string, string> };
  } = {},
): Promise<AthenaOnDuckDb> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  await connection.run(`CREATE SCHEMA "${database}"`);
  // Unqualified table names resolve in the query's database, as Athena's QueryExecutionContext does.
  await connection.run(`SET search_path = '${database}'`);
  for (const table of readdirSync(archiveDir).filter((name) => !name.startsWith('_'))) {
    const glob = path.join(archiveDir, table, '*', '*', 'events.parquet').replaceAll("'", "''");
    await connection.run(
      `CREATE VIEW "${database}"."${table}" AS SELECT * FROM read_parquet('${glob}', hive_partitioning = true, hive_types_autocast = false)`,
    );
  }
  const lake = options.lake;
  if (lake) {
    await connection.run(`CREATE SCHEMA "${lake.database}"`);
    for (const [table, root] of Object.entries(lake.tables)) {
      const glob = path.join(root, '*', '*', '*', '*.parquet').replaceAll("'", "''");
      await connection.run(
        `CREATE VIEW "${lake.database}"."${table}" AS SELECT * FROM read_parquet('${glob}', hive_partitioning = true, hive_types_autocast = false, union_by_name = true)`,
      );
    }
    // Trino's from_unixtime(double): the milliseconds rounded, a timestamp(3) with time zone (UTC).
    await connection.run(
      'CREATE TEMP MACRO from_unixtime(s) AS CAST(epoch_ms(CAST(round(s * 1000) AS BIGINT)) AS TIMESTAMPTZ)',
    );
    // Trino's element_at of an array (1-based) or a map: NULL past the end, or for a missing key.
    await connection.run('CREATE TEMP MACRO element_at(c, k) AS c[k]');
  }
  let schema = database;
  // Trino's functions as the Athena SQL uses them: to_iso8601 of a timestamp(3) prints no zone.
  await connection.run('CREATE MACRO from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)');
  await connection.run(`CREATE MACRO to_iso8601(t) AS strftime(t, '%Y-%m-%dT%H:%M:%S.%g')`);
  // DuckDB's own from_hex gives a BLOB, as Trino's gives a varbinary.
  await connection.run('CREATE MACRO from_utf8(b) AS decode(b)');

  const results = new Map<string, { header: string[]; rows: (string | null)[][]; polls: number }>();
  const queries: EmulatedQuery[] = [];
  const mock = mockClient(AthenaClient);
  mock.on(StartQueryExecutionCommand).callsFake(async (input) => {
    const sql = String(input.QueryString);
    const executionParameters = (input.ExecutionParameters ?? []) as string[];
    const values = executionParameters.map((p) => {
      // Athena's own limit on each value: a longer one fails the start, as in AWS.
      if (p.length > ATHENA_PARAMETER_MAX_LENGTH)
        throw new InvalidRequestException({
          message: `ExecutionParameters member must have length less than or equal to ${ATHENA_PARAMETER_MAX_LENGTH}`,
          $metadata: {},
        });
      const m = STRING_LITERAL.exec(p);
      if (!m) throw new Error(`execution parameter is not one string literal: ${p}`);
      return m[1]!.replaceAll("''", "'");
    });
    const wanted = lake && input.QueryExecutionContext?.Database === lake.database ? lake.database : database;
    if (wanted !== schema) {
      await connection.run(`SET search_path = '${wanted}'`);
      schema = wanted;
    }
    const statement = await connection.prepare(sql);
    try {
      if (statement.parameterCount !== values.length)
        throw new Error(`${statement.parameterCount} placeholders, ${values.length} parameters`);
      statement.bind(values);
      const reader = await statement.runAndReadAll();
      const rows = reader.getRowsJS().map((row) =>
        row.map((cell) => {
          if (cell === null || cell === undefined) return null;
          if (typeof cell === 'boolean') return cell ? 'true' : 'false';
          if (typeof cell === 'string') return cell;
          if (options.printAsAthena) {
            if (typeof cell === 'bigint' || typeof cell === 'number') return String(cell);
            if (cell instanceof Date) return cell.toISOString().replace('T', ' ').replace('Z', '');
          }
          throw new Error(`unexpected non-string cell ${String(cell)}: Athena would print it`);
        }),
      );
      const id = randomUUID();
      results.set(id, { header: reader.columnNames(), rows, polls: 0 });
      queries.push({ sql, executionParameters, rows: rows.length });
      return { QueryExecutionId: id };
    } finally {
      statement.destroySync();
    }
  });
  mock.on(GetQueryExecutionCommand).callsFake(async (input) => {
    const result = results.get(String(input.QueryExecutionId));
    if (!result) throw Object.assign(new Error('no such query'), { name: 'InvalidRequestException' });
    // One poll in QUEUED, then done: the engine's polling loop runs every time.
    const state = result.polls++ === 0 ? 'QUEUED' : 'SUCCEEDED';
    return {
      QueryExecution: {
        QueryExecutionId: input.QueryExecutionId,
        Status: { State: state },
        Statistics: { DataScannedInBytes: 1024 * (result.rows.length + 1) },
      },
    };
  });
  mock.on(GetQueryResultsCommand).callsFake(async (input) => {
    const result = results.get(String(input.QueryExecutionId));
    if (!result) throw Object.assign(new Error('no such query'), { name: 'InvalidRequestException' });
    const max = Math.min(input.MaxResults ?? 1000, options.pageRows ?? 1000);
    if (max > 1000) throw new Error('MaxResults above 1000');
    const all = [result.header, ...result.rows];
    const offset = input.NextToken ? Number(input.NextToken) : 0;
    const page = all.slice(offset, offset + max);
    const next = offset + max < all.length ? String(offset + max) : undefined;
    return {
      ResultSet: {
        Rows: page.map((row) => ({ Data: row.map((v) => (v === null ? {} : { VarCharValue: v })) })),
        ResultSetMetadata: { ColumnInfo: result.header.map((Name) => ({ Name, Type: 'varchar' })) },
      },
      ...(next ? { NextToken: next } : {}),
    };
  });
  mock.on(StopQueryExecutionCommand).resolves({});

  return {
    client: new AthenaClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' },
    }),
    queries,
    async close() {
      mock.restore();
      connection.closeSync();
      instance.closeSync();
    },
  };
}
