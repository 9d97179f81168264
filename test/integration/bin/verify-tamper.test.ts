/**
 * `verify` does not take the (unsigned) ledger's word for which days need a digest. The real CLI
 * ingests two spaces from the local CodeCatalyst server at a pinned instant (the server and every
 * child process read the same clock), then `verify` checks copies of the archive that were gutted:
 * a whole digest folder deleted, data changed and deleted, and the ledger rewritten to say no window
 * was ever complete (so that no day looks final); or a digest moved into another space's folder.
 */
import {
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS, MINUTE_MS, utcDay } from '../../../lambdas/shared/src/time';
import { type Clock, clockEnv, pinnedClock } from '../../helpers/clock';
import { type ProcessResult, runCli } from '../../helpers/run-process';
import { type CodeCatalystServer, startCodeCatalystServer } from '../../support/codecatalyst-server';
import { generateEvents } from '../../support/sample-events';

const TOKEN = 'pat-verify-tamper-0123456789';
const SPACE = 'gutted-space';
const OTHER = 'other-space';
// 00:05 UTC: yesterday's data is inside the lookback plus the seal grace (due at 03:00 with the
// defaults, 120 + 60 minutes), so it is legitimately unsealed; the days before it are sealed.
const NOW = Date.UTC(2027, 5, 16, 0, 5);
const clock = pinnedClock(NOW);
const day = (daysAgo: number): string => utcDay(NOW - daysAgo * DAY_MS);

let work: string;
let base: string;
let cc: CodeCatalystServer;
let cases = 0;

function cli(args: string[], at: Clock = clock): Promise<ProcessResult> {
  return runCli(args, {
    cwd: work,
    env: { AWS_ENDPOINT_URL_CODECATALYST: cc.url, CODECATALYST_TOKEN: TOKEN, ...clockEnv(at) },
  });
}

const ingest = (archive: string, space: string, at: Clock = clock): Promise<ProcessResult> =>
  cli(
    ['ingest', '--source', 'codecatalyst', '--space', space, '--archive', archive, '--backfill-days', '4'],
    at,
  );

const dataFile = (dir: string, space: string, daysAgo: number): string =>
  path.join(dir, `codecatalyst_event_logs/space=${space}/dt=${day(daysAgo)}/events.parquet`);
const digestFolder = (dir: string, space: string): string =>
  path.join(dir, `_digests/codecatalyst_event_logs/space=${space}`);

function copy(): string {
  const dir = path.join(work, `case-${++cases}`);
  cpSync(base, dir, { recursive: true });
  return dir;
}

