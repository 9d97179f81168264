/**
 * The most spaces and systems the settings allow (MAX_INSTANCES), synthesized as bin/app.ts does with
 * cdk-nag on: no unacknowledged finding, and every template, the nested ones included, within
 * CloudFormation's quotas
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html). `cdk
 * deploy` uploads every template to the bootstrap bucket, so the limit on a template body is the
 * 1 MB of one read from S3, not the 51,200 bytes of one passed inline. How long the synthesis takes
 * is measured by `npm run bench -- synth`, never here.
 */
import type { CfnResource } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import {
  type SynthesizedApp,
  spaceNames,
  synthesizeApp,
  systemArns,
  type TemplateFigures,
  templateFigures,
} from '../../bench/synth-app';
import { MAX_INSTANCES, MAX_SYSTEM_ARN_CHARACTERS } from '../../lib/config';
import { INSTANCE_STACKS } from '../../lib/stacks/ingest-stack';
import { ALL_FEATURES } from './helpers';

const LIMITS = { resources: 500, bytes: 1_000_000, outputs: 200, parameters: 200, mappings: 200 };

function findings({ storage, ingest, query }: SynthesizedApp): string[] {
  return [storage, ingest, query].flatMap((stack) =>
    new AwsSolutionsChecks(undefined, { verbose: true })
      .validateScope(stack)
      .violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`)),
  );
}

/** How many resources of `type` the templates whose file name starts with `prefix` hold. */
function countOf(figures: readonly TemplateFigures[], type: string, prefix = ''): number {
  return figures.filter((f) => f.file.startsWith(prefix)).reduce((sum, f) => sum + (f.types[type] ?? 0), 0);
}

describe(`${MAX_INSTANCES} spaces and systems`, () => {
  it.each([
    [
      '400 spaces and 100 systems, every optional feature on',
      {
        ...ALL_FEATURES,
        codecatalyst: { ...ALL_FEATURES.codecatalyst, spaces: spaceNames(400) },
        resiliencehub: { systemArns: systemArns(100) },
      },
    ],
    ['500 spaces', { codecatalyst: { spaces: spaceNames(500) } }],
  ])(
    'synthesize as %s with cdk-nag clean and every template within CloudFormation quotas',
    (_name, settings) => {
      // Act: synthesis itself throws on an unacknowledged cdk-nag finding.
      const synthesized = synthesizeApp(settings);
      const figures = templateFigures(synthesized.assembly);

      // Assess
      expect(findings(synthesized)).toEqual([]);
      for (const f of figures) {
        expect(f.resources, f.file).toBeLessThanOrEqual(LIMITS.resources);
        expect(f.bytes, f.file).toBeLessThanOrEqual(LIMITS.bytes);
        expect(f.outputs, f.file).toBeLessThanOrEqual(LIMITS.outputs);
        expect(f.parameters, f.file).toBeLessThanOrEqual(LIMITS.parameters);
        expect(f.mappings, f.file).toBeLessThanOrEqual(LIMITS.mappings);
      }
      // Three stacks, and the ingest stack's nested stacks, which hold the schedules.
      expect(figures).toHaveLength(3 + synthesized.ingest.instanceStacks.size);
      expect(synthesized.ingest.instanceStacks.size).toBeLessThanOrEqual(INSTANCE_STACKS);
      expect(countOf(figures, 'AWS::Scheduler::Schedule')).toBe(MAX_INSTANCES);
      expect(countOf(figures, 'AWS::Scheduler::ScheduleGroup')).toBe(1);
      // One invoke role for all the schedules, and no Lambda permission: the function's resource
      // policy does not grow with the instances.
      expect(countOf(figures, 'AWS::IAM::Role', 'EventlogArchiveIngest')).toBe(2);
      expect(countOf(figures, 'AWS::Lambda::Permission', 'EventlogArchiveIngest')).toBe(0);
      expect(countOf(figures, 'AWS::CloudWatch::Alarm', 'EventlogArchiveIngest')).toBe(4 + 3 * MAX_INSTANCES);
    },
  );

  it("keeps the ingest role within IAM's policy sizes with the system ARNs at their character limit", () => {
    // Prepare: ARNs of 255 characters (the longest a CloudWatch dimension value may be), the length
    // of those tried that fills IAM's managed policies the least evenly.
    const arns = Array.from({ length: Math.floor(MAX_SYSTEM_ARN_CHARACTERS / 255) }, (_, i) =>
      `arn:aws:resiliencehub:eu-west-1:123456789012:system/${String(i).padStart(3, '0')}-`.padEnd(255, 'x'),
    );

    // Act
    const synthesized = synthesizeApp({ ...ALL_FEATURES, resiliencehub: { systemArns: arns } });
    const { ingest } = synthesized;
    const template = synthesized.assembly.getStackByName(ingest.stackName).template as {
      Resources: Record<string, { Type: string; Properties: { PolicyDocument?: unknown; Roles?: unknown } }>;
    };
    const roleId = ingest.getLogicalId(ingest.function.role!.node.defaultChild as CfnResource);
    const attached = Object.values(template.Resources).filter(
      (r) => JSON.stringify(r.Properties.Roles ?? []) === JSON.stringify([{ Ref: roleId }]),
    );
    const size = (r: { Properties: { PolicyDocument?: unknown } }) =>
      JSON.stringify(r.Properties.PolicyDocument).length;

    // Assess: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
    const inline = attached.filter((r) => r.Type === 'AWS::IAM::Policy');
    const managed = attached.filter((r) => r.Type === 'AWS::IAM::ManagedPolicy');
    expect(inline.reduce((sum, r) => sum + size(r), 0)).toBeLessThanOrEqual(10_240);
    expect(managed.length).toBeLessThanOrEqual(10);
    for (const policy of managed) expect(size(policy)).toBeLessThanOrEqual(6_144);
    const listed = attached.flatMap((r) =>
      (
        r.Properties.PolicyDocument as { Statement: { Action: unknown; Resource: string[] }[] }
      ).Statement.filter((s) => s.Action === 'resiliencehub:ListSystemEvents').flatMap((s) => s.Resource),
    );
    expect(listed.sort()).toEqual([...arns].sort());
    expect(findings(synthesized)).toEqual([]);
  });
});
