/**
 * Step: run the days of a plan within the time budget. Days start oldest first and at most
 * `maxInFlight` are in flight, so memory is bounded by those days; no day starts after the soft
 * deadline or once the run is aborted. A failed day is reported and the others go on.
 */
import type { Clock, TimeWindow } from '@eventlog-archive/shared';

export interface DaySchedule {
  /** The plan: each day's windows to sweep, oldest day first. */
  days: ReadonlyMap<string, readonly TimeWindow[]>;
  /** Fetches and commits one day; a rejection fails that day only. */
  runDay: (day: string, windows: readonly TimeWindow[]) => Promise<void>;
  maxInFlight: number;
  softDeadline?: number;
  now: Clock;
  signal: AbortSignal;
  /** Told the first day not started for lack of time. */
  onBudgetUsed?: (nextDay: string) => void;
  onDayFailed?: (day: string, error: unknown) => void;
}

export interface ScheduleOutcome {
  /** One line per failed day: `<day>: <name>: <message>`. */
  failures: string[];
  /** Windows of the plan not committed (not started, or failed). */
  windowsLeft: number;
}

/** Days in flight that a run of `maxConcurrency` pages needs to keep its page slots busy. */
export function maxDaysInFlight(maxConcurrency: number, windowsPerDay: number): number {
  return Math.max(2, Math.ceil((2 * maxConcurrency) / windowsPerDay) + 1);
}

export async function scheduleDays(schedule: DaySchedule): Promise<ScheduleOutcome> {
  const { days, runDay, maxInFlight, softDeadline, now, signal } = schedule;
  const inFlight = new Set<Promise<void>>();
  const failures: string[] = [];
  let windowsLeft = [...days.values()].reduce((n, w) => n + w.length, 0);
  for (const [day, windows] of days) {
    if (signal.aborted) break;
    if (softDeadline !== undefined && now() >= softDeadline) {
      schedule.onBudgetUsed?.(day);
      break;
    }
    while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    if (signal.aborted) break;
    const task = runDay(day, windows)
      .then(() => {
        windowsLeft -= windows.length;
      })
      .catch((err: unknown) => {
        failures.push(
          `${day}: ${(err as Error)?.name ?? 'Error'}: ${(err as Error)?.message ?? String(err)}`,
        );
        schedule.onDayFailed?.(day, err);
      })
      .finally(() => inFlight.delete(task));
    inFlight.add(task);
  }
  await Promise.all(inFlight);
  return { failures, windowsLeft };
}
