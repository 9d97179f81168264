/**
 * A day's Parquet encoding and window content hashes, off the event loop: one `node:worker_threads`
 * worker per process encodes while the main thread keeps paging (and a second core is used).
 * The day crosses as columns (lambdas/core/columns.ts), not as record objects: the structured clone
 * of records cost ~7.6 µs/event of both threads' CPU, columns ~3.
 *
 * The worker runs this same module in each of the three ways the code runs:
 * - the single-file CJS Lambda bundle: the bundle spawns itself (`new Worker(__filename)`) with a
 *   `workerData` flag that this module checks at load, so no second file and no CDK change;
 * - TypeScript sources under tsx (the CLI registers tsx with `register()`, which workers do not
 *   inherit) and under Vitest: an eval'd entry registers tsx's require hook and requires this file.
 *
 * `PARQUET_WORKER=off` encodes on the main thread, and so does every job once a worker could not
 * start. A worker that fails later rejects its jobs (the day fails; the next run retries it) and
 * the next job starts a new worker. At most {@link MAX_JOBS_IN_WORKER} days are handed over at a
 * time; the rest wait (their records are held by their days anyway), so memory stays bounded.
 */
import { createHash } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import {
  type ChunkedRows,
  type Column,
  columnsOf,
  gatheredStrings,
  gatheredTimes,
  type RecordColumns,
  rowCount,
} from '../../core/columns';
import { type ArchiveCodec, encodeParquetColumns } from '../../core/parquet';
import type { ArchiveRecord, FieldSpec } from '../../core/records';

/** The `workerData` key that makes this module a worker when it is loaded. */
const WORKER_FLAG = 'eventlog-archive/parquet-worker';
/**
 * The worker thread's nice value (Linux): the main thread pages the source, and each response it
 * handles late delays the next request of that window; the worker's work is throughput, never
 * waited on page by page. Measured at a million events on two cores: ~2 ms less per page round
 * trip, 2–3% less time (bench/README.md). The worker still gets every core the main thread leaves.
 */
export const WORKER_NICE = 10;

/** Days handed to the worker at once: one encoding, one queued behind it. */
export const MAX_JOBS_IN_WORKER = 2;

/** One day to encode: records already in archive order (time, then id). */
export interface EncodeDayJob {
  fields: readonly FieldSpec[];
  records: readonly ArchiveRecord[];
  timeField: string;
  idField: string;
  /** Write the Parquet body (false: only the window hashes are needed). */
  encode: boolean;
  /** Columns that get min/max statistics (default: all). */
  statisticsFor?: readonly string[];
  /** The codec of the object (default: the archive's, ZSTD). */
  codec?: ArchiveCodec;
  metadata?: Record<string, string>;
  /** Half-open windows `[start, end)` (epoch ms) whose records are counted and hashed. */
  windows: readonly { start: number; end: number }[];
}

/**
 * A job as it crosses to the worker: the records as chunks of columns. Either already in archive order (time, then id: {@link toColumnJob}), or, with `union`,
 * a day's archived rows and fetched pages that the worker unions by id and orders itself
 * (lambdas/ingest/steps/commit-day.ts): the main thread, which pages the source, is spared it.
 */
export interface ColumnJob extends Omit<EncodeDayJob, 'records' | 'encode'> {
  rows: ChunkedRows;
  /**
   * Write the Parquet body: always, never, or (`'if-changed'`) when the union added an event or the
   * day had no object (`union.existed` false) and has events.
   */
  encode: boolean | 'if-changed';
  /** Order the union of `rows` (which must have no order): the first `archivedRows` are the archived day's. */
  union?: { archivedRows: number; existed: boolean };
}

export interface EncodedDay {
  /** The Parquet file and its SHA-256 and MD5 (hex), when it was written (see `encode`). */
  body?: Uint8Array;
  sha256?: string;
  md5?: string;
  /** Events the day holds, and how many of them were not archived before (all, without `union`). */
  events: number;
  added: number;
  /** Per window of the job, in its order. */
  windows: { archived: number; contentHash: string }[];
  /** Where it was encoded. */
  encodedIn: 'worker' | 'main';
}

