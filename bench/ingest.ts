/**
 * Sections 1 and 2: ingest speed against a naive sequential paginator (100k events), and the
 * one-million-event backfill against the concurrency bound, with peak memory of both runs.
 *
 * The server runs in a child process (bench/server-process.ts) so that its CPU and its event store
 * are not counted as ours. Besides the full runs, a "fetch-only" run drives the same pipeline with
 * a client that parses every page (the archive's ListEventLogs client) and then drops the items, so no Parquet
 * is written: it separates the cost of paging from the cost of writing.
 */
import { CodeCatalystClient, paginateListEventLogs } from '@aws-sdk/client-codecatalyst';
import { DAY_MS, floorTo, type Page } from '@eventlog-archive/shared';
import { LocalStore } from '../lambdas/core/local-store';
import type { ArchiveRecord } from '../lambdas/core/records';
import { parquetWorkerStats } from '../lambdas/ingest/archive/parquet-worker';
import { DEFAULT_SETTINGS, type IngestResult, ingestInstance } from '../lambdas/ingest/ingest-instance';
import { codecatalyst } from '../lambdas/ingest/sources/codecatalyst/index';
import type { SourceClient } from '../lambdas/ingest/sources/types';
import { type CpuBreakdown, cpuBreakdown } from './breakdown';
import { BenchServer, type JsonlStats, type ServerStats } from './server';
import {
  type Check,
  check,
  collectGarbage,
  fmt,
  heading,
  loadAverage,
  type MemoryPeaks,
  MemorySampler,
  note,
  printTable,
  tempDir,
  timed,
} from './util';

/**
 * CPU time of the calling thread, ms (`process.threadCpuUsage`, Node ≥ 22.19 / 23.9); the whole
 * process's on older Nodes, where it then includes the Parquet worker.
 */
