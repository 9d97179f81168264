/**
 * Ingest end to end on the wire: the real `@aws-sdk/client-codecatalyst` client against a local
 * ListEventLogs server that throttles, fails, resets connections, cuts bodies short, repeats items
 * across pages and returns empty pages; the archive is read back with DuckDB and compared with the
 * source field by field.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalStore } from '../../../lambdas/core/local-store';
import { type IngestRequest, ingestInstance } from '../../../lambdas/ingest/ingest-instance';
import { codecatalyst } from '../../../lambdas/ingest/sources/codecatalyst';
import type { SourceClient } from '../../../lambdas/ingest/sources/types';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../../lambdas/shared/src/time';
import { diffArchive, readCodeCatalystArchive } from '../../helpers/archive-reader';
import { type CodeCatalystServer, startCodeCatalystServer } from '../../support/codecatalyst-server';
import { type EventLogEntryWire, generateEvents } from '../../support/sample-events';

const NOW = Date.UTC(2026, 10, 20, 12, 0, 0);
const SPACE = 'acme-corp';
let server: CodeCatalystServer;
let client: SourceClient;
let dir: string;
let store: LocalStore;

beforeAll(async () => {
  server = await startCodeCatalystServer({ tokens: ['pat-for-tests-0123456789'], now: () => NOW, seed: 7 });
  client = await codecatalyst.createClient({
    env: {
      CODECATALYST_TOKEN: 'pat-for-tests-0123456789',
      AWS_ENDPOINT_URL_CODECATALYST: server.url,
      AWS_REGION: 'us-east-1',
    },
  });
});
afterAll(() => server.close());

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'cc-ingest-'));
  store = new LocalStore(dir);
  for (const space of server.spaceNames())
    server.removeEvents(
      space,
      server.events(space).map((e) => e.id),
    );
  server.faults = {};
  server.setNow(NOW);
  server.resetStats();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function ingest(overrides: Partial<IngestRequest> = {}): ReturnType<typeof ingestInstance> {
  return ingestInstance({
    source: codecatalyst,
    instance: SPACE,
    store,
    client,
    now: () => NOW,
    settings: { backfillDays: 5 },
    retry: { baseMs: 2, throttleBaseMs: 5, capMs: 50, maxAttempts: 12 },
    ...overrides,
  });
}

async function expectArchiveEqualsSource(
  expected: EventLogEntryWire[] = server.events(SPACE),
): Promise<void> {
  const archived = await readCodeCatalystArchive(dir);
  const diff = diffArchive(archived, expected as unknown as Array<Record<string, unknown>>);
  expect({
    missing: diff.missing.length,
    duplicates: diff.duplicates.length,
    different: diff.different.slice(0, 3),
    extra: diff.extra.length,
  }).toEqual({
    missing: 0,
    duplicates: 0,
    different: [],
    extra: 0,
  });
  expect(archived).toHaveLength(expected.length);
  expect(
    archived.every((row) => row.eventTimeType === 'TIMESTAMP WITH TIME ZONE' && row.space === SPACE),
  ).toBe(true);
}

describe('CodeCatalyst ingest over the wire', () => {
  it('archives every event equal to the source under throttling, 500s, plain 503s, resets, cut bodies, repeats and empty pages', async () => {
    const faulty = await startCodeCatalystServer({
      tokens: ['pat-for-tests-0123456789'],
      now: () => NOW,
      seed: 11,
      repeatAcrossPages: true,
      emptyPages: true,
      faults: { throttle: 0.08, serverError: 0.04, unavailable: 0.03, reset: 0.03, truncate: 0.03 },
      // ~300 events an hour: two pages a window, so repeats across page boundaries happen.
      spaces: {
        [SPACE]: generateEvents({ count: 15_000, fromMs: NOW - 2 * DAY_MS, toMs: NOW - HOUR_MS, seed: 3 }),
      },
    });
    try {
      const faultyClient = await codecatalyst.createClient({
        env: {
          CODECATALYST_TOKEN: 'pat-for-tests-0123456789',
          AWS_ENDPOINT_URL_CODECATALYST: faulty.url,
          AWS_REGION: 'us-east-1',
        },
      });
      const result = await ingest({ client: faultyClient });
      expect(result.status).toBe('complete');
      expect(result.events).toBe(15_000);
      expect(result.duplicates).toBeGreaterThan(0);
      for (const kind of ['throttle', 'serverError', 'unavailable', 'reset', 'truncate'] as const)
        expect(faulty.stats.faults[kind]).toBeGreaterThan(0);
      expect(result.throttles).toBeGreaterThan(0);
      expect(result.retries).toBeGreaterThan(0);
      await expectArchiveEqualsSource(faulty.events(SPACE));
    } finally {
      await faulty.close();
    }
  });

  it('keeps the archive equal to the source across reruns, concurrent runs and late events', async () => {
    server.addEvents(
      SPACE,
      generateEvents({ count: 3_000, fromMs: NOW - 5 * DAY_MS, toMs: NOW - HOUR_MS, seed: 5 }),
    );
    const [a, b] = await Promise.all([ingest(), ingest()]);
    expect([a.status, b.status].sort()).toEqual(['busy', 'complete']);
    await expectArchiveEqualsSource();

    // Late events: they appear in the source after their window was first swept, within the lookback.
    const late = generateEvents({
      count: 40,
      fromMs: NOW - 100 * MINUTE_MS,
      toMs: NOW - 5 * MINUTE_MS,
      seed: 9,
      idPrefix: 'late',
    });
    server.addEvents(SPACE, late);
    const later = NOW + 15 * MINUTE_MS;
    server.setNow(later);
    const rerun = await ingest({ now: () => later });
    expect(rerun.newEvents).toBe(40);
    await expectArchiveEqualsSource();

    const explicit = await ingest({ now: () => later, from: NOW - 5 * DAY_MS, to: NOW });
    expect(explicit.newEvents).toBe(0);
    await expectArchiveEqualsSource();
  });

  it('keeps events the source has expired', async () => {
    const events = generateEvents({ count: 2_000, fromMs: NOW - 5 * DAY_MS, toMs: NOW - HOUR_MS, seed: 13 });
    server.addEvents(SPACE, events);
    await ingest();
    // 28 days later the source has forgotten the oldest three days.
    const later = NOW + 28 * DAY_MS;
    server.setNow(later);
    expect(server.events(SPACE).length).toBeLessThan(events.length);
    const result = await ingest({ now: () => later, from: NOW - 5 * DAY_MS, to: NOW });
    expect(result.status).toBe('complete');
    await expectArchiveEqualsSource(events);
  });

  it('fails a denied space with AccessDeniedException and archives nothing for it', async () => {
    const denied = await startCodeCatalystServer({
      now: () => NOW,
      tokens: ['pat-for-tests-0123456789'],
      deniedSpaces: [SPACE],
      spaces: { [SPACE]: [] },
    });
    try {
      const deniedClient = await codecatalyst.createClient({
        env: {
          CODECATALYST_TOKEN: 'pat-for-tests-0123456789',
          AWS_ENDPOINT_URL_CODECATALYST: denied.url,
          AWS_REGION: 'us-east-1',
        },
      });
      await expect(ingest({ client: deniedClient })).rejects.toMatchObject({
        name: 'SourceFailedError',
        message: expect.stringContaining('AccessDeniedException'),
      });
      expect(await readCodeCatalystArchive(dir)).toEqual([]);
    } finally {
      await denied.close();
    }
  });

  it('sends the token only in the authorization header', async () => {
    server.addEvents(
      SPACE,
      generateEvents({ count: 300, fromMs: NOW - DAY_MS, toMs: NOW - HOUR_MS, seed: 2 }),
    );
    await ingest({ settings: { backfillDays: 1 } });
    expect(server.requests.length).toBeGreaterThan(0);
    for (const request of server.requests) {
      expect(request.headers.authorization).toBe('Bearer pat-for-tests-0123456789');
      expect(request.body).not.toContain('pat-for-tests');
      expect(request.url).not.toContain('pat-for-tests');
    }
  });
});
