/**
 * Bundles the CLI (`bin/cli.ts` and everything it imports) with esbuild into `dist/cli/`, so that a
 * command starts from a few pre-built ES modules instead of transpiling hundreds of TypeScript
 * files through tsx at every start. `npm ci` / `npm install` run it (the `prepare` script); so does
 * `npm run build`.
 *
 * - Code splitting: each lazily imported command (`import('./commands/query')`) becomes its own
 *   chunk, so `--help`, a bad argument or `coverage` load none of DuckDB, the S3 client or KMS.
 * - Native and self-spawning packages stay external (DuckDB's node binding; esbuild, which `serve`
 *   uses to bundle the console and which cannot itself be bundled; tsx) and load from node_modules
 *   only in the commands that use them.
 * - `dist/cli/manifest.json` lists every input of the bundle (esbuild's metafile) with its size and
 *   mtime, plus the files that decide how inputs resolve (package.json, the lockfiles, tsconfig.json,
 *   this script). `bin/eventlog-archive.js` runs the bundle only while every one of them still has
 *   that size and mtime, and the sources through tsx otherwise: an edited source is never shadowed by
 *   a stale bundle. It is written last, so a half-written bundle is never run.
 *
 * `buildCli({ root, outDir })` builds another checkout (the stale-bundle test builds a temporary copy).
 */
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BuildOptions, build, type Plugin } from 'esbuild';

/** Packages loaded from node_modules at run time, never bundled (see the header). */
export const CLI_EXTERNAL = ['@duckdb/node-api', 'esbuild', 'tsx'] as const;

/** Where the bundle lives, relative to the repository, and its manifest's name there. */
export const CLI_OUT_DIR = 'dist/cli';
export const MANIFEST = 'manifest.json';
/** Format version of the manifest: the bin runs only a bundle whose manifest it understands. */
export const MANIFEST_VERSION = 1;

/**
 * Files that are no input of the bundle but decide what its inputs are or how they resolve. A
 * missing one is recorded as missing (size -1): it appearing later makes the bundle stale too.
 */
const RESOLUTION_FILES = [
  'package.json',
  'package-lock.json',
  // npm rewrites it on every install: a dependency added or upgraded without the prepare script
  // (`--ignore-scripts`) still makes the bundle stale.
  'node_modules/.package-lock.json',
  'tsconfig.json',
  'lambdas/shared/package.json',
  'scripts/build-cli.ts',
];

/** One file of the manifest: path relative to the repository, size in bytes (-1: absent), mtime in ms. */
export type ManifestEntry = [file: string, size: number, mtimeMs: number];

export interface CliManifest {
  version: number;
  /** The entry module, relative to the manifest's folder. */
  entry: string;
  /** The repository, relative to the manifest's folder (paths in `files` are relative to it). */
  root: string;
  builtAt: string;
  /** Inputs, resolution files and the bundle's own outputs. */
  files: ManifestEntry[];
}

/**
 * Source files read at run time relative to their own module (`new URL('../x', import.meta.url)`):
 * in a chunk, `import.meta.url` would name the chunk, so it is rewritten to the source file's URL,
 * expressed relative to the chunk (the bundle keeps working wherever the checkout is moved with it).
 */
function sourceUrlPlugin(outDir: string): Plugin {
  return {
    name: 'source-import-meta-url',
    setup(b) {
      b.onLoad({ filter: /\.[cm]?ts$/ }, (args) => {
        if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
        const text = readFileSync(args.path, 'utf8');
        if (!text.includes('import.meta.url')) return undefined;
        // Every chunk sits directly in outDir, so one relative path serves whichever chunk it lands in.
        const relative = path.relative(outDir, args.path).split(path.sep).join('/');
        return {
          contents: text.replaceAll(
            'import.meta.url',
            `new URL(${JSON.stringify(relative)}, import.meta.url).href`,
          ),
          loader: 'ts',
          resolveDir: path.dirname(args.path),
        };
      });
    },
  };
}

/**
 * The esbuild options of the CLI bundle of the checkout at `root`, written to `outDir` (a test adds
 * an entry point to check the bundle's Parquet worker).
 */
export function cliBuildOptions(
  root: string,
  outDir: string,
): BuildOptions & { entryPoints: Record<string, string> } {
  return {
    absWorkingDir: root,
    entryPoints: { cli: path.join(root, 'bin/cli.ts') },
    outdir: outDir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunk-[hash]',
    // ESM builds of the AWS SDK (with the default order, an ESM bundle fails at load with "Dynamic require").
    mainFields: ['module', 'main'],
    external: CLI_EXTERNAL.flatMap((name) => [name, `${name}/*`]),
    minify: true,
    // Error names reach the user (`eventlog-archive query: ArchiveError: …`): classes keep theirs.
    keepNames: true,
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [sourceUrlPlugin(outDir)],
    banner: {
      // Bundled CommonJS packages call require(); an ES module has none.
      js: [
        "import { createRequire as __cliCreateRequire } from 'node:module';",
        'const require = __cliCreateRequire(import.meta.url);',
      ].join('\n'),
    },
    // A module that finds its own file through __filename (the ingest's Parquet worker starts a
    // worker thread on it) gets its chunk's; in an ES module, import.meta has it.
    define: { __filename: 'import.meta.filename', __dirname: 'import.meta.dirname' },
  };
}

