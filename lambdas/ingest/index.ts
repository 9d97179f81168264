/**
 * Ingest Lambda: invoked by one EventBridge Scheduler schedule per source instance with
 * `{ "source": "codecatalyst", "instance": "<space>" }` or
 * `{ "source": "resiliencehub", "instance": "<system ARN>" }`, it archives every window not yet final
 * within its time budget and leaves the rest to the next run.
 */
import {
  clockFromEnv,
  createLogger,
  errorSummary,
  ingestMetrics,
  type Logger,
  publishInstanceMetrics,
} from '@eventlog-archive/shared';
import type { Context } from 'aws-lambda';
import {
  type DeliveryResult,
  type LakeSink,
  SECURITY_LAKE_ENV,
  type SecurityLakeSettings,
  s3LakeSink,
  securityLakeFromEnv,
} from '../core/security-lake';
import { openArchive } from '../core/store';
import { allSucceeded, runIngest, settingsFromEnv } from './ingest-run';
import { SOURCES, sourceByName } from './sources';
import type { SourceClient } from './sources/types';

const logger = createLogger({ serviceName: 'eventlog-archive-ingest' });
const clients = new Map<string, Promise<SourceClient>>();
const lakeSinks = new Map<string, Promise<LakeSink>>();

export interface IngestEvent {
  source: string;
  /** One instance (a space name, a system ARN) … */
  instance?: string;
  /** … or several, run one after the other. */
  instances?: string[];
}

export interface IngestResponse {
  source: string;
  outcomes: Awaited<ReturnType<typeof runIngest>>;
}

// Room left after the soft deadline to commit in-flight days, and after the hard one to log and return.
const COMMIT_RESERVE_MS = 120_000;
const RETURN_RESERVE_MS = 20_000;

export async function handler(event: IngestEvent, context: Context): Promise<IngestResponse> {
  logger.addContext(context);
  logger.appendKeys({ correlationId: context.awsRequestId });
  const source = sourceByName(String(event?.source));
  if (!source)
    throw new TypeError(
      `event.source: must be one of ${Object.keys(SOURCES).join(', ')} (got ${JSON.stringify(event?.source)})`,
    );
  const instances = event.instances ?? (event.instance !== undefined ? [event.instance] : []);
  if (instances.length === 0) throw new TypeError('event.instance: is required');
  for (const [i, instance] of instances.entries()) {
    source.checkInstance(instance, event.instances ? `event.instances[${i}]` : 'event.instance');
  }

  const archiveUri = process.env.ARCHIVE_URI;
  if (!archiveUri) throw new TypeError('ARCHIVE_URI: is required (s3://bucket/prefix)');
  const store = await openArchive(archiveUri);
  const settings = settingsFromEnv(process.env, logger);
  let client = clients.get(source.name);
  if (!client) {
    client = source.createClient({});
    clients.set(source.name, client);
    client.catch(() => clients.delete(source.name));
  }

  // Security Lake delivery of this source's days, when the stack configured it (SECURITY_LAKE). A
  // malformed value never stops the archive: each instance is archived and its delivery reported as
  // failed with the variable's error (SecurityLakeDeliveryFailures, the SecurityLakeFailing alarm).
  const lake = securityLakeOf(process.env, logger);
  const lakeTarget = lake.settings?.[source.name];
  const securityLake = lakeTarget
    ? {
        target: lakeTarget,
        sink: () => {
          let sink = lakeSinks.get(source.name);
          if (!sink) {
            sink = s3LakeSink(lakeTarget);
            lakeSinks.set(source.name, sink);
            sink.catch(() => lakeSinks.delete(source.name));
          }
          return sink;
        },
      }
    : undefined;

  // The system clock, unless EVENTLOG_ARCHIVE_NOW pins it (tests of the deployed bundle do).
  const clock = clockFromEnv(process.env);
  const now = clock();
  const remaining = context.getRemainingTimeInMillis();
  const outcomes = await runIngest({
    source,
    instances,
    store,
    client: await client,
    settings,
    logger,
    now: clock,
    ...(securityLake ? { securityLake } : {}),
    // One EMF document per instance on stdout, which Lambda sends to CloudWatch Logs
    // (docs/operations.md#metrics).
    onFigures: (figures) => publishInstanceMetrics(figures, { logger }),
    softDeadline: now + Math.max(remaining - COMMIT_RESERVE_MS, remaining / 2),
    hardDeadline: now + Math.max(remaining - RETURN_RESERVE_MS, (remaining * 3) / 4),
  });
  for (const outcome of outcomes) {
    if (lake.error && outcome.result && outcome.result.status !== 'busy')
      outcome.result.securityLake = { delivered: 0, events: 0, pending: 0, failures: 1, error: lake.error };
    logger.info('ingest finished', { ...outcome });
    const delivery = outcome.result?.securityLake;
    if (delivery) publishDeliveryMetrics(source.name, outcome.instance, delivery, logger);
  }
  if (!allSucceeded(outcomes)) {
    // Failing the invocation makes the failure visible: the Errors metric, async retries, then the DLQ.
    const failed = outcomes
      .filter((o) => o.error || (o.result?.failures.length ?? 0) > 0)
      .map((o) => o.instance);
    throw new Error(`ingest incomplete for ${failed.join(', ')}; see the log lines above`);
  }
  return { source: source.name, outcomes };
}

