/**
 * Archives for query tests, built the way production builds them: synthetic events served by the
 * local ListEventLogs server, pulled with the real CodeCatalyst SDK client through the real ingest
 * pipeline into a folder. Also the expected answer of a listing: the events in archive order.
 */
import { LocalStore } from '../../../lambdas/core/local-store';
import { ingestInstance } from '../../../lambdas/ingest/ingest-instance';
import { codecatalyst } from '../../../lambdas/ingest/sources/codecatalyst';
import { startCodeCatalystServer } from '../../support/codecatalyst-server';
import type { EventLogEntryWire } from '../../support/sample-events';

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
    const store = new LocalStore(dir);
    for (const space of Object.keys(spaces)) {
      const result = await ingestInstance({
        source: codecatalyst,
        instance: space,
        store,
        client,
        now: () => now,
        settings: { backfillDays: 30 },
      });
      if (result.status !== 'complete' || result.events !== spaces[space]!.length)
        throw new Error(`fixture ingest of ${space}: ${result.status}, ${result.events} events`);
    }
  } finally {
    await server.close();
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
