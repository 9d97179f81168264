/**
 * The ingest pipeline of one source instance, the same code in Lambda and in the CLI.
 *
 * Time is cut into fixed UTC windows. Windows are paged concurrently (each page takes a slot of an
 * adaptive limit that halves when the source throttles), grouped by UTC day, and each day is
 * committed as: read the day's Parquet object, union by id with what was fetched, write it back
 * atomically, then record the windows in the ledger. The ledger write comes last, so a crash at any
 * point leaves either an unrecorded (re-fetched next time) or a recorded and durable window; the
 * union means a rewrite never removes what an earlier run archived.
 */
import { createHash, randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import {
  AdaptiveLimiter,
  ArchiveError,
  classifyError,
  DAY_MS,
  daysBetween,
  ErrorClass,
  errorSummary,
  floorTo,
  iso,
  type Logger,
  MINUTE_MS,
  paginate,
  type RetryOptions,
  sliceWindows,
  type TimeWindow,
  utcDay,
  withRetry,
} from '@eventlog-archive/shared';
import { type DigestSigner, digestSignerFromEnv } from '../core/digest-signer';
import { dataKey, type TableLocation } from '../core/layout';
import {
  DEFAULT_WINDOWS,
  emptyLedgerDay,
  type LedgerDay,
  readLedgerDays,
  type WindowRecord,
  WindowStatus,
  windowStatus,
  writeLedgerDay,
} from '../core/ledger';
import type { ArchiveRecord } from '../core/records';
import type { ArchiveStore } from '../core/store';
import { Lease, LeaseBusyError, LeaseLostError } from './archive/lease';
import { decodeParquet } from './archive/parquet';
import { encodeDay, identityHash } from './archive/parquet-worker';
import { type SealResult, sealDigests } from './archive/seal';
import type { SourceClient, SourceModule } from './sources/types';

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

export interface IngestRequest {
  source: SourceModule;
  instance: string;
  store: ArchiveStore;
  client: SourceClient;
  settings?: Partial<IngestSettings>;
  /** Start of an explicit range (every window in it is swept). Without it: every window of the backfill period not yet final. */
  from?: number;
  /** End of the range. Default: the end of the last window that has ended. */
  to?: number;
  /** Stop starting new days at this time (epoch ms); in-flight days still commit. */
  softDeadline?: number;
  /** Abort in-flight fetches at this time; their days are left for the next run. */
  hardDeadline?: number;
  now?: () => number;
  logger?: Logger;
  onProgress?: (progress: IngestProgress) => void;
  /** Retry tuning (tests shorten the backoff). */
  retry?: Pick<RetryOptions, 'maxAttempts' | 'baseMs' | 'throttleBaseMs' | 'capMs'>;
  /** Test hook: called at each step of a day's commit; throwing simulates a crash there. */
  onStep?: (step: CommitStep, day: string) => void | Promise<void>;
  /**
   * Signs the integrity digests. Default: from the environment (`digestSignerFromEnv`): KMS with
   * `DIGEST_SIGNING_KEY_ARN`, else a key file; an S3 archive with neither fails before any work.
   */
  signer?: DigestSigner;
}

export type CommitStep = 'fetched' | 'merged' | 'data-written' | 'ledger-written' | 'digest-written';

export interface IngestProgress {
  windowsTotal: number;
  windowsDone: number;
  daysDone: number;
  events: number;
  pages: number;
  throttles: number;
  retries: number;
  concurrency: number;
  elapsedMs: number;
}

export interface IngestResult extends IngestProgress {
  status: 'complete' | 'partial' | 'busy';
  source: string;
  instance: string;
  from: string;
  to: string;
  /** Events not in the archive before this run. */
  newEvents: number;
  /** Items the source repeated (across pages or windows) and items outside the asked window. */
  duplicates: number;
  outOfRange: number;
  /** Windows of the plan left for a later run (deadline or failure). */
  windowsRemaining: number;
  /** Days that failed (after retries); they are retried by the next run. */
  failures: string[];
  /** Set when another run held the lease and this one did nothing. */
  busy?: { holder: string; expiresAt: string };
  /** Windows swept by this run that the ledger already recorded complete before it (lookback re-sweeps, explicit re-ingest). */
  windowsReswept: number;
  /** Start of the backfill period (now minus backfillDays, window-aligned): where coverage is counted from. */
  backfillFrom: string;
  /**
   * End of the last window such that every window from `backfillFrom` up to it is complete in the
   * ledger after the run; null when the first one is not. Ingestion lag is measured from it.
   */
  coveredThrough: string | null;
  /** The digest chain after the seal step: the last sealed day and how many digests this run wrote. */
  sealed?: SealResult;
}

/** A fatal error of the source for this instance (no access, not found): other instances go on. */
export class SourceFailedError extends ArchiveError {
  constructor(
    readonly source: string,
    readonly instance: string,
    cause: unknown,
  ) {
    const name = (cause as Error | undefined)?.name ?? 'Error';
    const message = (cause as Error | undefined)?.message ?? String(cause);
    super(`${source} ${instance}: ${name}: ${message}`, { cause });
    this.name = 'SourceFailedError';
  }
}

interface FetchedWindow {
  window: TimeWindow;
  records: Map<string, ArchiveRecord>;
  pages: number;
}

/** Ingests one source instance. Throws `SourceFailedError` for fatal source errors. */
export async function ingestInstance(request: IngestRequest): Promise<IngestResult> {
  const { source, instance, store, client, logger } = request;
  const settings = { ...DEFAULT_SETTINGS, backfillDays: source.retentionDays, ...request.settings };
  checkSettings(settings);
  const now = request.now ?? Date.now;
  const started = now();
  const table: TableLocation = {
    table: source.table,
    partitionKey: source.partitionKey,
    partitionValue: source.partitionValue(instance),
  };
  const explicit = request.from !== undefined;
  const backfillFrom = floorTo(started - settings.backfillDays * DAY_MS, settings.sliceMs);
  const from = request.from !== undefined ? floorTo(request.from, settings.sliceMs) : backfillFrom;
  const to = request.to ?? floorTo(started, settings.sliceMs);

  const progress: IngestProgress = {
    windowsTotal: 0,
    windowsDone: 0,
    daysDone: 0,
    events: 0,
    pages: 0,
    throttles: 0,
    retries: 0,
    concurrency: settings.maxConcurrency,
    elapsedMs: 0,
  };
  const result: IngestResult = {
    ...progress,
    status: 'complete',
    source: source.name,
    instance,
    from: iso(from),
    to: iso(to),
    newEvents: 0,
    duplicates: 0,
    outOfRange: 0,
    windowsRemaining: 0,
    failures: [],
    windowsReswept: 0,
    backfillFrom: iso(backfillFrom),
    coveredThrough: null,
  };
  // Coverage of the backfill period up to the last window that has ended; ledger days not in
  // `loaded` are read (an explicit range or an early return has not read them all).
  const coverage = (loaded: ReadonlyMap<string, LedgerDay>): Promise<string | null> =>
    coveredThrough(store, table, loaded, backfillFrom, floorTo(now(), settings.sliceMs), settings.sliceMs);
  const finish = (): IngestResult => {
    Object.assign(result, progress, { elapsedMs: now() - started });
    if (result.status !== 'busy' && (result.failures.length > 0 || result.windowsRemaining > 0))
      result.status = 'partial';
    return result;
  };
  if (from >= to) {
    result.coveredThrough = await coverage(new Map());
    return finish();
  }
  const signer = request.signer ?? (await digestSignerFromEnv(store.uri));

  const abort = new AbortController();
  // Every in-flight request and backoff sleep listens to this one signal.
  setMaxListeners(0, abort.signal);
  let lease: Lease;
  try {
    const ttlMs = request.hardDeadline
      ? Math.max(60_000, request.hardDeadline - started + 60_000)
      : 5 * MINUTE_MS;
    lease = await Lease.acquire(store, table, {
      ttlMs,
      now,
      onLost: () => abort.abort(new LeaseLostError()),
    });
  } catch (err) {
    if (err instanceof LeaseBusyError) {
      logger?.warn('another run holds the lease; nothing done', {
        source: source.name,
        instance,
        holder: err.holder,
        expiresAt: err.expiresAt,
      });
      result.status = 'busy';
      result.busy = { holder: err.holder, expiresAt: err.expiresAt };
      // Reading the ledger needs no lease: the holder writes whole documents.
      result.coveredThrough = await coverage(new Map());
      return finish();
    }
    throw err;
  }
  const hardTimer = request.hardDeadline
    ? setTimeout(
        () => abort.abort(new ArchiveError('hard deadline reached')),
        Math.max(0, request.hardDeadline - now()),
      )
    : undefined;

  let ledgerRead: ReadonlyMap<string, LedgerDay> | undefined;
  try {
    const windows = sliceWindows(from, to, settings.sliceMs);
    const days = [...new Set(windows.map((w) => utcDay(w.start)))];
    const ledger = await readLedgerDays(store, table, days);
    ledgerRead = ledger;
    const todo = windows.filter(
      (w) =>
        explicit ||
        windowStatus(ledger.get(utcDay(w.start))?.windows[iso(w.start)], settings.lookbackMs) !==
          WindowStatus.Final,
    );
    progress.windowsTotal = todo.length;
    const byDay = new Map<string, TimeWindow[]>();
    for (const w of todo) {
      const day = utcDay(w.start);
      const list = byDay.get(day) ?? [];
      list.push(w);
      byDay.set(day, list);
    }
    logger?.info('ingest planned', {
      source: source.name,
      instance,
      from: iso(from),
      to: iso(to),
      windows: todo.length,
      days: byDay.size,
      explicit,
    });

    const limiter = new AdaptiveLimiter(settings.maxConcurrency);
    const retry: RetryOptions = {
      maxAttempts: 8,
      ...request.retry,
      signal: abort.signal,
      onRetry: ({ errorClass, delayMs, attempt, error }) => {
        if (errorClass === ErrorClass.Throttled) {
          progress.throttles++;
          limiter.onThrottle(now());
        } else {
          progress.retries++;
        }
        logger?.debug('retrying page', { errorClass, attempt, delayMs, error: errorSummary(error) });
      },
    };
    const report = (): void => {
      progress.concurrency = limiter.limit;
      progress.elapsedMs = now() - started;
      request.onProgress?.({ ...progress });
    };

    let fatal: unknown;
    const fetchWindow = async (window: TimeWindow): Promise<FetchedWindow> => {
      const records = new Map<string, ArchiveRecord>();
      let pages = 0;
      for await (const page of paginate({
        pageSize: source.pageSize,
        pageSizeLimits: source.pageSizeLimits,
        signal: abort.signal,
        fetchPage: (nextToken, pageSize) =>
          withRetry(
            () =>
              limiter.run(() =>
                client.listPage({
                  instance,
                  start: window.start,
                  end: window.end,
                  nextToken,
                  pageSize,
                  signal: abort.signal,
                }),
              ),
            retry,
          ),
      })) {
        limiter.onSuccess();
        pages++;
        progress.pages++;
        for (const record of page.items) {
          const time = (record[source.timeField] as Date | null)?.getTime() ?? Number.NaN;
          // The window is half-open; a source that includes its end (or strays) is cut here, the neighbour gets it.
          if (!(time >= window.start && time < window.end)) {
            result.outOfRange++;
            continue;
          }
          const id = String(record[source.idField]);
          if (records.has(id)) result.duplicates++;
          else records.set(id, record);
        }
      }
      progress.windowsDone++;
      progress.events += records.size;
      report();
      return { window, records, pages };
    };

    const commitDay = async (day: string, fetched: FetchedWindow[]): Promise<void> => {
      await request.onStep?.('fetched', day);
      const key = dataKey(table, day);
      const existing = await store.get(key);
      const merged = new Map<string, ArchiveRecord>();
      if (existing)
        for (const record of await decodeParquet(source.fields, existing.body))
          merged.set(String(record[source.idField]), record);
      const before = merged.size;
      // Union by id; an event already archived keeps its archived form.
      for (const f of fetched)
        for (const [id, record] of f.records) if (!merged.has(id)) merged.set(id, record);
      const added = merged.size - before;
      const sorted = sortRecords(source, [...merged.values()]);
      await request.onStep?.('merged', day);
      if (abort.signal.aborted) throw abort.signal.reason;

      // A copy: the in-memory ledger changes only once the document is written.
      const known = ledger.get(day);
      const doc: LedgerDay = known
        ? { ...known, windows: { ...known.windows } }
        : emptyLedgerDay(source.name, instance, day);
      let data = doc.data;
      // Encoding and the window hashes run in a worker thread: paging goes on meanwhile.
      const encoded = await encodeDay({
        fields: source.fields,
        records: sorted,
        timeField: source.timeField,
        idField: source.idField,
        encode: added > 0 || (!existing && sorted.length > 0),
        statisticsFor: [source.timeField, source.idField],
        metadata: { source: source.name, instance, day },
        windows: fetched.map((f) => f.window),
      });
      if (abort.signal.aborted) throw abort.signal.reason;
      if (encoded.body) {
        const body = encoded.body;
        await store.put(key, body, { contentType: 'application/vnd.apache.parquet' });
        data = {
          key,
          events: sorted.length,
          bytes: body.byteLength,
          sha256: encoded.sha256 ?? sha256(body),
          writtenAt: iso(now()),
        };
      }
      await request.onStep?.('data-written', day);
      if (abort.signal.aborted) throw abort.signal.reason;

      const sweptAt = iso(now());
      let reswept = 0;
      for (const [i, f] of fetched.entries()) {
        const previous = doc.windows[iso(f.window.start)];
        if (previous?.complete) reswept++;
        const record: WindowRecord = {
          start: iso(f.window.start),
          end: iso(f.window.end),
          complete: true,
          sweptAt,
          firstSweptAt: previous?.firstSweptAt ?? sweptAt,
          sweeps: (previous?.sweeps ?? 0) + 1,
          pages: f.pages,
          fetched: f.records.size,
          archived: encoded.windows[i]!.archived,
          contentHash: encoded.windows[i]!.contentHash,
        };
        doc.windows[record.start] = record;
      }
      doc.windows = Object.fromEntries(Object.entries(doc.windows).sort(([a], [b]) => (a < b ? -1 : 1)));
      const next: LedgerDay = { ...doc, ...(data ? { data } : {}), updatedAt: sweptAt };
      await writeLedgerDay(store, table, next);
      ledger.set(day, next);
      await request.onStep?.('ledger-written', day);
      result.newEvents += added;
      result.windowsReswept += reswept;
      progress.daysDone++;
      logger?.info('day archived', {
        source: source.name,
        instance,
        day,
        windows: fetched.length,
        events: sorted.length,
        newEvents: added,
        encodedIn: encoded.encodedIn,
      });
      report();
    };

    const processDay = async (day: string, dayWindows: TimeWindow[]): Promise<void> => {
      const settled = await Promise.allSettled(dayWindows.map(fetchWindow));
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) {
        if (classifyError(failed.reason) === ErrorClass.Fatal && !abort.signal.aborted) {
          fatal ??= failed.reason;
          abort.abort(failed.reason);
        }
        throw failed.reason;
      }
      await commitDay(
        day,
        settled.map((s) => (s as PromiseFulfilledResult<FetchedWindow>).value),
      );
    };

    // Days start oldest first; a bounded number is in flight so memory is bounded by those days.
    const windowsPerDay = DAY_MS / settings.sliceMs;
    const maxDaysInFlight = Math.max(2, Math.ceil((2 * settings.maxConcurrency) / windowsPerDay) + 1);
    const inFlight = new Set<Promise<void>>();
    const failures: string[] = [];
    let remaining = todo.length;
    for (const [day, dayWindows] of byDay) {
      if (abort.signal.aborted) break;
      if (request.softDeadline !== undefined && now() >= request.softDeadline) {
        logger?.info('time budget used; the next run continues', {
          source: source.name,
          instance,
          nextDay: day,
        });
        break;
      }
      while (inFlight.size >= maxDaysInFlight) await Promise.race(inFlight);
      if (abort.signal.aborted) break;
      const task = processDay(day, dayWindows)
        .then(() => {
          remaining -= dayWindows.length;
        })
        .catch((err: unknown) => {
          failures.push(
            `${day}: ${(err as Error)?.name ?? 'Error'}: ${(err as Error)?.message ?? String(err)}`,
          );
          logger?.warn('day not archived; the next run retries it', {
            source: source.name,
            instance,
            day,
            error: errorSummary(err),
          });
        })
        .finally(() => inFlight.delete(task));
      inFlight.add(task);
    }
    await Promise.all(inFlight);
    if (fatal !== undefined) throw new SourceFailedError(source.name, instance, fatal);
    if (lease.lost) throw new LeaseLostError();
    result.windowsRemaining = remaining;
    result.failures.push(...failures);
    // Seal final days into the digest chain. A failure leaves them unsealed; the next run retries.
    if (!abort.signal.aborted) {
      try {
        result.sealed = await sealDigests({
          store,
          table,
          source: source.name,
          instance,
          signer,
          sliceMs: settings.sliceMs,
          lookbackMs: settings.lookbackMs,
          now,
          ledger,
          touchedDays: [...byDay.keys()],
          onDigestWritten: (day) => request.onStep?.('digest-written', day),
        });
      } catch (err) {
        result.failures.push(
          `seal: ${(err as Error)?.name ?? 'Error'}: ${(err as Error)?.message ?? String(err)}`,
        );
        logger?.warn('digests not written; the next run retries', {
          source: source.name,
          instance,
          error: errorSummary(err),
        });
      }
    }
    result.coveredThrough = await coverage(ledger);
    return finish();
  } catch (err) {
    // What the run did before failing still counts in its metrics (see partialResultOf). Coverage
    // from the ledger as held in memory: no I/O on a failure path.
    if (ledgerRead && typeof err === 'object' && err !== null) {
      result.status = 'partial';
      const until = floorTo(now(), settings.sliceMs);
      result.coveredThrough = contiguousCoverage(ledgerRead, backfillFrom, until, settings.sliceMs);
      partialResults.set(err, finish());
    }
    throw err;
  } finally {
    clearTimeout(hardTimer);
    await lease
      .release()
      .catch((err: unknown) =>
        logger?.warn('could not release the lease; it expires by itself', { error: errorSummary(err) }),
      );
  }
}

