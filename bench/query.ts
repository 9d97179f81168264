/**
 * Query section: local query latency through the real API (`serve`: node:http → handleApiRequest →
 * DuckDB engine) over 1,000,000 archived events in 365 daily partitions, and how many day files each
 * query touched; and the console's histogram (`GET /console/api/histogram`, one aggregate query)
 * over the same archive. The archive is written in the ingest's own layout with its own encoder.
 */

import { startServer } from '../bin/commands/serve';
import { dataKey } from '../lambdas/core/layout';
import { emptyLedgerDay, writeLedgerDay } from '../lambdas/core/ledger';
import { LocalStore } from '../lambdas/core/local-store';
import { encodeParquet } from '../lambdas/core/parquet';
import { normaliseRecord, sortRecords } from '../lambdas/core/records';
import { codecatalystDefinition as codecatalyst } from '../lambdas/core/sources';
import { createDuckDbEngine } from '../lambdas/query/duckdb-engine';
import { DAY_MS, utcDay } from '../lambdas/shared/src/time';
import { type ConsoleFigures, consoleSection } from './console';
import { generateEvents } from './events';
import {
  type Check,
  check,
  filesUnder,
  fmt,
  heading,
  median,
  note,
  printTable,
  tempDir,
  timed,
} from './util';

const EVENTS = 1_000_000;
const DAYS = 365;
const SPACE = 'bench-space';

export interface QueryFigures {
  events: number;
  files: number;
  buildMs: number;
  oneDay: { medianMs: number; filesRead: number; items: number };
  sevenDaysFiltered: { medianMs: number; filesRead: number; items: number };
  pagingSevenDays: {
    pages: number;
    items: number;
    totalMs: number;
    medianPageMs: number;
    filesReadPerPage: number;
  };
  /** `GET /console/api/histogram`: a year by day, and seven days by the hour with two filters. */
  histogramYear: HistogramFigures;
  histogramSevenDaysFiltered: HistogramFigures;
  /** The web console over the same archive: its script size and its first page with data. */
  console: ConsoleFigures;
}

interface HistogramFigures {
  medianMs: number;
  buckets: number;
  events: number;
}

async function buildArchive(dir: string, end: number): Promise<number> {
  const store = new LocalStore(dir);
  const start = end - DAYS * DAY_MS;
  const byDay = new Map<string, ReturnType<typeof normaliseRecord>[]>();
  // Generated a month at a time to keep the generator's memory small.
  const chunk = 100_000;
  for (let i = 0; i < EVENTS; i += chunk) {
    const from = start + Math.floor((i / EVENTS) * (end - start));
    const to = start + Math.floor(((i + chunk) / EVENTS) * (end - start));
    for (const event of generateEvents({
      count: chunk,
      fromMs: from,
      toMs: to,
      seed: 1000 + i,
      idPrefix: `q${i}-`,
    })) {
      const record = normaliseRecord(codecatalyst.fields, event as unknown as Record<string, unknown>);
      const day = utcDay((record.eventTime as Date).getTime());
      const list = byDay.get(day) ?? [];
      list.push(record);
      byDay.set(day, list);
    }
  }
  const table = { table: codecatalyst.table, partitionKey: codecatalyst.partitionKey, partitionValue: SPACE };
  for (const [day, records] of byDay) {
    await store.put(
      dataKey(table, day),
      encodeParquet(codecatalyst.fields, sortRecords(codecatalyst, records)),
    );
    await writeLedgerDay(store, table, emptyLedgerDay(codecatalyst.name, SPACE, day));
  }
  return byDay.size;
}

