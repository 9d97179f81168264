/**
 * `serve`, `query` and `coverage` over an `s3://bucket/prefix` archive: the real S3 store against
 * s3rver behind the test proxy (test/support/s3-server.ts), the day objects fetched into a local
 * cache checked against the ledger's SHA-256, then DuckDB exactly as over a folder. The same archive
 * is built in a folder by the real ingest and copied object by object into the bucket, so the
 * folder's answers are the expected ones.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openQueryArchive } from '../../../bin/commands/query-archive';
import { startServer } from '../../../bin/commands/serve';
import { dataKey, ledgerKey } from '../../../lambdas/core/layout';
import type { LedgerDay } from '../../../lambdas/core/ledger';
import { codecatalystDefinition as codecatalyst } from '../../../lambdas/core/sources';
import { createDuckDbEngine } from '../../../lambdas/query/duckdb-engine';
import type { EventQuery } from '../../../lambdas/query/engine';
import { LOCAL_TOKEN_KEY } from '../../../lambdas/query/next-token';
import { createLogger } from '../../../lambdas/shared/src';
import { DAY_MS, dayStart, HOUR_MS, utcDay } from '../../../lambdas/shared/src/time';
import { clockEnv, fakedSystemClockEnv, pinnedClock } from '../../helpers/clock';
import { CLI_ENTRY, runCli } from '../../helpers/run-process';
import { type S3TestServer, startS3Server } from '../../support/s3-server';
import { type EventLogEntryWire, generateEvents } from '../../support/sample-events';
import { buildArchive } from './api-fixture';

const clock = pinnedClock(Date.UTC(2026, 4, 20, 12, 0));
const NOW = clock();
const TODAY = dayStart(utcDay(NOW));
const SPACE = 's3-archive-space';
const BUCKET = 'query-bucket';
const PREFIX = 'team/archive';
const S3_URI = `s3://${BUCKET}/${PREFIX}`;
const TABLE = { table: codecatalyst.table, partitionKey: codecatalyst.partitionKey, partitionValue: SPACE };
const DATA_PREFIX = `${PREFIX}/${codecatalyst.table}/`;
// A 30-day range of whole days, all holding data: the last 30 days up to the end of today.
const RANGE30 = { start: TODAY - 29 * DAY_MS, end: TODAY + DAY_MS };
const quiet = createLogger({ logLevel: 'CRITICAL' });
const JSON_TYPE = { 'content-type': 'application/json' };
const S3_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };

let work: string;
let folder: string;
let s3: S3TestServer;
let events: EventLogEntryWire[];
let savedEnv: Record<string, string | undefined> = {};
let caches = 0;

/** A fresh cache root for one test. */
const freshCache = (): string => path.join(work, `cache-${++caches}`);

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 's3-archive-'));
  folder = path.join(work, 'folder');
  // Two ingests 40 days apart (the source keeps 30 days): about 60 days of data with a gap between.
  const earlier = NOW - 40 * DAY_MS;
  const old = generateEvents({
    count: 1_200,
    fromMs: earlier - 29 * DAY_MS,
    toMs: earlier - HOUR_MS,
    seed: 81,
  });
  const recent = generateEvents({ count: 1_500, fromMs: NOW - 29 * DAY_MS, toMs: NOW - HOUR_MS, seed: 82 });
  await buildArchive(folder, { [SPACE]: old }, earlier);
  await buildArchive(folder, { [SPACE]: recent }, NOW);
  events = [...old, ...recent];

  s3 = await startS3Server({ buckets: [BUCKET] });
  // The archive, object by object, under a prefix (not its key material: that never leaves a folder).
  const client = s3.client();
  for (const file of readdirSync(folder, { recursive: true }) as string[]) {
    const full = path.join(folder, file);
    if (file.split(path.sep)[0] === '_keys' || !statSync(full).isFile()) continue;
    const key = `${PREFIX}/${file.split(path.sep).join('/')}`;
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: readFileSync(full) }));
  }
  // The in-process S3 store reads the standard variables, as it does for a user.
  const set = { AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_REGION: 'us-east-1', ...S3_CREDENTIALS };
  savedEnv = Object.fromEntries(Object.keys(set).map((name) => [name, process.env[name]]));
  Object.assign(process.env, set);
}, 180_000);

