/**
 * Child process running the local ListEventLogs server for the benchmark (started by `bench/server.ts`):
 * the demo's server (bin/demo/), which serialises each event once and answers a page with a binary
 * search and a copy, so that the benchmark measures the ingest, not the server.
 *
 * It runs apart from the ingest on purpose: the server's event store (1M events ≈ 1 GB of JS objects)
 * would otherwise dominate the memory the benchmark samples, and its CPU would compete with the
 * ingest's on the same event loop. The machine has 2 cores: one for the ingest, one for this.
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { type ListEventLogsServer, startListEventLogsServer } from '../bin/demo/list-event-logs-server';
import { type EventLogEntryWire, generateEvents } from './events';
import type { ChildReply, ChildRequest, JsonlStats } from './server';

const gzipAsync = promisify(gzip);

let server: ListEventLogsServer | undefined;
let events: EventLogEntryWire[] = [];
let cpuMark = process.cpuUsage();

function reply(message: ChildReply): void {
  process.send?.(message);
}

/** gzip -6 JSON Lines, one file per UTC day, lines in archive order (eventTime, then id). */
async function jsonlStats(): Promise<JsonlStats> {
  const byDay = new Map<string, EventLogEntryWire[]>();
  for (const e of events) {
    const day = e.eventTime.slice(0, 10);
    const list = byDay.get(day);
    if (list) list.push(e);
    else byDay.set(day, [e]);
  }
  const days = [...byDay.keys()].sort();
  let rawBytes = 0;
  let gzipBytes = 0;
  // A few days at a time: gzip runs on the libuv pool, strings of all 30 days at once are not needed.
  for (let i = 0; i < days.length; i += 4) {
    const sizes = await Promise.all(
      days.slice(i, i + 4).map(async (day) => {
        const list = byDay
          .get(day)!
          .sort((a, b) =>
            a.eventTime < b.eventTime ? -1 : a.eventTime > b.eventTime ? 1 : a.id < b.id ? -1 : 1,
          );
        const text = Buffer.from(`${list.map((e) => JSON.stringify(e)).join('\n')}\n`);
        return { raw: text.byteLength, gz: (await gzipAsync(text, { level: 6 })).byteLength };
      }),
    );
    for (const s of sizes) {
      rawBytes += s.raw;
      gzipBytes += s.gz;
    }
  }
  return { events: events.length, files: days.length, rawBytes, gzipBytes };
}

process.on('message', (message: ChildRequest) => {
  void (async () => {
    try {
      switch (message.type) {
        case 'start': {
          const t0 = performance.now();
          events = generateEvents({
            count: message.count,
            fromMs: message.fromMs,
            toMs: message.toMs,
            seed: message.seed,
          });
          const generateMs = performance.now() - t0;
          // Sorts and serialises the events now, not inside the first measured request.
          server = await startListEventLogsServer({
            spaces: { [message.space]: events },
            tokens: [message.token],
            latencyMs: message.latencyMs,
            retentionMs: message.retentionMs,
          });
          reply({ type: 'started', url: server.url, generateMs });
          break;
        }
        case 'resetStats':
          server?.resetStats();
          cpuMark = process.cpuUsage();
          reply({ type: 'ok' });
          break;
        case 'stats': {
          const cpu = process.cpuUsage(cpuMark);
          const s = server!.stats;
          reply({
            type: 'stats',
            requests: s.requests,
            pages: s.pages,
            items: s.items,
            maxInFlight: s.maxInFlight,
            byStatus: s.byStatus,
            cpuMs: (cpu.user + cpu.system) / 1000,
          });
          break;
        }
        case 'jsonl':
          reply({ type: 'jsonl', stats: await jsonlStats() });
          break;
        case 'stop':
          await server?.close();
          reply({ type: 'ok' });
          process.exit(0);
      }
    } catch (err) {
      reply({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  })();
});

process.on('disconnect', () => process.exit(0));
