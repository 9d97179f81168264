/**
 * Parquet encoding of archived records with hyparquet-writer (pure JS, ~40 KB in the bundle).
 * New files are ZSTD: node:zlib has it from Node.js 22.15 (the floor), and Athena (Trino) and DuckDB
 * read it (docs/parquet.md). Files written before are GZIP and stay readable: the reader takes both,
 * and a day rewritten by a later run becomes ZSTD.
 */
import { constants, gunzipSync, gzipSync, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { type ArchiveRecord, type FieldSpec, normaliseRecord, parquetSchemaOf } from './records';

/** The codecs the archive writes: ZSTD now, GZIP before (still read, and writable for tests). */
export type ArchiveCodec = 'ZSTD' | 'GZIP';

/**
 * ZSTD level 8, decided by measurement (100k events, Node 24, CPU µs/event of the whole encode,
 * median of 3 after a warm-up; bench/README.md): 23.4 µs for 117.2 B/event (0.684× gzip JSON Lines),
 * against GZIP -6's 26.7 µs and 123.8 B (0.723×). Level 9 gives the same bytes for 1 µs more, level 7
 * 120.4 B, level 10 114.4 B for 27.2 µs. Its window stays far below the 8 MiB Trino's decompressor
 * accepts.
 */
const ZSTD_LEVEL = 8;
/** GZIP -6, the level the archive's GZIP files were written at. */
const GZIP_LEVEL = 6;

const COMPRESSORS: Record<ArchiveCodec, (input: Uint8Array) => Uint8Array> = {
  ZSTD: (input) =>
    new Uint8Array(zstdCompressSync(input, { params: { [constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL } })),
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
  const stats = options.statisticsFor ? new Set(options.statisticsFor) : undefined;
  const buffer = parquetWriteBuffer({
    schema: parquetSchemaOf(fields),
    columnData: fields.map((field) => ({
      name: field.name,
      data: records.map((r) => r[field.name]),
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
