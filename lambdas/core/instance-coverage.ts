/**
 * One instance's coverage as `coverage` reports it: the instance's ledger read whole, the instance
 * it names, the default range (from the first recorded window to the end of the last whole window
 * before now) and the report of `coverageOf`. The CLI's `coverage` and the console's coverage view
 * (lambdas/query/console/coverage-view.ts) both build their reports here.
 */
import { DAY_MS, floorTo } from '@eventlog-archive/shared';
import type { TableLocation } from './layout';
import { type CoverageReport, coverageOf, type LedgerDay, listLedgerDays, readLedgerDays } from './ledger';
import type { SourceDefinition } from './sources/types';
import type { ArchiveStore } from './store';

export interface InstanceLedger {
  source: SourceDefinition;
  table: TableLocation;
  /** The instance the ledger documents name (a folder is a partition value: a system ARN is hashed). */
  instance: string;
  /** Every day with a ledger document, in order, and the documents by day. */
  days: string[];
  ledger: Map<string, LedgerDay>;
}

/** Reads an instance's whole ledger; `named`, the instance the caller asked for, wins over the documents' name. */
export async function readInstanceLedger(
  store: ArchiveStore,
  source: SourceDefinition,
  partitionValue: string,
  named?: string,
): Promise<InstanceLedger> {
  const table = { table: source.table, partitionKey: source.partitionKey, partitionValue };
  const days = await listLedgerDays(store, table);
  const ledger = await readLedgerDays(store, table, days);
  const instance = named ?? ledger.get(days[0] ?? '')?.instance ?? partitionValue;
  return { source, table, instance, days, ledger };
}

/**
 * The range of a report: `from` and `to` as given, else from the first recorded window (the source's
 * retention before now when nothing is recorded) to the end of the last whole window before now.
 * Callers refuse a range whose `from` is not before its `to`.
 */
export function coverageRange(
  instance: InstanceLedger,
  options: { from?: number | undefined; to?: number | undefined; now: number; sliceMs: number },
): { from: number; to: number } {
  const firstWindow = Object.keys(instance.ledger.get(instance.days[0] ?? '')?.windows ?? {})[0];
  return {
    from:
      options.from ??
      (firstWindow ? Date.parse(firstWindow) : options.now - instance.source.retentionDays * DAY_MS),
    to: options.to ?? floorTo(options.now, options.sliceMs),
  };
}

/** The coverage report of the range, from its first whole window on. */
export function instanceCoverage(
  instance: InstanceLedger,
  range: { from: number; to: number },
  windows: { sliceMs: number; lookbackMs: number },
): CoverageReport {
  return coverageOf(instance.ledger, {
    source: instance.source.name,
    instance: instance.instance,
    from: floorTo(range.from, windows.sliceMs),
    to: range.to,
    ...windows,
  });
}
