/**
 * Archive text never reaches a terminal raw. The real CLI ingests a space whose events carry
 * terminal escape sequences (CSI colours and screen clears, OSC 8 hyperlinks, carriage returns, C1
 * and bidi overrides); then the archive is crafted on disk as whoever can write it could: an instance
 * folder and ledger `instance` named with escapes, and an object key with them. `verify`, `coverage`
 * and `query --format table` print no raw control or bidi character, and show each escape visibly;
 * `--json` output stays JSON that round-trips the exact text.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printable } from '../../../bin/commands/terminal';
import { DAY_MS, MINUTE_MS, utcDay } from '../../../lambdas/shared/src/time';
import { clockEnv, pinnedClock } from '../../helpers/clock';
import { type ProcessResult, runCli } from '../../helpers/run-process';
import { type CodeCatalystServer, startCodeCatalystServer } from '../../support/codecatalyst-server';
import { generateEvents } from '../../support/sample-events';

const TOKEN = 'pat-terminal-escapes-0123456789';
const SPACE = 'plain-space';
const NOW = Date.UTC(2027, 10, 7, 15, 30);
const clock = pinnedClock(NOW);
const ESC = '\u001b';
// What an attacker would write: colour, clear screen, an OSC 8 hyperlink, CR overprint, C1 CSI, RLO.
// (A folder name cannot hold `/`, so its hyperlink is a mailto: URL.)
const EVIL_SPACE = `evil${ESC}[31mRED${ESC}]8;;mailto:x@example.com${ESC}\\link${ESC}]8;;${ESC}\\\r\u009b2J\u202eeman`;
const EVIL_NAME = `Create${ESC}[2J${ESC}[HProject\u202e`;
const EVIL_USER = `\u0007admin${ESC}]8;;https://example.com/${ESC}\\\rroot\u2067`;
const EVIL_KEY_NAME = `${ESC}[1Aextra\u202e.parquet`;
/** Every character that must never be printed raw: controls and bidi formatting, except newlines. */
function rawControls(text: string): string[] {
  return [...text].filter((c) => {
    const n = c.codePointAt(0)!;
    return (
      c !== '\n' &&
      (n < 0x20 ||
        (n >= 0x7f && n <= 0x9f) ||
        [0x061c, 0x200e, 0x200f].includes(n) ||
        (n >= 0x2028 && n <= 0x202e) ||
        (n >= 0x2066 && n <= 0x2069))
    );
  });
}

/** C0 characters other than newlines: what JSON.stringify must have escaped. */
const rawC0 = (text: string): string[] => [...text].filter((c) => c !== '\n' && c.charCodeAt(0) < 0x20);

let work: string;
let dir: string;
let cc: CodeCatalystServer;

function cli(args: string[]): Promise<ProcessResult> {
  return runCli(args, {
    cwd: work,
    env: { AWS_ENDPOINT_URL_CODECATALYST: cc.url, CODECATALYST_TOKEN: TOKEN, ...clockEnv(clock) },
  });
}

