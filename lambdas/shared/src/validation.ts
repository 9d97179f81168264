/**
 * Field rules of the API references (CodeCatalyst ListEventLogs:
 * https://docs.aws.amazon.com/codecatalyst/latest/APIReference/API_ListEventLogs.html;
 * Resilience Hub ListSystemEvents:
 * https://docs.aws.amazon.com/resilience-hub/v2/APIReference/API_ListSystemEvents.html),
 * shared by the CLI, the CDK config and the HTTP API so that one rule
 * has one implementation. Each check throws a `ValidationException` that names the field and the rule.
 */
import { validationError } from './errors';

/**
 * CodeCatalyst space name: length 3–63, pattern `[a-zA-Z0-9]+(?:[-_\.][a-zA-Z0-9]+)*` (ListEventLogs
 * API reference).
 */
export const SPACE_NAME_PATTERN = /^[a-zA-Z0-9]+(?:[-_.][a-zA-Z0-9]+)*$/;

export function checkSpaceName(value: unknown, field = 'spaceName'): string {
  if (typeof value !== 'string') throw validationError(field, 'is required and must be a string');
  if (value.length < 3 || value.length > 63) {
    throw validationError(field, `must be 3 to 63 characters long (got ${value.length})`);
  }
  if (!SPACE_NAME_PATTERN.test(value)) {
    throw validationError(field, 'must match the pattern [a-zA-Z0-9]+(?:[-_.][a-zA-Z0-9]+)*');
  }
  return value;
}

// RFC 3339 date-time (section 5.6), with the full-date form the CodeCatalyst sample request uses.
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2}))?$/;

/**
 * Parses an RFC 3339 timestamp strictly (no `Date.parse` leniency) into epoch milliseconds.
 * A bare full-date (`2022-11-30`, as in the ListEventLogs API reference's sample request) means midnight UTC.
 */
export function parseRfc3339(value: unknown, field: string): number {
  if (typeof value !== 'string' || value.length === 0) {
    throw validationError(
      field,
      'is required and must be an RFC 3339 timestamp such as 2024-05-01T00:00:00Z',
    );
  }
  const m = RFC3339.exec(value);
  if (!m)
    throw validationError(
      field,
      `must be an RFC 3339 timestamp such as 2024-05-01T00:00:00Z (got "${clip(value)}")`,
    );
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone = 'Z'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  const daysInMonth = new Date(utcTime(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 60) {
    throw validationError(field, `is not a valid date and time (got "${clip(value)}")`);
  }
  let offsetMinutes = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(4, 6));
    if (oh > 23 || om > 59) throw validationError(field, `has an invalid UTC offset (got "${clip(value)}")`);
    offsetMinutes = sign * (oh * 60 + om);
  }
  const ms = frac ? Math.floor(Number(`0${frac}`) * 1000) : 0;
  const utc = utcTime(year, month - 1, day, hour, minute, Math.min(second, 59), ms) - offsetMinutes * 60_000;
  if (!Number.isFinite(utc)) throw validationError(field, `is out of range (got "${clip(value)}")`);
  return utc;
}

/**
 * `Date.UTC` without its two-digit-year rule (years 0–99 would mean 1900–1999): the year is set
 * with `setUTCFullYear`, so `0042-01-01` is the year 42. Month and day may overflow, as in `Date.UTC`.
 */
function utcTime(
  year: number,
  monthIndex: number,
  day: number,
  hour = 0,
  minute = 0,
  second = 0,
  ms = 0,
): number {
  const date = new Date(Date.UTC(2000, 0, 1, hour, minute, second, ms));
  date.setUTCFullYear(year, monthIndex, day);
  return date.getTime();
}

/** An integer within [min, max]; strings of digits are accepted only when `allowString` (query strings). */
export function checkIntRange(
  value: unknown,
  field: string,
  min: number,
  max: number,
  allowString = false,
): number {
  let n: number | undefined;
  if (typeof value === 'number') n = value;
  else if (allowString && typeof value === 'string' && /^-?\d+$/.test(value)) n = Number(value);
  if (n === undefined || !Number.isInteger(n) || n < min || n > max) {
    throw validationError(field, `must be an integer from ${min} to ${max}`);
  }
  return n;
}

/** A string whose length is within [min, max]. */
export function checkLength(value: unknown, field: string, min: number, max: number): string {
  if (typeof value !== 'string') throw validationError(field, 'must be a string');
  if (value.length < min || value.length > max) {
    throw validationError(field, `must be ${min} to ${max} characters long (got ${value.length})`);
  }
  return value;
}

