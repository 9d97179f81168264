/**
 * `eventlog-archive query --system-arn` as a user runs it (a child process), over an archive made by
 * the real Resilience Hub ingest (SigV4 client → the local ListSystemEvents server → Parquet): JSON
 * exactly as ListSystemEvents returns the events (the same text `serve` answers, page by page, in
 * archive order), `--event-type` filters, CSV and the table, and the command line's rules.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../../bin/commands/serve';
import { LIST_SYSTEM_EVENTS_PATH } from '../../../lambdas/query/list-system-events';
import { createLogger } from '../../../lambdas/shared/src';
import { DAY_MS, HOUR_MS } from '../../../lambdas/shared/src/time';
import { pinnedClock } from '../../helpers/clock';
import { type ProcessResult, runCli } from '../../helpers/run-process';
import {
  generateSystemEvents,
  metadataValue,
  RawJson,
  type SystemEventWire,
} from '../../support/sample-system-events';
import { buildSystemArchive } from '../query/api-fixture';

const ARN = 'arn:aws:resiliencehub:us-west-2:123456789012:system/checkout:cli0001';
const OTHER_ARN = 'arn:aws:resiliencehub:us-west-2:123456789012:system/never-archived';
const clock = pinnedClock(Date.UTC(2026, 11, 6, 12, 0));
const NOW = clock();
const FROM = new Date(NOW - 3 * DAY_MS).toISOString();
const TO = new Date(NOW).toISOString();
let work: string;
let archive: string;
let source: SystemEventWire[];
let server: RunningServer;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'query-rh-'));
  archive = path.join(work, 'data');
  const generated = generateSystemEvents({
    count: 180,
    fromMs: NOW - 2 * DAY_MS,
    toMs: NOW - HOUR_MS,
    systemArn: ARN,
    seed: 16,
    rawShare: 0.2,
  });
  // Ties: copies at an original's instant, told apart by eventId only.
  const ties = generated
    .filter((_, i) => i % 11 === 0)
    .map((e, i) => ({ ...e, eventId: `tie-${String(i).padStart(3, '0')}-${e.eventId}` }));
  source = [...generated, ...ties];
  await buildSystemArchive(archive, { [ARN]: source }, NOW, 5);
  server = await startServer({ archive, port: 0, logger: createLogger({ logLevel: 'CRITICAL' }), clock });
}, 60_000);
afterAll(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

function cli(args: string[]): Promise<ProcessResult> {
  return runCli(args, { cwd: work, clock });
}

const query = (...args: string[]): Promise<ProcessResult> =>
  cli(['query', '--system-arn', ARN, '--from', FROM, '--to', TO, '--archive', archive, ...args]);

/** Archive order: event time, then eventId. */
function inArchiveOrder(events: readonly SystemEventWire[]): SystemEventWire[] {
  return [...events].sort((a, b) =>
    a.timestamp !== b.timestamp ? a.timestamp - b.timestamp : a.eventId < b.eventId ? -1 : 1,
  );
}

/** A source event as a plain JSON value (RawJson documents parsed). */
function plain(event: SystemEventWire): unknown {
  const { eventDetails, ...rest } = event;
  if (!eventDetails) return rest;
  const { eventMetadata, ...details } = eventDetails;
  return {
    ...rest,
    eventDetails: {
      ...details,
      ...(eventMetadata === undefined ? {} : { eventMetadata: metadataValue(eventMetadata) }),
    },
  };
}

/** The events of ListSystemEvents (through `serve`), each as the exact JSON text of its page. */
async function apiEventTexts(params: Record<string, string | string[]>): Promise<string[]> {
  const texts: string[] = [];
  let nextToken: string | undefined;
  do {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params))
      for (const v of Array.isArray(value) ? value : [value]) search.append(key, v);
    if (nextToken) search.set('nextToken', nextToken);
    const response = await fetch(`${server.url}${LIST_SYSTEM_EVENTS_PATH}?${search}`);
    expect(response.status).toBe(200);
    const body = await response.text();
    const parsed = JSON.parse(body) as { events: unknown[]; nextToken?: string };
    // Each event's text as sent: the body is `{"events":[e1,e2,…]…}`; an event's text is the
    // shortest prefix of the rest that parses (an object is balanced only at its closing brace).
    let rest = body.slice('{"events":['.length);
    for (let i = 0; i < parsed.events.length; i++) {
      let end = rest.indexOf('}');
      for (; ; end = rest.indexOf('}', end + 1)) {
        try {
          JSON.parse(rest.slice(0, end + 1));
          break;
        } catch {}
      }
      texts.push(rest.slice(0, end + 1));
      rest = rest.slice(end + 2);
    }
    nextToken = parsed.nextToken;
  } while (nextToken);
  return texts;
}

