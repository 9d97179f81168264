/**
 * The Security Lake queries (lib/security-lake-queries.ts) agree with the saved queries
 * (lib/saved-queries.ts): an archive of two spaces and two systems built by the real ingest is
 * exported day by day in Security Lake's layout (`lakeObjectOf`, as the export command writes it),
 * and each question is asked of both through the Athena-on-DuckDB harness: the saved query of the
 * archive's Glue tables, its Security Lake twin of the custom-source tables. A security analyst sees
 * the same rows, column for column (the day as Security Lake spells it, `YYYYMMDD`).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStore } from '../../../lambdas/core/local-store';
import { lakeObjectOf, OCSF_SOURCES, readArchivedDay } from '../../../lambdas/core/ocsf/export';
import { codecatalystDefinition } from '../../../lambdas/core/sources/codecatalyst/definition';
import { codecatalystActivity } from '../../../lambdas/core/sources/codecatalyst/ocsf';
import { resiliencehubDefinition } from '../../../lambdas/core/sources/resiliencehub/definition';
import { DAY_MS, HOUR_MS, utcDay } from '../../../lambdas/shared/src/time';
import { SAVED_QUERIES } from '../../../lib/saved-queries';
import {
  SECURITY_LAKE_DEFAULTS,
  SECURITY_LAKE_QUERIES,
  securityLakeDatabase,
  securityLakeQueries,
  securityLakeTable,
} from '../../../lib/security-lake-queries';
import { type EventLogEntryWire, generateEvents } from '../../support/sample-events';
import { generateSystemEvents } from '../../support/sample-system-events';
import { type AthenaOnDuckDb, athenaOnDuckDb } from '../../unit/query/athena-on-duckdb';
import { buildArchive, buildSystemArchive } from './api-fixture';

const NOW = Date.UTC(2026, 8, 14, 12);
const ARCHIVE_DATABASE = 'eventlog_archive';
const REGION = SECURITY_LAKE_DEFAULTS.region;
const LAKE_DATABASE = securityLakeDatabase(REGION);
const ACCOUNT = '123456789012';
const SPACES = ['alpha-space', 'beta-space'] as const;
const SYSTEMS = [
  'arn:aws:resiliencehub:us-west-2:123456789012:system/checkout',
  'arn:aws:resiliencehub:us-west-2:123456789012:system/payments',
];
const FIRST_DAY = utcDay(NOW - 20 * DAY_MS);
const LAST_DAY = utcDay(NOW - 5 * DAY_MS);
/** Security Lake's `eventDay` of an archive day. */
const lakeDay = (day: string): string => day.replaceAll('-', '');

let dir: string;
let lake: string;
let athena: AthenaOnDuckDb;
let events: (EventLogEntryWire & { space: string })[];
const exported = { codecatalyst: 0, resiliencehub: 0 };

/** Writes every archived day of each instance as its lake object under `root` (the source's `ext/<name>/`). */
async function exportAll(
  store: LocalStore,
  definition: typeof codecatalystDefinition,
  instances: readonly string[],
  root: string,
): Promise<number> {
  let written = 0;
  for (const instance of instances) {
    const partition = OCSF_SOURCES[definition.name]!.partition(instance, { accountId: ACCOUNT });
    for (let t = NOW - 30 * DAY_MS; t <= NOW; t += DAY_MS) {
      const archived = await readArchivedDay(store, definition, instance, utcDay(t));
      if (!archived) continue;
      const object = lakeObjectOf(definition, instance, archived, partition);
      mkdirSync(path.dirname(path.join(root, object.key)), { recursive: true });
      writeFileSync(path.join(root, object.key), object.body);
      written += object.events;
    }
  }
  return written;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'security-lake-queries-archive-'));
  lake = mkdtempSync(path.join(tmpdir(), 'security-lake-queries-lake-'));
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

  const store = new LocalStore(dir);
  const roots = {
    codecatalyst: path.join(lake, 'ext', SECURITY_LAKE_DEFAULTS.codecatalystSource),
    resiliencehub: path.join(lake, 'ext', SECURITY_LAKE_DEFAULTS.resiliencehubSource),
  };
  exported.codecatalyst = await exportAll(store, codecatalystDefinition, SPACES, roots.codecatalyst);
  exported.resiliencehub = await exportAll(store, resiliencehubDefinition, SYSTEMS, roots.resiliencehub);
  athena = await athenaOnDuckDb(dir, ARCHIVE_DATABASE, {
    printAsAthena: true,
    lake: {
      database: LAKE_DATABASE,
      tables: {
        [securityLakeTable(REGION, SECURITY_LAKE_DEFAULTS.codecatalystSource)]: roots.codecatalyst,
        [securityLakeTable(REGION, SECURITY_LAKE_DEFAULTS.resiliencehubSource)]: roots.resiliencehub,
      },
    },
  });
}, 180_000);

afterAll(async () => {
  await athena?.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(lake, { recursive: true, force: true });
});

