/**
 * Pages bounded by bytes as well as by count: a page of large events must fit Lambda's 6 MB
 * synchronous response (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html),
 * so the list handlers return fewer items and a nextToken once a page reaches its byte budget. Runs
 * the real handler (the Lambda entry's createHandler, and the shared router `serve` uses) over the
 * DuckDB engine and archives built by the real ingest, for both routes: every page within the
 * budget, and paging to the end yields every event exactly once, in archive order.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStore } from '../../../lambdas/core/local-store';
import { ingestInstance } from '../../../lambdas/ingest/ingest-instance';
import { resiliencehub } from '../../../lambdas/ingest/sources/resiliencehub';
import { type ApiDeps, handleApiRequest } from '../../../lambdas/query/api';
import { storeCatalog } from '../../../lambdas/query/catalog';
import { createDuckDbEngine } from '../../../lambdas/query/duckdb-engine';
import type { QueryEngine } from '../../../lambdas/query/engine';
import { createHandler } from '../../../lambdas/query/index';
import { carriedBytes, DEFAULT_PAGE_BYTES, itemsWithinBudget } from '../../../lambdas/query/list-event-logs';
import { LIST_SYSTEM_EVENTS_PATH } from '../../../lambdas/query/list-system-events';
import { NextTokenCodec } from '../../../lambdas/query/next-token';
import { DAY_MS, HOUR_MS } from '../../../lambdas/shared/src/time';
import { pinnedClock } from '../../helpers/clock';
import { startResilienceHubServer, TEST_CREDENTIALS } from '../../support/resiliencehub-server';
import { type EventLogEntryWire, generateEvents } from '../../support/sample-events';
import { generateSystemEvents, type SystemEventWire } from '../../support/sample-system-events';
import { buildArchive, inArchiveOrder } from './api-fixture';

const NOW = Date.UTC(2026, 6, 1, 12);
const clock = pinnedClock(NOW);
const FROM = NOW - 2 * DAY_MS;
const RANGE = { startTime: new Date(FROM).toISOString(), endTime: new Date(NOW).toISOString() };
const KEY = new Uint8Array(Buffer.from('page-limits-token-key-0123456789'));
/** Lambda's limit read as decimal megabytes, the stricter reading of "6 MB". */
const LAMBDA_RESPONSE_LIMIT = 6_000_000;
/** A small budget for the tests: a few large events per page. */
const SMALL_BUDGET = 120_000;
const SPACE = 'bulky-space';
const BIG_SPACE = 'huge-space';
const ARN = 'arn:aws:resiliencehub:us-west-2:123456789012:system/bulky';

/**
 * `bytes` of JSON-ish text full of quotes and backslashes (which the Lambda proxy response escapes),
 * and of 3-byte characters.
 */
function bulk(bytes: number, tag: string): string {
  const unit = '{"k":"v\\\\n","€":[1,2]} ';
  return `${tag}:${unit.repeat(Math.ceil(bytes / Buffer.byteLength(unit, 'utf8')))}`;
}

let dir: string;
let ccEvents: EventLogEntryWire[];
let bigEvents: EventLogEntryWire[];
let rhEvents: SystemEventWire[];
let engine: QueryEngine;
let deps: ApiDeps;

/** Events of about 20–60 KB each, one of 300 KB (larger than the small budget on its own). */
function bulkyEvents(): EventLogEntryWire[] {
  const events = generateEvents({ count: 40, fromMs: FROM, toMs: NOW - HOUR_MS, seed: 81 });
  for (const [i, event] of events.entries()) {
    const size = i === 17 ? 300_000 : 20_000 + ((i * 7919) % 40_000);
    event.requestPayload = { contentType: 'application/json', data: bulk(size, event.id) };
  }
  return events;
}

/** 260 events of about 30 KB: a full page of 250 would be far over 6 MB once escaped. */
function hugeEvents(): EventLogEntryWire[] {
  const events = generateEvents({ count: 260, fromMs: FROM, toMs: NOW - HOUR_MS, seed: 82 });
  for (const event of events)
    event.responsePayload = { contentType: 'application/json', data: bulk(30_000, event.id) };
  return events;
}

