/**
 * Engine semantics over a real archive written by the real ingest: the DuckDB engine and the
 * Athena engine (its SQL run by DuckDB playing Athena, see athena-on-duckdb.ts) must both return
 * exactly what an in-JS reference computes from the source data (filter, archive order, keyset
 * cursor, limit), for many queries and for paging at several page sizes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStore } from '../../../lambdas/core/local-store';
import {
  type ArchiveRecord,
  type FieldSpec,
  normaliseRecord,
  sortRecords,
} from '../../../lambdas/core/records';
import { ingestInstance } from '../../../lambdas/ingest/ingest-instance';
import { codecatalyst } from '../../../lambdas/ingest/sources/codecatalyst';
import type { SourceModule } from '../../../lambdas/ingest/sources/types';
import { createAthenaEngine } from '../../../lambdas/query/athena-engine';
import { createDuckDbEngine } from '../../../lambdas/query/duckdb-engine';
import type { EventQuery, QueryEngine } from '../../../lambdas/query/engine';
import { DAY_MS, HOUR_MS } from '../../../lambdas/shared/src/time';
import { generateEvents } from '../../support/sample-events';
import { FakeSource } from '../../unit/ingest/fake-source';
import { type AthenaOnDuckDb, athenaOnDuckDb } from '../../unit/query/athena-on-duckdb';

const DAY0 = Date.UTC(2024, 4, 1);
const DAYS = 5;
const END = DAY0 + DAYS * DAY_MS;
const INJECTION = "x' OR '1'='1";
const DATABASE = 'eventlog_archive';

let dir: string;
let duck: QueryEngine;
let duckUncached: QueryEngine;
let athena: QueryEngine;
let emulator: AthenaOnDuckDb;
/** Every archived record per instance, normalised, in archive order. */
const data = new Map<string, ArchiveRecord[]>();

/** Sample events with the cases that matter: null structs, all-null structs, ties in time, day edges. */
function acmeRecords(): ArchiveRecord[] {
  const wire = generateEvents({ count: 2_400, fromMs: DAY0, toMs: END, seed: 11 });
  const records = wire.map((e) =>
    normaliseRecord(codecatalyst.fields, e as unknown as Record<string, unknown>),
  );
  const extra: ArchiveRecord[] = [];
  records.forEach((r, i) => {
    if (i % 50 === 0) r.userIdentity = null;
    if (i % 70 === 1) r.projectInformation = { name: null, projectId: null };
    // Another event at the same millisecond: the id decides the order.
    if (i % 9 === 0)
      extra.push({ ...r, id: `${i % 2 ? 'a' : 'f'}${String(r.id).slice(1)}-tie`, requestId: 'tie' });
  });
  const at = (time: number, id: string, patch: Partial<ArchiveRecord> = {}): ArchiveRecord => ({
    ...records[0]!,
    id,
    eventTime: new Date(time),
    ...patch,
  });
  extra.push(
    at(DAY0, 'edge-start'),
    at(DAY0 + DAY_MS, 'edge-midnight-b'),
    at(DAY0 + DAY_MS, 'edge-midnight-a'),
    at(DAY0 + DAY_MS - 1, 'edge-before-midnight'),
    at(END - 1, 'edge-last'),
    at(DAY0 + 2 * DAY_MS + HOUR_MS, 'injection', {
      userIdentity: { userType: 'USER', principalId: 'p', userName: INJECTION, awsAccountId: null },
    }),
  );
  return [...records, ...extra];
}

async function ingest(store: LocalStore, instance: string, records: ArchiveRecord[]): Promise<void> {
  const client = new FakeSource();
  client.add(instance, records);
  const result = await ingestInstance({
    source: codecatalyst,
    instance,
    store,
    client,
    from: DAY0,
    to: END,
    now: () => END + DAY_MS,
    settings: { sliceMs: 6 * HOUR_MS, maxConcurrency: 8 },
  });
  expect(result).toMatchObject({ status: 'complete', newEvents: records.length });
  data.set(instance, sortRecords(codecatalyst, [...records]));
}

const valueAt = (record: ArchiveRecord, dotted: string): unknown =>
  dotted
    .split('.')
    .reduce<unknown>((v, key) => (v && typeof v === 'object' ? (v as ArchiveRecord)[key] : null), record);

