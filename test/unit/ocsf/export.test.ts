/**
 * A day of an archive as its Security Lake object: Parquet in the custom source's layout that DuckDB
 * reads back into the very OCSF events the mappings made (nested objects as structs, `resources` as a
 * list, `unmapped` as a map, `time` as epoch milliseconds), each one valid against the schema, sorted
 * by time; and the day is read only through its ledger, with the SHA-256 the ledger records.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStore } from '../../../lambdas/core/local-store';
import { OCSF_SCHEMA_1_1_0, validateOcsf } from '../../../lambdas/core/ocsf';
import {
  lakeObjectKey,
  lakeObjectOf,
  OCSF_SOURCES,
  readArchivedDay,
} from '../../../lambdas/core/ocsf/export';
import { codecatalystDefinition } from '../../../lambdas/core/sources/codecatalyst/definition';
import { resiliencehubDefinition } from '../../../lambdas/core/sources/resiliencehub/definition';
import { DAY_MS, HOUR_MS, utcDay } from '../../../lambdas/shared/src/time';
import { readLake } from '../../helpers/ocsf-lake-reader';
import { buildArchive, buildSystemArchive } from '../../integration/query/api-fixture';
import { generateEvents } from '../../support/sample-events';
import { generateSystemEvents } from '../../support/sample-system-events';

const NOW = Date.UTC(2026, 11, 6, 0, 3);
const SPACE = 'acme-corp';
// The Region of the local ListSystemEvents server the fixture ingests from.
const SYSTEM = 'arn:aws:resiliencehub:us-west-2:111122223333:system/checkout';
const ACCOUNT = '123456789012';
let dir: string;
let lake: string;
let store: LocalStore;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'ocsf-export-'));
  lake = mkdtempSync(path.join(tmpdir(), 'ocsf-lake-'));
  await buildArchive(
    dir,
    { [SPACE]: generateEvents({ count: 600, fromMs: NOW - 2 * DAY_MS, toMs: NOW - HOUR_MS, seed: 7 }) },
    NOW,
  );
  await buildSystemArchive(
    dir,
    {
      [SYSTEM]: generateSystemEvents({
        systemArn: SYSTEM,
        count: 120,
        fromMs: NOW - 2 * DAY_MS,
        toMs: NOW - HOUR_MS,
        seed: 8,
      }),
    },
    NOW,
  );
  store = new LocalStore(dir);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(lake, { recursive: true, force: true });
});

async function exportDays(
  definition: typeof codecatalystDefinition,
  instance: string,
  days: string[],
  root: string,
) {
  const partition = OCSF_SOURCES[definition.name]!.partition(instance, { accountId: ACCOUNT });
  const written = [];
  for (const day of days) {
    const archived = await readArchivedDay(store, definition, instance, day);
    if (!archived) continue;
    const object = lakeObjectOf(definition, instance, archived, partition);
    mkdirSync(path.dirname(path.join(root, object.key)), { recursive: true });
    writeFileSync(path.join(root, object.key), object.body);
    written.push({ ...object, records: archived.records });
  }
  return written;
}

const DAYS = [utcDay(NOW - 2 * DAY_MS), utcDay(NOW - DAY_MS), utcDay(NOW)];

describe('lakeObjectOf', () => {
  it('writes CodeCatalyst days that read back as the same valid API Activity events, sorted by time', async () => {
    const root = path.join(lake, 'cc');
    const written = await exportDays(codecatalystDefinition, SPACE, DAYS, root);
    const { rows, columnTypes } = await readLake(root);

    expect(written.reduce((n, w) => n + w.events, 0)).toBe(600);
    expect(rows.length).toBe(600);
    // Types as OCSF says: timestamp_t and long_t as BIGINT, integer_t as INTEGER, objects as structs.
    expect(columnTypes.time).toBe('BIGINT');
    expect(columnTypes.activity_id).toBe('INTEGER');
    expect(columnTypes.unmapped).toBe('MAP(VARCHAR, VARCHAR)');
    expect(columnTypes.resources).toMatch(/^STRUCT\(uid VARCHAR, "name" VARCHAR, "type" VARCHAR\)\[\]$/);
    expect(columnTypes.metadata).toMatch(/profiles VARCHAR\[\]/);
    for (const row of rows)
      expect(validateOcsf(row.event, OCSF_SCHEMA_1_1_0), String(row.event.metadata)).toEqual([]);
    // Every archived event exactly once, as the mapping made it.
    const expected = new Map(written.flatMap((w) => w.records.map((r) => [String(r.id), r] as const)));
    expect(new Set(rows.map((r) => (r.event.metadata as { uid: string }).uid))).toEqual(
      new Set(expected.keys()),
    );
    for (const row of rows) {
      expect(row).toMatchObject({ region: 'us-west-2', accountId: ACCOUNT });
      expect(row.file).toBe(
        `region=us-west-2/accountId=${ACCOUNT}/eventDay=${row.eventDay}/codecatalyst-${SPACE}.parquet`,
      );
      expect(utcDay(row.event.time as number).replaceAll('-', '')).toBe(row.eventDay);
    }
    const times = rows.filter((r) => r.file === rows[0]!.file).map((r) => r.event.time as number);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('gives each event the mapping’s exact attributes, the logged time from its window’s first sweep', async () => {
    const root = path.join(lake, 'cc-exact');
    const [first] = await exportDays(codecatalystDefinition, SPACE, [DAYS[1]!], root);
    const { rows } = await readLake(root);
    const archived = (await readArchivedDay(store, codecatalystDefinition, SPACE, DAYS[1]!))!;
    const byId = new Map(rows.map((r) => [(r.event.metadata as { uid: string }).uid, r.event]));
    const partition = OCSF_SOURCES.codecatalyst!.partition(SPACE, { accountId: ACCOUNT });
    for (const record of first!.records.slice(0, 50)) {
      const window = Object.values(archived.ledger.windows).find(
        (w) =>
          (record.eventTime as Date).getTime() >= Date.parse(w.start) &&
          (record.eventTime as Date).getTime() < Date.parse(w.end),
      )!;
      const mapped = OCSF_SOURCES.codecatalyst!.toOcsf(record, {
        instance: SPACE,
        partition,
        loggedTime: Date.parse(window.firstSweptAt),
      });
      expect(byId.get(String(record.id))).toEqual(JSON.parse(JSON.stringify(mapped)));
    }
  });

  it('writes Resilience Hub days under the Region and account of the system ARN, as Entity Management', async () => {
    const root = path.join(lake, 'rh');
    await exportDays(resiliencehubDefinition, SYSTEM, DAYS, root);
    const { rows } = await readLake(root);
    expect(rows.length).toBe(120);
    for (const row of rows) {
      expect(row).toMatchObject({ region: 'us-west-2', accountId: '111122223333' });
      expect(row.event.class_uid).toBe(3004);
      expect(validateOcsf(row.event, OCSF_SCHEMA_1_1_0)).toEqual([]);
    }
  });

  it('refuses a day object that does not match the SHA-256 its ledger records', async () => {
    const archived = (await readArchivedDay(store, codecatalystDefinition, SPACE, DAYS[0]!))!;
    const key = archived.ledger.data!.key;
    const original = (await store.get(key))!.body;
    try {
      const tampered = new Uint8Array(original);
      tampered[tampered.length - 20]! ^= 1;
      await store.put(key, tampered);
      await expect(readArchivedDay(store, codecatalystDefinition, SPACE, DAYS[0]!)).rejects.toThrow(
        /is not the [0-9a-f]{64} the ledger records; run verify/,
      );
    } finally {
      await store.put(key, original);
    }
  });

  it('names the rule when CodeCatalyst has no account, or a partition value is malformed', () => {
    expect(() => OCSF_SOURCES.codecatalyst!.partition(SPACE, {})).toThrow(
      /^--account-id: is required for CodeCatalyst/,
    );
    expect(() => OCSF_SOURCES.codecatalyst!.partition(SPACE, { accountId: '12' })).toThrow(
      '--account-id: must be 12 digits',
    );
    expect(() => OCSF_SOURCES.codecatalyst!.partition(SPACE, { accountId: ACCOUNT, region: 'moon' })).toThrow(
      /--region/,
    );
    expect(
      lakeObjectKey(codecatalystDefinition, SPACE, '2026-12-05', { region: 'us-west-2', accountId: ACCOUNT }),
    ).toBe(`region=us-west-2/accountId=${ACCOUNT}/eventDay=20261205/codecatalyst-${SPACE}.parquet`);
  });
});