beforeAll(async () => {
  cc = await startCodeCatalystServer({
    now: clock,
    tokens: [TOKEN],
    spaces: {
      [SPACE]: generateEvents({ count: 400, fromMs: NOW - 4 * DAY_MS, toMs: NOW - 2 * MINUTE_MS, seed: 21 }),
      [OTHER]: generateEvents({ count: 400, fromMs: NOW - 4 * DAY_MS, toMs: NOW - 2 * MINUTE_MS, seed: 22 }),
    },
  });
  work = mkdtempSync(path.join(tmpdir(), 'verify-tamper-'));
  base = path.join(work, 'base');
  for (const space of [SPACE, OTHER]) {
    const run = await ingest(base, space);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  }
});
afterAll(async () => {
  await cc?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('verify against a gutted archive', () => {
  it("passes the fresh ingest: yesterday's data is an unsealed note, not a problem", async () => {
    const { code, stdout } = await cli(['verify', '--archive', base]);
    expect(stdout).toMatch(
      new RegExp(
        `^codecatalyst ${SPACE}: \\d+ digests, sealed ${day(4)} to ${day(2)}, \\d+ data objects checked, 1 data objects not covered by a digest yet: ok$`,
        'm',
      ),
    );
    expect(stdout).toMatch(/^verified: 2 instances, \d+ digests, \d+ data objects checked, 0 problems$/m);
    expect(code).toBe(0);
  });

  it('fails when the digest folder is gone, data changed and deleted, and the ledger says nothing was ever complete', async () => {
    const dir = copy();
    rmSync(digestFolder(dir, SPACE), { recursive: true });
    writeFileSync(
      dataFile(dir, SPACE, 2),
      Buffer.concat([readFileSync(dataFile(dir, SPACE, 2)), Buffer.from([0])]),
    );
    unlinkSync(dataFile(dir, SPACE, 3));
    const ledger = path.join(dir, `_ledger/codecatalyst_event_logs/space=${SPACE}`);
    for (const name of readdirSync(ledger)) {
      const file = path.join(ledger, name);
      writeFileSync(file, readFileSync(file, 'utf8').replace(/"complete":(\s*)true/g, '"complete":$1false'));
    }

    const { code, stdout, stderr } = await cli(['verify', '--archive', dir]);

    expect(stderr).toBe('');
    expect(stdout).toMatch(
      new RegExp(
        `^MISSING-DIGEST codecatalyst ${SPACE} ${day(4)}: no digest chain: _digests/codecatalyst_event_logs/space=${SPACE}/ holds no digest, but the instance has data of 2 days \\(${day(4)} to ${day(2)}\\) that must be sealed by now$`,
        'm',
      ),
    );
    for (const daysAgo of [4, 2])
      expect(stdout).toMatch(
        new RegExp(
          `^UNSEALED-DATA codecatalyst ${SPACE} ${day(daysAgo)}: codecatalyst_event_logs/space=${SPACE}/dt=${day(daysAgo)}/events\\.parquet: no digest covers its day ${day(daysAgo)}, which was due to be sealed by `,
          'm',
        ),
      );
    // Yesterday's data is still inside the lookback plus the grace: a note, as on an untouched archive.
    expect(stdout).not.toMatch(new RegExp(`^UNSEALED-DATA .*dt=${day(1)}/`, 'm'));
    expect(stdout).toMatch(
      new RegExp(`^codecatalyst ${SPACE}: 0 digests, nothing sealed, .*: 3 problems$`, 'm'),
    );
    expect(stdout).toMatch(new RegExp(`^codecatalyst ${OTHER}: .*: ok$`, 'm'));
    expect(stdout).toMatch(/^FAILED: 2 instances, \d+ digests, \d+ data objects checked, 3 problems$/m);
    expect(code).toBe(1);

    // The same archive in JSON: the same verdict.
    const json = await cli(['verify', '--archive', dir, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, problems: 3 });
    expect(json.code).toBe(1);
  });

  it('fails when only the newest digests are deleted and the ledger is rewritten to hide it', async () => {
    const dir = copy();
    const digests = readdirSync(digestFolder(dir, SPACE)).sort();
    unlinkSync(path.join(digestFolder(dir, SPACE), digests.at(-1)!));
    const ledger = path.join(dir, `_ledger/codecatalyst_event_logs/space=${SPACE}/dt=${day(2)}.json`);
    writeFileSync(
      ledger,
      readFileSync(ledger, 'utf8').replace(/"complete":(\s*)true/g, '"complete":$1false'),
    );

    const { code, stdout } = await cli(['verify', '--archive', dir]);

    expect(stdout).toMatch(
      new RegExp(
        `^UNSEALED-DATA codecatalyst ${SPACE} ${day(2)}: .*dt=${day(2)}/events\\.parquet: no digest covers its day`,
        'm',
      ),
    );
    expect(code).toBe(1);
  });

  it("fails when a digest is moved into another space's folder, naming whose digest it is", async () => {
    const dir = copy();
    const from = digestFolder(dir, SPACE);
    const to = digestFolder(dir, OTHER);
    const last = readdirSync(from).sort().at(-1)!;
    const next = String(readdirSync(to).length + 1).padStart(10, '0');
    renameSync(path.join(from, last), path.join(to, `${next}.json`));

    const { code, stdout } = await cli(['verify', '--archive', dir]);

    expect(stdout).toMatch(
      new RegExp(
        `^REORDERED-DIGEST codecatalyst ${OTHER} \\S+: _digests/codecatalyst_event_logs/space=${OTHER}/${next}\\.json: is a digest of codecatalyst ${SPACE} \\(codecatalyst_event_logs/space=${SPACE}\\), not of the folder it is in`,
        'm',
      ),
    );
    expect(code).toBe(1);
  });

  it.each([
    ['00:05 UTC', Date.UTC(2027, 8, 1, 0, 5)],
    ['02:30 UTC (yesterday is final, sealed by this run)', Date.UTC(2027, 8, 2, 2, 30)],
    ['23:55 UTC', Date.UTC(2027, 8, 3, 23, 55)],
  ])('a fresh ingest at %s verifies ok', async (_at, instant) => {
    const at = pinnedClock(instant);
    const space = `fresh-${utcDay(instant)}`;
    cc.addEvents(
      space,
      generateEvents({ count: 200, fromMs: instant - 3 * DAY_MS, toMs: instant - MINUTE_MS, seed: 23 }),
    );
    cc.setNow(at);
    try {
      const dir = path.join(work, space);
      const run = await ingest(dir, space, at);
      expect(run.code).toBe(0);
      const { code, stdout } = await cli(['verify', '--archive', dir], at);
      expect(stdout).toMatch(new RegExp(`^codecatalyst ${space}: [1-9]\\d* digests, .*: ok$`, 'm'));
      expect(stdout).toMatch(/^verified: 1 instances, \d+ digests, \d+ data objects checked, 0 problems$/m);
      expect(code).toBe(0);
    } finally {
      cc.setNow(clock);
    }
  });
});