/** The reference: what a query must return, computed in JS from the source data. */
function expected(q: EventQuery): ArchiveRecord[] {
  const time = (r: ArchiveRecord): number => (r.eventTime as Date).getTime();
  return (data.get(q.instance) ?? [])
    .filter((r) => time(r) >= q.start && time(r) < q.end)
    .filter((r) => Object.entries(q.equals ?? {}).every(([p, v]) => valueAt(r, p) === v))
    .filter((r) => Object.entries(q.anyOf ?? {}).every(([p, vs]) => vs.includes(valueAt(r, p) as string)))
    .filter(
      (r) => !q.after || time(r) > q.after.time || (time(r) === q.after.time && String(r.id) > q.after.id),
    )
    .slice(0, q.limit);
}

const query = (patch: Partial<EventQuery> = {}): EventQuery => ({
  source: codecatalyst,
  instance: 'acme',
  start: DAY0,
  end: END,
  limit: 10_000,
  ...patch,
});

/** Pages through a query with a keyset cursor; every page is checked against the reference too. */
async function pageThrough(engine: QueryEngine, q: EventQuery): Promise<ArchiveRecord[]> {
  const out: ArchiveRecord[] = [];
  let after: EventQuery['after'];
  for (let pages = 0; pages < 10_000; pages++) {
    const page = { ...q, ...(after ? { after } : {}) };
    const { records } = await engine.listEvents(page);
    expect(records).toStrictEqual(expected(page));
    out.push(...records);
    if (records.length < q.limit) return out;
    const last = records.at(-1)!;
    after = { time: (last.eventTime as Date).getTime(), id: String(last.id) };
  }
  throw new Error('paging did not end');
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'engines-'));
  const store = new LocalStore(dir);
  await ingest(store, 'acme', acmeRecords());
  await ingest(
    store,
    'other-space',
    generateEvents({ count: 300, fromMs: DAY0, toMs: END, seed: 12 }).map((e) =>
      normaliseRecord(codecatalyst.fields, e as unknown as Record<string, unknown>),
    ),
  );
  duck = await createDuckDbEngine(dir);
  duckUncached = await createDuckDbEngine(dir, { cacheBytes: 0 });
  emulator = await athenaOnDuckDb(dir, DATABASE, { pageRows: 97 });
  athena = createAthenaEngine({
    client: emulator.client,
    workGroup: 'wg',
    database: DATABASE,
    sleep: async () => {},
  });
});

afterAll(async () => {
  await duck?.close();
  await duckUncached?.close();
  await athena?.close();
  await emulator?.close();
  rmSync(dir, { recursive: true, force: true });
});

const sample = (): ArchiveRecord[] => data.get('acme')!;
const someUser = (): string => String(valueAt(sample()[100]!, 'userIdentity.userName'));
const someProject = (): string =>
  String(valueAt(sample().find((r) => r.projectInformation)!, 'projectInformation.name'));

/** Named queries covering ranges, day edges, each filter and their combinations. */
function cases(): [string, EventQuery][] {
  const t = (r: ArchiveRecord): number => (r.eventTime as Date).getTime();
  const mid = t(sample()[1_000]!);
  return [
    ['everything', query()],
    ['a limit', query({ limit: 37 })],
    ['one whole day', query({ start: DAY0 + DAY_MS, end: DAY0 + 2 * DAY_MS })],
    ['hours inside a day', query({ start: DAY0 + 3 * HOUR_MS, end: DAY0 + 5 * HOUR_MS })],
    ['over a day edge', query({ start: DAY0 + DAY_MS - HOUR_MS, end: DAY0 + DAY_MS + HOUR_MS })],
    ['ending exactly at midnight', query({ start: DAY0 + 20 * HOUR_MS, end: DAY0 + DAY_MS })],
    ['starting exactly at midnight', query({ start: DAY0 + DAY_MS, end: DAY0 + DAY_MS + 1 })],
    ['start is inclusive, end exclusive', query({ start: mid, end: mid + 1 })],
    ['an empty range', query({ start: mid, end: mid })],
    ['before the archive', query({ start: DAY0 - 10 * DAY_MS, end: DAY0 - DAY_MS })],
    ['over the whole archive and beyond', query({ start: DAY0 - 3 * DAY_MS, end: END + 3 * DAY_MS })],
    ['eventName', query({ equals: { eventName: 'getProject' } })],
    ['userIdentity.userName', query({ equals: { 'userIdentity.userName': someUser() } })],
    ['projectInformation.name', query({ equals: { 'projectInformation.name': someProject() } })],
    ['errorCode', query({ equals: { errorCode: 'AccessDeniedException' } })],
    ['an injection string matches only itself', query({ equals: { 'userIdentity.userName': INJECTION } })],
    ['a value nobody has', query({ equals: { eventName: 'noSuchEvent' } })],
    ['anyOf eventSource', query({ anyOf: { eventSource: ['workflows', 'issues'] } })],
    ['anyOf with an injection string', query({ anyOf: { eventName: [INJECTION, 'createIssue'] } })],
    [
      'filters combined',
      query({
        start: DAY0 + DAY_MS,
        end: DAY0 + 4 * DAY_MS,
        equals: { operationType: 'READONLY', 'userIdentity.userName': someUser() },
        anyOf: { eventSource: ['manage', 'sourcecode'] },
        limit: 50,
      }),
    ],
    ['a cursor in the middle', query({ after: { time: mid, id: String(sample()[1_000]!.id) }, limit: 20 })],
    ['a cursor between tied ids', query({ after: { time: mid, id: '' }, limit: 5 })],
    ['a cursor before the range', query({ after: { time: DAY0 - DAY_MS, id: 'z' }, limit: 5 })],
    ['a cursor after the range', query({ after: { time: END, id: '' } })],
    ['another instance', query({ instance: 'other-space', equals: { eventName: 'listEventLogs' } })],
    ['an instance never archived', query({ instance: 'nobody' })],
  ];
}

