/**
 * Ingest metrics as CloudWatch Embedded Metric Format (EMF) through Powertools Metrics: one JSON
 * document per source instance and run, written to stdout, which Lambda sends to CloudWatch Logs and
 * CloudWatch turns into metrics. The alarms and the dashboard (lib/) are built against exactly this
 * contract: namespace, the three dimensions, the metric names and their units.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { errorSummary } from './errors';
import type { Logger } from './logger';

export const METRICS_NAMESPACE = 'EventlogArchive';
export const INGEST_SERVICE_NAME = 'eventlog-archive-ingest';

/** Metric names and units, in the order they are written. */
export const INSTANCE_METRICS = {
  EventsArchived: MetricUnit.Count,
  PagesFetched: MetricUnit.Count,
  Throttles: MetricUnit.Count,
  Retries: MetricUnit.Count,
  WindowsReswept: MetricUnit.Count,
  IngestionLagSeconds: MetricUnit.Seconds,
  InstanceFailed: MetricUnit.Count,
} as const;
export type InstanceMetricName = keyof typeof INSTANCE_METRICS;

/** One source instance's figures of one run. */
export interface InstanceFigures {
  /** `codecatalyst` or `resiliencehub`: the `Source` dimension. */
  source: string;
  /** Space name or system ARN, as given: the `Instance` dimension. */
  instance: string;
  eventsArchived: number;
  pagesFetched: number;
  throttles: number;
  retries: number;
  windowsReswept: number;
  /** Omitted when it is unknown (the run failed before it could read the ledger). */
  ingestionLagSeconds?: number;
  instanceFailed: boolean;
}

export interface MetricsOptions {
  /** Defaults to POWERTOOLS_METRICS_NAMESPACE, then `EventlogArchive`. */
  namespace?: string;
  /** The `service` dimension; defaults to POWERTOOLS_SERVICE_NAME, then `eventlog-archive-ingest`. */
  serviceName?: string;
  /** Where Powertools' own warnings go (EMF documents always go to stdout). */
  logger?: Logger;
}

/**
 * A Powertools `Metrics` whose only default dimension is `service`. No cold-start metric is ever
 * captured: it would add a `function_name` dimension set the alarms do not expect.
 */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  return new Metrics({
    namespace: options.namespace ?? (process.env.POWERTOOLS_METRICS_NAMESPACE || METRICS_NAMESPACE),
    serviceName: options.serviceName ?? (process.env.POWERTOOLS_SERVICE_NAME || INGEST_SERVICE_NAME),
    ...(options.logger ? { logger: options.logger } : {}),
  });
}

let sharedMetrics: Metrics | undefined;

/**
 * The process's one `Metrics`, created on first use (functions that never publish never build it);
 * the options of that first call apply.
 */
export function ingestMetrics(options: MetricsOptions = {}): Metrics {
  sharedMetrics ??= createMetrics(options);
  return sharedMetrics;
}

/**
 * Writes one EMF document with the instance's figures and exactly the dimensions
 * `service`, `Source`, `Instance`. Never throws: a failure is logged and reported as `false`, the
 * ingest goes on. Synchronous from the first metric to the flush, so concurrent callers cannot mix
 * their figures in the shared buffer.
 *
 * @example
 * publishInstanceMetrics({ source: 'codecatalyst', instance: 'acme', eventsArchived: 42, pagesFetched: 3,
 *   throttles: 0, retries: 0, windowsReswept: 2, ingestionLagSeconds: 3720, instanceFailed: false }, { logger });
 */
export function publishInstanceMetrics(
  figures: InstanceFigures,
  options: { metrics?: Metrics; logger?: Logger } = {},
): boolean {
  const { logger } = options;
  let metrics: Metrics | undefined;
  try {
    metrics = options.metrics ?? ingestMetrics(logger ? { logger } : {});
    // Powertools drops an empty dimension with a warning; the document would then be aggregated
    // under the wrong dimension set, so it is not written at all.
    if (!figures.source || !figures.instance)
      throw new TypeError('figures.source and figures.instance: must be non-empty strings');
    const values: Record<InstanceMetricName, number | undefined> = {
      EventsArchived: figures.eventsArchived,
      PagesFetched: figures.pagesFetched,
      Throttles: figures.throttles,
      Retries: figures.retries,
      WindowsReswept: figures.windowsReswept,
      IngestionLagSeconds: figures.ingestionLagSeconds,
      InstanceFailed: figures.instanceFailed ? 1 : 0,
    };
    metrics.addDimensions({ Source: figures.source, Instance: figures.instance });
    for (const [name, unit] of Object.entries(INSTANCE_METRICS) as [
      InstanceMetricName,
      (typeof MetricUnit)[keyof typeof MetricUnit],
    ][]) {
      const value = values[name];
      if (value === undefined) continue;
      // NaN would serialise as null; one bad figure must not cost the others (InstanceFailed above all).
      if (!Number.isFinite(value)) {
        logger?.warn('metric skipped: not a finite number', { metric: name, value: String(value) });
        continue;
      }
      metrics.addMetric(name, unit, value);
    }
    metrics.publishStoredMetrics();
    return true;
  } catch (err) {
    try {
      // Leave nothing behind that the next instance's document would inherit.
      metrics?.clearMetrics();
      metrics?.clearDimensions();
      metrics?.clearMetadata();
    } catch {
      // Nothing more to clear.
    }
    logger?.warn('metrics not published; the ingest goes on', {
      source: figures.source,
      instance: figures.instance,
      error: errorSummary(err),
    });
    return false;
  }
}

export type { Metrics };
