/**
 * The bundled CLI (scripts/build-cli.ts) and the entry that picks it (bin/eventlog-archive.js), in a
 * temporary copy of the checkout (its node_modules linked to the repository's), so these tests edit
 * sources and rebuild without touching the repository's files or its dist/:
 * - a current bundle is what runs; an edited source (bin/, lambdas/, the shared package), a touched
 *   one, a missing manifest or EVENTLOG_ARCHIVE_FROM_SOURCES=1 runs the sources, and the edit shows;
 * - each command loads only what it uses: `--help`, bad arguments and `coverage` on a folder load
 *   nothing of DuckDB, the S3 client, AWS request signing or KMS, in the bundle and from the sources
 *   (and `query` and `verify` do load theirs: the probe sees what it must);
 * - the ingest's Parquet worker thread starts from the bundle's chunk.
 * Which modules a run loaded comes from a module resolve hook preloaded into the child (`--import`),
 * mapped to source files through the bundle's metafile.
 */
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS } from '../../../lambdas/shared/src/time';
import { buildCli, cliBuildOptions } from '../../../scripts/build-cli';
import { clockEnv, pinnedClock } from '../../helpers/clock';
import { type ProcessResult, runProcess } from '../../helpers/run-process';
import { generateEvents } from '../../support/sample-events';
import { buildArchive } from '../query/api-fixture';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const clock = pinnedClock(Date.UTC(2026, 11, 6, 12, 0));
const SPACE = 'bundle-space';
let work: string;
/** The copy of the checkout. */
let copy: string;
let archive: string;

/** Copies what the CLI is built from; node_modules is linked entry by entry, the workspace package to the copy's. */
function copyCheckout(to: string): void {
  for (const dir of ['bin', 'lambdas', 'console'])
    cpSync(path.join(REPO, dir), path.join(to, dir), {
      recursive: true,
      filter: (src) => !src.includes(`${path.sep}node_modules`),
    });
  for (const file of ['package.json', 'package-lock.json', 'tsconfig.json', 'scripts/build-cli.ts'])
    cpSync(path.join(REPO, file), path.join(to, file));
  const modules = path.join(to, 'node_modules');
  mkdirSync(path.join(modules, '@eventlog-archive'), { recursive: true });
  for (const entry of readdirSync(path.join(REPO, 'node_modules')))
    if (entry !== '@eventlog-archive')
      symlinkSync(path.join(REPO, 'node_modules', entry), path.join(modules, entry));
  symlinkSync(path.join(to, 'lambdas', 'shared'), path.join(modules, '@eventlog-archive', 'shared'));
}

// Records the URL of every module the process (its main thread) resolves, bundle chunks and .ts
// sources alike, into $TRACE_FILE at exit.
const TRACE_HOOK = `
import { registerHooks } from 'node:module';
import { writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
const seen = new Set();
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.add(r.url); return r; } });
if (isMainThread) process.on('exit', () => writeFileSync(process.env.TRACE_FILE, JSON.stringify([...seen])));
`;

interface TracedRun extends ProcessResult {
  /** file: URLs of every module the run resolved. */
  urls: string[];
  /** Whether the bundle ran (its entry was loaded) and no TypeScript source was. */
  bundled: boolean;
  /** Source files (relative to the copy or to node_modules) the run loaded, through chunks or directly. */
  inputs: string[];
}

let runs = 0;

/** Runs the copy's bin with `args` in `cwd`, tracing what it loads. */
async function cli(args: string[], env: Record<string, string> = {}, cwd = work): Promise<TracedRun> {
  const traceFile = path.join(work, `trace-${++runs}.json`);
  const result = await runProcess(
    process.execPath,
    ['--import', path.join(work, 'trace-hook.mjs'), path.join(copy, 'bin', 'eventlog-archive.js'), ...args],
    {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: work, TRACE_FILE: traceFile, ...clockEnv(clock), ...env },
    },
  );
  const urls = JSON.parse(readFileSync(traceFile, 'utf8')) as string[];
  const files = urls.filter((u) => u.startsWith('file:')).map((u) => fileURLToPath(u));
  const outDir = path.join(copy, 'dist', 'cli');
  const chunks = files.filter((f) => f.startsWith(`${outDir}${path.sep}`));
  let inputs = files.filter((f) => !chunks.includes(f)).map((f) => path.relative(copy, f));
  if (chunks.length > 0) {
    const meta = JSON.parse(readFileSync(path.join(outDir, 'meta.json'), 'utf8')) as Metafile;
    for (const chunk of chunks) {
      const output = meta.outputs[path.relative(copy, chunk).split(path.sep).join('/')];
      if (!output) throw new Error(`${chunk} is not in the bundle's metafile`);
      inputs = inputs.concat(Object.keys(output.inputs));
    }
  }
  const bundled = chunks.includes(path.join(outDir, 'cli.mjs')) && !files.some((f) => f.endsWith('.ts'));
  return { ...result, urls, bundled, inputs };
}

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'cli-bundle-'));
  copy = path.join(work, 'checkout');
  copyCheckout(copy);
  writeFileSync(path.join(work, 'trace-hook.mjs'), TRACE_HOOK);
  archive = path.join(work, 'archive');
  const now = clock();
  await buildArchive(
    archive,
    { [SPACE]: generateEvents({ count: 200, fromMs: now - 2 * DAY_MS, toMs: now - HOUR_MS, seed: 16 }) },
    now,
  );
  await buildCli({ root: copy });
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Replaces `from` with `to` in the copy's `file` (the edit a developer makes). */
function edit(file: string, from: string, to: string): void {
  const full = path.join(copy, file);
  const text = readFileSync(full, 'utf8');
  expect(text).toContain(from);
  writeFileSync(full, text.replace(from, to));
}

