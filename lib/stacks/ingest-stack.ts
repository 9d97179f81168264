import { fileURLToPath } from 'node:url';
import { Annotations, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { ILayerVersion } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { type IQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { type ArchiveConfig, lagAlarmMinutes } from '../config';
import { ArchiveAccess, ArchiveFolder, bindArchive } from '../constructs/archive-access';
import { ArchiveFunction } from '../constructs/archive-function';
import { IngestOperations, METRICS_NAMESPACE, METRICS_SERVICE } from '../constructs/operations';
import { SharedLayer } from '../constructs/shared-layer';
import { deploySources, scheduleIdOf } from '../sources';

export const INGEST_ENTRY = fileURLToPath(new URL('../../lambdas/ingest/index.ts', import.meta.url));

/** The folders the ingest function reads and writes under the archive prefix: every table's, the ledger, the leases. */
export function ingestFolders(): string[] {
  return [
    ...deploySources().map(({ definition }) => definition.table),
    ArchiveFolder.LEDGER,
    ArchiveFolder.LEASES,
  ];
}

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
  /** A registered source's name. */
  readonly source: string;
  readonly instance: string;
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
  /** One rule per configured instance, by source name and then instance. */
  readonly schedulesBySource: ReadonlyMap<string, ReadonlyMap<string, Rule>>;
  /** Alarms, their optional topic, and the dashboard. */
  readonly operations: IngestOperations;

  constructor(scope: Construct, id: string, props: IngestStackProps) {
    super(scope, id, props);
    const { config } = props;

    const sharedLayer = props.sharedLayer ?? new SharedLayer(this, 'SharedLayer').layer;

    const key = props.encryptionKey;
    this.failedRunsQueue = deadLetterQueue(this, 'FailedRuns', key);
    this.scheduleDeadLetterQueue = deadLetterQueue(this, 'ScheduleDeadLetters', key);

    this.function = this.createFunction(props, sharedLayer);
    const sources = configuredSources(config);
    this.grantAccess(props, sources);

    this.schedulesBySource = this.createSchedules(config, sources);
    const rules = [...this.schedulesBySource.values()].flatMap((byInstance) => [...byInstance.values()]);
    if (rules.length > 0) this.allowScheduleRules(rules);

    this.operations = this.createOperations(config, sources);

    if (rules.length === 0) {
      Annotations.of(this).addWarningV2(
        'eventlog-archive:noSpaces',
        'No CodeCatalyst space is configured, so nothing is scheduled. Set eventlogArchive.codecatalyst.spaces in cdk.json (or -c) to archive a space, or eventlogArchive.resiliencehub.systemArns to archive a Resilience Hub system.',
      );
    }
  }

  /** The `Ingest` function, sending failed asynchronous runs to {@link failedRunsQueue}. */
  private createFunction(props: IngestStackProps, sharedLayer: ILayerVersion): ArchiveFunction {
    const { config } = props;
    // With a key, the destination gets a reference without it: the queue's own grant would add
    // kms:ReEncrypt* and kms:GenerateDataKey*, and sending needs only the two actions granted below.
    const failedRunsTarget = props.encryptionKey
      ? Queue.fromQueueAttributes(this, 'FailedRunsRef', {
          queueArn: this.failedRunsQueue.queueArn,
          queueUrl: this.failedRunsQueue.queueUrl,
          queueName: this.failedRunsQueue.queueName,
        })
      : this.failedRunsQueue;

    return new ArchiveFunction(this, 'Ingest', {
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
  }

  /** The function's archive folders, its signing key, the archive key, and what each source fetches with. */
  private grantAccess(props: IngestStackProps, sources: readonly ConfiguredSource[]): void {
    // Digests are evidence: written once and read back to chain, never deleted by the function.
    bindArchive(this.function, props.bucket, props.archivePrefix, ingestFolders(), ArchiveAccess.READ_WRITE, {
      writeOnceFolders: [ArchiveFolder.DIGESTS],
    });
    props.digestSigningKey.grant(this.function, 'kms:Sign', 'kms:GetPublicKey');
    props.encryptionKey?.grant(this.function, 'kms:GenerateDataKey', 'kms:Decrypt');
    for (const { deploy, instances } of sources)
      deploy.grantFetch?.(this, this.function, props.config, instances);
  }

  /** One rule per instance of every source, by source name and then instance. */
  private createSchedules(
    config: ArchiveConfig,
    sources: readonly ConfiguredSource[],
  ): Map<string, Map<string, Rule>> {
    // The rules send undeliverable events through an imported reference of the queue, so that CDK does
    // not add one queue-policy statement per rule (SQS allows 20); one statement covers them all
    // (allowScheduleRules).
    const deadLetters = Queue.fromQueueAttributes(this, 'ScheduleDeadLettersRef', {
      queueArn: this.scheduleDeadLetterQueue.queueArn,
      queueUrl: this.scheduleDeadLetterQueue.queueUrl,
      queueName: this.scheduleDeadLetterQueue.queueName,
    });
    const schedulesBySource = new Map<string, Map<string, Rule>>();
    for (const { definition, deploy, instances } of sources) {
      const rules = new Map<string, Rule>();
      for (const instance of instances)
        rules.set(
          instance,
          this.createSchedule(
            scheduleIdOf(deploy, instance),
            `eventlog-archive: ingest ${deploy.describe(instance)}`,
            { source: definition.name, instance },
            config,
            deadLetters,
          ),
        );
      schedulesBySource.set(definition.name, rules);
    }
    return schedulesBySource;
  }

  /** A rule that sends `input` to the function every schedule period. */
  private createSchedule(
    id: string,
    description: string,
    input: IngestEvent,
    config: ArchiveConfig,
    deadLetters: IQueue,
  ): Rule {
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
  }

  /** One queue-policy statement letting all the rules send undeliverable events to the schedule DLQ. */
  private allowScheduleRules(rules: readonly Rule[]): void {
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

  /** Alarms for the function, the queues and every instance, their notifications, and the dashboard. */
  private createOperations(config: ArchiveConfig, sources: readonly ConfiguredSource[]): IngestOperations {
    return new IngestOperations(this, 'Operations', {
      function: this.function,
      deadLetterQueues: [this.failedRunsQueue, this.scheduleDeadLetterQueue],
      instances: sources.flatMap(({ definition, deploy, instances }) =>
        instances.map((instance) => ({
          source: definition.name,
          instance,
          idSuffix: deploy.idSuffix(instance),
          label: deploy.label(instance),
        })),
      ),
      rate: Duration.minutes(config.schedule.rateMinutes),
      lagThreshold: Duration.minutes(lagAlarmMinutes(config)),
      ...(config.alarms?.topicArn ? { topicArn: config.alarms.topicArn } : {}),
      ...(config.alarms?.email ? { email: config.alarms.email } : {}),
    });
  }
}

/** A registered source with the instances the settings ask to archive. */
type ConfiguredSource = ReturnType<typeof deploySources>[number] & { readonly instances: readonly string[] };

function configuredSources(config: ArchiveConfig): ConfiguredSource[] {
  return deploySources().map(({ definition, deploy }) => ({
    definition,
    deploy,
    instances: deploy.instances(config),
  }));
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
