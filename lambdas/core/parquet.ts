/**
 * Parquet encoding of archived records with hyparquet-writer (pure JS, ~40 KB in the bundle).
 * New files are ZSTD: node:zlib has it from Node.js 22.15 (the floor), and Athena (Trino) and DuckDB
 * read it (docs/parquet.md). Files written before are GZIP and stay readable: the reader takes both,
 * and a day rewritten by a later run becomes ZSTD.
 */
import { constants, gunzipSync, gzipSync, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { type ChunkedRows, columnsOf, gatheredWriterValues, type RecordColumns } from './columns';
import { type ArchiveRecord, type FieldSpec, normaliseRecord, parquetSchemaOf } from './records';

/** The codecs the archive writes: ZSTD now, GZIP before (still read, and writable for tests). */
export type ArchiveCodec = 'ZSTD' | 'GZIP';

/**
 * ZSTD where it pays: level 6 with a minimum match of 6 bytes for pages of text, level 1 for the rest,
 * decided page by page. Measured on a bench day (33k events, Node 24, CPU, median of 3 or more after a
 * warm-up; bench/README.md):
 *
 * - Level 8 throughout: 116.4 B/event for 7.1 µs/event of compression. Nearly all of its gain is on
 *   the payload text; the id and request id columns (random hex), the times and the dictionary
 *   indices come out as small or smaller at level 1 for a sixth of the CPU.
 * - On the payload pages, a minimum match of 6 (the default is 5 at these levels) is both smaller and
 *   faster: level 6 with it gives 75.6 B/event for 3.5 µs where level 8 gives 74.8 B for 5.4 µs, and
 *   level 7 with it 72.9 B for 4.6 µs.
 *
 * So each page is first compressed as a 16 KiB sample at both settings, and the whole page gets the high
 * one only when that sample shrinks by at least 5% more than at level 1. The whole encode: 9.7
 * µs/event for 117.9 B/event (0.69× gzip JSON Lines), against 11.4 µs and 115.2 B with level 7, and
 * 118.2 B with level 8 throughout: level 6 buys issue 15's CPU target for bytes still under its 0.70×.
 * Decompression is unaffected, and both settings' windows stay far below the 8 MiB Trino's
 * decompressor accepts (docs/parquet.md).
 */
const ZSTD_HIGH = { [constants.ZSTD_c_compressionLevel]: 6, [constants.ZSTD_c_minMatch]: 6 };
const ZSTD_LOW = { [constants.ZSTD_c_compressionLevel]: 1 };
/** The sample each page is judged by, and the least gain that buys the high setting. */
const ZSTD_SAMPLE_BYTES = 16 * 1024;
const ZSTD_HIGH_MIN_GAIN = 0.05;
/** GZIP -6, the level the archive's GZIP files were written at. */
const GZIP_LEVEL = 6;

function zstd(input: Uint8Array, params: Record<number, number>): Uint8Array {
  return new Uint8Array(zstdCompressSync(input, { params }));
}

/** ZSTD with the setting that pays for this page (see above). */
export function zstdCompressPage(input: Uint8Array): Uint8Array {
  if (input.byteLength <= 2 * ZSTD_SAMPLE_BYTES) return zstd(input, ZSTD_LOW);
  const sample = input.subarray(0, ZSTD_SAMPLE_BYTES);
  const low = zstd(sample, ZSTD_LOW).byteLength;
  const high = zstd(sample, ZSTD_HIGH).byteLength;
  return zstd(input, high <= (1 - ZSTD_HIGH_MIN_GAIN) * low ? ZSTD_HIGH : ZSTD_LOW);
}

const COMPRESSORS: Record<ArchiveCodec, (input: Uint8Array) => Uint8Array> = {
  ZSTD: zstdCompressPage,
  GZIP: (input) => new Uint8Array(gzipSync(input, { level: GZIP_LEVEL })),
};

/** The decompressors of every codec the archive has written. */
export const ARCHIVE_DECOMPRESSORS = {
  ZSTD: (input: Uint8Array) => new Uint8Array(zstdDecompressSync(input)),
  GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)),
} as const;

/** What hyparquet-writer takes to write `codec` (default: the archive's, ZSTD). */
export function parquetCodec(codec: ArchiveCodec = 'ZSTD'): {
  codec: ArchiveCodec;
  compressors: Record<string, (input: Uint8Array) => Uint8Array>;
} {
  return { codec, compressors: { [codec]: COMPRESSORS[codec] } };
}

export interface EncodeOptions {
  /** Written into the file's key-value metadata. */
  metadata?: Record<string, string>;
  /**
   * Top-level columns that get min/max statistics (the ones queries filter on: time and id). Default:
   * every column. Statistics of the other columns cost ~5 µs/event to compute and are never read.
   */
  statisticsFor?: readonly string[];
  /** The codec: the archive's (ZSTD) unless a test writes an archive as an older version did. */
  codec?: ArchiveCodec;
}

/** Encodes records (already sorted as they should be stored) into one Parquet file. */
export function encodeParquet(
  fields: readonly FieldSpec[],
  records: readonly ArchiveRecord[],
  options: EncodeOptions = {},
): Uint8Array {
  return encodeParquetColumns(fields, columnsOf(fields, records), options);
}

/**
 * Encodes records given as columns ({@link columnsOf}), or as chunks of them read in an order
 * ({@link ChunkedRows}), into one Parquet file.
 */
export function encodeParquetColumns(
  fields: readonly FieldSpec[],
  columns: RecordColumns | ChunkedRows,
  options: EncodeOptions = {},
): Uint8Array {
  const rows: ChunkedRows = 'chunks' in columns ? columns : { chunks: [columns] };
  const stats = options.statisticsFor ? new Set(options.statisticsFor) : undefined;
  const buffer = parquetWriteBuffer({
    schema: parquetSchemaOf(fields),
    columnData: fields.map((field, i) => ({
      name: field.name,
      data: gatheredWriterValues(field, i, rows),
      statistics: stats ? stats.has(field.name) : true,
    })),
    ...parquetCodec(options.codec),
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
    compressors: ARCHIVE_DECOMPRESSORS,
  });
  return rows.map((row) => normaliseRecord(fields, row as Record<string, unknown>));
}
