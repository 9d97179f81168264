/**
 * Step: commit one UTC day, in the order the archive's promise rests on. Each sub-step is a function
 * of its own, and `onStep` is called after each, so a crash can be simulated between any two writes:
 *
 * 1. merge: read the day's Parquet object, to be unioned by id with what was fetched (a rewrite never
 *    removes an archived event; an event already archived keeps its archived form); the rows stay in
 *    the chunks of columns they were fetched in, and the worker orders the union;
 * 2. write data: encode (in the worker thread) and put the day object, only when it changed;
 * 3. record windows: write the day's ledger document, last, so a crash before it leaves the windows
 *    unrecorded (fetched again next time) and never recorded-but-missing.
 */

import { createHash } from 'node:crypto';
import { type Clock, iso } from '@eventlog-archive/shared';
import { type ChunkedRows, columnsOf, type RecordColumns } from '../../core/columns';
import { dataKey, type TableLocation } from '../../core/layout';
import { emptyLedgerDay, type LedgerDay, type WindowRecord, writeLedgerDay } from '../../core/ledger';
import type { ArchiveCodec } from '../../core/parquet';
import { decodeParquet } from '../../core/parquet';
import type { SourceDefinition } from '../../core/sources/types';
import type { ArchiveStore } from '../../core/store';
import { type ColumnJob, type EncodedDay, encodeDayColumns } from '../archive/parquet-worker';
import type { FetchedWindow } from './fetch-window';

export type CommitStep = 'fetched' | 'merged' | 'data-written' | 'ledger-written' | 'digest-written';

/**
 * A day to commit. `commitDay` takes the fetched windows' chunks: it empties their lists once the day
 * is handed to the encoder, which then holds the only reference.
 */
export interface DayCommit {
  store: ArchiveStore;
  table: TableLocation;
  source: SourceDefinition;
  instance: string;
  day: string;
  fetched: readonly FetchedWindow[];
  /** The day's ledger document as this run holds it (undefined: never recorded). */
  ledgerDay: LedgerDay | undefined;
  now: Clock;
  /** Aborted by the run (fatal source error, hard deadline, lost lease): no write starts after it. */
  signal: AbortSignal;
  onStep?: (step: CommitStep, day: string) => void | Promise<void>;
  /** The codec of a day object written now (IngestRequest `parquetCodec`). */
  codec?: ArchiveCodec;
}

export interface CommittedDay {
  /** The ledger document as written. */
  ledgerDay: LedgerDay;
  /** Events not archived before. */
  added: number;
  /** Windows the ledger already recorded complete before (lookback re-sweeps, explicit re-ingest). */
  reswept: number;
  /** Events the day holds now. */
  events: number;
  encodedIn: EncodedDay['encodedIn'];
}

export async function commitDay(commit: DayCommit): Promise<CommittedDay> {
  const { day, signal, onStep } = commit;
  await onStep?.('fetched', day);
  const fetchedCounts = commit.fetched.map((f) => f.events);
  const merged = await mergeDay(commit);
  await onStep?.('merged', day);
  signal.throwIfAborted();
  const written = await writeDayData(commit, merged);
  await onStep?.('data-written', day);
  signal.throwIfAborted();
  const recorded = await recordWindows(commit, written, fetchedCounts);
  await onStep?.('ledger-written', day);
  return {
    ledgerDay: recorded.ledgerDay,
    added: written.encoded.added,
    reswept: recorded.reswept,
    events: written.encoded.events,
    encodedIn: written.encoded.encodedIn,
  };
}

export interface MergedDay {
  /** The archived day's chunk (first), then the fetched ones; no order yet (the worker unions them). */
  rows: ChunkedRows;
  /** Rows of the archived day (the first chunk's). */
  archivedRows: number;
  /** Whether the day had a data object before. */
  existed: boolean;
}

