/**
 * S3 section: `serve` over an `s3://` archive from one machine. An archive of 120 days is written to
 * s3rver (a local S3, on 127.0.0.1) and, the same bytes, to a folder. A 30-day query is asked of
 * `serve` over S3 with an empty cache, then again from a new server over the same cache, and of
 * `serve` over the folder. A small counting proxy in front of s3rver tells how many day objects each
 * run downloaded. No network beyond 127.0.0.1, no credentials (s3rver accepts any).
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { startServer } from '../bin/commands/serve';
import { dataKey } from '../lambdas/core/layout';
import { emptyLedgerDay, writeLedgerDay } from '../lambdas/core/ledger';
import { LocalStore } from '../lambdas/core/local-store';
import { encodeParquet } from '../lambdas/core/parquet';
import { normaliseRecord, sortRecords } from '../lambdas/core/records';
import { S3Store } from '../lambdas/core/s3-store';
import { codecatalystDefinition as codecatalyst } from '../lambdas/core/sources';
import type { ArchiveStore } from '../lambdas/core/store';
import { DAY_MS, iso, utcDay } from '../lambdas/shared/src/time';
import { generateEvents } from './events';
import { type Check, check, fmt, heading, median, note, printTable, tempDir, timed } from './util';

const DAYS = 120;
const EVENTS_PER_DAY = 1_500;
const QUERY_DAYS = 30;
const SPACE = 'bench-s3-space';
const BUCKET = 'bench-archive';
const PREFIX = 'audit/';
const TABLE = { table: codecatalyst.table, partitionKey: codecatalyst.partitionKey, partitionValue: SPACE };

export interface S3Figures {
  days: number;
  events: number;
  archiveBytes: number;
  buildMs: number;
  queryDays: number;
  items: number;
  /** Median of {@link WARM_RUNS} runs, each a new server; every run's time. */
  folder: { ms: number; runsMs: number[] };
  s3First: { ms: number; fetched: number; fetchedBytes: number };
  /** As `folder`, over the cache the first run filled; day objects fetched by all of them. */
  s3Second: { ms: number; runsMs: number[]; fetched: number };
}

/**
 * Runs of each warm query, alternating folder and S3: one request against one was at the mercy of
 * whichever server started warmer (2.24× and 2.43× in full bench runs, 1.15× alone).
 */
const WARM_RUNS = 5;

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}

