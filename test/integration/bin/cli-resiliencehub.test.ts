/** `eventlog-archive ingest --source resiliencehub` as a user runs it: a child process (the bundle when current, else the sources). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemPartitionValue } from '../../../lambdas/ingest/sources/resiliencehub';
import { DAY_MS, HOUR_MS } from '../../../lambdas/shared/src/time';
import { readArchiveTable } from '../../helpers/archive-reader-generic';
import { pinnedClock } from '../../helpers/clock';
import { type ProcessResult, runCli } from '../../helpers/run-process';
import {
  type ResilienceHubServer,
  startResilienceHubServer,
  TEST_CREDENTIALS,
} from '../../support/resiliencehub-server';
import { generateSystemEvents } from '../../support/sample-system-events';

const ARN = 'arn:aws:resiliencehub:eu-west-1:123456789012:system/cli-system:0f1e2d';
const KEY = TEST_CREDENTIALS[0]!;
// 23:55 UTC: the run's last whole window ends at 23:00 and the next day begins inside its lookback.
// SigV4 signing keeps the system clock, as the stand-in's signature check does.
const clock = pinnedClock(Date.UTC(2026, 11, 6, 23, 55));
let rh: ResilienceHubServer;
let work: string;

beforeAll(async () => {
  const now = clock();
  rh = await startResilienceHubServer({
    now: clock,
    region: 'eu-west-1',
    systems: {
      [ARN]: generateSystemEvents({
        count: 1_500,
        fromMs: now - 2 * DAY_MS,
        toMs: now - 3 * HOUR_MS,
        systemArn: ARN,
        seed: 4,
      }),
    },
    faults: { throttle: 0.05, reset: 0.02 },
  });
  work = mkdtempSync(path.join(tmpdir(), 'cli-rh-'));
});
afterAll(async () => {
  await rh.close();
  rmSync(work, { recursive: true, force: true });
});

function cli(args: string[], env: Record<string, string> = {}): Promise<ProcessResult> {
  return runCli(args, {
    cwd: work,
    clock,
    env: {
      AWS_ENDPOINT_URL_RESILIENCEHUBV2: rh.url,
      AWS_ACCESS_KEY_ID: KEY.accessKeyId,
      AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey,
      ...env,
    },
  });
}

describe('eventlog-archive ingest --source resiliencehub', () => {
  it.each([
    [
      ['--system-arn', 'arn:aws:rh:eu-west-1:1:s'],
      /^eventlog-archive ingest: --system-arn: must be at least 31 characters long/m,
    ],
    [
      ['--system-arn', ARN.replace('123456789012', '12345')],
      /^eventlog-archive ingest: --system-arn: must match arn:\(aws\|/m,
    ],
    [[], /^eventlog-archive ingest: --system-arn: is required/m],
  ])('exits 2 naming --system-arn for %j', async (args, message) => {
    const { code, stderr } = await cli([
      'ingest',
      '--source',
      'resiliencehub',
      ...args,
      '--archive',
      './bad',
    ]);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).not.toContain('    at ');
  });

  it('ingests a system into a folder, equal to the source; a rerun adds nothing', async () => {
    const first = await cli([
      'ingest',
      '--source',
      'resiliencehub',
      '--system-arn',
      ARN,
      '--archive',
      './data',
      '--backfill-days',
      '3',
    ]);
    expect(first.stderr).not.toContain('    at ');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(
      new RegExp(
        `^complete: Resilience Hub system events of system-arn ${ARN.replaceAll('/', '\\/')}, .* 1500 events fetched \\(1500 new\\)`,
      ),
    );

    const { rows } = await readArchiveTable(path.join(work, 'data'), 'resiliencehub_system_events', [
      'timestamp',
    ]);
    const source = rh.events(ARN);
    expect(rows.map((r) => r.eventId).sort()).toEqual(source.map((e) => e.eventId).sort());
    const times = new Map(source.map((e) => [e.eventId, Math.round(e.timestamp * 1000)]));
    expect(rows.every((r) => times.get(String(r.eventId)) === r.timestamp)).toBe(true);
    expect(new Set(rows.map((r) => r.system))).toEqual(new Set([systemPartitionValue(ARN)]));
    expect(
      rows.every((r) =>
        /^resiliencehub_system_events\/system=cli-system-0f1e2d-[0-9a-f]{16}\/dt=\d{4}-\d{2}-\d{2}\/events\.parquet$/.test(
          String(r.__file),
        ),
      ),
    ).toBe(true);

    const again = await cli([
      'ingest',
      '--source',
      'resiliencehub',
      '--system-arn',
      ARN,
      '--archive',
      `file://${work}/data`,
      '--backfill-days',
      '3',
      '--json',
    ]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).result).toMatchObject({ status: 'complete', newEvents: 0 });
  });

  it('exits 1 naming the signature problem when the secret key is wrong', async () => {
    const { code, stderr } = await cli(
      [
        'ingest',
        '--source',
        'resiliencehub',
        '--system-arn',
        ARN,
        '--archive',
        './wrong',
        '--backfill-days',
        '1',
      ],
      { AWS_SECRET_ACCESS_KEY: 'not-the-right-secret-key' },
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /system-arn .* failed: SourceFailedError: resiliencehub .*: InvalidSignatureException: The request signature we calculated does not match/,
    );
    expect(stderr).not.toContain('not-the-right-secret-key');
    expect(stderr).not.toContain('    at ');
  });
});
