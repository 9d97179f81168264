/**
 * The one CDK test that bundles for real: the ingest, query and authorizer functions with esbuild through
 * NodejsFunction and the shared layer through buildSharedLayer, synthesized into a temporary cloud
 * assembly. The query function is bundled when its handler exists.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleFunction } from '../../lambdas/build';
import { loadConfig } from '../../lib/config';
import { INGEST_ENTRY, IngestStack } from '../../lib/stacks/ingest-stack';
import { AUTHORIZER_ENTRY, QUERY_ENTRY, QueryStack } from '../../lib/stacks/query-stack';
import { StorageStack } from '../../lib/stacks/storage-stack';
import { featureFlags } from './helpers';

const SHARED = '@eventlog-archive/shared';
const BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
// Optional S3 signers (multi-region access points) that the SDK requires inside try/catch; not installed.
const OPTIONAL_SDK_SIGNERS = new Set(['@aws-sdk/signature-v4-crt', '@aws-sdk/signature-v4a']);
// String literals that only the shared package's source contains (lambdas/query repeats the
// generic 500 message, so that one is no marker).
const SHARED_MARKERS = [
  'must match the pattern [a-zA-Z0-9]+(?:[-_.][a-zA-Z0-9]+)*',
  'stopped to avoid an endless loop',
  'POWERTOOLS_LOGGER_LOG_EVENT',
];

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Every module a CommonJS bundle still `require`s by a literal name. */
function requiredModules(code: string): string[] {
  return [...new Set([...code.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]!))].sort();
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

// Each function and the start of its description, which tells it apart in the template.
const FUNCTIONS = [
  { name: 'ingest', entry: INGEST_ENTRY, description: 'Pulls' },
  { name: 'query', entry: QUERY_ENTRY, description: 'Answers the query API' },
  { name: 'authorizer', entry: AUTHORIZER_ENTRY, description: 'Checks the bearer tokens' },
].filter((fn) => existsSync(fn.entry));

