/**
 * Parquet encoding of archived records with hyparquet-writer (pure JS, ~40 KB in the bundle).
 * GZIP everywhere: node:zlib has it on every Node version, Athena and DuckDB read it, and it is the
 * smallest codec that a Node 20 machine can both write and read (ZSTD is in node:zlib only from
 * Node 22.15, so archives written in Lambda would be unreadable to a Node 20 CLI). See bench/.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { type ArchiveRecord, type FieldSpec, normaliseRecord, parquetSchemaOf } from './records';

/**
 * Level 6, not 9 (decided by `npm run bench`, see bench/README.md): -9 costs ~8–15 µs/event more
 * (45.2 vs 32.6 µs/event for the whole encode of 100k events) for 0.8% fewer bytes (123.4 vs
 * 124.4 B/event). Encoding runs in a worker thread (parquet-worker.ts), but that thread is already
 * the busier one at -6 (~46 µs/event with the window hashes against ~40 on the main thread), and
 * with one vCPU (Lambda ≤ 1769 MB) the two share a core. At 1M events -6 stays within the storage
 * targets: 124.7 B/event (≤ 140) and 0.728× gzip JSON Lines (≤ 0.73).
 */
const GZIP_LEVEL = 6;

export interface EncodeOptions {
  /** Written into the file's key-value metadata. */
  metadata?: Record<string, string>;
  /**
   * Top-level columns that get min/max statistics (the ones queries filter on: time and id). Default:
   * every column. Statistics of the other columns cost ~5 µs/event to compute and are never read.
   */
  statisticsFor?: readonly string[];
}

/** Encodes records (already sorted as they should be stored) into one Parquet file. */
export function encodeParquet(
  fields: readonly FieldSpec[],
  records: readonly ArchiveRecord[],
  options: EncodeOptions = {},
): Uint8Array {
  const stats = options.statisticsFor ? new Set(options.statisticsFor) : undefined;
  const buffer = parquetWriteBuffer({
    schema: parquetSchemaOf(fields),
    columnData: fields.map((field) => ({
      name: field.name,
      data: records.map((r) => r[field.name]),
      statistics: stats ? stats.has(field.name) : true,
    })),
    codec: 'GZIP',
    compressors: { GZIP: (input: Uint8Array) => new Uint8Array(gzipSync(input, { level: GZIP_LEVEL })) },
    // One row group per 100k rows: a day of events is usually one row group, read in one request.
    rowGroupSize: 100_000,
    kvMetadata: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
    createdBy: 'eventlog-archive',
  });
  return new Uint8Array(buffer);
}

/** Decodes a Parquet file this module wrote back into normalised records. */
export async function decodeParquet(
  fields: readonly FieldSpec[],
  bytes: Uint8Array,
): Promise<ArchiveRecord[]> {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const rows = await parquetReadObjects({
    file,
    compressors: { GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)) },
  });
  return rows.map((row) => normaliseRecord(fields, row as Record<string, unknown>));
}
