/**
 * Records: the one in-memory shape of an archived event. A source declares its fields once; the
 * Parquet schema, normalisation, canonical JSON (for content hashes) and column data all derive
 * from that declaration, so a new source adds no code here.
 */
import type { SchemaElement } from 'hyparquet';

export type FieldSpec =
  | { name: string; type: 'string' | 'timestamp' | 'json'; required?: boolean }
  | { name: string; type: 'struct'; fields: FieldSpec[]; required?: boolean };

/** An archived event: every declared field present, `null` where the source had nothing. */
export type ArchiveRecord = Record<string, unknown>;

/** Parquet schema: strings as UTF8, timestamps as INT64 millis adjusted to UTC, structs as groups. */
export function parquetSchemaOf(fields: readonly FieldSpec[]): SchemaElement[] {
  const out: SchemaElement[] = [{ name: 'root', num_children: fields.length }];
  const add = (field: FieldSpec): void => {
    const repetition_type = field.required ? 'REQUIRED' : 'OPTIONAL';
    switch (field.type) {
      case 'struct':
        out.push({ name: field.name, repetition_type, num_children: field.fields.length });
        for (const child of field.fields) add(child);
        return;
      case 'timestamp':
        out.push({
          name: field.name,
          type: 'INT64',
          repetition_type,
          logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
        });
        return;
      case 'json':
        // Plain UTF8 holding the JSON text: with the JSON annotation hyparquet-writer would
        // stringify the text a second time, and DuckDB and Athena would read a JSON string.
        out.push({ name: field.name, type: 'BYTE_ARRAY', repetition_type, converted_type: 'UTF8' });
        return;
      default:
        out.push({ name: field.name, type: 'BYTE_ARRAY', repetition_type, converted_type: 'UTF8' });
    }
  };
  for (const field of fields) add(field);
  return out;
}

function normaliseValue(field: FieldSpec, value: unknown): unknown {
  if (value === undefined || value === null) return null;
  switch (field.type) {
    case 'struct': {
      if (typeof value !== 'object') return null;
      return normaliseRecord(field.fields, value as Record<string, unknown>);
    }
    case 'timestamp': {
      const ms =
        value instanceof Date
          ? value.getTime()
          : typeof value === 'number'
            ? value
            : typeof value === 'bigint'
              ? Number(value)
              : Date.parse(String(value));
      return Number.isFinite(ms) ? new Date(ms) : null;
    }
    case 'json':
      // Kept as the JSON text the source sent, so nothing about it is lost or reordered.
      return typeof value === 'string' ? value : JSON.stringify(value);
    default:
      return typeof value === 'string' ? value : String(value);
  }
}

/** Every declared field present, nulls for absent values, timestamps as `Date`, unknown keys dropped. */
export function normaliseRecord(fields: readonly FieldSpec[], raw: Record<string, unknown>): ArchiveRecord {
  const out: ArchiveRecord = {};
  for (const field of fields) out[field.name] = normaliseValue(field, raw[field.name]);
  return out;
}

/**
 * A stable JSON text of a normalised record (fields in declared order, timestamps as ISO 8601):
 * the input of content hashes and the way tests compare records.
 */
export function canonicalJson(fields: readonly FieldSpec[], record: ArchiveRecord): string {
  const walk = (specs: readonly FieldSpec[], rec: Record<string, unknown>): unknown[] =>
    specs.map((field) => {
      const value = rec[field.name];
      if (value === null || value === undefined) return null;
      if (field.type === 'struct') return walk(field.fields, value as Record<string, unknown>);
      if (field.type === 'timestamp') return (value as Date).toISOString();
      return value;
    });
  return JSON.stringify(walk(fields, record));
}

/**
 * The wire form of a record, as the source API returns it: absent values omitted and timestamps
 * rendered by `timestamp` (RFC 3339 for CodeCatalyst, epoch seconds for Resilience Hub).
 */
export function toWire(
  fields: readonly FieldSpec[],
  record: ArchiveRecord,
  timestamp: (d: Date) => unknown = (d) => d.toISOString(),
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const value = record[field.name];
    if (value === null || value === undefined) continue;
    if (field.type === 'struct') out[field.name] = toWire(field.fields, value as ArchiveRecord, timestamp);
    else if (field.type === 'timestamp') out[field.name] = timestamp(value as Date);
    else if (field.type === 'json') out[field.name] = JSON.parse(value as string);
    else out[field.name] = value;
  }
  return out;
}

/**
 * The wire form of a record as JSON text, like `JSON.stringify(toWire(…))` except that `json` fields
 * are spliced in as the exact text that was archived (never parsed and re-serialised), so integers
 * beyond 2^53, `1.0`, key order and duplicate keys reach the caller as the source sent them.
 * `timestamp` renders a time as JSON text (e.g. {@link epochSecondsJson}).
 *
 * @throws Error when an archived `json` value is not valid JSON text (the archive is damaged).
 */
export function toWireJson(
  fields: readonly FieldSpec[],
  record: ArchiveRecord,
  timestamp: (d: Date) => string = (d) => JSON.stringify(d.toISOString()),
): string {
  const parts: string[] = [];
  for (const field of fields) {
    const value = record[field.name];
    if (value === null || value === undefined) continue;
    let text: string;
    if (field.type === 'struct') text = toWireJson(field.fields, value as ArchiveRecord, timestamp);
    else if (field.type === 'timestamp') text = timestamp(value as Date);
    else if (field.type === 'json') text = rawJsonText(value, field.name);
    else text = JSON.stringify(value);
    parts.push(`${JSON.stringify(field.name)}:${text}`);
  }
  return `{${parts.join(',')}}`;
}

/** A `json` field's archived text, checked to be one JSON value and trimmed. */
function rawJsonText(value: unknown, name: string): string {
  if (typeof value !== 'string') return JSON.stringify(value);
  try {
    JSON.parse(value);
  } catch {
    throw new Error(`archived field ${name} is not valid JSON text`);
  }
  return value.trim();
}

/**
 * Epoch seconds as JSON number text with the milliseconds as an exact decimal fraction
 * (`1763640000.123`, `1763640000.5`, `1763640000`), written from the integer milliseconds so no
 * floating-point rounding can creep in.
 */
export function epochSecondsJson(d: Date): string {
  const ms = d.getTime();
  const negative = ms < 0;
  const abs = Math.abs(ms);
  const seconds = Math.floor(abs / 1000);
  const fraction = String(abs % 1000)
    .padStart(3, '0')
    .replace(/0+$/, '');
  return `${negative ? '-' : ''}${seconds}${fraction ? `.${fraction}` : ''}`;
}

/**
 * Archive order: event time, then id (in place). Day objects are written in it and the query API
 * pages in it.
 */
export function sortRecords(
  source: { readonly timeField: string; readonly idField: string },
  records: ArchiveRecord[],
): ArchiveRecord[] {
  return records.sort((a, b) => {
    const ta = (a[source.timeField] as Date).getTime();
    const tb = (b[source.timeField] as Date).getTime();
    if (ta !== tb) return ta - tb;
    const ia = String(a[source.idField]);
    const ib = String(b[source.idField]);
    return ia < ib ? -1 : ia > ib ? 1 : 0;
  });
}