async function post(
  url: string,
  body: Record<string, unknown>,
): Promise<{ items: unknown[]; nextToken?: string }> {
  const response = await fetch(`${url}/v1/spaces/${SPACE}/eventLogs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 200) throw new Error(`query answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as { items: unknown[]; nextToken?: string };
}

async function histogram(
  url: string,
  params: Record<string, string>,
): Promise<{ buckets: unknown[]; total: number }> {
  const query = new URLSearchParams({ source: codecatalyst.name, instance: SPACE, ...params });
  const response = await fetch(`${url}/console/api/histogram?${query}`);
  if (response.status !== 200)
    throw new Error(`histogram answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as { buckets: unknown[]; total: number };
}

async function warmMedian(runs: number, fn: () => Promise<unknown>): Promise<number> {
  await fn();
  await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push((await timed(fn)).ms);
  return median(times);
}

export async function querySection(): Promise<{ figures: QueryFigures; checks: Check[] }> {
  const dir = tempDir('query');
  const end = Date.UTC(2026, 0, 1);
  note(`writing ${fmt.int(EVENTS)} events into ${DAYS} daily partitions…`);
  const built = await timed(() => buildArchive(dir, end));
  const files = filesUnder(dir, '.parquet').length;

  // Request logs would drown the report: warnings only.
  process.env.POWERTOOLS_LOG_LEVEL = 'WARN';
  const server = await startServer({ archive: dir, port: 0 });
  const engine = await createDuckDbEngine(dir);
  try {
    const dayStart = end - 100 * DAY_MS;
    const oneDay = {
      startTime: new Date(dayStart).toISOString(),
      endTime: new Date(dayStart + DAY_MS).toISOString(),
      maxResults: 250,
    };
    const sample = (await post(server.url, oneDay)).items[0] as {
      eventName: string;
      userIdentity: { userName: string };
    };
    const sevenDays = {
      startTime: new Date(dayStart).toISOString(),
      endTime: new Date(dayStart + 7 * DAY_MS).toISOString(),
      maxResults: 250,
      eventName: sample.eventName,
      userName: sample.userIdentity.userName,
    };

    const filesRead = async (days: number, equals: Record<string, string> = {}): Promise<number> =>
      (
        await engine.listEvents({
          source: codecatalyst,
          instance: SPACE,
          start: dayStart,
          end: dayStart + days * DAY_MS,
          equals,
          limit: 251,
        })
      ).stats.filesRead ?? Number.NaN;

    const oneDayMs = await warmMedian(15, () => post(server.url, oneDay));
    const oneDayItems = (await post(server.url, oneDay)).items.length;
    const sevenMs = await warmMedian(15, () => post(server.url, sevenDays));
    const sevenItems = (await post(server.url, sevenDays)).items.length;

    // Paging to the end of seven days, no filter.
    const pageTimes: number[] = [];
    let items = 0;
    let token: string | undefined;
    const paging = await timed(async () => {
      do {
        const page = await timed(() =>
          post(server.url, {
            startTime: sevenDays.startTime,
            endTime: sevenDays.endTime,
            maxResults: 250,
            ...(token ? { nextToken: token } : {}),
          }),
        );
        pageTimes.push(page.ms);
        items += page.value.items.length;
        token = page.value.nextToken;
      } while (token);
    });

    // The console's histogram: a year of days, and the filtered seven days by the hour.
    const year = {
      startTime: new Date(end - DAYS * DAY_MS).toISOString(),
      endTime: new Date(end).toISOString(),
    };
    const sevenFiltered = {
      startTime: sevenDays.startTime,
      endTime: sevenDays.endTime,
      eventName: sevenDays.eventName,
      userName: sevenDays.userName,
    };
    const yearMs = await warmMedian(7, () => histogram(server.url, year));
    const yearAnswer = await histogram(server.url, year);
    const sevenHistogramMs = await warmMedian(15, () => histogram(server.url, sevenFiltered));
    const sevenAnswer = await histogram(server.url, sevenFiltered);
    // The console as a person opens it on the last 30 days of the archive (a custom range: the
    // archive ends before the machine's clock).
    const consolePage = new URLSearchParams({
      view: 'events',
      source: 'codecatalyst',
      instance: SPACE,
      range: 'custom',
      from: new Date(end - 30 * DAY_MS).toISOString(),
      to: new Date(end).toISOString(),
    });
    const consoleFigures = await consoleSection(dir, `/?${consolePage}`);

    const figures: QueryFigures = {
      events: EVENTS,
      files,
      buildMs: built.ms,
      oneDay: { medianMs: oneDayMs, filesRead: await filesRead(1), items: oneDayItems },
      sevenDaysFiltered: {
        medianMs: sevenMs,
        filesRead: await filesRead(7, {
          eventName: sevenDays.eventName,
          'userIdentity.userName': sevenDays.userName,
        }),
        items: sevenItems,
      },
      pagingSevenDays: {
        pages: pageTimes.length,
        items,
        totalMs: paging.ms,
        medianPageMs: median(pageTimes),
        filesReadPerPage: await filesRead(7),
      },
      histogramYear: { medianMs: yearMs, buckets: yearAnswer.buckets.length, events: yearAnswer.total },
      histogramSevenDaysFiltered: {
        medianMs: sevenHistogramMs,
        buckets: sevenAnswer.buckets.length,
        events: sevenAnswer.total,
      },
      console: consoleFigures.figures,
    };

    heading(`5. Local queries through serve: ${fmt.int(EVENTS)} events in ${files} daily files`);
    printTable(
      ['query (POST /v1/spaces/{space}/eventLogs)', 'items', 'files read', 'median warm'],
      [
        [
          'one day, maxResults 250',
          String(oneDayItems),
          `${figures.oneDay.filesRead} of ${files}`,
          fmt.ms(oneDayMs),
        ],
        [
          'seven days, eventName + userName, maxResults 250',
          String(sevenItems),
          `${figures.sevenDaysFiltered.filesRead} of ${files}`,
          fmt.ms(sevenMs),
        ],
        [
          `seven days, paged to the end (${pageTimes.length} pages)`,
          String(items),
          `${figures.pagingSevenDays.filesReadPerPage} of ${files} a page`,
          `${fmt.ms(median(pageTimes))} a page, ${fmt.ms(paging.ms)} in all`,
        ],
      ],
    );
    printTable(
      ['histogram (GET /console/api/histogram)', 'buckets', 'events', 'median warm'],
      [
        ['a year by day', String(yearAnswer.buckets.length), fmt.int(yearAnswer.total), fmt.ms(yearMs)],
        [
          'seven days by the hour, eventName + userName',
          String(sevenAnswer.buckets.length),
          fmt.int(sevenAnswer.total),
          fmt.ms(sevenHistogramMs),
        ],
      ],
    );
    printTable(['web console (headless Chromium)', 'measured', 'what'], consoleFigures.rows);
    console.log(`archive written in ${fmt.s(built.ms)} (encoder of the ingest, ZSTD Parquet)`);
    return {
      figures,
      checks: [
        check(
          'Query: a one-day request reads one day of files',
          `${figures.oneDay.filesRead} of ${files}`,
          '1',
          figures.oneDay.filesRead === 1,
        ),
        check(
          'Query: 7 days + filters, 250-item page, median warm (local API)',
          fmt.ms(sevenMs),
          '< 60 ms',
          sevenMs < 60,
        ),
        check(
          'Query: histogram of a year by day, median warm (console API)',
          fmt.ms(yearMs),
          '< 500 ms',
          yearMs < 500,
        ),
        check(
          'Query: histogram of 7 days + two filters, median warm (console API)',
          fmt.ms(sevenHistogramMs),
          '< 60 ms',
          sevenHistogramMs < 60,
        ),
        ...consoleFigures.checks,
      ],
    };
  } finally {
    await engine.close();
    await server.close();
  }
}
