/**
 * Step: report how far a run got. Ingestion lag and the `coveredThrough` figure are measured from
 * the end of the backfill period's contiguously complete windows.
 */
import { daysBetween, iso, utcDay } from '@eventlog-archive/shared';
import type { TableLocation } from '../../core/layout';
import { type LedgerDay, readLedgerDays } from '../../core/ledger';
import type { ArchiveStore } from '../../core/store';

/**
 * End (ISO) of the last window such that every window from `from` up to it is complete in the
 * ledger, or null when the window at `from` is not. Only windows ending by `until` count.
 */
export function contiguousCoverage(
  ledger: ReadonlyMap<string, LedgerDay>,
  from: number,
  until: number,
  sliceMs: number,
): string | null {
  let covered: number | undefined;
  for (let start = from; start + sliceMs <= until; start += sliceMs) {
    if (!ledger.get(utcDay(start))?.windows[iso(start)]?.complete) break;
    covered = start + sliceMs;
  }
  return covered === undefined ? null : iso(covered);
}

/** {@link contiguousCoverage}, reading from the store the ledger days of [from, until) not in `loaded`. */
export async function coveredThrough(
  store: ArchiveStore,
  table: TableLocation,
  loaded: ReadonlyMap<string, LedgerDay>,
  from: number,
  until: number,
  sliceMs: number,
): Promise<string | null> {
  const missing = daysBetween(from, until).filter((day) => !loaded.has(day));
  if (missing.length === 0) return contiguousCoverage(loaded, from, until, sliceMs);
  const all = new Map([...loaded, ...(await readLedgerDays(store, table, missing))]);
  return contiguousCoverage(all, from, until, sliceMs);
}
