/**
 * `npm run bench`: ingest speed, the 1M backfill with memory, storage and bundles, measured in one
 * run as ratios, with a summary of every target (PASS/MISS) and the figures in
 * bench/results/latest.json. Always exits 0: this is a report, not a test.
 *
 * `npm run bench -- storage bundles` runs only the named sections (ingest, storage, bundles, query, s3,
 * synth, ocsf, cli); the archive sizes of the storage section need the ingest section. `cli` times
 * the CLI's start (bench/cli.ts): `npx eventlog-archive` from the bundle against the sources.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { INGEST_V8_OPTIONS } from '../lambdas/ingest/v8-options';
import type { IngestFigures } from './ingest';
import { killServers } from './server';
import { type Check, fmt, heading, printTable, removeTempDirs } from './util';

const SECTIONS = ['ingest', 'storage', 'bundles', 'query', 's3', 'synth', 'ocsf', 'cli'] as const;
type Section = (typeof SECTIONS)[number];

function selectedSections(): Set<Section> {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => !(SECTIONS as readonly string[]).includes(a));
  if (unknown.length > 0) {
    console.error(`unknown section(s) ${unknown.join(', ')}; choose from ${SECTIONS.join(', ')}`);
    process.exit(2);
  }
  return new Set((args.length > 0 ? args : SECTIONS) as Section[]);
}

function printSummary(checks: readonly Check[], loads: readonly [string, number][]): void {
  heading('Summary');
  printTable(
    ['target', 'measured', 'goal', 'result'],
    checks.map((c) => [c.name, c.measured, c.target, c.pass ? 'PASS' : 'MISS  <<<<<<<<']),
  );
  const cores = cpus().length;
  console.log(
    `\nload average (1 min): ${loads.map(([at, l]) => `${at} ${l.toFixed(1)}`).join(', ')}; ${cores} cores`,
  );
  if (Math.max(...loads.map(([, l]) => l)) > cores) {
    console.log(
      `!!! the machine was busy (load above ${cores}; this bench alone keeps it near 1.5): wall times and their ratios are skewed; CPU figures much less so`,
    );
  }
  const missed = checks.filter((c) => !c.pass);
  if (missed.length === 0) {
    console.log(`\nall ${checks.length} targets met`);
    return;
  }
  const bar = '!'.repeat(100);
  console.log(`\n${bar}`);
  console.log(`!!! ${missed.length} of ${checks.length} TARGETS MISSED:`);
  for (const c of missed) console.log(`!!!   MISS  ${c.name}: ${c.measured} (goal ${c.target})`);
  console.log(bar);
}

async function main(): Promise<void> {
  const sections = selectedSections();
  const started = performance.now();
  const environment = {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
  };
  console.log(
    `eventlog-archive bench: Node ${environment.node}, ${environment.cpus} × ${environment.cpuModel}, ` +
      `${environment.memoryGb} GB; sections: ${[...sections].join(', ')}`,
  );
  console.log(
    `Read ratios, not absolute times: the machine is shared and noisy (load average now ${(loadavg()[0] ?? 0).toFixed(1)}).`,
  );

  const checks: Check[] = [];
  const loads: [string, number][] = [['start', loadavg()[0] ?? 0]];
  const results: Record<string, unknown> = { environment, loads };
  const failures: string[] = [];
  const attempt = async (name: Section, fn: () => Promise<void> | void): Promise<void> => {
    if (!sections.has(name)) return;
    try {
      await fn();
      loads.push([`after ${name}`, loadavg()[0] ?? 0]);
    } catch (err) {
      const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
      failures.push(`${name}: ${message}`);
      console.log(`\n!!! section ${name} failed: ${message}`);
      checks.push({ name: `Section ${name} ran`, measured: 'failed', target: 'runs', pass: false });
    }
  };

  // Each section's modules load when it runs: the ingest is measured in a process without the CDK,
  // DuckDB or the query side in its heap (a bench-only base that inflated its GC work and memory).
  let ingest: IngestFigures | undefined;
  await attempt('ingest', async () => {
    const { ingestSection } = await import('./ingest');
    const r = await ingestSection();
    ingest = r.figures;
    results.ingest = r.figures;
    checks.push(...r.checks);
  });
  await attempt('storage', async () => {
    const { storageSection } = await import('./storage');
    const r = await storageSection(ingest);
    results.storage = r.figures;
    checks.push(...r.checks);
  });
  await attempt('bundles', async () => {
    const { bundlesSection } = await import('./bundles');
    const r = bundlesSection();
    results.bundles = r.figures;
    checks.push(...r.checks);
  });

  await attempt('query', async () => {
    const { querySection } = await import('./query');
    const r = await querySection();
    results.query = r.figures;
    checks.push(...r.checks);
  });

  await attempt('s3', async () => {
    const { s3Section } = await import('./s3');
    const r = await s3Section();
    results.s3 = r.figures;
    checks.push(...r.checks);
  });

  await attempt('synth', async () => {
    const { synthSection } = await import('./synth');
    const r = synthSection();
    results.synth = r.figures;
    checks.push(...r.checks);
  });

  await attempt('ocsf', async () => {
    const { ocsfSection } = await import('./ocsf');
    const r = ocsfSection();
    results.ocsf = r.figures;
    checks.push(...r.checks);
  });

  await attempt('cli', async () => {
    const { cliSection } = await import('./cli');
    const r = await cliSection();
    results.cli = r.figures;
    checks.push(...r.checks);
  });

  printSummary(checks, loads);
  const totalMs = performance.now() - started;
  console.log(`\nbench took ${fmt.s(totalMs)}`);

  const outDir = new URL('./results/', import.meta.url);
  mkdirSync(outDir, { recursive: true });
  const outFile = new URL('./latest.json', outDir);
  writeFileSync(
    outFile,
    `${JSON.stringify({ ...results, checks, failures, totalMs }, (key, value) => (key === 'archiveDir' ? undefined : value), 2)}\n`,
  );
  console.log(`figures written to bench/results/latest.json`);
}

const cleanup = (): void => {
  killServers();
  removeTempDirs();
};
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

// The ingest is measured with the V8 options the function runs with: the bench runs under them.
if (INGEST_V8_OPTIONS.some((option) => !process.execArgv.includes(option))) {
  const { status } = spawnSync(
    process.execPath,
    [...INGEST_V8_OPTIONS, ...process.execArgv, ...process.argv.slice(1)],
    { stdio: 'inherit' },
  );
  process.exit(status ?? 1);
}

try {
  await main();
} catch (err) {
  console.log(`!!! bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
} finally {
  cleanup();
}
process.exit(0);