async function buildSystemArchive(into: string): Promise<SystemEventWire[]> {
  const generated = generateSystemEvents({
    count: 40,
    fromMs: FROM,
    toMs: NOW - HOUR_MS,
    systemArn: ARN,
    seed: 83,
  });
  for (const [i, event] of generated.entries()) {
    const size = i === 23 ? 300_000 : 20_000 + ((i * 6151) % 40_000);
    event.eventDetails = { ...event.eventDetails, description: bulk(size, event.eventId) };
  }
  const rh = await startResilienceHubServer({
    systems: { [ARN]: generated },
    now: () => NOW,
    region: 'us-west-2',
  });
  try {
    const key = TEST_CREDENTIALS[0]!;
    const client = await resiliencehub.createClient({
      env: {
        AWS_ENDPOINT_URL_RESILIENCEHUBV2: rh.url,
        AWS_ACCESS_KEY_ID: key.accessKeyId,
        AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
        ...(key.sessionToken ? { AWS_SESSION_TOKEN: key.sessionToken } : {}),
      },
    });
    const source = rh.events(ARN);
    const result = await ingestInstance({
      source: resiliencehub,
      instance: ARN,
      store: new LocalStore(into),
      client,
      now: () => NOW,
      settings: { backfillDays: 5 },
    });
    if (result.status !== 'complete' || result.events !== source.length)
      throw new Error(`fixture ingest: ${result.status}, ${result.events} of ${source.length} events`);
    return source;
  } finally {
    await rh.close();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'page-limits-'));
  ccEvents = bulkyEvents();
  bigEvents = hugeEvents();
  await buildArchive(dir, { [SPACE]: ccEvents, [BIG_SPACE]: bigEvents }, NOW);
  rhEvents = await buildSystemArchive(dir);
  engine = await createDuckDbEngine(dir);
  deps = {
    engine,
    catalog: storeCatalog(new LocalStore(dir)),
    tokens: new NextTokenCodec({ keys: [KEY], now: clock }),
    now: clock,
  };
}, 120_000);

afterAll(async () => {
  await engine?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** An API Gateway proxy event as the REST API sends it to the query function. */
function proxyEvent(
  route: 'eventLogs' | 'systemEvents',
  request: { space?: string; body?: Record<string, unknown>; query?: Record<string, string> },
): APIGatewayProxyEvent {
  const query = request.query ?? null;
  return {
    httpMethod: route === 'eventLogs' ? 'POST' : 'GET',
    resource: route === 'eventLogs' ? '/v1/spaces/{spaceName}/eventLogs' : LIST_SYSTEM_EVENTS_PATH,
    path: route === 'eventLogs' ? `/v1/spaces/${request.space}/eventLogs` : LIST_SYSTEM_EVENTS_PATH,
    pathParameters: route === 'eventLogs' ? { spaceName: request.space! } : null,
    queryStringParameters: query,
    multiValueQueryStringParameters: query
      ? Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]]))
      : null,
    headers: { 'content-type': 'application/json' },
    multiValueHeaders: {},
    body: request.body ? JSON.stringify(request.body) : null,
    isBase64Encoded: false,
    stageVariables: null,
    requestContext: { requestId: 'page-limits' } as APIGatewayProxyEvent['requestContext'],
  };
}

interface Page {
  ids: string[];
  nextToken?: string;
  /** Bytes of the whole Lambda response payload, as the runtime serialises the handler's result. */
  payloadBytes: number;
  /** Bytes of the body as that payload carries it. */
  bodyBytes: number;
}

async function callLambda(
  route: 'eventLogs' | 'systemEvents',
  request: { space?: string; body?: Record<string, unknown>; query?: Record<string, string> },
  pageBytes?: number,
): Promise<Page> {
  const handler = createHandler(() => ({ ...deps, ...(pageBytes !== undefined ? { pageBytes } : {}) }));
  const result = await handler(proxyEvent(route, request));
  expect(result.statusCode, result.body.slice(0, 300)).toBe(200);
  const json = JSON.parse(result.body) as {
    items?: { id: string }[];
    events?: { eventId: string }[];
    nextToken?: string;
  };
  const ids = route === 'eventLogs' ? json.items!.map((e) => e.id) : json.events!.map((e) => e.eventId);
  return {
    ids,
    ...(json.nextToken !== undefined ? { nextToken: json.nextToken } : {}),
    payloadBytes: Buffer.byteLength(JSON.stringify(result), 'utf8'),
    bodyBytes: carriedBytes(result.body),
  };
}

async function pageAll(
  route: 'eventLogs' | 'systemEvents',
  first: { space?: string; body?: Record<string, unknown>; query?: Record<string, string> },
  pageBytes?: number,
): Promise<Page[]> {
  const pages: Page[] = [];
  let nextToken: string | undefined;
  do {
    const request =
      route === 'eventLogs'
        ? { ...first, body: { ...first.body, ...(nextToken ? { nextToken } : {}) } }
        : { ...first, query: { ...first.query, ...(nextToken ? { nextToken } : {}) } };
    const page = await callLambda(route, request, pageBytes);
    pages.push(page);
    nextToken = page.nextToken;
  } while (nextToken && pages.length < 1000);
  return pages;
}

const ccOrder = (events: EventLogEntryWire[]): string[] => inArchiveOrder(events).map((e) => e.id);
const rhOrder = (events: SystemEventWire[]): string[] =>
  [...events]
    .sort((a, b) => a.timestamp - b.timestamp || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0))
    .map((e) => e.eventId);

