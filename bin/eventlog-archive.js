#!/usr/bin/env node
/**
 * The CLI's entry (package.json `bin`). It runs the esbuild bundle of the CLI (`dist/cli/`, built by
 * `npm ci` / `npm install` through the `prepare` script, or `npm run build`) when the bundle is
 * current, and the TypeScript sources through tsx otherwise, so a fresh clone needs no build step
 * and an edited source is never shadowed by a stale bundle.
 *
 * Current means: `dist/cli/manifest.json` exists, and every file it lists (each source file esbuild
 * read, the files that decide how imports resolve — package.json, the lockfiles, tsconfig.json, the
 * build script — and the bundle's own files) still has the size and the mtime recorded when the
 * bundle was built. Any difference (an edit, a `git checkout`, a touch, a missing or new file among
 * those) falls back to the sources. It costs one stat per file, a few milliseconds, on every start.
 * A new source file can only enter the CLI through an import in a file already listed, whose edit
 * makes the bundle stale. EVENTLOG_ARCHIVE_FROM_SOURCES=1 forces the sources;
 * EVENTLOG_ARCHIVE_BUNDLE_DIR=<folder> runs a bundle built elsewhere (tests), under the same check.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

// The floor the code is written for (node:zlib's ZSTD, among others): say so rather than fail later.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 15)) {
  process.stderr.write(
    `eventlog-archive: Node.js 22.15 or later is required (this is ${process.version}); on Linux x64, \`npm ci\` installs Node 24 for \`npx\` and \`npm run\`\n`,
  );
  process.exit(1);
}

/** The bundle's entry URL when the bundle in `dir` is current (see the header), else undefined. */
function currentBundle(dir) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(new URL('manifest.json', dir), 'utf8'));
  } catch {
    return undefined;
  }
  if (manifest?.version !== 1 || !Array.isArray(manifest.files) || typeof manifest.entry !== 'string')
    return undefined;
  const root = new URL(`${manifest.root}/`, dir);
  for (const [file, size, mtimeMs] of manifest.files) {
    const stat = statSync(new URL(file, root), { throwIfNoEntry: false });
    if (size < 0 ? stat !== undefined : stat?.size !== size || stat.mtimeMs !== mtimeMs) return undefined;
  }
  return new URL(manifest.entry, dir);
}

// Quiet by default at a terminal: warnings and errors only (JSON on stderr). LOG_LEVEL=INFO shows more.
process.env.POWERTOOLS_LOG_LEVEL ??= process.env.LOG_LEVEL ?? 'WARN';
// EVENTLOG_ARCHIVE_BUNDLE_DIR: a bundle built elsewhere (the tests build their own).
const bundleDir = process.env.EVENTLOG_ARCHIVE_BUNDLE_DIR
  ? pathToFileURL(`${resolve(process.env.EVENTLOG_ARCHIVE_BUNDLE_DIR)}/`)
  : new URL('../dist/cli/', import.meta.url);
const bundle = process.env.EVENTLOG_ARCHIVE_FROM_SOURCES === '1' ? undefined : currentBundle(bundleDir);
let cli;
if (bundle) {
  cli = await import(bundle.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import('./cli.ts');
}
process.exitCode = await cli.main(process.argv.slice(2));
