/**
 * How a function is bundled: the one definition that the CDK construct (lib/constructs/archive-function.ts),
 * the layer run-time test and the benchmarks share, so what is measured is what is deployed.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { SHARED_PACKAGE_NAME } from './shared/build';

/** esbuild settings of every function bundle. */
export const FUNCTION_BUNDLE = {
  // CJS because the shared package is resolved at run time from /opt/nodejs/node_modules through
  // NODE_PATH, which CJS `require` honours on every runtime.
  format: 'cjs',
  // The Lambda runtime's Node (lib/constructs/archive-function.ts pins nodejs24.x).
  target: 'node24',
  platform: 'node',
  minify: true,
  // ESM builds of the AWS SDK tree-shake far better than the CJS ones (about 68% smaller bundles when this
  // was chosen; `npm run bench` reports the current bundle sizes).
  mainFields: ['module', 'main'],
  // Only the layer package: the AWS SDK v3 clients are bundled, not taken from the runtime.
  external: [SHARED_PACKAGE_NAME],
} as const;

/**
 * Modules replaced in function bundles by smaller ones that do what Lambda needs (see each file):
 * about 120 KB less to load on every cold start.
 */
export const FUNCTION_ALIASES: Readonly<Record<string, string>> = {
  '@aws-sdk/credential-provider-node': fileURLToPath(
    new URL('./bundle-aliases/lambda-credentials.ts', import.meta.url),
  ),
  '@aws-sdk/token-providers': fileURLToPath(new URL('./bundle-aliases/no-sso-token.ts', import.meta.url)),
};

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Bundles one handler file into `outFile` as CDK does; returns the bundle's size in bytes. A relative
 * `outFile` is relative to the current directory (esbuild alone would take it relative to the repo).
 * The bundle is one file: the ingest's Parquet worker is the bundle itself, started with a flag
 * (lambdas/ingest/archive/parquet-worker.ts), so nothing else has to be deployed next to it.
 */
export function bundleFunction(entry: string, outFile: string): { outFile: string; bytes: number } {
  outFile = resolve(outFile);
  mkdirSync(dirname(outFile), { recursive: true });
  buildSync({
    ...FUNCTION_BUNDLE,
    external: [...FUNCTION_BUNDLE.external],
    mainFields: [...FUNCTION_BUNDLE.mainFields],
    alias: { ...FUNCTION_ALIASES },
    entryPoints: [entry],
    outfile: outFile,
    absWorkingDir: REPO_ROOT,
    bundle: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  return { outFile, bytes: statSync(outFile).size };
}
