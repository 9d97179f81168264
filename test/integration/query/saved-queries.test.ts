/**
 * The saved Athena queries (lib/saved-queries.ts), run through the Athena-on-DuckDB harness over an
 * archive of two spaces and a system built by the real ingest, each checked against rows computed
 * here from the generated events, independently of SQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS, utcDay } from '../../../lambdas/shared/src/time';
import { SAVED_QUERIES, type SavedQuery } from '../../../lib/saved-queries';
import { type EventLogEntryWire, generateEvents } from '../../support/sample-events';
import { generateSystemEvents, type SystemEventWire } from '../../support/sample-system-events';
import { type AthenaOnDuckDb, athenaOnDuckDb } from '../../unit/query/athena-on-duckdb';
import { buildArchive, buildSystemArchive } from './api-fixture';

const NOW = Date.UTC(2026, 8, 14, 12);
const DATABASE = 'eventlog_archive';
const SPACES = ['alpha-space', 'beta-space'] as const;
const SYSTEMS = [
  'arn:aws:resiliencehub:us-west-2:123456789012:system/checkout',
  'arn:aws:resiliencehub:us-west-2:123456789012:system/payments',
];
const FIRST_DAY = utcDay(NOW - 20 * DAY_MS);
const LAST_DAY = utcDay(NOW - 5 * DAY_MS);

let dir: string;
let athena: AthenaOnDuckDb;
let events: (EventLogEntryWire & { space: string })[];
let systemEvents: SystemEventWire[];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'saved-queries-'));
  const range = { fromMs: NOW - 29 * DAY_MS, toMs: NOW - 2 * HOUR_MS };
  const bySpace = Object.fromEntries(
    SPACES.map((space, i) => [
      space,
      generateEvents({ count: 1500, ...range, seed: 40 + i, idPrefix: `${space}-` }),
    ]),
  );
  await buildArchive(dir, bySpace, NOW);
  events = SPACES.flatMap((space) => bySpace[space]!.map((e) => ({ ...e, space })));
  const bySystem = Object.fromEntries(
    SYSTEMS.map((arn, i) => [
      arn,
      generateSystemEvents({ count: 300, ...range, systemArn: arn, seed: 60 + i, rawShare: 0 }),
    ]),
  );
  await buildSystemArchive(dir, bySystem, NOW);
  systemEvents = SYSTEMS.flatMap((arn) => bySystem[arn]!);
  athena = await athenaOnDuckDb(dir, DATABASE, { printAsAthena: true });
}, 120_000);

afterAll(async () => {
  await athena?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs a saved query with its parameters as Athena's console passes them; rows as Athena prints them. */
async function run(name: string, parameters: string[]): Promise<Record<string, string | null>[]> {
  const query = SAVED_QUERIES.find((q) => q.name.endsWith(name)) as SavedQuery;
  expect(parameters).toHaveLength(query.parameters.length);
  const { QueryExecutionId } = await athena.client.send(
    new StartQueryExecutionCommand({
      QueryString: query.sql,
      QueryExecutionContext: { Database: DATABASE },
      ExecutionParameters: parameters.map((p) => `'${p.replaceAll("'", "''")}'`),
    }),
  );
  const rows: (string | null)[][] = [];
  let token: string | undefined;
  do {
    const page = await athena.client.send(new GetQueryResultsCommand({ QueryExecutionId, NextToken: token }));
    for (const row of page.ResultSet?.Rows ?? [])
      rows.push((row.Data ?? []).map((d) => d.VarCharValue ?? null));
    token = page.NextToken;
  } while (token);
  const [header, ...data] = rows;
  return data.map((row) => Object.fromEntries(header!.map((name, i) => [name!, row[i] ?? null])));
}

const athenaTime = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
const inDays = (ms: number): boolean => utcDay(ms) >= FIRST_DAY && utcDay(ms) <= LAST_DAY;
const byTimeThenId = (a: { t: number; id: string }, b: { t: number; id: string }): number =>
  a.t - b.t || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const ascending = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The events of the days asked for, with their time as a number. */
function eventsInDays() {
  return events.map((e) => ({ ...e, t: Date.parse(e.eventTime) })).filter((e) => inDays(e.t));
}

function mostFrequent(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || ascending(a[0], b[0]))[0]![0];
}

