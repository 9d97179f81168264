/**
 * `GET /console/api/coverage` and `/coverage/hours` (docs/console-api.md#coverage): the report of
 * `eventlog-archive coverage --json` for one instance (the same function builds it), plus what a
 * person looking at the archive asks next: each day's windows and events, the first and last
 * archived event, how far behind the archive is, and when a run last wrote the ledger.
 */
import { DAY_MS, dayStart, floorTo, HOUR_MS, iso, utcDay, validationError } from '@eventlog-archive/shared';
import {
  coverageRange,
  type InstanceLedger,
  instanceCoverage,
  readInstanceLedger,
} from '../../core/instance-coverage';
import {
  type CoverageReport,
  DEFAULT_WINDOWS,
  type LedgerDay,
  ledgerWindows,
  readLedgerDays,
  type WindowRange,
  WindowStatus,
  windowStatus,
} from '../../core/ledger';
import type { SourceDefinition } from '../../core/sources/types';
import type { ArchiveStore } from '../../core/store';
import type { ArchiveCatalog } from '../catalog';
import type { DuckDbEngine } from '../duckdb-engine';
import { requireArchived } from './params';

/** Windows of each status and the events archived in them. */
export interface WindowCounts {
  final: number;
  provisional: number;
  missing: number;
  events: number;
}

export interface CoverageView extends CoverageReport {
  now: string;
  /** Every UTC day the report's range touches, its windows in the range counted. */
  days: ({ day: string } & WindowCounts)[];
  firstEventTime: string | null;
  lastEventTime: string | null;
  /** Seconds from the end of the last window archived completely (final or provisional) to now. */
  lagSeconds: number | null;
  /** The latest ledger write of any run. */
  lastRun: { at: string } | null;
}

/** `GET /console/api/coverage/hours`: the 24 hours of a day. */
export interface CoverageHours {
  day: string;
  hours: ({ start: string } & WindowCounts)[];
}

/** What the coverage views read: the archive's ledger, and the engine for the first and last event. */
export interface CoverageDeps {
  store: ArchiveStore;
  catalog: ArchiveCatalog;
  engine: Pick<DuckDbEngine, 'histogram'>;
  now: number;
  signal?: AbortSignal;
}

export interface CoverageRequest {
  source: SourceDefinition;
  instance: string;
  from?: number;
  to?: number;
}

/** The coverage of one instance over [from, to) (by default as `coverage` reports it), with the console's extras. */
export async function coverageView(request: CoverageRequest, deps: CoverageDeps): Promise<CoverageView> {
  const { sliceMs, lookbackMs } = DEFAULT_WINDOWS;
  const instance = await instanceLedgerOf(request, deps);
  const range = coverageRange(instance, { from: request.from, to: request.to, now: deps.now, sliceMs });
  if (range.from >= range.to)
    throw request.to !== undefined
      ? validationError(
          'to',
          `must be later than ${request.from === undefined ? 'the first recorded window' : 'from'} (${iso(range.from)})`,
        )
      : validationError('from', `must be earlier than the end of the last whole window (${iso(range.to)})`);
  const report = instanceCoverage(instance, range, { sliceMs, lookbackMs });
  const windows: WindowRange = { from: Date.parse(report.from), to: range.to, sliceMs, lookbackMs };
  const days = countWindows(instance.ledger, windows, DAY_MS, floorTo(windows.from, DAY_MS), windows.to).map(
    ({ start, ...counts }) => ({ day: utcDay(start), ...counts }),
  );
  const [firstEventTime, lastEventTime] = await eventTimeBounds(instance, deps);
  const lastCovered = lastCoveredEnd(instance.ledger.values(), lookbackMs);
  const lastRun = lastLedgerWrite(instance.ledger.values());
  return {
    ...report,
    now: iso(deps.now),
    days,
    firstEventTime: firstEventTime === undefined ? null : iso(firstEventTime),
    lastEventTime: lastEventTime === undefined ? null : iso(lastEventTime),
    lagSeconds: lastCovered === undefined ? null : Math.round((deps.now - lastCovered) / 1000),
    lastRun: lastRun === undefined ? null : { at: iso(lastRun) },
  };
}

/**
 * One UTC day of an instance hour by hour: the windows that start in each hour (a window that has
 * not ended by now is not counted) and their events; always 24 entries.
 */
