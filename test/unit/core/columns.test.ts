import { deserialize, serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import {
  type Column,
  columnsOf,
  gatheredStrings,
  gatheredTimes,
  gatheredWriterValues,
  type Utf8Column,
  writerValues,
} from '../../../lambdas/core/columns';
import { decodeParquet, encodeParquet, encodeParquetColumns } from '../../../lambdas/core/parquet';
import { canonicalJson, type FieldSpec, normaliseRecord, sortRecords } from '../../../lambdas/core/records';
import { CODECATALYST_FIELDS } from '../../../lambdas/core/sources/codecatalyst/schema';
import { RESILIENCEHUB_FIELDS } from '../../../lambdas/core/sources/resiliencehub/schema';
import { record } from '../ingest/fake-source';

const T0 = Date.UTC(2026, 10, 22);
const wide = (i: number): string => `{"request":${i},"padding":"${'x'.repeat(40)}"}`;
const records = [
  record('a', T0, { requestPayload: { contentType: 'application/json', data: wide(1) } }),
  record('b', T0 + 1, { userIdentity: null, projectInformation: { name: 'p', projectId: null } }),
  record('c', T0 + 2, {
    userIdentity: { userType: null, principalId: null, userName: null, awsAccountId: null },
    responsePayload: { contentType: 'application/json', data: wide(2) },
    errorCode: 'AccessDenied',
  }),
  record('d', T0 + 3, { requestPayload: null }),
]
  // Request ids as wide as the service's (UUIDs): a column that travels as bytes.
  .map((r) => ({ ...r, requestId: `${String(r.id).repeat(8)}-4f7e-9c1d-a3b5-${String(r.id).repeat(12)}` }))
  .map((r) => normaliseRecord(CODECATALYST_FIELDS, r));

const bytes = (column: Column | undefined): Utf8Column => {
  if (!column || !('utf8' in column)) throw new Error('not a UTF-8 column');
  return column;
};
const fieldNamed = (name: string): FieldSpec => CODECATALYST_FIELDS.find((f) => f.name === name)!;
const columnNamed = (columns: ReturnType<typeof columnsOf>, name: string): Column =>
  columns.columns[CODECATALYST_FIELDS.findIndex((f) => f.name === name)]!;

describe('columnsOf / writerValues', () => {
  it('give back every value of every field, nulls of fields and of whole structs apart', () => {
    const columns = columnsOf(CODECATALYST_FIELDS, records);
    expect(columns.length).toBe(4);
    for (const [i, field] of CODECATALYST_FIELDS.entries()) {
      const values = writerValues(field, columns.columns[i]!, columns.length);
      const decoded = values.map((v) => (v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v));
      const expected = records.map((r) => {
        const value = r[field.name];
        return value instanceof Date ? value.getTime() : value;
      });
      expect(JSON.parse(JSON.stringify(decoded)), field.name).toEqual(JSON.parse(JSON.stringify(expected)));
    }
  });

  it('carries wide ASCII columns as bytes, narrow repetitive ones as a dictionary, the rest as strings', () => {
    const columns = columnsOf(CODECATALYST_FIELDS, records, { keepStrings: ['id'] });
    expect(Array.isArray(columnNamed(columns, 'id'))).toBe(true);
    // One value in four rows: a dictionary, null as -1.
    expect(columnNamed(columns, 'eventName')).toEqual({
      dictionary: ['createProject'],
      indexes: Int32Array.from([0, 0, 0, 0]),
    });
    expect(columnNamed(columns, 'errorCode')).toEqual({
      dictionary: ['AccessDenied'],
      indexes: Int32Array.from([-1, -1, 0, -1]),
    });
    // Narrow but as many distinct values as rows: plain strings.
    const distinct = columnsOf(
      CODECATALYST_FIELDS,
      records.map((r, i) => ({ ...r, eventName: `event-${i}` })),
    );
    expect(columnNamed(distinct, 'eventName')).toEqual(['event-0', 'event-1', 'event-2', 'event-3']);
    const requestId = bytes(columnNamed(columns, 'requestId'));
    expect([...requestId.present]).toEqual([1, 1, 1, 1]);
    expect(requestId.offsets[4]).toBe(requestId.utf8.byteLength);
    // Only the exact bytes cross: no pool or spare capacity under the view.
    expect(requestId.utf8.buffer.byteLength).toBe(requestId.utf8.byteLength);
    const payload = columnNamed(columns, 'requestPayload');
    if (!('children' in payload)) throw new Error('not a struct column');
    expect([...payload.present]).toEqual([1, 1, 1, 0]);

    const unicode = records.map((r, i) => ({ ...r, requestId: `${'é'.repeat(40)}-${i}` }));
    const kept = columnNamed(columnsOf(CODECATALYST_FIELDS, unicode), 'requestId');
    expect(kept).toEqual(unicode.map((r) => r.requestId));
    expect(writerValues(fieldNamed('requestId'), kept, 4)).toEqual(unicode.map((r) => r.requestId));
  });

  it('read rows of any shape: fields out of order, missing or extra, and null rows of a struct', () => {
    const shuffled = records.map((r, i) => {
      const entries = Object.entries(r);
      if (i === 1) entries.reverse();
      if (i === 2) entries.push(['unknownField', 'x']);
      if (i === 3) entries.splice(1, 1); // no eventName at all
      return Object.fromEntries(entries);
    });
    const columns = columnsOf(CODECATALYST_FIELDS, shuffled);
    for (const [i, field] of CODECATALYST_FIELDS.entries()) {
      const values = writerValues(field, columns.columns[i]!, columns.length);
      const decoded = values.map((v) => (v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v));
      const expected = shuffled.map((r) => {
        const value = r[field.name] ?? null;
        return value instanceof Date ? value.getTime() : value;
      });
      expect(JSON.parse(JSON.stringify(decoded)), field.name).toEqual(JSON.parse(JSON.stringify(expected)));
    }
  });

  it('survive the structured clone to a worker, and encode to the file the records encode to', async () => {
    const columns = deserialize(serialize(columnsOf(CODECATALYST_FIELDS, records)));
    const file = encodeParquetColumns(CODECATALYST_FIELDS, columns);
    // The same bytes as every value given as a string.
    const asStrings = columnsOf(CODECATALYST_FIELDS, records, {
      keepStrings: CODECATALYST_FIELDS.map((f) => f.name),
    });
    expect(asStrings.columns.some((c) => 'utf8' in c)).toBe(false);
    expect(Buffer.from(file).equals(Buffer.from(encodeParquetColumns(CODECATALYST_FIELDS, asStrings)))).toBe(
      true,
    );
    const back = await decodeParquet(CODECATALYST_FIELDS, file);
    expect(back.map((r) => canonicalJson(CODECATALYST_FIELDS, r))).toEqual(
      records.map((r) => canonicalJson(CODECATALYST_FIELDS, r)),
    );
  });

  it('round-trip a source with json fields, and no records at all', async () => {
    const rh = [
      normaliseRecord(RESILIENCEHUB_FIELDS, {
        eventId: 'e-1',
        timestamp: new Date(T0),
        eventDetails: { title: 't', eventMetadata: `{"n":12345678901234567890,"text":"${'ü'.repeat(50)}"}` },
      }),
      normaliseRecord(RESILIENCEHUB_FIELDS, {
        eventId: 'e-2',
        timestamp: new Date(T0 + 1),
        eventDetails: { eventMetadata: `{"ascii":"${'a'.repeat(60)}"}` },
      }),
    ];
    const back = await decodeParquet(RESILIENCEHUB_FIELDS, encodeParquet(RESILIENCEHUB_FIELDS, rh));
    expect(back.map((r) => canonicalJson(RESILIENCEHUB_FIELDS, r))).toEqual(
      rh.map((r) => canonicalJson(RESILIENCEHUB_FIELDS, r)),
    );
    expect(await decodeParquet(CODECATALYST_FIELDS, encodeParquet(CODECATALYST_FIELDS, []))).toEqual([]);
  });
});

describe('chunked rows (a day as the pages it was fetched in)', () => {
  // Pages of different forms: a wide column as bytes in one chunk and as strings in another, a
  // dictionary in one and plain strings in the next.
  const more = records.map((r, i) => ({
    ...r,
    id: `m${i}`,
    eventTime: new Date(T0 - 10 + i),
    eventName: `e-${i}`,
  }));
  const chunks = [
    columnsOf(CODECATALYST_FIELDS, records, { keepStrings: ['id'] }),
    columnsOf(CODECATALYST_FIELDS, more, { keepStrings: ['id', 'requestId'] }),
    columnsOf(CODECATALYST_FIELDS, records.slice(0, 1), { keepStrings: ['id'] }),
  ];
  const all = [...records, ...more, ...records.slice(0, 1)];
  // Archive order of a subset, as the commit computes it: every row but the repeated last one.
  const wanted = sortRecords({ timeField: 'eventTime', idField: 'id' }, all.slice(0, 8));
  const order = Int32Array.from(wanted, (r) => all.indexOf(r));

  it('read any field in any order across chunks of different column forms', () => {
    const rows = { chunks, order };
    for (const [i, field] of CODECATALYST_FIELDS.entries()) {
      const values = gatheredWriterValues(field, i, rows).map((v) =>
        v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v,
      );
      const expected = wanted.map((r) => {
        const value = r[field.name] ?? null;
        return value instanceof Date ? value.getTime() : value;
      });
      expect(JSON.parse(JSON.stringify(values)), field.name).toEqual(JSON.parse(JSON.stringify(expected)));
    }
    expect([...gatheredTimes(CODECATALYST_FIELDS, 'eventTime', rows)]).toEqual(
      wanted.map((r) => (r.eventTime as Date).getTime()),
    );
    expect(gatheredStrings(CODECATALYST_FIELDS, 'id', rows)).toEqual(wanted.map((r) => r.id));
    // Without an order: chunk after chunk.
    expect(gatheredStrings(CODECATALYST_FIELDS, 'id', { chunks })).toEqual(all.map((r) => r.id));
    // Whatever form a chunk carries a string field in (bytes, a dictionary, strings).
    expect(gatheredStrings(CODECATALYST_FIELDS, 'requestId', rows)).toEqual(wanted.map((r) => r.requestId));
    expect(gatheredStrings(CODECATALYST_FIELDS, 'eventName', rows)).toEqual(wanted.map((r) => r.eventName));
    expect(() => gatheredStrings(CODECATALYST_FIELDS, 'eventTime', { chunks })).toThrow(
      'field eventTime is not a column of strings',
    );
    expect(() => gatheredTimes(CODECATALYST_FIELDS, 'id', { chunks })).toThrow(
      'field id is not a timestamp column',
    );
  });

  it('encode, after the clone to a worker, to the file the sorted records encode to', () => {
    const cloned = deserialize(serialize({ chunks, order }));
    const file = encodeParquetColumns(CODECATALYST_FIELDS, cloned);
    expect(Buffer.from(file).equals(Buffer.from(encodeParquet(CODECATALYST_FIELDS, wanted)))).toBe(true);
  });
});
