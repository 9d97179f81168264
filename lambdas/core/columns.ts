/**
 * Records in columns: the form a day takes on its way to the Parquet encoder, and across threads.
 *
 * Why: handing a day of records to the encoder's worker thread cloned every record object with its
 * keys, its nested structs and a `Date` per timestamp, and the worker then rebuilt them all: ~7.6 µs
 * per event of both threads' CPU, more than parsing the pages. Columns are one array per field: the V8
 * serializer writes an array of strings, a `Float64Array` of epoch milliseconds and a byte mask per
 * struct in ~3 µs per event both ways (bench/), the worker allocates no record objects and so
 * collects less garbage, and the encoder needs columns anyway.
 *
 * String columns go further. Narrow ones with few distinct values (event names, user names, project
 * ids) cross as a dictionary and an index per row: the clone writes each distinct string once, and the
 * encoder's own dictionary then finds the same few string objects again instead of hashing a fresh
 * copy per row (that hashing was the worker's largest cost after compression). Wide ones (ids,
 * payloads: most of an event's bytes), when ASCII (as these nearly always are), cross as their bytes,
 * one buffer per column, which is a copy of bytes instead of a string object per value on both
 * sides, and the encoder writes those bytes as they are instead of encoding each string again.
 */
import type { ArchiveRecord, FieldSpec } from './records';

/** A string field as UTF-8 (ASCII): row i is `utf8[offsets[i], offsets[i + 1])`, or null where `present[i]` is 0. */
export interface Utf8Column {
  readonly utf8: Uint8Array;
  readonly offsets: Int32Array;
  readonly present: Uint8Array;
}

/** A string field of few distinct values: row i is `dictionary[indexes[i]]`, or null where it is -1. */
export interface DictionaryColumn {
  readonly dictionary: readonly string[];
  readonly indexes: Int32Array;
}

/** A struct field: whether each row has it, and its fields' columns. */
export interface StructColumn {
  readonly present: Uint8Array;
  readonly children: readonly Column[];
}

/**
 * One field's values: strings (and `json` text) or null, wide ones as {@link Utf8Column}; timestamps as
 * epoch ms, NaN for null; structs as {@link StructColumn}.
 */
export type Column = readonly (string | null)[] | Float64Array | StructColumn | Utf8Column | DictionaryColumn;

/** String columns whose values average at least this many characters travel as UTF-8 bytes. */
const WIDE_STRING_CHARS = 32;
/** Narrow string columns with at most one distinct value in this many rows travel as a dictionary. */
const DICTIONARY_ROWS_PER_VALUE = 4;

export interface ColumnsOptions {
  /** Top-level fields whose strings (a struct's too) stay JS strings whatever their width. */
  keepStrings?: readonly string[];
}

/** Records as columns, one per top-level field in declared order. */
export interface RecordColumns {
  readonly length: number;
  readonly columns: readonly Column[];
}

/**
 * The values as one UTF-8 buffer, or `undefined` when any is not ASCII. One native encode of the
 * joined text: encoding value by value crosses into C++ per value and cost more than it saved. With
 * ASCII only, character offsets are byte offsets; other text stays strings (correct, just slower).
 */
function asciiColumn(values: readonly (string | null)[]): Utf8Column | undefined {
  const n = values.length;
  const offsets = new Int32Array(n + 1);
  const present = new Uint8Array(n);
  let end = 0;
  for (let i = 0; i < n; i++) {
    const value = values[i];
    if (value !== null && value !== undefined) {
      present[i] = 1;
      end += value.length;
    }
    offsets[i + 1] = end;
  }
  // join() writes null as ''.
  const bytes = Buffer.from(values.join(''), 'utf8');
  if (bytes.byteLength !== end) return undefined;
  // The clone copies a view's whole buffer: a small Buffer is a slice of a shared pool.
  const utf8 =
    bytes.byteOffset === 0 && bytes.buffer.byteLength === end
      ? new Uint8Array(bytes.buffer, 0, end)
      : new Uint8Array(bytes);
  return { utf8, offsets, present };
}

/** The values as a dictionary, or `undefined` when they have too many distinct values for one. */
function dictionaryColumn(values: readonly (string | null)[]): DictionaryColumn | undefined {
  const n = values.length;
  const limit = Math.ceil(n / DICTIONARY_ROWS_PER_VALUE);
  const dictionary: string[] = [];
  const indexOf = new Map<string, number>();
  const indexes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const value = values[i];
    if (value === null || value === undefined) {
      indexes[i] = -1;
      continue;
    }
    let index = indexOf.get(value);
    if (index === undefined) {
      if (dictionary.length >= limit) return undefined;
      index = dictionary.length;
      dictionary.push(value);
      indexOf.set(value, index);
    }
    indexes[i] = index;
  }
  return { dictionary, indexes };
}

