/**
 * Pins the Parquet page forms the archive writes to the ones Athena's engine (Trino's Parquet reader)
 * is known to read (docs/parquet.md has the evidence): DATA_PAGE_V2 data pages and PLAIN dictionary
 * pages only; PLAIN, RLE_DICTIONARY (and RLE for booleans) only; a codec from GZIP/ZSTD/SNAPPY only;
 * `is_compressed` never false; every dictionary page advertised by its column chunk (the condition of
 * https://github.com/trinodb/trino/issues/16758); min/max statistics in `min_value`/`max_value` with
 * TypeDefinedOrder. A hyparquet-writer upgrade or a settings change that leaves these forms fails
 * here rather than in an Athena query months later.
 *
 * It walks every page header of every column chunk of a realistic CodeCatalyst day (several pages in
 * some columns, dictionary columns, an all-null column, structs with null parents) written by
 * `encodeParquet`, and of an OCSF API Activity file (lists, a map, INT32/INT64 leaves) written by
 * `encodeOcsfParquet`, and decompresses every page to the exact size its header states (Trino's GZIP
 * and SNAPPY decoders insist on that size).
 */
import * as zlib from 'node:zlib';
import { type FileMetaData, parquetMetadata, snappyUncompress } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { deserializeTCompactProtocol } from 'hyparquet/src/thrift.js';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeOcsfParquet } from '../../../lambdas/core/ocsf/parquet';
import { encodeParquet } from '../../../lambdas/core/parquet';
import type { ArchiveRecord } from '../../../lambdas/core/records';
import { toOcsf } from '../../../lambdas/core/sources/codecatalyst/ocsf';
import { CODECATALYST_FIELDS } from '../../../lambdas/core/sources/codecatalyst/schema';
import { codecatalystRecords, wireEntry } from '../ocsf/records';

type PageHeader = ReturnType<typeof parquetHeader>;
type ColumnMetaData = NonNullable<FileMetaData['row_groups'][number]['columns'][number]['meta_data']>;

/** Codecs Trino decompresses (ParquetCompressionUtils): BROTLI and LZ4_RAW throw, LZ4/LZO are Hadoop-framed. */
const TRINO_CODECS = new Set(['GZIP', 'ZSTD', 'SNAPPY']);
const PAGE_TYPES = new Set(['DICTIONARY_PAGE', 'DATA_PAGE_V2']);
const DATA_ENCODINGS = new Set(['PLAIN', 'RLE_DICTIONARY']);
/** Never: Trino gaps (BYTE_STREAM_SPLIT on integers, BROTLI, LZ4_RAW), hyparquet-writer's PLAIN_DICTIONARY footgun, DELTA_*. */
const FORBIDDEN = [
  'BROTLI',
  'LZ4_RAW',
  'LZ4',
  'LZO',
  'BYTE_STREAM_SPLIT',
  'PLAIN_DICTIONARY',
  'DELTA_BINARY_PACKED',
  'DELTA_LENGTH_BYTE_ARRAY',
  'DELTA_BYTE_ARRAY',
];

const DAY_START = Date.parse('2026-05-20T00:00:00.000Z');
const ROWS = 20_000;

