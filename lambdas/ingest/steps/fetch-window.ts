/**
 * Step: fetch one window. Every page of [start, end) through the adaptive concurrency limit, each
 * page retried with backoff; items outside the window or repeated are counted and dropped. Each
 * page's events become a chunk of columns at once (lambdas/core/columns.ts, `ChunkedRows`: why).
 */
import {
  type AdaptiveLimiter,
  type DeferredPage,
  type Page,
  paginate,
  type RetryOptions,
  type TimeWindow,
  withRetry,
} from '@eventlog-archive/shared';
import { columnsOf, type RecordColumns } from '../../core/columns';
import type { ArchiveRecord } from '../../core/records';
import type { SourceDefinition } from '../../core/sources/types';
import type { SourceClient } from '../sources/types';

export interface FetchedWindow {
  window: TimeWindow;
  /** The window's events as columns, a chunk per page that had any. */
  chunks: RecordColumns[];
  /** Events in the chunks: each once, all in the window. */
  events: number;
  pages: number;
  /** Items the source repeated (across pages). */
  duplicates: number;
  /** Items outside the window (a source that includes its end, or strays): the neighbour has them. */
  outOfRange: number;
}

export interface WindowFetcher {
  source: SourceDefinition;
  client: SourceClient;
  instance: string;
  limiter: AdaptiveLimiter;
  retry: RetryOptions;
  signal: AbortSignal;
  /** Called after each page, for progress. */
  onPage?: () => void;
}

export async function fetchWindow(window: TimeWindow, fetcher: WindowFetcher): Promise<FetchedWindow> {
  const { source, client, instance, limiter, retry, signal } = fetcher;
  const fetched: FetchedWindow = { window, chunks: [], events: 0, pages: 0, duplicates: 0, outOfRange: 0 };
  const seen = new Set<string>();
  for await (const page of paginate({
    pageSize: source.pageSize,
    pageSizeLimits: source.pageSizeLimits,
    signal,
    // The next page's round trip runs while this one is parsed and becomes columns.
    prefetch: true,
    fetchPage: (nextToken, pageSize) =>
      withRetry(
        () =>
          limiter.run((): Promise<Page<ArchiveRecord> | DeferredPage<ArchiveRecord>> => {
            const request = { instance, start: window.start, end: window.end, nextToken, pageSize, signal };
            return client.listPageDeferred ? client.listPageDeferred(request) : client.listPage(request);
          }),
        retry,
      ),
  })) {
    limiter.onSuccess();
    fetched.pages++;
    fetcher.onPage?.();
    const kept: ArchiveRecord[] = [];
    for (const record of page.items) {
      const time = (record[source.timeField] as Date | null)?.getTime() ?? Number.NaN;
      // The window is half-open; a source that includes its end (or strays) is cut here.
      if (!(time >= window.start && time < window.end)) {
        fetched.outOfRange++;
        continue;
      }
      const id = String(record[source.idField]);
      if (seen.has(id)) fetched.duplicates++;
      else {
        seen.add(id);
        kept.push(record);
      }
    }
    if (kept.length === 0) continue;
    // Ids too go as bytes: the worker, which orders the day, reads them back.
    fetched.chunks.push(columnsOf(source.fields, kept));
    fetched.events += kept.length;
  }
  return fetched;
}
