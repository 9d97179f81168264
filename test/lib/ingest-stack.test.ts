import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Capture, Match, Template } from 'aws-cdk-lib/assertions';
import { Key } from 'aws-cdk-lib/aws-kms';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { buildSharedLayer } from '../../lambdas/shared/build';
import { SharedLayer } from '../../lib/constructs/shared-layer';
import {
  actionsOf,
  buildApp,
  featureFlags,
  flat,
  onlyResource,
  resourcesOf,
  roleStatements,
  SKIP_BUNDLING,
  type Statement,
} from './helpers';

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

describe('IngestStack', () => {
  beforeEach(() => {
    vi.mocked(buildSharedLayer).mockClear();
  });

  describe('function', () => {
    it('runs index.handler on nodejs22.x, arm64, with 3008 MB (the most every account accepts), the configured timeout and no tracing', () => {
      // Act
      const { ingestTemplate } = buildApp({ ...SPACES, functionTimeoutMinutes: 10 });
      const fn = ingestFunction(ingestTemplate);

      // Assess
      expect(fn.resource.Properties).toMatchObject({
        Handler: 'index.handler',
        Runtime: 'nodejs22.x',
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

    it('attaches the shared layer, built for nodejs22.x on arm64', () => {
      // Act
      const { ingestTemplate } = buildApp(SPACES);
      const layer = onlyResource(ingestTemplate, 'AWS::Lambda::LayerVersion');

      // Assess
      expect(ingestFunction(ingestTemplate).resource.Properties.Layers).toEqual([{ Ref: layer.id }]);
      expect(layer.resource.Properties).toMatchObject({
        CompatibleRuntimes: ['nodejs22.x'],
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
        NODE_OPTIONS: '--enable-source-maps',
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
    it('creates one rule per space, each sending its space at the configured rate', () => {
      // Act
      const { ingestTemplate } = buildApp({ ...SPACES, schedule: { rateMinutes: 5 } });
      const fnId = ingestFunction(ingestTemplate).id;
      const deadLetters = Object.keys(ingestTemplate.findResources('AWS::SQS::Queue', {})).find((id) =>
        id.startsWith('ScheduleDeadLetters'),
      );

      // Assess
      ingestTemplate.resourceCountIs('AWS::Events::Rule', 2);
      for (const space of ['alpha', 'my-space.2']) {
        ingestTemplate.hasResourceProperties('AWS::Events::Rule', {
          ScheduleExpression: 'rate(5 minutes)',
          State: 'ENABLED',
          Targets: [
            {
              Id: 'Target0',
              Arn: { 'Fn::GetAtt': [fnId, 'Arn'] },
              Input: JSON.stringify({ source: 'codecatalyst', instance: space }),
              RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
              DeadLetterConfig: { Arn: { 'Fn::GetAtt': [deadLetters, 'Arn'] } },
            },
          ],
        });
      }
    });

    it('renders a one-minute rate in the singular EventBridge requires', () => {
      const { ingestTemplate } = buildApp({ ...SPACES, schedule: { rateMinutes: 1 } });
      ingestTemplate.allResourcesProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
    });

    it('lets each rule, and only the rules, invoke the function', () => {
      // Act
      const { ingestTemplate } = buildApp(SPACES);
      const fnId = ingestFunction(ingestTemplate).id;
      const rules = Object.keys(ingestTemplate.findResources('AWS::Events::Rule'));

      // Assess
      ingestTemplate.resourceCountIs('AWS::Lambda::Permission', rules.length);
      for (const rule of rules) {
        ingestTemplate.hasResourceProperties('AWS::Lambda::Permission', {
          Action: 'lambda:InvokeFunction',
          FunctionName: { 'Fn::GetAtt': [fnId, 'Arn'] },
          Principal: 'events.amazonaws.com',
          SourceArn: { 'Fn::GetAtt': [rule, 'Arn'] },
        });
      }
    });

    it('lets the rules, in one statement, deliver failed events to an encrypted TLS-only DLQ', () => {
      // Act
      const { ingestTemplate } = buildApp(SPACES);
      const rules = Object.keys(ingestTemplate.findResources('AWS::Events::Rule'));
      const queueId = Object.keys(ingestTemplate.findResources('AWS::SQS::Queue')).find((id) =>
        id.startsWith('ScheduleDeadLetters'),
      )!;
      const policy = onlyResource(ingestTemplate, 'AWS::SQS::QueuePolicy', { Queues: [{ Ref: queueId }] });

      // Assess
      expect(ingestTemplate.toJSON().Resources[queueId].Properties).toEqual({
        MessageRetentionPeriod: 1_209_600,
        SqsManagedSseEnabled: true,
      });
      expect(flat((policy.resource.Properties.PolicyDocument as { Statement: unknown }).Statement)).toEqual([
        {
          Action: 'sqs:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Resource: `<${queueId}.Arn>`,
        },
        {
          Sid: 'AllowScheduleRules',
          Action: 'sqs:SendMessage',
          Condition: { ArnEquals: { 'aws:SourceArn': rules.map((id) => `<${id}.Arn>`) } },
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Resource: `<${queueId}.Arn>`,
        },
      ]);
    });

    it('keeps the DLQ policy within the SQS limits for the most spaces allowed', () => {
      // Prepare
      const spaces = Array.from({ length: 50 }, (_, i) => `space-number-${String(i).padStart(2, '0')}`);

      // Act
      const { ingestTemplate } = buildApp({ codecatalyst: { spaces } });
      const queueId = Object.keys(ingestTemplate.findResources('AWS::SQS::Queue')).find((id) =>
        id.startsWith('ScheduleDeadLetters'),
      )!;
      const policy = onlyResource(ingestTemplate, 'AWS::SQS::QueuePolicy', { Queues: [{ Ref: queueId }] });
      const statements = (policy.resource.Properties.PolicyDocument as { Statement: unknown[] }).Statement;

      // Assess: 20 statements at most; 8,192 bytes once each rule ARN (~110 characters) is filled in.
      ingestTemplate.resourceCountIs('AWS::Events::Rule', 50);
      expect(statements).toHaveLength(2);
      const deployedBytes = JSON.stringify(statements).replace(
        /\{"Fn::GetAtt":\["[^"]+","Arn"\]\}/g,
        `"${'x'.repeat(110)}"`,
      ).length;
      expect(deployedBytes).toBeLessThan(8192);
    });

    it('keeps each rule id when spaces are added or removed', () => {
      // Act
      const before = buildApp({ codecatalyst: { spaces: ['alpha'] } }).ingestTemplate;
      const after = buildApp({ codecatalyst: { spaces: ['zeta', 'alpha', 'beta'] } }).ingestTemplate;
      const idOf = (template: Template, space: string) =>
        Object.entries(template.findResources('AWS::Events::Rule')).find(([, rule]) =>
          (rule as { Properties: { Targets: { Input: string }[] } }).Properties.Targets[0]!.Input.includes(
            `"instance":"${space}"`,
          ),
        )?.[0];

      // Assess
      expect(idOf(after, 'alpha')).toBe(idOf(before, 'alpha'));
      expect(idOf(before, 'alpha')).toMatch(/^Schedulealpha[0-9A-F]{8}$/);
    });

    it('warns, and schedules nothing, when no space is configured', () => {
      // Act
      const { ingest, ingestTemplate } = buildApp({});

      // Assess
      ingestTemplate.resourceCountIs('AWS::Events::Rule', 0);
      Annotations.fromStack(ingest).hasWarning(
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

    function ruleIdOf(template: Template, instance: string): string | undefined {
      return Object.entries(template.findResources('AWS::Events::Rule')).find(
        ([, rule]) =>
          JSON.parse((rule as { Properties: { Targets: { Input: string }[] } }).Properties.Targets[0]!.Input)
            .instance === instance,
      )?.[0];
    }

    it('creates one rule per system ARN, sending { source: resiliencehub, instance: <arn> }', () => {
      // Act
      const { ingest, ingestTemplate } = buildApp({ ...WITH_SYSTEMS, schedule: { rateMinutes: 10 } });
      const fnId = ingestFunction(ingestTemplate).id;

      // Assess
      ingestTemplate.resourceCountIs('AWS::Events::Rule', 4);
      ingestTemplate.resourceCountIs('AWS::Lambda::Permission', 4);
      expect([...(ingest.schedulesBySource.get('resiliencehub')?.keys() ?? [])]).toEqual(SYSTEMS);
      for (const arn of SYSTEMS) {
        ingestTemplate.hasResourceProperties('AWS::Events::Rule', {
          ScheduleExpression: 'rate(10 minutes)',
          Targets: [
            Match.objectLike({
              Arn: { 'Fn::GetAtt': [fnId, 'Arn'] },
              Input: JSON.stringify({ source: 'resiliencehub', instance: arn }),
              RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
            }),
          ],
        });
      }
    });

    it('names each rule by a hash of its ARN, stable when systems are added or removed', () => {
      // Act
      const before = buildApp({ resiliencehub: { systemArns: [SYSTEMS[0]] } }).ingestTemplate;
      const after = buildApp({ resiliencehub: { systemArns: [SYSTEMS[1], SYSTEMS[0]] } }).ingestTemplate;

      // Assess
      const id = ruleIdOf(before, SYSTEMS[0]!);
      expect(id).toMatch(/^Schedulesystem[0-9a-f]{16}[0-9A-F]{8}$/);
      expect(ruleIdOf(after, SYSTEMS[0]!)).toBe(id);
      expect(ruleIdOf(after, SYSTEMS[1]!)).not.toBe(id);
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

    it('grants no Resilience Hub action when no system is configured', () => {
      const { ingest, ingestTemplate } = buildApp(SPACES);
      const roleId = ingest.resolve((ingest.function.role as { roleName: string }).roleName).Ref as string;
      const actions = roleStatements(ingestTemplate, roleId).flatMap(actionsOf);
      expect(actions.filter((a) => a.startsWith('resiliencehub:'))).toEqual([]);
    });

    it('lets the system rules deliver failed events to the DLQ too', () => {
      const { ingestTemplate } = buildApp(WITH_SYSTEMS);
      const rules = Object.keys(ingestTemplate.findResources('AWS::Events::Rule'));
      const queueId = Object.keys(ingestTemplate.findResources('AWS::SQS::Queue')).find((id) =>
        id.startsWith('ScheduleDeadLetters'),
      )!;
      const policy = onlyResource(ingestTemplate, 'AWS::SQS::QueuePolicy', { Queues: [{ Ref: queueId }] });
      const statements = flat(
        (policy.resource.Properties.PolicyDocument as { Statement: unknown }).Statement,
      );
      expect(statements).toContainEqual(
        expect.objectContaining({
          Sid: 'AllowScheduleRules',
          Condition: { ArnEquals: { 'aws:SourceArn': rules.map((id) => `<${id}.Arn>`) } },
        }),
      );
      expect(rules).toHaveLength(4);
    });

    it('does not warn when only systems are configured', () => {
      const { ingest, ingestTemplate } = buildApp({ resiliencehub: { systemArns: SYSTEMS } });
      ingestTemplate.resourceCountIs('AWS::Events::Rule', 2);
      Annotations.fromStack(ingest).hasNoWarning('/Ingest', Match.stringLikeRegexp('No CodeCatalyst space'));
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
