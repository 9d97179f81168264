/**
 * Rebuilds archive records from the flattened rows both engines return (see `outputColumns` in
 * sql.ts): one leaf column per struct member and a null flag per struct. The engines differ only
 * in how a cell is decoded (DuckDB gives typed values, Athena gives strings), so this file holds
 * the one reconstruction and the two cell decoders.
 */
import type { ArchiveRecord, FieldSpec } from '../core/records';
import type { OutputColumn } from './sql';

/** Decodes one cell of a leaf column or a struct's null flag. */
export interface CellDecoder {
  leaf(column: Extract<OutputColumn, { kind: 'leaf' }>, cell: unknown): unknown;
  /** True when the struct is null. */
  structIsNull(cell: unknown): boolean;
}

/** Thrown when an engine returned something the projection did not ask for: a bug, never input. */
export class RowShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RowShapeError';
  }
}

/**
 * One record per row, shaped exactly as `normaliseRecord` shapes it: every declared field in
 * declared order, `null` for absent values and null structs, timestamps as `Date`.
 */
export function recordsFromRows(
  fields: readonly FieldSpec[],
  columns: readonly OutputColumn[],
  rows: readonly (readonly unknown[])[],
  decoder: CellDecoder,
): ArchiveRecord[] {
  return rows.map((row) => {
    if (row.length !== columns.length)
      throw new RowShapeError(`expected ${columns.length} columns, got ${row.length}`);
    let i = 0;
    const build = (specs: readonly FieldSpec[]): ArchiveRecord => {
      const out: ArchiveRecord = {};
      for (const field of specs) {
        const column = columns[i]!;
        const cell = row[i++];
        if (field.type === 'struct') {
          if (column.kind !== 'struct-null') throw new RowShapeError(`column ${i - 1} is not a struct flag`);
          const isNull = decoder.structIsNull(cell);
          const value = build(field.fields);
          out[field.name] = isNull ? null : value;
        } else {
          if (column.kind !== 'leaf') throw new RowShapeError(`column ${i - 1} is not a leaf`);
          out[field.name] = decoder.leaf(column, cell);
        }
      }
      return out;
    };
    return build(fields);
  });
}

/** DuckDB cells: strings, booleans, `Date` for TIMESTAMPTZ (from `getRowsJS`), null. */
export const duckDbCells: CellDecoder = {
  leaf(column, cell) {
    if (cell === null || cell === undefined) return null;
    if (column.type === 'timestamp') {
      if (cell instanceof Date) return cell;
      throw new RowShapeError(`column ${column.alias} is not a timestamp`);
    }
    return typeof cell === 'string' ? cell : String(cell);
  },
  structIsNull: (cell) => cell === true,
};

const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:\s*(Z|UTC|[+-]\d{2}:?\d{2}))?$/;

/**
 * Parses the text Athena prints for a timestamp: `to_iso8601` of a `timestamp(3)` column gives
 * `2024-05-01T12:34:56.789` (UTC by the table's contract); a zone (`Z`, `UTC`, `+02:00`) is honoured
 * when present. Fractions beyond milliseconds are cut, as the archive stores milliseconds.
 */
export function parseAthenaTimestamp(text: string): Date {
  const m = ISO_TIME.exec(text);
  if (!m) throw new RowShapeError(`not a timestamp: ${JSON.stringify(text.slice(0, 40))}`);
  const [, y, mo, d, h, mi, s, frac = '', zone = 'Z'] = m;
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  if (zone !== 'Z' && zone !== 'UTC') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    t -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  if (!Number.isFinite(t)) throw new RowShapeError(`not a timestamp: ${JSON.stringify(text.slice(0, 40))}`);
  return new Date(t);
}

/** Athena cells: `VarCharValue` text, or `undefined` for NULL (a Datum without a value). */
export const athenaCells: CellDecoder = {
  leaf(column, cell) {
    if (cell === null || cell === undefined) return null;
    const text = String(cell);
    return column.type === 'timestamp' ? parseAthenaTimestamp(text) : text;
  },
  structIsNull: (cell) => cell === 'true',
};
