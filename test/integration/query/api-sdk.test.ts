/**
 * Wire compatibility: the official `@aws-sdk/client-codecatalyst` client, with `endpoint` set to a
 * running `serve` (real DuckDB engine over an archive built by the real ingest), pages through the
 * archive with `paginateListEventLogs` and gets exactly the archived events in archive order.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CodeCatalystClient,
  type EventLogEntry,
  ListEventLogsCommand,
  paginateListEventLogs,
} from '@aws-sdk/client-codecatalyst';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../../bin/commands/serve';
import { createLogger } from '../../../lambdas/shared/src';
import { DAY_MS, HOUR_MS } from '../../../lambdas/shared/src/time';
import { pinnedClock } from '../../helpers/clock';
import { type EventLogEntryWire, generateEvents } from '../../support/sample-events';
import { buildArchive, inArchiveOrder, withTimeTies } from './api-fixture';

const NOW = Date.UTC(2026, 5, 15, 12);
// serve's clock (token expiry, the end of the archive): the instant the archive was built at.
const clock = pinnedClock(NOW);
const SPACE = 'acme-corp';
const OTHER = 'other.space_2';
let dir: string;
let server: RunningServer;
let client: CodeCatalystClient;
let events: EventLogEntryWire[];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'query-sdk-'));
  events = withTimeTies(
    generateEvents({ count: 1_200, fromMs: NOW - 3 * DAY_MS, toMs: NOW - HOUR_MS, seed: 31 }),
    40,
  );
  const other = generateEvents({
    count: 200,
    fromMs: NOW - 3 * DAY_MS,
    toMs: NOW - HOUR_MS,
    seed: 32,
    idPrefix: 'o-',
  });
  await buildArchive(dir, { [SPACE]: events, [OTHER]: other }, NOW);
  server = await startServer({ archive: dir, port: 0, logger: createLogger({ logLevel: 'ERROR' }), clock });
  client = new CodeCatalystClient({ endpoint: server.url, region: 'us-east-1', token: { token: 'local' } });
});

afterAll(async () => {
  client?.destroy();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What the archive must answer for [from, to) and a predicate, in archive order. */
function expected(
  from: number,
  to: number,
  keep: (e: EventLogEntryWire) => boolean = () => true,
): EventLogEntryWire[] {
  return inArchiveOrder(
    events.filter((e) => {
      const t = Date.parse(e.eventTime);
      return t >= from && t < to && keep(e);
    }),
  );
}

/** The SDK's items back in wire form (the SDK turns eventTime into a Date). */
function wire(item: EventLogEntry): Record<string, unknown> {
  return { ...item, eventTime: item.eventTime?.toISOString() };
}

async function sdkPages(
  pageSize: number,
  input: { startTime: Date; endTime: Date; eventName?: string },
): Promise<{ items: EventLogEntry[]; pages: number }> {
  const items: EventLogEntry[] = [];
  let pages = 0;
  for await (const page of paginateListEventLogs({ client, pageSize }, { spaceName: SPACE, ...input })) {
    pages++;
    expect(page.items?.length ?? 0).toBeLessThanOrEqual(pageSize);
    items.push(...(page.items ?? []));
  }
  return { items, pages };
}

