/**
 * The `securityLake` option: its settings and their rules, and what it changes in the ingest stack:
 * exactly `sts:AssumeRole` on each provider role, the export ledger folder, and `SECURITY_LAKE`.
 * Without the option the stack is what it was.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DELIVERY_METRICS } from '../../lambdas/ingest/index';
import { loadConfig } from '../../lib/config';
import {
  LAKE_FAILED_RUNS_TO_ALARM,
  lakeBehindRuns,
  SecurityLakeMetric,
} from '../../lib/constructs/operations';
import { actionsOf, buildApp, flat, onlyResource, roleStatements, type Statement } from './helpers';

const ROLE = 'arn:aws:iam::123456789012:role/AmazonSecurityLake-Provider-eventlog-cc-us-east-1';
const RH_ROLE = 'arn:aws:iam::123456789012:role/AmazonSecurityLake-Provider-eventlog-rh-us-east-1';
const CODECATALYST = {
  sourceName: 'eventlog-cc',
  bucket: 'aws-security-data-lake-us-east-1-abcdef',
  providerRoleArn: ROLE,
  externalId: 'external-id-1',
};
const SPACES = { codecatalyst: { spaces: ['my-space'] } };
const WITH_LAKE = {
  ...SPACES,
  securityLake: {
    codecatalyst: CODECATALYST,
    resiliencehub: {
      ...CODECATALYST,
      sourceName: 'eventlog-rh',
      providerRoleArn: RH_ROLE,
      region: 'eu-west-1',
    },
  },
};

describe('securityLake settings', () => {
  it('reads one custom source per source kind, absent by default', () => {
    expect(loadConfig(SPACES).securityLake).toBeUndefined();
    expect(loadConfig(WITH_LAKE).securityLake).toEqual(WITH_LAKE.securityLake);
  });

  it.each([
    [
      'sourceName',
      '',
      /securityLake\.codecatalyst\.sourceName: "" must be the custom source's name: 1 to 64/,
    ],
    ['sourceName', 'a'.repeat(65), /sourceName: .* 1 to 64 letters, digits, '_' or '-'/],
    ['sourceName', 'has space', /sourceName: "has space" must be/],
    ['bucket', 'Upper_Case', /securityLake\.codecatalyst\.bucket: "Upper_Case" must be an S3 bucket name/],
    ['bucket', 'a..b', /bucket: "a..b" must be an S3 bucket name/],
    ['providerRoleArn', 'arn:aws:iam::12345:role/x', /providerRoleArn: .* must be an IAM role ARN/],
    ['providerRoleArn', 'arn:aws:iam::123456789012:user/x', /providerRoleArn: .* must be an IAM role ARN/],
    ['externalId', '', /externalId: "" must be the custom source's external id/],
    ['region', 'nowhere', /region: "nowhere" must be an AWS Region name/],
    ['accountId', '1234', /accountId: "1234" must be a 12-digit AWS account id/],
  ])('refuses %s %j with a message naming it and the rule', (field, value, message) => {
    const settings = { ...SPACES, securityLake: { codecatalyst: { ...CODECATALYST, [field]: value } } };
    expect(() => loadConfig(settings)).toThrow(message);
  });

  it('requires each field and refuses unknown keys', () => {
    const { externalId: _, ...missing } = CODECATALYST;
    expect(() => loadConfig({ ...SPACES, securityLake: { codecatalyst: missing } })).toThrow(
      /securityLake\.codecatalyst\.externalId: must be/,
    );
    expect(() => loadConfig({ ...SPACES, securityLake: { cloudtrail: CODECATALYST } })).toThrow(
      /securityLake\.cloudtrail: is not a known setting/,
    );
    expect(() =>
      loadConfig({ ...SPACES, securityLake: { codecatalyst: { ...CODECATALYST, bucketRegion: 'x' } } }),
    ).toThrow(/securityLake\.codecatalyst\.bucketRegion: is not a known setting/);
  });
});

function ingestRole(settings: unknown) {
  const built = buildApp(settings);
  const roleId = built.ingest.resolve((built.ingest.function.role as { roleName: string }).roleName)
    .Ref as string;
  const fn = Object.values(built.ingestTemplate.findResources('AWS::Lambda::Function')).find(
    (r) => (r as { Properties: { Handler?: string } }).Properties.Handler?.endsWith('handler') ?? false,
  ) as { Properties: { Environment: { Variables: Record<string, unknown> } } };
  return {
    statements: roleStatements(built.ingestTemplate, roleId),
    environment: fn.Properties.Environment.Variables,
  };
}

const key = (s: Statement) => JSON.stringify(flat(s));

describe('securityLake in the ingest stack', () => {
  it('grants exactly sts:AssumeRole on each provider role and the export ledger folder, nothing on the lake bucket', () => {
    const before = ingestRole(SPACES);
    const after = ingestRole(WITH_LAKE);

    // Every statement but the archive's read-write one is unchanged; the one new statement is the AssumeRole.
    const readWrite = (s: Statement) => actionsOf(s).includes('s3:DeleteObject');
    const listing = (s: Statement) => actionsOf(s).includes('s3:ListBucket');
    const folders = (s: Statement) => readWrite(s) || listing(s);
    const beforeRest = new Set(before.statements.filter((s) => !folders(s)).map(key));
    const added = after.statements.filter((s) => !folders(s) && !beforeRest.has(key(s)));
    expect(added).toEqual([{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: [ROLE, RH_ROLE] }]);
    expect(after.statements.filter((s) => !folders(s)).length).toBe(beforeRest.size + 1);
    // Listing gains the `_exports/` prefix only.
    const prefixes = (statements: Statement[]) =>
      (flat(statements.find(listing)!.Condition) as { StringLikeIfExists: { 's3:prefix': string[] } })
        .StringLikeIfExists['s3:prefix'];
    expect([...prefixes(after.statements)].sort()).toEqual(
      [...prefixes(before.statements), '_exports/*'].sort(),
    );
    // The archive's read-write folders gain `_exports/` only.
    const rw = (statements: Statement[]) =>
      JSON.stringify(flat(statements.find(readWrite)!.Resource))
        .match(/[a-z_]+\/\*/g)
        ?.sort();
    expect(rw(after.statements)).toEqual([...(rw(before.statements) ?? []), '_exports/*'].sort());
    // Nothing names the lake bucket.
    expect(JSON.stringify(after.statements)).not.toContain(CODECATALYST.bucket);
  });

  it('passes the custom sources to the function as SECURITY_LAKE, CodeCatalyst in the deploying account', () => {
    const { environment } = ingestRole(WITH_LAKE);
    const value = JSON.stringify(flat(environment.SECURITY_LAKE));
    expect(value).toContain('eventlog-cc');
    expect(value).toContain('external-id-1');
    expect(value).toContain('AWS::AccountId');
    expect(ingestRole(SPACES).environment.SECURITY_LAKE).toBeUndefined();
  });

  it('changes nothing without the option', () => {
    const { statements } = ingestRole(SPACES);
    expect(JSON.stringify(statements)).not.toContain('sts:AssumeRole');
    expect(JSON.stringify(statements)).not.toContain('_exports');
  });
});

