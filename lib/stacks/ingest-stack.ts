import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Annotations, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { ILayerVersion } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { type ArchiveConfig, lagAlarmMinutes } from '../config';
import { ArchiveAccess, ArchiveFolder, bindArchive, bindTokenSecret } from '../constructs/archive-access';
import { ArchiveFunction } from '../constructs/archive-function';
import { IngestOperations, METRICS_NAMESPACE, METRICS_SERVICE } from '../constructs/operations';
import { SharedLayer } from '../constructs/shared-layer';

export const INGEST_ENTRY = fileURLToPath(new URL('../../lambdas/ingest/index.ts', import.meta.url));

/** The folders the ingest function reads and writes under the archive prefix. */
export const INGEST_FOLDERS = [
  ArchiveFolder.CODECATALYST_EVENT_LOGS,
  ArchiveFolder.RESILIENCEHUB_SYSTEM_EVENTS,
  ArchiveFolder.LEDGER,
  ArchiveFolder.LEASES,
] as const;

export interface IngestStackProps extends StackProps {
  readonly config: ArchiveConfig;
  /** The archive bucket (from the storage stack). */
  readonly bucket: IBucket;
  /** '' or a key prefix ending in '/'. */
  readonly archivePrefix: string;
  /** The shared layer; a new one is built in this stack when absent. */
  readonly sharedLayer?: ILayerVersion;
  /** The asymmetric key the function signs digests with (`kms:Sign`, `kms:GetPublicKey` only). */
  readonly digestSigningKey: IKey;
  /** Customer-managed key of the archive: also encrypts the dead-letter queues. */
  readonly encryptionKey?: IKey;
}

/** The scheduled input every rule sends; the handler's event contract. */
export interface IngestEvent {
  readonly source: 'codecatalyst' | 'resiliencehub';
  readonly instance: string;
}

/**
 * The IAM action of ListSystemEvents (Resilience Hub next generation, API 2026-02-17). The API
 * reference (https://docs.aws.amazon.com/resilience-hub/v2/APIReference/API_ListSystemEvents.html) does
 * not name it; Resilience Hub's actions are `resiliencehub:<Operation>` and the API signs with the
 * `resiliencehub` name, so this is `resiliencehub:ListSystemEvents`. Change it here if the service
 * authorisation reference says otherwise.
 */
export const LIST_SYSTEM_EVENTS_ACTION = 'resiliencehub:ListSystemEvents';

/**
 * The construct id of a system's schedule: the first 16 hex digits of the SHA-256 of its ARN. ARNs
 * hold characters construct ids and rule names handle badly (`:`, `/`, `+`), are long, and the id
 * must depend on the ARN only, so adding or removing a system never replaces another system's rule.
 */
export function systemScheduleId(systemArn: string): string {
  return `Schedule-system-${createHash('sha256').update(systemArn).digest('hex').slice(0, 16)}`;
}

/**
 * The compute half of ingest: the function, one EventBridge schedule per CodeCatalyst space and per
 * Resilience Hub system, and the
 * dead-letter queues for schedules that could not invoke it and runs that failed.
 */
export class IngestStack extends Stack {
  readonly function: ArchiveFunction;
  /** Scheduled events EventBridge could not deliver to the function. */
  readonly scheduleDeadLetterQueue: Queue;
  /** Asynchronous invocations that failed after Lambda's retries. */
  readonly failedRunsQueue: Queue;
  /** One rule per space, keyed by space name. */
  readonly schedules: ReadonlyMap<string, Rule>;
  /** One rule per Resilience Hub system, keyed by system ARN. */
  readonly systemSchedules: ReadonlyMap<string, Rule>;
  /** Alarms, their optional topic, and the dashboard. */
  readonly operations: IngestOperations;