function entryOf(root: string, file: string): ManifestEntry {
  const stat = statSync(path.join(root, file), { throwIfNoEntry: false });
  return stat ? [file, stat.size, stat.mtimeMs] : [file, -1, 0];
}

export interface BuildResult {
  outDir: string;
  manifest: CliManifest;
  /** Bytes of every output (chunks and entry), without source maps. */
  bytes: number;
  ms: number;
}

/** How close (ms) to the build's start a source's mtime makes it suspect (file times are coarse). */
const MTIME_SLACK_MS = 20;

/** Builds the CLI bundle of the checkout at `root` into `outDir` (default `<root>/dist/cli`). */
export async function buildCli(options: { root?: string; outDir?: string } = {}): Promise<BuildResult> {
  const started = performance.now();
  const root = path.resolve(options.root ?? fileURLToPath(new URL('..', import.meta.url)));
  const outDir = path.resolve(options.outDir ?? path.join(root, CLI_OUT_DIR));
  // An input written while esbuild read it may be in the bundle in either form, so its recorded
  // mtime would vouch for what the bundle may not hold: build again (sources written just before a
  // build, as a checkout or a copy does, look the same and pass the second time).
  for (let attempt = 1; ; attempt++) {
    const built = await buildOnce(root, outDir);
    if (built.changed.length === 0) {
      const bytes = built.outputs
        .filter((f) => f.endsWith('.mjs'))
        .reduce((n, f) => n + statSync(path.join(root, f)).size, 0);
      return { outDir, manifest: built.manifest, bytes, ms: performance.now() - started };
    }
    if (attempt === 3)
      throw new Error(
        `sources keep changing during the build (${built.changed.join(', ')}): run \`npm run build\` again`,
      );
    await new Promise((resolve) => setTimeout(resolve, MTIME_SLACK_MS * 2));
  }
}

/**
 * Now on the file system's own clock, the one file times come from (a process's clock may be faked,
 * as in `npm run test:clock`): the mtime of a file written now.
 */
function fileSystemNow(dir: string): number {
  const marker = path.join(dir, '.now');
  writeFileSync(marker, '');
  const { mtimeMs } = statSync(marker);
  rmSync(marker);
  return mtimeMs;
}

/** One build; the manifest is written only when no input changed during it (`changed` is empty). */
async function buildOnce(
  root: string,
  outDir: string,
): Promise<{ manifest: CliManifest; outputs: string[]; changed: string[] }> {
  // A build that fails halfway must not leave a manifest that vouches for it.
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const startedAtMs = fileSystemNow(outDir);
  const { metafile } = await build({ ...cliBuildOptions(root, outDir), metafile: true });
  const endedAtMs = fileSystemNow(outDir);
  const inputs = Object.keys(metafile.inputs)
    // Packages are vouched for by npm's lockfiles (RESOLUTION_FILES), not file by file.
    .filter((file) => !file.split('/').includes('node_modules'))
    .map((file) => path.relative(root, path.resolve(root, file)));
  const outputs = Object.keys(metafile.outputs).map((file) => path.relative(root, path.resolve(root, file)));
  const files = [...new Set([...inputs, ...RESOLUTION_FILES])].sort().map((file) => entryOf(root, file));
  const changed = files
    .filter(
      ([, size, mtimeMs]) =>
        size >= 0 && mtimeMs >= startedAtMs - MTIME_SLACK_MS && mtimeMs <= endedAtMs + MTIME_SLACK_MS,
    )
    .map(([file]) => file);
  files.push(...outputs.map((file) => entryOf(root, file)));
  const manifest: CliManifest = {
    version: MANIFEST_VERSION,
    entry: 'cli.mjs',
    root: path.relative(outDir, root).split(path.sep).join('/') || '.',
    builtAt: new Date().toISOString(),
    files: files.map(([file, size, mtimeMs]) => [file.split(path.sep).join('/'), size, mtimeMs]),
  };
  if (changed.length > 0) return { manifest, outputs, changed };
  // Which module is in which chunk, for the tests and for anyone asking why a command loads what it does.
  writeFileSync(path.join(outDir, 'meta.json'), JSON.stringify(metafile));
  const temp = path.join(outDir, `${MANIFEST}.tmp`);
  writeFileSync(temp, `${JSON.stringify(manifest)}\n`);
  renameSync(temp, path.join(outDir, MANIFEST));
  return { manifest, outputs, changed };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const { outDir, manifest, bytes, ms } = await buildCli();
  process.stdout.write(
    `eventlog-archive: CLI bundled into ${path.relative(process.cwd(), outDir) || '.'} ` +
      `(${manifest.files.length} files vouched for, ${(bytes / 1024).toFixed(0)} KB of modules, ${Math.round(ms)} ms)\n`,
  );
}
