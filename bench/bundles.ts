/**
 * Section 4: bundle sizes and module load time, built exactly as deployed (lambdas/build.ts and
 * lambdas/shared/build.ts). Every `lambdas/<name>/index.ts` handler is bundled; targets exist for
 * the ingest handler and the layer.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { bundleFunction } from '../lambdas/build';
import { buildSharedLayer } from '../lambdas/shared/build';
import { type Check, check, fmt, heading, median, note, printTable, tempDir } from './util';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const LOAD_RUNS = 5;
const KB = 1024;
/**
 * Size targets (minified bytes). The ingest's is issue 15's "no larger than 664 KB", which it
 * meets since it reads CodeCatalyst without the SDK client (it had grown to 725 KB with Security
 * Lake delivery). The authorizer runs on the request path of every uncached token: kept small (no
 * S3 client).
 */
const TARGETS: Record<string, number> = {
  ingest: 664 * KB,
  query: 400 * KB,
  authorizer: 100 * KB,
  layer: 100 * KB,
};

export interface LoadTime {
  /** Median wall time of `node -e "require(bundle)"` with the layer on NODE_PATH, ms. */
  ms?: number;
  runsMs: number[];
  error?: string;
}

export interface BundleRow {
  name: string;
  bytes: number;
  gzipBytes: number;
  targetBytes?: number;
  /** Load time per Node runtime (key: version). */
  load: Record<string, LoadTime>;
}

export interface BundleFigures {
  /** Node runtimes measured: the one running the bench, and a different `node` on PATH if any. */
  runtimes: { version: string; path: string }[];
  /** Empty-script baseline per runtime version. */
  baseline: Record<string, LoadTime>;
  rows: BundleRow[];
}

function handlers(): string[] {
  const dir = join(REPO, 'lambdas');
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'index.ts')))
    .map((d) => d.name)
    .filter((name) => name !== 'shared')
    .sort();
}

/**
 * Wall time of a fresh `node -e <script>`, LOAD_RUNS times. It runs in `cwd` (a temp dir, as
 * /var/task in Lambda): from the repo, `require('@eventlog-archive/shared')` would find the
 * workspace link in node_modules (TypeScript sources) before NODE_PATH.
 */
function nodeRuns(
  node: string,
  script: string,
  nodePath: string,
  cwd: string,
): { runsMs: number[]; error?: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_PATH: nodePath };
  delete env.NODE_OPTIONS;
  const runsMs: number[] = [];
  for (let i = 0; i < LOAD_RUNS; i++) {
    const t0 = performance.now();
    const r = spawnSync(node, ['-e', script], { env, cwd, encoding: 'utf8' });
    runsMs.push(performance.now() - t0);
    if (r.status !== 0) return { runsMs, error: (r.stderr || r.error?.message || `exit ${r.status}`).trim() };
  }
  return { runsMs };
}

/** The Node running the bench, plus a `node` of another version found on PATH (outside node_modules). */
function runtimes(): { version: string; path: string }[] {
  const found = [{ version: process.version, path: process.execPath }];
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir || dir.includes('node_modules')) continue;
    const candidate = join(dir, 'node');
    if (!existsSync(candidate)) continue;
    const r = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    const version = r.stdout?.trim();
    if (r.status === 0 && version && !found.some((f) => f.version === version))
      found.push({ version, path: candidate });
    break;
  }
  return found;
}

function loadTime(node: string, script: string, nodePath: string, cwd: string): LoadTime {
  const r = nodeRuns(node, script, nodePath, cwd);
  return r.error ? { runsMs: r.runsMs, error: r.error } : { ms: median(r.runsMs), runsMs: r.runsMs };
}

