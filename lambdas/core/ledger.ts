/**
 * The coverage ledger: the archive's state. For every source instance and time window it records
 * whether the window was paged to the end, when, how many pages and events, and a hash of the
 * window's archived content. The ingest checkpoint is derived from it (never from the last event
 * time: the source does not promise an order), and `coverage` reports from it.
 */
import { DAY_MS, dayStart, HOUR_MS, iso, utcDay } from '@eventlog-archive/shared';
import { dayOfLedgerKey, ledgerKey, ledgerPrefix, type TableLocation } from './layout';
import type { ArchiveStore } from './store';

export interface WindowRecord {
  start: string;
  end: string;
  /** Paged to the end (the source returned no nextToken). */
  complete: boolean;
  /** When the last complete sweep finished. */
  sweptAt: string;
  firstSweptAt: string;
  sweeps: number;
  /** Pages and distinct in-window events the last sweep got from the source. */
  pages: number;
  fetched: number;
  /** Events of this window in the archive after the sweep (a union: never fewer than before). */
  archived: number;
  /** `sha256:` of the identities (time, id) of the window's archived events in archive order. */
  contentHash: string;
}

export interface LedgerDay {
  version: 1;
  source: string;
  instance: string;
  day: string;
  windows: Record<string, WindowRecord>;
  data?: { key: string; events: number; bytes: number; sha256: string; writtenAt: string };
  updatedAt: string;
}

/**
 * The windows the ledger records (aligned to UTC midnight) and how long after its end a complete
 * window is still swept again for late events: what every reader and writer of a ledger assumes.
 */
export const DEFAULT_WINDOWS = { sliceMs: HOUR_MS, lookbackMs: 2 * HOUR_MS } as const;

export const WindowStatus = {
  /** Swept completely after the lookback had passed: late events can no longer appear. */
  Final: 'final',
  /** Swept completely, but still inside the lookback: it will be swept again for late events. */
  Provisional: 'provisional',
  /** Never swept completely: a gap. */
  Missing: 'missing',
} as const;
export type WindowStatus = (typeof WindowStatus)[keyof typeof WindowStatus];

export function windowStatus(record: WindowRecord | undefined, lookbackMs: number): WindowStatus {
  if (!record?.complete) return WindowStatus.Missing;
  return Date.parse(record.sweptAt) >= Date.parse(record.end) + lookbackMs
    ? WindowStatus.Final
    : WindowStatus.Provisional;
}

export function emptyLedgerDay(source: string, instance: string, day: string): LedgerDay {
  return { version: 1, source, instance, day, windows: {}, updatedAt: iso(0) };
}

export async function readLedgerDay(
  store: ArchiveStore,
  table: TableLocation,
  day: string,
): Promise<LedgerDay | undefined> {
  const object = await store.get(ledgerKey(table, day));
  if (!object) return undefined;
  const doc = JSON.parse(Buffer.from(object.body).toString('utf8')) as LedgerDay;
  if (doc.version !== 1 || doc.day !== day)
    throw new Error(`ledger document ${ledgerKey(table, day)} is not a version 1 ledger of ${day}`);
  return doc;
}

export async function writeLedgerDay(
  store: ArchiveStore,
  table: TableLocation,
  doc: LedgerDay,
): Promise<void> {
  const body = new TextEncoder().encode(`${JSON.stringify(doc, null, 1)}\n`);
  await store.put(ledgerKey(table, doc.day), body, { contentType: 'application/json' });
}

/** Ledger documents of the given days (missing days are absent from the map), read concurrently. */
export async function readLedgerDays(
  store: ArchiveStore,
  table: TableLocation,
  days: readonly string[],
): Promise<Map<string, LedgerDay>> {
  const out = new Map<string, LedgerDay>();
  const queue = [...days];
  const worker = async (): Promise<void> => {
    for (let day = queue.shift(); day !== undefined; day = queue.shift()) {
      const doc = await readLedgerDay(store, table, day);
      if (doc) out.set(day, doc);
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, days.length) }, worker));
  return out;
}

/** Every day that has a ledger document for this instance, in order. */
export async function listLedgerDays(store: ArchiveStore, table: TableLocation): Promise<string[]> {
  const days: string[] = [];
  for await (const object of store.list(ledgerPrefix(table))) {
    const day = dayOfLedgerKey(object.key);
    if (day) days.push(day);
  }
  return days.sort();
}

export interface CoverageRun {
  status: WindowStatus;
  start: string;
  end: string;
  windows: number;
  events: number;
}

export interface CoverageReport {
  source: string;
  instance: string;
  from: string;
  to: string;
  sliceMinutes: number;
  lookbackMinutes: number;
  windows: { final: number; provisional: number; missing: number };
  events: number;
  /** Consecutive windows of the same status merged into runs, in time order. */
  runs: CoverageRun[];
}

/** Which windows to classify: those starting in [from, to), `from` on a window boundary. */
export interface WindowRange {
  from: number;
  to: number;
  sliceMs: number;
  lookbackMs: number;
}

/** Every window of the range with its status and archived events, in time order. */
export function* ledgerWindows(
  ledger: ReadonlyMap<string, LedgerDay>,
  { from, to, sliceMs, lookbackMs }: WindowRange,
): Generator<{ start: number; end: number; status: WindowStatus; archived: number }> {
  for (let start = from; start < to; start += sliceMs) {
    const record = ledger.get(utcDay(start))?.windows[iso(start)];
    yield {
      start,
      end: start + sliceMs,
      status: windowStatus(record, lookbackMs),
      archived: record?.archived ?? 0,
    };
  }
}

/** Classifies every window of [from, to) and merges neighbours of the same status into runs. */
export function coverageOf(
  ledger: ReadonlyMap<string, LedgerDay>,
  options: WindowRange & { source: string; instance: string },
): CoverageReport {
  const { from, to, sliceMs, lookbackMs } = options;
  const counts = { final: 0, provisional: 0, missing: 0 };
  const runs: CoverageRun[] = [];
  let events = 0;
  for (const { start, end, status, archived } of ledgerWindows(ledger, options)) {
    counts[status]++;
    events += archived;
    const last = runs[runs.length - 1];
    if (last && last.status === status && last.end === iso(start)) {
      last.end = iso(end);
      last.windows++;
      last.events += archived;
    } else {
      runs.push({ status, start: iso(start), end: iso(end), windows: 1, events: archived });
    }
  }
  return {
    source: options.source,
    instance: options.instance,
    from: iso(from),
    to: iso(to),
    sliceMinutes: sliceMs / 60_000,
    lookbackMinutes: lookbackMs / 60_000,
    windows: counts,
    events,
    runs,
  };
}

/**
 * Whether the ledger holds every window of the day as final, from `notBefore` on (the chain's first
 * day starts at the first window ever recorded: a first backfill starts mid-day).
 */
export function dayFinal(
  doc: LedgerDay | undefined,
  day: string,
  options: { sliceMs: number; lookbackMs: number; notBefore?: number },
): boolean {
  if (!doc) return false;
  const start = Math.max(dayStart(day), options.notBefore ?? 0);
  const end = dayStart(day) + DAY_MS;
  if (start >= end) return false;
  for (let t = start; t < end; t += options.sliceMs)
    if (windowStatus(doc.windows[iso(t)], options.lookbackMs) !== WindowStatus.Final) return false;
  return true;
}
