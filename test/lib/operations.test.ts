/** The ingest alarms, their notifications and the dashboard, against the metric contract. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../lib/config';
import { type BuiltApp, buildApp, flat, onlyResource } from './helpers';
import { ingestResources, instanceTemplates } from './ingest-templates';

const SYSTEM_ARN = 'arn:aws:resiliencehub:us-east-1:123456789012:system/checkout';
const TWO_SPACES_ONE_SYSTEM = {
  codecatalyst: { spaces: ['alpha-space', 'beta.space'] },
  resiliencehub: { systemArns: [SYSTEM_ARN] },
};
const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:ops-alarms';

interface AlarmProps {
  Namespace?: string;
  MetricName?: string;
  Metrics?: { Id: string; Expression?: string; MetricStat?: { Metric: { MetricName: string } } }[];
  Dimensions?: { Name: string; Value: unknown }[];
  Statistic?: string;
  Period?: number;
  Threshold?: number;
  ComparisonOperator?: string;
  TreatMissingData?: string;
  EvaluationPeriods?: number;
  DatapointsToAlarm?: number;
  AlarmActions?: unknown[];
  OKActions?: unknown[];
  AlarmDescription?: string;
}

/** Every alarm of the ingest stack and of its nested stacks (which hold the per-instance ones). */
function alarms(built: BuiltApp): AlarmProps[] {
  return ingestResources(built, 'AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties as AlarmProps);
}

/** The alarms of the ingest stack itself. */
function stackAlarms(built: BuiltApp): AlarmProps[] {
  return Object.values(built.ingestTemplate.findResources('AWS::CloudWatch::Alarm')).map(
    (alarm) => (alarm as { Properties: AlarmProps }).Properties,
  );
}

function dimensionsOf(alarm: AlarmProps): Record<string, unknown> {
  return Object.fromEntries((alarm.Dimensions ?? []).map((d) => [d.Name, d.Value]));
}

function ofMetric(built: BuiltApp, metricName: string): AlarmProps[] {
  return alarms(built).filter((a) => a.MetricName === metricName);
}

/** The one alarm of `metric` and `statistic` on `instance`. */
function instanceAlarm(built: BuiltApp, metric: string, statistic: string, instance: string): AlarmProps {
  const found = ofMetric(built, metric).filter(
    (a) => a.Statistic === statistic && dimensionsOf(a).Instance === instance,
  );
  expect(found, `${metric} ${statistic} ${instance}`).toHaveLength(1);
  return found[0]!;
}

const INSTANCES = [
  { Source: 'codecatalyst', Instance: 'alpha-space' },
  { Source: 'codecatalyst', Instance: 'beta.space' },
  { Source: 'resiliencehub', Instance: SYSTEM_ARN },
];
/** IngestErrors, two DeadLetters and ScheduleInvocationsLost. */
const STACK_ALARMS = 4;

describe('ingest alarms', () => {
  it('has one failed-run, one lag and one no-runs alarm per instance, one errors alarm, one per dead-letter queue and one for lost scheduled invocations', () => {
    // Act
    const built = buildApp(TWO_SPACES_ONE_SYSTEM);

    // Assess
    expect(alarms(built)).toHaveLength(STACK_ALARMS + 3 * INSTANCES.length);
    // InstanceFailed twice per instance: its Sum (failed runs) and its SampleCount (runs that reported).
    expect(ofMetric(built, 'InstanceFailed')).toHaveLength(2 * INSTANCES.length);
    expect(ofMetric(built, 'IngestionLagSeconds')).toHaveLength(INSTANCES.length);
    expect(ofMetric(built, 'Errors')).toHaveLength(1);
    expect(ofMetric(built, 'ApproximateNumberOfMessagesVisible')).toHaveLength(2);
  });

  it('keeps the per-instance alarms in the nested stacks, next to their schedules, and the rest in the ingest stack', () => {
    // Act
    const built = buildApp(TWO_SPACES_ONE_SYSTEM);

    // Assess
    expect(stackAlarms(built)).toHaveLength(STACK_ALARMS);
    expect(stackAlarms(built).filter((a) => a.Namespace === 'EventlogArchive')).toEqual([]);
    for (const template of instanceTemplates(built)) {
      const schedules = Object.keys(template.findResources('AWS::Scheduler::Schedule')).length;
      expect(Object.keys(template.findResources('AWS::CloudWatch::Alarm'))).toHaveLength(3 * schedules);
    }
  });

  it.each([['InstanceFailed'], ['IngestionLagSeconds']])(
    'reads %s in EventlogArchive with exactly the service, Source and Instance dimensions',
    (metric) => {
      // Act
      const built = buildApp(TWO_SPACES_ONE_SYSTEM);
      const found = ofMetric(built, metric).filter((a) => a.Statistic !== 'SampleCount');

      // Assess
      expect(found.map((a) => a.Namespace)).toEqual(INSTANCES.map(() => 'EventlogArchive'));
      expect(found.map(dimensionsOf)).toEqual(
        expect.arrayContaining(INSTANCES.map((i) => ({ service: 'eventlog-archive-ingest', ...i }))),
      );
      expect(found.map((a) => a.Dimensions?.length)).toEqual(INSTANCES.map(() => 3));
    },
  );

  it('alarms on a failed instance at Sum >= 1 per run, missing data not breaching', () => {
    // Act
    const built = buildApp({ ...TWO_SPACES_ONE_SYSTEM, schedule: { rateMinutes: 10 } });

    // Assess
    for (const { Instance } of INSTANCES) {
      expect(instanceAlarm(built, 'InstanceFailed', 'Sum', Instance)).toMatchObject({
        Statistic: 'Sum',
        Period: 600,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it('alarms on lag only when every run over a window as long as the threshold is above 3 × rate + lookback, missing data not breaching', () => {
    // Act: 3 × 15 + 120 = 165 minutes: 11 runs of 15 minutes.
    const built = buildApp(TWO_SPACES_ONE_SYSTEM);

    // Assess: a fresh deploy (no report yet) is OK, and a first backfill's ~30-day lag that is gone
    // within 11 runs never fills the window.
    for (const { Instance } of INSTANCES) {
      expect(instanceAlarm(built, 'IngestionLagSeconds', 'Minimum', Instance)).toMatchObject({
        Namespace: 'EventlogArchive',
        Period: 15 * 60,
        Threshold: 165 * 60,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 11,
        DatapointsToAlarm: 11,
        TreatMissingData: 'notBreaching',
      });
    }
    for (const alarm of ofMetric(built, 'IngestionLagSeconds')) {
      expect(alarm.TreatMissingData).not.toBe('breaching');
    }
  });

  it('catches a schedule that never runs: no report for 3 schedule periods, missing data breaching', () => {
    // Act
    const built = buildApp({ ...TWO_SPACES_ONE_SYSTEM, schedule: { rateMinutes: 10 } });

    // Assess
    for (const { Instance } of INSTANCES) {
      expect(instanceAlarm(built, 'InstanceFailed', 'SampleCount', Instance)).toMatchObject({
        Namespace: 'EventlogArchive',
        Period: 600,
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        EvaluationPeriods: 3,
        DatapointsToAlarm: 3,
        TreatMissingData: 'breaching',
      });
    }
    expect(ofMetric(built, 'InstanceFailed').filter((a) => a.Statistic === 'SampleCount')).toHaveLength(
      INSTANCES.length,
    );
  });

  it('takes alarms.lagMinutes as the threshold and caps the lag window at one day of runs', () => {
    // Act
    const built = buildApp({ ...TWO_SPACES_ONE_SYSTEM, alarms: { lagMinutes: 2000 } });

    // Assess: 96 runs of 15 minutes are a day.
    for (const alarm of ofMetric(built, 'IngestionLagSeconds')) {
      expect(alarm).toMatchObject({
        Threshold: 2000 * 60,
        Period: 900,
        EvaluationPeriods: 96,
        DatapointsToAlarm: 96,
      });
    }
  });

  it('keeps a daily schedule within one day of evaluation for both alarms', () => {
    // Act
    const built = buildApp({
      ...TWO_SPACES_ONE_SYSTEM,
      schedule: { rateMinutes: 1440 },
      alarms: { lagMinutes: 2880 },
    });

    // Assess
    for (const alarm of [...ofMetric(built, 'IngestionLagSeconds'), ...ofMetric(built, 'InstanceFailed')]) {
      expect(alarm.Period! * alarm.EvaluationPeriods!).toBeLessThanOrEqual(86_400);
    }
  });

  it('alarms on Lambda errors of the ingest function and on depth >= 1 of both dead-letter queues', () => {
    // Act
    const built = buildApp(TWO_SPACES_ONE_SYSTEM);
    const { ingestTemplate } = built;
    const fn = onlyResource(ingestTemplate, 'AWS::Lambda::Function', { Handler: 'index.handler' });
    const queues = Object.keys(ingestTemplate.findResources('AWS::SQS::Queue')).sort();

    // Assess
    expect(ofMetric(built, 'Errors').map((a) => flat(a))).toEqual([
      expect.objectContaining({
        Namespace: 'AWS/Lambda',
        Dimensions: [{ Name: 'FunctionName', Value: `<${fn.id}>` }],
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      }),
    ]);
    const depth = ofMetric(built, 'ApproximateNumberOfMessagesVisible').map((a) => flat(a) as AlarmProps);
    expect(depth.map((a) => a.Namespace)).toEqual(['AWS/SQS', 'AWS/SQS']);
    expect(depth.map((a) => a.Threshold)).toEqual([1, 1]);
    expect(depth.map((a) => a.Dimensions![0]!.Value).sort()).toEqual(queues.map((q) => `<${q}.QueueName>`));
  });

  it('alarms when Scheduler drops a scheduled run or cannot put it in the dead-letter queue, for the whole schedule group', () => {
    // Act
    const built = buildApp(TWO_SPACES_ONE_SYSTEM);
    const group = onlyResource(built.ingestTemplate, 'AWS::Scheduler::ScheduleGroup');
    const lost = stackAlarms(built).filter((a) => a.Metrics !== undefined);

    // Assess: one metric-math alarm over the group's two counts, each missing minute a zero.
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    const metrics = flat(lost[0]!.Metrics) as {
      Id: string;
      Expression?: string;
      ReturnData?: boolean;
      MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions: unknown }; Stat: string };
    }[];
    const expression = metrics.find((m) => m.Expression)!;
    expect(expression.Expression).toBe('FILL(dropped, 0) + FILL(unqueued, 0)');
    expect(
      metrics
        .filter((m) => m.MetricStat)
        .map((m) => [
          m.Id,
          m.MetricStat!.Metric.Namespace,
          m.MetricStat!.Metric.MetricName,
          m.MetricStat!.Stat,
        ]),
    ).toEqual([
      ['dropped', 'AWS/Scheduler', 'InvocationDroppedCount', 'Sum'],
      ['unqueued', 'AWS/Scheduler', 'InvocationsFailedToBeSentToDeadLetterCount', 'Sum'],
    ]);
    for (const m of metrics.filter((m) => m.MetricStat)) {
      expect(m.MetricStat!.Metric.Dimensions).toEqual([
        { Name: 'ScheduleGroup', Value: group.resource.Properties.Name },
      ]);
    }
  });

  it('points every alarm description at its section of docs/operations.md, and that section exists', () => {
    // Arrange: GitHub's anchors, lowercase with spaces as hyphens.
    const page = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
    const anchors = new Set(
      [...page.matchAll(/^#+ (.+)$/gm)].map((m) =>
        m[1]!
          .trim()
          .toLowerCase()
          .replace(/[^a-z0-9 -]/g, '')
          .replace(/ /g, '-'),
      ),
    );
    const expected: Record<string, string> = {
      Errors: 'failed-runs',
      InstanceFailed: 'failed-runs',
      IngestionLagSeconds: 'lag',
      ApproximateNumberOfMessagesVisible: 'dead-letters',
      // The metric-math alarm on the scheduler's lost invocations.
      undefined: 'dead-letters',
    };

    // Act
    const built = buildApp(TWO_SPACES_ONE_SYSTEM);

    // Assess
    for (const alarm of alarms(built)) {
      const section =
        alarm.MetricName === 'InstanceFailed' && alarm.Statistic === 'SampleCount'
          ? 'no-runs'
          : expected[String(alarm.MetricName)];
      expect(alarm.AlarmDescription).toMatch(new RegExp(`docs/operations\\.md#${section}\\.$`));
      expect(anchors, section).toContain(section);
    }
  });

  it('sends no notification without a topic', () => {
    // Act
    const built = buildApp(TWO_SPACES_ONE_SYSTEM);

    // Assess
    for (const alarm of alarms(built)) {
      expect(alarm.AlarmActions).toBeUndefined();
      expect(alarm.OKActions).toBeUndefined();
    }
    expect(ingestResources(built, 'AWS::SNS::Topic')).toEqual([]);
  });

  it('sends alarm and OK notifications of every alarm to an existing topic', () => {
    // Act
    const built = buildApp({ ...TWO_SPACES_ONE_SYSTEM, alarms: { topicArn: TOPIC_ARN } });

    // Assess
    const all = alarms(built);
    expect(all).toHaveLength(STACK_ALARMS + 3 * INSTANCES.length);
    for (const alarm of all) {
      expect(alarm.AlarmActions).toEqual([TOPIC_ARN]);
      expect(alarm.OKActions).toEqual([TOPIC_ARN]);
    }
    expect(ingestResources(built, 'AWS::SNS::Topic')).toEqual([]);
  });

  it('creates a KMS-encrypted, TLS-only topic with the email subscribed when alarms.email is set', () => {
    // Act
    const built = buildApp({ ...TWO_SPACES_ONE_SYSTEM, alarms: { email: 'ops@example.com' } });
    const { ingestTemplate } = built;
    const topic = onlyResource(ingestTemplate, 'AWS::SNS::Topic');
    const key = onlyResource(ingestTemplate, 'AWS::KMS::Key');
    const subscription = onlyResource(ingestTemplate, 'AWS::SNS::Subscription');
    const policy = flat(onlyResource(ingestTemplate, 'AWS::SNS::TopicPolicy').resource.Properties) as {
      PolicyDocument: { Statement: { Effect: string; Condition?: unknown }[] };
    };

    // Assess
    expect(flat(topic.resource.Properties.KmsMasterKeyId)).toBe(`<${key.id}.Arn>`);
    expect(key.resource.Properties.EnableKeyRotation).toBe(true);
    const keyStatements = flat(key.resource.Properties.KeyPolicy) as {
      Statement: { Principal: unknown; Action: unknown }[];
    };
    expect(keyStatements.Statement).toContainEqual(
      expect.objectContaining({
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      }),
    );
    expect(flat(subscription.resource.Properties)).toMatchObject({
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: `<${topic.id}>`,
    });
    expect(policy.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    for (const alarm of stackAlarms(built)) {
      expect(flat(alarm.AlarmActions)).toEqual([`<${topic.id}>`]);
      expect(flat(alarm.OKActions)).toEqual([`<${topic.id}>`]);
    }
    // A nested stack's alarms get the topic through a parameter that the ingest stack sets to it.
    const nested = Object.values(ingestTemplate.findResources('AWS::CloudFormation::Stack')).map(
      (stack) => (stack as { Properties: { Parameters: Record<string, unknown> } }).Properties.Parameters,
    );
    const topicParameters = new Set(
      nested.flatMap((parameters) =>
        Object.entries(parameters)
          .filter(([, value]) => flat(value) === `<${topic.id}>`)
          .map(([name]) => `<${name}>`),
      ),
    );
    expect(topicParameters.size).toBe(1);
    for (const template of instanceTemplates(built)) {
      for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
        const { AlarmActions, OKActions } = (alarm as { Properties: AlarmProps }).Properties;
        expect(flat(AlarmActions)).toEqual([...topicParameters]);
        expect(flat(OKActions)).toEqual([...topicParameters]);
      }
    }
  });
});

describe('ingest dashboard', () => {
  it('shows the run metrics of every instance by search, the function, the queues, the scheduler and the stack alarms', () => {
    // Act
    const built = buildApp(TWO_SPACES_ONE_SYSTEM);
    const dashboard = onlyResource(built.ingestTemplate, 'AWS::CloudWatch::Dashboard');
    const body = flat(dashboard.resource.Properties.DashboardBody) as string;
    const widgets = (
      JSON.parse(body) as {
        widgets: { properties: { title: string; alarms?: string[]; metrics?: unknown[][] } }[];
      }
    ).widgets;

    // Assess
    expect(widgets.map((w) => w.properties.title)).toEqual([
      'Events archived',
      'Pages fetched',
      'Throttles (left) and retries (right)',
      'Ingestion lag (seconds)',
      'Ingest function errors (left) and duration (right)',
      'Dead-letter queue depth',
      'Scheduled invocations (left) and their failures (right)',
      'Alarms',
    ]);
    // One search per metric, whatever the number of instances (a graph lists at most 100 metrics).
    for (const [metric, statistic] of [
      ['EventsArchived', 'Sum'],
      ['PagesFetched', 'Sum'],
      ['Throttles', 'Sum'],
      ['Retries', 'Sum'],
      ['IngestionLagSeconds', 'Maximum'],
    ]) {
      const search = `SEARCH('{EventlogArchive,Instance,Source,service} MetricName=\\"${metric}\\" service=\\"eventlog-archive-ingest\\"', '${statistic}', 900)`;
      expect(body.split(search).length - 1, metric).toBe(1);
    }
    for (const { Instance } of INSTANCES) expect(body).not.toContain(Instance);
    expect(widgets.at(-1)!.properties.alarms).toHaveLength(STACK_ALARMS);
  });
});

describe('alarms settings', () => {
  it.each([
    [
      'a lag threshold under two schedule rates',
      { schedule: { rateMinutes: 30 }, alarms: { lagMinutes: 59 } },
      'eventlogArchive.alarms.lagMinutes: 59 must be at least twice schedule.rateMinutes (60): every run reports its lag once, and the alarm needs at least two reports above the threshold',
    ],
    [
      'both a topic and an email',
      { alarms: { topicArn: TOPIC_ARN, email: 'ops@example.com' } },
      'eventlogArchive.alarms.email: "ops@example.com" must not be set together with topicArn (set one: topicArn uses your topic, email creates one)',
    ],
    [
      'a topic that is not an SNS ARN',
      { alarms: { topicArn: 'ops-alarms' } },
      'eventlogArchive.alarms.topicArn: "ops-alarms" must be an SNS topic ARN: arn:<partition>:sns:<region>:<account>:<topic name>',
    ],
    [
      'an email without a domain',
      { alarms: { email: 'ops' } },
      'eventlogArchive.alarms.email: "ops" must be an email address such as ops@example.com',
    ],
    [
      'a misspelt alarm setting',
      { alarms: { lagMinute: 100 } },
      'eventlogArchive.alarms.lagMinute: is not a known setting (known: lagMinutes, topicArn, email)',
    ],
  ])('rejects %s', (_name, settings, message) => {
    expect(() => loadConfig(settings)).toThrow(ConfigError);
    expect(() => loadConfig(settings)).toThrow(message);
  });
});