export function bundlesSection(): { figures: BundleFigures; checks: Check[] } {
  const out = tempDir('bundles');
  const layerDir = resolve(out, 'layer');
  note('building the layer and the handler bundles…');
  const layer = buildSharedLayer(layerDir);
  const nodePath = join(layerDir, 'nodejs', 'node_modules');
  const nodes = runtimes();
  const perRuntime = (script: string): Record<string, LoadTime> =>
    Object.fromEntries(nodes.map((n) => [n.version, loadTime(n.path, script, nodePath, out)]));

  const rows: BundleRow[] = [];
  for (const name of handlers()) {
    const built = bundleFunction(`lambdas/${name}/index.ts`, join(out, name, 'index.js'));
    rows.push({
      name: `${name} handler (lambdas/${name}/index.ts)`,
      bytes: built.bytes,
      gzipBytes: gzipSync(readFileSync(built.outFile), { level: 9 }).byteLength,
      ...(TARGETS[name] ? { targetBytes: TARGETS[name] } : {}),
      load: perRuntime(`require(${JSON.stringify(built.outFile)})`),
    });
  }
  rows.push({
    name: 'shared layer (@eventlog-archive/shared)',
    bytes: layer.bytes,
    gzipBytes: gzipSync(readFileSync(layer.entryFile), { level: 9 }).byteLength,
    targetBytes: TARGETS.layer,
    load: perRuntime(`require('@eventlog-archive/shared')`),
  });
  const figures: BundleFigures = { runtimes: nodes, baseline: perRuntime(''), rows };
  printBundles(figures);

  const checks: Check[] = [];
  for (const r of rows) {
    const short = r.name.split(' (')[0];
    if (r.targetBytes !== undefined) {
      checks.push(
        check(
          `Bundle: ${short} minified`,
          `${fmt.kb(r.bytes)} (gzip ${fmt.kb(r.gzipBytes)})`,
          `≤ ${r.targetBytes / KB} KB`,
          r.bytes <= r.targetBytes,
        ),
      );
    }
    const errors = Object.entries(r.load).filter(([, l]) => l.error);
    checks.push(
      check(
        `Bundle: ${short} loads`,
        errors.length > 0
          ? `error on ${errors.map(([v, l]) => `${v}: ${l.error?.split('\n')[0]}`).join('; ')}`
          : Object.entries(r.load)
              .map(
                ([v, l]) =>
                  `${fmt.ms(l.ms!)} on ${v} (empty ${fmt.ms(figures.baseline[v]?.ms ?? Number.NaN)})`,
              )
              .join(', '),
        'loads with the layer on NODE_PATH',
        errors.length === 0,
      ),
    );
  }
  return { figures, checks };
}

const signed = (ms: number): string => `${ms >= 0 ? '+' : '−'}${fmt.int(Math.abs(ms))}`;

function printBundles(f: BundleFigures): void {
  heading('4. Bundles (esbuild, minified, as deployed) and module load time');
  printTable(
    ['bundle', 'bytes', 'gzip -9', 'target'],
    f.rows.map((r) => [
      r.name,
      fmt.kb(r.bytes),
      fmt.kb(r.gzipBytes),
      r.targetBytes === undefined ? '' : `≤ ${r.targetBytes / KB} KB`,
    ]),
  );
  console.log(
    `\nload = wall time of a fresh \`node -e "require(<bundle>)"\` with NODE_PATH=<layer>/nodejs/node_modules, median of ${LOAD_RUNS}:`,
  );
  const cell = (l: LoadTime | undefined, base: LoadTime | undefined): string =>
    !l ? '' : l.error ? 'FAILED' : `${fmt.int(l.ms!)} (${signed(l.ms! - (base?.ms ?? 0))})`;
  const versions = f.runtimes.map((r) => r.version);
  printTable(
    ['module', ...versions.map((v) => `Node ${v}: ms (+ over empty)`), 'runs ms'],
    [
      ...f.rows.map((r) => [
        r.name.split(' (')[0]!,
        ...versions.map((v) => cell(r.load[v], f.baseline[v])),
        versions
          .map((v) => r.load[v]?.error?.split('\n')[0] ?? r.load[v]?.runsMs.map(Math.round).join('/'))
          .join(' | '),
      ]),
      [
        'empty script (baseline)',
        ...versions.map((v) => (f.baseline[v]?.ms === undefined ? 'FAILED' : fmt.int(f.baseline[v]!.ms!))),
        versions.map((v) => f.baseline[v]?.runsMs.map(Math.round).join('/')).join(' | '),
      ],
    ],
  );
  console.log(`runtimes: ${f.runtimes.map((r) => `${r.version} (${r.path})`).join(', ')}`);
}
