import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IAlarm,
  MathExpression,
  Metric,
  SearchExpression,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { IScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_MAX_DAYS_PER_RUN } from '../../lambdas/core/security-lake';

/**
 * The metric contract with the ingest code (Powertools Metrics, EMF): namespace, the `service`
 * dimension (`POWERTOOLS_SERVICE_NAME`), and one datapoint of each metric per instance per run.
 */
export const METRICS_NAMESPACE = 'EventlogArchive';
export const METRICS_SERVICE = 'eventlog-archive-ingest';
export const IngestMetric = {
  /** Count: new events archived. */
  EVENTS_ARCHIVED: 'EventsArchived',
  /** Count: pages fetched from the source API. */
  PAGES_FETCHED: 'PagesFetched',
  /** Count: throttling answers from the source API. */
  THROTTLES: 'Throttles',
  /** Count: retried requests. */
  RETRIES: 'Retries',
  /** Count: windows swept again (look-back or repair). */
  WINDOWS_RESWEPT: 'WindowsReswept',
  /** Seconds: now minus the end of the last contiguously complete window. */
  INGESTION_LAG_SECONDS: 'IngestionLagSeconds',
  /** Count: 1 when the instance failed or left failed days, else 0. */
  INSTANCE_FAILED: 'InstanceFailed',
} as const;
export type IngestMetric = (typeof IngestMetric)[keyof typeof IngestMetric];

/**
 * Security Lake delivery metrics (only with the `securityLake` option). Each run writes them per
 * instance (`service`, `Source`, `Instance`) and again per source (`service`, `Source`): the alarms
 * watch the per-source ones, since an alarm cannot use a SEARCH over every instance.
 */
export const SecurityLakeMetric = {
  /** Count: days written to the lake by the run. */
  DAYS_DELIVERED: 'SecurityLakeDaysDelivered',
  /** Count: committed days still not in the lake after the run (not reached, or failed). */
  DAYS_PENDING: 'SecurityLakeDaysPending',
  /** Count: 1 when the run's delivery failed, else 0. */
  DELIVERY_FAILURES: 'SecurityLakeDeliveryFailures',
} as const;
export type SecurityLakeMetric = (typeof SecurityLakeMetric)[keyof typeof SecurityLakeMetric];

/** Days a run delivers at most: the ingest's own limit. */
export const LAKE_DAYS_PER_RUN = DEFAULT_MAX_DAYS_PER_RUN;
/** Consecutive schedule periods with a failed delivery before `SecurityLakeFailing-*` fires. */
export const LAKE_FAILED_RUNS_TO_ALARM = 3;

/**
 * Consecutive schedule periods with days pending before `SecurityLakeBehind-*` fires: the runs a
 * first backfill takes to catch up (`backfillDays` and today, {@link LAKE_DAYS_PER_RUN} a run) plus
 * one, and at least {@link LAKE_FAILED_RUNS_TO_ALARM}. Capped at a day of periods by the caller.
 */
export function lakeBehindRuns(backfillDays: number): number {
  return Math.max(LAKE_FAILED_RUNS_TO_ALARM, Math.ceil((backfillDays + 1) / LAKE_DAYS_PER_RUN) + 1);
}

/** One archived space or system: the `Source` and `Instance` dimensions. */
export interface IngestInstance {
  /** A registered source's name. */
  readonly source: string;
  /** Space name, system ARN, … */
  readonly instance: string;
  /** A construct-id suffix that depends on the instance only (lib/sources.ts). */
  readonly idSuffix: string;
  /** A short label for charts and alarm names. */
  readonly label: string;
}

/** The dimensions of a source's aggregate Security Lake metrics, exactly as the ingest code emits them. */
export function sourceDimensions(source: string): Record<string, string> {
  return { service: METRICS_SERVICE, Source: source };
}

/** The dimensions of an instance's metrics, exactly as the ingest code emits them. */
export function instanceDimensions(instance: IngestInstance): Record<string, string> {
  return { service: METRICS_SERVICE, Source: instance.source, Instance: instance.instance };
}