/**
 * `sha256:` over the identities (`<epoch ms> <id>` lines) of records already in archive order.
 * Archived events never change (a rewrite is a union that keeps the archived form), so a window's
 * content is determined by which events it holds; their bytes are covered by the day object's
 * SHA-256 in the ledger and the integrity digests. Hashing identities instead of whole records costs
 * ~1 µs/event instead of ~7 (bench/), on the thread that is the ingest's bottleneck.
 */
export function identityHash(
  timeField: string,
  idField: string,
  sortedRecords: readonly ArchiveRecord[],
): string {
  const times = Float64Array.from(sortedRecords, (r) => (r[timeField] as Date).getTime());
  return identityHashOfRows(
    times,
    sortedRecords.map((r) => r[idField] as string | null),
    0,
    sortedRecords.length,
  );
}

/** First index whose time is >= t (times ascending). */
function lowerBound(times: Float64Array, t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** {@link identityHash} of rows [from, to) of columns in archive order. */
function identityHashOfRows(
  times: Float64Array,
  ids: readonly (string | null)[],
  from: number,
  to: number,
): string {
  const lines: string[] = [];
  for (let i = from; i < to; i++) lines.push(`${times[i]} ${String(ids[i])}\n`);
  return `sha256:${createHash('sha256').update(lines.join('')).digest('hex')}`;
}

/**
 * The rows of the union by id (the first row of each id: archived rows come first) in archive order,
 * time then id, as global row indices of the chunks.
 */
export function unionOrder(
  fields: readonly FieldSpec[],
  timeField: string,
  idField: string,
  chunks: readonly RecordColumns[],
): Int32Array {
  const all: ChunkedRows = { chunks };
  const times = gatheredTimes(fields, timeField, all);
  const ids = gatheredStrings(fields, idField, all).map(String);
  const seen = new Set<string>();
  const first = new Int32Array(ids.length);
  let n = 0;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (seen.has(id)) continue;
    seen.add(id);
    first[n++] = i;
  }
  return first.slice(0, n).sort((a, b) => {
    const dt = times[a]! - times[b]!;
    if (dt !== 0) return dt;
    const ia = ids[a]!;
    const ib = ids[b]!;
    return ia < ib ? -1 : ia > ib ? 1 : 0;
  });
}

function encodeColumnsSync(job: ColumnJob, encodedIn: EncodedDay['encodedIn']): EncodedDay {
  let rows = job.rows;
  let added = rowCount(rows);
  let encode = job.encode === true;
  if (job.union) {
    if (rows.order) throw new Error('a union job takes rows without an order');
    rows = { chunks: rows.chunks, order: unionOrder(job.fields, job.timeField, job.idField, rows.chunks) };
    added = rowCount(rows) - job.union.archivedRows;
    encode = job.encode === 'if-changed' ? added > 0 || (!job.union.existed && rowCount(rows) > 0) : encode;
  }
  const events = rowCount(rows);
  const times = gatheredTimes(job.fields, job.timeField, rows);
  const ids = gatheredStrings(job.fields, job.idField, rows);
  const windows = job.windows.map((w) => {
    const from = lowerBound(times, w.start);
    const to = lowerBound(times, w.end);
    return { archived: to - from, contentHash: identityHashOfRows(times, ids, from, to) };
  });
  if (!encode) return { events, added, windows, encodedIn };
  const body = encodeParquetColumns(job.fields, rows, {
    metadata: job.metadata,
    statisticsFor: job.statisticsFor,
    ...(job.codec ? { codec: job.codec } : {}),
  });
  return {
    body,
    sha256: createHash('sha256').update(body).digest('hex'),
    // The local store's ETag: hashed here rather than on the event loop (PutOptions.digests).
    md5: createHash('md5').update(body).digest('hex'),
    events,
    added,
    windows,
    encodedIn,
  };
}

/** The job with its records as columns, the form that crosses to the worker. */
export function toColumnJob(job: EncodeDayJob): ColumnJob {
  const { records, ...rest } = job;
  return { ...rest, rows: { chunks: [columnsOf(job.fields, records)] } };
}

/** Encodes a day synchronously, on whatever thread calls it. */
export function encodeDaySync(job: EncodeDayJob, encodedIn: EncodedDay['encodedIn'] = 'main'): EncodedDay {
  return encodeColumnsSync(toColumnJob(job), encodedIn);
}

