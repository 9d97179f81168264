/**
 * cdk-nag (v3, AwsSolutions pack) over every stack of the app: no finding may be left unacknowledged,
 * and every acknowledgment carries its reason. cdk-nag v3 reports through CDK's validation plugins
 * (`Validations.of(app).addPlugins`, as bin/app.ts does), not annotations, so the tests read the pack's
 * own report, `validateScope`, after synthesis.
 */
import { type App, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { ALL_FEATURES, buildApp, cdkJsonSettings } from './helpers';

const CONFIGURATIONS: [string, unknown][] = [
  ["cdk.json's settings", cdkJsonSettings()],
  ['one space (the smallest deployment that schedules anything)', { codecatalyst: { spaces: ['my-space'] } }],
  ['every optional feature on', ALL_FEATURES],
  [
    'Security Lake delivery of both sources',
    {
      codecatalyst: { spaces: ['my-space'] },
      securityLake: {
        codecatalyst: {
          sourceName: 'eventlog-cc',
          bucket: 'aws-security-data-lake-us-east-1-abcdef',
          providerRoleArn: 'arn:aws:iam::123456789012:role/AmazonSecurityLake-Provider-eventlog-cc-us-east-1',
          externalId: 'external-id-1',
        },
        resiliencehub: {
          sourceName: 'eventlog-rh',
          bucket: 'aws-security-data-lake-us-east-1-abcdef',
          providerRoleArn: 'arn:aws:iam::123456789012:role/AmazonSecurityLake-Provider-eventlog-rh-us-east-1',
          externalId: 'external-id-2',
        },
      },
    },
  ],
  [
    'the API Gateway account logging role on',
    { codecatalyst: { spaces: ['my-space'] }, query: { apiCloudWatchRole: true } },
  ],
  [
    'a key of your own, an existing topic and your own signing key',
    {
      codecatalyst: { spaces: ['my-space'] },
      encryption: {
        kmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',
      },
      integrity: {
        signingKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/5a6b7c8d-9e0f-1a2b-3c4d-5e6f7a8b9c0d',
      },
      alarms: { topicArn: 'arn:aws:sns:us-east-1:123456789012:ops-alarms' },
      query: { apiCloudWatchRole: false },
    },
  ],
];

function findings(app: App, stacks: readonly IConstruct[]): string[] {
  app.synth();
  return stacks.flatMap((stack) =>
    new AwsSolutionsChecks(undefined, { verbose: true })
      .validateScope(stack)
      .violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`)),
  );
}

/** Every acknowledgment in the tree: `rule id` → reasons, as Validations.of().acknowledge records them. */
function acknowledgments(root: IConstruct): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const node of root.node.findAll()) {
    for (const entry of node.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        const rule = id.replace(/^annotation::/i, '');
        found.set(rule, [...(found.get(rule) ?? []), reason]);
      }
    }
  }
  return found;
}

describe('cdk-nag AwsSolutions', () => {
  it.each(CONFIGURATIONS)('leaves no finding unacknowledged with %s', (_name, settings) => {
    // Act
    const { app, storage, ingest, query } = buildApp(settings);

    // Assess
    expect(findings(app, [storage, ingest, query])).toEqual([]);
  });

  it('reports a finding that is not acknowledged (the check does inspect our stacks)', () => {
    // Prepare: settings no other test uses, so that the shared app is this test's alone.
    const { app, storage, ingest, query } = buildApp({ codecatalyst: { spaces: ['nag-probe'] } });
    ingest.function.addToRolePolicy(new PolicyStatement({ actions: ['s3:*'], resources: ['*'] }));

    // Act
    const found = findings(app, [storage, ingest, query]);

    // Assess
    expect(found).toEqual(
      expect.arrayContaining([
        'AwsSolutions-IAM5[Action::s3:*] Ingest/IngestRole/DefaultPolicy/Resource',
        'AwsSolutions-IAM5[Resource::*] Ingest/IngestRole/DefaultPolicy/Resource',
      ]),
    );
  });

  it('acknowledges exactly the expected rules, each with a reason of its own', () => {
    // Act
    const { app } = buildApp(ALL_FEATURES);
    app.synth();
    const acknowledged = acknowledgments(app);
    const rules = [...new Set([...acknowledged.keys()].map((id) => id.replace(/\[.*$/, '')))].sort();

    // Assess
    expect(rules).toEqual(
      [
        'AwsSolutions-APIG2',
        'AwsSolutions-APIG3',
        'AwsSolutions-COG4',
        'AwsSolutions-IAM5',
        'AwsSolutions-L1',
        'AwsSolutions-SMG4',
        'AwsSolutions-SQS3',
      ].sort(),
    );
    for (const [id, reasons] of acknowledged) {
      for (const reason of reasons) expect(reason.length, id).toBeGreaterThan(60);
    }
    // IAM5 only for folder-scoped object ARNs: never a bare '*', never a wildcard action.
    const wildcards = [...acknowledged.keys()].filter((id) => id.startsWith('AwsSolutions-IAM5'));
    expect(wildcards.length).toBeGreaterThan(0);
    for (const id of wildcards) {
      expect(id).toMatch(/^AwsSolutions-IAM5\[Resource::[^*\]]+\/(archive\/)?[a-z_/]+\/\*\]$/);
    }
  });

  it('acknowledges the CloudWatch role only when the app creates it (off by default)', () => {
    // Act
    const off = buildApp({ codecatalyst: { spaces: ['my-space'] } });
    off.app.synth();
    const on = buildApp({ codecatalyst: { spaces: ['my-space'] }, query: { apiCloudWatchRole: true } });
    on.app.synth();

    // Assess
    expect([...acknowledgments(off.app).keys()].some((id) => id.startsWith('AwsSolutions-IAM4'))).toBe(false);
    expect([...acknowledgments(on.app).keys()].filter((id) => id.startsWith('AwsSolutions-IAM4'))).toEqual([
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
    ]);
  });
});
