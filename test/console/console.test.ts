/**
 * The web console in a real browser (Debian's Chromium through playwright-core) against `serve` over
 * archives built by the real ingest: what the page shows is checked against what the official SDK's
 * paginator returns for the same question; gaps, tampering and hostile archive text are made on
 * purpose. Screenshots of each view at 1280×800 go to test-results/console/ for a reviewer.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CodeCatalystClient, paginateListEventLogs } from '@aws-sdk/client-codecatalyst';
import axe from 'axe-core';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, SCREENSHOT_DIR, type TestBrowser } from '../../bench/browser';
import { type RunningServer, startServer } from '../../bin/commands/serve';
import { DAY_MS } from '../../lambdas/shared/src/time';
import { pinnedClock } from '../helpers/clock';
import {
  buildConsoleArchives,
  GAP_DAY,
  HOSTILE,
  NOW,
  OTHER,
  SPACE,
  SYSTEM_ARN,
  TAMPERED_DAY,
} from './fixture';

let work: string;
let clean: RunningServer;
let damaged: RunningServer;
let chrome: TestBrowser;
let context: BrowserContext;

// A fixed range (custom, so the page and the SDK ask exactly the same question): 10 days.
const FROM = NOW - 12 * DAY_MS;
const TO = NOW - 2 * DAY_MS;
const iso = (ms: number): string => new Date(ms).toISOString();

function eventsUrl(server: RunningServer, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams({
    view: 'events',
    source: 'codecatalyst',
    instance: SPACE,
    range: 'custom',
    from: iso(FROM),
    to: iso(TO),
    ...extra,
  });
  return `${server.url}/?${params}`;
}

/** Every event id the official SDK's paginator yields for a question, in order. */
async function sdkIds(server: RunningServer, filters: Record<string, string> = {}): Promise<string[]> {
  const client = new CodeCatalystClient({
    endpoint: server.url,
    region: 'us-east-1',
    token: { token: 'local' },
  });
  // The SDK does not know the archive's extra filters: they ride in the body through a middleware.
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { body?: string };
      if (typeof request.body === 'string' && Object.keys(filters).length > 0)
        request.body = JSON.stringify({ ...JSON.parse(request.body), ...filters });
      return next(args);
    },
    // Before the content-length middleware of the same step, which must measure the final body.
    { step: 'build', priority: 'high', name: 'extraFilters' },
  );
  const ids: string[] = [];
  for await (const page of paginateListEventLogs(
    { client, pageSize: 250 },
    {
      spaceName: SPACE,
      startTime: new Date(FROM),
      endTime: new Date(TO),
      ...(filters.eventName ? { eventName: filters.eventName } : {}),
    },
  ))
    for (const item of page.items ?? []) ids.push(item.id!);
  client.destroy();
  return ids;
}

/** A page that fails the test on any console error, page error or request to another origin. */
async function openPage(): Promise<{ page: Page; problems: string[] }> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning')
      problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(clean.url) && !url.startsWith(damaged.url)) problems.push(`request to ${url}`);
  });
  return { page, problems };
}

async function histogramTotal(page: Page): Promise<number> {
  const text = await page.getByTestId('histogram-total').textContent();
  return Number((text ?? '').replace(/,/g, ''));
}

async function tableIds(page: Page): Promise<string[]> {
  return page
    .locator('table.events tbody tr')
    .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-event-id') ?? ''));
}

/** Reads the whole table, clicking "Next page" until it is disabled. */
async function pageToTheEnd(page: Page): Promise<string[]> {
  const ids: string[] = [];
  for (let n = 1; ; n++) {
    await page.locator(`table.events[data-page="${n}"][data-loading="false"]`).waitFor();
    ids.push(...(await tableIds(page)));
    const next = page.getByTestId('next-page');
    if (await next.isDisabled()) return ids;
    await next.click();
  }
}

async function expectAccessible(page: Page, view: string): Promise<void> {
  // Evaluated through the DevTools protocol: the page's CSP (no inline script) does not apply to it.
  await page.evaluate(axe.source);
  const result = (await page.evaluate(() =>
    (globalThis as unknown as { axe: typeof axe }).axe.run(),
  )) as axe.AxeResults;
  const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(
    serious.map(
      (v) =>
        `${view}: ${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => `${n.target.join(' ')} (${n.failureSummary?.replace(/\s+/g, ' ')})`).join('; ')}`,
    ),
  ).toEqual([]);
}

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: false });
}

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'console-e2e-'));
  const { clean: cleanDir, damaged: damagedDir } = await buildConsoleArchives(work);
  const quiet = { logger: undefined };
  process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
  clean = await startServer({ archive: cleanDir, port: 0, clock: pinnedClock(NOW), ...quiet });
  damaged = await startServer({ archive: damagedDir, port: 0, clock: pinnedClock(NOW), ...quiet });
  chrome = await launchChromium();
  context = await chrome.browser.newContext({
    viewport: { width: 1280, height: 800 },
    locale: 'en-US',
    timezoneId: 'Europe/Berlin',
  });
}, 120_000);

