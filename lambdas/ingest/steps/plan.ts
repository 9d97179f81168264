/**
 * Step: plan a run. Its range is the backfill period (now minus `backfillDays`, window-aligned, up to
 * the end of the last window that has ended) or an explicit one; its windows are those of the range
 * that the ledger does not hold as final (all of them for an explicit range), grouped by UTC day.
 */
import {
  DAY_MS,
  floorTo,
  iso,
  MINUTE_MS,
  sliceWindows,
  type TimeWindow,
  utcDay,
} from '@eventlog-archive/shared';
import { DEFAULT_WINDOWS, type LedgerDay, WindowStatus, windowStatus } from '../../core/ledger';

export interface IngestSettings {
  /** Window length; must divide a day. Default 60 minutes. */
  sliceMs: number;
  /** How long after a window ends late events may still appear; such windows are swept again. Default 2 h. */
  lookbackMs: number;
  /** Days a first run backfills. Default: the source's retention (30 days for CodeCatalyst). */
  backfillDays: number;
  /** Upper bound of concurrent page requests. Default 16. */
  maxConcurrency: number;
}

export const DEFAULT_SETTINGS: IngestSettings = {
  ...DEFAULT_WINDOWS,
  backfillDays: 30,
  maxConcurrency: 16,
};

/** Throws a RangeError naming the setting and its rule. */
export function checkSettings(s: IngestSettings): void {
  if (!Number.isInteger(s.sliceMs) || s.sliceMs < MINUTE_MS || DAY_MS % s.sliceMs !== 0) {
    throw new RangeError(
      `sliceMinutes must be a whole number of minutes that divides a day (got ${s.sliceMs / MINUTE_MS})`,
    );
  }
  if (!(s.lookbackMs >= 0)) throw new RangeError('lookbackMinutes must not be negative');
  if (!(s.backfillDays > 0)) throw new RangeError('backfillDays must be positive');
  if (!Number.isInteger(s.maxConcurrency) || s.maxConcurrency < 1)
    throw new RangeError('maxConcurrency must be a positive integer');
}

export interface RunRange {
  /** Start of the backfill period: where coverage is counted from. */
  backfillFrom: number;
  from: number;
  to: number;
  /** An explicit `from`: every window in the range is swept again. */
  explicit: boolean;
}

export interface Plan {
  /** Each day's windows to sweep, oldest day first. */
  days: Map<string, TimeWindow[]>;
  /** How many windows in all. */
  windows: number;
}

export function runRange(
  settings: { sliceMs: number; backfillDays: number },
  request: { from?: number; to?: number },
  started: number,
): RunRange {
  const backfillFrom = floorTo(started - settings.backfillDays * DAY_MS, settings.sliceMs);
  return {
    backfillFrom,
    from: request.from !== undefined ? floorTo(request.from, settings.sliceMs) : backfillFrom,
    to: request.to ?? floorTo(started, settings.sliceMs),
    explicit: request.from !== undefined,
  };
}

export function planWindows(
  range: RunRange,
  ledger: ReadonlyMap<string, LedgerDay>,
  settings: { sliceMs: number; lookbackMs: number },
): Plan {
  const days = new Map<string, TimeWindow[]>();
  let windows = 0;
  for (const window of sliceWindows(range.from, range.to, settings.sliceMs)) {
    const day = utcDay(window.start);
    const recorded = ledger.get(day)?.windows[iso(window.start)];
    if (!range.explicit && windowStatus(recorded, settings.lookbackMs) === WindowStatus.Final) continue;
    const list = days.get(day) ?? [];
    list.push(window);
    days.set(day, list);
    windows++;
  }
  return { days, windows };
}
