import { App, CfnResource, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Capture, Match, Template } from 'aws-cdk-lib/assertions';
import { Schedule as EventsSchedule, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction as EventsLambdaTarget } from 'aws-cdk-lib/aws-events-targets';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { buildSharedLayer } from '../../lambdas/shared/build';
import { loadConfig } from '../../lib/config';
import { SharedLayer } from '../../lib/constructs/shared-layer';
import { deploySources, scheduleIdOf } from '../../lib/sources';
import { INSTANCE_STACKS, instanceStackOf } from '../../lib/stacks/ingest-stack';
import {
  actionsOf,
  type BuiltApp,
  buildApp,
  featureFlags,
  flat,
  onlyResource,
  resourcesOf,
  roleStatements,
  SKIP_BUNDLING,
  type Statement,
} from './helpers';
import { ingestResources } from './ingest-templates';

vi.mock('../../lambdas/shared/build', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../lambdas/shared/build')>();
  return { ...actual, buildSharedLayer: vi.fn(actual.buildSharedLayer) };
});

const SPACES = { codecatalyst: { spaces: ['alpha', 'my-space.2'] } };
const SECRET_ARN =
  'arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:eventlog-archive/codecatalyst-pat';

function ingestFunction(template: Template) {
  return onlyResource(template, 'AWS::Lambda::Function', { Handler: 'index.handler' });
}

/** The storage stack's export of the archive bucket's ARN, as `flat` renders the import. */
function bucketArnImport(statements: Statement[]): string {
  const list = statements.find((s) => actionsOf(s).includes('s3:ListBucket'));
  expect(list).toBeDefined();
  const arn = list!.Resource as string;
  expect(arn).toMatch(/^<Import:Storage:ExportsOutputFnGetAttArchive[0-9A-F]+Arn[0-9A-F]+>$/);
  return arn;
}

const SYSTEM_ARN = 'arn:aws:resiliencehub:us-east-1:123456789012:system/checkout';

interface ScheduleProperties {
  Name?: string;
  GroupName: string;
  ScheduleExpression: string;
  FlexibleTimeWindow: unknown;
  State: string;
  Description: string;
  Target: {
    Arn: unknown;
    RoleArn: unknown;
    Input: string;
    RetryPolicy: unknown;
    DeadLetterConfig: { Arn: unknown };
  };
}

/** Every schedule, with the number of the nested stack that holds it and its logical id there. */
function schedules(built: BuiltApp): { stack: number; id: string; properties: ScheduleProperties }[] {
  return [...built.ingest.instanceStacks.entries()].flatMap(([stack, nested]) =>
    Object.entries(Template.fromStack(nested).findResources('AWS::Scheduler::Schedule')).map(
      ([id, resource]) => ({
        stack,
        id,
        properties: (resource as { Properties: ScheduleProperties }).Properties,
      }),
    ),
  );
}

/** A nested stack's `{ Ref: parameter }` as the ingest stack passes it, rendered by `flat`. */
function inParent(built: BuiltApp, stack: number, value: unknown): unknown {
  const nested = built.ingest.instanceStacks.get(stack)!;
  const resourceId = built.ingest.getLogicalId(nested.nestedStackResource as CfnResource);
  const parameters = built.ingestTemplate.toJSON().Resources[resourceId].Properties.Parameters as Record<
    string,
    unknown
  >;
  return flat(parameters[(value as { Ref: string }).Ref]);
}

function queueIdOf(template: Template, prefix: string): string {
  return Object.keys(template.findResources('AWS::SQS::Queue')).find((id) => id.startsWith(prefix))!;
}

function schedulerRoleId(built: BuiltApp): string {
  return built.ingest.getLogicalId(built.ingest.scheduler.role.node.defaultChild as CfnResource);
}

/**
 * The logical ids the EventBridge rules, and the Lambda permissions they added to the function, had in
 * the ingest stack for these settings: the same construct ids under the stack and the function.
 */