export async function coverageHours(
  request: { source: SourceDefinition; instance: string; day: string },
  deps: Omit<CoverageDeps, 'engine'>,
): Promise<CoverageHours> {
  const { source, instance, day } = request;
  const { sliceMs, lookbackMs } = DEFAULT_WINDOWS;
  await requireArchived(deps.catalog, source, instance);
  const table = {
    table: source.table,
    partitionKey: source.partitionKey,
    partitionValue: source.partitionValue(instance),
  };
  const ledger = await readLedgerDays(deps.store, table, [day]);
  const from = dayStart(day);
  const windows: WindowRange = {
    from,
    to: Math.min(from + DAY_MS, floorTo(deps.now, sliceMs)),
    sliceMs,
    lookbackMs,
  };
  const hours = countWindows(ledger, windows, HOUR_MS, from, from + DAY_MS);
  return { day, hours: hours.map(({ start, ...counts }) => ({ start: iso(start), ...counts })) };
}

async function instanceLedgerOf(request: CoverageRequest, deps: CoverageDeps): Promise<InstanceLedger> {
  const { source, instance } = request;
  await requireArchived(deps.catalog, source, instance);
  return readInstanceLedger(deps.store, source, source.partitionValue(instance), instance);
}

/**
 * The windows of `windows` counted in groups of `groupMs` (aligned to UTC midnight), one entry for
 * every group from `groupsFrom` up to `groupsTo`, zeros where no window was counted.
 */
function countWindows(
  ledger: ReadonlyMap<string, LedgerDay>,
  windows: WindowRange,
  groupMs: number,
  groupsFrom: number,
  groupsTo: number,
): ({ start: number } & WindowCounts)[] {
  const groups = new Map<number, { start: number } & WindowCounts>();
  for (let start = groupsFrom; start < groupsTo; start += groupMs)
    groups.set(start, { start, final: 0, provisional: 0, missing: 0, events: 0 });
  for (const window of ledgerWindows(ledger, windows)) {
    const group = groups.get(floorTo(window.start, groupMs));
    if (!group) continue;
    group[window.status]++;
    group.events += window.archived;
  }
  return [...groups.values()];
}

/**
 * The first and last archived event time (epoch ms). The ledger records counts, not instants, so
 * they are read from the data: the first and the last day the ledger has events of, one day each.
 */
async function eventTimeBounds(
  instance: InstanceLedger,
  deps: CoverageDeps,
): Promise<[number | undefined, number | undefined]> {
  const withEvents = instance.days.filter((day) => hasEvents(instance.ledger.get(day)));
  const first = withEvents[0];
  const last = withEvents.at(-1);
  if (first === undefined || last === undefined) return [undefined, undefined];
  const dayRows = (day: string) =>
    deps.engine
      .histogram(
        {
          source: instance.source,
          instance: instance.instance,
          start: dayStart(day),
          end: dayStart(day) + DAY_MS,
          bucketMs: DAY_MS,
          series: {},
        },
        deps.signal ? { signal: deps.signal } : {},
      )
      .then(({ rows }) => rows);
  const [firstRows, lastRows] = await Promise.all([
    dayRows(first),
    first === last ? undefined : dayRows(last),
  ]);
  return [firstRows[0]?.first, (lastRows ?? firstRows).at(-1)?.last];
}

function hasEvents(doc: LedgerDay | undefined): boolean {
  if (!doc) return false;
  return (doc.data?.events ?? 0) > 0 || Object.values(doc.windows).some((w) => w.archived > 0);
}

/** The end of the latest window archived completely (final or provisional), epoch ms. */
function lastCoveredEnd(docs: Iterable<LedgerDay>, lookbackMs: number): number | undefined {
  let latest: number | undefined;
  for (const doc of docs)
    for (const record of Object.values(doc.windows)) {
      if (windowStatus(record, lookbackMs) === WindowStatus.Missing) continue;
      const end = Date.parse(record.end);
      if (latest === undefined || end > latest) latest = end;
    }
  return latest;
}

/** The latest `updatedAt` of the ledger documents (a document never written by a run says 1970). */
function lastLedgerWrite(docs: Iterable<LedgerDay>): number | undefined {
  let latest: number | undefined;
  for (const doc of docs) {
    const at = Date.parse(doc.updatedAt);
    if (at > 0 && (latest === undefined || at > latest)) latest = at;
  }
  return latest;
}