describe.each([
  ['DuckDB', () => duck],
  ['DuckDB without the day cache', () => duckUncached],
  ['Athena (SQL run by DuckDB)', () => athena],
])('%s engine', (_name, engine) => {
  it('returns exactly the reference records for every query', async () => {
    for (const [label, q] of cases()) {
      const { records } = await engine().listEvents(q);
      expect(records, label).toStrictEqual(expected(q));
    }
  });

  it('has test data where ties in time, null structs and all-null structs occur', () => {
    const all = sample();
    const times = all.map((r) => (r.eventTime as Date).getTime());
    expect(new Set(times).size).toBeLessThan(times.length);
    expect(all.some((r) => r.userIdentity === null)).toBe(true);
    expect(all.some((r) => r.projectInformation === null)).toBe(true);
    expect(all.some((r) => (r.projectInformation as ArchiveRecord | null)?.name === null)).toBe(true);
  });

  it.each([250, 7, 1])('pages at limit %i without repeating or skipping an event', async (limit) => {
    // Limit 1 pages through three hours over a day edge (with ties); 7 through a day; 250 through everything.
    const q =
      limit === 1
        ? query({ start: DAY0 + DAY_MS - 2 * HOUR_MS, end: DAY0 + DAY_MS + HOUR_MS, limit })
        : limit === 7
          ? query({ start: DAY0 + DAY_MS, end: DAY0 + 2 * DAY_MS, anyOf: { eventSource: ['manage'] }, limit })
          : query({ limit });
    const all = await pageThrough(engine(), q);
    expect(all).toStrictEqual(expected({ ...q, limit: 100_000 }));
    expect(new Set(all.map((r) => r.id)).size).toBe(all.length);
  });
});