export interface IngestOperationsProps {
  readonly function: LambdaFunction;
  /** Queues whose every message is a lost run or event: each alarms at depth 1. */
  readonly deadLetterQueues: readonly Queue[];
  /** The EventBridge Scheduler group of every instance's schedule. */
  readonly scheduleGroup: IScheduleGroup;
  /** How often each instance runs. */
  readonly rate: Duration;
  /**
   * Lag above which an instance alarms, once every report over a window this long (at most a day) is
   * above it. A missing report is not lag: {@link IngestOperations.noRunsAlarms} watches for those.
   */
  readonly lagThreshold: Duration;
  /** Existing topic for alarm and OK notifications. */
  readonly topicArn?: string;
  /** Create an encrypted topic with this address subscribed. */
  readonly email?: string;
  /** With the `securityLake` option: the source kinds delivered, and the backfill the first runs catch up. */
  readonly securityLake?: { readonly sources: readonly string[]; readonly backfillDays: number };
}

/**
 * Longest span this app lets an alarm evaluate (periods × period): one day, within what CloudWatch
 * accepts for EvaluationPeriods × Period at any period length
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).
 */
const MAX_ALARM_WINDOW = Duration.days(1);
/** Schedule periods without any report from an instance before `NoRuns-*` fires. */
export const MISSED_RUNS_TO_ALARM = 3;

/** How many periods of `periodMinutes` cover `minutes` (at least one, at most a day's worth). */
export function periodsCovering(minutes: number, periodMinutes: number): number {
  const most = Math.max(1, Math.floor(MAX_ALARM_WINDOW.toMinutes() / periodMinutes));
  return Math.min(most, Math.max(1, Math.ceil(minutes / periodMinutes)));
}

/**
 * Ingest alarms (failed runs, lag, dead letters, lost schedule invocations), their notifications and a
 * small dashboard. What each alarm means and what to do: docs/operations.md#alarms-and-what-to-do.
 *
 * The stack-wide alarms and the dashboard live here; each instance's alarms are added with
 * {@link addInstance} into the scope the caller gives (a nested stack of the ingest stack), so that
 * hundreds of instances never put the ingest stack itself over CloudFormation's 500 resources.
 */
export class IngestOperations extends Construct {
  /** Lambda errors of the ingest function. */
  readonly errorsAlarm: Alarm;
  /** Per instance (keyed by space name or system ARN): the run failed or left failed days. */
  readonly instanceFailedAlarms: ReadonlyMap<string, Alarm>;
  /** Per instance: every lag report over a threshold-long window above the threshold. */
  readonly lagAlarms: ReadonlyMap<string, Alarm>;
  /** Per instance: no run reported anything for {@link MISSED_RUNS_TO_ALARM} schedule periods. */
  readonly noRunsAlarms: ReadonlyMap<string, Alarm>;
  /** One per dead-letter queue, in the order given. */
  readonly deadLetterAlarms: readonly Alarm[];
  /** Scheduled invocations EventBridge Scheduler dropped, or could not put in the dead-letter queue. */
  readonly scheduleInvocationsLostAlarm: Alarm;
  /** Per delivered source kind: days still pending after every run of {@link lakeBehindRuns} periods. */
  readonly securityLakeBehindAlarms: ReadonlyMap<string, Alarm>;
  /** Per delivered source kind: a delivery failed in each of {@link LAKE_FAILED_RUNS_TO_ALARM} periods. */
  readonly securityLakeFailingAlarms: ReadonlyMap<string, Alarm>;
  /** Where notifications go; absent when neither topicArn nor email is set. */
  readonly topic?: ITopic;
  readonly dashboard: Dashboard;

  private readonly failed = new Map<string, Alarm>();
  private readonly lag = new Map<string, Alarm>();
  private readonly noRuns = new Map<string, Alarm>();
  private readonly rateMinutes: number;
  private readonly lagThreshold: Duration;
  private readonly lagPeriods: number;
  private readonly noRunPeriods: number;