afterAll(async () => {
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await s3?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** GETs of day objects the S3 stand-in answered since the last reset. */
function dataGets(): string[] {
  return s3.requests
    .filter((r) => r.method === 'GET' && r.bucket === BUCKET && r.key.startsWith(DATA_PREFIX))
    .map((r) => r.key);
}

/** The day objects the folder archive holds in [start, end), as S3 keys. */
function folderDataKeys(start: number, end: number): string[] {
  const keys: string[] = [];
  for (let t = start; t < end; t += DAY_MS) {
    const key = dataKey(TABLE, utcDay(t));
    if (existsSync(path.join(folder, key))) keys.push(`${PREFIX}/${key}`);
  }
  return keys;
}

/** Files under `dir` whose name ends with `suffix`, recursively, with sizes. */
function filesUnder(dir: string, suffix: string): { file: string; bytes: number }[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith(suffix))
    .map((f) => ({ file: f, bytes: statSync(path.join(dir, f)).size }));
}

function ledgerOf(day: string): LedgerDay {
  return JSON.parse(readFileSync(path.join(folder, ledgerKey(TABLE, day)), 'utf8')) as LedgerDay;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function eventQuery(start: number, end: number, extra: Partial<EventQuery> = {}): EventQuery {
  return { source: codecatalyst, instance: SPACE, start, end, limit: 10_000, ...extra };
}

interface Page {
  status: number;
  errorType: string | null;
  items: unknown[];
  more: boolean;
}

/** Every page of a listing, following the server's own nextTokens. */
async function pageThrough(url: string, space: string, body: Record<string, unknown>): Promise<Page[]> {
  const pages: Page[] = [];
  let nextToken: string | undefined;
  do {
    const response = await fetch(`${url}/v1/spaces/${encodeURIComponent(space)}/eventLogs`, {
      method: 'POST',
      headers: JSON_TYPE,
      body: JSON.stringify({ ...body, ...(nextToken ? { nextToken } : {}) }),
    });
    const json = (await response.json()) as { items?: unknown[]; nextToken?: string };
    pages.push({
      status: response.status,
      errorType: response.headers.get('x-amzn-errortype'),
      items: json.items ?? [],
      more: json.nextToken !== undefined,
    });
    nextToken = response.status === 200 ? json.nextToken : undefined;
  } while (nextToken && pages.length < 500);
  return pages;
}

const iso = (ms: number): string => new Date(ms).toISOString();

describe('serve over an s3:// archive', () => {
  it('answers every request exactly as over the same archive in a folder, page by page', async () => {
    const sample = events[events.length - 7]!;
    const requests: [string, Record<string, unknown>][] = [
      [SPACE, { startTime: iso(NOW - 75 * DAY_MS), endTime: iso(NOW), maxResults: 250 }],
      [SPACE, { startTime: iso(RANGE30.start), endTime: iso(RANGE30.end), maxResults: 37 }],
      [
        SPACE,
        {
          startTime: iso(NOW - 75 * DAY_MS),
          endTime: iso(NOW),
          eventName: sample.eventName,
          userName: sample.userIdentity?.userName,
          maxResults: 5,
        },
      ],
      [SPACE, { startTime: iso(NOW - 3 * DAY_MS), endTime: iso(NOW), projectName: 'nope', maxResults: 10 }],
      // The gap between the two ingests: no day holds data.
      [SPACE, { startTime: iso(NOW - 38 * DAY_MS), endTime: iso(NOW - 31 * DAY_MS) }],
      ['never-archived', { startTime: iso(NOW - DAY_MS), endTime: iso(NOW) }],
      [SPACE, { startTime: iso(NOW), endTime: iso(NOW - DAY_MS) }],
    ];
    const cacheRoot = freshCache();
    s3.resetStats();
    const local = await startServer({ archive: folder, port: 0, logger: quiet, clock });
    const remote = await startServer({
      archive: S3_URI,
      port: 0,
      logger: quiet,
      clock,
      cache: { dir: cacheRoot },
    });
    try {
      expect(remote.describe).toContain(S3_URI);
      expect(remote.describe).toContain(cacheRoot);
      for (const [space, body] of requests) {
        const expected = await pageThrough(local.url, space, body);
        const actual = await pageThrough(remote.url, space, body);
        expect(actual, JSON.stringify(body)).toEqual(expected);
      }
      // The first request paged through every event of the archive.
      const all = (await pageThrough(remote.url, SPACE, requests[0]![1])).flatMap((p) => p.items);
      expect(all).toHaveLength(events.length);
      // Read-only on the bucket: nothing was written, and the token key is in the cache folder.
      expect(s3.requests.filter((r) => r.method !== 'GET' && r.method !== 'HEAD')).toEqual([]);
      expect(existsSync(path.join(remote.dir, LOCAL_TOKEN_KEY))).toBe(true);
      expect(remote.dir.startsWith(cacheRoot)).toBe(true);
    } finally {
      await Promise.all([local.close(), remote.close()]);
    }
  });

  it('fetches exactly the 30 day objects of a first 30-day query, and none on a second run', async () => {
    const expected = folderDataKeys(RANGE30.start, RANGE30.end);
    expect(expected).toHaveLength(30);
    const cache = { dir: freshCache() };
    const body = { startTime: iso(RANGE30.start), endTime: iso(RANGE30.end), maxResults: 100 };

    s3.resetStats();
    const first = await startServer({ archive: S3_URI, port: 0, logger: quiet, clock, cache });
    let firstPages: Page[];
    try {
      firstPages = await pageThrough(first.url, SPACE, body);
    } finally {
      await first.close();
    }
    expect(dataGets().sort()).toEqual(expected);
    expect(filesUnder(first.dir, '.parquet')).toHaveLength(30);

    // A new server (a new engine) over the same cache folder: the ledger still names every day.
    s3.resetStats();
    const second = await startServer({ archive: S3_URI, port: 0, logger: quiet, clock, cache });
    try {
      expect(await pageThrough(second.url, SPACE, body)).toEqual(firstPages);
    } finally {
      await second.close();
    }
    expect(dataGets()).toEqual([]);
  });
});

describe('a day object changed after the ledger recorded it', () => {
  const day = utcDay(TODAY - 5 * DAY_MS);
  const key = `${PREFIX}/${dataKey(TABLE, day)}`;
  const range = { start: dayStart(day) - 2 * DAY_MS, end: dayStart(day) + DAY_MS };

  it('is refused with both SHA-256s, by the engine, serve and query, and never cached', async () => {
    const client = s3.client();
    const original = readFileSync(path.join(folder, dataKey(TABLE, day)));
    // Another day's valid Parquet in its place.
    const replacement = readFileSync(path.join(folder, dataKey(TABLE, utcDay(TODAY - 6 * DAY_MS))));
    const expectedSha = ledgerOf(day).data!.sha256;
    expect(expectedSha).toBe(sha256(original));
    const actualSha = sha256(replacement);
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: replacement }));
    const cacheRoot = freshCache();
    try {
      const archive = await openQueryArchive(S3_URI, { cache: { dir: cacheRoot }, clock });
      const engine = await createDuckDbEngine(archive.dir, archive.engine);
      try {
        const err = (await engine.listEvents(eventQuery(range.start, range.end)).catch((e) => e)) as Error;
        expect(err.name).toBe('ArchiveObjectChangedError');
        expect(err.message).toBe(
          `s3://${BUCKET}/${key}: the archive object changed since the ledger recorded it ` +
            `(expected SHA-256 ${expectedSha}, actual SHA-256 ${actualSha}); it was not cached. ` +
            'Retry if an ingest was writing this day just now; otherwise run `eventlog-archive verify` on the archive.',
        );
        const dayFolder = path.join(archive.dir, path.dirname(dataKey(TABLE, day)));
        expect(existsSync(dayFolder) ? readdirSync(dayFolder) : []).toEqual([]);
      } finally {
        await engine.close();
      }

      // serve: a 500 like any other storage fault (the detail is in its log, not in the answer).
      const server = await startServer({
        archive: S3_URI,
        port: 0,
        logger: quiet,
        clock,
        cache: { dir: cacheRoot },
      });
      try {
        const [page] = await pageThrough(server.url, SPACE, {
          startTime: iso(range.start),
          endTime: iso(range.end),
        });
        expect(page).toMatchObject({ status: 500, errorType: 'InternalServerException', items: [] });
      } finally {
        await server.close();
      }

      // query: exit 1 and the message.
      const cli = await runCli(
        ['query', '--space', SPACE, '--from', iso(range.start), '--to', iso(range.end), '--archive', S3_URI],
        {
          cwd: work,
          clock,
          env: { AWS_ENDPOINT_URL_S3: s3.endpoint, ...S3_CREDENTIALS, EVENTLOG_ARCHIVE_CACHE_DIR: cacheRoot },
        },
      );
      expect(cli.code).toBe(1);
      expect(cli.stderr).toContain('changed since the ledger recorded it');
      expect(cli.stderr).toContain(`expected SHA-256 ${expectedSha}, actual SHA-256 ${actualSha}`);
      expect(cli.stderr).toContain(key);
      expect(filesUnder(cacheRoot, '.tmp')).toEqual([]);
      expect(filesUnder(cacheRoot, `${expectedSha}.parquet`)).toEqual([]);
      expect(
        filesUnder(cacheRoot, `${actualSha}.parquet`).filter((f) => f.file.includes(`dt=${day}`)),
      ).toEqual([]);
    } finally {
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: original }));
    }

    // Restored: the same cache answers, and now holds the day under its recorded SHA-256.
    const archive = await openQueryArchive(S3_URI, { cache: { dir: cacheRoot }, clock });
    const engine = await createDuckDbEngine(archive.dir, archive.engine);
    const reference = await createDuckDbEngine(folder);
    try {
      const query = eventQuery(range.start, range.end);
      expect((await engine.listEvents(query)).records).toEqual((await reference.listEvents(query)).records);
      expect(filesUnder(archive.dir, `${expectedSha}.parquet`)).toHaveLength(1);
    } finally {
      await Promise.all([engine.close(), reference.close()]);
    }
  });
});