describe.skipIf(!existsSync(INGEST_ENTRY))('cdk synth with bundling', () => {
  let outdir: string;
  const functionDirs = new Map<string, string>();
  let layerDir: string;

  beforeAll(() => {
    // Prepare
    outdir = mkdtempSync(join(tmpdir(), 'eventlog-archive-synth-'));
    const app = new App({ outdir, context: featureFlags() });
    // Token authorization, so the authorizer function is bundled too.
    const config = loadConfig({ codecatalyst: { spaces: ['my-space'] }, query: { authorization: 'token' } });
    const storage = new StorageStack(app, 'Storage', { config });
    const stacks = new Map<string, Stack>();
    stacks.set(
      'ingest',
      new IngestStack(app, 'Ingest', {
        config,
        bucket: storage.bucket,
        archivePrefix: storage.archivePrefix,
        digestSigningKey: storage.digestSigningKey,
      }),
    );
    if (existsSync(QUERY_ENTRY)) {
      stacks.set(
        'query',
        new QueryStack(app, 'Query', {
          config,
          bucket: storage.bucket,
          archivePrefix: storage.archivePrefix,
          catalog: storage.catalog,
          workGroup: storage.workGroup,
        }),
      );
    }

    // Act
    const assembly = app.synth();

    const assetDir = (key: string | undefined) => join(outdir, `asset.${key?.replace(/\.zip$/, '')}`);
    for (const [name, stack] of stacks) {
      const resources = Object.values(
        assembly.getStackArtifact(stack.artifactId).template.Resources as Record<
          string,
          { Type: string; Properties: Record<string, { S3Key?: string }> }
        >,
      );
      for (const fn of resources.filter((r) => r.Type === 'AWS::Lambda::Function')) {
        const description = String(fn.Properties.Description ?? '');
        const named = FUNCTIONS.find((f) => description.startsWith(f.description));
        if (named) functionDirs.set(named.name, assetDir(fn.Properties.Code?.S3Key));
      }
      if (name === 'ingest') {
        layerDir = assetDir(
          resources.find((r) => r.Type === 'AWS::Lambda::LayerVersion')?.Properties.Content?.S3Key,
        );
      }
    }
  }, 180_000);

  afterAll(() => {
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  });

  describe.each(FUNCTIONS)('$name function', ({ name, entry }) => {
    it('bundles the function into index.js with its source map', () => {
      expect(listFiles(functionDirs.get(name)!)).toEqual(['index.js', 'index.js.map']);
    });

    it('requires the shared package at run time instead of bundling it', () => {
      // Act
      const code = readFileSync(join(functionDirs.get(name)!, 'index.js'), 'utf8');
      const layerCode = readFileSync(
        join(layerDir, 'nodejs/node_modules/@eventlog-archive/shared/index.js'),
        'utf8',
      );

      // Assess
      expect(code).toMatch(/\brequire\("@eventlog-archive\/shared"\)/);
      for (const marker of SHARED_MARKERS) {
        expect(layerCode, `layer holds "${marker}"`).toContain(marker);
        expect(code, `function bundle holds "${marker}"`).not.toContain(marker);
      }
    });

    it('bundles the AWS SDK: the function requires nothing but Node built-ins and the shared package', () => {
      // Act
      const external = requiredModules(
        readFileSync(join(functionDirs.get(name)!, 'index.js'), 'utf8'),
      ).filter((module) => !BUILTINS.has(module) && !OPTIONAL_SDK_SIGNERS.has(module));

      // Assess
      expect(external).toEqual([SHARED]);
    });

    it('deploys the same code that bundleFunction builds for the benchmarks', () => {
      // Act
      const benched = bundleFunction(entry, join(outdir, 'bench', name, 'index.js'));
      const deployed = readFileSync(join(functionDirs.get(name)!, 'index.js'), 'utf8');

      // Assess: identical but for the source-map link CDK asks esbuild for (compared by size and
      // digest, so that a failure does not print two bundles).
      const code = deployed.replace(/\n\/\/# sourceMappingURL=index\.js\.map\s*$/, '\n');
      const bench = readFileSync(benched.outFile, 'utf8');
      expect({ bytes: code.length, sha256: sha256(code) }).toEqual({
        bytes: bench.length,
        sha256: sha256(bench),
      });
    });
  });

  it('lays the layer out as nodejs/node_modules/@eventlog-archive/shared with a minimal package.json', () => {
    // Act
    const files = listFiles(layerDir);
    const pkg = JSON.parse(
      readFileSync(join(layerDir, 'nodejs/node_modules/@eventlog-archive/shared/package.json'), 'utf8'),
    );

    // Assess
    expect(files).toEqual([
      'nodejs/node_modules/@eventlog-archive/shared/index.js',
      'nodejs/node_modules/@eventlog-archive/shared/package.json',
    ]);
    expect(pkg).toEqual({ name: SHARED, main: 'index.js' });
  });

  it('keeps the AWS SDK out of the layer and bundles everything else', () => {
    // Act
    const code = readFileSync(
      join(layerDir, 'nodejs/node_modules/@eventlog-archive/shared/index.js'),
      'utf8',
    );
    const external = requiredModules(code).filter((name) => !BUILTINS.has(name));

    // Assess
    expect(external.filter((name) => !name.startsWith('@aws-sdk/'))).toEqual([]);
  });

  it('resolves and loads the layer from its layout, as Lambda does through NODE_PATH', () => {
    // Prepare: resolve from inside the layer's nodejs/ folder, far from this repository's node_modules.
    const require = createRequire(join(layerDir, 'nodejs', 'loader.js'));

    // Act
    const resolved = require.resolve(SHARED);
    const shared = require(SHARED) as {
      checkSpaceName: (value: unknown, field?: string) => string;
      createLogger: (options?: { serviceName?: string }) => { info: unknown };
    };

    // Assess
    expect(resolved).toBe(join(layerDir, 'nodejs/node_modules/@eventlog-archive/shared/index.js'));
    expect(shared.checkSpaceName('my-space')).toBe('my-space');
    expect(() => shared.checkSpaceName('x', 'spaceName')).toThrow(
      expect.objectContaining({
        name: 'ApiError',
        message: 'spaceName: must be 3 to 63 characters long (got 1)',
      }),
    );
    expect(typeof shared.createLogger({ serviceName: 'bundling-test' }).info).toBe('function');
  });
});
