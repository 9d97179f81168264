/**
 * The ingest of one source instance, the same code in Lambda and in the CLI, as named steps:
 *
 * 1. plan: the run's range (backfill period or an explicit one) cut into fixed UTC windows, less the
 *    windows the ledger already holds as final (steps/plan.ts);
 * 2. sweep: days oldest first within the time budget (steps/schedule-days.ts), each day's windows
 *    fetched concurrently under an adaptive limit that halves when the source throttles
 *    (steps/fetch-window.ts), then committed: union, data object, ledger (steps/commit-day.ts);
 * 3. seal: each day final in the ledger gets its signed digest (archive/seal.ts);
 * 4. report: the run's figures and how far the backfill period is contiguously complete.
 *
 * All of it runs inside the instance's lease. The ledger write comes last in a day's commit, so a
 * crash at any point leaves either an unrecorded (re-fetched next time) or a recorded and durable
 * window; the union means a rewrite never removes what an earlier run archived.
 */
import { setMaxListeners } from 'node:events';
import { ArchiveError, daysBetween, errorSummary, floorTo, iso, MINUTE_MS } from '@eventlog-archive/shared';
import { type DigestSigner, digestSignerFromEnv } from '../core/digest-signer';
import { type LedgerDay, readLedgerDays } from '../core/ledger';
import { deliverPendingDays } from '../core/security-lake';
import { Lease, LeaseBusyError, LeaseLostError } from './archive/lease';
import { sealDigests } from './archive/seal';
import {
  finishRun,
  type IngestRequest,
  type IngestResult,
  type InstanceRun,
  recordPartial,
  startRun,
} from './instance-state';
import { type Plan, planWindows } from './steps/plan';
import { coveredThrough } from './steps/report';
import { sweep } from './steps/sweep';

export {
  type IngestProgress,
  type IngestRequest,
  type IngestResult,
  partialResultOf,
  type SecurityLakeDelivery,
  SourceFailedError,
} from './instance-state';
export type { CommitStep } from './steps/commit-day';
export { DEFAULT_SETTINGS, type IngestSettings } from './steps/plan';
export { contiguousCoverage, coveredThrough } from './steps/report';

/** Ingests one source instance. Throws `SourceFailedError` for fatal source errors. */
export async function ingestInstance(request: IngestRequest): Promise<IngestResult> {
  const run = startRun(request);
  if (run.range.from >= run.range.to) return finishRun(run, await coverage(run, new Map()));
  const signer = request.signer ?? (await digestSignerFromEnv(request.store.uri));
  const abort = new AbortController();
  // Every in-flight request and backoff sleep listens to this one signal.
  setMaxListeners(0, abort.signal);
  const lease = await acquireLease(run, abort);
  // Busy: another run holds the lease. Reading the ledger needs no lease: the holder writes whole documents.
  if (!lease) return finishRun(run, await coverage(run, new Map()));
  const hardTimer = request.hardDeadline
    ? setTimeout(
        () => abort.abort(new ArchiveError('hard deadline reached')),
        Math.max(0, request.hardDeadline - run.now()),
      )
    : undefined;
  let ledger: Map<string, LedgerDay> | undefined;
  try {
    ledger = await readPlanLedger(run);
    const plan = planWindows(run.range, ledger, run.settings);
    logPlan(run, plan);
    await sweep(run, plan, ledger, abort);
    if (lease.lost) throw new LeaseLostError();
    // Seal final days into the digest chain. A failure leaves them unsealed; the next run retries.
    if (!abort.signal.aborted) await seal(run, ledger, signer, plan);
    // Only now, with every committed day durable in the archive: deliver to Security Lake.
    if (!abort.signal.aborted && !lease.lost) await deliver(run);
    return finishRun(run, await coverage(run, ledger));
  } catch (err) {
    recordPartial(run, ledger, err);
    throw err;
  } finally {
    clearTimeout(hardTimer);
    await lease.release().catch((err: unknown) =>
      request.logger?.warn('could not release the lease; it expires by itself', {
        error: errorSummary(err),
      }),
    );
  }
}