describe('the cache bound', () => {
  const bytesOf = (days: string[]): number =>
    days.reduce((sum, d) => sum + statSync(path.join(folder, dataKey(TABLE, d))).size, 0);
  const daysFrom = (first: number, count: number): string[] =>
    Array.from({ length: count }, (_, i) => utcDay(TODAY - (first - i) * DAY_MS));

  it('evicts the least recently used days, never those of the running query', async () => {
    const a = daysFrom(20, 3);
    const b = daysFrom(15, 3);
    const c = daysFrom(10, 3);
    // Room for A and B, or A and C, but not all three.
    const maxBytes = Math.max(bytesOf([...a, ...b]), bytesOf([...a, ...c]));
    expect(maxBytes).toBeLessThan(bytesOf([...a, ...b, ...c]));
    const archive = await openQueryArchive(S3_URI, { cache: { dir: freshCache(), maxBytes }, clock });
    const engine = await createDuckDbEngine(archive.dir, archive.engine);
    const reference = await createDuckDbEngine(folder);
    const cached = (): string[] =>
      filesUnder(archive.dir, '.parquet')
        .map((f) => /dt=(\d{4}-\d{2}-\d{2})/.exec(f.file)![1]!)
        .sort();
    const run = async (days: string[]): Promise<void> => {
      const query = eventQuery(dayStart(days[0]!), dayStart(days.at(-1)!) + DAY_MS);
      expect((await engine.listEvents(query)).records).toEqual((await reference.listEvents(query)).records);
      await archive.cache!.settled();
      const onDisk = filesUnder(archive.dir, '.parquet').reduce((sum, f) => sum + f.bytes, 0);
      expect(onDisk).toBeLessThanOrEqual(maxBytes);
    };
    try {
      await run(a);
      await run(b);
      expect(cached()).toEqual([...a, ...b].sort());
      // A is used again, so B is now the least recently used.
      s3.resetStats();
      await run(a);
      expect(dataGets()).toEqual([]);
      await run(c);
      const after = cached();
      expect(after).toEqual(expect.arrayContaining([...a, ...c]));
      expect(after.length).toBeLessThan(9);
      expect(b.some((d) => !after.includes(d))).toBe(true);

      // One query needing more than the bound: all its days stay until it is done, then the cache shrinks.
      const query = eventQuery(RANGE30.start, RANGE30.end);
      expect((await engine.listEvents(query)).records).toEqual((await reference.listEvents(query)).records);
      await archive.cache!.settled();
      expect(filesUnder(archive.dir, '.parquet').reduce((sum, f) => sum + f.bytes, 0)).toBeLessThanOrEqual(
        maxBytes,
      );
      expect(archive.cache!.stats().evicted).toBeGreaterThan(20);
    } finally {
      await Promise.all([engine.close(), reference.close()]);
    }
  });
});