/**
 * The values of each field of the rows (null for a null row or a missing field), one array per field.
 * Rows are read by `for…in`, which V8 runs on the objects' enumeration cache: records as
 * `normaliseRecord` and the page reader make them have exactly the declared fields in declared order.
 * A row of any other shape is read field by field (correct, slower); reading every row field by
 * field, with a different field name at each turn, cost ~1.5 µs/event more.
 */
function fieldValues(fields: readonly FieldSpec[], rows: readonly unknown[]): unknown[][] {
  const n = rows.length;
  const names = fields.map((f) => f.name);
  const m = names.length;
  const out = names.map(() => new Array<unknown>(n));
  for (let i = 0; i < n; i++) {
    const row = rows[i] as Record<string, unknown> | null | undefined;
    let j = 0;
    if (row !== null && row !== undefined) {
      for (const key in row) {
        if (j === m || key !== names[j]) {
          j = -1;
          break;
        }
        out[j]![i] = row[key];
        j++;
      }
    }
    if (j === m) continue;
    for (let k = 0; k < m; k++) out[k]![i] = row?.[names[k]!];
  }
  return out;
}

function columnOf(field: FieldSpec, values: readonly unknown[], keepStrings: boolean): Column {
  const n = values.length;
  switch (field.type) {
    case 'timestamp': {
      const times = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const value = values[i] as Date | null | undefined;
        times[i] = value ? value.getTime() : Number.NaN;
      }
      return times;
    }
    case 'struct': {
      const present = new Uint8Array(n);
      for (let i = 0; i < n; i++) present[i] = values[i] ? 1 : 0;
      const inner = fieldValues(field.fields, values);
      return {
        present,
        children: field.fields.map((child, j) => columnOf(child, inner[j]!, keepStrings)),
      };
    }
    default: {
      const strings = values as (string | null | undefined)[];
      let chars = 0;
      for (let i = 0; i < n; i++) {
        const value = strings[i];
        if (value === undefined) strings[i] = null;
        else if (value !== null) chars += value.length;
      }
      const column = strings as (string | null)[];
      if (keepStrings || n === 0) return column;
      if (chars < WIDE_STRING_CHARS * n) return dictionaryColumn(column) ?? column;
      return asciiColumn(column) ?? column;
    }
  }
}

/** Normalised records (as `normaliseRecord` makes them) as columns. */
export function columnsOf(
  fields: readonly FieldSpec[],
  records: readonly ArchiveRecord[],
  options: ColumnsOptions = {},
): RecordColumns {
  const keep = new Set(options.keepStrings ?? []);
  const values = fieldValues(fields, records);
  return {
    length: records.length,
    columns: fields.map((field, j) => columnOf(field, values[j]!, keep.has(field.name))),
  };
}

/** The column of a top-level field. */
export function columnNamed(
  fields: readonly FieldSpec[],
  columns: RecordColumns,
  name: string,
): Column | undefined {
  const i = fields.findIndex((f) => f.name === name);
  return i < 0 ? undefined : columns.columns[i];
}

/**
 * Rows held in chunks (a day as the pages it was fetched in, after the archived day's own rows), read
 * in `order`: global row indices, counted chunk after chunk. Without `order`, chunk after chunk.
 *
 * Why: a day's events arrive a page at a time over seconds. Held as record objects until the day
 * commits, they outlived V8's young generation and were copied into the old one (GC time), took
 * ~1.3 KB of heap each, and were turned into columns in one long pause of the event loop at the
 * commit. As a chunk of columns per page, each page's records die young, the bytes of wide strings
 * live off the heap, and the commit only computes the order.
 */
export interface ChunkedRows {
  readonly chunks: readonly RecordColumns[];
  readonly order?: Int32Array;
}

/** How many rows `rows` yields: its order's length, else every row of every chunk. */
export function rowCount(rows: ChunkedRows): number {
  return rows.order ? rows.order.length : rows.chunks.reduce((n, c) => n + c.length, 0);
}

/** Values of one chunk after another into one array, then read in `order` when there is one. */
function gather<T, A extends { length: number; [i: number]: T }>(
  rows: ChunkedRows,
  part: (chunk: RecordColumns) => ArrayLike<T>,
  make: (length: number) => A,
): A {
  const total = rows.chunks.reduce((n, c) => n + c.length, 0);
  const all = make(total);
  let k = 0;
  for (const chunk of rows.chunks) {
    const values = part(chunk);
    for (let i = 0; i < chunk.length; i++) all[k++] = values[i]!;
  }
  const order = rows.order;
  if (!order) return all;
  const out = make(order.length);
  for (let i = 0; i < order.length; i++) out[i] = all[order[i]!]!;
  return out;
}

