/** Shared setup of the CDK tests: the app as bin/app.ts builds it, with cdk.json's feature flags. */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { featureFlags, SKIP_BUNDLING } from '../../bench/synth-app';
import { loadConfig } from '../../lib/config';
import { IngestStack } from '../../lib/stacks/ingest-stack';
import { QueryStack } from '../../lib/stacks/query-stack';
import { StorageStack } from '../../lib/stacks/storage-stack';

// Shared with the synth benchmark (bench/synth-app.ts), which may not import tests.
export { ALL_FEATURES, cdkJsonSettings, featureFlags, SKIP_BUNDLING } from '../../bench/synth-app';

export interface BuiltApp {
  app: App;
  storage: StorageStack;
  ingest: IngestStack;
  query: QueryStack;
  /** Templates are synthesized on first access, so a test pays only for the stacks it reads. */
  readonly storageTemplate: Template;
  readonly ingestTemplate: Template;
  readonly queryTemplate: Template;
}

const built = new Map<string, BuiltApp>();

/**
 * Builds the three stacks from `settings` (the `eventlogArchive` context value) without bundling, as
 * bin/app.ts does. `encryptionKey` makes a key (in a stack of its own) for the storage stack's KMS hook.
 * Apps without options are shared by the tests of a file that ask for the same settings (synthesis is
 * most of a CDK test's time); tests only read them.
 */
export function buildApp(
  settings: unknown = {},
  options: { encryptionKey?: (app: App) => IKey } = {},
): BuiltApp {
  if (options.encryptionKey) return newApp(settings, options);
  const key = JSON.stringify(settings);
  let app = built.get(key);
  if (!app) {
    app = newApp(settings, options);
    built.set(key, app);
  }
  return app;
}

function newApp(settings: unknown, options: { encryptionKey?: (app: App) => IKey }): BuiltApp {
  const app = new App({ context: { ...featureFlags(), ...SKIP_BUNDLING } });
  const config = loadConfig(settings);
  const encryptionKey = options.encryptionKey?.(app);
  const storage = new StorageStack(app, 'Storage', { config, ...(encryptionKey ? { encryptionKey } : {}) });
  const ingest = new IngestStack(app, 'Ingest', {
    config,
    bucket: storage.bucket,
    archivePrefix: storage.archivePrefix,
    digestSigningKey: storage.digestSigningKey,
    ...(storage.encryptionKey ? { encryptionKey: storage.encryptionKey } : {}),
  });
  const query = new QueryStack(app, 'Query', {
    config,
    bucket: storage.bucket,
    archivePrefix: storage.archivePrefix,
    catalog: storage.catalog,
    workGroup: storage.workGroup,
  });
  const templates = new Map<string, Template>();
  const templateOf = (stack: StorageStack | IngestStack | QueryStack): Template => {
    let template = templates.get(stack.stackName);
    if (!template) {
      template = Template.fromStack(stack);
      templates.set(stack.stackName, template);
    }
    return template;
  };
  return {
    app,
    storage,
    ingest,
    query,
    get storageTemplate() {
      return templateOf(storage);
    },
    get ingestTemplate() {
      return templateOf(ingest);
    },
    get queryTemplate() {
      return templateOf(query);
    },
  };
}

/**
 * Renders CloudFormation intrinsics as readable strings so that assertions can compare whole values:
 * `{ Ref: X }` → `<X>`, `{ 'Fn::GetAtt': [X, 'Arn'] }` → `<X.Arn>`, `{ 'Fn::ImportValue': N }` →
 * `<Import:N>`, and `Fn::Join` joins its rendered parts.
 */
export function flat(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(flat);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) {
    const [key, arg] = entries[0]!;
    if (key === 'Ref') return `<${String(arg)}>`;
    if (key === 'Fn::GetAtt') return `<${(arg as string[]).join('.')}>`;
    if (key === 'Fn::ImportValue') return `<Import:${String(arg)}>`;
    if (key === 'Fn::Join') {
      const [separator, parts] = arg as [string, unknown[]];
      return parts
        .map((part) => {
          const rendered = flat(part);
          return typeof rendered === 'string' ? rendered : JSON.stringify(rendered);
        })
        .join(separator);
    }
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, flat(v)]));
}

/** The only resource of `type` in a template, with its logical id. */
export function onlyResource(
  template: Template,
  type: string,
  props: Record<string, unknown> = {},
): { id: string; resource: { Properties: Record<string, unknown>; [key: string]: unknown } } {
  const found = Object.entries(template.findResources(type, props ? { Properties: props } : undefined));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  const [id, resource] = found[0]!;
  return { id, resource: resource as { Properties: Record<string, unknown> } };
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, unknown>;
  Principal?: unknown;
  Sid?: string;
}

/** Every statement of the identity policies attached to the role with logical id `roleId`, flattened. */
export function roleStatements(template: Template, roleId: string): Statement[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
    ((policy as { Properties: { Roles: unknown[] } }).Properties.Roles ?? []).some(
      (role) => (role as { Ref?: string }).Ref === roleId,
    ),
  );
  return policies.flatMap(
    (policy) =>
      flat(
        (policy as { Properties: { PolicyDocument: { Statement: unknown } } }).Properties.PolicyDocument
          .Statement,
      ) as Statement[],
  );
}

export function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

export function resourcesOf(statement: Statement): string[] {
  return (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]) as string[];
}