/** The instance's lease, or undefined (and the result marked busy) when another run holds it. */
async function acquireLease(run: InstanceRun, abort: AbortController): Promise<Lease | undefined> {
  const { request, started } = run;
  try {
    const ttlMs = request.hardDeadline
      ? Math.max(60_000, request.hardDeadline - started + 60_000)
      : 5 * MINUTE_MS;
    return await Lease.acquire(request.store, run.table, {
      ttlMs,
      now: run.now,
      onLost: () => abort.abort(new LeaseLostError()),
    });
  } catch (err) {
    if (!(err instanceof LeaseBusyError)) throw err;
    request.logger?.warn('another run holds the lease; nothing done', {
      source: request.source.name,
      instance: request.instance,
      holder: err.holder,
      expiresAt: err.expiresAt,
    });
    run.result.status = 'busy';
    run.result.busy = { holder: err.holder, expiresAt: err.expiresAt };
    return undefined;
  }
}

function readPlanLedger(run: InstanceRun): Promise<Map<string, LedgerDay>> {
  const days = daysBetween(run.range.from, run.range.to);
  return readLedgerDays(run.request.store, run.table, days);
}

function logPlan(run: InstanceRun, plan: Plan): void {
  run.progress.windowsTotal = plan.windows;
  run.request.logger?.info('ingest planned', {
    source: run.request.source.name,
    instance: run.request.instance,
    from: iso(run.range.from),
    to: iso(run.range.to),
    windows: plan.windows,
    days: plan.days.size,
    explicit: run.range.explicit,
  });
}

async function seal(
  run: InstanceRun,
  ledger: Map<string, LedgerDay>,
  signer: DigestSigner,
  plan: Plan,
): Promise<void> {
  const { request, result, settings } = run;
  try {
    result.sealed = await sealDigests({
      store: request.store,
      table: run.table,
      source: request.source.name,
      instance: request.instance,
      signer,
      sliceMs: settings.sliceMs,
      lookbackMs: settings.lookbackMs,
      now: run.now,
      ledger,
      touchedDays: [...plan.days.keys()],
      onDigestWritten: (day) => request.onStep?.('digest-written', day),
    });
  } catch (err) {
    result.failures.push(
      `seal: ${(err as Error)?.name ?? 'Error'}: ${(err as Error)?.message ?? String(err)}`,
    );
    request.logger?.warn('digests not written; the next run retries', {
      source: request.source.name,
      instance: request.instance,
      error: errorSummary(err),
    });
  }
}

// Room left before the hard deadline when a day's delivery may still start.
const DELIVERY_RESERVE_MS = 30_000;

/**
 * Delivers the instance's days whose archive data object differs from what the export ledger
 * records. Never throws: Security Lake being down never fails the archive or the run.
 */
async function deliver(run: InstanceRun): Promise<void> {
  const { request } = run;
  const lake = request.securityLake;
  if (!lake) return;
  try {
    const sink = typeof lake.sink === 'function' ? await lake.sink() : lake.sink;
    run.result.securityLake = await deliverPendingDays({
      store: request.store,
      source: request.source,
      instance: request.instance,
      target: lake.target,
      sink,
      now: run.now,
      ...(lake.maxDaysPerRun !== undefined ? { maxDays: lake.maxDaysPerRun } : {}),
      ...(request.hardDeadline !== undefined ? { deadline: request.hardDeadline - DELIVERY_RESERVE_MS } : {}),
      ...(request.logger ? { logger: request.logger } : {}),
    });
  } catch (err) {
    run.result.securityLake = {
      delivered: 0,
      events: 0,
      pending: 0,
      failures: 1,
      error: `${(err as Error)?.name ?? 'Error'}: ${(err as Error)?.message ?? String(err)}`,
    };
    request.logger?.warn('Security Lake delivery failed; the next run retries', {
      source: request.source.name,
      instance: request.instance,
      error: errorSummary(err),
    });
  }
}

/**
 * Coverage of the backfill period up to the last window that has ended; ledger days not in `loaded`
 * are read (an explicit range or an early return has not read them all).
 */
function coverage(run: InstanceRun, loaded: ReadonlyMap<string, LedgerDay>): Promise<string | null> {
  const { settings } = run;
  const until = floorTo(run.now(), settings.sliceMs);
  return coveredThrough(
    run.request.store,
    run.table,
    loaded,
    run.range.backfillFrom,
    until,
    settings.sliceMs,
  );
}
