import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IAlarm,
  type IMetric,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

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

/** The dimensions of an instance's metrics, exactly as the ingest code emits them. */
export function instanceDimensions(instance: IngestInstance): Record<string, string> {
  return { service: METRICS_SERVICE, Source: instance.source, Instance: instance.instance };
}

export interface IngestOperationsProps {
  readonly function: LambdaFunction;
  /** Queues whose every message is a lost run or event: each alarms at depth 1. */
  readonly deadLetterQueues: readonly Queue[];
  readonly instances: readonly IngestInstance[];
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
 * Ingest alarms (failed runs, lag, dead letters), their notifications and a small dashboard. What each
 * alarm means and what to do: docs/operations.md#alarms-and-what-to-do.
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
  /** Where notifications go; absent when neither topicArn nor email is set. */
  readonly topic?: ITopic;
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: IngestOperationsProps) {
    super(scope, id);
    this.errorsAlarm = this.createErrorsAlarm(props.function);

    const { failed, lag, noRuns } = this.createInstanceAlarms(props);
    this.instanceFailedAlarms = failed;
    this.lagAlarms = lag;
    this.noRunsAlarms = noRuns;

    this.deadLetterAlarms = this.createDeadLetterAlarms(props.deadLetterQueues);

    const alarms: Alarm[] = [
      this.errorsAlarm,
      ...failed.values(),
      ...lag.values(),
      ...noRuns.values(),
      ...this.deadLetterAlarms,
    ];
    const topic = this.createTopic(props);
    if (topic) {
      this.topic = topic;
      notifyOn(topic, alarms);
    }

    this.dashboard = this.createDashboard(props, alarms);
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

  /**
   * `InstanceFailed-*`, `Lag-*` and `NoRuns-*` for every instance, created instance by instance, each
   * map keyed by space name or system ARN.
   *
   * Two alarms per instance, so that neither starts in ALARM after a deploy nor hides a dead schedule:
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
   */
  private createInstanceAlarms(props: IngestOperationsProps): {
    failed: Map<string, Alarm>;
    lag: Map<string, Alarm>;
    noRuns: Map<string, Alarm>;
  } {
    const rateMinutes = props.rate.toMinutes();
    const lagPeriods = periodsCovering(props.lagThreshold.toMinutes(), rateMinutes);
    const noRunPeriods = periodsCovering(MISSED_RUNS_TO_ALARM * rateMinutes, rateMinutes);
    const failed = new Map<string, Alarm>();
    const lag = new Map<string, Alarm>();
    const noRuns = new Map<string, Alarm>();
    for (const instance of props.instances) {
      failed.set(instance.instance, this.createInstanceFailedAlarm(instance, rateMinutes));
      lag.set(instance.instance, this.createLagAlarm(instance, rateMinutes, props.lagThreshold, lagPeriods));
      noRuns.set(instance.instance, this.createNoRunsAlarm(instance, rateMinutes, noRunPeriods));
    }
    return { failed, lag, noRuns };
  }

  /** `InstanceFailed-*`: the instance's last run failed or left failed days. */
  private createInstanceFailedAlarm(instance: IngestInstance, rateMinutes: number): Alarm {
    return new Alarm(this, `InstanceFailed-${instance.idSuffix}`, {
      alarmDescription: clip(
        `eventlog-archive: a run of ${labelOf(instance)} failed or left failed days. See docs/operations.md#failed-runs.`,
      ),
      // One period per run, so the state holds until the next run reports.
      metric: instanceMetric(instance, IngestMetric.INSTANCE_FAILED, 'Sum', Duration.minutes(rateMinutes)),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }

  /** `Lag-*`: every report over `lagPeriods` periods above the threshold. */
  private createLagAlarm(
    instance: IngestInstance,
    rateMinutes: number,
    lagThreshold: Duration,
    lagPeriods: number,
  ): Alarm {
    return new Alarm(this, `Lag-${instance.idSuffix}`, {
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
  private createNoRunsAlarm(instance: IngestInstance, rateMinutes: number, noRunPeriods: number): Alarm {
    return new Alarm(this, `NoRuns-${instance.idSuffix}`, {
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

  /** The existing topic (`topicArn`), else a new one for `email`, else none. */
  private createTopic(props: IngestOperationsProps): ITopic | undefined {
    if (props.topicArn) return Topic.fromTopicArn(this, 'AlarmTopic', props.topicArn);
    return props.email ? emailTopic(this, props.email) : undefined;
  }

  /** The `Dashboard`: per-instance activity and lag, function and queue health, every alarm's state. */
  private createDashboard(props: IngestOperationsProps, alarms: Alarm[]): Dashboard {
    const fn = props.function;
    const period = Duration.minutes(props.rate.toMinutes());
    const dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `${Stack.of(this).stackName}-ingest`,
      defaultInterval: Duration.days(1),
    });
    const perInstance = (name: IngestMetric, statistic: string): IMetric[] =>
      props.instances.map((instance) => instanceMetric(instance, name, statistic, period, instance.label));
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Events archived',
        left: perInstance(IngestMetric.EVENTS_ARCHIVED, 'Sum'),
        width: 12,
      }),
      new GraphWidget({
        title: 'Pages fetched',
        left: perInstance(IngestMetric.PAGES_FETCHED, 'Sum'),
        width: 12,
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Throttles (left) and retries (right)',
        left: perInstance(IngestMetric.THROTTLES, 'Sum'),
        right: perInstance(IngestMetric.RETRIES, 'Sum'),
        width: 12,
      }),
      new GraphWidget({
        title: 'Ingestion lag (seconds)',
        left: perInstance(IngestMetric.INGESTION_LAG_SECONDS, 'Maximum'),
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

function instanceMetric(
  instance: IngestInstance,
  metricName: IngestMetric,
  statistic: string,
  period: Duration,
  label?: string,
): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: instanceDimensions(instance),
    statistic,
    period,
    ...(label ? { label } : {}),
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
