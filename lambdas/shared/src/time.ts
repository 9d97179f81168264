/** UTC time arithmetic for windows and date partitions, and the clock. All values are epoch milliseconds. */

import { parseRfc3339 } from './validation';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** Rounds down to a multiple of `stepMs` (windows are aligned to the epoch, so to UTC midnight). */
export function floorTo(ms: number, stepMs: number): number {
  return Math.floor(ms / stepMs) * stepMs;
}

/** The `dt=` partition value of a moment: its UTC date as `YYYY-MM-DD`. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Midnight UTC of a `YYYY-MM-DD` day. */
export function dayStart(day: string): number {
  return Date.parse(`${day}T00:00:00.000Z`);
}

/** Every UTC day that [fromMs, toMs) touches, in order. */
export function daysBetween(fromMs: number, toMs: number): string[] {
  const days: string[] = [];
  for (let d = floorTo(fromMs, DAY_MS); d < toMs; d += DAY_MS) days.push(utcDay(d));
  return days;
}

/** RFC 3339 with milliseconds in UTC, the form the archive prints and stores. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** A half-open time window [start, end). */
export interface TimeWindow {
  readonly start: number;
  readonly end: number;
}

/**
 * Cuts [fromMs, toMs) into fixed windows aligned to `sliceMs` from the epoch (so to UTC midnight when
 * `sliceMs` divides a day). The range is widened to whole windows: a window is the unit the coverage
 * ledger records, so every run must cut time the same way.
 */
export function sliceWindows(fromMs: number, toMs: number, sliceMs: number): TimeWindow[] {
  const windows: TimeWindow[] = [];
  for (let start = floorTo(fromMs, sliceMs); start < toMs; start += sliceMs) {
    windows.push({ start, end: start + sliceMs });
  }
  return windows;
}

/** Where code reads "now" from, in epoch milliseconds. Everything that depends on the time takes one. */
export type Clock = () => number;

/**
 * The environment variable that sets the process clock: an RFC 3339 instant that the clock reads
 * when it is created and from which it then advances in real time. For reproducible runs ("ingest as
 * of …") and for tests that must not depend on the hour they run at.
 */
export const CLOCK_ENV = 'EVENTLOG_ARCHIVE_NOW';

/**
 * A clock that reads `startMs` now and then advances with the monotonic clock, so deadlines and
 * lease expiries still pass in real time while the instant itself is fixed.
 */
export function clockFrom(startMs: number): Clock {
  const anchor = performance.now();
  return () => startMs + Math.round(performance.now() - anchor);
}

/**
 * The process clock: the system clock, or {@link clockFrom} the instant in {@link CLOCK_ENV}.
 * A malformed value is a `ValidationException` naming the variable, never a silent fallback.
 *
 * @example
 * const now = clockFromEnv(process.env);
 * const to = floorTo(now(), HOUR_MS);
 */
export function clockFromEnv(env: NodeJS.ProcessEnv): Clock {
  const value = env[CLOCK_ENV];
  return value === undefined || value === '' ? Date.now : clockFrom(parseRfc3339(value, CLOCK_ENV));
}
