/**
 * What a `verify` check covers, decided from its command line (or the console's request) before
 * anything of the check loads: the days of data, and the grace a run has to seal a day.
 */
import { MINUTE_MS, utcDay } from '@eventlog-archive/shared';

/** How long after a day is due (its end plus the lookback) a run has to seal it (`--seal-grace-minutes`). */
export const DEFAULT_SEAL_GRACE_MS = 60 * MINUTE_MS;

/** The days of data to check, either end open. */
export interface DayRange {
  fromDay?: string;
  toDay?: string;
}

/** The days of `[from, to)` (epoch ms, either open), as the data range of a check. */
export function dayRange(from: number | undefined, to: number | undefined): DayRange {
  return {
    ...(from !== undefined ? { fromDay: utcDay(from) } : {}),
    // `to` is exclusive, as everywhere in the CLI.
    ...(to !== undefined ? { toDay: utcDay(to - 1) } : {}),
  };
}