function threadCpu(): number {
  const usage =
    (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage?.() ?? process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

export const LATENCY_MS = 50;
export const PAGE_SIZE = 250;
export const DAYS = 30;
export const SEED_100K = 1;
const SEED_1M = 2;
const SPACE = 'bench-space';
const TOKEN = 'bench-token';

export interface OurRun {
  events: number;
  ms: number;
  pages: number;
  result: IngestResult;
  /** Memory peaks: measured only in the memory runs (sampling costs CPU that timed runs would count). */
  memory?: MemoryPeaks;
  /** CPU time of this (the ingest) process during the run (user + system), ms: both threads. */
  cpuMs: number;
  /** CPU time of the main thread alone (paging, parsing, union, sort, hand-over), ms. */
  mainCpuMs: number;
  /** Days encoded in the Parquet worker thread / on the main thread. */
  encodedIn: { worker: number; main: number };
  /** 1-minute load average before and after the run (the machine has os.availableParallelism() cores). */
  load: [number, number];
  server: ServerStats;
  /** The archive folder the run wrote (removed with the other temp dirs at the end). */
  archiveDir: string;
}

export interface FetchOnlyRun {
  events: number;
  pages: number;
  ms: number;
  cpuMs: number;
  load: [number, number];
}

export interface IngestFigures {
  range: { from: string; to: string; days: number };
  latencyMs: number;
  maxConcurrency: number;
  generateMs: { events100k: number; events1m: number };
  naive: { events: number; pages: number; ms: number; server: ServerStats };
  ours100k: OurRun;
  /** The same run again in the same process: JIT-compiled code and a started worker, as a warm Lambda. */
  ours100kWarm: OurRun;
  /** A third 100k run that measures the heap after a GC at each day commit (the timed runs do not). */
  memory100k: OurRun;
  fetchOnly100k: FetchOnlyRun;
  /** Timed without memory sampling: the forced GCs of a memory run would count as ingest CPU. */
  ours1m: OurRun;
  /** The same backfill again, with the heap after a full GC at each day commit (not timed). */
  memory1m: OurRun;
  cpu: CpuBreakdown;
  jsonl100k: JsonlStats;
  jsonl1m: JsonlStats;
  speedup: number;
  speedupWarm: number;
  speedupFetchOnly: number;
  backfill: {
    boundMs: number;
    ratio: number;
    minPages: number;
    minBoundMs: number;
    ratioToMinBound: number;
  };
  memory: {
    /** Max heap after a forced GC at day commits, 1M ÷ 100k: the stable measure (issue 15). */
    heapAfterGcRatio: number;
    heapRatio: number;
    heapAboveBaseRatio: number;
    rssRatio: number;
    daysInFlight: number;
  };
  /** Server CPU per page × concurrency ÷ latency: the server's load if we ran exactly at the bound. */
  serverLoadAtBound: number;
}

/** The 30 whole UTC days before the last midnight. */
export function benchRange(): { fromMs: number; toMs: number } {
  const toMs = floorTo(Date.now(), DAY_MS);
  return { fromMs: toMs - DAYS * DAY_MS, toMs };
}

async function startServer(count: number, seed: number, fromMs: number, toMs: number): Promise<BenchServer> {
  const server = await BenchServer.start({
    count,
    fromMs,
    toMs,
    seed,
    space: SPACE,
    token: TOKEN,
    latencyMs: LATENCY_MS,
    // Longer than the range, so that no event expires while the benchmark runs.
    retentionMs: (DAYS + 10) * DAY_MS,
  });
  note(`server for ${fmt.int(count)} events at ${server.url} (generated in ${fmt.ms(server.generateMs)})`);
  return server;
}

/** The official SDK paginator over the whole range, one page after another. */
async function naiveRun(
  server: BenchServer,
  fromMs: number,
  toMs: number,
): Promise<{ events: number; pages: number; ms: number }> {
  const client = new CodeCatalystClient({
    region: 'us-west-2',
    endpoint: server.url,
    token: { token: server.token },
  });
  try {
    const { ms, value } = await timed(async () => {
      let pages = 0;
      let events = 0;
      for await (const page of paginateListEventLogs(
        { client, pageSize: PAGE_SIZE },
        {
          spaceName: server.space,
          startTime: new Date(fromMs),
          endTime: new Date(toMs),
          maxResults: PAGE_SIZE,
        },
      )) {
        pages++;
        events += page.items?.length ?? 0;
      }
      return { pages, events };
    });
    return { ...value, ms };
  } finally {
    client.destroy();
  }
}

function ourClient(server: BenchServer): Promise<SourceClient> {
  return codecatalyst.createClient({
    env: { CODECATALYST_TOKEN: server.token, AWS_ENDPOINT_URL_CODECATALYST: server.url },
  });
}

/** `ingestInstance` with default settings into a fresh LocalStore. */
async function ourRun(
  server: BenchServer,
  expected: number,
  fromMs: number,
  toMs: number,
  options: { heapAtCommits?: boolean } = {},
): Promise<OurRun> {
  const client = await ourClient(server);
  const archiveDir = tempDir('archive');
  const store = new LocalStore(archiveDir);
  await server.resetStats();
  collectGarbage();
  // process.memoryUsage() at every page and every 50 ms, and a sampling thread, cost ~3 µs/event of
  // CPU at 1M events: only runs that measure memory sample it.
  const sampler = options.heapAtCommits ? new MemorySampler(50) : undefined;
  const load0 = loadAverage();
  sampler?.start();
  const cpu0 = process.cpuUsage();
  const thread0 = threadCpu();
  const encoded0 = parquetWorkerStats();
  const { ms, value: result } = await timed(() =>
    ingestInstance({
      source: codecatalyst,
      instance: server.space,
      store,
      client,
      from: fromMs,
      to: toMs,
      ...(sampler
        ? {
            onProgress: () => sampler.sample(),
            onStep: (step: string) => (step === 'ledger-written' ? sampler.sampleAfterGc() : undefined),
          }
        : {}),
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  const mainCpuMs = threadCpu() - thread0;
  const encoded = parquetWorkerStats();
  const memory = await sampler?.stop();
  const stats = await server.stats();
  if (result.status !== 'complete' || result.events !== expected) {
    console.log(
      `!! ingest of ${fmt.int(expected)} events: status ${result.status}, events ${result.events}, failures ${JSON.stringify(result.failures)}`,
    );
  }
  return {
    events: result.events,
    ms,
    pages: result.pages,
    result,
    ...(memory ? { memory } : {}),
    cpuMs: (cpu.user + cpu.system) / 1000,
    mainCpuMs,
    encodedIn: { worker: encoded.worker - encoded0.worker, main: encoded.main - encoded0.main },
    load: [load0, loadAverage()],
    server: stats,
    archiveDir,
  };
}

/** The same pipeline with a client that parses each page and drops its items: no Parquet is written. */
async function fetchOnlyRun(server: BenchServer, fromMs: number, toMs: number): Promise<FetchOnlyRun> {
  const inner = await ourClient(server);
  let events = 0;
  const drop = (page: Page<ArchiveRecord>): Page<ArchiveRecord> => {
    events += page.items.length;
    return { items: [], nextToken: page.nextToken };
  };
  // The same calls as the pipeline makes: deferred pages where the client has them.
  const deferred = inner.listPageDeferred?.bind(inner);
  const client: SourceClient = {
    listPage: async (request) => drop(await inner.listPage(request)),
    ...(deferred
      ? {
          listPageDeferred: async (request) => {
            const page = await deferred(request);
            return { nextTokenGuess: page.nextTokenGuess, read: async () => drop(await page.read()) };
          },
        }
      : {}),
  };
  collectGarbage();
  const load0 = loadAverage();
  const cpu0 = process.cpuUsage();
  const { ms, value: result } = await timed(() =>
    ingestInstance({
      source: codecatalyst,
      instance: server.space,
      store: new LocalStore(tempDir('fetch-only')),
      client,
      from: fromMs,
      to: toMs,
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return {
    events,
    pages: result.pages,
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    load: [load0, loadAverage()],
  };
}

export async function ingestSection(): Promise<{ figures: IngestFigures; checks: Check[] }> {
  const { fromMs, toMs } = benchRange();
  const concurrency = DEFAULT_SETTINGS.maxConcurrency;

  // ---- 100k: naive vs ours
  const s100k = await startServer(100_000, SEED_100K, fromMs, toMs);
  let naive: IngestFigures['naive'];
  let ours100k: OurRun;
  let ours100kWarm: OurRun;
  let memory100k: OurRun;
  let fetchOnly100k: FetchOnlyRun;
  let jsonl100k: JsonlStats;
  try {
    note('naive sequential SDK paginator over 100k events (about 25 s)…');
    await s100k.resetStats();
    const n = await naiveRun(s100k, fromMs, toMs);
    naive = { ...n, server: await s100k.stats() };
    note('ingestInstance over 100k events…');
    ours100k = await ourRun(s100k, 100_000, fromMs, toMs);
    note('ingestInstance over 100k events again, warm (fresh archive)…');
    ours100kWarm = await ourRun(s100k, 100_000, fromMs, toMs);
    note('ingestInstance over 100k events once more, with the heap after a full GC at each day commit…');
    memory100k = await ourRun(s100k, 100_000, fromMs, toMs, { heapAtCommits: true });
    note('fetch-only pipeline over 100k events…');
    fetchOnly100k = await fetchOnlyRun(s100k, fromMs, toMs);
    jsonl100k = await s100k.jsonl();
  } finally {
    await s100k.stop();
  }

  // ---- 1M backfill
  const s1m = await startServer(1_000_000, SEED_1M, fromMs, toMs);
  let ours1m: OurRun;
  let memory1m: OurRun;
  let jsonl1m: JsonlStats;
  try {
    note('ingestInstance over 1M events…');
    ours1m = await ourRun(s1m, 1_000_000, fromMs, toMs);
    note('ingestInstance over 1M events again, with the heap after a full GC at each day commit…');
    // Its full GCs (30, each over a few hundred MB) cost seconds of main-thread CPU: not the timed run.
    memory1m = await ourRun(s1m, 1_000_000, fromMs, toMs, { heapAtCommits: true });
    note('gzip JSON Lines of the 1M events, one file per day…');
    jsonl1m = await s1m.jsonl();
  } finally {
    await s1m.stop();
  }

  note('CPU per event of each commit step, on one day of the 1M archive…');
  const cpu = await cpuBreakdown(ours1m.archiveDir, (1000 * fetchOnly100k.cpuMs) / fetchOnly100k.events);
  const boundMs = (ours1m.pages * LATENCY_MS) / concurrency;
  const minPages = Math.ceil(1_000_000 / PAGE_SIZE);
  const minBoundMs = (minPages * LATENCY_MS) / concurrency;
  const m100 = memory100k.memory!;
  const m1m = memory1m.memory!;
  const serverCpuPerPage = ours1m.server.cpuMs / Math.max(1, ours1m.server.pages);
  const figures: IngestFigures = {
    range: { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), days: DAYS },
    latencyMs: LATENCY_MS,
    maxConcurrency: concurrency,
    generateMs: { events100k: s100k.generateMs, events1m: s1m.generateMs },
    naive,
    ours100k,
    ours100kWarm,
    memory100k,
    fetchOnly100k,
    ours1m,
    memory1m,
    cpu,
    jsonl100k,
    jsonl1m,
    speedup: naive.ms / ours100k.ms,
    speedupWarm: naive.ms / ours100kWarm.ms,
    speedupFetchOnly: naive.ms / fetchOnly100k.ms,
    backfill: {
      boundMs,
      ratio: ours1m.ms / boundMs,
      minPages,
      minBoundMs,
      ratioToMinBound: ours1m.ms / minBoundMs,
    },
    memory: {
      heapAfterGcRatio: m1m.maxHeapAfterGcMb / m100.maxHeapAfterGcMb,
      heapRatio: m1m.peakHeapMb / m100.peakHeapMb,
      heapAboveBaseRatio: (m1m.peakHeapMb - m1m.baseHeapMb) / (m100.peakHeapMb - m100.baseHeapMb),
      rssRatio: m1m.peakRssWorkerMb / m100.peakRssWorkerMb,
      daysInFlight: maxDaysInFlight(concurrency),
    },
    serverLoadAtBound: (serverCpuPerPage * concurrency) / LATENCY_MS,
  };
  printIngest(figures);

  const f = figures;
  return {
    figures,
    checks: [
      // Steady state, as for the paginator (latency-bound, so warm-up barely changes it); the cold
      // first run of the process is shown beside it.
      check(
        'Ingest 100k: speedup over the sequential SDK paginator (warm; cold first run)',
        `${fmt.x(f.speedupWarm)} (${fmt.s(naive.ms)} vs ${fmt.s(ours100kWarm.ms)}); cold ${fmt.x(f.speedup)}`,
        '≥ 8×',
        f.speedupWarm >= 8,
      ),
      // Issue 15's bound: the latency bound, or the CPU the run needs spread over two cores, whichever
      // is longer; the run may take at most 1.3× that.
      check(
        'Backfill 1M: time ÷ max(latency bound, CPU ÷ 2 cores)',
        `${fmt.x(ours1m.ms / Math.max(boundMs, ours1m.cpuMs / 2))} (${fmt.s(ours1m.ms)} vs latency ${fmt.s(boundMs)}, CPU ÷ 2 ${fmt.s(ours1m.cpuMs / 2)})`,
        '≤ 1.3×',
        ours1m.ms / Math.max(boundMs, ours1m.cpuMs / 2) <= 1.3,
      ),
      check(
        'Backfill 1M: ingest CPU per event (main + worker threads)',
        `${usPerEvent(ours1m.cpuMs, ours1m.events)} (main thread ${usPerEvent(ours1m.mainCpuMs, ours1m.events)}; time ÷ latency bound ${fmt.x(f.backfill.ratio)})`,
        '≤ 30 µs',
        (1000 * ours1m.cpuMs) / ours1m.events <= 30,
      ),
      check(
        'Backfill 1M: every event archived',
        `${fmt.int(ours1m.events)} (${ours1m.result.status})`,
        '1,000,000, complete',
        ours1m.events === 1_000_000 && ours1m.result.status === 'complete',
      ),
      check(
        'Memory: heap after GC at day commits, max 1M ÷ max 100k',
        `${fmt.x(f.memory.heapAfterGcRatio)} (${fmt.mb(m1m.maxHeapAfterGcMb)} vs ${fmt.mb(m100.maxHeapAfterGcMb)})`,
        '≤ 1.5× (events: 10×)',
        f.memory.heapAfterGcRatio <= 1.5,
      ),
      check(
        'Bench validity: server load if we ran at the bound',
        `${Math.round(100 * f.serverLoadAtBound)}% of a core (${serverCpuPerPage.toFixed(2)} ms CPU/page)`,
        '< 50% of a core',
        f.serverLoadAtBound < 0.5,
      ),
    ],
  };
}

/** The ingest's rule (lambdas/ingest/steps/schedule-days.ts) for how many days are fetched at once. */
function maxDaysInFlight(concurrency: number): number {
  const windowsPerDay = DAY_MS / DEFAULT_SETTINGS.sliceMs;
  return Math.max(2, Math.ceil((2 * concurrency) / windowsPerDay) + 1);
}

const pct = (part: number, whole: number): string => `${Math.round((100 * part) / whole)}%`;
const perPage = (ms: number, pages: number): string => `${(ms / Math.max(1, pages)).toFixed(1)} ms`;
const usPerEvent = (ms: number, events: number): string =>
  `${((1000 * ms) / Math.max(1, events)).toFixed(1)} µs`;

const loadText = (load: [number, number]): string => `${load[0].toFixed(1)} → ${load[1].toFixed(1)}`;

function printIngest(f: IngestFigures): void {
  heading(`1. Ingest speed: 100,000 events over ${f.range.days} days, server latency ${f.latencyMs} ms/page`);
  console.log(`range ${f.range.from} – ${f.range.to}; the fake server runs in a child process`);
  printTable(
    ['run', 'events', 'pages', 'time', 'wall/page', 'our CPU (of wall)', 'server CPU/page', 'load avg'],
    [
      [
        `SDK paginateListEventLogs, sequential, maxResults ${PAGE_SIZE}`,
        fmt.int(f.naive.events),
        fmt.int(f.naive.pages),
        fmt.s(f.naive.ms),
        perPage(f.naive.ms, f.naive.pages),
        '',
        `${(f.naive.server.cpuMs / Math.max(1, f.naive.server.pages)).toFixed(2)} ms`,
        '',
      ],
      [
        `ingestInstance, defaults (60-min slices, ≤ ${f.maxConcurrency} concurrent)`,
        fmt.int(f.ours100k.events),
        fmt.int(f.ours100k.pages),
        fmt.s(f.ours100k.ms),
        perPage(f.ours100k.ms, f.ours100k.pages),
        `${fmt.s(f.ours100k.cpuMs)} (${pct(f.ours100k.cpuMs, f.ours100k.ms)})`,
        `${(f.ours100k.server.cpuMs / Math.max(1, f.ours100k.server.pages)).toFixed(2)} ms`,
        loadText(f.ours100k.load),
      ],
      [
        'same, run again in the same process (warm)',
        fmt.int(f.ours100kWarm.events),
        fmt.int(f.ours100kWarm.pages),
        fmt.s(f.ours100kWarm.ms),
        perPage(f.ours100kWarm.ms, f.ours100kWarm.pages),
        `${fmt.s(f.ours100kWarm.cpuMs)} (${pct(f.ours100kWarm.cpuMs, f.ours100kWarm.ms)})`,
        `${(f.ours100kWarm.server.cpuMs / Math.max(1, f.ours100kWarm.server.pages)).toFixed(2)} ms`,
        loadText(f.ours100kWarm.load),
      ],
      [
        'same pipeline, fetch-only (pages parsed, items dropped)',
        fmt.int(f.fetchOnly100k.events),
        fmt.int(f.fetchOnly100k.pages),
        fmt.s(f.fetchOnly100k.ms),
        perPage(f.fetchOnly100k.ms, f.fetchOnly100k.pages),
        `${fmt.s(f.fetchOnly100k.cpuMs)} (${pct(f.fetchOnly100k.cpuMs, f.fetchOnly100k.ms)})`,
        '',
        loadText(f.fetchOnly100k.load),
      ],
    ],
  );
  const bound100k = (f.ours100k.pages * f.latencyMs) / f.maxConcurrency;
  console.log(
    `speedup: cold ${fmt.x(f.speedup)}, warm ${fmt.x(f.speedupWarm)} (target ≥ 6×); fetch-only: ${fmt.x(f.speedupFetchOnly)}; ` +
      `bound for ${f.ours100k.pages} pages: ${fmt.s(bound100k)} (best possible speedup ${fmt.x(f.naive.ms / bound100k)})`,
  );

  heading(`2. Backfill: 1,000,000 events over ${f.range.days} days, ${f.latencyMs} ms/page`);
  const o = f.ours1m;
  printTable(
    ['figure', 'value'],
    [
      ['events archived (status)', `${fmt.int(o.events)} (${o.result.status})`],
      [
        'pages fetched / throttles / retries',
        `${fmt.int(o.pages)} / ${o.result.throttles} / ${o.result.retries}`,
      ],
      ['time (load average before → after)', `${fmt.s(o.ms)} (${loadText(o.load)})`],
      [
        `bound: ${fmt.int(o.pages)} pages × ${f.latencyMs} ms ÷ ${f.maxConcurrency}`,
        `${fmt.s(f.backfill.boundMs)} → ratio ${fmt.x(f.backfill.ratio)} (target ≤ 1.2)`,
      ],
      [
        `bound with the fewest pages: ${fmt.int(f.backfill.minPages)} × ${f.latencyMs} ms ÷ ${f.maxConcurrency}`,
        `${fmt.s(f.backfill.minBoundMs)} → ratio ${fmt.x(f.backfill.ratioToMinBound)}`,
      ],
      [
        'our CPU, both threads (share of wall, per event)',
        `${fmt.s(o.cpuMs)} (${pct(o.cpuMs, o.ms)}, ${usPerEvent(o.cpuMs, o.events)})`,
      ],
      [
        'main thread CPU (share of wall, per event)',
        `${fmt.s(o.mainCpuMs)} (${pct(o.mainCpuMs, o.ms)}, ${usPerEvent(o.mainCpuMs, o.events)})`,
      ],
      [
        'days encoded in the Parquet worker / on the main thread',
        `${o.encodedIn.worker} / ${o.encodedIn.main}`,
      ],
      ['CPU budget per event to run at the bound on one core', usPerEvent(f.backfill.boundMs, o.events)],
      [
        'server CPU per page; its load if we ran at the bound',
        `${(o.server.cpuMs / Math.max(1, o.server.pages)).toFixed(2)} ms; ${Math.round(100 * f.serverLoadAtBound)}% of a core (peak ${o.server.maxInFlight} in flight)`,
      ],
    ],
  );
  console.log(
    `\nwhere our CPU goes, µs per event (commit steps timed alone, median of 3, on ${f.cpu.day}: ${fmt.int(f.cpu.events)} events):`,
  );
  printTable(
    ['step', 'thread', 'µs/event', 'share'],
    [
      ...f.cpu.steps.map((s) => [
        s.step,
        s.thread,
        s.usPerEvent.toFixed(1),
        pct(s.usPerEvent, f.cpu.totalUsPerEvent),
      ]),
      [
        'sum, main thread',
        'main',
        f.cpu.mainUsPerEvent.toFixed(1),
        pct(f.cpu.mainUsPerEvent, f.cpu.totalUsPerEvent),
      ],
      ['sum, both threads', '', f.cpu.totalUsPerEvent.toFixed(1), '100%'],
      [
        `measured in the 1M run, main thread (includes GC, ledger, file writes)`,
        'main',
        ((1000 * o.mainCpuMs) / o.events).toFixed(1),
        '',
      ],
      [`measured in the 1M run, both threads`, '', ((1000 * o.cpuMs) / o.events).toFixed(1), ''],
      [
        `budget at the bound (${fmt.int(o.pages)} pages)`,
        'main',
        ((1000 * f.backfill.boundMs) / o.events).toFixed(1),
        '',
      ],
    ],
  );

  console.log(
    '\nmemory: process.memoryUsage() every 50 ms on the main thread and at every progress callback;',
  );
  console.log(
    '"rss (worker)" is sampled by a worker thread, which keeps sampling while the main thread encodes.',
  );
  const row = (name: string, m: MemoryPeaks): string[] => [
    name,
    fmt.mb(m.baseHeapMb),
    fmt.mb(m.peakHeapMb),
    fmt.mb(m.peakHeapMb - m.baseHeapMb),
    fmt.mb(m.peakRssMb),
    fmt.mb(m.peakRssWorkerMb),
    String(m.samples),
    `${fmt.mb(m.maxHeapAfterGcMb)} (${m.gcSamples})`,
  ];
  printTable(
    [
      'run',
      'heap before',
      'peak heap',
      'peak − before',
      'peak rss',
      'peak rss (worker)',
      'samples',
      'max heap after GC (commits)',
    ],
    [row('100k events', f.memory100k.memory!), row('1M events', f.memory1m.memory!)],
  );
  console.log(
    `heap after GC at day commits, max 1M ÷ max 100k: ${fmt.x(f.memory.heapAfterGcRatio)} (the measure); ` +
      `peak heap 1M ÷ 100k: ${fmt.x(f.memory.heapRatio)} (above the pre-run heap: ${fmt.x(f.memory.heapAboveBaseRatio)}); ` +
      `peak rss: ${fmt.x(f.memory.rssRatio)}; events: 10×; days in flight: ${f.memory.daysInFlight} ` +
      `(~${fmt.int((f.memory.daysInFlight * 1_000_000) / f.range.days)} events at 1M, ~${fmt.int((f.memory.daysInFlight * 100_000) / f.range.days)} at 100k)`,
  );
}
