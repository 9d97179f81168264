/**
 * Builds the shared layer: `@eventlog-archive/shared` bundled by esbuild into the layout Lambda puts
 * on NODE_PATH (`/opt/nodejs/node_modules`). CDK (lib/constructs/shared-layer.ts), tests and
 * benchmarks all build it through this one function.
 *
 * Usage as a script: `npx tsx lambdas/shared/build.ts <outDir>`.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';

export const SHARED_PACKAGE_NAME = '@eventlog-archive/shared';

const PACKAGE_DIR = fileURLToPath(new URL('.', import.meta.url));
const ENTRY = join(PACKAGE_DIR, 'src', 'index.ts');

export interface SharedLayerBuild {
  /** The directory that becomes the layer's root (it holds `nodejs/`). */
  readonly outDir: string;
  /** `<outDir>/nodejs/node_modules/@eventlog-archive/shared`. */
  readonly packageDir: string;
  /** The bundled entry, `<packageDir>/index.js`. */
  readonly entryFile: string;
  /** Size of the bundled entry in bytes. */
  readonly bytes: number;
}

/**
 * Bundles `lambdas/shared/src/index.ts` into `<outDir>/nodejs/node_modules/@eventlog-archive/shared/`
 * as CommonJS (functions `require` it through NODE_PATH), with a minimal `package.json`.
 * The AWS SDK stays external: a layer copy would shadow the runtime's and the functions' own.
 *
 * @example
 * const { entryFile, bytes } = buildSharedLayer(mkdtempSync(join(tmpdir(), 'layer-')));
 */
export function buildSharedLayer(outDir: string): SharedLayerBuild {
  // esbuild resolves `outfile` against absWorkingDir, the file system calls against the cwd: make
  // a relative outDir mean the same (the cwd) to both.
  outDir = resolve(outDir);
  const packageDir = join(outDir, 'nodejs', 'node_modules', ...SHARED_PACKAGE_NAME.split('/'));
  const entryFile = join(packageDir, 'index.js');
  mkdirSync(packageDir, { recursive: true });
  buildSync({
    entryPoints: [ENTRY],
    outfile: entryFile,
    absWorkingDir: PACKAGE_DIR,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node24',
    minify: true,
    // Powertools ships ESM under `module`; prefer it so the bundle tree-shakes well.
    mainFields: ['module', 'main'],
    external: ['@aws-sdk/*'],
    legalComments: 'none',
    logLevel: 'warning',
  });
  writeFileSync(
    join(packageDir, 'package.json'),
    `${JSON.stringify({ name: SHARED_PACKAGE_NAME, main: 'index.js' })}\n`,
  );
  return { outDir, packageDir, entryFile, bytes: statSync(entryFile).size };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const outDir = resolve(process.argv[2] ?? '.tmp/shared-layer');
  const built = buildSharedLayer(outDir);
  process.stdout.write(`${built.entryFile} (${built.bytes} bytes)\n`);
}
