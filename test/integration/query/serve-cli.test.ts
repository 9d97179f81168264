/**
 * `serve`, `query` and `npm start` as a user runs them: `node bin/eventlog-archive.js …` in a child
 * process (the bundle when current, else the sources).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS } from '../../../lambdas/shared/src/time';
import { clockEnv, fakedSystemClockEnv, pinnedClock } from '../../helpers/clock';
import { type ProcessResult, runProcess, type SpawnedCli, spawnCliUntil } from '../../helpers/run-process';
import { type EventLogEntryWire, generateEvents } from '../../support/sample-events';
import { buildArchive, inArchiveOrder } from './api-fixture';

const CLI = path.resolve('bin/eventlog-archive.js');
// The archive is built, and every CLI child's clock starts, at this instant (noon: the printed
// 30-day curl and the demo's month of events lie wholly in the past).
const clock = pinnedClock(Date.UTC(2026, 11, 6, 12, 0));
const NOW = clock();
const SPACE = 'cli-query-space';
let work: string;
let archive: string;
let events: EventLogEntryWire[];

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'serve-cli-'));
  archive = path.join(work, 'data');
  events = generateEvents({ count: 300, fromMs: NOW - 2 * DAY_MS, toMs: NOW - HOUR_MS, seed: 71 });
  await buildArchive(archive, { [SPACE]: events }, NOW);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const childEnv = (): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH ?? '',
  HOME: work,
  ...fakedSystemClockEnv(),
  ...clockEnv(clock),
});

function cli(args: string[]): Promise<ProcessResult> {
  return runProcess(process.execPath, [CLI, ...args], { cwd: work, env: childEnv() });
}

/** Spawns the CLI and resolves once stdout matches `ready` (rejects if it exits first). */
function spawnUntil(args: string[], ready: RegExp, timeoutMs: number): Promise<SpawnedCli> {
  return spawnCliUntil(args, { cwd: work, env: childEnv(), ready, timeoutMs });
}

/** The request the printed `curl` line makes, made with fetch. */
async function runPrintedCurl(stdout: string): Promise<Response> {
  const line = /curl -s -X POST '([^']+)' -H 'content-type: application\/json' -d '([^']+)'/.exec(stdout);
  expect(line).not.toBeNull();
  return fetch(line![1]!, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: line![2]!,
  });
}