describe('eventlog-archive query --system-arn', () => {
  it('prints the events as JSON exactly as ListSystemEvents returns them, in archive order', async () => {
    const { code, stdout, stderr } = await query('--format', 'json');
    expect(code).toBe(0);
    expect(stderr).toBe(`${source.length} events\n`);
    const expected = inArchiveOrder(source);
    expect(JSON.parse(stdout)).toEqual(expected.map(plain));
    // Byte for byte what the API sends, one event per line; metadata a JS object cannot hold, verbatim.
    const lines = stdout.split('\n').slice(1, -2);
    expect(lines.map((line) => line.replace(/^ {2}/, '').replace(/,$/, ''))).toEqual(
      await apiEventTexts({ systemArn: ARN, startTime: FROM, endTime: TO, maxResults: '7' }),
    );
    const raws = expected.filter((e) => e.eventDetails?.eventMetadata instanceof RawJson);
    expect(raws.length).toBeGreaterThan(0);
    for (const e of raws)
      expect(stdout).toContain(`"eventMetadata":${(e.eventDetails!.eventMetadata as RawJson).text}`);
    for (const event of JSON.parse(stdout) as { timestamp: unknown }[])
      expect(typeof event.timestamp).toBe('number');
  });

  it('takes --json for --format json', async () => {
    const [json, format] = await Promise.all([query('--json'), query('--format', 'json')]);
    expect(json.code).toBe(0);
    expect(json.stdout).toBe(format.stdout);
  });

  it('filters with --event-type, repeated, as ListSystemEvents filters eventTypes; stops at --limit', async () => {
    const types = ['SYSTEM_CREATED', 'SYSTEM_POLICY_ASSOCIATED', 'SYSTEM_SERVICE_DISASSOCIATED'];
    const { stdout } = await query(...types.flatMap((t) => ['--event-type', t]), '--json');
    const expected = inArchiveOrder(source.filter((e) => types.includes(e.eventType)));
    expect(expected.length).toBeGreaterThan(3);
    expect(JSON.parse(stdout)).toEqual(expected.map(plain));
    const api = await apiEventTexts({ systemArn: ARN, startTime: FROM, endTime: TO, eventTypes: types });
    expect((JSON.parse(stdout) as unknown[]).map((e) => JSON.stringify(e))).toEqual(
      api.map((t) => JSON.stringify(JSON.parse(t))),
    );
    const limited = await query(
      '--event-type',
      'SYSTEM_CREATED',
      '--event-type',
      'SYSTEM_CREATED',
      '--limit',
      '2',
      '--json',
    );
    expect(JSON.parse(limited.stdout)).toEqual(
      inArchiveOrder(source.filter((e) => e.eventType === 'SYSTEM_CREATED'))
        .slice(0, 2)
        .map(plain),
    );
  });

  it('prints CSV with dotted columns and a table with the key columns', async () => {
    const csv = await query('--format', 'csv');
    expect(csv.code).toBe(0);
    const lines = csv.stdout.split('\r\n');
    expect(lines[0]).toBe(
      'actor.accountId,actor.principalId,actor.type,actor.userName,eventDetails.description,eventDetails.eventMetadata,eventDetails.title,eventId,eventType,systemArn,timestamp',
    );
    expect(lines).toHaveLength(source.length + 2);
    const first = inArchiveOrder(source)[0]!;
    expect(lines[1]).toContain(`,${first.eventId},${first.eventType},${ARN},`);
    expect(lines[1]!.endsWith(new Date(Math.round(first.timestamp * 1000)).toISOString())).toBe(true);

    const table = await query('--limit', '3');
    expect(table.code).toBe(0);
    const rows = table.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^timestamp\s+eventType\s+actor\s+account\s+title\s+eventId$/);
    expect(rows).toHaveLength(5);
    expect(rows[2]).toContain(first.eventId);
    expect(rows[2]).toContain(first.eventType);
  });

  it.each([
    [
      ['--event-type', 'SYSTEM_EXPLODED'],
      /^eventlog-archive query: --event-type: each value must be one of SYSTEM_CREATED, /,
    ],
    [
      ['--event-name', 'x'],
      /^eventlog-archive query: --event-name: filters another source's events, not Resilience Hub system events \(--system-arn\)$/,
    ],
    [['--space', 'some-space'], /^eventlog-archive query: --space and --system-arn: give only one/],
    [
      ['--json', '--format', 'csv'],
      /^eventlog-archive query: --json: means --format json, so not with --format csv$/,
    ],
  ])('exits 2 with one line naming the argument for %j', async (args, message) => {
    const { code, stdout, stderr } = await query(...args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr.trimEnd()).toMatch(message);
  });

  it('names the archived systems when the ARN was never archived, and --space filters with --system-arn', async () => {
    const other = await cli(['query', '--system-arn', OTHER_ARN, '--from', FROM, '--archive', archive]);
    expect(other.code).toBe(2);
    expect(other.stderr).toBe(
      `eventlog-archive query: --system-arn: ${OTHER_ARN} has never been archived in file://${archive} (archived: ${ARN})\n`,
    );
    const none = await cli(['query', '--from', FROM, '--archive', archive]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^eventlog-archive query: --space or --system-arn: one is required/);
    const wrong = await cli([
      'query',
      '--space',
      'abc',
      '--event-type',
      'SYSTEM_CREATED',
      '--from',
      FROM,
      '--archive',
      archive,
    ]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(
      /^eventlog-archive query: --event-type: filters another source's events, not CodeCatalyst event logs \(--space\)\n$/,
    );
  });
});