interface AlarmProps {
  MetricName?: string;
  Namespace?: string;
  Dimensions?: { Name: string; Value: unknown }[];
  Statistic?: string;
  Period?: number;
  Threshold?: number;
  ComparisonOperator?: string;
  EvaluationPeriods?: number;
  DatapointsToAlarm?: number;
  TreatMissingData?: string;
  AlarmActions?: unknown[];
  OKActions?: unknown[];
  AlarmDescription?: string;
}

function stackAlarms(settings: unknown): [string, AlarmProps][] {
  const built = buildApp(settings);
  return Object.entries(built.ingestTemplate.findResources('AWS::CloudWatch::Alarm')).map(([id, alarm]) => [
    id,
    (alarm as { Properties: AlarmProps }).Properties,
  ]);
}

const lakeAlarms = (settings: unknown) =>
  stackAlarms(settings).filter(([, a]) => a.MetricName?.startsWith('SecurityLake'));

describe('securityLake alarms', () => {
  const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:ops-alarms';

  it('agree with the ingest code on the metric names', () => {
    expect(Object.values(SecurityLakeMetric).sort()).toEqual(Object.keys(DELIVERY_METRICS).sort());
  });

  it('exist only with the option', () => {
    expect(lakeAlarms(SPACES)).toEqual([]);
    expect(lakeAlarms(WITH_LAKE)).toHaveLength(4);
  });

  it("watch each source kind's aggregate: Behind on the worst instance's pending days, Failing on failed deliveries, both routed to the topic", () => {
    const all = lakeAlarms({ ...WITH_LAKE, alarms: { topicArn: TOPIC_ARN } });
    for (const source of ['codecatalyst', 'resiliencehub']) {
      const behind = all.filter(([id]) => id.includes(`SecurityLakeBehind${source}`));
      const failing = all.filter(([id]) => id.includes(`SecurityLakeFailing${source}`));
      expect(behind, source).toHaveLength(1);
      expect(failing, source).toHaveLength(1);
      const dimensions = [
        { Name: 'service', Value: 'eventlog-archive-ingest' },
        { Name: 'Source', Value: source },
      ];
      // Default schedule: every 15 minutes; default backfill 30 days: 31 days at 10 a run is 4 runs, plus one.
      expect(behind[0]![1]).toMatchObject({
        Namespace: 'EventlogArchive',
        MetricName: 'SecurityLakeDaysPending',
        Statistic: 'Maximum',
        Period: 900,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 5,
        DatapointsToAlarm: 5,
        TreatMissingData: 'notBreaching',
        AlarmActions: [TOPIC_ARN],
        OKActions: [TOPIC_ARN],
      });
      expect(failing[0]![1]).toMatchObject({
        Namespace: 'EventlogArchive',
        MetricName: 'SecurityLakeDeliveryFailures',
        Statistic: 'Sum',
        Period: 900,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: LAKE_FAILED_RUNS_TO_ALARM,
        DatapointsToAlarm: LAKE_FAILED_RUNS_TO_ALARM,
        TreatMissingData: 'notBreaching',
        AlarmActions: [TOPIC_ARN],
        OKActions: [TOPIC_ARN],
      });
      // Exactly the per-source dimension set the ingest code writes (no Instance: one alarm per source).
      for (const [, alarm] of [...behind, ...failing])
        expect([...(alarm.Dimensions ?? [])].sort((a, b) => a.Name.localeCompare(b.Name))).toEqual(
          dimensions,
        );
    }
  });

  it('give a first backfill time to catch up, and stay within a day of evaluation', () => {
    expect(lakeBehindRuns(1)).toBe(LAKE_FAILED_RUNS_TO_ALARM);
    expect(lakeBehindRuns(30)).toBe(5);
    const daily = lakeAlarms({ ...WITH_LAKE, schedule: { rateMinutes: 1440 }, backfillDays: 30 });
    for (const [, alarm] of daily) {
      expect(alarm.Period).toBe(86_400);
      expect(alarm.EvaluationPeriods).toBe(1);
    }
  });

  it('point at their section of docs/operations.md, which has a row for each', () => {
    const page = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
    expect(page).toMatch(/^### Security Lake delivery$/m);
    expect(page).toMatch(/^\| `SecurityLakeBehind-<source>` \|/m);
    expect(page).toMatch(/^\| `SecurityLakeFailing-<source>` \|/m);
    for (const [, alarm] of lakeAlarms(WITH_LAKE))
      expect(alarm.AlarmDescription).toMatch(/See docs\/operations\.md#security-lake-delivery\.$/);
  });

  it('are on the dashboard: a graph of both aggregates and the alarm status widget', () => {
    const built = buildApp(WITH_LAKE);
    const body = flat(
      onlyResource(built.ingestTemplate, 'AWS::CloudWatch::Dashboard').resource.Properties.DashboardBody,
    ) as string;
    const widgets = (JSON.parse(body) as { widgets: { properties: { title: string; alarms?: string[] } }[] })
      .widgets;
    expect(widgets.map((w) => w.properties.title)).toContain(
      'Security Lake: days pending (left, worst instance) and failed deliveries (right)',
    );
    expect(widgets.at(-1)!.properties.alarms).toHaveLength(4 + 4);
  });
});