describe('DuckDB engine', () => {
  it('reads only the files of the days in range', async () => {
    const one = await duck.listEvents(query({ start: DAY0 + 2 * DAY_MS, end: DAY0 + 3 * DAY_MS }));
    expect(one.stats.filesRead).toBe(1);
    const hours = await duck.listEvents(
      query({ start: DAY0 + 2 * DAY_MS + HOUR_MS, end: DAY0 + 2 * DAY_MS + 2 * HOUR_MS }),
    );
    expect(hours.stats.filesRead).toBe(1);
    expect((await duck.listEvents(query())).stats.filesRead).toBe(DAYS);
    expect((await duck.listEvents(query({ start: DAY0 - 9 * DAY_MS, end: DAY0 }))).stats.filesRead).toBe(0);
    // A cursor on day 4 leaves days 1-3 unread.
    const later = await duck.listEvents(query({ after: { time: DAY0 + 3 * DAY_MS + 1, id: '' }, limit: 3 }));
    expect(later.stats.filesRead).toBe(2);
  });

  it('answers concurrent queries, more of them than it has connections', async () => {
    const qs = cases().map(([, q]) => q);
    const results = await Promise.all(qs.map((q) => duck.listEvents(q)));
    results.forEach((r, i) => {
      expect(r.records).toStrictEqual(expected(qs[i]!));
    });
  });

  it('rejects queries after close', async () => {
    const engine = await createDuckDbEngine(dir);
    await engine.close();
    await expect(engine.listEvents(query())).rejects.toThrow(/closed/);
  });

  it('never caches a day for a histogram, but counts it from the cache once a listing cached it', async () => {
    const range = { start: DAY0, end: DAY0 + DAY_MS };
    const engine = await createDuckDbEngine(dir);
    const counts = async (): Promise<number> => {
      const { rows } = await engine.histogram({
        ...query(range),
        bucketMs: DAY_MS,
        series: { failedWhenSet: 'errorCode', readWhen: { field: 'operationType', value: 'READONLY' } },
      });
      return rows.reduce((n, row) => n + row.total, 0);
    };
    const all = expected(query({ ...range, limit: 100_000 })).length;
    try {
      // A listing, then histograms: read from the file each time, nothing decoded into the cache.
      await engine.listEvents(query({ ...range, limit: 3 }));
      for (let i = 0; i < 3; i++) expect(await counts()).toBe(all);
      expect((await engine.cacheInfo()).days).toBe(0);
      // The listing's second read caches the day; the histogram then reads the cached table.
      await engine.listEvents(query({ ...range, limit: 3 }));
      expect((await engine.cacheInfo()).days).toBe(1);
      expect(await counts()).toBe(all);
    } finally {
      await engine.close();
    }
  });

  it('caches a day on its second read and drops the least recently used day when over budget', async () => {
    const day = (n: number): EventQuery =>
      query({ start: DAY0 + n * DAY_MS, end: DAY0 + (n + 1) * DAY_MS, limit: 3 });
    const roomy = await createDuckDbEngine(dir);
    const tight = await createDuckDbEngine(dir, { cacheBytes: 1 });
    try {
      for (const engine of [roomy, tight]) {
        await engine.listEvents(day(0));
        expect((await engine.cacheInfo()).days).toBe(0);
        for (let i = 0; i < 2; i++)
          expect((await engine.listEvents(day(0))).records).toStrictEqual(expected(day(0)));
        expect((await engine.cacheInfo()).days).toBe(1);
        for (let i = 0; i < 2; i++)
          expect((await engine.listEvents(day(1))).records).toStrictEqual(expected(day(1)));
      }
      expect(await roomy.cacheInfo()).toMatchObject({ days: 2, bytes: expect.any(Number) });
      expect((await roomy.cacheInfo()).bytes).toBeGreaterThan(0);
      expect((await tight.cacheInfo()).days).toBe(1);
      expect((await tight.listEvents(day(0))).records).toStrictEqual(expected(day(0)));
    } finally {
      await roomy.close();
      await tight.close();
    }
  });

  it('sees a day rewritten by the ingest even when it holds that day decoded in memory', async () => {
    const local = mkdtempSync(path.join(tmpdir(), 'engines-rewrite-'));
    const engine = await createDuckDbEngine(local);
    try {
      const store = new LocalStore(local);
      const day = (n: number, prefix: string): ArchiveRecord[] =>
        sample()
          .slice(0, n)
          .map((r, i) => ({ ...r, id: `${prefix}${i}`, eventTime: new Date(DAY0 + i * 60_000) }));
      const run = async (records: ArchiveRecord[]): Promise<void> => {
        const client = new FakeSource();
        client.add('acme', records);
        await ingestInstance({
          source: codecatalyst,
          instance: 'acme',
          store,
          client,
          from: DAY0,
          to: DAY0 + DAY_MS,
          now: () => END,
        });
      };
      const q = query({ start: DAY0, end: DAY0 + DAY_MS });
      await run(day(10, 'a'));
      for (let i = 0; i < 3; i++) expect((await engine.listEvents(q)).records).toHaveLength(10);
      expect((await engine.cacheInfo()).days).toBe(1);
      await run(day(5, 'b'));
      const after = await engine.listEvents(q);
      expect(after.records).toHaveLength(15);
      expect(after.records).toStrictEqual(sortRecords(codecatalyst, [...day(10, 'a'), ...day(5, 'b')]));
    } finally {
      await engine.close();
      rmSync(local, { recursive: true, force: true });
    }
  });
});