  constructor(scope: Construct, id: string, props: IngestOperationsProps) {
    super(scope, id);
    this.rateMinutes = props.rate.toMinutes();
    this.lagThreshold = props.lagThreshold;
    this.lagPeriods = periodsCovering(props.lagThreshold.toMinutes(), this.rateMinutes);
    this.noRunPeriods = periodsCovering(MISSED_RUNS_TO_ALARM * this.rateMinutes, this.rateMinutes);
    this.instanceFailedAlarms = this.failed;
    this.lagAlarms = this.lag;
    this.noRunsAlarms = this.noRuns;

    this.errorsAlarm = this.createErrorsAlarm(props.function);
    this.deadLetterAlarms = this.createDeadLetterAlarms(props.deadLetterQueues);
    this.scheduleInvocationsLostAlarm = this.createScheduleInvocationsLostAlarm(props.scheduleGroup);

    const behind = new Map<string, Alarm>();
    const failing = new Map<string, Alarm>();
    for (const source of props.securityLake?.sources ?? []) {
      behind.set(source, this.createLakeBehindAlarm(source, props.securityLake!.backfillDays));
      failing.set(source, this.createLakeFailingAlarm(source));
    }
    this.securityLakeBehindAlarms = behind;
    this.securityLakeFailingAlarms = failing;

    const alarms: Alarm[] = [
      this.errorsAlarm,
      ...this.deadLetterAlarms,
      this.scheduleInvocationsLostAlarm,
      ...behind.values(),
      ...failing.values(),
    ];
    const topic = this.createTopic(props);
    if (topic) {
      this.topic = topic;
      notifyOn(topic, alarms);
    }

    this.dashboard = this.createDashboard(props, alarms);
  }

  /**
   * `InstanceFailed-*`, `Lag-*` and `NoRuns-*` of one instance, created in `scope`, notifying the topic.
   *
   * Lag and NoRuns are two alarms, so that neither starts in ALARM after a deploy nor hides a dead
   * schedule:
   * - Lag: one period per run, and ALARM only when EVERY report over a window as long as the threshold
   *   (at most a day) is above it, missing data not breaching. Right after a deploy nothing has
   *   reported (quiet, not "behind"), and a first backfill reports ~backfillDays of lag that shrinks
   *   run by run: it stays quiet as long as the backfill catches up within that window (usually one
   *   run: bench/README.md backfills a million events in about 90 s; the default window is 11 runs).
   *   An archive that stays behind for the whole window still alarms, at about twice the threshold.
   * - NoRuns: the heartbeat. Every run writes InstanceFailed once per instance (also when it failed or
   *   found the lease taken), so its SampleCount is the number of runs that reported; missing data is
   *   breaching, so a schedule that never runs or stops is in ALARM after MISSED_RUNS_TO_ALARM periods.
   *   It is the one alarm in ALARM from a new instance's first deploy until its first run reports
   *   (within one schedule period): CloudWatch cannot tell "not yet" from "never" without a report.
   *
   * Three standard alarms per instance rather than one CloudWatch Metrics Insights alarm per source
   * (which evaluates each instance as a contributor): a Metrics Insights alarm may look back at most
   * three hours (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-limits.html),
   * but a schedule may run once a day and NoRuns needs three periods; and NoRuns treats a missing
   * report as breaching, which an instance absent from a query's result cannot be.
   */
  addInstance(scope: Construct, instance: IngestInstance): void {
    const alarms = [
      this.createInstanceFailedAlarm(scope, instance),
      this.createLagAlarm(scope, instance),
      this.createNoRunsAlarm(scope, instance),
    ] as const;
    this.failed.set(instance.instance, alarms[0]);
    this.lag.set(instance.instance, alarms[1]);
    this.noRuns.set(instance.instance, alarms[2]);
    if (this.topic) notifyOn(this.topic, alarms);
  }