/** A deterministic stream of numbers in [0, 1) (a fixed LCG: the file is the same on every run). */
function sequence(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0').slice(-width);

/**
 * A day of CodeCatalyst events as the ingest normalises them: low-cardinality columns (dictionary
 * pages, one with a single value: bit width 0), unique ids and payloads (PLAIN, over 1 MiB: several
 * pages), `errorCode` and `userIdentity.awsAccountId` null in every row, and null parent structs
 * (`userIdentity`, `projectInformation`, `responsePayload`) in some rows.
 */
function sampleDay(): ArchiveRecord[] {
  const random = sequence(15);
  const names = ['createProject', 'listProjects', 'getSpace', 'createDevEnvironment', 'startWorkflowRun'];
  const users = ['MaryMajor', 'JohnDoe', 'SaanviSarkar', 'JorgeSouza', 'ShirleyRodriguez', 'WangXiulan'];
  const projects = ['checkout-service', 'payments', 'web-frontend'];
  const entries: Record<string, unknown>[] = [];
  for (let i = 0; i < ROWS; i++) {
    const user = users[Math.floor(random() * users.length)]!;
    const project = projects[Math.floor(random() * projects.length)]!;
    const eventName = names[Math.floor(random() * names.length)]!;
    const nonce = `${hex(Math.floor(random() * 2 ** 32), 8)}${hex(Math.floor(random() * 2 ** 32), 8)}`;
    entries.push(
      wireEntry({
        id: `${hex(i, 8)}-${nonce.slice(0, 4)}-4${nonce.slice(4, 7)}-8${nonce.slice(7, 10)}-${nonce}${hex(i, 4)}`.slice(
          0,
          36,
        ),
        eventName,
        eventTime: new Date(DAY_START + i * 4_000 + Math.floor(random() * 1_000)).toISOString(),
        operationType: eventName.startsWith('list') || eventName.startsWith('get') ? 'READONLY' : 'MUTATION',
        userIdentity:
          i % 10 === 9 ? undefined : { userType: 'USER', principalId: `principal-${user}`, userName: user },
        projectInformation:
          i % 3 === 2
            ? undefined
            : { name: project, projectId: `c0ffee00-0000-4000-8000-${hex(projects.indexOf(project), 12)}` },
        requestId: `${nonce}-${hex(i, 6)}-${hex(Math.floor(random() * 2 ** 32), 8)}`,
        requestPayload: {
          contentType: 'application/json',
          data: JSON.stringify({
            spaceName: 'demo-space',
            projectName: project,
            clientToken: nonce,
            sequence: i,
            note: `request ${i} by ${user} at ${hex(Math.floor(random() * 2 ** 32), 8)}`,
          }),
        },
        responsePayload:
          i % 4 === 3
            ? undefined
            : { contentType: 'application/json', data: `{"name":"${project}","n":${i}}` },
        sourceIpAddress: `198.51.100.${1 + Math.floor(random() * 40)}`,
        userAgent: random() < 0.8 ? 'aws-cli/2.22.4' : 'aws-sdk-js/3.693.0',
      }),
    );
  }
  return codecatalystRecords(entries);
}

interface Page {
  header: PageHeader;
  /** Offset of the header in the file. */
  offset: number;
  /** The page's bytes after the header (`compressed_page_size` of them). */
  body: Uint8Array;
}

/** Every page of a column chunk, read from its first page through `total_compressed_size` bytes. */
function pagesOf(file: Uint8Array, meta: ColumnMetaData): Page[] {
  const dictionaryOffset = meta.dictionary_page_offset;
  const start = Number(
    dictionaryOffset !== undefined && dictionaryOffset < meta.data_page_offset
      ? dictionaryOffset
      : meta.data_page_offset,
  );
  const end = start + Number(meta.total_compressed_size);
  const reader = { view: new DataView(file.buffer, file.byteOffset, file.byteLength), offset: start };
  const pages: Page[] = [];
  while (reader.offset < end) {
    const offset = reader.offset;
    const header = parquetHeader(reader);
    const body = file.subarray(reader.offset, reader.offset + header.compressed_page_size);
    pages.push({ header, offset, body });
    reader.offset += header.compressed_page_size;
  }
  // total_compressed_size covers exactly the chunk's headers and pages.
  expect(reader.offset, meta.path_in_schema.join('.')).toBe(end);
  return pages;
}

const zstdDecompressSync = (zlib as unknown as { zstdDecompressSync?: (input: Uint8Array) => Buffer })
  .zstdDecompressSync;

/** Checks what aircompressor's ZSTD decoder (Trino's) refuses: a dictionary id, a window over 8 MiB. */
function checkZstdFrame(bytes: Uint8Array, where: string): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  expect(view.getUint32(0, true), `${where}: zstd magic`).toBe(0xfd2fb528);
  const descriptor = bytes[4]!;
  expect(descriptor & 0b11, `${where}: zstd dictionary id`).toBe(0);
  if ((descriptor & 0b100000) === 0) {
    const window = bytes[5]!;
    const base = 2 ** (10 + (window >>> 3));
    expect(base + (base / 8) * (window & 0b111), `${where}: zstd window size`).toBeLessThanOrEqual(2 ** 23);
  }
}

/** The page's values section decompressed; its length must be exactly what the header states. */
function decompressValues(codec: string, page: Page, levels: number, where: string): Uint8Array | undefined {
  const input = page.body.subarray(levels);
  const size = page.header.uncompressed_page_size - levels;
  let out: Uint8Array;
  switch (codec) {
    case 'GZIP':
      out = zlib.gunzipSync(input);
      break;
    case 'ZSTD':
      checkZstdFrame(input, where);
      if (!zstdDecompressSync) return undefined; // Node before 22.15: the header checks still ran.
      out = zstdDecompressSync(input);
      break;
    case 'SNAPPY':
      out = new Uint8Array(size);
      snappyUncompress(input, out);
      break;
    default:
      throw new Error(`${where}: codec ${codec} is not one Trino reads`);
  }
  expect(out.length, `${where}: decompressed size`).toBe(size);
  return out;
}

