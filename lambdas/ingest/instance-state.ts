/**
 * One run of one instance: the request, its settings and range, and the figures every step adds to.
 * The run's result, the figures of a run that failed (for its metrics), and how a run ends.
 */

import {
  ArchiveError,
  type Clock,
  floorTo,
  iso,
  type Logger,
  type RetryOptions,
} from '@eventlog-archive/shared';
import type { DigestSigner } from '../core/digest-signer';
import type { TableLocation } from '../core/layout';
import type { LedgerDay } from '../core/ledger';
import type { ArchiveCodec } from '../core/parquet';
import type { DeliveryResult, LakeSink, SecurityLakeTarget } from '../core/security-lake';
import type { ArchiveStore } from '../core/store';
import type { SealResult } from './archive/seal';
import type { SourceClient, SourceModule } from './sources/types';
import type { CommitStep } from './steps/commit-day';
import { checkSettings, DEFAULT_SETTINGS, type IngestSettings, type RunRange, runRange } from './steps/plan';
import { contiguousCoverage } from './steps/report';

export interface IngestRequest {
  source: SourceModule;
  instance: string;
  store: ArchiveStore;
  client: SourceClient;
  settings?: Partial<IngestSettings>;
  /**
   * The codec new day objects are written with: the archive's (ZSTD) by default; GZIP writes them as
   * versions before ZSTD did, which the tests use to make archives of both.
   */
  parquetCodec?: ArchiveCodec;
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
  /**
   * Delivers the instance's committed days to an Amazon Security Lake custom source after the
   * archive commit (lambdas/core/security-lake.ts). Its failures never fail the run.
   */
  securityLake?: SecurityLakeDelivery;
}

/** Where and how an instance's days go to Security Lake. */
export interface SecurityLakeDelivery {
  target: SecurityLakeTarget;
  /** The lake bucket, or how to open it (on first use). */
  sink: LakeSink | (() => Promise<LakeSink>);
  /** Most days delivered per run, oldest first. */
  maxDaysPerRun?: number;
}

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
  /** Delivery to Security Lake after the commit (only with `securityLake`): never a run failure. */
  securityLake?: DeliveryResult;
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

/** One run of one instance: what every step reads, and the figures they add to. */
export interface InstanceRun {
  request: IngestRequest;
  settings: IngestSettings;
  table: TableLocation;
  range: RunRange;
  now: Clock;
  started: number;
  progress: IngestProgress;
  result: IngestResult;
}

/** A run's starting state: settings checked, range planned, figures at zero. */
export function startRun(request: IngestRequest): InstanceRun {
  const { source, instance } = request;
  const settings = { ...DEFAULT_SETTINGS, backfillDays: source.retentionDays, ...request.settings };
  checkSettings(settings);
  const now = request.now ?? Date.now;
  const started = now();
  const range = runRange(settings, request, started);
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
    from: iso(range.from),
    to: iso(range.to),
    newEvents: 0,
    duplicates: 0,
    outOfRange: 0,
    windowsRemaining: 0,
    failures: [],
    windowsReswept: 0,
    backfillFrom: iso(range.backfillFrom),
    coveredThrough: null,
  };
  const table = {
    table: source.table,
    partitionKey: source.partitionKey,
    partitionValue: source.partitionValue(instance),
  };
  return { request, settings, table, range, now, started, progress, result };
}

/** The run's result: its figures, and partial when a day failed or windows are left. */
export function finishRun(run: InstanceRun, coveredThroughValue: string | null): IngestResult {
  const { result, progress } = run;
  result.coveredThrough = coveredThroughValue;
  Object.assign(result, progress, { elapsedMs: run.now() - run.started });
  if (result.status !== 'busy' && (result.failures.length > 0 || result.windowsRemaining > 0))
    result.status = 'partial';
  return result;
}

/**
 * What the run did before failing still counts in its metrics (see partialResultOf). Coverage from
 * the ledger as held in memory: no I/O on a failure path.
 */
export function recordPartial(
  run: InstanceRun,
  ledger: ReadonlyMap<string, LedgerDay> | undefined,
  err: unknown,
): void {
  if (!ledger || typeof err !== 'object' || err === null) return;
  run.result.status = 'partial';
  const until = floorTo(run.now(), run.settings.sliceMs);
  const covered = contiguousCoverage(ledger, run.range.backfillFrom, until, run.settings.sliceMs);
  partialResults.set(err, finishRun(run, covered));
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
