/**
 * The sources as the CDK app deploys them: for each registered source (lambdas/core/sources), which
 * instances the settings name, how its schedules and alarms are named, and what the ingest function
 * needs to fetch it. The stacks iterate this list; a source registered here (with its definition in
 * core) gets its Glue table, archive folder grants, schedules, fetch grants, alarms and API route.
 */
import { createHash } from 'node:crypto';
import type { Stack } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { SOURCE_DEFINITIONS } from '../lambdas/core/sources';
import type { SourceDefinition } from '../lambdas/core/sources/types';
import type { ArchiveConfig } from './config';
import { bindTokenSecret } from './constructs/archive-access';

export interface DeploySource {
  /** The registered source's name (`codecatalyst`). */
  readonly name: string;
  /** The instances the settings ask to archive. */
  instances(config: ArchiveConfig): readonly string[];
  /**
   * A construct-id suffix that depends on the instance only, so adding or removing an instance never
   * replaces another's schedule or alarms.
   */
  idSuffix(instance: string): string;
  /** The construct id of an instance's schedule. Default `Schedule-<idSuffix>`. */
  scheduleId?(instance: string): string;
  /** How descriptions name an instance (`CodeCatalyst space acme`) and a short label for charts. */
  describe(instance: string): string;
  label(instance: string): string;
  /** Grants the ingest function what fetching these instances needs; called once, also with none. */
  grantFetch?(stack: Stack, fn: LambdaFunction, config: ArchiveConfig, instances: readonly string[]): void;
}

/**
 * The IAM action of ListSystemEvents (Resilience Hub next generation, API 2026-02-17). The API
 * reference (https://docs.aws.amazon.com/resilience-hub/v2/APIReference/API_ListSystemEvents.html) does
 * not name it; Resilience Hub's actions are `resiliencehub:<Operation>` and the API signs with the
 * `resiliencehub` name, so this is `resiliencehub:ListSystemEvents`. Change it here if the service
 * authorisation reference says otherwise.
 */
export const LIST_SYSTEM_EVENTS_ACTION = 'resiliencehub:ListSystemEvents';

/** The first 16 hex digits of the SHA-256 of a text: ids for values ids handle badly (ARNs). */
const hash16 = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 16);

const registry: Record<string, DeploySource> = {
  codecatalyst: {
    name: 'codecatalyst',
    instances: (config) => config.codecatalyst.spaces,
    // Space names are [A-Za-z0-9._-], all valid in construct ids.
    idSuffix: (space) => `space-${space}`,
    // `Schedule-<space>`, as before sources were registered: stable per space, so adding or removing
    // another never replaces a space's schedule.
    scheduleId: (space) => `Schedule-${space}`,
    describe: (space) => `CodeCatalyst space ${space}`,
    label: (space) => space,
    grantFetch: (stack, fn, config) => {
      const token = Secret.fromSecretNameV2(stack, 'CodeCatalystToken', config.codecatalyst.tokenSecretName);
      bindTokenSecret(fn, token);
      if (!config.codecatalyst.tokenSecretKmsKeyArn) return;
      // The PAT's own key, usable only through Secrets Manager (GetSecretValue), in this region.
      fn.addToRolePolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['kms:Decrypt'],
          resources: [config.codecatalyst.tokenSecretKmsKeyArn],
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com` } },
        }),
      );
    },
  },
  resiliencehub: {
    name: 'resiliencehub',
    instances: (config) => config.resiliencehub.systemArns,
    // ARNs hold characters ids handle badly (`:`, `/`, `+`) and are long.
    idSuffix: (arn) => `system-${hash16(arn)}`,
    describe: (arn) => `Resilience Hub system ${arn}`,
    label: (arn) => arn.split(':').pop() ?? '',
    grantFetch: (_stack, fn, _config, arns) => {
      // The list call on exactly the configured systems; no wildcard. In statements of about 2,000
      // characters, the most CDK merges into one, so that CDK can spread hundreds of ARNs over the
      // role's managed policies (6,144 characters each) when the inline policy is full.
      for (const resources of chunksOf(arns, STATEMENT_CHARACTERS))
        fn.addToRolePolicy(
          new PolicyStatement({ effect: Effect.ALLOW, actions: [LIST_SYSTEM_EVENTS_ACTION], resources }),
        );
    },
  },
};

/** The characters of resource ARNs per statement (CDK merges statements up to about 2,000). */
const STATEMENT_CHARACTERS = 1800;

/** `values` in order, cut into lists whose JSON (quotes and commas included) stays within `characters`. */
function chunksOf(values: readonly string[], characters: number): string[][] {
  const chunks: string[][] = [];
  let size = 0;
  for (const value of values) {
    const last = chunks.at(-1);
    if (last && size + value.length + 3 <= characters) {
      last.push(value);
      size += value.length + 3;
    } else {
      chunks.push([value]);
      size = value.length + 3;
    }
  }
  return chunks;
}

/** Adds how a registered source is deployed (a third source, or a test's). */
export function registerDeploySource(source: DeploySource): void {
  if (!Object.hasOwn(SOURCE_DEFINITIONS, source.name))
    throw new Error(`source ${source.name}: register its definition (lambdas/core/sources) first`);
  if (Object.hasOwn(registry, source.name)) throw new Error(`source ${source.name}: deployed already`);
  registry[source.name] = source;
}

/** Every registered source with how it is deployed, in registry order. */
export function deploySources(): { definition: SourceDefinition; deploy: DeploySource }[] {
  return Object.values(SOURCE_DEFINITIONS).map((definition) => {
    const deploy = registry[definition.name];
    if (!deploy) throw new Error(`source ${definition.name}: no deployment registered (lib/sources.ts)`);
    return { definition, deploy };
  });
}

/** The construct id of an instance's schedule. */
export function scheduleIdOf(deploy: DeploySource, instance: string): string {
  return deploy.scheduleId?.(instance) ?? `Schedule-${deploy.idSuffix(instance)}`;
}