/** Runs a query in a database with its parameters as Athena's console passes them; rows as Athena prints them. */
async function run(
  query: { sql: string; parameters: readonly string[] },
  database: string,
  parameters: string[],
): Promise<Record<string, string | null>[]> {
  expect(parameters).toHaveLength(query.parameters.length);
  const { QueryExecutionId } = await athena.client.send(
    new StartQueryExecutionCommand({
      QueryString: query.sql,
      QueryExecutionContext: { Database: database },
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

function mostFrequent(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))[0]![0];
}

/** The leading parameters of each question (those before the two days). */
function leadingParameters(savedQuery: string): string[] {
  if (savedQuery.endsWith('everything one user did'))
    return [mostFrequent(events.map((e) => e.userIdentity.userName))];
  if (savedQuery.endsWith('changes to one project'))
    return [
      mostFrequent(
        events
          .filter((e) => e.operationType !== 'READONLY' && e.projectInformation?.name)
          .map((e) => e.projectInformation!.name!),
      ),
    ];
  return [];
}

/** The saved query's rows as the lake query spells them: the day partition as `YYYYMMDD`. */
const asLakeRow = (row: Record<string, string | null>): Record<string, string | null> =>
  'day' in row && row.day !== null ? { ...row, day: lakeDay(row.day) } : row;

const RANGES = [
  { label: 'sixteen days', first: FIRST_DAY, last: LAST_DAY },
  { label: 'one day', first: utcDay(NOW - 9 * DAY_MS), last: utcDay(NOW - 9 * DAY_MS) },
];

describe('Security Lake queries', () => {
  it('has one per saved query, in its order, each bounding eventDay and naming its parameters', () => {
    expect(SECURITY_LAKE_QUERIES.map((q) => q.savedQuery)).toEqual(SAVED_QUERIES.map((q) => q.name));
    for (const [i, query] of SECURITY_LAKE_QUERIES.entries()) {
      expect(query.sql).toMatch(/eventDay BETWEEN \? AND \?/);
      expect(query.sql.split('?').length - 1).toBe(query.parameters.length);
      expect(query.parameters.length).toBe(SAVED_QUERIES[i]!.parameters.length);
      expect(new Set(SECURITY_LAKE_QUERIES.map((q) => q.name)).size).toBe(SAVED_QUERIES.length);
    }
  });

  it('names the tables as Security Lake names a custom source’s', () => {
    expect(securityLakeDatabase('us-west-2')).toBe('amazon_security_lake_glue_db_us_west_2');
    expect(securityLakeTable('eu-west-2', 'testCustom2')).toBe(
      'amazon_security_lake_table_eu_west_2_ext_testcustom2',
    );
    expect(securityLakeTable('us-west-2', 'eventlog-cc')).toBe(
      'amazon_security_lake_table_us_west_2_ext_eventlog_cc',
    );
    const custom = securityLakeQueries({ codecatalyst: 'cc_table', resiliencehub: 'rh_table' });
    expect(custom.slice(0, 5).every((q) => q.sql.includes('FROM cc_table\n'))).toBe(true);
    expect(custom[5]!.sql).toContain('FROM rh_table\n');
  });

  it('are shown in docs/security-lake-queries.md as the code has them, each beside its saved query', () => {
    const doc = readFileSync(new URL('../../../docs/security-lake-queries.md', import.meta.url), 'utf8');
    for (const [i, query] of SECURITY_LAKE_QUERIES.entries()) {
      expect(doc).toContain(`\`\`\`sql\n${query.sql}\n\`\`\``);
      expect(doc).toContain(`\`\`\`sql\n${SAVED_QUERIES[i]!.sql}\n\`\`\``);
    }
  });

  it('exported every archived event to the lake', () => {
    expect(exported).toEqual({ codecatalyst: 3000, resiliencehub: 600 });
  });

  for (const [i, lakeQuery] of SECURITY_LAKE_QUERIES.entries()) {
    const question = lakeQuery.savedQuery.replace(/^eventlog-archive: /, '');
    for (const range of RANGES)
      it(`${question}: the same rows from the lake as from the archive (${range.label})`, async () => {
        const saved = SAVED_QUERIES[i]!;
        const leading = leadingParameters(saved.name);
        const archiveRows = await run(saved, ARCHIVE_DATABASE, [...leading, range.first, range.last]);
        const lakeRows = await run(lakeQuery, LAKE_DATABASE, [
          ...leading,
          lakeDay(range.first),
          lakeDay(range.last),
        ]);
        expect(archiveRows.length).toBeGreaterThan(0);
        expect(Object.keys(lakeRows[0] ?? {})).toEqual(Object.keys(archiveRows[0]!));
        expect(lakeRows).toEqual(archiveRows.map(asLakeRow));
      });
  }

  it('reads only the days asked for: a range with no exported day answers nothing', async () => {
    const before = lakeDay(utcDay(NOW - 40 * DAY_MS));
    for (const query of SECURITY_LAKE_QUERIES) {
      const leading = leadingParameters(query.savedQuery);
      expect(await run(query, LAKE_DATABASE, [...leading, before, before])).toEqual([]);
    }
  });

  it('selects changes by the operation type kept in unmapped, not by the activity', () => {
    // A MUTATION named with a read verb is Other (99), not Read: activity_id <> 2 would agree here…
    expect(codecatalystActivity('getThing', 'MUTATION')).not.toBe(2);
    // …but an event with no operation type gets its activity from its name: the archive's
    // `operationType <> 'READONLY'` leaves it out, `activity_id <> 2` would count it.
    expect(codecatalystActivity('createProject', undefined)).toBe(1);
    const changes = SECURITY_LAKE_QUERIES.find((q) => q.savedQuery.endsWith('changes to one project'))!;
    expect(changes.sql).toContain(`element_at(unmapped, 'operationType') <> 'READONLY'`);
    expect(changes.sql).not.toMatch(/activity_id/);
  });
});
