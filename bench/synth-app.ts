/**
 * The CDK app of bin/app.ts (its stack names, cdk.json's feature flags, cdk-nag as a validation plugin)
 * synthesized for given settings without bundling, and the figures CloudFormation limits for every
 * template it writes, the nested stacks' included. Shared by test/lib/scale.test.ts (the limits) and
 * bench/synth.ts (how long it takes); the CDK tests take their feature flags and settings from here.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { type ArchiveStacks, addArchiveStacks } from '../lib/archive-app';
import { CONTEXT_KEY, loadConfig } from '../lib/config';

/** Context that makes every stack skip asset bundling (functions and the layer). */
export const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] as string[] };

const cdkJson = JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};

/** cdk.json's context without the app settings: the feature flags `cdk synth` runs with. */
export function featureFlags(): Record<string, unknown> {
  const { [CONTEXT_KEY]: _settings, ...flags } = cdkJson.context;
  return flags;
}

/** The `eventlogArchive` value of cdk.json. */
export function cdkJsonSettings(): unknown {
  return cdkJson.context[CONTEXT_KEY];
}

/** Every optional feature on: both sources, a prefix, KMS, Object Lock, a topic, the PAT's own key, API tokens. */
export const ALL_FEATURES = {
  codecatalyst: {
    spaces: ['alpha-space', 'beta.space'],
    tokenSecretKmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  },
  resiliencehub: { systemArns: ['arn:aws:resiliencehub:us-east-1:123456789012:system/checkout'] },
  archivePrefix: 'archive/',
  encryption: { kmsKey: true },
  objectLock: { mode: 'GOVERNANCE', days: 30 },
  retention: { expireNoncurrentVersionsDays: 30 },
  alarms: { email: 'ops@example.com' },
  query: { authorization: 'token' },
};

export interface SynthesizedApp extends ArchiveStacks {
  app: App;
  assembly: CloudAssembly;
}

/** Builds the app as bin/app.ts does (without bundling) and synthesizes it; cdk-nag runs on synth. */
export function synthesizeApp(settings: unknown): SynthesizedApp {
  const app = new App({ context: { ...featureFlags(), ...SKIP_BUNDLING } });
  const stacks = addArchiveStacks(app, loadConfig(settings));
  return { app, ...stacks, assembly: app.synth() };
}

/** What CloudFormation limits in one template file, as `cdk deploy` uploads it. */
export interface TemplateFigures {
  /** The file name in the cloud assembly (a nested stack's ends in `.nested.template.json`). */
  file: string;
  bytes: number;
  resources: number;
  outputs: number;
  parameters: number;
  mappings: number;
  /** Resource count by type. */
  types: Record<string, number>;
}

/** Every template file of the assembly: the stacks' and their nested stacks'. */
export function templateFigures(assembly: CloudAssembly): TemplateFigures[] {
  const files = [
    ...assembly.stacks.map((stack) => stack.templateFile),
    ...readdirSync(assembly.directory).filter((file) => file.endsWith('.nested.template.json')),
  ];
  return files.map((file) => {
    const full = path.join(assembly.directory, file);
    const template = JSON.parse(readFileSync(full, 'utf8')) as Record<
      string,
      Record<string, unknown> | undefined
    >;
    const types: Record<string, number> = {};
    for (const resource of Object.values(template.Resources ?? {}) as { Type: string }[])
      types[resource.Type] = (types[resource.Type] ?? 0) + 1;
    return {
      file,
      bytes: statSync(full).size,
      resources: Object.keys(template.Resources ?? {}).length,
      outputs: Object.keys(template.Outputs ?? {}).length,
      parameters: Object.keys(template.Parameters ?? {}).length,
      mappings: Object.keys(template.Mappings ?? {}).length,
      types,
    };
  });
}

/** `n` valid space names. */
export function spaceNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `team-space-${String(i).padStart(3, '0')}`);
}

/** `n` valid Resilience Hub system ARNs of about 80 characters. */
export function systemArns(n: number): string[] {
  return Array.from(
    { length: n },
    (_, i) =>
      `arn:aws:resiliencehub:eu-west-1:123456789012:system/order-service-${String(i).padStart(3, '0')}`,
  );
}
