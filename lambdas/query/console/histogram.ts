/**
 * `GET /console/api/histogram` (docs/console-api.md#histogram): a selection's events per hour or
 * day, split into failed, read and write. One aggregate query of the DuckDB engine over the listing
 * plan of the same selection; the buckets are made dense here (a bucket without events is zeros).
 */
import { floorTo, iso } from '@eventlog-archive/shared';
import type { ArchiveCatalog } from '../catalog';
import type { DuckDbEngine } from '../duckdb-engine';
import { eventSeriesOf } from './event-series';
import { HISTOGRAM_BUCKETS, type HistogramBucket, type HistogramRequest } from './histogram-params';
import { requireArchived } from './params';

export interface SeriesCounts {
  read: number;
  write: number;
  failed: number;
}

export interface HistogramAnswer extends SeriesCounts {
  source: string;
  instance: string;
  startTime: string;
  endTime: string;
  bucket: HistogramBucket;
  /** Every bucket from the one holding startTime to the one holding endTime - 1 ms, in order. */
  buckets: ({ start: string } & SeriesCounts)[];
  total: number;
}

/** What a histogram reads: the engine's aggregate and the ledger (for a 404). */
export interface HistogramDeps {
  engine: Pick<DuckDbEngine, 'histogram'>;
  catalog: ArchiveCatalog;
  /** Aborted when the answer is no longer wanted: the query stops. */
  signal?: AbortSignal;
}

/** Answers a validated request: 404 for an instance never archived, else the dense histogram. */
export async function histogramOf(request: HistogramRequest, deps: HistogramDeps): Promise<HistogramAnswer> {
  const { source, instance, start, end, bucket, filters } = request;
  await requireArchived(deps.catalog, source, instance);
  const bucketMs = HISTOGRAM_BUCKETS[bucket];
  const { rows } = await deps.engine.histogram(
    { source, instance, start, end, ...filters, bucketMs, series: eventSeriesOf(source) },
    deps.signal ? { signal: deps.signal } : {},
  );
  const byStart = new Map(rows.map((row) => [row.start, row]));
  const totals: SeriesCounts = { read: 0, write: 0, failed: 0 };
  const buckets: HistogramAnswer['buckets'] = [];
  for (let at = floorTo(start, bucketMs); at < end; at += bucketMs) {
    const row = byStart.get(at);
    const counts: SeriesCounts = row
      ? { read: row.read, write: row.total - row.read - row.failed, failed: row.failed }
      : { read: 0, write: 0, failed: 0 };
    totals.read += counts.read;
    totals.write += counts.write;
    totals.failed += counts.failed;
    buckets.push({ start: iso(at), ...counts });
  }
  return {
    source: source.name,
    instance,
    startTime: iso(start),
    endTime: iso(end),
    bucket,
    buckets,
    total: totals.read + totals.write + totals.failed,
    ...totals,
  };
}