describe('the CLI over an s3:// archive', () => {
  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    ...S3_CREDENTIALS,
    ...extra,
  });

  it('query prints exactly what it prints for the folder, in every format', async () => {
    const sample = events[events.length - 3]!;
    const base = ['query', '--space', SPACE, '--from', iso(RANGE30.start), '--to', iso(RANGE30.end)];
    const cacheRoot = freshCache();
    for (const extra of [
      ['--format', 'json'],
      ['--format', 'csv', '--limit', '250'],
      ['--user-name', sample.userIdentity?.userName ?? 'x'],
    ]) {
      const expected = await runCli([...base, ...extra, '--archive', folder], { cwd: work, clock });
      const actual = await runCli([...base, ...extra, '--archive', S3_URI, '--cache-dir', cacheRoot], {
        cwd: work,
        clock,
        env: env(),
      });
      expect(expected.code).toBe(0);
      expect(actual.stderr).toBe(expected.stderr);
      expect(actual.stdout).toBe(expected.stdout);
      expect(actual.code).toBe(0);
    }
    // Without --cache-dir: EVENTLOG_ARCHIVE_CACHE_DIR, else $XDG_CACHE_HOME, else ~/.cache (HOME is `work`).
    const fromEnv = path.join(work, 'env-cache');
    const viaEnv = await runCli([...base, '--archive', S3_URI], {
      cwd: work,
      clock,
      env: env({ EVENTLOG_ARCHIVE_CACHE_DIR: fromEnv }),
    });
    expect(viaEnv.code).toBe(0);
    expect(filesUnder(fromEnv, '.parquet')).toHaveLength(30);
    const viaHome = await runCli([...base, '--limit', '1', '--archive', S3_URI], {
      cwd: work,
      clock,
      env: env(),
    });
    expect(viaHome.code).toBe(0);
    expect(filesUnder(path.join(work, '.cache', 'eventlog-archive'), '.parquet')).toHaveLength(30);
  });

  it('coverage reports an S3 archive as it reports the folder, and accepts the cache options', async () => {
    const args = ['coverage', '--space', SPACE, '--json', '--to', iso(TODAY)];
    const expected = await runCli([...args, '--archive', folder], { cwd: work, clock });
    const actual = await runCli(
      [...args, '--archive', S3_URI, '--cache-dir', freshCache(), '--cache-max-bytes', '512M'],
      { cwd: work, clock, env: env() },
    );
    expect(expected.code).toBe(0);
    expect(actual.stderr).toBe('');
    expect(actual.stdout).toBe(expected.stdout);
  });

  it('rejects a bad cache bound with a usage error naming the option', async () => {
    const result = await runCli(
      [
        'query',
        '--space',
        SPACE,
        '--from',
        iso(RANGE30.start),
        '--archive',
        S3_URI,
        '--cache-max-bytes',
        'lots',
      ],
      { cwd: work, clock, env: env() },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^eventlog-archive query: --cache-max-bytes: must be a size in bytes/);
  });

  it('start refuses an s3:// archive before ingesting anything: it archives into a folder', async () => {
    s3.resetStats();
    const result = await runCli(['start', '--archive', S3_URI, '--port', '0'], {
      cwd: work,
      clock,
      env: env(),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^eventlog-archive start: --archive: start archives into a folder/);
    expect(s3.requests).toEqual([]);
  });

  it('serve prints which archive it serves and where its cache is, and answers', async () => {
    const cacheRoot = freshCache();
    const child = spawn(
      process.execPath,
      [
        CLI_ENTRY,
        'serve',
        '--archive',
        S3_URI,
        '--port',
        '0',
        '--cache-dir',
        cacheRoot,
        '--cache-max-bytes',
        '1G',
      ],
      {
        cwd: work,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: work,
          AWS_REGION: 'us-east-1',
          ...fakedSystemClockEnv(),
          ...clockEnv(clock),
          ...env(),
        },
      },
    );
    try {
      const stdout = await until(child, /Ctrl-C stops the server/, 60_000);
      const banner =
        /Serving the archive (\S+) \(day objects cached in (\S+), at most 1\.0 GiB\) at (http:\S+)/.exec(
          stdout,
        );
      expect(banner?.[1]).toBe(S3_URI);
      expect(banner?.[2]?.startsWith(cacheRoot)).toBe(true);
      expect(stdout).toContain(`Archived spaces: ${SPACE}`);
      const pages = await pageThrough(banner![3]!, SPACE, {
        startTime: iso(NOW - DAY_MS),
        endTime: iso(NOW),
        maxResults: 250,
      });
      expect(pages[0]!.status).toBe(200);
      expect(pages.flatMap((p) => p.items).length).toBeGreaterThan(0);
    } finally {
      child.kill('SIGTERM');
    }
  });
});

/** Resolves with the child's stdout once it matches `ready`. */
function until(child: ChildProcessWithoutNullStreams, ready: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(
      () => reject(new Error(`not ready after ${timeoutMs} ms:\n${out}\n${err}`)),
      timeoutMs,
    );
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve(out);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before ready:\n${out}\n${err}`));
    });
  });
}