/** The writer values ({@link writerValues}) of top-level field `index` over the rows, in their order. */
export function gatheredWriterValues(field: FieldSpec, index: number, rows: ChunkedRows): unknown[] {
  const only = rows.chunks.length === 1 && !rows.order ? rows.chunks[0] : undefined;
  if (only) return writerValues(field, only.columns[index]!, only.length);
  return gather<unknown, unknown[]>(
    rows,
    (chunk) => writerValues(field, chunk.columns[index]!, chunk.length),
    (n) => new Array<unknown>(n),
  );
}

/** A timestamp field's epoch ms over the rows, in their order. */
export function gatheredTimes(fields: readonly FieldSpec[], name: string, rows: ChunkedRows): Float64Array {
  const index = fields.findIndex((f) => f.name === name);
  return gather(
    rows,
    (chunk) => {
      const column = chunk.columns[index];
      if (!(column instanceof Float64Array)) throw new Error(`field ${name} is not a timestamp column`);
      return column;
    },
    (n) => new Float64Array(n),
  );
}

/** The values of a top-level string column as strings (UTF-8 columns are ASCII: decoded as such). */
function stringsOf(name: string, column: Column | undefined, length: number): readonly (string | null)[] {
  if (Array.isArray(column)) return column as readonly (string | null)[];
  if (column && isUtf8(column)) {
    const { utf8, offsets, present } = column;
    const bytes = Buffer.from(utf8.buffer, utf8.byteOffset, utf8.byteLength);
    const out = new Array<string | null>(length);
    for (let i = 0; i < length; i++)
      out[i] = present[i] ? bytes.toString('latin1', offsets[i]!, offsets[i + 1]!) : null;
    return out;
  }
  if (column && isDictionary(column)) {
    const { dictionary, indexes } = column;
    const out = new Array<string | null>(length);
    for (let i = 0; i < length; i++) out[i] = indexes[i]! < 0 ? null : dictionary[indexes[i]!]!;
    return out;
  }
  throw new Error(`field ${name} is not a column of strings`);
}

/** A string field over the rows, in their order, as strings whatever form its chunks carry it in. */
export function gatheredStrings(
  fields: readonly FieldSpec[],
  name: string,
  rows: ChunkedRows,
): (string | null)[] {
  const index = fields.findIndex((f) => f.name === name);
  return gather<string | null, (string | null)[]>(
    rows,
    (chunk) => stringsOf(name, chunk.columns[index], chunk.length),
    (n) => new Array<string | null>(n),
  );
}

function isStruct(column: Column): column is StructColumn {
  return 'children' in column;
}

function isUtf8(column: Column): column is Utf8Column {
  return 'utf8' in column;
}

function isDictionary(column: Column): column is DictionaryColumn {
  return 'dictionary' in column;
}

/**
 * A column as the values hyparquet-writer takes for its field: strings as they are, timestamps as
 * epoch-ms numbers (null for none), structs as one plain object per present row.
 */
export function writerValues(field: FieldSpec, column: Column, length: number): unknown[] {
  if (column instanceof Float64Array) {
    const out = new Array<number | null>(length);
    for (let i = 0; i < length; i++) {
      const t = column[i]!;
      out[i] = Number.isNaN(t) ? null : t;
    }
    return out;
  }
  if (Array.isArray(column)) return column as (string | null)[];
  if (isUtf8(column)) {
    // Views of the column's bytes: hyparquet-writer writes UTF8 values given as bytes as they are.
    const out = new Array<Uint8Array | null>(length);
    const { utf8, offsets, present } = column;
    for (let i = 0; i < length; i++) out[i] = present[i] ? utf8.subarray(offsets[i]!, offsets[i + 1]!) : null;
    return out;
  }
  if (isDictionary(column)) {
    const out = new Array<string | null>(length);
    const { dictionary, indexes } = column;
    for (let i = 0; i < length; i++) {
      const index = indexes[i]!;
      out[i] = index < 0 ? null : dictionary[index]!;
    }
    return out;
  }
  if (!isStruct(column)) throw new Error(`column ${field.name}: not a column`);
  if (field.type !== 'struct')
    throw new Error(`column ${field.name}: a struct column for a ${field.type} field`);
  const children = field.fields.map((child, j) => writerValues(child, column.children[j]!, length));
  const out = new Array<Record<string, unknown> | null>(length);
  for (let i = 0; i < length; i++) {
    if (column.present[i] === 0) {
      out[i] = null;
      continue;
    }
    const row: Record<string, unknown> = {};
    for (let j = 0; j < field.fields.length; j++) row[field.fields[j]!.name] = children[j]![i];
    out[i] = row;
  }
  return out;
}