describe('Athena engine on the emulator', () => {
  it('never puts a caller value into the SQL text', () => {
    const injectionHex = Buffer.from(INJECTION, 'utf8').toString('hex').toUpperCase();
    const withInjection = emulator.queries.filter((q) => q.executionParameters.includes(`'${injectionHex}'`));
    expect(withInjection.length).toBeGreaterThan(0);
    for (const q of emulator.queries) {
      expect(q.sql).not.toContain(INJECTION);
      expect(q.sql).not.toContain(injectionHex);
      expect(q.sql).not.toContain(someUser());
    }
  });
});

/** A second source with the shapes CodeCatalyst lacks: a JSON field, a struct in a struct, a nested timestamp. */
const nestedSource: SourceModule = {
  ...codecatalyst,
  name: 'nested',
  table: 'nested_events',
  partitionKey: 'system',
  fields: [
    { name: 'id', type: 'string', required: true },
    { name: 'eventTime', type: 'timestamp', required: true },
    { name: 'kind', type: 'string' },
    { name: 'detail', type: 'json' },
    {
      name: 'outer',
      type: 'struct',
      fields: [
        { name: 'tag', type: 'string' },
        {
          name: 'inner',
          type: 'struct',
          fields: [
            { name: 'leaf', type: 'string' },
            { name: 'at', type: 'timestamp' },
          ],
        },
      ],
    },
  ] satisfies FieldSpec[],
};

describe('a source with nested structs and JSON fields', () => {
  let local: string;
  let engines: [string, QueryEngine][];
  let emu: AthenaOnDuckDb;
  const records = Array.from({ length: 40 }, (_, i) =>
    normaliseRecord(nestedSource.fields, {
      id: `n${String(i).padStart(3, '0')}`,
      eventTime: new Date(DAY0 + i * HOUR_MS),
      kind: i % 3 ? 'a' : 'b',
      outer:
        i % 5 === 0
          ? null
          : { tag: `t${i % 4}`, inner: i % 2 ? null : { leaf: i % 4 ? 'x' : null, at: new Date(DAY0 + i) } },
    }),
  );
  const withJson = records.map((r, i) => ({
    ...r,
    detail: i % 3 ? `{"n":${i},"s":"a\\"b","l":[true,null]}` : null,
  }));
  const q = (instance: string, patch: Partial<EventQuery> = {}): EventQuery => ({
    source: nestedSource,
    instance,
    start: DAY0,
    end: DAY0 + 2 * DAY_MS,
    limit: 100,
    ...patch,
  });

  beforeAll(async () => {
    local = mkdtempSync(path.join(tmpdir(), 'engines-nested-'));
    for (const [instance, rs] of [
      ['sys-1', records],
      ['sys-json', withJson],
    ] as const) {
      const client = new FakeSource();
      client.add(instance, rs);
      await ingestInstance({
        source: nestedSource,
        instance,
        store: new LocalStore(local),
        client,
        from: DAY0,
        to: DAY0 + 2 * DAY_MS,
        now: () => END,
      });
    }
    emu = await athenaOnDuckDb(local, DATABASE);
    engines = [
      ['DuckDB', await createDuckDbEngine(local)],
      [
        'Athena',
        createAthenaEngine({
          client: emu.client,
          workGroup: 'wg',
          database: DATABASE,
          sleep: async () => {},
        }),
      ],
    ];
  });

  afterAll(async () => {
    for (const [, engine] of engines ?? []) await engine.close();
    await emu?.close();
    rmSync(local, { recursive: true, force: true });
  });

  it('round-trips nested structs and nested timestamps through both engines without engine changes', async () => {
    const want = records.filter((r) => valueAt(r, 'outer.inner.leaf') === 'x');
    expect(want.length).toBeGreaterThan(0);
    for (const [name, engine] of engines) {
      expect(
        (await engine.listEvents(q('sys-1', { equals: { 'outer.inner.leaf': 'x' } }))).records,
        name,
      ).toStrictEqual(want);
      expect((await engine.listEvents(q('sys-1'))).records, name).toStrictEqual(records);
    }
  });

  // Known ingest bug, not an engine one: parquet.ts declares `json` fields as Parquet JSON and
  // hyparquet-writer JSON-stringifies each value, so the file holds the text as a JSON string
  // literal ("{\"n\":1}"); hyparquet reads it back unwrapped, DuckDB and Athena cannot. Turn this
  // into `it` once the ingest writes JSON text once (e.g. the column as plain UTF8).
  it('returns JSON fields as the JSON text the source sent', async () => {
    for (const [name, engine] of engines)
      expect((await engine.listEvents(q('sys-json'))).records, name).toStrictEqual(withJson);
  });
});
