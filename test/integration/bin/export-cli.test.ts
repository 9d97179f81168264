/**
 * `eventlog-archive export --format ocsf` as a user runs it: an archive of both sources exported to
 * a folder and to an S3 "Security Lake bucket" (s3rver) in the custom source's layout; every archived
 * event exactly once however often it runs; days picked by the range; bad arguments exit 2.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OCSF_SCHEMA_1_1_0, validateOcsf } from '../../../lambdas/core/ocsf';
import { DAY_MS, HOUR_MS, utcDay } from '../../../lambdas/shared/src/time';
import { pinnedClock } from '../../helpers/clock';
import { readLake } from '../../helpers/ocsf-lake-reader';
import { type ProcessResult, runCli } from '../../helpers/run-process';
import { type S3TestServer, startS3Server } from '../../support/s3-server';
import { generateEvents } from '../../support/sample-events';
import { generateSystemEvents } from '../../support/sample-system-events';
import { buildArchive, buildSystemArchive } from '../query/api-fixture';

const NOW = Date.UTC(2026, 11, 6, 0, 4);
const clock = pinnedClock(NOW);
const ACCOUNT = '123456789012';
const SYSTEM = 'arn:aws:resiliencehub:us-west-2:111122223333:system/checkout';
let work: string;
let archive: string;

function cli(args: string[], env: Record<string, string> = {}): Promise<ProcessResult> {
  return runCli(args, { cwd: work, env, clock });
}

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'export-cli-'));
  archive = path.join(work, 'data');
  await buildArchive(
    archive,
    { 'acme-corp': generateEvents({ count: 400, fromMs: NOW - 3 * DAY_MS, toMs: NOW - HOUR_MS, seed: 21 }) },
    NOW,
  );
  await buildSystemArchive(
    archive,
    {
      [SYSTEM]: generateSystemEvents({
        systemArn: SYSTEM,
        count: 90,
        fromMs: NOW - 3 * DAY_MS,
        toMs: NOW - HOUR_MS,
        seed: 22,
      }),
    },
    NOW,
  );
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('export --format ocsf', () => {
  it('exports every archived CodeCatalyst event once, valid, and a re-run replaces rather than duplicates', async () => {
    const out = path.join(work, 'lake-cc');
    const args = [
      'export',
      '--format',
      'ocsf',
      '--archive',
      archive,
      '--out',
      out,
      '--source',
      'codecatalyst',
      '--account-id',
      ACCOUNT,
    ];
    const first = await cli(args);
    expect(first.stderr).toMatch(
      /acme-corp: \d+ events → region=us-west-2\/accountId=123456789012\/eventDay=\d{8}\/codecatalyst-acme-corp\.parquet/,
    );
    expect(first.stdout).toMatch(/^exported 400 events in \d day objects to file:\/\//);
    expect(first.code).toBe(0);
    const again = await cli([...args, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ events: 400 });
    const { rows } = await readLake(out);
    expect(rows.length).toBe(400);
    expect(new Set(rows.map((r) => (r.event.metadata as { uid: string }).uid)).size).toBe(400);
    for (const row of rows) expect(validateOcsf(row.event, OCSF_SCHEMA_1_1_0)).toEqual([]);
  });

  it('picks whole days by the range', async () => {
    const out = path.join(work, 'lake-range');
    const day = utcDay(NOW - DAY_MS);
    const run = await cli([
      'export',
      '--format',
      'ocsf',
      '--archive',
      archive,
      '--out',
      out,
      '--source',
      'codecatalyst',
      '--account-id',
      ACCOUNT,
      '--from',
      `${day}T12:00:00Z`,
      '--to',
      `${day}T13:00:00Z`,
      '--json',
    ]);
    expect(run.code).toBe(0);
    const { days } = JSON.parse(run.stdout) as { days: { day: string; events: number }[] };
    expect(days.map((d) => d.day)).toEqual([day]);
    const { rows } = await readLake(out);
    expect(rows.length).toBe(days[0]!.events);
    expect(rows.every((r) => utcDay(r.event.time as number) === day)).toBe(true);
  });

  it('exports a Resilience Hub system under its ARN’s Region and account into an S3 prefix', async () => {
    const s3: S3TestServer = await startS3Server({ buckets: ['lake-bucket'] });
    try {
      const env = {
        AWS_ENDPOINT_URL_S3: s3.endpoint,
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
      };
      const run = await cli(
        [
          'export',
          '--format',
          'ocsf',
          '--archive',
          archive,
          '--out',
          's3://lake-bucket/ext/eventlog_rh/',
          '--source',
          'resiliencehub',
        ],
        env,
      );
      expect(run.code).toBe(0);
      // Downloaded as they are, then read like the folder exports.
      const client = s3.client();
      const listed = await client.send(
        new ListObjectsV2Command({ Bucket: 'lake-bucket', Prefix: 'ext/eventlog_rh/' }),
      );
      const local = path.join(work, 'lake-rh');
      for (const { Key } of listed.Contents ?? []) {
        const body = await (
          await client.send(new GetObjectCommand({ Bucket: 'lake-bucket', Key: Key! }))
        ).Body!.transformToByteArray();
        const file = path.join(local, Key!.slice('ext/eventlog_rh/'.length));
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, body);
      }
      expect(readdirSync(local)).toEqual(['region=us-west-2']);
      const { rows } = await readLake(local);
      expect(rows.length).toBe(90);
      expect(rows.every((r) => r.accountId === '111122223333' && r.event.class_uid === 3004)).toBe(true);
    } finally {
      await s3.close();
    }
  });

  it.each([
    [['--out', 'x'], '--format: is required (ocsf)'],
    [['--format', 'csv', '--out', 'x'], '--format: must be ocsf (got "csv")'],
    [['--format', 'ocsf'], '--out: is required'],
    [['--format', 'ocsf', '--out', 'x'], '--source: is required (the archive holds more than one source'],
    [
      ['--format', 'ocsf', '--out', 'x', '--source', 'codecatalyst'],
      '--account-id: is required for CodeCatalyst',
    ],
    [
      ['--format', 'ocsf', '--out', 'x', '--source', 'codecatalyst', '--account-id', '12'],
      '--account-id: must be 12 digits',
    ],
  ])('exits 2 for %j, naming the argument', async (args, message) => {
    const run = await cli(['export', '--archive', archive, ...args]);
    expect(run.stderr.split('\n')[0]).toContain(message);
    expect(run.code).toBe(2);
  });
});