/**
 * The `SECURITY_LAKE` settings, or the error that makes them unusable (`<name>: <message>`, naming
 * the variable and the field), logged once per invocation without the value (it holds external ids).
 */
function securityLakeOf(
  env: NodeJS.ProcessEnv,
  log: Logger,
): { settings?: SecurityLakeSettings; error?: string } {
  try {
    const settings = securityLakeFromEnv(env);
    return settings ? { settings } : {};
  } catch (err) {
    const error = `${(err as Error)?.name ?? 'Error'}: ${(err as Error)?.message ?? String(err)}`;
    log.error(`${SECURITY_LAKE_ENV} is malformed: archiving goes on, nothing is delivered to Security Lake`, {
      error: errorSummary(err),
    });
    return { error };
  }
}

/**
 * Security Lake delivery figures of an instance's run, as their own EMF documents: one per instance
 * (dimensions `service`, `Source`, `Instance`) and one per source (`service`, `Source`) of the same
 * figures, which the `SecurityLakeBehind-*` and `SecurityLakeFailing-*` alarms watch: a CloudWatch
 * alarm cannot use a SEARCH over every instance, and one alarm per source covers every instance.
 */
export const DELIVERY_METRICS = {
  SecurityLakeDaysDelivered: 'Count',
  SecurityLakeDaysPending: 'Count',
  SecurityLakeDeliveryFailures: 'Count',
} as const;

function publishDeliveryMetrics(
  source: string,
  instance: string,
  delivery: DeliveryResult,
  log: Logger,
): void {
  const metrics = ingestMetrics({ logger: log });
  try {
    metrics.addDimensions({ Source: source, Instance: instance });
    metrics.addMetric(
      'SecurityLakeDaysDelivered',
      DELIVERY_METRICS.SecurityLakeDaysDelivered,
      delivery.delivered,
    );
    metrics.addMetric('SecurityLakeDaysPending', DELIVERY_METRICS.SecurityLakeDaysPending, delivery.pending);
    metrics.addMetric(
      'SecurityLakeDeliveryFailures',
      DELIVERY_METRICS.SecurityLakeDeliveryFailures,
      delivery.failures,
    );
    metrics.publishStoredMetrics();
    // The per-source aggregate: Maximum of pending and Sum of failures over a period span every instance.
    metrics.addDimensions({ Source: source });
    metrics.addMetric('SecurityLakeDaysPending', DELIVERY_METRICS.SecurityLakeDaysPending, delivery.pending);
    metrics.addMetric(
      'SecurityLakeDeliveryFailures',
      DELIVERY_METRICS.SecurityLakeDeliveryFailures,
      delivery.failures,
    );
    metrics.publishStoredMetrics();
  } catch (err) {
    // Leave nothing behind that the next document would inherit.
    metrics.clearMetrics();
    metrics.clearDimensions();
    log.warn('Security Lake metrics not published', { instance, error: errorSummary(err) });
  }
}