// ------------------------------------------------------------------------------------------------
// Worker side

type Request = { id: number; job: ColumnJob };
type Reply =
  | { ready: true; nice: number | undefined }
  | { id: number; result: EncodedDay }
  | { id: number; error: { name: string; message: string; stack?: string } };

/**
 * Lowers the calling thread's priority to {@link WORKER_NICE}; its nice value after, or undefined
 * where threads cannot be told apart (`/proc/thread-self` is Linux's). Lowering one's own priority
 * needs no privilege.
 */
function lowerThreadPriority(): number | undefined {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return undefined;
    setPriority(tid, WORKER_NICE);
    return WORKER_NICE;
  } catch {
    return undefined;
  }
}

if (!isMainThread && parentPort && (workerData as Record<string, unknown> | null)?.[WORKER_FLAG] === true) {
  const port = parentPort;
  const nice = lowerThreadPriority();
  port.on('message', ({ id, job }: Request) => {
    let reply: Reply;
    try {
      reply = { id, result: encodeColumnsSync(job, 'worker') };
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      reply = { id, error: { name: e.name, message: e.message, stack: e.stack } };
    }
    const body = 'result' in reply ? reply.result.body : undefined;
    // The body's memory moves to the main thread instead of being copied.
    port.postMessage(reply, body ? [body.buffer as ArrayBuffer] : []);
  });
  port.postMessage({ ready: true, nice } satisfies Reply);
}

// ------------------------------------------------------------------------------------------------
// Main-thread side

/** A failure of the worker itself (not of an encoding), surfaced as a failed day. */
export class ParquetWorkerError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ParquetWorkerError';
  }
}

interface Pending {
  job: ColumnJob;
  resolve: (day: EncodedDay) => void;
  reject: (err: unknown) => void;
}

interface WorkerState {
  worker: Worker;
  ready: boolean;
  failed: boolean;
  pending: Map<number, Pending>;
}

let current: WorkerState | undefined;
/** Set once a worker could not start: everything is encoded on the main thread from then on. */
let unavailable: string | undefined;
let nextId = 1;
let handedOver = 0;
const waiting: (() => void)[] = [];
const counters = { worker: 0, main: 0, workersStarted: 0 };
/** The nice value the last started worker runs at (undefined: unknown, or not lowered). */
let workerNice: number | undefined;

/** What has been encoded where in this process (tests and the bench read it). */
export function parquetWorkerStats(): {
  worker: number;
  main: number;
  workersStarted: number;
  workerNice?: number;
  unavailable?: string;
} {
  return {
    ...counters,
    ...(workerNice !== undefined ? { workerNice } : {}),
    ...(unavailable ? { unavailable } : {}),
  };
}

/**
 * Encodes a day in the worker (or on the main thread when `PARQUET_WORKER=off` or no worker can
 * start). The job's records must not be changed until the promise settles.
 */
export async function encodeDay(job: EncodeDayJob): Promise<EncodedDay> {
  return encodeDayColumns(toColumnJob(job));
}

/** {@link encodeDay} of a job already in columns: the caller may let the records go meanwhile. */
export async function encodeDayColumns(columns: ColumnJob): Promise<EncodedDay> {
  if (process.env.PARQUET_WORKER === 'off' || unavailable !== undefined) return encodeOnMain(columns);
  while (handedOver >= MAX_JOBS_IN_WORKER) await new Promise<void>((resolve) => waiting.push(resolve));
  handedOver++;
  try {
    return await encodeInWorker(columns);
  } finally {
    handedOver--;
    waiting.shift()?.();
  }
}

function encodeOnMain(job: ColumnJob): EncodedDay {
  counters.main++;
  return encodeColumnsSync(job, 'main');
}

function encodeInWorker(job: ColumnJob): Promise<EncodedDay> {
  let state: WorkerState;
  try {
    state = current ?? startWorker();
  } catch (err) {
    unavailable = `cannot start: ${(err as Error)?.message ?? String(err)}`;
    return Promise.resolve(encodeOnMain(job));
  }
  return new Promise<EncodedDay>((resolve, reject) => {
    const id = nextId++;
    state.pending.set(id, { job, resolve, reject });
    // Keeps the process alive while a job is out; an idle worker does not.
    state.worker.ref();
    // A started worker gets the columns' memory instead of a copy (the caller has let the rows go).
    // Before it is ready, a job may still have to be encoded here if it cannot start: copied.
    state.worker.postMessage({ id, job } satisfies Request, state.ready ? columnBuffers(job.rows) : []);
  });
}

