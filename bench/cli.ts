/**
 * The cli section: how fast the CLI answers at a terminal (issue 16). Medians of RUNS runs of
 * `npx eventlog-archive …` from the bundle that `npm ci` builds (dist/cli/), side by side with the
 * same commands from the TypeScript sources through tsx (EVENTLOG_ARCHIVE_FROM_SOURCES=1), for
 * `--help`, a bad argument (exit 2), `coverage` and a 7-day `query` with one filter on the demo
 * archive (made as `npm start` makes it: the demo source pulled through the real ingest).
 *
 * `npx` itself (npm's CLI, on whatever Node the machine has) costs a few hundred milliseconds before
 * the CLI starts, so the section also times `npx node -e 0` and the CLI run directly
 * (`node bin/eventlog-archive.js …`, what npx runs): the targets are checked on both.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCli, CLI_OUT_DIR, type CliManifest, MANIFEST } from '../scripts/build-cli';
import { type Check, check, fmt, heading, median, note, printTable, tempDir } from './util';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const BIN = path.join(REPO, 'bin', 'eventlog-archive.js');
const RUNS = 10;
const DEMO_SPACE = 'demo-space';

interface Case {
  name: string;
  args: string[];
  /** The exit code every run must have. */
  code: number;
  /** Target median, ms. */
  targetMs: number;
}

/** Medians (ms) of one case; `direct` is `node bin/eventlog-archive.js`, without npx. */
export interface CliRow {
  name: string;
  targetMs: number;
  npxBundleMs: number;
  npxSourcesMs: number;
  directBundleMs: number;
  directSourcesMs: number;
}

export interface CliFigures {
  runs: number;
  npxOverheadMs: number;
  bundleBytes: number;
  buildMs: number;
  rows: CliRow[];
}

/** Whether the bundle in dist/cli is current, by the rule bin/eventlog-archive.js applies. */
function bundleIsCurrent(): boolean {
  const dir = path.join(REPO, CLI_OUT_DIR);
  let manifest: CliManifest;
  try {
    manifest = JSON.parse(readFileSync(path.join(dir, MANIFEST), 'utf8')) as CliManifest;
  } catch {
    return false;
  }
  const root = path.resolve(dir, manifest.root);
  return manifest.files.every(([file, size, mtimeMs]) => {
    const stat = statSync(path.join(root, file), { throwIfNoEntry: false });
    return size < 0 ? stat === undefined : stat?.size === size && stat.mtimeMs === mtimeMs;
  });
}

/** The demo archive, made as `npm start` makes it: `start` runs until it serves, then is stopped. */
async function demoArchive(dir: string, now: string): Promise<string> {
  const archive = path.join(dir, 'data');
  const child = spawn(process.execPath, [BIN, 'start', '--archive', archive, '--port', '0'], {
    cwd: dir,
    env: { ...process.env, EVENTLOG_ARCHIVE_NOW: now },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`start did not serve within 180 s:\n${out}`)), 180_000);
    const poll = setInterval(() => {
      if (/^Serving the archive/m.test(out)) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve();
      }
    }, 100);
    void exited.then((code) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`start exited with ${code} before serving:\n${out}`));
    });
  });
  child.kill('SIGTERM');
  await exited;
  return archive;
}

