import { describe, expect, it } from 'vitest';
import { type FieldSpec, normaliseRecord } from '../../../lambdas/core/records';
import {
  athenaCells,
  duckDbCells,
  parseAthenaTimestamp,
  RowShapeError,
  recordsFromRows,
} from '../../../lambdas/query/records-from-rows';
import { outputColumns } from '../../../lambdas/query/sql';

const FIELDS: FieldSpec[] = [
  { name: 'id', type: 'string', required: true },
  { name: 'at', type: 'timestamp' },
  { name: 'doc', type: 'json' },
  {
    name: 's',
    type: 'struct',
    fields: [
      { name: 'a', type: 'string' },
      { name: 'inner', type: 'struct', fields: [{ name: 'b', type: 'timestamp' }] },
    ],
  },
];

describe('parseAthenaTimestamp', () => {
  it.each([
    ['2024-05-01T12:34:56.789', '2024-05-01T12:34:56.789Z'],
    ['2024-05-01T12:34:56.789Z', '2024-05-01T12:34:56.789Z'],
    ['2024-05-01 12:34:56.789', '2024-05-01T12:34:56.789Z'],
    ['2024-05-01 12:34:56.789 UTC', '2024-05-01T12:34:56.789Z'],
    ['2024-05-01T12:34:56', '2024-05-01T12:34:56.000Z'],
    ['2024-05-01T12:34:56.7', '2024-05-01T12:34:56.700Z'],
    ['2024-05-01T12:34:56.789123', '2024-05-01T12:34:56.789Z'],
    ['2024-05-01T14:34:56.789+02:00', '2024-05-01T12:34:56.789Z'],
    ['2024-05-01T10:04:56.789-0230', '2024-05-01T12:34:56.789Z'],
  ])('reads %s as %s', (text, iso) => {
    expect(parseAthenaTimestamp(text).toISOString()).toBe(iso);
  });

  it.each(['', 'yesterday', '2024-05-01', '{ts=1}'])('rejects %j', (text) => {
    expect(() => parseAthenaTimestamp(text)).toThrow(RowShapeError);
  });
});

describe('recordsFromRows', () => {
  const columns = outputColumns(FIELDS);

  it('lays out leaves in declared order with a null flag before each struct', () => {
    expect(columns.map((c) => c.alias)).toEqual([
      'id',
      'at',
      'doc',
      's.$null',
      's.a',
      's.inner.$null',
      's.inner.b',
    ]);
  });

  it('rebuilds records exactly as normaliseRecord shapes them, from Athena strings', () => {
    const rows = [
      ['1', '2024-05-01T00:00:00.001', '{"a":1}', 'false', 'x', 'false', '2024-05-01T00:00:00.002'],
      ['2', undefined, undefined, 'true', undefined, 'true', undefined],
      ['3', undefined, undefined, 'false', undefined, 'true', undefined],
      ['4', undefined, undefined, 'false', '', 'false', undefined],
    ];
    expect(recordsFromRows(FIELDS, columns, rows, athenaCells)).toStrictEqual([
      normaliseRecord(FIELDS, {
        id: '1',
        at: Date.UTC(2024, 4, 1, 0, 0, 0, 1),
        doc: '{"a":1}',
        s: { a: 'x', inner: { b: Date.UTC(2024, 4, 1, 0, 0, 0, 2) } },
      }),
      normaliseRecord(FIELDS, { id: '2' }),
      normaliseRecord(FIELDS, { id: '3', s: {} }),
      normaliseRecord(FIELDS, { id: '4', s: { a: '', inner: {} } }),
    ]);
  });

  it('rebuilds the same records from DuckDB values', () => {
    const at = new Date(Date.UTC(2024, 4, 1));
    const rows = [['1', at, '[1]', false, 'x', true, null]];
    expect(recordsFromRows(FIELDS, columns, rows, duckDbCells)).toStrictEqual([
      normaliseRecord(FIELDS, { id: '1', at, doc: '[1]', s: { a: 'x', inner: null } }),
    ]);
  });

  it('throws on a row that does not match the projection', () => {
    expect(() => recordsFromRows(FIELDS, columns, [['1']], athenaCells)).toThrow(RowShapeError);
    expect(() =>
      recordsFromRows(FIELDS, columns, [['1', 'x', null, false, null, false, null]], duckDbCells),
    ).toThrow(RowShapeError);
  });
});