interface ChunkReport {
  path: string;
  type: string;
  codec: string;
  dictionary: boolean;
  dataPages: number;
  allNull: boolean;
  repeated: boolean;
  /** Bit widths of the RLE_DICTIONARY pages' indices. */
  bitWidths: number[];
}

/** Checks every column chunk of a file; returns what each held, for the coverage checks. */
function checkFile(file: Uint8Array): { metadata: FileMetaData; chunks: ChunkReport[] } {
  const metadata = parquetMetadata(file);
  const codecs = new Set<string>();
  const chunks: ChunkReport[] = [];
  const seen = new Set<string>();
  for (const group of metadata.row_groups) {
    for (const column of group.columns) {
      const meta = column.meta_data;
      expect(meta, 'column chunks carry their metadata inline').toBeDefined();
      if (!meta) continue;
      const path = meta.path_in_schema.join('.');
      codecs.add(meta.codec);
      expect(TRINO_CODECS.has(meta.codec), `${path}: codec ${meta.codec}`).toBe(true);
      for (const encoding of meta.encodings) {
        seen.add(encoding);
        expect(
          DATA_ENCODINGS.has(encoding) || (encoding === 'RLE' && meta.type === 'BOOLEAN'),
          `${path}: chunk encoding ${encoding}`,
        ).toBe(true);
      }

      const pages = pagesOf(file, meta);
      const report: ChunkReport = {
        path,
        type: meta.type,
        codec: meta.codec,
        dictionary: false,
        dataPages: 0,
        allNull: true,
        repeated: false,
        bitWidths: [],
      };
      let values = 0;
      pages.forEach((page, index) => {
        const { header } = page;
        const where = `${path} page ${index}`;
        seen.add(header.type);
        expect(PAGE_TYPES.has(header.type), `${where}: page type ${header.type}`).toBe(true);
        expect(header.data_page_header, `${where}: a v1 data page header`).toBeUndefined();
        if (header.type === 'DICTIONARY_PAGE') {
          // Trino: "has a dictionary page after the first position in column chunk" otherwise.
          expect(index, `${where}: dictionary page position`).toBe(0);
          expect(header.dictionary_page_header?.encoding, `${where}: dictionary encoding`).toBe('PLAIN');
          // The chunk advertises it (trinodb/trino#16758 needs an un-advertised one).
          expect(meta.dictionary_page_offset, `${where}: dictionary_page_offset`).toBe(BigInt(page.offset));
          expect(meta.encodings, `${where}: encodings list the dictionary`).toContain('RLE_DICTIONARY');
          report.dictionary = true;
          decompressValues(meta.codec, page, 0, where);
          return;
        }
        const v2 = header.data_page_header_v2;
        expect(v2, `${where}: DATA_PAGE_V2 header`).toBeDefined();
        if (!v2) return;
        seen.add(v2.encoding);
        if (report.dataPages === 0) {
          expect(meta.data_page_offset, `${where}: data_page_offset`).toBe(BigInt(page.offset));
        }
        report.dataPages++;
        values += v2.num_values;
        expect(
          DATA_ENCODINGS.has(v2.encoding) || (v2.encoding === 'RLE' && meta.type === 'BOOLEAN'),
          `${where}: data page encoding ${v2.encoding}`,
        ).toBe(true);
        if (v2.encoding === 'RLE_DICTIONARY') {
          expect(report.dictionary, `${where}: RLE_DICTIONARY after a dictionary page`).toBe(true);
        }
        expect(v2.is_compressed, `${where}: is_compressed`).not.toBe(false);
        const levels = v2.definition_levels_byte_length + v2.repetition_levels_byte_length;
        expect(levels, `${where}: levels inside the page`).toBeLessThanOrEqual(header.compressed_page_size);
        if (v2.repetition_levels_byte_length > 0) report.repeated = true;
        if (v2.num_nulls !== v2.num_values) report.allNull = false;
        const decoded = decompressValues(meta.codec, page, levels, where);
        if (decoded && v2.encoding === 'RLE_DICTIONARY' && decoded.length > 0)
          report.bitWidths.push(decoded[0]!);
      });
      expect(BigInt(values), `${path}: values in pages`).toBe(meta.num_values);
      if (!report.dictionary) {
        expect(
          meta.dictionary_page_offset,
          `${path}: no dictionary, no dictionary_page_offset`,
        ).toBeUndefined();
        expect(meta.encodings, `${path}: no dictionary`).not.toContain('RLE_DICTIONARY');
      }
      for (const stat of meta.encoding_stats ?? []) {
        seen.add(stat.encoding);
        expect(PAGE_TYPES.has(stat.page_type), `${path}: encoding_stats page type ${stat.page_type}`).toBe(
          true,
        );
      }
      if (meta.encoding_stats) {
        expect(
          meta.encoding_stats.some((s) => s.page_type === 'DICTIONARY_PAGE'),
          `${path}: encoding_stats list the dictionary page`,
        ).toBe(report.dictionary);
      }
      chunks.push(report);
    }
  }
  expect(codecs.size, 'one codec per file').toBe(1);
  for (const form of [...codecs, ...seen]) expect(FORBIDDEN, `form ${form}`).not.toContain(form);
  return { metadata, chunks };
}

