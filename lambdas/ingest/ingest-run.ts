/**
 * One ingest run over a list of instances of one source (ingest-instance.ts does one instance): the
 * entry point the Lambda handler and the CLI share. A failing instance is logged and reported; the
 * others still run.
 */
import { DAY_MS, errorSummary, type InstanceFigures, type Logger, MINUTE_MS } from '@eventlog-archive/shared';
import type { ArchiveStore } from '../core/store';
import {
  DEFAULT_SETTINGS,
  type IngestProgress,
  type IngestRequest,
  type IngestResult,
  type IngestSettings,
  ingestInstance,
  partialResultOf,
} from './ingest-instance';
import type { SourceClient, SourceModule } from './sources/types';

export interface RunRequest extends Omit<IngestRequest, 'instance' | 'client' | 'onProgress'> {
  instances: readonly string[];
  /** Creates the source client once; an error here (e.g. no token) fails every instance. */
  client: SourceClient;
  onProgress?: (progress: IngestProgress & { instance: string }) => void;
  /** Called once per instance when it is done, also when it failed: the Lambda publishes these as metrics. */
  onFigures?: (figures: InstanceFigures) => void;
}

export interface InstanceOutcome {
  instance: string;
  result?: IngestResult;
  error?: { name: string; message: string };
}

export async function runIngest(request: RunRequest): Promise<InstanceOutcome[]> {
  const outcomes: InstanceOutcome[] = [];
  for (const instance of request.instances) {
    let partial: IngestResult | undefined;
    try {
      const result = await ingestInstance({
        ...request,
        instance,
        onProgress: request.onProgress ? (p) => request.onProgress?.({ ...p, instance }) : undefined,
      });
      outcomes.push({ instance, result });
    } catch (err) {
      partial = partialResultOf(err);
      const error = {
        name: (err as Error)?.name ?? 'Error',
        message: (err as Error)?.message ?? String(err),
      };
      request.logger?.error('instance failed; other instances continue', {
        source: request.source.name,
        instance,
        error: errorSummary(err),
      });
      outcomes.push({ instance, error });
    }
    if (request.onFigures) {
      const outcome = outcomes[outcomes.length - 1]!;
      try {
        const endedAt = (request.now ?? Date.now)();
        request.onFigures(instanceFigures(request.source.name, outcome, endedAt, partial));
      } catch (err) {
        request.logger?.warn('instance figures not reported', { instance, error: errorSummary(err) });
      }
    }
  }
  return outcomes;
}

/**
 * Seconds from the end of the backfill period's contiguously complete windows to `endedAt`; with
 * no complete window, from the start of the backfill period (about the backfill period's length).
 */
export function ingestionLagSeconds(result: IngestResult, endedAt: number): number {
  const coveredTo = Date.parse(result.coveredThrough ?? result.backfillFrom);
  return Math.max(0, Math.round((endedAt - coveredTo) / 1000));
}

/**
 * An instance's figures for its metrics. A failed instance reports what it did before failing, and
 * its lag only if it got as far as reading its ledger.
 */
export function instanceFigures(
  source: string,
  outcome: InstanceOutcome,
  endedAt: number,
  /** For a failed instance: {@link partialResultOf} its error. */
  partial?: IngestResult,
): InstanceFigures {
  const result = outcome.result ?? partial;
  return {
    source,
    instance: outcome.instance,
    eventsArchived: result?.newEvents ?? 0,
    pagesFetched: result?.pages ?? 0,
    throttles: result?.throttles ?? 0,
    retries: result?.retries ?? 0,
    windowsReswept: result?.windowsReswept ?? 0,
    ...(result ? { ingestionLagSeconds: ingestionLagSeconds(result, endedAt) } : {}),
    instanceFailed: outcome.error !== undefined || (outcome.result?.failures.length ?? 0) > 0,
  };
}

/** True when no instance failed; a busy lease or a used-up time budget is not a failure. */
export function allSucceeded(outcomes: readonly InstanceOutcome[]): boolean {
  return outcomes.every((o) => o.result !== undefined && o.result.failures.length === 0);
}

/** Settings from environment variables (the Lambda's configuration), each checked with a clear message. */
export function settingsFromEnv(env: NodeJS.ProcessEnv, logger?: Logger): IngestSettings {
  const read = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new RangeError(`${name}: must be an integer from ${min} to ${max} (got "${raw}")`);
    return n;
  };
  const settings: IngestSettings = {
    sliceMs: read('SLICE_MINUTES', DEFAULT_SETTINGS.sliceMs / MINUTE_MS, 1, 1440) * MINUTE_MS,
    lookbackMs: read('LOOKBACK_MINUTES', DEFAULT_SETTINGS.lookbackMs / MINUTE_MS, 0, 7 * 24 * 60) * MINUTE_MS,
    backfillDays: read('BACKFILL_DAYS', DEFAULT_SETTINGS.backfillDays, 1, 3650),
    maxConcurrency: read('MAX_CONCURRENCY', DEFAULT_SETTINGS.maxConcurrency, 1, 256),
  };
  logger?.debug('settings', { ...settings, backfillMs: settings.backfillDays * DAY_MS });
  return settings;
}

export type { ArchiveStore, SourceModule };