afterAll(async () => {
  await context?.close();
  await chrome?.close();
  await clean?.close();
  await damaged?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the console page', () => {
  it('is served at / to a browser, while API clients still get JSON there and at /health', async () => {
    const html = await fetch(`${clean.url}/`, {
      headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' },
    });
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html.headers.get('content-security-policy')).toContain("script-src 'self'");
    for (const accept of ['application/json', '*/*']) {
      const api = await fetch(`${clean.url}/`, { headers: { accept } });
      expect(api.headers.get('content-type')).toMatch(/^application\/json/);
      expect(((await api.json()) as { service: string }).service).toBe('eventlog-archive');
    }
    const health = await fetch(`${clean.url}/health`);
    expect(((await health.json()) as { service: string }).service).toBe('eventlog-archive');
  });

  it('opens on the first archived space with no console errors and no request to another origin', async () => {
    const { page, problems } = await openPage();
    await page.goto(`${clean.url}/`);
    await expect.poll(() => new URL(page.url()).searchParams.get('instance')).toBe(SPACE);
    await page.getByTestId('histogram-total').waitFor();
    await page.locator('table.events tbody tr').first().waitFor();
    expect(problems).toEqual([]);
    await page.close();
  });
});

describe('events', () => {
  it('counts in the histogram exactly what the SDK pages through, and the table pages to the same events', async () => {
    const { page, problems } = await openPage();
    await page.goto(eventsUrl(clean));
    const expected = await sdkIds(clean);
    expect(expected.length).toBeGreaterThan(500);
    await expect.poll(() => histogramTotal(page)).toBe(expected.length);
    const read = Number(((await page.getByTestId('histogram-read').textContent()) ?? '').replace(/,/g, ''));
    const write = Number(((await page.getByTestId('histogram-write').textContent()) ?? '').replace(/,/g, ''));
    const failed = Number(
      ((await page.getByTestId('histogram-failed').textContent()) ?? '').replace(/,/g, ''),
    );
    expect(read + write + failed).toBe(expected.length);
    await screenshot(page, 'events');
    expect(await pageToTheEnd(page)).toEqual(expected);
    expect(problems).toEqual([]);
    await expectAccessible(page, 'events');
    await page.close();
  });

  it('opens an event in full, and "Only this user" narrows both the chart and the table', async () => {
    const { page, problems } = await openPage();
    await page.goto(eventsUrl(clean));
    const row = page.locator('table.events tbody tr').nth(3);
    const id = (await row.getAttribute('data-event-id'))!;
    await row.getByRole('button').click();
    const json = JSON.parse((await page.getByTestId('event-json').textContent())!) as {
      id: string;
      userIdentity: { userName: string };
    };
    expect(json.id).toBe(id);
    expect(new URL(page.url()).searchParams.get('event')).toBe(id);
    await screenshot(page, 'event-detail');
    await expectAccessible(page, 'event detail');

    const user = json.userIdentity.userName;
    const before = await histogramTotal(page);
    await page.getByRole('button', { name: 'Only this user' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('userName')).toBe(user);
    const expected = await sdkIds(clean, { userName: user });
    expect(expected.length).toBeLessThan(before);
    await expect.poll(() => histogramTotal(page)).toBe(expected.length);
    const users = await page.locator('table.events tbody tr td:nth-child(3)').allTextContents();
    expect(new Set(users)).toEqual(new Set([user]));
    expect(problems).toEqual([]);
    await page.close();
  });

  it('keeps the whole state in the URL: a pasted link opens the same filters and event', async () => {
    const expected = await sdkIds(clean, { operationType: 'MUTATION' });
    const { page } = await openPage();
    await page.goto(eventsUrl(clean, { operationType: 'MUTATION' }));
    await page.locator('table.events tbody tr').first().waitFor();
    const id = (await page.locator('table.events tbody tr').nth(1).getAttribute('data-event-id'))!;
    await page.locator('table.events tbody tr').nth(1).getByRole('button').click();
    await page.getByTestId('event-json').waitFor();
    const link = page.url();
    const { page: second } = await openPage();
    await second.goto(link);
    await expect.poll(() => histogramTotal(second)).toBe(expected.length);
    await expect(second.locator('select[name="operationType"]').inputValue()).resolves.toBe('MUTATION');
    expect(JSON.parse((await second.getByTestId('event-json').textContent())!).id).toBe(id);
    await page.close();
    await second.close();
  });

  it('narrows the range to the buckets dragged over on the histogram', async () => {
    const { page } = await openPage();
    await page.goto(eventsUrl(clean));
    await page.getByTestId('histogram-total').waitFor();
    const over = page.locator('.histogram .u-over');
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.4, box.y + box.height / 2, { steps: 8 });
    await page.mouse.up();
    await expect.poll(() => new URL(page.url()).searchParams.get('from')).not.toBe(iso(FROM));
    const from = Date.parse(new URL(page.url()).searchParams.get('from')!);
    const to = Date.parse(new URL(page.url()).searchParams.get('to')!);
    expect(from).toBeGreaterThan(FROM);
    expect(to).toBeLessThan(TO);
    // Whole days (the 10-day range is bucketed by day).
    expect(from % DAY_MS).toBe(0);
    expect(to % DAY_MS).toBe(0);
    await page.close();
  });

  it('shows hostile archive text as text and runs none of it', async () => {
    const { page, problems } = await openPage();
    await page.goto(eventsUrl(clean, { userName: HOSTILE.userName }));
    const row = page.locator(`tr[data-event-id="${HOSTILE.id}"]`);
    await row.waitFor();
    await expect(row.locator('td').nth(1).textContent()).resolves.toBe(HOSTILE.eventName);
    await expect(row.locator('td').nth(2).textContent()).resolves.toBe(HOSTILE.userName);
    await row.getByRole('button').click();
    await expect(page.getByTestId('event-json').textContent()).resolves.toContain(
      HOSTILE.payload.slice(10, 40).replace(/"/g, '\\"'),
    );
    await expect(page.getByText('window.__pwned=4', { exact: false }).count()).resolves.toBeGreaterThan(0);
    // Nothing from the archive became markup: no script, image, iframe or bold element came from it.
    expect(
      await page.locator('main script, main img, main iframe, main b, main marquee, main svg').count(),
    ).toBe(0);
    await page.mouse.move(10, 10);
    expect(
      await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned),
    ).toBeUndefined();
    expect(problems).toEqual([]);
    await page.close();
  });

  it('can be used with the keyboard alone: open an event with Enter, close it with Escape', async () => {
    const { page } = await openPage();
    await page.goto(eventsUrl(clean));
    await page.locator('table.events tbody tr').first().waitFor();
    const target = page.locator('table.events tbody tr').first().getByRole('button');
    for (
      let i = 0;
      i < 80 &&
      !(await target.evaluate(
        (el) =>
          el === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement,
      ));
      i++
    )
      await page.keyboard.press('Tab');
    expect(
      await target.evaluate(
        (el) =>
          el === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement,
      ),
    ).toBe(true);
    await page.keyboard.press('Enter');
    await page.getByTestId('event-json').waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('event-json').count()).toBe(0);
    await page.close();
  });

  it('stays readable in a narrow window', async () => {
    const narrow = await chrome.browser.newContext({ viewport: { width: 390, height: 800 } });
    const page = await narrow.newPage();
    await page.goto(eventsUrl(clean));
    await page.locator('table.events tbody tr').first().waitFor();
    // The page itself never scrolls sideways; only the table's own box may.
    expect(
      await page.evaluate(
        () =>
          (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document
            .documentElement.scrollWidth,
      ),
    ).toBeLessThanOrEqual(390);
    await screenshot(page, 'events-narrow');
    await narrow.close();
  });
});