/** s3rver on 127.0.0.1 behind a proxy that counts the GETs of day objects. */
async function startLocalS3(): Promise<{
  endpoint: string;
  dayGets: () => number;
  close: () => Promise<void>;
}> {
  const require = createRequire(import.meta.url);
  const S3rver = require('s3rver') as new (options: Record<string, unknown>) => S3rverInstance;
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: tempDir('s3rver'),
    configureBuckets: [{ name: BUCKET }],
  });
  const upstream = await s3rver.run();
  let gets = 0;
  const dataPath = `/${BUCKET}/${PREFIX}${codecatalyst.table}/`;
  const proxy: Server = createServer((req: IncomingMessage, res) => {
    const pathname = decodeURIComponent((req.url ?? '/').split('?', 1)[0]!);
    if (req.method === 'GET' && pathname.startsWith(dataPath)) gets++;
    const out = request(
      { host: '127.0.0.1', port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    dayGets: () => gets,
    close: async () => {
      await new Promise<void>((resolve) => {
        proxy.close(() => resolve());
        proxy.closeAllConnections();
      });
      await s3rver.close();
    },
  };
}

/** The same archive into every store: one ZSTD Parquet object and one ledger document (with its `data`) a day. */
async function buildArchive(
  stores: ArchiveStore[],
  end: number,
): Promise<{ events: number; bytes: number; byDay: Map<string, number> }> {
  let events = 0;
  let bytes = 0;
  const byDay = new Map<string, number>();
  for (let d = 0; d < DAYS; d++) {
    const from = end - (DAYS - d) * DAY_MS;
    const day = utcDay(from);
    const records = generateEvents({
      count: EVENTS_PER_DAY,
      fromMs: from,
      toMs: from + DAY_MS - 1,
      seed: 4000 + d,
      idPrefix: `s3-${d}-`,
    }).map((e) => normaliseRecord(codecatalyst.fields, e as unknown as Record<string, unknown>));
    const body = encodeParquet(codecatalyst.fields, sortRecords(codecatalyst, records));
    const doc = {
      ...emptyLedgerDay(codecatalyst.name, SPACE, day),
      data: {
        key: dataKey(TABLE, day),
        events: records.length,
        bytes: body.byteLength,
        sha256: createHash('sha256').update(body).digest('hex'),
        writtenAt: iso(end),
      },
    };
    for (const store of stores) {
      await store.put(dataKey(TABLE, day), body, { contentType: 'application/vnd.apache.parquet' });
      await writeLedgerDay(store, TABLE, doc);
    }
    events += records.length;
    bytes += body.byteLength;
    byDay.set(day, body.byteLength);
  }
  return { events, bytes, byDay };
}

async function firstPage(url: string, body: Record<string, unknown>): Promise<number> {
  const response = await fetch(`${url}/v1/spaces/${SPACE}/eventLogs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 200) throw new Error(`query answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { items: unknown[] }).items.length;
}

/** One server's first query: a new server (a new engine), the request timed alone. */
async function oneRun(archive: string, cacheDir: string, body: Record<string, unknown>) {
  const server = await startServer({ archive, port: 0, cache: { dir: cacheDir } });
  try {
    const run = await timed(() => firstPage(server.url, body));
    return { ms: run.ms, items: run.value };
  } finally {
    await server.close();
  }
}

export async function s3Section(): Promise<{ figures: S3Figures; checks: Check[] }> {
  const end = Date.UTC(2026, 0, 1);
  const s3 = await startLocalS3();
  // The S3 store reads the standard variables, as it does for a user (s3rver accepts any credentials).
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    POWERTOOLS_LOG_LEVEL: 'WARN',
  });
  try {
    const folder = tempDir('s3-folder');
    note(`writing ${DAYS} days of ${fmt.int(EVENTS_PER_DAY)} events into s3rver and a folder…`);
    const built = await timed(() => buildArchive([new LocalStore(folder), new S3Store(BUCKET, PREFIX)], end));
    const body = {
      startTime: iso(end - QUERY_DAYS * DAY_MS),
      endTime: iso(end),
      maxResults: 250,
      eventName: 'getProject',
    };
    const uri = `s3://${BUCKET}/${PREFIX.replace(/\/$/, '')}`;
    const cacheDir = tempDir('s3-cache');

    const before = s3.dayGets();
    const first = await oneRun(uri, cacheDir, body);
    const fetched = s3.dayGets() - before;
    const folderRuns: { ms: number; items: number }[] = [];
    const secondRuns: { ms: number; items: number }[] = [];
    for (let i = 0; i < WARM_RUNS; i++) {
      folderRuns.push(await oneRun(folder, tempDir('s3-unused-cache'), body));
      secondRuns.push(await oneRun(uri, cacheDir, body));
    }
    const fetchedAgain = s3.dayGets() - before - fetched;
    const folderRun = { ms: median(folderRuns.map((r) => r.ms)), items: folderRuns[0]!.items };
    const second = { ms: median(secondRuns.map((r) => r.ms)) };
    const counts = new Set([
      first.items,
      ...folderRuns.map((r) => r.items),
      ...secondRuns.map((r) => r.items),
    ]);
    if (counts.size !== 1)
      throw new Error(`answers differ: ${[...counts].join(', ')} items across the folder and S3 runs`);
    let fetchedBytes = 0;
    for (const [day, size] of built.value.byDay)
      if (day >= utcDay(end - QUERY_DAYS * DAY_MS)) fetchedBytes += size;

    const figures: S3Figures = {
      days: DAYS,
      events: built.value.events,
      archiveBytes: built.value.bytes,
      buildMs: built.ms,
      queryDays: QUERY_DAYS,
      items: folderRun.items,
      folder: { ms: folderRun.ms, runsMs: folderRuns.map((r) => r.ms) },
      s3First: { ms: first.ms, fetched, fetchedBytes },
      s3Second: { ms: second.ms, runsMs: secondRuns.map((r) => r.ms), fetched: fetchedAgain },
    };

    heading(
      `6. serve over s3:// (s3rver on 127.0.0.1): ${DAYS} days, ${fmt.int(built.value.events)} events, ${fmt.mb(built.value.bytes / 2 ** 20)}`,
    );
    printTable(
      [
        `first query of a new server: ${QUERY_DAYS} days, eventName, maxResults 250`,
        'day objects fetched',
        'time',
      ],
      [
        [`folder archive (median of ${WARM_RUNS})`, '-', fmt.ms(folderRun.ms)],
        [
          `s3:// archive, empty cache (~${fmt.mb(fetchedBytes / 2 ** 20)} fetched)`,
          String(fetched),
          fmt.ms(first.ms),
        ],
        [
          `s3:// archive, over the same cache (median of ${WARM_RUNS})`,
          String(fetchedAgain),
          fmt.ms(second.ms),
        ],
      ],
    );
    console.log(
      `${folderRun.items} items each; s3 with a warm cache ÷ folder: ${fmt.x(second.ms / folderRun.ms)}; archive written in ${fmt.s(built.ms)}`,
    );
    return {
      figures,
      checks: [
        check(
          `S3: a first ${QUERY_DAYS}-day query fetches exactly its day objects`,
          String(fetched),
          String(QUERY_DAYS),
          fetched === QUERY_DAYS,
        ),
        check(
          `S3: the same query on ${WARM_RUNS} later runs fetches none`,
          String(fetchedAgain),
          '0',
          fetchedAgain === 0,
        ),
        check(
          `S3: warm cache vs the same query over a folder (medians of ${WARM_RUNS})`,
          fmt.x(second.ms / folderRun.ms),
          '≤ 2×',
          second.ms <= 2 * folderRun.ms,
        ),
      ],
    };
  } finally {
    await s3.close();
  }
}