function formerRuleIds(settings: unknown): string[] {
  const stack = new Stack(new App({ context: featureFlags() }), 'Ingest');
  const fn = new LambdaFunction(stack, 'Ingest', {
    runtime: Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: Code.fromInline('exports.handler = async () => {}'),
  });
  const config = loadConfig(settings);
  for (const { deploy } of deploySources()) {
    for (const instance of deploy.instances(config)) {
      new Rule(stack, scheduleIdOf(deploy, instance), {
        schedule: EventsSchedule.rate(Duration.minutes(15)),
      }).addTarget(new EventsLambdaTarget(fn));
    }
  }
  return stack.node
    .findAll()
    .filter(
      (c): c is CfnResource =>
        CfnResource.isCfnResource(c) &&
        ['AWS::Events::Rule', 'AWS::Lambda::Permission'].includes(c.cfnResourceType),
    )
    .map((resource) => stack.getLogicalId(resource));
}

describe('IngestStack', () => {
  beforeEach(() => {
    vi.mocked(buildSharedLayer).mockClear();
  });

  describe('function', () => {
    it('runs index.handler on nodejs24.x, arm64, with 3008 MB (the most every account accepts), the configured timeout and no tracing', () => {
      // Act
      const { ingestTemplate } = buildApp({ ...SPACES, functionTimeoutMinutes: 10 });
      const fn = ingestFunction(ingestTemplate);

      // Assess
      expect(fn.resource.Properties).toMatchObject({
        Handler: 'index.handler',
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        MemorySize: 3008,
        Timeout: 600,
      });
      expect(fn.resource.Properties.TracingConfig).toBeUndefined();
    });

    it('takes its memory from functionMemoryMb (two full vCPUs at 3538 MB where the account allows it)', () => {
      // Act
      const { ingestTemplate } = buildApp({ ...SPACES, functionMemoryMb: 3538 });

      // Assess
      ingestTemplate.hasResourceProperties('AWS::Lambda::Function', {
        Handler: 'index.handler',
        MemorySize: 3538,
      });
    });

    it('attaches the shared layer, built for nodejs24.x on arm64', () => {
      // Act
      const { ingestTemplate } = buildApp(SPACES);
      const layer = onlyResource(ingestTemplate, 'AWS::Lambda::LayerVersion');

      // Assess
      expect(ingestFunction(ingestTemplate).resource.Properties.Layers).toEqual([{ Ref: layer.id }]);
      expect(layer.resource.Properties).toMatchObject({
        CompatibleRuntimes: ['nodejs24.x'],
        CompatibleArchitectures: ['arm64'],
        LicenseInfo: 'Apache-2.0',
      });
    });

    it('logs to its own log group kept for three months', () => {
      // Act
      const { ingestTemplate } = buildApp(SPACES);
      const logGroup = onlyResource(ingestTemplate, 'AWS::Logs::LogGroup');

      // Assess
      expect(ingestFunction(ingestTemplate).resource.Properties.LoggingConfig).toEqual({
        LogGroup: { Ref: logGroup.id },
      });
      expect(logGroup.resource.Properties.RetentionInDays).toBe(90);
    });

    it('sets exactly the environment the handler reads', () => {
      // Act
      const { ingestTemplate } = buildApp({
        ...SPACES,
        lookbackMinutes: 180,
        backfillDays: 14,
        sliceMinutes: 30,
        maxConcurrency: 8,
      });
      const variables = flat(
        (ingestFunction(ingestTemplate).resource.Properties.Environment as { Variables: unknown }).Variables,
      );

      // Assess
      expect(variables).toEqual({
        ARCHIVE_URI: expect.stringMatching(/^s3:\/\/<Import:Storage:ExportsOutputRefArchive[0-9A-F]+>$/),
        CODECATALYST_TOKEN_SECRET_ARN: SECRET_ARN,
        LOOKBACK_MINUTES: '180',
        BACKFILL_DAYS: '14',
        SLICE_MINUTES: '30',
        MAX_CONCURRENCY: '8',
        // The young-generation size the bench measured the ingest with (lambdas/ingest/v8-options.ts).
        NODE_OPTIONS: '--enable-source-maps --max-semi-space-size=32',
        POWERTOOLS_SERVICE_NAME: 'eventlog-archive-ingest',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        POWERTOOLS_METRICS_NAMESPACE: 'EventlogArchive',
        DIGEST_SIGNING_KEY_ARN: expect.stringMatching(
          /^<Import:Storage:ExportsOutputFnGetAttDigestSigningKey[0-9A-F]+Arn[0-9A-F]+>$/,
        ),
      });
    });

    it('appends the archive prefix to ARCHIVE_URI without a trailing slash', () => {
      // Act
      const { ingestTemplate } = buildApp({ ...SPACES, archivePrefix: 'tables/v1/' });
      const variables = flat(
        (ingestFunction(ingestTemplate).resource.Properties.Environment as { Variables: unknown }).Variables,
      ) as Record<string, string>;

      // Assess
      expect(variables.ARCHIVE_URI).toMatch(
        /^s3:\/\/<Import:Storage:ExportsOutputRefArchive[0-9A-F]+>\/tables\/v1$/,
      );
    });

    it('sends failed asynchronous runs to an encrypted, TLS-only DLQ kept 14 days', () => {
      // Prepare
      const { ingestTemplate } = buildApp(SPACES);
      const destination = new Capture();

      // Act
      ingestTemplate.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: ingestFunction(ingestTemplate).id },
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 3600,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [destination, 'Arn'] } } },
      });
      const queueId = destination.asString();

      // Assess
      expect(queueId).toMatch(/^FailedRuns/);
      expect(ingestTemplate.toJSON().Resources[queueId].Properties).toEqual({
        MessageRetentionPeriod: 1_209_600,
        SqsManagedSseEnabled: true,
      });
      const policy = onlyResource(ingestTemplate, 'AWS::SQS::QueuePolicy', { Queues: [{ Ref: queueId }] });
      expect(flat((policy.resource.Properties.PolicyDocument as { Statement: unknown }).Statement)).toEqual([
        {
          Action: 'sqs:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Resource: `<${queueId}.Arn>`,
        },
      ]);
    });
  });

  describe('schedules', () => {
    it('puts one EventBridge Scheduler schedule per space in one schedule group, sending its space at the configured rate, on time', () => {
      // Act
      const built = buildApp({ ...SPACES, schedule: { rateMinutes: 5 } });
      const group = onlyResource(built.ingestTemplate, 'AWS::Scheduler::ScheduleGroup');
      const found = schedules(built);

      // Assess
      expect(found.map((s) => JSON.parse(s.properties.Target.Input).instance).sort()).toEqual([
        'alpha',
        'my-space.2',
      ]);
      for (const { properties } of found) {
        const space = JSON.parse(properties.Target.Input).instance as string;
        expect(properties).toMatchObject({
          GroupName: group.resource.Properties.Name,
          ScheduleExpression: 'rate(5 minutes)',
          FlexibleTimeWindow: { Mode: 'OFF' },
          State: 'ENABLED',
          Description: `eventlog-archive: ingest CodeCatalyst space ${space}`,
        });
        expect(properties.Target.Input).toBe(JSON.stringify({ source: 'codecatalyst', instance: space }));
        // Scheduler picks the name: a schedule can then move between nested stacks without a clash.
        expect(properties.Name).toBeUndefined();
      }
      expect(group.resource.DeletionPolicy).toBe('Delete');
    });

    it('invokes the function with two retries within an hour, then the schedule dead-letter queue, through the one invoke role', () => {
      // Act
      const built = buildApp(SPACES);
      const fnId = ingestFunction(built.ingestTemplate).id;
      const queueId = queueIdOf(built.ingestTemplate, 'ScheduleDeadLetters');
      const roleId = schedulerRoleId(built);

      // Assess
      for (const { stack, properties } of schedules(built)) {
        const { Arn, RoleArn, DeadLetterConfig, RetryPolicy } = properties.Target;
        expect(inParent(built, stack, Arn)).toBe(`<${fnId}.Arn>`);
        expect(inParent(built, stack, RoleArn)).toBe(`<${roleId}.Arn>`);
        expect(inParent(built, stack, DeadLetterConfig.Arn)).toBe(`<${queueId}.Arn>`);
        expect(RetryPolicy).toEqual({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 });
      }
    });

    it('renders a one-minute rate in the singular Scheduler requires', () => {
      const built = buildApp({ ...SPACES, schedule: { rateMinutes: 1 } });
      for (const { properties } of schedules(built))
        expect(properties.ScheduleExpression).toBe('rate(1 minute)');
    });

    it("has exactly one invoke role, assumable only by this account's Scheduler for this group, allowed only to invoke the function and send dead letters", () => {
      // Act
      const built = buildApp({ ...SPACES, resiliencehub: { systemArns: [SYSTEM_ARN] } });
      const fnId = ingestFunction(built.ingestTemplate).id;
      const queueId = queueIdOf(built.ingestTemplate, 'ScheduleDeadLetters');
      const group = onlyResource(built.ingestTemplate, 'AWS::Scheduler::ScheduleGroup');
      const roles = ingestResources(built, 'AWS::IAM::Role').filter(([, role]) =>
        JSON.stringify(role.Properties.AssumeRolePolicyDocument).includes('scheduler.amazonaws.com'),
      );

      // Assess
      expect(roles.map(([id]) => id)).toEqual([schedulerRoleId(built)]);
      const [[roleId, role]] = roles as [[string, { Properties: Record<string, unknown> }]];
      expect(flat((role.Properties.AssumeRolePolicyDocument as { Statement: unknown }).Statement)).toEqual([
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { Service: 'scheduler.amazonaws.com' },
          Condition: {
            StringEquals: { 'aws:SourceAccount': '<AWS::AccountId>', 'aws:SourceArn': `<${group.id}.Arn>` },
          },
        },
      ]);
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      expect(roleStatements(built.ingestTemplate, roleId)).toEqual([
        { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: `<${fnId}.Arn>` },
        { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: `<${queueId}.Arn>` },
      ]);
    });

    it('lets the invoke role encrypt dead letters with the key of an encrypted queue, and nothing more', () => {
      // Act
      const built = buildApp(SPACES, {
        encryptionKey: (app) => new Key(new Stack(app, 'Keys'), 'ArchiveKey'),
      });
      const statements = roleStatements(built.ingestTemplate, schedulerRoleId(built));

      // Assess
      expect(statements.filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')))).toEqual([
        {
          Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
          Effect: 'Allow',
          Resource: expect.stringMatching(
            /^<Import:Keys:ExportsOutputFnGetAttArchiveKey[0-9A-F]+Arn[0-9A-F]+>$/,
          ),
        },
      ]);
      expect(statements).toHaveLength(3);
    });

    it.each([
      ['two spaces', SPACES],
      ['forty spaces', { codecatalyst: { spaces: Array.from({ length: 40 }, (_, i) => `space-${i}`) } }],
    ])(
      "adds nothing per schedule to the function's resource policy or the queue's policy with %s",
      (_n, settings) => {
        // Act
        const built = buildApp(settings);
        const queueId = queueIdOf(built.ingestTemplate, 'ScheduleDeadLetters');
        const policy = onlyResource(built.ingestTemplate, 'AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: queueId }],
        });

        // Assess: no Lambda permission at all (the role invokes), and the queue's policy only enforces TLS.
        expect(ingestResources(built, 'AWS::Lambda::Permission')).toEqual([]);
        expect(flat((policy.resource.Properties.PolicyDocument as { Statement: unknown }).Statement)).toEqual(
          [
            {
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              Effect: 'Deny',
              Principal: { AWS: '*' },
              Resource: `<${queueId}.Arn>`,
            },
          ],
        );
        expect(ingestResources(built, 'AWS::IAM::Role')).toHaveLength(2);
        expect(ingestResources(built, 'AWS::IAM::Policy')).toHaveLength(2);
        expect(ingestResources(built, 'AWS::Events::Rule')).toEqual([]);
      },
    );

    it('keeps the dead-letter queue encrypted and TLS-only, kept 14 days', () => {
      const built = buildApp(SPACES);
      const queueId = queueIdOf(built.ingestTemplate, 'ScheduleDeadLetters');
      expect(built.ingestTemplate.toJSON().Resources[queueId].Properties).toEqual({
        MessageRetentionPeriod: 1_209_600,
        SqsManagedSseEnabled: true,
      });
    });

    it("puts each instance's schedule in the nested stack of its hash, created only when used, after the invoke role's grants", () => {
      // Act
      const built = buildApp({ ...SPACES, resiliencehub: { systemArns: [SYSTEM_ARN] } });
      const { ingest, ingestTemplate } = built;

      // Assess
      const used = [
        instanceStackOf('codecatalyst', 'alpha'),
        instanceStackOf('codecatalyst', 'my-space.2'),
        instanceStackOf('resiliencehub', SYSTEM_ARN),
      ];
      expect([...ingest.instanceStacks.keys()].sort()).toEqual([...new Set(used)].sort());
      for (const { stack, properties } of schedules(built)) {
        const { source, instance } = JSON.parse(properties.Target.Input);
        expect(stack).toBe(instanceStackOf(source, instance));
      }
      const roleId = schedulerRoleId(built);
      for (const resource of Object.values(ingestTemplate.findResources('AWS::CloudFormation::Stack'))) {
        expect((resource as { DependsOn: string[] }).DependsOn).toEqual(
          expect.arrayContaining([roleId, expect.stringMatching(/^SchedulerInvokeRoleDefaultPolicy/)]),
        );
      }
      expect(INSTANCE_STACKS).toBe(8);
    });

    it('keeps each schedule id and nested stack when spaces are added or removed', () => {
      // Act
      const before = buildApp({ codecatalyst: { spaces: ['alpha'] } });
      const after = buildApp({ codecatalyst: { spaces: ['zeta', 'alpha', 'beta'] } });
      const idOf = (built: BuiltApp, space: string) =>
        schedules(built).find((s) => JSON.parse(s.properties.Target.Input).instance === space);

      // Assess
      expect(idOf(after, 'alpha')).toEqual(idOf(before, 'alpha'));
      expect(idOf(before, 'alpha')?.id).toMatch(/^Schedulealpha[0-9A-F]{8}$/);
    });

    it('replaces the EventBridge rules with new resources: no logical id of a rule or its Lambda permission is reused in the ingest stack', () => {
      // Prepare: the ids the rules and their permissions had in the ingest stack before Scheduler.
      const settings = { ...SPACES, resiliencehub: { systemArns: [SYSTEM_ARN] } };
      const built = buildApp(settings);
      const old = formerRuleIds(settings);

      // Assess: CloudFormation deletes a resource that left the template in the cleanup phase, after it
      // created the new ones (the nested stacks and their schedules); a reused id with another type
      // would fail the update instead.
      const ids = Object.keys(built.ingestTemplate.toJSON().Resources);
      expect(old).toHaveLength(6);
      for (const id of old) expect(ids).not.toContain(id);
      expect(ingestResources(built, 'AWS::Scheduler::Schedule')).toHaveLength(3);
      expect(Object.keys(built.ingestTemplate.findResources('AWS::Scheduler::Schedule'))).toEqual([]);
    });

    it('warns, and schedules nothing, when no space is configured', () => {
      // Act
      const built = buildApp({});

      // Assess
      expect(built.ingest.instanceStacks.size).toBe(0);
      expect(ingestResources(built, 'AWS::Scheduler::Schedule')).toEqual([]);
      Annotations.fromStack(built.ingest).hasWarning(
        '/Ingest',
        Match.stringLikeRegexp('No CodeCatalyst space is configured.*eventlogArchive.codecatalyst.spaces'),
      );
    });

    it('does not warn when a space is configured', () => {
      const { ingest } = buildApp(SPACES);
      Annotations.fromStack(ingest).hasNoWarning('/Ingest', Match.stringLikeRegexp('No CodeCatalyst space'));
    });
  });

  describe('Resilience Hub systems', () => {
    const SYSTEMS = [
      'arn:aws:resiliencehub:us-west-2:123456789012:system/checkout:abc123',
      'arn:aws:resiliencehub:eu-central-1:210987654321:system/a+b/c.d',
    ];
    const WITH_SYSTEMS = { ...SPACES, resiliencehub: { systemArns: SYSTEMS } };

    function scheduleOf(built: BuiltApp, instance: string) {
      return schedules(built).find((s) => JSON.parse(s.properties.Target.Input).instance === instance);
    }

    it('creates one schedule per system ARN, sending { source: resiliencehub, instance: <arn> }', () => {
      // Act
      const built = buildApp({ ...WITH_SYSTEMS, schedule: { rateMinutes: 10 } });
      const fnId = ingestFunction(built.ingestTemplate).id;
      const queueId = queueIdOf(built.ingestTemplate, 'ScheduleDeadLetters');

      // Assess
      expect(schedules(built)).toHaveLength(4);
      expect([...(built.ingest.schedulesBySource.get('resiliencehub')?.keys() ?? [])]).toEqual(SYSTEMS);
      for (const arn of SYSTEMS) {
        const { stack, properties } = scheduleOf(built, arn)!;
        expect(properties.ScheduleExpression).toBe('rate(10 minutes)');
        expect(properties.Target.Input).toBe(JSON.stringify({ source: 'resiliencehub', instance: arn }));
        expect(properties.Target.RetryPolicy).toEqual({
          MaximumRetryAttempts: 2,
          MaximumEventAgeInSeconds: 3600,
        });
        expect(inParent(built, stack, properties.Target.Arn)).toBe(`<${fnId}.Arn>`);
        expect(inParent(built, stack, properties.Target.DeadLetterConfig.Arn)).toBe(`<${queueId}.Arn>`);
      }
    });

    it('names each schedule by a hash of its ARN, stable when systems are added or removed', () => {
      // Act
      const before = buildApp({ resiliencehub: { systemArns: [SYSTEMS[0]] } });
      const after = buildApp({ resiliencehub: { systemArns: [SYSTEMS[1], SYSTEMS[0]] } });

      // Assess
      const first = scheduleOf(before, SYSTEMS[0]!);
      expect(first?.id).toMatch(/^Schedulesystem[0-9a-f]{16}[0-9A-F]{8}$/);
      expect(scheduleOf(after, SYSTEMS[0]!)).toEqual(first);
      expect(scheduleOf(after, SYSTEMS[1]!)?.id).not.toBe(first?.id);
    });

    it('allows resiliencehub:ListSystemEvents on exactly the configured systems, in one statement', () => {
      // Act
      const { ingest, ingestTemplate } = buildApp(WITH_SYSTEMS);
      const roleId = ingest.resolve((ingest.function.role as { roleName: string }).roleName).Ref as string;
      const statements = roleStatements(ingestTemplate, roleId);

      // Assess
      const list = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('resiliencehub:')));
      expect(list).toEqual([
        { Action: 'resiliencehub:ListSystemEvents', Effect: 'Allow', Resource: expect.any(Array) },
      ]);
      expect(resourcesOf(list[0]!).sort()).toEqual([...SYSTEMS].sort());
      expect(statements.flatMap(resourcesOf)).not.toContain('*');
    });

    it('spreads many system ARNs over the inline and managed policies IAM allows a role, each ARN once', () => {
      // Act: 100 systems of ~80 characters, 8,000 characters of ARNs: more than fits inline.
      const arns = Array.from(
        { length: 100 },
        (_, i) =>
          `arn:aws:resiliencehub:us-east-1:123456789012:system/payments-service-${String(i).padStart(3, '0')}`,
      );
      const built = buildApp({ resiliencehub: { systemArns: arns } });
      const roleId = built.ingest.resolve((built.ingest.function.role as { roleName: string }).roleName)
        .Ref as string;
      const inline = onlyResource(built.ingestTemplate, 'AWS::IAM::Policy', { Roles: [{ Ref: roleId }] });
      const managed = Object.values(built.ingestTemplate.findResources('AWS::IAM::ManagedPolicy')).map(
        (policy) =>
          (policy as { Properties: { PolicyDocument: { Statement: unknown[] }; Roles: unknown } }).Properties,
      );
      const list = [inline.resource.Properties, ...managed]
        .flatMap((p) => flat((p.PolicyDocument as { Statement: unknown }).Statement) as Statement[])
        .filter((s) => actionsOf(s).includes('resiliencehub:ListSystemEvents'));

      // Assess: IAM's sizes (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
      expect(managed.length).toBeGreaterThan(0);
      expect(JSON.stringify(inline.resource.Properties.PolicyDocument).length).toBeLessThanOrEqual(10_240);
      for (const policy of managed) {
        expect(policy.Roles).toEqual([{ Ref: roleId }]);
        expect(JSON.stringify(policy.PolicyDocument).length).toBeLessThanOrEqual(6_144);
      }
      expect(list.flatMap(resourcesOf).sort()).toEqual([...arns].sort());
    });

    it('grants no Resilience Hub action when no system is configured', () => {
      const { ingest, ingestTemplate } = buildApp(SPACES);
      const roleId = ingest.resolve((ingest.function.role as { roleName: string }).roleName).Ref as string;
      const actions = roleStatements(ingestTemplate, roleId).flatMap(actionsOf);
      expect(actions.filter((a) => a.startsWith('resiliencehub:'))).toEqual([]);
    });

    it('does not warn when only systems are configured', () => {
      const built = buildApp({ resiliencehub: { systemArns: SYSTEMS } });
      expect(schedules(built)).toHaveLength(2);
      Annotations.fromStack(built.ingest).hasNoWarning(
        '/Ingest',
        Match.stringLikeRegexp('No CodeCatalyst space'),
      );
    });
  });

  describe('permissions', () => {
    it('grants exactly the logs, DLQ, archive, digest key and secret actions, none with a wildcard', () => {
      // Act
      const { ingest, ingestTemplate } = buildApp(SPACES);
      const roleId = ingest.resolve((ingest.function.role as { roleName: string }).roleName).Ref as string;
      const statements = roleStatements(ingestTemplate, roleId);
      const actions = statements.flatMap(actionsOf).sort();

      // Assess
      expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
      expect(actions).toEqual(
        [
          'kms:GetPublicKey',
          'kms:Sign',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
          's3:DeleteObject',
          's3:GetObject',
          // Again for the digests, which the function writes once and never deletes.
          's3:GetObject',
          's3:ListBucket',
          's3:PutObject',
          's3:PutObject',
          'secretsmanager:GetSecretValue',
          'sqs:GetQueueAttributes',
          'sqs:GetQueueUrl',
          'sqs:SendMessage',
        ].sort(),
      );
      expect(actions.filter((a) => a.includes('*'))).toEqual([]);
      expect(statements.flatMap(resourcesOf)).not.toContain('*');
    });

    it('uses no managed policy: logs go to the function log group only', () => {
      // Act
      const { ingest, ingestTemplate } = buildApp(SPACES);
      const roleId = ingest.resolve((ingest.function.role as { roleName: string }).roleName).Ref as string;
      const role = ingestTemplate.toJSON().Resources[roleId];
      const logGroup = onlyResource(ingestTemplate, 'AWS::Logs::LogGroup');

      // Assess
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      expect(roleStatements(ingestTemplate, roleId)).toContainEqual({
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Effect: 'Allow',
        Resource: `<${logGroup.id}.Arn>`,
      });
    });

    it.each([
      ['no prefix', '', ''],
      ['a prefix', 'tables/v1', 'tables/v1/'],
    ])(
      'scopes object access and listing to the four folders and the digests with %s',
      (_case, archivePrefix, keyPrefix) => {
        // Act
        const { ingest, ingestTemplate } = buildApp({ ...SPACES, archivePrefix });
        const roleId = ingest.resolve((ingest.function.role as { roleName: string }).roleName).Ref as string;
        const statements = roleStatements(ingestTemplate, roleId);
        const bucketArn = bucketArnImport(statements);
        const folders = ['codecatalyst_event_logs', 'resiliencehub_system_events', '_ledger', '_leases'].map(
          (f) => `${keyPrefix}${f}/*`,
        );

        // Assess
        const objects = statements.filter((s) => actionsOf(s).includes('s3:GetObject'));
        expect(objects).toHaveLength(2);
        const readWrite = objects.find((s) => actionsOf(s).includes('s3:DeleteObject'))!;
        expect(actionsOf(readWrite).sort()).toEqual(['s3:DeleteObject', 's3:GetObject', 's3:PutObject']);
        expect(resourcesOf(readWrite).sort()).toEqual(folders.map((f) => `${bucketArn}/${f}`).sort());
        const digests = objects.find((s) => s !== readWrite)!;
        expect(digests).toEqual({
          Action: 's3:GetObject',
          Effect: 'Allow',
          Resource: `${bucketArn}/${keyPrefix}_digests/*`,
        });
        // Digests are created, never overwritten: the only put the role may make carries If-None-Match: *.
        const puts = statements.filter((s) => actionsOf(s).includes('s3:PutObject') && s !== readWrite);
        expect(puts).toEqual([
          {
            Action: 's3:PutObject',
            Condition: { Null: { 's3:if-none-match': 'false' }, StringEquals: { 's3:if-none-match': '*' } },
            Effect: 'Allow',
            Resource: `${bucketArn}/${keyPrefix}_digests/*`,
          },
        ]);
        const list = statements.filter((s) => actionsOf(s).includes('s3:ListBucket'));
        expect(list).toEqual([
          {
            Action: 's3:ListBucket',
            Condition: { StringLikeIfExists: { 's3:prefix': [...folders, `${keyPrefix}_digests/*`] } },
            Effect: 'Allow',
            Resource: bucketArn,
          },
        ]);
      },
    );

    it('reads the token secret only, by name with any ARN suffix', () => {
      // Act
      const { ingest, ingestTemplate } = buildApp({
        ...SPACES,
        codecatalyst: { ...SPACES.codecatalyst, tokenSecretName: 'prod/codecatalyst/pat' },
      });
      const roleId = ingest.resolve((ingest.function.role as { roleName: string }).roleName).Ref as string;
      const secrets = roleStatements(ingestTemplate, roleId).filter((s) =>
        actionsOf(s).some((a) => a.startsWith('secretsmanager:')),
      );

      // Assess
      expect(secrets).toEqual([
        {
          Action: 'secretsmanager:GetSecretValue',
          Effect: 'Allow',
          Resource:
            'arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:prod/codecatalyst/pat-??????',
        },
      ]);
    });

    it('adds only Decrypt and GenerateDataKey on the key when the archive uses SSE-KMS', () => {
      // Act
      const { ingest, ingestTemplate } = buildApp(SPACES, {
        encryptionKey: (app) => new Key(new Stack(app, 'Keys'), 'ArchiveKey'),
      });
      const roleId = ingest.resolve((ingest.function.role as { roleName: string }).roleName).Ref as string;
      // The digest signing key's statement is the subject of test/lib/security.test.ts.
      const kms = roleStatements(ingestTemplate, roleId).filter((s) =>
        actionsOf(s).some((a) => a.startsWith('kms:') && a !== 'kms:Sign' && a !== 'kms:GetPublicKey'),
      );

      // Assess
      expect(kms).toEqual([
        {
          Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
          Effect: 'Allow',
          Resource: expect.stringMatching(
            /^<Import:Keys:ExportsOutputFnGetAttArchiveKey[0-9A-F]+Arn[0-9A-F]+>$/,
          ),
        },
      ]);
    });
  });

  describe('bundling switch', () => {
    it('skips the layer build when the app skips bundling', () => {
      // Act
      buildApp(SPACES);

      // Assess
      expect(buildSharedLayer).not.toHaveBeenCalled();
    });

    it('builds the layer through buildSharedLayer when the stack is bundled', () => {
      // Prepare
      const app = new App({ context: { ...featureFlags(), 'aws:cdk:bundling-stacks': ['**'] } });
      const stack = new Stack(app, 'LayerOnly');
      new SharedLayer(stack, 'Shared');
      const skipped = new App({ context: { ...featureFlags(), ...SKIP_BUNDLING } });
      const skippedStack = new Stack(skipped, 'LayerSkipped');
      new SharedLayer(skippedStack, 'Shared');

      // Act
      Template.fromStack(skippedStack);
      Template.fromStack(stack);

      // Assess: once, for the bundled stack only, into CDK's staging folder.
      expect(vi.mocked(buildSharedLayer).mock.calls).toEqual([
        [expect.stringMatching(/asset\.[0-9a-f]+|bundling-temp/)],
      ]);
    });
  });
});
