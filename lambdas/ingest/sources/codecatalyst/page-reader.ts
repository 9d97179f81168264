/**
 * A fast reader of successful `ListEventLogs` bodies, plugged into the official client's middleware
 * stack.
 *
 * Why: the SDK's generic deserializer (`take`, `expectString`, `_json`, the RFC 3339 parser) and our
 * normalisation after it cost the ingest's main thread ~8–10 µs per event (measured in bench/), the
 * largest share of its CPU after `JSON.parse` itself. This reader parses the same bytes and builds
 * the archived record directly from the field declaration.
 *
 * It only takes pages whose every value has the ordinary form (strings where strings are declared,
 * `YYYY-MM-DDTHH:MM:SS[.fff]Z` timestamps that name a real instant, objects or null for structs).
 * Anything else - a number where a string belongs, an offset timestamp, a null item, a body that is
 * not JSON - is handed back untouched to the SDK's own deserializer, so every edge keeps the SDK's
 * behaviour (its warnings, coercions and errors). Error responses never come here. The result is
 * checked against the SDK path by a property test (test/unit/ingest/sources/page-reader.test.ts).
 */
import type { ArchiveRecord, FieldSpec } from '../../../core/records';

/** The parsed page, or `undefined` when the body is not of the ordinary form (the SDK reads it then). */
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

/** The parts of a smithy middleware that this module touches (the SDK's own types are version-bound). */
interface RawResponse {
  statusCode: number;
  body: unknown;
}
type Next = (args: unknown) => Promise<{ response: unknown; output?: unknown }>;

/**
 * A `deserialize`-step middleware, innermost (priority `low`), so it sees the raw HTTP response
 * before the SDK's deserializer does. On a 200 of the ordinary form it keeps the records in `found`
 * and hands the SDK an empty body (nothing left for it to do); otherwise it hands the SDK the bytes
 * it read, unchanged.
 */
export function fastPageMiddleware(
  fields: readonly FieldSpec[],
  found: (page: FastPage) => void,
): (next: Next) => Next {
  return (next) => async (args) => {
    const result = await next(args);
    const response = result.response as RawResponse;
    if (response?.statusCode !== 200) return result;
    const bytes = await collect(response.body);
    const page = readEventLogPage(fields, bytes.toString('utf8'));
    if (page) {
      found(page);
      response.body = new Uint8Array(0);
    } else {
      response.body = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    return result;
  };
}

export const FAST_PAGE_MIDDLEWARE = {
  step: 'deserialize',
  priority: 'low',
  name: 'eventlogArchiveFastPageReader',
} as const;

async function collect(body: unknown): Promise<Buffer> {
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body === undefined || body === null) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array | string>)
    chunks.push(
      typeof chunk === 'string'
        ? Buffer.from(chunk)
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength),
    );
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}
