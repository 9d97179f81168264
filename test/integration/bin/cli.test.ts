/** The CLI as a user runs it: `node bin/eventlog-archive.js …` in a child process (the bundle when current, else the sources). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS, utcDay } from '../../../lambdas/shared/src/time';
import { diffArchive, readCodeCatalystArchive } from '../../helpers/archive-reader';
import { pinnedClock } from '../../helpers/clock';
import { type ProcessResult, runCli } from '../../helpers/run-process';
import { type CodeCatalystServer, startCodeCatalystServer } from '../../support/codecatalyst-server';
import { type S3TestServer, startS3Server } from '../../support/s3-server';
import { generateEvents } from '../../support/sample-events';

const TOKEN = 'pat-cli-test-0123456789';
// 00:22 UTC: the backfill's first and the lookback's last windows both lie in other days than now.
const clock = pinnedClock(Date.UTC(2026, 11, 6, 0, 22));
let cc: CodeCatalystServer;
let work: string;

beforeAll(async () => {
  const now = clock();
  cc = await startCodeCatalystServer({
    now: clock,
    tokens: [TOKEN],
    spaces: {
      'cli-space': generateEvents({
        count: 2_500,
        fromMs: now - 3 * DAY_MS,
        toMs: now - 3 * HOUR_MS,
        seed: 4,
      }),
    },
    faults: { throttle: 0.05, reset: 0.02 },
  });
  work = mkdtempSync(path.join(tmpdir(), 'cli-'));
});
afterAll(async () => {
  await cc.close();
  rmSync(work, { recursive: true, force: true });
});

function cli(args: string[], env: Record<string, string> = {}): Promise<ProcessResult> {
  return runCli(args, {
    cwd: work,
    clock,
    env: {
      AWS_ENDPOINT_URL_CODECATALYST: cc.url,
      CODECATALYST_TOKEN: TOKEN,
      ...env,
    },
  });
}

describe('eventlog-archive CLI', () => {
  it.each([
    [
      ['ingest', '--source', 'codecatalyst', '--space', 'x', '--archive', 'a'],
      /--space: must be 3 to 63 characters/,
    ],
    [
      ['ingest', '--source', 'nope', '--space', 'abc', '--archive', 'a'],
      /--source: must be one of codecatalyst/,
    ],
    [['ingest', '--source', 'codecatalyst', '--archive', 'a'], /--space: is required/],
    [['ingest', '--source', 'codecatalyst', '--space', 'abc'], /--archive: is required/],
    [
      ['ingest', '--source', 'codecatalyst', '--space', 'abc', '--archive', 'a', '--from', 'yesterday'],
      /--from: must be an RFC 3339 timestamp/,
    ],
    [
      [
        'ingest',
        '--source',
        'codecatalyst',
        '--space',
        'abc',
        '--archive',
        'a',
        '--from',
        '2026-01-02T00:00:00Z',
        '--to',
        '2026-01-01T00:00:00Z',
      ],
      /--to: must be later than --from/,
    ],
    [
      ['ingest', '--source', 'codecatalyst', '--space', 'abc', '--archive', 'a', '--slice-minutes', '7'],
      /--slice-minutes: must divide a day/,
    ],
    [
      ['ingest', '--source', 'codecatalyst', '--space', 'abc', '--archive', 'ftp://x/y'],
      /--archive: unsupported scheme/,
    ],
    [['ingest', '--bogus'], /^eventlog-archive ingest: --bogus: unknown option/],
    [['frobnicate'], /unknown command "frobnicate"/],
  ])('exits 2 with one line naming the argument for %j', async (args, message) => {
    const { code, stderr } = await cli(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).not.toContain('    at ');
  });

  it('ingests a space into a folder, equal to the source; a rerun adds nothing; coverage has no gap', async () => {
    const first = await cli([
      'ingest',
      '--source',
      'codecatalyst',
      '--space',
      'cli-space',
      '--archive',
      './data',
      '--backfill-days',
      '4',
    ]);
    expect(first.stderr).not.toContain('    at ');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(
      /^complete: CodeCatalyst event logs of space cli-space, .* 2500 events fetched \(2500 new\)/,
    );

    const again = await cli([
      'ingest',
      '--source',
      'codecatalyst',
      '--space',
      'cli-space',
      '--archive',
      `file://${work}/data`,
      '--json',
    ]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).result).toMatchObject({ status: 'complete', newEvents: 0 });

    const diff = diffArchive(
      await readCodeCatalystArchive(path.join(work, 'data')),
      cc.events('cli-space') as never,
    );
    expect([diff.missing.length, diff.duplicates.length, diff.different.length, diff.extra.length]).toEqual([
      0, 0, 0, 0,
    ]);

    const coverage = await cli(['coverage', '--archive', './data', '--json']);
    expect(coverage.code).toBe(0);
    const [report] = JSON.parse(coverage.stdout);
    expect(report).toMatchObject({ source: 'codecatalyst', instance: 'cli-space', events: 2_500 });
    expect(report.windows.missing).toBe(0);
    expect(report.windows.provisional).toBeGreaterThan(0);
    const text = await cli(['coverage', '--archive', './data', '--space', 'cli-space']);
    expect(text.stdout).toMatch(/covered/);
    expect(text.stdout).toMatch(/re-sweep pending/);
  });

  it('ingests into S3 through AWS_ENDPOINT_URL_S3', async () => {
    const s3: S3TestServer = await startS3Server({ buckets: ['cli-bucket'] });
    try {
      const env = {
        AWS_ENDPOINT_URL_S3: s3.endpoint,
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
        // An S3 archive's digests must be signed: a key file stands in for the KMS key here.
        DIGEST_SIGNING_KEY_FILE: path.join(work, 's3-digest-signing-key.pem'),
      };
      const run = await cli(
        [
          'ingest',
          '--source',
          'codecatalyst',
          '--space',
          'cli-space',
          '--archive',
          's3://cli-bucket/a/b',
          '--backfill-days',
          '4',
        ],
        env,
      );
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const listed = await s3.client().send(
        new ListObjectsV2Command({
          Bucket: 'cli-bucket',
          Prefix: 'a/b/codecatalyst_event_logs/space=cli-space/',
        }),
      );
      // One day object per UTC day the source's events fall on: three at 00:22, from 00:22 three days
      // back to 21:22 the day before (the backfill's four days reach one further, which has none).
      const days = new Set(cc.events('cli-space').map((e) => utcDay(Date.parse(String(e.eventTime)))));
      expect(days.size).toBe(3);
      expect((listed.Contents ?? []).map((o) => o.Key!.split('/')[4]).sort()).toEqual(
        [...days].sort().map((day) => `dt=${day}`),
      );
      const coverage = await cli(['coverage', '--archive', 's3://cli-bucket/a/b', '--json'], env);
      expect(JSON.parse(coverage.stdout)[0]).toMatchObject({ instance: 'cli-space', events: 2_500 });
    } finally {
      await s3.close();
    }
  });

  it('fails cleanly, without a stack trace, when the source cannot be reached', async () => {
    const { code, stdout, stderr } = await cli(
      [
        'ingest',
        '--source',
        'codecatalyst',
        '--space',
        'abc',
        '--from',
        '2026-01-01T00:00:00Z',
        '--to',
        '2026-01-01T01:00:00Z',
        '--archive',
        './unreachable',
      ],
      { AWS_ENDPOINT_URL_CODECATALYST: 'http://127.0.0.1:9' },
    );
    expect(code).toBe(1);
    expect(stdout).toMatch(/^partial:/);
    expect(stderr).toMatch(/failed: 2026-01-01: .*ECONNREFUSED/);
    expect(stdout + stderr).not.toContain('    at ');
  });

  it('runs "as of" the instant in EVENTLOG_ARCHIVE_NOW, and exits 2 naming it when malformed', async () => {
    const asOf = await cli([
      'ingest',
      '--source',
      'codecatalyst',
      '--space',
      'cli-space',
      '--archive',
      './as-of',
      '--backfill-days',
      '1',
      '--json',
    ]);
    expect(asOf.code, asOf.stderr).toBe(0);
    // The CLI's clock started at this test's clock (00:22): the run ends at the last whole window, midnight,
    // and the one-day backfill starts 24 hours before the clock, floored to its window.
    expect(JSON.parse(asOf.stdout).result).toMatchObject({
      status: 'complete',
      from: '2026-12-05T00:00:00.000Z',
      to: '2026-12-06T00:00:00.000Z',
    });

    const bad = await cli(['coverage', '--archive', './as-of'], { EVENTLOG_ARCHIVE_NOW: 'tomorrow' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^eventlog-archive: EVENTLOG_ARCHIVE_NOW: must be an RFC 3339 timestamp/);
  });

  it('says how to provide a token when none is set', async () => {
    const { code, stderr } = await cli(
      ['ingest', '--source', 'codecatalyst', '--space', 'abc', '--archive', './x'],
      { CODECATALYST_TOKEN: '' },
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(/set CODECATALYST_TOKEN/);
  });
});

describe('npm start', () => {
  it('refuses --space without a token, saying what is missing', async () => {
    const { code, stderr } = await cli(['start', '--space', 'real-space'], { CODECATALYST_TOKEN: '' });
    expect(code).toBe(2);
    expect(stderr).toMatch(/--space: needs CODECATALYST_TOKEN/);
  });
});
