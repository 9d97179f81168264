/**
 * Field rules of the seeds, shared by the CLI, the CDK config and the HTTP API so that one rule
 * has one implementation. Each check throws a `ValidationException` that names the field and the rule.
 */
import { validationError } from './errors';

/** CodeCatalyst space name: length 3–63, pattern `[a-zA-Z0-9]+(?:[-_\.][a-zA-Z0-9]+)*` (seed 001). */
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
 * A bare full-date (`2022-11-30`, as in the seed's sample request) means midnight UTC.
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
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
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
  const utc = Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59), ms) - offsetMinutes * 60_000;
  if (!Number.isFinite(utc)) throw validationError(field, `is out of range (got "${clip(value)}")`);
  return utc;
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