/** Sets a file's times a minute before they were: same content, another mtime. */
function touchBack(file: string): void {
  const { mtimeMs } = statSync(file);
  const earlier = new Date(mtimeMs - 60_000);
  utimesSync(file, earlier, earlier);
}

describe('the bin runs the bundle only while it is current', () => {
  it('runs a current bundle, from any folder', async () => {
    const help = await cli(['--help'], {}, tmpdir());
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: eventlog-archive <command>/);
    expect(help.bundled).toBe(true);
    const version = await cli(['--version'], {}, '/');
    expect(version.bundled).toBe(true);
    expect(version.stdout).toBe(
      `${JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')).version}\n`,
    );
  });

  it('runs the sources once a source in bin/, lambdas/ or the shared package is edited, and shows the edit', async () => {
    edit('bin/cli.ts', 'usage: eventlog-archive <command>', 'usage (edited): eventlog-archive <command>');
    const help = await cli(['--help']);
    expect(help.bundled).toBe(false);
    expect(help.stdout).toMatch(/^usage \(edited\): eventlog-archive/);

    await buildCli({ root: copy });
    expect((await cli(['--help'])).bundled).toBe(true);
    edit('lambdas/core/store.ts', 'unsupported scheme in', 'unsupported (edited) scheme in');
    const coverage = await cli(['coverage', '--archive', 'ftp://host/x']);
    expect(coverage.bundled).toBe(false);
    expect(coverage.code).toBe(2);
    expect(coverage.stderr).toMatch(/--archive: unsupported \(edited\) scheme in "ftp:\/\/host\/x"/);

    await buildCli({ root: copy });
    // The workspace package, reached through node_modules/@eventlog-archive/shared.
    edit(
      'lambdas/shared/src/validation.ts',
      '`must be an RFC 3339 timestamp such as',
      '`must be an edited RFC 3339 timestamp such as',
    );
    const bad = await cli(['coverage', '--archive', archive], { EVENTLOG_ARCHIVE_NOW: 'soon' });
    expect(bad.bundled).toBe(false);
    expect(bad.stderr).toMatch(
      /^eventlog-archive: EVENTLOG_ARCHIVE_NOW: must be an edited RFC 3339 timestamp such as 2024-05-01T00:00:00Z \(got "soon"\)\n$/,
    );
  });

  it('runs the sources when a listed file is only touched, the manifest is missing, or EVENTLOG_ARCHIVE_FROM_SOURCES=1', async () => {
    await buildCli({ root: copy });
    expect((await cli(['--version'])).bundled).toBe(true);
    expect((await cli(['--version'], { EVENTLOG_ARCHIVE_FROM_SOURCES: '1' })).bundled).toBe(false);

    // A minute back: checking out an older commit can give a file an older time, not only a newer one.
    touchBack(path.join(copy, 'lambdas/query/catalog.ts'));
    expect((await cli(['--version'])).bundled).toBe(false);

    await buildCli({ root: copy });
    // npm rewrites its hidden lockfile on every install: a dependency changed without the prepare script.
    const lockfile = JSON.parse(readFileSync(path.join(copy, 'dist/cli/manifest.json'), 'utf8')).files.find(
      ([file]: [string]) => file === 'package-lock.json',
    );
    expect(lockfile?.[1]).toBeGreaterThan(0);
    touchBack(path.join(copy, 'package-lock.json'));
    expect((await cli(['--version'])).bundled).toBe(false);

    await buildCli({ root: copy });
    rmSync(path.join(copy, 'dist/cli/manifest.json'));
    const run = await cli(['--version']);
    expect(run.bundled).toBe(false);
    expect(run.code).toBe(0);
  });

  it('runs the sources when a chunk of the bundle is missing', async () => {
    const { manifest } = await buildCli({ root: copy });
    const chunk = manifest.files
      .map(([file]) => file)
      .find((file) => /^dist\/cli\/chunk-.*\.mjs$/.test(file));
    rmSync(path.join(copy, chunk!));
    expect((await cli(['--version'])).bundled).toBe(false);
  });
});

