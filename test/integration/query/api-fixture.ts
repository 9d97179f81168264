/**
 * Archives for query tests, built the way production builds them: synthetic events served by the
 * local ListEventLogs server, pulled with the archive's CodeCatalyst client through the real ingest
 * pipeline into a folder. Also the expected answer of a listing: the events in archive order.
 */
import { LocalStore } from '../../../lambdas/core/local-store';
import { ingestInstance } from '../../../lambdas/ingest/ingest-instance';
import type { IngestRequest } from '../../../lambdas/ingest/instance-state';
import { codecatalyst } from '../../../lambdas/ingest/sources/codecatalyst';
import { resiliencehub } from '../../../lambdas/ingest/sources/resiliencehub';
import { startCodeCatalystServer } from '../../support/codecatalyst-server';
import { startResilienceHubServer, TEST_CREDENTIALS } from '../../support/resiliencehub-server';
import type { EventLogEntryWire } from '../../support/sample-events';
import type { SystemEventWire } from '../../support/sample-system-events';

const TOKEN = 'pat-query-fixture-0123456789';

/** Ingests `spaces` into the folder `dir` as of `now` (events must be within the last 30 days). */
export async function buildArchive(
  dir: string,
  spaces: Record<string, EventLogEntryWire[]>,
  now: number,
): Promise<void> {
  const server = await startCodeCatalystServer({ spaces, tokens: [TOKEN], now: () => now });
  try {
    const client = await codecatalyst.createClient({
      env: { CODECATALYST_TOKEN: TOKEN, AWS_ENDPOINT_URL_CODECATALYST: server.url, AWS_REGION: 'us-east-1' },
    });
    await ingestEach({ source: codecatalyst, client, dir, now, backfillDays: 30 }, spaces);
  } finally {
    await server.close();
  }
}

/**
 * Ingests Resilience Hub `systems` (ARN → events) into the folder `dir` as of `now`, through the
 * SigV4 client and the local ListSystemEvents server (events must be within `backfillDays`).
 */
export async function buildSystemArchive(
  dir: string,
  systems: Record<string, SystemEventWire[]>,
  now: number,
  backfillDays = 30,
): Promise<void> {
  const server = await startResilienceHubServer({ systems, now: () => now, region: 'us-west-2' });
  try {
    const key = TEST_CREDENTIALS[0]!;
    const client = await resiliencehub.createClient({
      env: {
        AWS_ENDPOINT_URL_RESILIENCEHUBV2: server.url,
        AWS_ACCESS_KEY_ID: key.accessKeyId,
        AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
        ...(key.sessionToken ? { AWS_SESSION_TOKEN: key.sessionToken } : {}),
      },
    });
    await ingestEach({ source: resiliencehub, client, dir, now, backfillDays }, systems);
  } finally {
    await server.close();
  }
}

/** Ingests each instance of `instances` (name → its events) in full, or throws. */
async function ingestEach(
  run: Pick<IngestRequest, 'source' | 'client'> & { dir: string; now: number; backfillDays: number },
  instances: Record<string, readonly unknown[]>,
): Promise<void> {
  const store = new LocalStore(run.dir);
  for (const [instance, events] of Object.entries(instances)) {
    const result = await ingestInstance({
      source: run.source,
      instance,
      store,
      client: run.client,
      now: () => run.now,
      settings: { backfillDays: run.backfillDays },
    });
    if (result.status !== 'complete' || result.events !== events.length)
      throw new Error(`fixture ingest of ${instance}: ${result.status}, ${result.events} events`);
  }
}

/** Archive order: event time, then id. */
export function inArchiveOrder(events: readonly EventLogEntryWire[]): EventLogEntryWire[] {
  return [...events].sort((a, b) => {
    const t = Date.parse(a.eventTime) - Date.parse(b.eventTime);
    return t !== 0 ? t : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
}

/** Copies of `events` that share event times with the originals (ties the order must break by id). */
export function withTimeTies(events: readonly EventLogEntryWire[], every: number): EventLogEntryWire[] {
  const ties: EventLogEntryWire[] = [];
  for (let i = 0; i < events.length; i += every) {
    const original = events[i]!;
    ties.push({ ...structuredClone(original), id: `tie-${i.toString().padStart(6, '0')}-${original.id}` });
  }
  return [...events, ...ties];
}
