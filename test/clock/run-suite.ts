/**
 * `npm run test:clock [-- --at HH:MM | --at RFC3339 …]`: the whole Vitest suite under libfaketime
 * (Debian's `faketime`), once per instant, to prove that no test depends on the hour or the date it
 * runs at. By default: today 00:05, 01:59 (inside the default two-hour lookback after midnight), 12:00
 * and 23:55 UTC, and 2028-02-29 00:30 UTC. `--at 00:05` runs one instant of today.
 *
 * The clock is shifted by an offset (`faketime -f ±Ns`), so every process of a run, the test workers
 * and the CLI children they spawn, reads the same faked wall clock; FAKETIME_DONT_FAKE_MONOTONIC=1
 * keeps timers and durations real. Prints one line per instant with its counts, then the total.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const DEFAULT_TIMES_OF_TODAY = ['00:05', '01:59', '12:00', '23:55'];
const LEAP_DAY = '2028-02-29T00:30:00Z';

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
  failures: string[];
  /** Set when the run itself failed (a suite that did not load, a crash): no counts to trust. */
  error?: string;
}

/** The instants to run at, from `--at` values (`HH:MM` of today UTC, or a full RFC 3339 instant). */
function instantsOf(at: readonly string[], realNowMs: number): string[] {
  const today = new Date(realNowMs).toISOString().slice(0, 10);
  const values = at.length > 0 ? at : [...DEFAULT_TIMES_OF_TODAY, LEAP_DAY];
  return values.map((value) => {
    if (/^\d{2}:\d{2}$/.test(value)) return `${today}T${value}:00Z`;
    if (Number.isNaN(Date.parse(value)) || !/^\d{4}-\d{2}-\d{2}T/.test(value))
      throw new TypeError(`--at: must be HH:MM (today, UTC) or an RFC 3339 instant (got "${value}")`);
    return new Date(Date.parse(value)).toISOString().replace('.000Z', 'Z');
  });
}

function vitestEntry(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('vitest/package.json')), 'vitest.mjs');
}

async function runAt(instant: string, vitestArgs: readonly string[]): Promise<Counts> {
  const dir = mkdtempSync(path.join(tmpdir(), 'test-clock-'));
  const report = path.join(dir, 'report.json');
  // Whole seconds: libfaketime's offset format. The run starts within a second of the instant.
  const offset = Math.round((Date.parse(instant) - Date.now()) / 1000);
  const args = [
    '-m',
    '-f',
    `${offset >= 0 ? '+' : ''}${offset}s`,
    process.execPath,
    vitestEntry(),
    'run',
    '--reporter=json',
    `--outputFile=${report}`,
    ...vitestArgs,
  ];
  const child = spawn('faketime', args, {
    env: { ...process.env, FAKETIME_DONT_FAKE_MONOTONIC: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  try {
    const json = JSON.parse(readFileSync(report, 'utf8')) as {
      numPassedTests: number;
      numFailedTests: number;
      numPendingTests: number;
      numTodoTests: number;
      testResults: {
        name: string;
        status: string;
        message?: string;
        assertionResults: { fullName: string; status: string; failureMessages: string[] }[];
      }[];
    };
    const failures = json.testResults.flatMap((file) => [
      ...(file.status === 'failed' && file.assertionResults.length === 0
        ? [`${path.relative(process.cwd(), file.name)}: ${(file.message ?? '').split('\n')[0]}`]
        : []),
      ...file.assertionResults
        .filter((t) => t.status === 'failed')
        .map((t) => `${t.fullName}: ${(t.failureMessages[0] ?? '').split('\n')[0]}`),
    ]);
    return {
      passed: json.numPassedTests,
      failed: json.numFailedTests,
      skipped: json.numPendingTests + json.numTodoTests,
      failures,
      ...(code !== 0 && json.numFailedTests === 0 ? { error: `vitest exited with ${code}` } : {}),
    };
  } catch {
    return { passed: 0, failed: 0, skipped: 0, failures: [], error: `no report (exit ${code}): ${stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: { at: { type: 'string', multiple: true } },
    allowPositionals: true,
  });
  let instants: string[];
  try {
    instants = instantsOf(values.at ?? [], Date.now());
  } catch (err) {
    process.stderr.write(`test:clock: ${(err as Error).message}\n`);
    return 2;
  }
  if (spawnSync('faketime', ['--help'], { stdio: 'ignore' }).error) {
    process.stderr.write('test:clock: needs libfaketime: apt-get install faketime\n');
    return 1;
  }
  let passed = 0;
  let failed = 0;
  let broken = false;
  for (const instant of instants) {
    const started = performance.now();
    const counts = await runAt(instant, positionals);
    const seconds = ((performance.now() - started) / 1000).toFixed(0);
    passed += counts.passed;
    failed += counts.failed;
    const skipped = counts.skipped > 0 ? `, ${counts.skipped} skipped` : '';
    process.stdout.write(
      `${instant}: ${counts.passed} passed, ${counts.failed} failed${skipped} (${seconds} s)\n`,
    );
    for (const failure of counts.failures) process.stdout.write(`  ✗ ${failure}\n`);
    if (counts.error) {
      broken = true;
      process.stdout.write(`  ✗ ${counts.error}\n`);
    }
  }
  process.stdout.write(`clock: ${passed} passed, ${failed} failed\n`);
  return failed > 0 || broken ? 1 : 0;
}

process.exitCode = await main();
