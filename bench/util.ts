/** Small helpers shared by the benchmark sections: timing, memory sampling, GC, tables, temp dirs. */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';

export const MB = 1024 * 1024;

/** Wall time of `fn` in ms (high resolution). */
export async function timed<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

let gcFn: (() => void) | undefined;

/** A full GC, so that memory baselines do not carry garbage of the previous section. */
export function collectGarbage(): void {
  if (!gcFn) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (g) gcFn = g;
    else {
      // `npm run bench` runs without --expose-gc: turn the flag on and fetch gc from a fresh context.
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    }
  }
  gcFn();
  gcFn();
}

export interface MemoryPeaks {
  /** heapUsed and rss right before the run (after a full GC), MB. */
  baseHeapMb: number;
  baseRssMb: number;
  /** Peaks seen by the main-thread sampler (every intervalMs, plus explicit `sample()` calls), MB. */
  peakHeapMb: number;
  peakRssMb: number;
  /** Peak rss seen by a worker thread sampling every intervalMs even while the main thread is busy, MB. */
  peakRssWorkerMb: number;
  samples: number;
  /**
   * The most heap still used right after a forced full GC at a day commit (`sampleAfterGc`), MB: what
   * the run holds on to, not what it happens not to have collected yet. 0 when never sampled.
   */
  maxHeapAfterGcMb: number;
  gcSamples: number;
}

/**
 * Samples `process.memoryUsage()` every `intervalMs` on the main thread (it misses what happens inside
 * one long synchronous call) and rss from a worker thread (which does not). Call `sample()` at
 * interesting points (progress callbacks) for extra main-thread samples.
 */
export class MemorySampler {
  #peakHeap = 0;
  #peakRss = 0;
  #samples = 0;
  #timer: NodeJS.Timeout | undefined;
  #worker: Worker | undefined;
  #base = { heap: 0, rss: 0 };
  #maxAfterGc = 0;
  #gcSamples = 0;

  constructor(readonly intervalMs = 50) {}

  start(): void {
    const m = process.memoryUsage();
    this.#base = { heap: m.heapUsed, rss: m.rss };
    this.sample();
    this.#timer = setInterval(() => this.sample(), this.intervalMs);
    this.#worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       let peak = process.memoryUsage.rss();
       const t = setInterval(() => { peak = Math.max(peak, process.memoryUsage.rss()); }, ${this.intervalMs});
       parentPort.on('message', () => { clearInterval(t); parentPort.postMessage(Math.max(peak, process.memoryUsage.rss())); parentPort.close(); });`,
      { eval: true },
    );
  }

  sample(): void {
    const m = process.memoryUsage();
    this.#samples++;
    if (m.heapUsed > this.#peakHeap) this.#peakHeap = m.heapUsed;
    if (m.rss > this.#peakRss) this.#peakRss = m.rss;
  }

  /** A full GC, then heapUsed: call it at points where the run's own state is what is left (day commits). */
  sampleAfterGc(): void {
    collectGarbage();
    const heap = process.memoryUsage().heapUsed;
    this.#gcSamples++;
    if (heap > this.#maxAfterGc) this.#maxAfterGc = heap;
    this.sample();
  }

  async stop(): Promise<MemoryPeaks> {
    this.sample();
    clearInterval(this.#timer);
    let workerPeak = 0;
    const worker = this.#worker;
    if (worker) {
      workerPeak = await new Promise<number>((resolve, reject) => {
        worker.once('message', (v: number) => resolve(v));
        worker.once('error', reject);
        worker.postMessage('stop');
      });
      await worker.terminate();
    }
    return {
      baseHeapMb: this.#base.heap / MB,
      baseRssMb: this.#base.rss / MB,
      peakHeapMb: this.#peakHeap / MB,
      peakRssMb: this.#peakRss / MB,
      peakRssWorkerMb: Math.max(workerPeak, this.#peakRss) / MB,
      samples: this.#samples,
      maxHeapAfterGcMb: this.#maxAfterGc / MB,
      gcSamples: this.#gcSamples,
    };
  }
}

/** A temp dir under os.tmpdir(), removed by `removeTempDirs()`. */
const tempDirs: string[] = [];
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `eventlog-bench-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Files under `dir` (recursively) whose name ends with `suffix`, with sizes. */
export function filesUnder(dir: string, suffix: string): { path: string; bytes: number }[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith(suffix))
    .map((f) => ({ path: join(dir, f), bytes: statSync(join(dir, f)).size }))
    .sort((a, b) => (a.path < b.path ? -1 : 1));
}

// ---------------------------------------------------------------------------------------------
// Printing

export const fmt = {
  ms: (ms: number): string => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`),
  s: (ms: number): string => `${(ms / 1000).toFixed(2)} s`,
  x: (ratio: number): string => `${ratio.toFixed(2)}×`,
  int: (n: number): string => Math.round(n).toLocaleString('en-US'),
  kb: (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`,
  mb: (mb: number): string => `${mb.toFixed(1)} MB`,
  b: (n: number): string => `${n.toFixed(1)} B`,
};

/** Prints rows as an aligned text table (first column left-aligned, the others right-aligned). */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

export function heading(title: string): void {
  console.log(`\n== ${title} ${'='.repeat(Math.max(0, 96 - title.length))}`);
}

/** A measured figure against a target, for the summary and the JSON file. */
export interface Check {
  name: string;
  measured: string;
  target: string;
  pass: boolean;
}

export function check(name: string, measured: string, target: string, pass: boolean): Check {
  return { name, measured, target, pass };
}

/** Logs progress lines to stderr so that stdout stays the report. */
export function note(message: string): void {
  process.stderr.write(`  … ${message}\n`);
}

/** The 1-minute load average (other processes on a shared machine skew wall times). */
export function loadAverage(): number {
  return loadavg()[0] ?? 0;
}
