import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Annotations, Duration, NestedStack, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { ILayerVersion } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { Schedule } from 'aws-cdk-lib/aws-scheduler';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { INGEST_V8_OPTIONS } from '../../lambdas/ingest/v8-options';
import { type ArchiveConfig, lagAlarmMinutes } from '../config';
import { ArchiveAccess, ArchiveFolder, bindArchive } from '../constructs/archive-access';
import { ArchiveFunction } from '../constructs/archive-function';
import { IngestScheduler } from '../constructs/ingest-scheduler';
import { IngestOperations, METRICS_NAMESPACE, METRICS_SERVICE } from '../constructs/operations';
import { SharedLayer } from '../constructs/shared-layer';
import { deploySources, scheduleIdOf } from '../sources';

export const INGEST_ENTRY = fileURLToPath(new URL('../../lambdas/ingest/index.ts', import.meta.url));

/**
 * The folders the ingest function reads and writes under the archive prefix: every table's, the
 * ledger, the leases, and with `securityLake` the export ledger.
 */
export function ingestFolders(config?: Pick<ArchiveConfig, 'securityLake'>): string[] {
  return [
    ...deploySources().map(({ definition }) => definition.table),
    ArchiveFolder.LEDGER,
    ArchiveFolder.LEASES,
    ...(securityLakeTargets(config).length > 0 ? [ArchiveFolder.EXPORTS] : []),
  ];
}