describe('the CodeCatalyst SDK against serve', () => {
  it.each([
    [1, 4 * HOUR_MS],
    [7, DAY_MS],
    [250, 3 * DAY_MS],
  ])(
    'pages with maxResults %i through exactly the archived events, in order, none repeated or skipped',
    async (pageSize, span) => {
      // Prepare
      const from = NOW - 3 * DAY_MS;
      const to = from + span;
      const want = expected(from, to);
      expect(want.length).toBeGreaterThan(pageSize);
      // Events sharing an event time: their order (by id) must hold across page boundaries too.
      expect(want.filter((e) => e.id.startsWith('tie-')).length).toBeGreaterThan(0);
      // Act
      const { items, pages } = await sdkPages(pageSize, { startTime: new Date(from), endTime: new Date(to) });
      // Assess
      expect(items.map((i) => i.id)).toEqual(want.map((e) => e.id));
      expect(new Set(items.map((i) => i.id)).size).toBe(items.length);
      expect(items.map(wire)).toEqual(want);
      expect(pages).toBe(Math.ceil(want.length / pageSize));
    },
  );

  it('filters by eventName across pages', async () => {
    const name = events[0]!.eventName;
    const want = expected(NOW - 3 * DAY_MS, NOW, (e) => e.eventName === name);
    const { items } = await sdkPages(7, {
      startTime: new Date(NOW - 3 * DAY_MS),
      endTime: new Date(NOW),
      eventName: name,
    });
    expect(want.length).toBeGreaterThan(7);
    expect(items.map(wire)).toEqual(want);
  });

  // The errors of the ListEventLogs API reference:
  // https://docs.aws.amazon.com/codecatalyst/latest/APIReference/API_ListEventLogs.html
  it("reports the errors of the API reference as the SDK's typed exceptions", async () => {
    const range = { startTime: new Date(NOW - DAY_MS), endTime: new Date(NOW) };
    await expect(
      client.send(new ListEventLogsCommand({ spaceName: SPACE, ...range, maxResults: 251 })),
    ).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'maxResults: must be an integer from 1 to 250',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(
      client.send(new ListEventLogsCommand({ spaceName: 'not-archived', ...range })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      $metadata: { httpStatusCode: 404 },
    });
    await expect(
      client.send(new ListEventLogsCommand({ spaceName: SPACE, ...range, nextToken: 'forged' })),
    ).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringMatching(/^nextToken: /) });
  });
});

describe('raw HTTP with the extra filters', () => {
  async function pageAll(body: Record<string, unknown>): Promise<Array<Record<string, unknown>>> {
    const items: Array<Record<string, unknown>> = [];
    let nextToken: string | undefined;
    do {
      const response = await fetch(`${server.url}/v1/spaces/${SPACE}/eventLogs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...body, ...(nextToken ? { nextToken } : {}) }),
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/json');
      const json = (await response.json()) as { items: Array<Record<string, unknown>>; nextToken?: string };
      items.push(...json.items);
      nextToken = json.nextToken;
    } while (nextToken);
    return items;
  }

  const range = {
    startTime: new Date(NOW - 3 * DAY_MS).toISOString(),
    endTime: new Date(NOW).toISOString(),
  };
  const sample = (): EventLogEntryWire => events.find((e) => e.projectInformation?.name && e.errorCode)!;

  it.each([
    ['userName', (e: EventLogEntryWire) => e.userIdentity.userName],
    ['projectName', (e: EventLogEntryWire) => e.projectInformation?.name],
    ['operationType', (e: EventLogEntryWire) => e.operationType],
    ['eventSource', (e: EventLogEntryWire) => e.eventSource],
    ['errorCode', (e: EventLogEntryWire) => e.errorCode],
  ])('filters by %s', async (field, value) => {
    const wanted = value(sample())!;
    const want = expected(NOW - 3 * DAY_MS, NOW, (e) => value(e) === wanted);
    expect(want.length).toBeGreaterThan(0);
    expect(await pageAll({ ...range, maxResults: 100, [field]: wanted })).toEqual(want);
  });

  it('combines extra filters with eventName (all must hold)', async () => {
    const s = sample();
    const want = expected(
      NOW - 3 * DAY_MS,
      NOW,
      (e) =>
        e.eventName === s.eventName &&
        e.userIdentity.userName === s.userIdentity.userName &&
        e.operationType === s.operationType,
    );
    const got = await pageAll({
      ...range,
      eventName: s.eventName,
      userName: s.userIdentity.userName,
      operationType: s.operationType,
    });
    expect(got).toEqual(want);
    expect(got.length).toBeGreaterThan(0);
  });

  it('never returns events of another space', async () => {
    const got = await pageAll({ ...range, maxResults: 250 });
    expect(got).toHaveLength(expected(NOW - 3 * DAY_MS, NOW).length);
    expect(got.some((e) => String(e.id).startsWith('o-'))).toBe(false);
  });
});
