/**
 * Step: sweep the plan. Each day's windows are fetched concurrently (steps/fetch-window.ts) and the
 * day committed (steps/commit-day.ts), days scheduled within the time budget
 * (steps/schedule-days.ts). A fatal source error (no access, not found) aborts the run and is thrown
 * as `SourceFailedError`; any other failure fails its day only, for the next run to retry.
 */
import {
  AdaptiveLimiter,
  classifyError,
  DAY_MS,
  ErrorClass,
  errorSummary,
  type RetryOptions,
  type TimeWindow,
} from '@eventlog-archive/shared';
import type { LedgerDay } from '../../core/ledger';
import { type InstanceRun, SourceFailedError } from '../instance-state';
import { commitDay } from './commit-day';
import { type FetchedWindow, fetchWindow, type WindowFetcher } from './fetch-window';
import type { Plan } from './plan';
import { maxDaysInFlight, scheduleDays } from './schedule-days';

/** What the days of one sweep share: the run, its ledger as held, the page limit and the abort. */
interface Sweep {
  run: InstanceRun;
  ledger: Map<string, LedgerDay>;
  abort: AbortController;
  limiter: AdaptiveLimiter;
  fetcher: WindowFetcher;
  /** The first fatal source error; it aborts the run. */
  fatal?: unknown;
}

/**
 * Fetches and commits the plan's days within the time budget. A fatal source error (no access, not
 * found) aborts the run and is thrown as `SourceFailedError`; any other failure fails its day only.
 */
export async function sweep(
  run: InstanceRun,
  plan: Plan,
  ledger: Map<string, LedgerDay>,
  abort: AbortController,
): Promise<void> {
  const { request, result, settings } = run;
  const { source, instance, logger } = request;
  const limiter = new AdaptiveLimiter(settings.maxConcurrency);
  const fetcher: WindowFetcher = {
    source,
    client: request.client,
    instance,
    limiter,
    retry: retryOptions(run, limiter, abort.signal),
    signal: abort.signal,
    onPage: () => {
      run.progress.pages++;
    },
  };
  const state: Sweep = { run, ledger, abort, limiter, fetcher };
  const outcome = await scheduleDays({
    days: plan.days,
    runDay: async (day, windows) => commitFetched(state, day, await fetchDay(state, windows)),
    maxInFlight: maxDaysInFlight(settings.maxConcurrency, DAY_MS / settings.sliceMs),
    ...(request.softDeadline !== undefined ? { softDeadline: request.softDeadline } : {}),
    now: run.now,
    signal: abort.signal,
    onBudgetUsed: (nextDay) =>
      logger?.info('time budget used; the next run continues', { source: source.name, instance, nextDay }),
    onDayFailed: (day, err) =>
      logger?.warn('day not archived; the next run retries it', {
        source: source.name,
        instance,
        day,
        error: errorSummary(err),
      }),
  });
  if (state.fatal !== undefined) throw new SourceFailedError(source.name, instance, state.fatal);
  result.windowsRemaining = outcome.windowsLeft;
  result.failures.push(...outcome.failures);
}

/** A day's windows, fetched concurrently; the first failure fails the day (a fatal one, the run). */
async function fetchDay(state: Sweep, windows: readonly TimeWindow[]): Promise<FetchedWindow[]> {
  const { run, abort } = state;
  const settled = await Promise.allSettled(
    windows.map(async (window) => {
      const fetched = await fetchWindow(window, state.fetcher);
      run.result.duplicates += fetched.duplicates;
      run.result.outOfRange += fetched.outOfRange;
      run.progress.windowsDone++;
      run.progress.events += fetched.events;
      reportProgress(state);
      return fetched;
    }),
  );
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    if (classifyError(failed.reason) === ErrorClass.Fatal && !abort.signal.aborted) {
      state.fatal ??= failed.reason;
      abort.abort(failed.reason);
    }
    throw failed.reason;
  }
  return settled.map((s) => (s as PromiseFulfilledResult<FetchedWindow>).value);
}

/** Commits a fetched day and counts it; the sweep's ledger changes only once the day's document is written. */
async function commitFetched(state: Sweep, day: string, fetched: FetchedWindow[]): Promise<void> {
  const { run, ledger } = state;
  const { request, result, progress } = run;
  const committed = await commitDay({
    store: request.store,
    table: run.table,
    source: request.source,
    instance: request.instance,
    day,
    fetched,
    ledgerDay: ledger.get(day),
    now: run.now,
    signal: state.abort.signal,
    ...(request.onStep ? { onStep: request.onStep } : {}),
    ...(request.parquetCodec ? { codec: request.parquetCodec } : {}),
  });
  ledger.set(day, committed.ledgerDay);
  result.newEvents += committed.added;
  result.windowsReswept += committed.reswept;
  progress.daysDone++;
  request.logger?.info('day archived', {
    source: request.source.name,
    instance: request.instance,
    day,
    windows: fetched.length,
    events: committed.events,
    newEvents: committed.added,
    encodedIn: committed.encodedIn,
  });
  reportProgress(state);
}

function reportProgress(state: Sweep): void {
  const { run, limiter } = state;
  run.progress.concurrency = limiter.limit;
  run.progress.elapsedMs = run.now() - run.started;
  run.request.onProgress?.({ ...run.progress });
}

/** Page retries: throttles halve the concurrency limit; the run's abort stops every backoff. */
function retryOptions(run: InstanceRun, limiter: AdaptiveLimiter, signal: AbortSignal): RetryOptions {
  const { progress, request, now } = run;
  return {
    maxAttempts: 8,
    ...request.retry,
    signal,
    onRetry: ({ errorClass, delayMs, attempt, error }) => {
      if (errorClass === ErrorClass.Throttled) {
        progress.throttles++;
        limiter.onThrottle(now());
      } else {
        progress.retries++;
      }
      request.logger?.debug('retrying page', { errorClass, attempt, delayMs, error: errorSummary(error) });
    },
  };
}