describe('Resilience Hub events', () => {
  const TYPES = ['SYSTEM_SERVICE_ASSOCIATED', 'SYSTEM_POLICY_ASSOCIATED'];

  /** Every event id ListSystemEvents pages through for the range and event types, in order. */
  async function listSystemEventIds(): Promise<string[]> {
    const ids: string[] = [];
    let nextToken: string | undefined;
    do {
      const params = new URLSearchParams({
        systemArn: SYSTEM_ARN,
        startTime: iso(FROM),
        endTime: iso(TO),
        maxResults: '100',
      });
      for (const type of TYPES) params.append('eventTypes', type);
      if (nextToken) params.set('nextToken', nextToken);
      const page = (await (await fetch(`${clean.url}/v2/list-system-events?${params}`)).json()) as {
        events: { eventId: string }[];
        nextToken?: string;
      };
      ids.push(...page.events.map((e) => e.eventId));
      nextToken = page.nextToken;
    } while (nextToken);
    return ids;
  }

  it("shows a system's events of chosen types, counted and paged as ListSystemEvents pages them", async () => {
    const { page, problems } = await openPage();
    const params = new URLSearchParams({
      view: 'events',
      source: 'resiliencehub',
      instance: SYSTEM_ARN,
      range: 'custom',
      from: iso(FROM),
      to: iso(TO),
    });
    for (const type of TYPES) params.append('eventTypes', type);
    await page.goto(`${clean.url}/?${params}`);
    const expected = await listSystemEventIds();
    expect(expected.length).toBeGreaterThan(10);
    await expect.poll(() => histogramTotal(page)).toBe(expected.length);
    for (const type of TYPES)
      await expect(page.getByRole('checkbox', { name: type }).isChecked()).resolves.toBe(true);
    expect(await pageToTheEnd(page)).toEqual(expected);
    const types = await page.locator('table.events tbody tr td:nth-child(2)').allTextContents();
    expect(types.length).toBeGreaterThan(0);
    for (const type of types) expect(TYPES).toContain(type);
    await page.locator('table.events tbody tr').first().getByRole('button').click();
    const json = JSON.parse((await page.getByTestId('event-json').textContent())!) as { systemArn: string };
    expect(json.systemArn).toBe(SYSTEM_ARN);
    await screenshot(page, 'events-resiliencehub');
    await expectAccessible(page, 'Resilience Hub events');
    expect(problems).toEqual([]);
    await page.close();
  });
});