/** Sub-step 1: the day's archived events (as a chunk of columns) and the fetched ones, to be unioned by id. */
export async function mergeDay(commit: DayCommit): Promise<MergedDay> {
  const { store, table, source, day, fetched } = commit;
  const existing = await store.get(dataKey(table, day));
  const chunks: RecordColumns[] = [];
  if (existing) chunks.push(columnsOf(source.fields, await decodeParquet(source.fields, existing.body)));
  const archivedRows = chunks[0]?.length ?? 0;
  for (const f of fetched) chunks.push(...f.chunks);
  return { rows: { chunks }, archivedRows, existed: existing !== undefined };
}

export interface WrittenDay {
  encoded: EncodedDay;
  /** The ledger's `data` entry: the object as written now, or as recorded before when unchanged. */
  data: LedgerDay['data'];
}

/** Sub-step 2: encode the day (and the window hashes) and put its object when it changed. */
export async function writeDayData(commit: DayCommit, merged: MergedDay): Promise<WrittenDay> {
  const { store, table, source, instance, day, fetched, signal, now } = commit;
  const job: ColumnJob = {
    fields: source.fields,
    rows: merged.rows,
    union: { archivedRows: merged.archivedRows, existed: merged.existed },
    timeField: source.timeField,
    idField: source.idField,
    encode: 'if-changed',
    statisticsFor: [source.timeField, source.idField],
    ...(commit.codec ? { codec: commit.codec } : {}),
    metadata: { source: source.name, instance, day },
    windows: fetched.map((f) => f.window),
  };
  // The job holds what is left to do with the rows: let them go everywhere else (see DayCommit).
  for (const f of fetched) f.chunks = [];
  merged.rows = { chunks: [] };
  // Encoding and the window hashes run in a worker thread: paging goes on meanwhile.
  const encoded = await encodeDayColumns(job);
  signal.throwIfAborted();
  if (!encoded.body) return { encoded, data: commit.ledgerDay?.data };
  const key = dataKey(table, day);
  const body = encoded.body;
  await store.put(key, body, {
    contentType: 'application/vnd.apache.parquet',
    ...(encoded.sha256 && encoded.md5 ? { digests: { md5: encoded.md5, sha256: encoded.sha256 } } : {}),
  });
  return {
    encoded,
    data: {
      key,
      events: encoded.events,
      bytes: body.byteLength,
      sha256: encoded.sha256 ?? createHash('sha256').update(body).digest('hex'),
      writtenAt: iso(now()),
    },
  };
}

/** Sub-step 3: the day's ledger document with every fetched window recorded complete, written last. */
export async function recordWindows(
  commit: DayCommit,
  written: WrittenDay,
  /** Events each fetched window returned (its records may be gone by now). */
  fetchedCounts: readonly number[],
): Promise<{ ledgerDay: LedgerDay; reswept: number }> {
  const { store, table, source, instance, day, fetched, now } = commit;
  // A copy: the run's ledger changes only once the document is written.
  const windows = { ...(commit.ledgerDay?.windows ?? {}) };
  const sweptAt = iso(now());
  let reswept = 0;
  for (const [i, f] of fetched.entries()) {
    const previous = windows[iso(f.window.start)];
    if (previous?.complete) reswept++;
    const record: WindowRecord = {
      start: iso(f.window.start),
      end: iso(f.window.end),
      complete: true,
      sweptAt,
      firstSweptAt: previous?.firstSweptAt ?? sweptAt,
      sweeps: (previous?.sweeps ?? 0) + 1,
      pages: f.pages,
      fetched: fetchedCounts[i]!,
      archived: written.encoded.windows[i]!.archived,
      contentHash: written.encoded.windows[i]!.contentHash,
    };
    windows[record.start] = record;
  }
  const base = commit.ledgerDay ?? emptyLedgerDay(source.name, instance, day);
  const ledgerDay: LedgerDay = {
    ...base,
    windows: Object.fromEntries(Object.entries(windows).sort(([a], [b]) => (a < b ? -1 : 1))),
    ...(written.data ? { data: written.data } : {}),
    updatedAt: sweptAt,
  };
  await writeLedgerDay(store, table, ledgerDay);
  return { ledgerDay, reswept };
}
