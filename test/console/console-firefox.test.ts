/**
 * The console in Firefox (Debian's firefox-esr through puppeteer-core and WebDriver BiDi): the same
 * page loads without errors or foreign requests, counts what the SDK counts, pages, opens an event,
 * and shows coverage. The full behaviour is tested in Chromium (console.test.ts); this checks that
 * nothing in it is Chromium-only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchFirefox } from '../../bench/browser';
import { type RunningServer, startServer } from '../../bin/commands/serve';
import { DAY_MS } from '../../lambdas/shared/src/time';
import { pinnedClock } from '../helpers/clock';
import { buildArchive } from '../integration/query/api-fixture';
import { NOW, SPACE, spaceEvents } from './fixture';

let work: string;
let server: RunningServer;
let firefox: Browser;
const FROM = NOW - 12 * DAY_MS;
const TO = NOW - 2 * DAY_MS;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'console-firefox-'));
  await buildArchive(work, { [SPACE]: spaceEvents()[SPACE]! }, NOW);
  process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
  server = await startServer({ archive: work, port: 0, clock: pinnedClock(NOW) });
  firefox = await launchFirefox();
}, 120_000);

afterAll(async () => {
  await firefox?.close();
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Waits for `selector`, failing with what the page logged and shows when it never appears. */
async function shown(page: Page, problems: string[], selector: string): Promise<void> {
  try {
    await page.waitForSelector(selector);
  } catch (err) {
    const text = await page
      .evaluate(
        () =>
          (globalThis as unknown as { document: { body: { innerText: string } } }).document.body.innerText,
      )
      .catch(() => '?');
    throw new Error(
      `${selector} not shown: ${String(err)}; page: ${text.slice(0, 500)}; problems: ${problems.join(' | ')}`,
    );
  }
}

async function openPage(): Promise<{ page: Page; problems: string[] }> {
  const page = await firefox.newPage();
  // A first start of Firefox on a busy machine (its caches built, two browsers in parallel) is slow.
  page.setDefaultTimeout(90_000);
  await page.setViewport({ width: 1280, height: 800 });
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warn')
      problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${String(err)}`));
  page.on('request', (request) => {
    if (!request.url().startsWith(server.url)) problems.push(`request to ${request.url()}`);
  });
  return { page, problems };
}

/** The number of events the list route has for the range, paged with its own nextToken. */
async function apiCount(): Promise<number> {
  let total = 0;
  let nextToken: string | undefined;
  do {
    const response = await fetch(`${server.url}/v1/spaces/${SPACE}/eventLogs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        startTime: new Date(FROM).toISOString(),
        endTime: new Date(TO).toISOString(),
        maxResults: 250,
        ...(nextToken ? { nextToken } : {}),
      }),
    });
    const page = (await response.json()) as { items: unknown[]; nextToken?: string };
    total += page.items.length;
    nextToken = page.nextToken;
  } while (nextToken);
  return total;
}

describe('the console in Firefox', { timeout: 180_000 }, () => {
  it('shows the events view: histogram, table pages and an event in full', async () => {
    const { page, problems } = await openPage();
    const params = new URLSearchParams({
      view: 'events',
      source: 'codecatalyst',
      instance: SPACE,
      range: 'custom',
      from: new Date(FROM).toISOString(),
      to: new Date(TO).toISOString(),
    });
    await page.goto(`${server.url}/?${params}`);
    await shown(page, problems, '[data-testid="histogram-total"]');
    const total = await page.$eval('[data-testid="histogram-total"]', (e) => e.textContent ?? '');
    expect(Number(total.replace(/,/g, ''))).toBe(await apiCount());
    // The chart drew (uPlot's canvas has a size).
    const canvas = await page.$eval('.histogram canvas', (c) => (c as unknown as { width: number }).width);
    expect(canvas).toBeGreaterThan(200);

    await page.waitForSelector('table.events[data-page="1"][data-loading="false"]');
    const first = await page.$$eval('table.events tbody tr', (rows) =>
      rows.map((r) => r.getAttribute('data-event-id')),
    );
    expect(first).toHaveLength(100);
    await page.click('[data-testid="next-page"]');
    await page.waitForSelector('table.events[data-page="2"][data-loading="false"]');
    const second = await page.$$eval('table.events tbody tr', (rows) =>
      rows.map((r) => r.getAttribute('data-event-id')),
    );
    expect(second).toHaveLength(100);
    expect(second.filter((id) => first.includes(id))).toEqual([]);

    await page.click('table.events tbody tr:first-child button');
    await page.waitForSelector('[data-testid="event-json"]');
    const json = JSON.parse(await page.$eval('[data-testid="event-json"]', (e) => e.textContent ?? '')) as {
      id: string;
    };
    expect(json.id).toBe(second[0]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows the coverage calendar', async () => {
    const { page, problems } = await openPage();
    await page.goto(`${server.url}/?view=coverage&source=codecatalyst&instance=${SPACE}`);
    await shown(page, problems, '[data-testid="calendar"]');
    expect(await page.$$eval('.cell[data-status="covered"]', (cells) => cells.length)).toBeGreaterThan(25);
    expect(await page.$$eval('[data-testid="no-gaps"]', (n) => n.length)).toBe(1);
    expect(problems).toEqual([]);
    await page.close();
  });
});