function clip(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}…` : value;
}

// ---------------------------------------------------------------------------------------------
// Resilience Hub ListSystemEvents (API reference above). Each error also carries the API reference's extra
// fields (`reason`, `fieldList`), so an HTTP route answers with its ValidationException shape as is.

/** The API reference's systemArn pattern, anchored (AWS patterns match the whole value). */
export const SYSTEM_ARN_PATTERN =
  /^arn:(aws|aws-cn|aws-iso|aws-iso-[a-z]{1}|aws-us-gov):[A-Za-z0-9][A-Za-z0-9_/.-]{0,62}:([a-z]{2}-((iso[a-z]{0,1}-)|(gov-)){0,1}[a-z]+-[0-9]):[0-9]{12}:[A-Za-z0-9/][A-Za-z0-9:_/+.-]{0,1023}$/;

/** The API reference's minimum length of a systemArn. */
export const SYSTEM_ARN_MIN_LENGTH = 31;

/** The API reference's `eventTypes` values, in its order. */
export const SYSTEM_EVENT_TYPES = [
  'SYSTEM_CREATED',
  'SYSTEM_DELETED',
  'SYSTEM_USER_JOURNEY_CREATED',
  'SYSTEM_USER_JOURNEY_UPDATED',
  'SYSTEM_USER_JOURNEY_DELETED',
  'SYSTEM_SERVICE_ASSOCIATED',
  'SYSTEM_SERVICE_DISASSOCIATED',
  'SYSTEM_POLICY_ASSOCIATED',
  'SYSTEM_POLICY_DISASSOCIATED',
] as const;

export type SystemEventType = (typeof SYSTEM_EVENT_TYPES)[number];

/**
 * The API reference's nextToken pattern `\S{1,2000}`, anchored; the length counts characters (code
 * points).
 */
export const SYSTEM_EVENTS_NEXT_TOKEN_PATTERN = /^\S{1,2000}$/u;

/** `maxResults` of ListSystemEvents: the API reference's valid range. */
export const SYSTEM_EVENTS_MAX_RESULTS = { min: 1, max: 100 } as const;

/**
 * The `reason` values of the Resilience Hub (next generation) ValidationException. The API reference names
 * the field without listing its values; these are the service model's.
 */
export const SYSTEM_EVENTS_VALIDATION_REASON = {
  InvalidFieldValue: 'INVALID_FIELD_VALUE',
  DuplicateValue: 'DUPLICATE_VALUE',
  MissingRequiredField: 'MISSING_REQUIRED_FIELD',
  Other: 'OTHER',
} as const;

function systemEventsError(
  field: string,
  rule: string,
  reason: (typeof SYSTEM_EVENTS_VALIDATION_REASON)[keyof typeof SYSTEM_EVENTS_VALIDATION_REASON],
): ReturnType<typeof validationError> {
  return validationError(field, rule, { reason, fieldList: [{ name: field, message: rule }] });
}

const SYSTEM_ARN_RULE =
  'must match arn:(aws|aws-cn|aws-iso|aws-iso-[a-z]{1}|aws-us-gov):[A-Za-z0-9][A-Za-z0-9_/.-]{0,62}:([a-z]{2}-((iso[a-z]{0,1}-)|(gov-)){0,1}[a-z]+-[0-9]):[0-9]{12}:[A-Za-z0-9/][A-Za-z0-9:_/+.-]{0,1023}';

/**
 * A Resilience Hub system ARN: at least 31 characters and the API reference's pattern.
 *
 * @example
 * checkSystemArn('arn:aws:resiliencehub:us-east-1:123456789012:system/checkout', '--system-arn');
 */
export function checkSystemArn(value: unknown, field = 'systemArn'): string {
  if (typeof value !== 'string' || value === '') {
    throw systemEventsError(field, 'is required and must be a string', 'MISSING_REQUIRED_FIELD');
  }
  if (value.length < SYSTEM_ARN_MIN_LENGTH) {
    throw systemEventsError(
      field,
      `must be at least ${SYSTEM_ARN_MIN_LENGTH} characters long (got ${value.length})`,
      'INVALID_FIELD_VALUE',
    );
  }
  if (!SYSTEM_ARN_PATTERN.test(value)) {
    throw systemEventsError(field, `${SYSTEM_ARN_RULE} (got "${clip(value)}")`, 'INVALID_FIELD_VALUE');
  }
  return value;
}

/**
 * `eventTypes`: one value or a list (a query string repeats the parameter), each one of
 * {@link SYSTEM_EVENT_TYPES}. An absent value is no filter (`[]`).
 *
 * @example
 * checkSystemEventTypes(['SYSTEM_CREATED', 'SYSTEM_DELETED']); // both, in that order
 */
export function checkSystemEventTypes(values: unknown, field = 'eventTypes'): SystemEventType[] {
  if (values === undefined || values === null) return [];
  const list = Array.isArray(values) ? values : [values];
  const allowed: readonly string[] = SYSTEM_EVENT_TYPES;
  for (const value of list) {
    if (typeof value !== 'string' || !allowed.includes(value)) {
      const got = typeof value === 'string' ? `"${clip(value)}"` : typeof value;
      throw systemEventsError(
        field,
        `each value must be one of ${SYSTEM_EVENT_TYPES.join(', ')} (got ${got})`,
        'INVALID_FIELD_VALUE',
      );
    }
  }
  return list as SystemEventType[];
}

/** A ListSystemEvents `nextToken`: 1 to 2000 characters, none of them white space (`\S{1,2000}`). */
export function checkSystemEventsNextToken(value: unknown, field = 'nextToken'): string {
  if (typeof value !== 'string') throw systemEventsError(field, 'must be a string', 'INVALID_FIELD_VALUE');
  if (!SYSTEM_EVENTS_NEXT_TOKEN_PATTERN.test(value)) {
    const length = [...value].length;
    const rule =
      length < 1 || length > 2000
        ? `must be 1 to 2000 characters long (got ${length})`
        : 'must not contain white space (pattern \\S{1,2000})';
    throw systemEventsError(field, rule, 'INVALID_FIELD_VALUE');
  }
  return value;
}