// DuckDB, the S3 client and AWS request signing (the default credential chain; S3, KMS and
// Secrets Manager requests), the KMS digest signer.
const HEAVY = [
  /node_modules\/@duckdb\//,
  /node_modules\/@aws-sdk\/client-s3\//,
  /node_modules\/@aws-sdk\/credential-provider-node\//,
  /node_modules\/@smithy\/signature-v4\//,
  /lambdas\/core\/s3-store\.ts$/,
  /lambdas\/core\/s3-signed\.ts$/,
  /lambdas\/core\/aws-request\.ts$/,
  /lambdas\/core\/digest-signer\.ts$/,
];
const heavyIn = (inputs: readonly string[]): string[] => inputs.filter((f) => HEAVY.some((re) => re.test(f)));

describe('each command loads only what it uses', () => {
  beforeAll(async () => {
    await buildCli({ root: copy });
  }, 60_000);

  it.each([
    ['bundle', {}],
    ['sources', { EVENTLOG_ARCHIVE_FROM_SOURCES: '1' }],
  ] as const)(
    'from the %s: nothing heavy for --help, bad arguments or coverage on a folder',
    async (mode, env) => {
      const cheap: [string[], number][] = [
        [['--help'], 0],
        [['--version'], 0],
        [['frobnicate'], 2],
        [['query', '--space', SPACE, '--from', 'yesterday', '--archive', archive], 2],
        [['query', '--bogus'], 2],
        [['serve', '--archive', archive, '--port', '70000'], 2],
        [['verify', '--archive', archive, '--signing-key-arn', 'nope'], 2],
        [['export', '--format', 'csv', '--archive', archive, '--out', 'x'], 2],
        [['coverage', '--archive', archive], 0],
        [['coverage', '--archive', archive, '--json'], 0],
      ];
      for (const [args, code] of cheap) {
        const run = await cli(args, env);
        expect(run.bundled, args.join(' ')).toBe(mode === 'bundle');
        expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(code);
        expect(heavyIn(run.inputs), args.join(' ')).toEqual([]);
      }
    },
  );

  it.each([
    ['bundle', {}],
    ['sources', { EVENTLOG_ARCHIVE_FROM_SOURCES: '1' }],
  ] as const)(
    'from the %s: query loads DuckDB and verify the digest signer (the probe sees them)',
    async (_mode, env) => {
      const from = new Date(clock() - DAY_MS).toISOString();
      const query = await cli(
        ['query', '--space', SPACE, '--from', from, '--limit', '1', '--archive', archive],
        env,
      );
      expect(query.code, query.stderr).toBe(0);
      expect(heavyIn(query.inputs).some((f) => f.includes('@duckdb/'))).toBe(true);
      const verify = await cli(['verify', '--archive', archive], env);
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      expect(heavyIn(verify.inputs).some((f) => f.endsWith('digest-signer.ts'))).toBe(true);
    },
  );
});

describe('the ingest in the bundle', () => {
  it("encodes in the Parquet worker thread, started from the bundle's chunk", async () => {
    // The CLI's own build options with one more entry that calls the worker as the ingest does.
    const probe = path.join(copy, 'bin', 'worker-probe.ts');
    writeFileSync(
      probe,
      [
        "import { encodeDay, parquetWorkerStats } from '../lambdas/ingest/archive/parquet-worker';",
        "import { codecatalystDefinition as s } from '../lambdas/core/sources';",
        'const day = await encodeDay({ fields: s.fields, records: [], timeField: s.timeField, idField: s.idField, encode: true, windows: [] });',
        'process.stdout.write(JSON.stringify({ encodedIn: day.encodedIn, ...parquetWorkerStats() }));',
        'process.exit(0);',
      ].join('\n'),
    );
    const outDir = path.join(work, 'probe-bundle');
    const options = cliBuildOptions(copy, outDir);
    await build({ ...options, entryPoints: { ...options.entryPoints, probe } });
    const run = await runProcess(process.execPath, [path.join(outDir, 'probe.mjs')], {
      cwd: work,
      env: { PATH: process.env.PATH ?? '' },
    });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toMatchObject({ encodedIn: 'worker', worker: 1, main: 0 });
    expect(JSON.parse(run.stdout).unavailable).toBeUndefined();
  });
});