describe('the default page byte budget', () => {
  it('is below Lambda’s 6 MB response limit with room for the proxy envelope and the token', () => {
    expect(DEFAULT_PAGE_BYTES).toBe(5 * 1024 * 1024);
    expect(LAMBDA_RESPONSE_LIMIT - DEFAULT_PAGE_BYTES).toBeGreaterThan(512 * 1024);
  });

  it('keeps a page of 250 large events under 6 MB: fewer items and a nextToken, and paging loses none', async () => {
    // Act
    const first = await callLambda('eventLogs', { space: BIG_SPACE, body: { ...RANGE, maxResults: 250 } });
    const pages = await pageAll('eventLogs', { space: BIG_SPACE, body: { ...RANGE, maxResults: 250 } });

    // Assess: 250 of these events would be far over the limit; the page stops below it.
    expect(first.ids.length).toBeLessThan(250);
    expect(first.ids.length).toBeGreaterThan(1);
    expect(first.nextToken).toBeDefined();
    expect(first.payloadBytes).toBeLessThan(LAMBDA_RESPONSE_LIMIT);
    for (const page of pages) {
      expect(page.bodyBytes).toBeLessThanOrEqual(DEFAULT_PAGE_BYTES);
      expect(page.payloadBytes).toBeLessThan(LAMBDA_RESPONSE_LIMIT);
    }
    expect(pages.flatMap((p) => p.ids)).toEqual(ccOrder(bigEvents));
  });
});

describe.each([
  ['POST /v1/spaces/{spaceName}/eventLogs', 'eventLogs' as const],
  [`GET ${LIST_SYSTEM_EVENTS_PATH}`, 'systemEvents' as const],
])('%s with a small byte budget', (_name, route) => {
  const first = (): { space?: string; body?: Record<string, unknown>; query?: Record<string, string> } =>
    route === 'eventLogs'
      ? { space: SPACE, body: { ...RANGE, maxResults: 100 } }
      : { query: { systemArn: ARN, ...RANGE, maxResults: '100' } };
  const expected = (): string[] => (route === 'eventLogs' ? ccOrder(ccEvents) : rhOrder(rhEvents));

  it('pages to the end with every event exactly once, in archive order', async () => {
    // Act
    const pages = await pageAll(route, first(), SMALL_BUDGET);
    const ids = pages.flatMap((p) => p.ids);

    // Assess
    expect(ids).toEqual(expected());
    expect(new Set(ids).size).toBe(ids.length);
    expect(pages.length).toBeGreaterThan(5);
    expect(pages.every((p) => p.ids.length >= 1)).toBe(true);
    expect(pages.at(-1)!.nextToken).toBeUndefined();
  });

  it('keeps every page within the budget, except a single event larger than it, which comes alone', async () => {
    // Act
    const pages = await pageAll(route, first(), SMALL_BUDGET);

    // Assess
    const over = pages.filter((p) => p.bodyBytes > SMALL_BUDGET);
    expect(over).toHaveLength(1);
    expect(over[0]!.ids).toHaveLength(1);
    expect(over[0]!.nextToken).toBeDefined();
    // Bounded by bytes, not by the count of 100.
    expect(pages.slice(0, -1).every((p) => p.ids.length < 100)).toBe(true);
  });

  it('answers the same pages through the shared router serve uses', async () => {
    // Act
    const viaLambda = await callLambda(route, first(), SMALL_BUDGET);
    const request = first();
    const response = await handleApiRequest(
      route === 'eventLogs'
        ? { method: 'POST', path: `/v1/spaces/${SPACE}/eventLogs`, body: JSON.stringify(request.body) }
        : { method: 'GET', path: LIST_SYSTEM_EVENTS_PATH, query: request.query ?? {}, body: undefined },
      { ...deps, pageBytes: SMALL_BUDGET },
    );

    // Assess
    const json = JSON.parse(response.body) as { items?: { id: string }[]; events?: { eventId: string }[] };
    const ids = json.items ? json.items.map((e) => e.id) : json.events!.map((e) => e.eventId);
    expect(ids).toEqual(viaLambda.ids);
  });
});

describe('itemsWithinBudget', () => {
  it('counts escaped bytes and commas, and never returns fewer than one item', () => {
    const item = '"a\\"b"'; // 6 characters, 10 once escaped in the proxy response
    expect(carriedBytes(item)).toBe(10);
    expect(itemsWithinBudget([item, item, item], 10 + 10 + 1 + 10, 10)).toBe(2);
    expect(itemsWithinBudget([item, item, item], 10 + 10 + 1 + 9, 10)).toBe(1);
    expect(itemsWithinBudget([item, item], 1, 10)).toBe(1);
    expect(itemsWithinBudget([], 100, 10)).toBe(0);
  });
});