interface RawStatistics {
  legacy: boolean;
  minMax: boolean;
}

/** The footer's raw Thrift: which chunks have statistics, in which fields, and the column orders. */
function rawFooter(file: Uint8Array): { stats: Map<string, RawStatistics>; typeDefinedOrders: boolean[] } {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const length = view.getUint32(file.byteLength - 8, true);
  const footer = deserializeTCompactProtocol({ view, offset: file.byteLength - 8 - length });
  const stats = new Map<string, RawStatistics>();
  for (const group of footer.field_4 as { field_1: { field_3: Record<string, unknown> }[] }[]) {
    for (const column of group.field_1) {
      const meta = column.field_3 as {
        field_3: Uint8Array[];
        field_12?: Record<string, unknown>;
      };
      if (!meta.field_12) continue;
      const path = meta.field_3.map((p) => new TextDecoder().decode(p)).join('.');
      stats.set(path, {
        legacy: meta.field_12.field_1 !== undefined || meta.field_12.field_2 !== undefined,
        minMax: meta.field_12.field_5 !== undefined && meta.field_12.field_6 !== undefined,
      });
    }
  }
  const orders = (footer.field_7 ?? []) as { field_1?: unknown }[];
  return { stats, typeDefinedOrders: orders.map((o) => o.field_1 !== undefined) };
}

describe('the archive day object (encodeParquet)', () => {
  let file: Uint8Array;
  let checked: ReturnType<typeof checkFile>;
  beforeAll(() => {
    file = encodeParquet(CODECATALYST_FIELDS, sampleDay(), {
      // As the ingest writes a day (lambdas/ingest/steps/commit-day.ts).
      statisticsFor: ['eventTime', 'id'],
      metadata: { source: 'codecatalyst', instance: 'demo-space', day: '2026-05-20' },
    });
    checked = checkFile(file);
  });

  it('has only the page types, encodings and codec Trino reads, every dictionary advertised', () => {
    // checkFile asserted per page; this names the file's codec for the report.
    expect(TRINO_CODECS).toContain(checked.chunks[0]!.codec);
    expect(checked.metadata.num_rows).toBe(BigInt(ROWS));
  });

  it('exercises the forms docs/parquet.md claims: several pages, dictionaries, bit width 0, all-null, null parents', () => {
    const { chunks } = checked;
    const byPath = new Map(chunks.map((c) => [c.path, c]));
    expect(
      chunks.some((c) => c.dataPages > 1),
      'a chunk with several data pages',
    ).toBe(true);
    expect(byPath.get('requestPayload.data')!.dataPages).toBeGreaterThan(1);
    expect(byPath.get('eventName')!.dictionary, 'eventName: dictionary').toBe(true);
    expect(byPath.get('eventType')!.bitWidths, 'eventType: one value, bit width 0').toContain(0);
    expect(byPath.get('id')!.dictionary, 'id: PLAIN').toBe(false);
    expect(byPath.get('errorCode')!.allNull, 'errorCode: all null').toBe(true);
    expect(byPath.get('userIdentity.awsAccountId')!.allNull, 'awsAccountId: all null').toBe(true);
    expect(byPath.get('projectInformation.name')!.allNull).toBe(false);
    expect(
      chunks.some((c) => c.repeated),
      'no repeated columns in a day object',
    ).toBe(false);
  });

  it('has INT64 TIMESTAMP(MILLIS, UTC) times, struct groups with optional parents, UTF8 strings', () => {
    const { schema } = checked.metadata;
    const element = (name: string) => schema.find((e) => e.name === name)!;
    expect(element('eventTime')).toMatchObject({
      type: 'INT64',
      repetition_type: 'REQUIRED',
      logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
    });
    expect(element('eventTime').converted_type).toBeUndefined();
    expect(element('id')).toMatchObject({
      type: 'BYTE_ARRAY',
      repetition_type: 'REQUIRED',
      converted_type: 'UTF8',
    });
    expect(element('projectInformation')).toMatchObject({ repetition_type: 'OPTIONAL', num_children: 2 });
    expect(element('projectInformation').type).toBeUndefined();
  });

  it('has min/max statistics on eventTime and id only, in min_value/max_value with TypeDefinedOrder', () => {
    const { stats, typeDefinedOrders } = rawFooter(file);
    const withMinMax = [...stats].filter(([, s]) => s.minMax).map(([path]) => path);
    expect(withMinMax.sort()).toEqual(['eventTime', 'id']);
    for (const [path, s] of stats) expect(s.legacy, `${path}: legacy min/max`).toBe(false);
    // Trino uses min_value/max_value only under TYPE_DEFINED_ORDER; one order per leaf column.
    expect(typeDefinedOrders.length).toBe(checked.chunks.length / checked.metadata.row_groups.length);
    expect(typeDefinedOrders.every(Boolean)).toBe(true);
  });
});