describe('eventlog-archive serve', () => {
  it('prints the URL, a curl that works and the SDK setup, and stops cleanly on SIGTERM', async () => {
    const { child, stdout, exited } = await spawnUntil(
      ['serve', '--archive', archive, '--port', '0'],
      /Ctrl-C stops the server/,
      30_000,
    );
    try {
      expect(stdout().split('\n', 1)[0]).toMatch(/^Console: http:\/\/127\.0\.0\.1:\d+\/ /);
      expect(stdout()).toMatch(/Serving the archive .* at http:\/\/127\.0\.0\.1:\d+/);
      expect(stdout()).toContain(`Archived spaces: ${SPACE}`);
      expect(stdout()).toContain("new CodeCatalystClient({ endpoint: 'http://127.0.0.1:");
      const response = await runPrintedCurl(stdout());
      expect(response.status).toBe(200);
      const json = (await response.json()) as { items: { id: string }[]; nextToken?: string };
      expect(json.items.map((i) => i.id)).toEqual(
        inArchiveOrder(events)
          .slice(0, 5)
          .map((e) => e.id),
      );
      expect(json.nextToken).toBeDefined();
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stdout()).toContain('SIGTERM: stopping');
  });

  it.each([
    [['serve', '--archive', 'x', '--cache-max-bytes', '0'], /--cache-max-bytes: must be a size in bytes/],
    [['serve', '--archive', 'x', '--port', '70000'], /--port: must be an integer from 0 to 65535/],
    [
      ['serve', '--archive', 'x', '--token-ttl-seconds', '5'],
      /--token-ttl-seconds: must be an integer from 60/,
    ],
  ])('exits 2 with one line naming the argument for %j', async (args, message) => {
    const { code, stderr } = await cli(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });
});

// Rules shared with the other commands (space names, RFC 3339 times, unknown options) are covered by
// test/integration/bin/cli.test.ts; these are the rules of serve and query themselves.
describe('eventlog-archive query', () => {
  const range = ['--from', new Date(NOW - 2 * DAY_MS).toISOString(), '--to', new Date(NOW).toISOString()];

  it('prints the events as JSON, exactly as the API returns them, in archive order', async () => {
    const { code, stdout, stderr } = await cli([
      'query',
      '--space',
      SPACE,
      ...range,
      '--format',
      'json',
      '--archive',
      archive,
    ]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual(inArchiveOrder(events));
    expect(stderr).toBe(`${events.length} events\n`);
  });

  it('filters like the API and stops at --limit', async () => {
    const user = events[0]!.userIdentity.userName;
    const { stdout } = await cli([
      'query',
      '--space',
      SPACE,
      ...range,
      '--user-name',
      user,
      '--format',
      'json',
      '--archive',
      archive,
    ]);
    expect(JSON.parse(stdout)).toEqual(
      inArchiveOrder(events.filter((e) => e.userIdentity.userName === user)),
    );
    const limited = await cli([
      'query',
      '--space',
      SPACE,
      ...range,
      '--limit',
      '3',
      '--format',
      'json',
      '--archive',
      archive,
    ]);
    expect((JSON.parse(limited.stdout) as unknown[]).length).toBe(3);
    const none = await cli([
      'query',
      '--space',
      SPACE,
      ...range,
      '--event-name',
      "x' OR 1=1",
      '--format',
      'json',
      '--archive',
      archive,
    ]);
    expect(JSON.parse(none.stdout)).toEqual([]);
  });

  it('prints CSV with dotted columns and RFC 4180 quoting', async () => {
    const { code, stdout } = await cli([
      'query',
      '--space',
      SPACE,
      ...range,
      '--format',
      'csv',
      '--archive',
      archive,
    ]);
    expect(code).toBe(0);
    const lines = stdout.split('\r\n');
    expect(lines[0]).toBe(
      'id,eventName,eventType,eventCategory,eventSource,eventTime,operationType,userIdentity.userType,userIdentity.principalId,userIdentity.userName,userIdentity.awsAccountId,projectInformation.name,projectInformation.projectId,requestId,requestPayload.contentType,requestPayload.data,responsePayload.contentType,responsePayload.data,errorCode,sourceIpAddress,userAgent',
    );
    expect(lines).toHaveLength(events.length + 2); // header, rows, and the empty string after the last CRLF
    const first = inArchiveOrder(events)[0]!;
    expect(lines[1]!.startsWith(`${first.id},${first.eventName},`)).toBe(true);
    // JSON payloads hold quotes and commas: quoted, inner quotes doubled.
    if (first.requestPayload?.data)
      expect(lines[1]).toContain(`"${first.requestPayload.data.replaceAll('"', '""')}"`);
  });

  it('prints a table with the key columns', async () => {
    const { code, stdout } = await cli([
      'query',
      '--space',
      SPACE,
      ...range,
      '--limit',
      '5',
      '--archive',
      archive,
    ]);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^eventTime\s+eventName\s+userName\s+project\s+operation\s+source\s+errorCode\s+id$/,
    );
    expect(lines).toHaveLength(7);
    expect(lines[2]).toContain(inArchiveOrder(events)[0]!.id);
  });

  it.each([
    [['query', '--space', SPACE, '--archive', 'data'], /--from: is required/],
    [
      [
        'query',
        '--space',
        SPACE,
        '--from',
        '2026-01-02T00:00:00Z',
        '--to',
        '2026-01-01T00:00:00Z',
        '--archive',
        'data',
      ],
      /--to: must be later than --from/,
    ],
    [
      ['query', '--space', SPACE, '--from', '2026-01-01T00:00:00Z', '--format', 'xml', '--archive', 'data'],
      /--format: must be one of table, json, csv/,
    ],
    [
      ['query', '--space', SPACE, '--from', '2026-01-01T00:00:00Z', '--limit', '0', '--archive', 'data'],
      /--limit: must be an integer/,
    ],
    [
      ['query', '--space', SPACE, '--from', '2026-01-01T00:00:00Z', '--user-name', '', '--archive', 'data'],
      /--user-name: must be 1 to 256 characters/,
    ],
    [
      ['query', '--space', SPACE, '--from', '2026-01-01T00:00:00Z', '--archive', 'ftp://my-bucket/p'],
      /--archive: unsupported scheme/,
    ],
    [
      ['query', '--space', 'not-archived', '--from', '2026-01-01T00:00:00Z', '--archive', 'data'],
      /--space: not-archived has never been archived .*\(archived: cli-query-space\)/,
    ],
  ])('exits 2 with one line naming the argument for %j', async (args, message) => {
    const { code, stderr } = await cli(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).not.toContain('    at ');
  });
});

describe('npm start', () => {
  it('runs the labelled demo through the real ingest, then serves it and answers the printed curl', async () => {
    const target = path.join(work, 'start-data');
    const { child, stdout, exited } = await spawnUntil(
      ['start', '--archive', target, '--port', '0'],
      /Ctrl-C stops the server/,
      120_000,
    );
    try {
      expect(stdout()).toContain('== DEMO ==');
      expect(stdout()).toMatch(
        /complete: CodeCatalyst event logs of space demo-space, .* 20000 events fetched \(20000 new\)/,
      );
      expect(stdout()).toMatch(/0 gaps; 20000 events/);
      expect(stdout()).toMatch(/Serving the archive .* at http:\/\/127\.0\.0\.1:\d+/);
      // Once serving, the first thing it says is where the console is; and there it is.
      const serving = stdout().slice(stdout().indexOf('Console: '));
      const consoleUrl = /^Console: (http:\/\/127\.0\.0\.1:\d+\/) /.exec(serving)?.[1];
      expect(consoleUrl).toBeDefined();
      const page = await fetch(consoleUrl!, { headers: { accept: 'text/html' } });
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await page.text()).toContain('/assets/main.js');
      const response = await runPrintedCurl(stdout());
      expect(response.status).toBe(200);
      const json = (await response.json()) as { items: { eventTime: string }[]; nextToken?: string };
      expect(json.items).toHaveLength(5);
      expect(json.nextToken).toBeDefined();
      for (const item of json.items)
        expect(Date.parse(item.eventTime)).toBeGreaterThan(clock() - 31 * DAY_MS);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  }, 150_000);
});
