/**
 * Console figures: the size of the console's scripts as a browser downloads them (gzip), and the
 * time from navigation to the first page with data (HTML, scripts, instances, histogram and the first
 * table page) in headless Chromium, against a running `serve` over the bench's archive.
 */
import { gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { consoleAssets } from '../bin/commands/console-assets';
import { startServer } from '../bin/commands/serve';
import { launchChromium } from './browser';
import { type Check, check, fmt, median } from './util';

export interface ConsoleFigures {
  scriptGzipBytes: number;
  styleGzipBytes: number;
  /** Navigation to histogram and first table page shown, first load after the server started. */
  firstPageColdMs: number;
  /** The same in a fresh browser context each time (no browser cache), median of five. */
  firstPageMs: number;
}

const SCRIPT_LIMIT = 300 * 1024;
const PAGE_LIMIT_MS = 1_000;

/**
 * Starts `serve` over `archiveDir` (a fresh server, as a person has after `serve` or `npm start`),
 * then loads `pagePath` in fresh browser contexts, timing each until the histogram and the table
 * show data.
 */
export async function consoleSection(
  archiveDir: string,
  pagePath: string,
): Promise<{ figures: ConsoleFigures; checks: Check[]; rows: string[][] }> {
  const server = await startServer({ archive: archiveDir, port: 0 });
  const url = `${server.url}${pagePath}`;
  const assets = await consoleAssets();
  const gz = (name: string): number =>
    gzipSync(assets.get(name)?.body ?? Buffer.alloc(0), { level: 6 }).length;
  const scriptGzipBytes = gz('/assets/main.js');
  const styleGzipBytes = gz('/assets/main.css');
  const chrome = await launchChromium();
  const times: number[] = [];
  let firstLoad: { name: string; startMs: number; ms: number }[] = [];
  try {
    for (let i = 0; i < 6; i++) {
      const context = await chrome.browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      const started = performance.now();
      await page.goto(url);
      await page.getByTestId('histogram-total').waitFor();
      await page.locator('table.events tbody tr').first().waitFor();
      times.push(performance.now() - started);
      if (i === 0) firstLoad = await requestTimings(page);
      await context.close();
    }
  } finally {
    await chrome.close();
    await server.close();
  }
  const figures: ConsoleFigures = {
    scriptGzipBytes,
    styleGzipBytes,
    firstPageColdMs: times[0]!,
    firstPageMs: median(times.slice(1)),
  };
  const requests = firstLoad
    .map((r) => `${r.name} ${r.ms.toFixed(0)} ms (at ${r.startMs.toFixed(0)})`)
    .join(', ');
  const rows = [
    [
      'console script (gzip)',
      `${fmt.int(Math.round(scriptGzipBytes / 1024))} KB`,
      `stylesheet ${fmt.int(Math.round(styleGzipBytes / 1024))} KB`,
    ],
    [
      'first page with data, first load',
      `${figures.firstPageColdMs.toFixed(0)} ms`,
      'HTML, scripts, instances, histogram, 100 rows',
    ],
    ['first load, its requests', '', requests],
    [
      'first page with data, median of 5',
      `${figures.firstPageMs.toFixed(0)} ms`,
      'fresh browser context each time',
    ],
  ];
  const checks = [
    check(
      'console scripts gzip',
      `${(scriptGzipBytes / 1024).toFixed(1)} KB`,
      '< 300 KB',
      scriptGzipBytes < SCRIPT_LIMIT,
    ),
    check(
      'console first page with data (1M events, 30 days)',
      `${figures.firstPageColdMs.toFixed(0)} ms first, ${figures.firstPageMs.toFixed(0)} ms median`,
      '< 1000 ms',
      Math.max(figures.firstPageColdMs, figures.firstPageMs) < PAGE_LIMIT_MS,
    ),
  ];
  return { figures, checks, rows };
}

/** The page's requests after the document, from the browser's Resource Timing: what a load waited for. */
async function requestTimings(page: Page): Promise<{ name: string; startMs: number; ms: number }[]> {
  const entries = await page.evaluate(() =>
    (
      globalThis as unknown as {
        performance: {
          getEntriesByType(type: string): { name: string; startTime: number; duration: number }[];
        };
      }
    ).performance
      .getEntriesByType('resource')
      .map((e) => ({ name: e.name, startMs: e.startTime, ms: e.duration })),
  );
  return entries.map((e) => ({
    ...e,
    name: new URL(e.name).pathname.replace(/^\/v1\/spaces\/[^/]+/, '/v1/spaces/…'),
  }));
}