/** The configured Security Lake custom sources, by source name. */
export function securityLakeTargets(
  config?: Pick<ArchiveConfig, 'securityLake'>,
): [string, NonNullable<NonNullable<ArchiveConfig['securityLake']>['codecatalyst']>][] {
  return Object.entries(config?.securityLake ?? {}).filter(
    (entry): entry is [string, NonNullable<(typeof entry)[1]>] => entry[1] !== undefined,
  );
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

/**
 * How many nested stacks hold the instances' schedules and alarms. An instance's stack is a hash of its
 * source and name, so adding or removing one never moves another. Four resources per instance: at the
 * instance limit (500) a stack holds about 250 on average, far from CloudFormation's 500
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html), which
 * CDK checks at synth. Changing it moves instances between stacks: their schedules and alarms are
 * recreated.
 */
export const INSTANCE_STACKS = 8;

/** Which of the {@link INSTANCE_STACKS} nested stacks holds an instance's schedule and alarms. */
export function instanceStackOf(source: string, instance: string): number {
  return createHash('sha256').update(`${source}\n${instance}`).digest()[0]! % INSTANCE_STACKS;
}

/** The scheduled input every schedule sends; the handler's event contract. */
export interface IngestEvent {
  /** A registered source's name. */
  readonly source: string;
  readonly instance: string;
}

/**
 * The compute half of ingest: the function, one EventBridge Scheduler schedule per CodeCatalyst space
 * and per Resilience Hub system (in one schedule group, with one invoke role), and the dead-letter
 * queues for scheduled runs that could not invoke it and runs that failed. Each instance's schedule
 * and alarms live in one of {@link INSTANCE_STACKS} nested stacks.
 */
export class IngestStack extends Stack {
  readonly function: ArchiveFunction;
  /** Scheduled invocations EventBridge Scheduler could not deliver to the function. */
  readonly scheduleDeadLetterQueue: Queue;
  /** Asynchronous invocations that failed after Lambda's retries. */
  readonly failedRunsQueue: Queue;
  /** The schedule group, its invoke role and the shared target settings. */
  readonly scheduler: IngestScheduler;
  /** One schedule per configured instance, by source name and then instance. */
  readonly schedulesBySource: ReadonlyMap<string, ReadonlyMap<string, Schedule>>;
  /** The nested stacks holding the instances' schedules and alarms, by number (only those in use). */
  readonly instanceStacks: ReadonlyMap<number, NestedStack>;
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

    this.scheduler = new IngestScheduler(this, 'Scheduler', {
      function: this.function,
      deadLetterQueue: this.scheduleDeadLetterQueue,
      ...(key ? { deadLetterKey: key } : {}),
      rate: Duration.minutes(config.schedule.rateMinutes),
    });
    this.operations = this.createOperations(config);

    const instanceStacks = new Map<number, NestedStack>();
    this.instanceStacks = instanceStacks;
    this.schedulesBySource = this.createInstances(sources, instanceStacks);

    if (instanceStacks.size === 0) {
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
      // A smaller young generation: fewer copies of a day's records before promotion (measured there).
      nodeOptions: INGEST_V8_OPTIONS,
      timeout: Duration.minutes(config.functionTimeoutMinutes),
      // The handler derives its own time budget from the invocation context (getRemainingTimeInMillis).
      environment: {
        LOOKBACK_MINUTES: String(config.lookbackMinutes),
        BACKFILL_DAYS: String(config.backfillDays),
        SLICE_MINUTES: String(config.sliceMinutes),
        MAX_CONCURRENCY: String(config.maxConcurrency),
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        DIGEST_SIGNING_KEY_ARN: props.digestSigningKey.keyArn,
        ...this.securityLakeEnvironment(config),
      },
      onFailure: new SqsDestination(failedRunsTarget),
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
    });
  }

  /** The function's archive folders, its signing key, the archive key, and what each source fetches with. */
  private grantAccess(props: IngestStackProps, sources: readonly ConfiguredSource[]): void {
    // Digests are evidence: written once and read back to chain, never deleted by the function.
    bindArchive(
      this.function,
      props.bucket,
      props.archivePrefix,
      ingestFolders(props.config),
      ArchiveAccess.READ_WRITE,
      {
        writeOnceFolders: [ArchiveFolder.DIGESTS],
      },
    );
    props.digestSigningKey.grant(this.function, 'kms:Sign', 'kms:GetPublicKey');
    props.encryptionKey?.grant(this.function, 'kms:GenerateDataKey', 'kms:Decrypt');
    for (const { deploy, instances } of sources)
      deploy.grantFetch?.(this, this.function, props.config, instances);
    // Security Lake: only assuming each custom source's provider role; that role writes the lake bucket.
    const providerRoles = [...new Set(securityLakeTargets(props.config).map(([, t]) => t.providerRoleArn))];
    if (providerRoles.length > 0)
      this.function.addToRolePolicy(
        new PolicyStatement({ effect: Effect.ALLOW, actions: ['sts:AssumeRole'], resources: providerRoles }),
      );
  }

  /**
   * `SECURITY_LAKE`: the custom source of each configured source kind, as JSON. CodeCatalyst's
   * `accountId` partition defaults to the deploying account (its Region partition to us-west-2, in
   * the function); Resilience Hub's come from each system's ARN unless given.
   */
  private securityLakeEnvironment(config: ArchiveConfig): Record<string, string> {
    const targets = securityLakeTargets(config);
    if (targets.length === 0) return {};
    const value = Object.fromEntries(
      targets.map(([name, target]) => [
        name,
        name === 'codecatalyst' && !target.accountId ? { ...target, accountId: this.account } : target,
      ]),
    );
    return { SECURITY_LAKE: this.toJsonString(value) };
  }

  /**
   * Every instance's schedule and alarms, in the nested stack its hash picks (created on first use).
   * One schedule per instance, each its own asynchronous invocation: a slow or failing instance never
   * delays another.
   */
  private createInstances(
    sources: readonly ConfiguredSource[],
    instanceStacks: Map<number, NestedStack>,
  ): Map<string, Map<string, Schedule>> {
    const stackFor = (source: string, instance: string): NestedStack => {
      const n = instanceStackOf(source, instance);
      let stack = instanceStacks.get(n);
      if (!stack) {
        stack = new NestedStack(this, `Instances${n}`, {
          description: `eventlog-archive: schedules and alarms of the spaces and systems in group ${n} of ${INSTANCE_STACKS}`,
        });
        // A schedule may fire as soon as it exists: its role's grants first.
        stack.node.addDependency(this.scheduler.role);
        instanceStacks.set(n, stack);
      }
      return stack;
    };
    const schedulesBySource = new Map<string, Map<string, Schedule>>();
    for (const { definition, deploy, instances } of sources) {
      const schedules = new Map<string, Schedule>();
      for (const instance of instances) {
        const scope = stackFor(definition.name, instance);
        const input: IngestEvent = { source: definition.name, instance };
        schedules.set(
          instance,
          this.scheduler.addSchedule(
            scope,
            scheduleIdOf(deploy, instance),
            `eventlog-archive: ingest ${deploy.describe(instance)}`,
            input,
          ),
        );
        this.operations.addInstance(scope, {
          source: definition.name,
          instance,
          idSuffix: deploy.idSuffix(instance),
          label: deploy.label(instance),
        });
      }
      schedulesBySource.set(definition.name, schedules);
    }
    return schedulesBySource;
  }

  /** Alarms for the function, the queues and the scheduler, their notifications, and the dashboard. */
  private createOperations(config: ArchiveConfig): IngestOperations {
    return new IngestOperations(this, 'Operations', {
      function: this.function,
      deadLetterQueues: [this.failedRunsQueue, this.scheduleDeadLetterQueue],
      scheduleGroup: this.scheduler.group,
      rate: Duration.minutes(config.schedule.rateMinutes),
      lagThreshold: Duration.minutes(lagAlarmMinutes(config)),
      ...(config.alarms?.topicArn ? { topicArn: config.alarms.topicArn } : {}),
      ...(config.alarms?.email ? { email: config.alarms.email } : {}),
      ...(securityLakeTargets(config).length > 0
        ? {
            securityLake: {
              sources: securityLakeTargets(config).map(([name]) => name),
              backfillDays: config.backfillDays,
            },
          }
        : {}),
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
      'This queue is itself a dead-letter queue (failed asynchronous runs, or scheduled invocations EventBridge Scheduler could not deliver); a DLQ of a DLQ would only move the same messages again. Its depth alarms.',
  });
  return queue;
}