const partialResults = new WeakMap<object, IngestResult>();

/**
 * The figures of a run that threw, up to its failure: pages, throttles, retries, events archived by
 * days committed before it, coverage. Undefined when it failed before reading its ledger (then it
 * had fetched and archived nothing).
 */
export function partialResultOf(err: unknown): IngestResult | undefined {
  return typeof err === 'object' && err !== null ? partialResults.get(err) : undefined;
}

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

function checkSettings(s: IngestSettings): void {
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

/** Archive order: event time, then id. The query API pages in the same order. */
export function sortRecords(source: SourceModule, records: ArchiveRecord[]): ArchiveRecord[] {
  return records.sort((a, b) => {
    const ta = (a[source.timeField] as Date).getTime();
    const tb = (b[source.timeField] as Date).getTime();
    if (ta !== tb) return ta - tb;
    const ia = String(a[source.idField]);
    const ib = String(b[source.idField]);
    return ia < ib ? -1 : ia > ib ? 1 : 0;
  });
}

/** A window's content hash: {@link identityHash} of its records in archive order. */
export function contentHash(source: SourceModule, sortedRecords: readonly ArchiveRecord[]): string {
  return identityHash(source.timeField, source.idField, sortedRecords);
}

function sha256(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}

export const newRunId = (): string => randomUUID();
