/**
 * The readers of successful `ListEventLogs` bodies
 * (https://docs.aws.amazon.com/codecatalyst/latest/APIReference/API_ListEventLogs.html).
 *
 * The fast reader: the SDK's generic deserializer (`take`, `expectString`, `_json`, the RFC 3339
 * parser) and our normalisation after it cost the ingest's main thread ~8–10 µs per event (measured
 * in bench/), the largest share of its CPU after `JSON.parse` itself. This reader parses the same
 * bytes and builds the archived record directly from the field declaration.
 *
 * It only takes pages whose every value has the ordinary form (strings where strings are declared,
 * `YYYY-MM-DDTHH:MM:SS[.fff]Z` timestamps that name a real instant, objects or null for structs).
 * Anything else - a number where a string belongs, an offset timestamp, a null item, a body that is
 * not JSON - goes to {@link readEventLogPageAsSdk}, which reads it as the official client's
 * deserializer does (its coercions, warnings and errors), with the same smithy functions. Both are
 * checked against the official client by a property test (test/unit/ingest/sources/page-reader.test.ts).
 */
import {
  expectNonNull,
  expectObject,
  expectString,
  parseRfc3339DateTimeWithOffset,
} from '@smithy/core/serde';
import type { ArchiveRecord, FieldSpec } from '../../../core/records';
import { normaliseRecord } from '../../../core/records';

/** A parsed page: the archived records and the token of the next page. */
export interface FastPage {
  items: ArchiveRecord[];
  nextToken: string | undefined;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The decimal value of `length` digits of `text` from `at`, or -1 if any is not a digit. */
function digits(text: string, at: number, length: number): number {
  let value = 0;
  for (let i = at; i < at + length; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

/**
 * A UTC RFC 3339 time with at most millisecond precision (`YYYY-MM-DDTHH:MM:SS[.f{1,3}]Z`), or
 * `undefined` for any other form. Read character by character: a regular expression with capture
 * groups made seven strings per timestamp, a visible share of the page reader's CPU.
 */
export function readUtcTimestamp(text: string): Date | undefined {
  const length = text.length;
  if (length < 20 || length > 24 || text.charCodeAt(length - 1) !== 90 /* Z */) return undefined;
  if (
    text.charCodeAt(4) !== 45 /* - */ ||
    text.charCodeAt(7) !== 45 ||
    text.charCodeAt(10) !== 84 /* T */ ||
    text.charCodeAt(13) !== 58 /* : */ ||
    text.charCodeAt(16) !== 58
  )
    return undefined;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  let millis = 0;
  if (length > 20) {
    // `.` then 1 to 3 digits before the Z.
    if (text.charCodeAt(19) !== 46 /* . */ || length === 21) return undefined;
    const fraction = digits(text, 20, length - 21);
    if (fraction < 0) return undefined;
    millis = fraction * (length === 22 ? 100 : length === 23 ? 10 : 1);
  }
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return undefined;
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  // Years below 1000 (Date.UTC maps 0–99 to 19xx) and leap seconds are left to the SDK.
  if (year < 1000 || month < 1 || month > 12 || day < 1) return undefined;
  if (day > DAYS_IN_MONTH[month - 1]! + (leap ? 1 : 0)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second, millis));
}

const NOT_ORDINARY = Symbol('not ordinary');

function readValue(field: FieldSpec, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (field.type) {
    case 'string':
      return typeof value === 'string' ? value : NOT_ORDINARY;
    case 'timestamp':
      return (typeof value === 'string' && readUtcTimestamp(value)) || NOT_ORDINARY;
    case 'struct':
      return typeof value === 'object' && !Array.isArray(value)
        ? readItem(field.fields, value as Record<string, unknown>)
        : NOT_ORDINARY;
    default:
      // `json` fields: not part of ListEventLogs; the SDK keeps their forms.
      return NOT_ORDINARY;
  }
}

function readItem(
  fields: readonly FieldSpec[],
  raw: Record<string, unknown>,
): ArchiveRecord | typeof NOT_ORDINARY {
  const out: ArchiveRecord = {};
  for (const field of fields) {
    const value = readValue(field, raw[field.name]);
    if (value === NOT_ORDINARY) return NOT_ORDINARY;
    if (value === null && field.required) return NOT_ORDINARY;
    out[field.name] = value;
  }
  return out;
}

/** Reads a `{"items": [...], "nextToken": "..."}` body of the ordinary form into archived records. */
export function readEventLogPage(fields: readonly FieldSpec[], body: string): FastPage | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const { items, nextToken } = parsed as { items?: unknown; nextToken?: unknown };
  if (nextToken !== undefined && nextToken !== null && typeof nextToken !== 'string') return undefined;
  if (items !== undefined && items !== null && !Array.isArray(items)) return undefined;
  const records: ArchiveRecord[] = [];
  for (const item of (items as unknown[] | null | undefined) ?? []) {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return undefined;
    const record = readItem(fields, item as Record<string, unknown>);
    if (record === NOT_ORDINARY) return undefined;
    records.push(record);
  }
  return { items: records, nextToken: typeof nextToken === 'string' ? nextToken : undefined };
}

/** `_json` of the official client: nulls dropped from objects and arrays, everything else kept. */
function smithyJson(value: unknown): unknown {
  if (value === null || value === undefined) return {};
  if (Array.isArray(value)) return value.filter((v) => v !== null && v !== undefined).map(smithyJson);
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      const member = (value as Record<string, unknown>)[key];
      if (member !== null && member !== undefined) out[key] = smithyJson(member);
    }
    return out;
  }
  return value;
}

/**
 * Any successful body as the official client reads it (`de_ListEventLogsCommand`: the body must be an
 * object; null items are dropped; strings are `expectString`, which turns numbers and booleans into
 * strings with a warning; `eventTime` is RFC 3339 with any offset; structs are `_json`), then
 * normalised. What the official client throws on, this throws on, with the same error names.
 */
export function readEventLogPageAsSdk(fields: readonly FieldSpec[], body: string): FastPage {
  const data = expectNonNull(expectObject(body.length > 0 ? JSON.parse(body) : {}), 'body') as Record<
    string,
    unknown
  >;
  const items: ArchiveRecord[] = [];
  const list = data.items;
  // `(output || []).filter(…)`: a falsy value is no items, any other non-list a TypeError.
  if (list) {
    if (!Array.isArray(list)) throw new TypeError('ListEventLogs: items is not a list');
    for (const entry of list) {
      if (entry === null || entry === undefined) continue;
      const taken: Record<string, unknown> = {};
      for (const field of fields) {
        const value = (entry as Record<string, unknown>)[field.name];
        if (value === null || value === undefined) continue;
        taken[field.name] =
          field.type === 'timestamp'
            ? expectNonNull(parseRfc3339DateTimeWithOffset(value))
            : field.type === 'struct'
              ? smithyJson(value)
              : expectString(value);
      }
      items.push(normaliseRecord(fields, taken));
    }
  }
  const token = data.nextToken;
  return { items, nextToken: token === null || token === undefined ? undefined : expectString(token) };
}
