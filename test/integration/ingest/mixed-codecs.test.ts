/**
 * An archive written by two versions: days from before ZSTD as GZIP objects, later ones as ZSTD,
 * and a GZIP day that a later run rewrites with late events becoming ZSTD. Every reader takes the
 * mixed archive: hyparquet (the ingest's own merge), DuckDB (serve, query), the Athena-on-DuckDB
 * harness (Athena's SQL), and `verify` finds the digest chain intact.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { parquetMetadata } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataKey } from '../../../lambdas/core/layout';
import { listLedgerDays } from '../../../lambdas/core/ledger';
import { LocalStore } from '../../../lambdas/core/local-store';
import { decodeParquet } from '../../../lambdas/core/parquet';
import { codecatalystDefinition } from '../../../lambdas/core/sources/codecatalyst/definition';
import { ingestInstance } from '../../../lambdas/ingest/ingest-instance';
import { codecatalyst } from '../../../lambdas/ingest/sources/codecatalyst';
import { DAY_MS, HOUR_MS, MINUTE_MS, utcDay } from '../../../lambdas/shared/src/time';
import { readCodeCatalystArchive } from '../../helpers/archive-reader';
import { runCli } from '../../helpers/run-process';
import { type CodeCatalystServer, startCodeCatalystServer } from '../../support/codecatalyst-server';
import { generateEvents } from '../../support/sample-events';
import { athenaOnDuckDb } from '../../unit/query/athena-on-duckdb';

const TOKEN = 'pat-mixed-codecs-0123456789';
const SPACE = 'mixed-space';
const FIRST_RUN = Date.UTC(2026, 10, 20, 12, 0);
const SECOND_RUN = FIRST_RUN + DAY_MS;
const TABLE = { table: codecatalystDefinition.table, partitionKey: 'space', partitionValue: SPACE };
let dir: string;
let store: LocalStore;
let server: CodeCatalystServer;
let now = FIRST_RUN;
let total = 0;

async function run(parquetCodec?: 'GZIP'): Promise<void> {
  const client = await codecatalyst.createClient({
    env: { CODECATALYST_TOKEN: TOKEN, AWS_ENDPOINT_URL_CODECATALYST: server.url, AWS_REGION: 'us-east-1' },
  });
  const result = await ingestInstance({
    source: codecatalyst,
    instance: SPACE,
    store,
    client,
    now: () => now,
    settings: { backfillDays: 5 },
    ...(parquetCodec ? { parquetCodec } : {}),
  });
  expect(result.status).toBe('complete');
}

/** The codec of each day's object, by day. */
async function codecs(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const day of await listLedgerDays(store, TABLE)) {
    const object = await store.get(dataKey(TABLE, day));
    if (!object) continue;
    const meta = parquetMetadata(
      object.body.buffer.slice(
        object.body.byteOffset,
        object.body.byteOffset + object.body.byteLength,
      ) as ArrayBuffer,
    );
    out[day] = String(meta.row_groups[0]!.columns[0]!.meta_data!.codec);
  }
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mixed-codecs-'));
  store = new LocalStore(dir);
  // The first run: three days and the hour before it, written as GZIP (a version before ZSTD).
  const before = generateEvents({
    count: 900,
    fromMs: FIRST_RUN - 3 * DAY_MS,
    toMs: FIRST_RUN - 10 * MINUTE_MS,
    seed: 71,
  });
  server = await startCodeCatalystServer({ spaces: { [SPACE]: before }, tokens: [TOKEN], now: () => now });
  await run('GZIP');
  // Late events inside the first run's lookback (its last windows are swept again), and a new day.
  const late = generateEvents({
    count: 40,
    fromMs: FIRST_RUN - 90 * MINUTE_MS,
    toMs: FIRST_RUN - 5 * MINUTE_MS,
    seed: 72,
    idPrefix: 'late-',
  });
  const after = generateEvents({
    count: 300,
    fromMs: FIRST_RUN,
    toMs: SECOND_RUN - 2 * HOUR_MS,
    seed: 73,
    idPrefix: 'new-',
  });
  server.addEvents(SPACE, [...late, ...after]);
  total = before.length + late.length + after.length;
}, 120_000);

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('an archive of GZIP and ZSTD day objects', () => {
  it('keeps the old GZIP days, writes new days as ZSTD, and a rewritten GZIP day becomes ZSTD', async () => {
    const first = await codecs();
    expect(Object.values(first).every((c) => c === 'GZIP')).toBe(true);
    now = SECOND_RUN;
    await run();
    const second = await codecs();
    const rewritten = utcDay(FIRST_RUN);
    expect(second[utcDay(FIRST_RUN - 3 * DAY_MS)]).toBe('GZIP');
    expect(second[utcDay(FIRST_RUN - 2 * DAY_MS)]).toBe('GZIP');
    expect(second[rewritten]).toBe('ZSTD');
    expect(first[rewritten]).toBe('GZIP');
    expect(second[utcDay(SECOND_RUN - 3 * HOUR_MS)]).toBe('ZSTD');
  });

  it('is read whole by hyparquet, by DuckDB and through Athena’s SQL', async () => {
    let decoded = 0;
    for (const day of await listLedgerDays(store, TABLE)) {
      const object = await store.get(dataKey(TABLE, day));
      if (object) decoded += (await decodeParquet(codecatalystDefinition.fields, object.body)).length;
    }
    expect(decoded).toBe(total);
    expect((await readCodeCatalystArchive(dir)).length).toBe(total);
    const athena = await athenaOnDuckDb(dir, 'eventlog_archive', { printAsAthena: true });
    try {
      const { QueryExecutionId } = await athena.client.send(
        new StartQueryExecutionCommand({
          QueryString:
            "SELECT count(*) AS n, count(DISTINCT dt) AS days FROM codecatalyst_event_logs WHERE space = 'mixed-space'",
          QueryExecutionContext: { Database: 'eventlog_archive' },
        }),
      );
      const page = await athena.client.send(new GetQueryResultsCommand({ QueryExecutionId }));
      const [, row] = page.ResultSet?.Rows ?? [];
      expect(row?.Data?.map((d) => d.VarCharValue)).toEqual([
        String(total),
        String(Object.keys(await codecs()).length),
      ]);
    } finally {
      await athena.close();
    }
  });

  it('verifies: the digests cover the objects whatever their codec', async () => {
    const verified = await runCli(['verify', '--archive', dir, '--json'], { cwd: dir, clock: () => now });
    expect(verified.stderr).toBe('');
    expect(verified.code).toBe(0);
    // The GZIP days and the rewritten one are sealed into the chain, so the check covered them.
    const [report] = (
      JSON.parse(verified.stdout) as { instances: { dataObjectsChecked: number; problems: unknown[] }[] }
    ).instances;
    expect(report!.problems).toEqual([]);
    expect(report!.dataObjectsChecked).toBe(4);
  });
});
