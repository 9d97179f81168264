/**
 * Reading an archive record's values for a mapping, and fitting them to OCSF's data types: strings
 * within `string_t`'s length, addresses only when they are addresses, JSON payloads as documents.
 * What does not fit whole goes to `unmapped` too, under its source path, so nothing is lost.
 */
import { isIP } from 'node:net';
import type { ArchiveRecord } from '../records';

/** `string_t` `max_len` (https://schema.ocsf.io/1.1.0/data_types). */
export const STRING_MAX = 65_535;
/** `ip_t` `max_len`. */
const IP_MAX = 40;

/** A record's struct member, or undefined when it is null or absent. */
export function structOf(record: ArchiveRecord | undefined, name: string): ArchiveRecord | undefined {
  const value = record?.[name];
  return typeof value === 'object' && value !== null && !(value instanceof Date)
    ? (value as ArchiveRecord)
    : undefined;
}

/** A record's string member, or undefined when it is null, absent or empty. */
export function textOf(record: ArchiveRecord | undefined, name: string): string | undefined {
  const value = record?.[name];
  if (value === null || value === undefined) return undefined;
  const text = typeof value === 'string' ? value : String(value);
  return text === '' ? undefined : text;
}

/** A record's timestamp member (a `Date`, as records hold it, or epoch milliseconds) as epoch milliseconds. */
export function timeOf(record: ArchiveRecord, name: string): number | undefined {
  const value = record[name];
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Number.NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

/** The source values with no OCSF attribute, by source path: the event's `unmapped`. */
export class Unmapped {
  readonly values: Record<string, string> = {};

  set(sourcePath: string, value: string | undefined): void {
    if (value !== undefined) this.values[sourcePath] = value;
  }

  /**
   * `value` fitted to `string_t`: a value longer than 65,535 characters is cut there, and kept
   * whole under `sourcePath` here.
   */
  fit(value: string, sourcePath: string): string;
  fit(value: string | undefined, sourcePath: string): string | undefined;
  fit(value: string | undefined, sourcePath: string): string | undefined {
    if (value === undefined || value.length <= STRING_MAX) return value;
    const codePoints = Array.from(value);
    if (codePoints.length <= STRING_MAX) return value;
    this.values[sourcePath] = value;
    return codePoints.slice(0, STRING_MAX).join('');
  }

  /** The `unmapped` attribute: absent when nothing is unmapped. */
  toAttribute(): { unmapped?: Record<string, string> } {
    return Object.keys(this.values).length > 0 ? { unmapped: this.values } : {};
  }
}

/** `text` when it is an IPv4 or IPv6 address that fits `ip_t`. */
export function ipAddress(text: string | undefined): string | undefined {
  return text !== undefined && text.length <= IP_MAX && isIP(text) !== 0 ? text : undefined;
}

/**
 * A JSON payload as an OCSF `json_t` document. `exact` says whether `JSON.stringify` of the document
 * gives the text back (a compact document without numbers beyond double precision): when it does
 * not, the caller keeps the text too.
 */
export function jsonDocument(text: string): { document: unknown; exact: boolean } | undefined {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return undefined;
  }
  return { document, exact: JSON.stringify(document) === text };
}

/** `value` without its undefined members (in place): an absent source value leaves its attribute out. */
export function defined<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] === undefined) delete value[key];
  return value;
}