  /** `IngestErrors`: any error of the function within five minutes. */
  private createErrorsAlarm(fn: LambdaFunction): Alarm {
    return new Alarm(this, 'IngestErrors', {
      alarmDescription:
        'eventlog-archive: the ingest function failed (threw or timed out). See docs/operations.md#failed-runs.',
      metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }

  /** `InstanceFailed-*`: the instance's last run failed or left failed days. */
  private createInstanceFailedAlarm(scope: Construct, instance: IngestInstance): Alarm {
    return new Alarm(scope, `InstanceFailed-${instance.idSuffix}`, {
      alarmDescription: clip(
        `eventlog-archive: a run of ${labelOf(instance)} failed or left failed days. See docs/operations.md#failed-runs.`,
      ),
      // One period per run, so the state holds until the next run reports.
      metric: instanceMetric(
        instance,
        IngestMetric.INSTANCE_FAILED,
        'Sum',
        Duration.minutes(this.rateMinutes),
      ),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }

  /** `Lag-*`: every report over `lagPeriods` periods above the threshold. */
  private createLagAlarm(scope: Construct, instance: IngestInstance): Alarm {
    const { rateMinutes, lagThreshold, lagPeriods } = this;
    return new Alarm(scope, `Lag-${instance.idSuffix}`, {
      alarmDescription: clip(
        `eventlog-archive: ${labelOf(instance)} has stayed more than ${lagThreshold.toMinutes()} minutes behind in every run for ${lagPeriods * rateMinutes} minutes. See docs/operations.md#lag.`,
      ),
      // Minimum: the best report of a period (a run that found the lease taken reports too).
      metric: instanceMetric(
        instance,
        IngestMetric.INGESTION_LAG_SECONDS,
        'Minimum',
        Duration.minutes(rateMinutes),
      ),
      threshold: lagThreshold.toSeconds(),
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: lagPeriods,
      datapointsToAlarm: lagPeriods,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }

  /** `NoRuns-*`: no report at all for `noRunPeriods` periods (missing data breaches). */
  private createNoRunsAlarm(scope: Construct, instance: IngestInstance): Alarm {
    const { rateMinutes, noRunPeriods } = this;
    return new Alarm(scope, `NoRuns-${instance.idSuffix}`, {
      alarmDescription: clip(
        `eventlog-archive: no run of ${labelOf(instance)} has reported for ${noRunPeriods * rateMinutes} minutes (schedule not running, or every run killed). See docs/operations.md#no-runs.`,
      ),
      metric: instanceMetric(
        instance,
        IngestMetric.INSTANCE_FAILED,
        'SampleCount',
        Duration.minutes(rateMinutes),
      ),
      threshold: 1,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: noRunPeriods,
      datapointsToAlarm: noRunPeriods,
      treatMissingData: TreatMissingData.BREACHING,
    });
  }

  /** `DeadLetters-<queue id>`: one per queue, in the order given, at depth 1. */
  private createDeadLetterAlarms(queues: readonly Queue[]): Alarm[] {
    return queues.map(
      (queue) =>
        new Alarm(this, `DeadLetters-${queue.node.id}`, {
          alarmDescription: `eventlog-archive: messages in the dead-letter queue ${queue.node.id}. See docs/operations.md#dead-letters.`,
          metric: queue.metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(5),
            statistic: 'Maximum',
          }),
          threshold: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
    );
  }

  /**
   * `ScheduleInvocationsLost`: an invocation Scheduler gave up on that is in no dead-letter queue
   * (dropped, or the DLQ refused it), so `DeadLetters-ScheduleDeadLetters` cannot see it. Group-level
   * metrics (https://docs.aws.amazon.com/scheduler/latest/UserGuide/monitoring-cloudwatch.html).
   */
  private createScheduleInvocationsLostAlarm(group: IScheduleGroup): Alarm {
    const period = Duration.minutes(5);
    return new Alarm(this, 'ScheduleInvocationsLost', {
      alarmDescription:
        'eventlog-archive: EventBridge Scheduler dropped a scheduled run, or could not put it in the schedule dead-letter queue. See docs/operations.md#dead-letters.',
      metric: new MathExpression({
        expression: 'FILL(dropped, 0) + FILL(unqueued, 0)',
        usingMetrics: {
          dropped: group.metricDropped({ period, statistic: 'Sum' }),
          unqueued: group.metricFailedToBeSentToDLQ(undefined, { period, statistic: 'Sum' }),
        },
        period,
        label: 'invocations lost',
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }

  /**
   * `SecurityLakeBehind-<source>`: some instance of the source still had days to deliver after its run
   * in every one of {@link lakeBehindRuns} consecutive periods (Maximum of the per-source
   * `SecurityLakeDaysPending`). A first backfill catches up within those runs; a delivery that keeps
   * failing, or that never finishes within the run, does not. Missing data is not breaching: no report
   * is `NoRuns-*`' job.
   */
  private createLakeBehindAlarm(source: string, backfillDays: number): Alarm {
    const { rateMinutes } = this;
    const periods = periodsCovering(lakeBehindRuns(backfillDays) * rateMinutes, rateMinutes);
    return new Alarm(this, `SecurityLakeBehind-${source}`, {
      alarmDescription: `eventlog-archive: archived ${source} days have been waiting for Security Lake delivery after every run for ${periods * rateMinutes} minutes. See docs/operations.md#security-lake-delivery.`,
      metric: sourceMetric(source, SecurityLakeMetric.DAYS_PENDING, 'Maximum', Duration.minutes(rateMinutes)),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: periods,
      datapointsToAlarm: periods,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }

  /**
   * `SecurityLakeFailing-<source>`: a delivery of the source failed (Sum of the per-source
   * `SecurityLakeDeliveryFailures` ≥ 1) in each of {@link LAKE_FAILED_RUNS_TO_ALARM} consecutive
   * periods. One failure is retried by the next run and needs nobody; three in a row are a cause that
   * stays (the provider role's trust or external id, the lake bucket's policy, the custom source).
   */
  private createLakeFailingAlarm(source: string): Alarm {
    const { rateMinutes } = this;
    const periods = periodsCovering(LAKE_FAILED_RUNS_TO_ALARM * rateMinutes, rateMinutes);
    return new Alarm(this, `SecurityLakeFailing-${source}`, {
      alarmDescription: `eventlog-archive: delivery of ${source} days to Security Lake has failed in every schedule period for ${periods * rateMinutes} minutes. See docs/operations.md#security-lake-delivery.`,
      metric: sourceMetric(
        source,
        SecurityLakeMetric.DELIVERY_FAILURES,
        'Sum',
        Duration.minutes(rateMinutes),
      ),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: periods,
      datapointsToAlarm: periods,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }

  /** The existing topic (`topicArn`), else a new one for `email`, else none. */
  private createTopic(props: IngestOperationsProps): ITopic | undefined {
    if (props.topicArn) return Topic.fromTopicArn(this, 'AlarmTopic', props.topicArn);
    return props.email ? emailTopic(this, props.email) : undefined;
  }

  /**
   * The `Dashboard`: per-instance activity and lag, function, queue and scheduler health, and the
   * state of the stack-wide alarms. Per-instance lines come from one CloudWatch search per metric,
   * which finds every instance that reported (up to 500 time series: the instance limit); listing
   * metrics one by one would stop at 100 per graph. An alarm status widget shows at most 100 alarms,
   * so the per-instance alarms are not listed there.
   */
  private createDashboard(props: IngestOperationsProps, alarms: Alarm[]): Dashboard {
    const fn = props.function;
    const period = Duration.minutes(props.rate.toMinutes());
    const dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `${Stack.of(this).stackName}-ingest`,
      defaultInterval: Duration.days(1),
    });
    const perInstance = (name: IngestMetric, statistic: string): SearchExpression =>
      instanceSearch(name, statistic, period);
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Events archived',
        left: [perInstance(IngestMetric.EVENTS_ARCHIVED, 'Sum')],
        width: 12,
      }),
      new GraphWidget({
        title: 'Pages fetched',
        left: [perInstance(IngestMetric.PAGES_FETCHED, 'Sum')],
        width: 12,
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Throttles (left) and retries (right)',
        left: [perInstance(IngestMetric.THROTTLES, 'Sum')],
        right: [perInstance(IngestMetric.RETRIES, 'Sum')],
        width: 12,
      }),
      new GraphWidget({
        title: 'Ingestion lag (seconds)',
        left: [perInstance(IngestMetric.INGESTION_LAG_SECONDS, 'Maximum')],
        leftAnnotations: [{ value: props.lagThreshold.toSeconds(), label: 'lag alarm' }],
        width: 12,
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Ingest function errors (left) and duration (right)',
        left: [fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' })],
        right: [fn.metricDuration({ period: Duration.minutes(5), statistic: 'Maximum' })],
        width: 12,
      }),
      new GraphWidget({
        title: 'Dead-letter queue depth',
        left: props.deadLetterQueues.map((queue) =>
          queue.metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(5),
            statistic: 'Maximum',
            label: queue.node.id,
          }),
        ),
        width: 12,
      }),
    );
    const group = props.scheduleGroup;
    const scheduler = { period: Duration.minutes(5), statistic: 'Sum' };
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Scheduled invocations (left) and their failures (right)',
        left: [group.metricAttempts({ ...scheduler, label: 'attempts' })],
        right: [
          group.metricTargetErrors({ ...scheduler, label: 'target errors (retried)' }),
          group.metricSentToDLQ({ ...scheduler, label: 'sent to the dead-letter queue' }),
          group.metricDropped({ ...scheduler, label: 'dropped' }),
          group.metricFailedToBeSentToDLQ(undefined, { ...scheduler, label: 'not accepted by the queue' }),
        ],
        width: 24,
      }),
    );
    const lakeSources = props.securityLake?.sources ?? [];
    if (lakeSources.length > 0)
      dashboard.addWidgets(
        new GraphWidget({
          title: 'Security Lake: days pending (left, worst instance) and failed deliveries (right)',
          left: lakeSources.map((source) =>
            sourceMetric(source, SecurityLakeMetric.DAYS_PENDING, 'Maximum', period).with({ label: source }),
          ),
          right: lakeSources.map((source) =>
            sourceMetric(source, SecurityLakeMetric.DELIVERY_FAILURES, 'Sum', period).with({ label: source }),
          ),
          width: 24,
        }),
      );
    dashboard.addWidgets(new AlarmStatusWidget({ title: 'Alarms', alarms: alarms as IAlarm[], width: 24 }));
    return dashboard;
  }
}

/** Sends every alarm's ALARM and OK transitions to the topic. */
function notifyOn(topic: ITopic, alarms: readonly Alarm[]): void {
  const action = new SnsAction(topic);
  for (const alarm of alarms) {
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
  }
}

/** How alarm descriptions name an instance: source and instance. */
function labelOf(instance: IngestInstance): string {
  return `${instance.source} ${instance.instance}`;
}

function sourceMetric(
  source: string,
  metricName: SecurityLakeMetric,
  statistic: string,
  period: Duration,
): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: sourceDimensions(source),
    statistic,
    period,
  });
}

function instanceMetric(
  instance: IngestInstance,
  metricName: IngestMetric,
  statistic: string,
  period: Duration,
): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: instanceDimensions(instance),
    statistic,
    period,
  });
}

/** Every instance's `name` (one time series each) with the dimensions the ingest code emits. */
function instanceSearch(name: IngestMetric, statistic: string, period: Duration): SearchExpression {
  return new SearchExpression({
    expression: `SEARCH('{${METRICS_NAMESPACE},Instance,Source,service} MetricName="${name}" service="${METRICS_SERVICE}"', '${statistic}', ${period.toSeconds()})`,
    // Each line is labelled by its dimension values alone.
    label: '',
  });
}

// CloudWatch allows 1024 characters of alarm description.
function clip(text: string): string {
  return text.length > 1024 ? `${text.slice(0, 1023)}…` : text;
}

/**
 * A topic for the alarms with an email subscription: encrypted with a key of its own that CloudWatch
 * may use (the AWS-managed SNS key does not let CloudWatch publish), TLS-only.
 */
function emailTopic(scope: Construct, email: string): Topic {
  const key = new Key(scope, 'AlarmTopicKey', {
    description: 'eventlog-archive: encrypts the alarm topic',
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey');
  const topic = new Topic(scope, 'AlarmTopic', {
    displayName: 'eventlog-archive alarms',
    masterKey: key,
    enforceSSL: true,
  });
  topic.addSubscription(new EmailSubscription(email));
  return topic;
}