/** The ArrayBuffers under the rows' typed arrays, each once (as a transfer list must have them). */
export function columnBuffers(rows: ChunkedRows): ArrayBuffer[] {
  const buffers = new Set<ArrayBufferLike>();
  const visit = (column: Column): void => {
    if (column instanceof Float64Array) buffers.add(column.buffer);
    else if (Array.isArray(column)) return;
    else if ('utf8' in column) {
      buffers.add(column.utf8.buffer);
      buffers.add(column.offsets.buffer);
      buffers.add(column.present.buffer);
    } else if ('indexes' in column) buffers.add(column.indexes.buffer);
    else if ('children' in column) {
      buffers.add(column.present.buffer);
      for (const child of column.children) visit(child);
    }
  };
  for (const chunk of rows.chunks) for (const column of chunk.columns) visit(column);
  if (rows.order) buffers.add(rows.order.buffer);
  return [...buffers].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
}

function startWorker(): WorkerState {
  const worker = spawn();
  const state: WorkerState = { worker, ready: false, failed: false, pending: new Map() };
  current = state;
  counters.workersStarted++;
  worker.unref();
  // 'error' is followed by 'exit': the first one tells what happened.
  const fail = (err: unknown): void => {
    if (state.failed) return;
    state.failed = true;
    if (current === state) current = undefined;
    const jobs = [...state.pending.values()];
    state.pending.clear();
    if (!state.ready) {
      // Could not even load: encode here from now on (and these jobs too).
      unavailable = `cannot start: ${(err as Error)?.message ?? String(err)}`;
      for (const p of jobs) {
        try {
          p.resolve(encodeOnMain(p.job));
        } catch (e) {
          p.reject(e);
        }
      }
      return;
    }
    for (const p of jobs)
      p.reject(
        new ParquetWorkerError(`Parquet worker failed: ${(err as Error)?.message ?? String(err)}`, {
          cause: err,
        }),
      );
  };
  worker.on('message', (reply: Reply) => {
    if ('ready' in reply) {
      state.ready = true;
      workerNice = reply.nice;
      return;
    }
    const p = state.pending.get(reply.id);
    if (!p) return;
    state.pending.delete(reply.id);
    if (state.pending.size === 0) worker.unref();
    if ('error' in reply) {
      const err = new Error(reply.error.message);
      err.name = reply.error.name;
      if (reply.error.stack) err.stack = reply.error.stack;
      p.reject(err);
    } else {
      counters.worker++;
      p.resolve(reply.result);
    }
  });
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`worker exited with code ${code}`)));
  return state;
}

/** Where this module's file is: `__filename` in CJS (the bundle) and under Vitest, else the stack. */
function thisModuleFile(): string {
  if (typeof __filename === 'string' && __filename !== '') return __filename;
  // ESM under tsx has no __filename, and `import.meta` would be empty in the CJS bundle (esbuild
  // warns about it there), so the first stack frame names this file.
  const frame = /((?:file:\/\/)?\/[^\s():]*parquet-worker\.[cm]?[jt]s)/.exec(new Error().stack ?? '')?.[1];
  if (!frame) throw new Error('cannot tell where parquet-worker is');
  return frame.startsWith('file:') ? fileURLToPath(frame) : frame;
}

function spawn(): Worker {
  const file = thisModuleFile();
  const data = { [WORKER_FLAG]: true };
  if (/\.[cm]?js$/.test(file)) return new Worker(file, { workerData: data });
  // TypeScript sources: the worker needs tsx. Its ESM hooks (`register()` of the CLI, `--import`)
  // do not reach a worker on Node 20, so the worker registers tsx's require hook, which compiles
  // this file and its imports (ESM packages included) on Node 20 and 22 alike.
  const tsx = createRequire(file).resolve('tsx/cjs/api');
  const code = `require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(file)});`;
  return new Worker(code, { eval: true, workerData: data });
}