describe('saved Athena queries', () => {
  it('has one per question, each bounding the day partition and naming its parameters', () => {
    expect(SAVED_QUERIES).toHaveLength(6);
    for (const query of SAVED_QUERIES) {
      expect(query.sql).toMatch(/dt BETWEEN \? AND \?/);
      expect(query.sql.split('?').length - 1).toBe(query.parameters.length);
    }
  });

  it('everything one user did: every event of that user in every space, in time order', async () => {
    const user = mostFrequent(events.map((e) => e.userIdentity.userName));
    const rows = await run('everything one user did', [user, FIRST_DAY, LAST_DAY]);
    const expected = eventsInDays()
      .filter((e) => e.userIdentity.userName === user)
      .sort(byTimeThenId);
    expect(new Set(expected.map((e) => e.space)).size).toBe(2);
    expect(rows).toEqual(
      expected.map((e) => ({
        eventTime: athenaTime(e.t),
        space: e.space,
        eventName: e.eventName,
        operationType: e.operationType,
        projectName: e.projectInformation?.name ?? null,
        eventSource: e.eventSource,
        errorCode: e.errorCode ?? null,
        sourceIpAddress: e.sourceIpAddress,
        requestId: e.requestId,
        id: e.id,
      })),
    );
  });

  it('failed calls by error code and user', async () => {
    const rows = await run('failed calls by error code and user', [FIRST_DAY, LAST_DAY]);
    const groups = new Map<string, { errorCode: string; userName: string; times: number[] }>();
    for (const e of eventsInDays().filter((e) => e.errorCode)) {
      const key = `${e.errorCode}\n${e.userIdentity.userName}`;
      const group = groups.get(key) ?? {
        errorCode: e.errorCode!,
        userName: e.userIdentity.userName,
        times: [],
      };
      group.times.push(e.t);
      groups.set(key, group);
    }
    const expected = [...groups.values()]
      .sort(
        (a, b) =>
          b.times.length - a.times.length ||
          ascending(a.errorCode, b.errorCode) ||
          ascending(a.userName, b.userName),
      )
      .map((g) => ({
        errorCode: g.errorCode,
        userName: g.userName,
        calls: String(g.times.length),
        firstFailure: athenaTime(Math.min(...g.times)),
        lastFailure: athenaTime(Math.max(...g.times)),
      }));
    expect(expected.length).toBeGreaterThan(1);
    expect(rows).toEqual(expected);
  });

  it('changes to one project: its events that were not read-only', async () => {
    const project = mostFrequent(
      events
        .filter((e) => e.operationType !== 'READONLY' && e.projectInformation?.name)
        .map((e) => e.projectInformation!.name!),
    );
    const rows = await run('changes to one project', [project, FIRST_DAY, LAST_DAY]);
    const expected = eventsInDays()
      .filter((e) => e.projectInformation?.name === project && e.operationType !== 'READONLY')
      .sort(byTimeThenId);
    expect(expected.length).toBeGreaterThan(0);
    expect(rows.map((r) => r.id)).toEqual(expected.map((e) => e.id));
    expect(rows.every((r) => r.operationType !== 'READONLY')).toBe(true);
  });

  it('activity per day, space and event source, with changes and failures', async () => {
    const rows = await run('activity per day, space and event source', [FIRST_DAY, LAST_DAY]);
    const groups = new Map<
      string,
      { day: string; space: string; eventSource: string; events: number; changes: number; failed: number }
    >();
    for (const e of eventsInDays()) {
      const day = utcDay(e.t);
      const key = `${day}\n${e.space}\n${e.eventSource}`;
      const group = groups.get(key) ?? {
        day,
        space: e.space,
        eventSource: e.eventSource,
        events: 0,
        changes: 0,
        failed: 0,
      };
      group.events++;
      if (e.operationType !== 'READONLY') group.changes++;
      if (e.errorCode) group.failed++;
      groups.set(key, group);
    }
    const expected = [...groups.values()]
      .sort(
        (a, b) =>
          ascending(a.day, b.day) || ascending(a.space, b.space) || ascending(a.eventSource, b.eventSource),
      )
      .map((g) => ({ ...g, events: String(g.events), changes: String(g.changes), failed: String(g.failed) }));
    expect(rows).toEqual(expected);
    expect(new Set(rows.map((r) => r.day)).size).toBe(16);
  });

  it('first and last activity of each user', async () => {
    const rows = await run('first and last activity of each user', [FIRST_DAY, LAST_DAY]);
    const users = new Map<string, { times: number[]; spaces: Set<string> }>();
    for (const e of eventsInDays()) {
      const user = users.get(e.userIdentity.userName) ?? { times: [], spaces: new Set<string>() };
      user.times.push(e.t);
      user.spaces.add(e.space);
      users.set(e.userIdentity.userName, user);
    }
    const expected = [...users]
      .map(([userName, u]) => ({ userName, first: Math.min(...u.times), last: Math.max(...u.times), u }))
      .sort((a, b) => a.last - b.last || ascending(a.userName, b.userName))
      .map(({ userName, first, last, u }) => ({
        userName,
        firstActivity: athenaTime(first),
        lastActivity: athenaTime(last),
        events: String(u.times.length),
        spaces: String(u.spaces.size),
      }));
    expect(rows).toEqual(expected);
  });

  it('Resilience Hub system changes by type, across systems', async () => {
    const rows = await run('Resilience Hub system changes by type', [FIRST_DAY, LAST_DAY]);
    const groups = new Map<string, { systemArn: string; eventType: string; times: number[] }>();
    for (const e of systemEvents) {
      const t = Math.round(e.timestamp * 1000);
      if (!inDays(t)) continue;
      const key = `${e.systemArn}\n${e.eventType}`;
      const group = groups.get(key) ?? { systemArn: e.systemArn, eventType: e.eventType, times: [] };
      group.times.push(t);
      groups.set(key, group);
    }
    const expected = [...groups.values()]
      .sort((a, b) => ascending(a.systemArn, b.systemArn) || ascending(a.eventType, b.eventType))
      .map((g) => ({
        systemArn: g.systemArn,
        eventType: g.eventType,
        events: String(g.times.length),
        firstEvent: athenaTime(Math.min(...g.times)),
        lastEvent: athenaTime(Math.max(...g.times)),
      }));
    expect(new Set(rows.map((r) => r.systemArn)).size).toBe(2);
    expect(rows).toEqual(expected);
  });
});