/** Wall time (ms) of one run; throws when the exit code is not `code`. */
function timeRun(command: string, args: string[], env: NodeJS.ProcessEnv, code: number): number {
  const t0 = performance.now();
  const run = spawnSync(command, args, { cwd: REPO, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t0;
  if (run.status !== code)
    throw new Error(`${command} ${args.join(' ')} exited ${run.status}, not ${code}: ${run.stderr}`);
  return ms;
}

/** Median of RUNS runs after one unmeasured run (it fills tsx's and the OS's caches). */
function medianOf(command: string, args: string[], env: NodeJS.ProcessEnv, code: number): number {
  timeRun(command, args, env, code);
  return median(Array.from({ length: RUNS }, () => timeRun(command, args, env, code)));
}

export async function cliSection(): Promise<{ figures: CliFigures; checks: Check[] }> {
  heading(`CLI start-up: medians of ${RUNS} runs, bundle (npm ci builds it) vs the sources through tsx`);
  // What `npm ci` does (the prepare script), so the bundle measured is the one of these sources.
  const built = await buildCli();
  note(`bundle built in ${fmt.ms(built.ms)} (${fmt.kb(built.bytes)} of modules)`);
  const dir = tempDir('cli');
  // One instant for the archive and every run: the 7-day query sees the same days each time.
  const now = new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString();
  note('making the demo archive (npm start: the demo source through the real ingest)');
  const archive = await demoArchive(dir, now);
  const from = new Date(Date.parse(now) - 7 * 86_400_000).toISOString();
  const cases: Case[] = [
    { name: '--help', args: ['--help'], code: 0, targetMs: 250 },
    {
      name: 'bad argument (exit 2)',
      args: ['query', '--space', DEMO_SPACE, '--limit', '0'],
      code: 2,
      targetMs: 250,
    },
    { name: 'coverage, demo archive', args: ['coverage', '--archive', archive], code: 0, targetMs: 400 },
    {
      name: 'query 7 days, one filter',
      args: [
        'query',
        '--space',
        DEMO_SPACE,
        '--from',
        from,
        '--operation-type',
        'MUTATION',
        '--archive',
        archive,
      ],
      code: 0,
      targetMs: 600,
    },
  ];
  const base: NodeJS.ProcessEnv = { ...process.env, EVENTLOG_ARCHIVE_NOW: now };
  delete base.EVENTLOG_ARCHIVE_FROM_SOURCES;
  const sources: NodeJS.ProcessEnv = { ...base, EVENTLOG_ARCHIVE_FROM_SOURCES: '1' };
  const npxOverheadMs = medianOf('npx', ['--no-install', 'node', '-e', '0'], base, 0);
  const rows: CliRow[] = [];
  for (const c of cases) {
    if (!bundleIsCurrent()) throw new Error('a source changed during the bench: the bundle is stale');
    rows.push({
      name: c.name,
      targetMs: c.targetMs,
      npxBundleMs: medianOf('npx', ['--no-install', 'eventlog-archive', ...c.args], base, c.code),
      npxSourcesMs: medianOf('npx', ['--no-install', 'eventlog-archive', ...c.args], sources, c.code),
      directBundleMs: medianOf(process.execPath, [BIN, ...c.args], base, c.code),
      directSourcesMs: medianOf(process.execPath, [BIN, ...c.args], sources, c.code),
    });
  }
  // Runs measured while the bundle was stale would have been the sources: say so rather than report them.
  if (!bundleIsCurrent()) throw new Error('a source changed during the bench: the bundle is stale');

  printTable(
    ['command', 'npx, bundle', 'npx, tsx', 'speedup', 'node bin, bundle', 'node bin, tsx', 'target'],
    rows.map((r) => [
      r.name,
      fmt.s(r.npxBundleMs),
      fmt.s(r.npxSourcesMs),
      fmt.x(r.npxSourcesMs / r.npxBundleMs),
      fmt.s(r.directBundleMs),
      fmt.s(r.directSourcesMs),
      `≤ ${fmt.s(r.targetMs)}`,
    ]),
  );
  const help = rows[0]!;
  console.log(
    `\nnpx itself: ${fmt.s(npxOverheadMs)} (\`npx node -e 0\`, npm's own start on the machine's Node), and ` +
      `${fmt.s(help.npxBundleMs - help.directBundleMs)} for \`npx eventlog-archive --help\` over \`node bin/eventlog-archive.js --help\` ` +
      "(npm also resolves the project's own bin through its package tree on every call): the CLI cannot go below that through npx.",
  );
  const checks: Check[] = [];
  for (const r of rows) {
    checks.push(
      check(
        `CLI ${r.name}, npx eventlog-archive (bundle)`,
        fmt.s(r.npxBundleMs),
        `≤ ${fmt.s(r.targetMs)}`,
        r.npxBundleMs <= r.targetMs,
      ),
      check(
        `CLI ${r.name}, node bin/eventlog-archive.js (bundle, no npx)`,
        fmt.s(r.directBundleMs),
        `≤ ${fmt.s(r.targetMs)}`,
        r.directBundleMs <= r.targetMs,
      ),
    );
  }
  return {
    figures: { runs: RUNS, npxOverheadMs, bundleBytes: built.bytes, buildMs: built.ms, rows },
    checks,
  };
}
