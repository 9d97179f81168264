/**
 * What every command has in common, as a user runs it (a child process): exit 0 on success, 1 on
 * failure, 2 on a bad command line with exactly one line on stderr that names the argument and the
 * rule (and nothing on stdout); `--json` on every read command prints one parseable JSON document;
 * `--help` and `--version`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS } from '../../../lambdas/shared/src/time';
import { pinnedClock } from '../../helpers/clock';
import { type ProcessResult, runCli } from '../../helpers/run-process';
import { generateEvents } from '../../support/sample-events';
import { buildArchive } from '../query/api-fixture';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const clock = pinnedClock(Date.UTC(2026, 11, 6, 12, 0));
const NOW = clock();
const SPACE = 'contract-space';
const ARN = 'arn:aws:resiliencehub:us-west-2:123456789012:system/contract';
const FROM = new Date(NOW - 2 * DAY_MS).toISOString();
let work: string;
let archive: string;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'cli-contract-'));
  archive = path.join(work, 'data');
  await buildArchive(
    archive,
    { [SPACE]: generateEvents({ count: 60, fromMs: NOW - DAY_MS, toMs: NOW - HOUR_MS, seed: 5 }) },
    NOW,
  );
}, 60_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

function cli(args: string[], env: Record<string, string> = {}): Promise<ProcessResult> {
  return runCli(args, { cwd: work, clock, env });
}

// Every command, each with bad arguments: [arguments, the argument the line must name].
const BAD: [string[], string][] = [
  [[], 'a command is required'],
  [['frobnicate'], 'unknown command "frobnicate"'],
  [['ingest', '--source', 'codecatalyst', '--space', 'abc', '--archive', 'a', '--bogus'], '--bogus'],
  [['ingest', '--source', 'gitlab', '--space', 'abc', '--archive', 'a'], '--source'],
  [['ingest', '--source', 'resiliencehub', '--system-arn', 'arn:nope', '--archive', 'a'], '--system-arn'],
  [
    ['ingest', '--source', 'codecatalyst', '--space', 'abc', '--archive', 'a', '--concurrency', '0'],
    '--concurrency',
  ],
  [['coverage', '--archive', 'ftp://host/x'], '--archive'],
  [['coverage', '--archive', 'a', '--from', 'yesterday'], '--from'],
  [['coverage', '--archive', 'a', '--slice-minutes', '7'], '--slice-minutes'],
  [['coverage', '--archive'], '--archive'],
  [['coverage', '--archive', 'a', 'extra'], '"extra"'],
  [['coverage', '--archive', 'a', '--json=yes'], '--json'],
  [['serve', '--archive', 'a', '--port', '70000'], '--port'],
  [['serve', '--archive', 'a', '--auth', 'basic'], '--auth'],
  [['query', '--space', SPACE, '--archive', 'a'], '--from'],
  [['query', '--space', SPACE, '--from', FROM, '--limit', '0', '--archive', 'a'], '--limit'],
  [['query', '--space', SPACE, '--from', FROM, '--format', 'xml', '--archive', 'a'], '--format'],
  [['query', '--system-arn', ARN, '--from', FROM, '--event-type', 'NOPE', '--archive', 'a'], '--event-type'],
  [['query', '--from', FROM, '--archive', 'a'], '--space or --system-arn'],
  [['start', '--port', '99999'], '--port'],
  [['start', '--archive', 's3://bucket/x'], '--archive'],
  [['export', '--format', 'csv', '--archive', 'a', '--out', 'b'], '--format'],
  [['export', '--format', 'ocsf', '--archive', 'a'], '--out'],
  [['token'], 'a subcommand is required'],
  [['token', 'create', '--archive', 'a'], '--name'],
  [['token', 'list'], '--archive'],
  [['token', 'revoke', '--archive', 'a'], '--id or --name'],
  [['verify', '--archive', 'a', '--signing-key-arn', 'nope'], '--signing-key-arn'],
  [['verify', '--archive', 'a', '--seal-grace-minutes', '-5'], '--seal-grace-minutes'],
];

describe('every command with a bad argument', () => {
  it.each(BAD)('exits 2 with one line on stderr naming it: %j', async (args, argument) => {
    const { code, stdout, stderr } = await cli(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    const lines = stderr.split('\n');
    expect(lines, stderr).toHaveLength(2);
    expect(lines[1]).toBe('');
    // `eventlog-archive[ <command>]: <argument>: <rule>`
    const prefix = `eventlog-archive${args[0] && !argument.startsWith('a command') && !argument.startsWith('unknown') ? ` ${args[0]}` : ''}: `;
    expect(lines[0]!.startsWith(`${prefix}${argument}`), lines[0]).toBe(true);
    expect(lines[0]!.slice(prefix.length + argument.length)).toMatch(/^(:| \(|\b).{8,}/);
  });

  it('exits 2 naming EVENTLOG_ARCHIVE_NOW when it is malformed, for any command', async () => {
    const { code, stderr } = await cli(['coverage', '--archive', archive], { EVENTLOG_ARCHIVE_NOW: 'noon' });
    expect(code).toBe(2);
    expect(stderr).toMatch(/^eventlog-archive: EVENTLOG_ARCHIVE_NOW: must be an RFC 3339 timestamp.*\n$/);
  });
});

describe('a failed run', () => {
  it('exits 1 with one line on stderr naming the error', async () => {
    // The archive is fine; the destination cannot be written (a file stands where a folder must be).
    writeFileSync(path.join(work, 'a-file'), '');
    const { code, stdout, stderr } = await cli([
      'export',
      '--format',
      'ocsf',
      '--archive',
      archive,
      '--out',
      path.join(work, 'a-file', 'lake'),
      '--account-id',
      '123456789012',
    ]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trimEnd().split('\n').at(-1)).toMatch(
      /^eventlog-archive export: Error: ENOTDIR: not a directory, mkdir '.*\/a-file\/lake\//,
    );
    expect(stderr).not.toContain('    at ');
  });
});

describe('--json on every read command', () => {
  it.each<[string, string[]]>([
    ['coverage', ['coverage', '--archive', '<archive>', '--json']],
    ['verify', ['verify', '--archive', '<archive>', '--json']],
    ['query --json', ['query', '--space', SPACE, '--from', FROM, '--archive', '<archive>', '--json']],
    [
      'query --format json',
      ['query', '--space', SPACE, '--from', FROM, '--archive', '<archive>', '--format', 'json'],
    ],
    ['token create', ['token', 'create', '--archive', '<archive>', '--name', 'ci', '--json']],
    ['token list', ['token', 'list', '--archive', '<archive>', '--json']],
    ['token revoke', ['token', 'revoke', '--archive', '<archive>', '--name', 'ci', '--json']],
    [
      'export',
      [
        'export',
        '--format',
        'ocsf',
        '--archive',
        '<archive>',
        '--out',
        '<out>',
        '--account-id',
        '123456789012',
        '--json',
      ],
    ],
  ])('%s prints one JSON document on stdout and exits 0', async (_name, template) => {
    const args = template.map((a) =>
      a === '<archive>' ? archive : a === '<out>' ? path.join(work, 'lake') : a,
    );
    const { code, stdout, stderr } = await cli(args);
    expect(code, stderr).toBe(0);
    expect(() => JSON.parse(stdout)).not.toThrow();
    expect(stdout.endsWith('\n')).toBe(true);
    expect(JSON.parse(stdout)).not.toBeNull();
  });
});

describe('--help and --version', () => {
  it('--version prints the package version and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
      version: string;
    };
    const { code, stdout, stderr } = await cli(['--version']);
    expect(code).toBe(0);
    expect(stdout).toBe(`${version}\n`);
    expect(stderr).toBe('');
  });

  it.each([['--help'], ['help'], ['query', '--help']])(
    '%s prints the usage of every command and exits 0',
    async (...args) => {
      const { code, stdout } = await cli(args);
      expect(code).toBe(0);
      for (const command of ['ingest', 'coverage', 'serve', 'query', 'start', 'export', 'token', 'verify'])
        expect(stdout).toMatch(new RegExp(`^  ${command} +`, 'm'));
      expect(stdout).toContain('--system-arn ARN --from T');
      expect(stdout).toContain('--version');
    },
  );
});