describe('the OCSF export file (encodeOcsfParquet)', () => {
  let checked: ReturnType<typeof checkFile>;
  beforeAll(() => {
    const events = sampleDay()
      .slice(0, 3_000)
      .map((record) =>
        toOcsf(record, { space: 'demo-space', region: 'eu-west-1', accountId: '111122223333' }),
      );
    checked = checkFile(encodeOcsfParquet('api_activity', events));
  });

  it('has only the page types, encodings and codec Trino reads, lists and maps included', () => {
    const { chunks, metadata } = checked;
    expect(TRINO_CODECS).toContain(chunks[0]!.codec);
    expect(
      chunks.some((c) => c.repeated),
      'list/map leaves carry repetition levels',
    ).toBe(true);
    expect(new Set(chunks.map((c) => c.type))).toEqual(new Set(['BYTE_ARRAY', 'INT32', 'INT64']));
    const converted = new Set(metadata.schema.map((e) => e.converted_type).filter(Boolean));
    expect(converted).toContain('LIST');
    expect(converted).toContain('MAP');
  });
});

describe('the checks themselves', () => {
  /** A small file straight from hyparquet-writer: one INT64 and one string column. */
  const write = (options: {
    encoding?: 'DELTA_BINARY_PACKED' | 'BYTE_STREAM_SPLIT';
    codec?: 'BROTLI' | 'ZSTD';
  }) => {
    const codec = options.codec ?? 'GZIP';
    const compress =
      codec === 'ZSTD'
        ? (zlib as unknown as { zstdCompressSync: (input: Uint8Array) => Buffer }).zstdCompressSync
        : codec === 'GZIP'
          ? zlib.gzipSync
          : (input: Uint8Array) => input; // labelled BROTLI: the label is what the check reads
    return new Uint8Array(
      parquetWriteBuffer({
        columnData: [
          {
            name: 'n',
            type: 'INT64',
            data: Array.from({ length: 500 }, (_, i) => BigInt(i * 7)),
            ...(options.encoding ? { encoding: options.encoding } : {}),
          },
          { name: 's', type: 'STRING', data: Array.from({ length: 500 }, (_, i) => `v${i % 5}`) },
        ],
        codec,
        compressors: { [codec]: (input: Uint8Array) => new Uint8Array(compress(input)) },
      }),
    );
  };

  it('accepts the writer defaults', () => {
    expect(() => checkFile(write({}))).not.toThrow();
  });

  it.skipIf(!zstdDecompressSync)('accepts ZSTD pages from node:zlib', () => {
    const { chunks } = checkFile(write({ codec: 'ZSTD' }));
    expect(chunks.map((c) => c.codec)).toEqual(['ZSTD', 'ZSTD']);
  });

  it.each([
    ['DELTA_BINARY_PACKED', { encoding: 'DELTA_BINARY_PACKED' as const }],
    ['BYTE_STREAM_SPLIT on INT64', { encoding: 'BYTE_STREAM_SPLIT' as const }],
    ['BROTLI', { codec: 'BROTLI' as const }],
  ])('rejects %s', (_, options) => {
    expect(() => checkFile(write(options))).toThrow();
  });
});
