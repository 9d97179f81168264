/**
 * Where the ingest's CPU goes, per event: each step of a day's commit timed alone on one day of the
 * 1M archive (about 33,000 events), next to the fetch-and-parse cost measured by the fetch-only run.
 * CPU time is far less sensitive to a busy machine than wall time, so this explains the wall-time
 * ratios of sections 1 and 2 even when other processes compete for the cores.
 */
import { readFileSync } from 'node:fs';
import { deserialize, serialize } from 'node:v8';
import { columnsOf, type RecordColumns } from '../lambdas/core/columns';
import { decodeParquet, encodeParquetColumns } from '../lambdas/core/parquet';
import { codecatalystDefinition as codecatalyst } from '../lambdas/core/sources';
import { encodeDaySync, unionOrder } from '../lambdas/ingest/archive/parquet-worker';
import { DEFAULT_SETTINGS } from '../lambdas/ingest/ingest-instance';
import { PAGE_SIZE } from './ingest';
import { filesUnder, median } from './util';

export interface CpuStep {
  step: string;
  /** Where the pipeline runs it: the event loop, or the Parquet worker thread. */
  thread: 'main' | 'worker';
  /** Median of 3, µs per event of the day. */
  usPerEvent: number;
}

export interface CpuBreakdown {
  day: string;
  events: number;
  steps: CpuStep[];
  /** Sum of the main thread's steps: what limits paging. */
  mainUsPerEvent: number;
  totalUsPerEvent: number;
}

/** Median CPU time of this process over 3 runs of `fn`, µs per event (CPU, not wall: the machine is shared). */
function perEvent(events: number, fn: () => unknown): number {
  const runs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const cpu0 = process.cpuUsage();
    fn();
    const cpu = process.cpuUsage(cpu0);
    runs.push((cpu.user + cpu.system) / 1000);
  }
  return (1000 * median(runs)) / events;
}

/**
 * Times the steps of lambdas/ingest/steps/fetch-window.ts and commit-day.ts on the middle day of
 * `archiveDir`, its events in pages as the source sends them (here in archive order; the union's
 * sort then has less to do than with a real day's windows).
 */
export async function cpuBreakdown(archiveDir: string, fetchUsPerEvent: number): Promise<CpuBreakdown> {
  const files = filesUnder(archiveDir, '.parquet');
  const file = files[files.length >> 1];
  if (!file) throw new Error(`no Parquet files under ${archiveDir}`);
  const day = /dt=(\d{4}-\d{2}-\d{2})/.exec(file.path)?.[1] ?? '?';
  const bytes = new Uint8Array(readFileSync(file.path));
  const records = await decodeParquet(codecatalyst.fields, bytes);
  const n = records.length;
  const dayStart = Date.parse(`${day}T00:00:00.000Z`);
  const slice = DEFAULT_SETTINGS.sliceMs;
  const windows = Array.from({ length: 86_400_000 / slice }, (_, i) => dayStart + i * slice);
  const job = {
    fields: codecatalyst.fields,
    records,
    timeField: codecatalyst.timeField,
    idField: codecatalyst.idField,
    encode: false,
    windows: windows.map((start) => ({ start, end: start + slice })),
  };
  const statisticsFor = [codecatalyst.timeField, codecatalyst.idField];
  const pages = Array.from({ length: Math.ceil(n / PAGE_SIZE) }, (_, i) =>
    records.slice(i * PAGE_SIZE, (i + 1) * PAGE_SIZE),
  );
  const toChunks = (): RecordColumns[] => pages.map((page) => columnsOf(codecatalyst.fields, page));
  const chunks = toChunks();
  const rows = {
    chunks,
    order: unionOrder(codecatalyst.fields, codecatalyst.timeField, codecatalyst.idField, chunks),
  };
  const handedOver = serialize({ chunks });

  const steps: CpuStep[] = [
    {
      step: 'fetch + parse (HTTP, page reader, paging; fetch-only run)',
      thread: 'main',
      usPerEvent: fetchUsPerEvent,
    },
    {
      step: `each page to columns (columnsOf, ${PAGE_SIZE} events at a time)`,
      thread: 'main',
      usPerEvent: perEvent(n, toChunks),
    },
    {
      step: 'union by id + archive order (unionOrder)',
      thread: 'worker',
      usPerEvent: perEvent(n, () =>
        unionOrder(codecatalyst.fields, codecatalyst.timeField, codecatalyst.idField, chunks),
      ),
    },
    {
      // postMessage serialises with the same V8 serializer.
      step: 'hand the day to the worker: v8.serialize of the chunks',
      thread: 'main',
      usPerEvent: perEvent(n, () => serialize({ chunks })),
    },
    {
      step: 'the worker takes it: v8.deserialize',
      thread: 'worker',
      usPerEvent: perEvent(n, () => deserialize(handedOver)),
    },
    {
      step: 'encodeParquetColumns (ZSTD per page, statistics on eventTime and id)',
      thread: 'worker',
      usPerEvent: perEvent(n, () => encodeParquetColumns(codecatalyst.fields, rows, { statisticsFor })),
    },
    {
      step: `window counts + contentHash (× ${windows.length} windows; identities (time, id) + sha256; with the day's columnsOf)`,
      thread: 'worker',
      usPerEvent: perEvent(n, () => encodeDaySync(job)),
    },
  ];
  const mainUsPerEvent = steps.filter((s) => s.thread === 'main').reduce((sum, s) => sum + s.usPerEvent, 0);
  const totalUsPerEvent = steps.reduce((sum, s) => sum + s.usPerEvent, 0);
  return { day, events: n, steps, mainUsPerEvent, totalUsPerEvent };
}