beforeAll(async () => {
  const events = generateEvents({
    count: 60,
    fromMs: NOW - 2 * DAY_MS,
    toMs: NOW - 10 * MINUTE_MS,
    seed: 41,
  });
  for (const event of events.slice(0, 20)) {
    event.eventName = EVIL_NAME;
    event.userIdentity.userName = EVIL_USER;
    event.projectInformation = { ...event.projectInformation, name: `p${ESC}[8m\u0085hidden` };
  }
  cc = await startCodeCatalystServer({ now: clock, tokens: [TOKEN], spaces: { [SPACE]: events } });
  work = mkdtempSync(path.join(tmpdir(), 'terminal-escapes-'));
  dir = path.join(work, 'archive');
  const run = await cli([
    'ingest',
    '--source',
    'codecatalyst',
    '--space',
    SPACE,
    '--archive',
    dir,
    '--backfill-days',
    '2',
  ]);
  expect(run.code).toBe(0);
  expect(rawControls(run.stdout)).toEqual([]);

  // The crafted instance: a copy of the space's folders under a name full of escapes, its ledger
  // documents naming it, and an object whose key holds escapes too.
  for (const root of [
    'codecatalyst_event_logs',
    '_ledger/codecatalyst_event_logs',
    '_digests/codecatalyst_event_logs',
  ])
    cpSync(path.join(dir, root, `space=${SPACE}`), path.join(dir, root, `space=${EVIL_SPACE}`), {
      recursive: true,
    });
  const ledger = path.join(dir, '_ledger/codecatalyst_event_logs', `space=${EVIL_SPACE}`);
  for (const name of readdirSync(ledger)) {
    const file = path.join(ledger, name);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { instance: string };
    doc.instance = EVIL_SPACE;
    writeFileSync(file, JSON.stringify(doc));
  }
  const day = path.join(dir, 'codecatalyst_event_logs', `space=${EVIL_SPACE}`, `dt=${utcDay(NOW - DAY_MS)}`);
  cpSync(path.join(day, 'events.parquet'), path.join(day, EVIL_KEY_NAME));
});
afterAll(async () => {
  await cc?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('archive text at a terminal', () => {
  it('printable shows each control and bidi character as a visible escape, and leaves the rest', () => {
    expect(printable(`a${ESC}[31mb\r\n\t\u007f\u009b\u202a\u202e\u2066\u2069\u200f z→é`)).toBe(
      'a\\u001b[31mb\\u000d\\u000a\\u0009\\u007f\\u009b\\u202a\\u202e\\u2066\\u2069\\u200f z→é',
    );
    expect(printable('space=my-space/dt=2027-11-07')).toBe('space=my-space/dt=2027-11-07');
  });

  it('verify prints instance names, keys and messages escaped', async () => {
    const { code, stdout, stderr } = await cli(['verify', '--archive', dir]);
    expect(rawControls(stdout)).toEqual([]);
    expect(rawControls(stderr)).toEqual([]);
    // The added object is reported, under the crafted instance, with its key shown escaped.
    expect(stdout).toContain(`ADDED codecatalyst ${printable(EVIL_SPACE)} `);
    expect(stdout).toContain(`${printable(EVIL_KEY_NAME)}: not in digest`);
    expect(stdout).toContain('evil\\u001b[31mRED\\u001b]8;;mailto:x@example.com\\u001b\\link');
    expect(code).toBe(1);
  });

  it('verify --json stays JSON that round-trips the exact names, with no raw control byte', async () => {
    const { stdout } = await cli(['verify', '--archive', dir, '--json']);
    expect(rawC0(stdout)).toEqual([]);
    const report = JSON.parse(stdout) as { instances: { instance: string }[] };
    expect(report.instances.map((i) => i.instance)).toContain(EVIL_SPACE);
  });

  it('coverage prints the ledger instance escaped', async () => {
    const { code, stdout } = await cli(['coverage', '--archive', dir]);
    expect(code).toBe(0);
    expect(rawControls(stdout)).toEqual([]);
    expect(stdout).toContain(`codecatalyst ${printable(EVIL_SPACE)}: `);
    expect(stdout).toContain(`codecatalyst ${SPACE}: `);
  });

  it('query --format table prints event fields escaped; json and csv keep the exact text', async () => {
    const from = new Date(NOW - 2 * DAY_MS).toISOString();
    const table = await cli(['query', '--space', SPACE, '--from', from, '--archive', dir]);
    expect(table.code).toBe(0);
    expect(rawControls(table.stdout)).toEqual([]);
    expect(table.stdout).toContain('Create\\u001b[2J\\u001b[HProj');
    expect(table.stdout.split('\n').filter((l) => l !== '')).toHaveLength(2 + 60);

    const json = await cli(['query', '--space', SPACE, '--from', from, '--archive', dir, '--format', 'json']);
    expect(rawC0(json.stdout)).toEqual([]);
    const events = JSON.parse(json.stdout) as { eventName: string }[];
    expect(events.filter((e) => e.eventName === EVIL_NAME)).toHaveLength(20);

    // CSV is data, not a display: RFC 4180 carries any character, so it stays byte-exact.
    const csv = await cli(['query', '--space', SPACE, '--from', from, '--archive', dir, '--format', 'csv']);
    expect(csv.stdout.split(EVIL_NAME)).toHaveLength(21);
  });

  it('query names the archived spaces escaped when asked for one that is not there', async () => {
    const from = new Date(NOW - 2 * DAY_MS).toISOString();
    const { code, stderr } = await cli([
      'query',
      '--space',
      'absent-space',
      '--from',
      from,
      '--archive',
      dir,
    ]);
    expect(code).toBe(2);
    expect(rawControls(stderr)).toEqual([]);
    expect(stderr).toContain(printable(EVIL_SPACE));
  });
});