  constructor(scope: Construct, id: string, props: IngestStackProps) {
    super(scope, id, props);
    const { config } = props;

    const sharedLayer = props.sharedLayer ?? new SharedLayer(this, 'SharedLayer').layer;

    const key = props.encryptionKey;
    this.failedRunsQueue = deadLetterQueue(this, 'FailedRuns', key);
    this.scheduleDeadLetterQueue = deadLetterQueue(this, 'ScheduleDeadLetters', key);
    // With a key, the destination gets a reference without it: the queue's own grant would add
    // kms:ReEncrypt* and kms:GenerateDataKey*, and sending needs only the two actions granted below.
    const failedRunsTarget = key
      ? Queue.fromQueueAttributes(this, 'FailedRunsRef', {
          queueArn: this.failedRunsQueue.queueArn,
          queueUrl: this.failedRunsQueue.queueUrl,
          queueName: this.failedRunsQueue.queueName,
        })
      : this.failedRunsQueue;

    this.function = new ArchiveFunction(this, 'Ingest', {
      description:
        'Pulls CodeCatalyst event logs and Resilience Hub system events into the archive (one space or system per scheduled event)',
      entry: INGEST_ENTRY,
      handler: 'handler',
      sharedLayer,
      // Also the `service` dimension of its metrics.
      serviceName: METRICS_SERVICE,
      // CPU, not memory, is what this buys: Lambda grants one vCPU per 1,769 MB, and the Parquet worker
      // thread encodes a day while the main thread keeps paging. Peak RSS of a 1M-event backfill is
      // under 1 GB (bench/README.md). Default 3,008 MB (~1.7 vCPUs), the most every account accepts.
      memorySize: config.functionMemoryMb,
      timeout: Duration.minutes(config.functionTimeoutMinutes),
      // The handler derives its own time budget from the invocation context (getRemainingTimeInMillis).
      environment: {
        LOOKBACK_MINUTES: String(config.lookbackMinutes),
        BACKFILL_DAYS: String(config.backfillDays),
        SLICE_MINUTES: String(config.sliceMinutes),
        MAX_CONCURRENCY: String(config.maxConcurrency),
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        DIGEST_SIGNING_KEY_ARN: props.digestSigningKey.keyArn,
      },
      onFailure: new SqsDestination(failedRunsTarget),
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
    });

    // Digests are evidence: written once and read back to chain, never deleted by the function.
    bindArchive(this.function, props.bucket, props.archivePrefix, INGEST_FOLDERS, ArchiveAccess.READ_WRITE, {
      writeOnceFolders: [ArchiveFolder.DIGESTS],
    });
    props.digestSigningKey.grant(this.function, 'kms:Sign', 'kms:GetPublicKey');
    key?.grant(this.function, 'kms:GenerateDataKey', 'kms:Decrypt');
    const token = Secret.fromSecretNameV2(this, 'CodeCatalystToken', config.codecatalyst.tokenSecretName);
    bindTokenSecret(this.function, token);
    if (config.codecatalyst.tokenSecretKmsKeyArn) {
      // The PAT's own key, usable only through Secrets Manager (GetSecretValue), in this region.
      this.function.addToRolePolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['kms:Decrypt'],
          resources: [config.codecatalyst.tokenSecretKmsKeyArn],
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${this.region}.amazonaws.com` } },
        }),
      );
    }

    // The rules send undeliverable events through an imported reference of the queue, so that CDK does
    // not add one queue-policy statement per rule (SQS allows 20); one statement below covers them all.
    const deadLetters = Queue.fromQueueAttributes(this, 'ScheduleDeadLettersRef', {
      queueArn: this.scheduleDeadLetterQueue.queueArn,
      queueUrl: this.scheduleDeadLetterQueue.queueUrl,
      queueName: this.scheduleDeadLetterQueue.queueName,
    });
    const schedule = (id: string, description: string, input: IngestEvent): Rule => {
      const rule = new Rule(this, id, {
        // EventBridge allows 512 characters.
        description: description.length > 512 ? `${description.slice(0, 511)}…` : description,
        schedule: Schedule.rate(Duration.minutes(config.schedule.rateMinutes)),
      });
      rule.addTarget(
        new LambdaFunction(this.function, {
          event: RuleTargetInput.fromObject(input),
          retryAttempts: 2,
          maxEventAge: Duration.hours(1),
          deadLetterQueue: deadLetters,
        }),
      );
      return rule;
    };
    const schedules = new Map<string, Rule>();
    for (const space of config.codecatalyst.spaces) {
      // Space names are [A-Za-z0-9._-], all valid in construct ids; the id depends on the name only,
      // so adding or removing a space never replaces another space's rule.
      schedules.set(
        space,
        schedule(`Schedule-${space}`, `eventlog-archive: ingest CodeCatalyst space ${space}`, {
          source: 'codecatalyst',
          instance: space,
        }),
      );
    }
    this.schedules = schedules;
    const systemSchedules = new Map<string, Rule>();
    for (const systemArn of config.resiliencehub.systemArns) {
      systemSchedules.set(
        systemArn,
        schedule(systemScheduleId(systemArn), `eventlog-archive: ingest Resilience Hub system ${systemArn}`, {
          source: 'resiliencehub',
          instance: systemArn,
        }),
      );
    }
    this.systemSchedules = systemSchedules;
    if (systemSchedules.size > 0) {
      // The list call on exactly the configured systems; no wildcard.
      this.function.addToRolePolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: [LIST_SYSTEM_EVENTS_ACTION],
          resources: [...systemSchedules.keys()],
        }),
      );
    }
    const rules = [...schedules.values(), ...systemSchedules.values()];
    if (rules.length > 0) {
      this.scheduleDeadLetterQueue.addToResourcePolicy(
        new PolicyStatement({
          sid: 'AllowScheduleRules',
          effect: Effect.ALLOW,
          principals: [new ServicePrincipal('events.amazonaws.com')],
          actions: ['sqs:SendMessage'],
          resources: [this.scheduleDeadLetterQueue.queueArn],
          conditions: { ArnEquals: { 'aws:SourceArn': rules.map((rule) => rule.ruleArn) } },
        }),
      );
    }

    this.operations = new IngestOperations(this, 'Operations', {
      function: this.function,
      deadLetterQueues: [this.failedRunsQueue, this.scheduleDeadLetterQueue],
      instances: [
        ...config.codecatalyst.spaces.map((space) => ({ source: 'codecatalyst' as const, instance: space })),
        ...config.resiliencehub.systemArns.map((arn) => ({
          source: 'resiliencehub' as const,
          instance: arn,
        })),
      ],
      rate: Duration.minutes(config.schedule.rateMinutes),
      lagThreshold: Duration.minutes(lagAlarmMinutes(config)),
      ...(config.alarms?.topicArn ? { topicArn: config.alarms.topicArn } : {}),
      ...(config.alarms?.email ? { email: config.alarms.email } : {}),
    });

    if (rules.length === 0) {
      Annotations.of(this).addWarningV2(
        'eventlog-archive:noSpaces',
        'No CodeCatalyst space is configured, so nothing is scheduled. Set eventlogArchive.codecatalyst.spaces in cdk.json (or -c) to archive a space, or eventlogArchive.resiliencehub.systemArns to archive a Resilience Hub system.',
      );
    }
  }
}

function deadLetterQueue(scope: Construct, id: string, key: IKey | undefined): Queue {
  const queue = new Queue(scope, id, {
    ...(key
      ? { encryption: QueueEncryption.KMS, encryptionMasterKey: key }
      : { encryption: QueueEncryption.SQS_MANAGED }),
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason:
      'This queue is itself a dead-letter queue (failed asynchronous runs, or scheduled events EventBridge could not deliver); a DLQ of a DLQ would only move the same messages again. Its depth alarms.',
  });
  return queue;
}