describe('coverage', () => {
  it('shows a clean instance as covered', async () => {
    const { page, problems } = await openPage();
    await page.goto(`${clean.url}/?view=coverage&source=codecatalyst&instance=${SPACE}`);
    await page.getByTestId('calendar').waitFor();
    await expect(page.getByTestId('no-gaps').count()).resolves.toBe(1);
    expect(await page.locator('.cell[data-status="gap"]').count()).toBe(0);
    await screenshot(page, 'coverage');
    await expectAccessible(page, 'coverage');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows a window cut from the ledger as a gap, on the day and in its hours', async () => {
    const { page } = await openPage();
    await page.goto(`${damaged.url}/?view=coverage&source=codecatalyst&instance=${OTHER}`);
    await page.getByTestId('gap-banner').waitFor();
    await expect(page.getByTestId('gap').first().textContent()).resolves.toContain(`${GAP_DAY} 10:00:00 UTC`);
    const day = page.locator(`.cell[data-day="${GAP_DAY}"]`);
    await expect(day.getAttribute('data-status')).resolves.toBe('gap');
    await day.click();
    await page.getByTestId('hours').waitFor();
    const statuses = await page
      .locator('[data-testid="hours"] li')
      .evaluateAll((cells) => cells.map((c) => c.getAttribute('data-status')));
    expect(statuses).toHaveLength(24);
    expect(statuses[10]).toBe('gap');
    expect(statuses.filter((s) => s === 'gap')).toHaveLength(1);
    await screenshot(page, 'coverage-gap');
    await expectAccessible(page, 'coverage with a gap');
    await page.close();
  });
});

describe('integrity', () => {
  it('reports an intact archive', async () => {
    const { page, problems } = await openPage();
    await page.goto(`${clean.url}/?view=integrity`);
    await page.getByRole('button', { name: 'Verify the archive' }).click();
    await page.getByTestId('verify-ok').waitFor();
    await expect(page.getByTestId('key-fingerprint').textContent()).resolves.toMatch(/^SHA256:/);
    expect(await page.getByTestId('instance-report').count()).toBe(3);
    await screenshot(page, 'integrity');
    await expectAccessible(page, 'integrity');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('reports a data file changed after sealing, with its kind, day and key', async () => {
    const { page } = await openPage();
    await page.goto(`${damaged.url}/?view=integrity`);
    await page.getByRole('button', { name: 'Verify the archive' }).click();
    await page.getByTestId('verify-failed').waitFor();
    const rows = await page.locator('[data-testid="problems"] tbody tr').allTextContents();
    const tampered = rows.find(
      (r) => r.includes(TAMPERED_DAY) && r.includes(`space=${OTHER}/dt=${TAMPERED_DAY}/events.parquet`),
    );
    expect(tampered, rows.join('\n')).toBeDefined();
    await screenshot(page, 'integrity-tampered');
    await page.close();
  });
});
