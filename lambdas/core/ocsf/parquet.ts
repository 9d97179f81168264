/**
 * OCSF events as Parquet, the form Amazon Security Lake takes from a custom source
 * (https://docs.aws.amazon.com/security-lake/latest/userguide/custom-sources.html): one column per
 * top-level attribute, nested OCSF objects as Parquet structs, arrays as LISTs, `unmapped` as a
 * MAP<STRING, STRING>, and times as OCSF's `timestamp_t` (epoch milliseconds, INT64).
 *
 * Which attributes become columns is each class's {@link OCSF_COLUMNS} entry: exactly the attributes
 * the mappings fill (lambdas/core/sources/<source>/ocsf.ts), so the table a crawler makes of the files
 * is not hundreds of empty columns wide.
 */
import type { SchemaElement } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { type ArchiveCodec, parquetCodec } from '../parquet';
import { OCSF_VERSION } from './classification';
import type { OcsfEvent } from './types';

/** A column of the file: a leaf of one Parquet type, a struct, a list of one of those, or the string map. */
export type OcsfColumn =
  | { name: string; kind: 'string' | 'json' | 'int32' | 'int64' | 'boolean' | 'double'; array?: boolean }
  | { name: string; kind: 'struct'; children: OcsfColumn[]; array?: boolean }
  | { name: string; kind: 'map' };

const LIST = true;
const leaf =
  (kind: 'string' | 'json' | 'int32' | 'int64') =>
  (name: string, array = false): OcsfColumn => ({ name, kind, ...(array ? { array } : {}) });
const str = leaf('string');
const json = leaf('json');
const int32 = leaf('int32');
const int64 = leaf('int64');
const struct = (name: string, children: OcsfColumn[], array = false): OcsfColumn => ({
  name,
  kind: 'struct',
  children,
  ...(array ? { array } : {}),
});
const map = (name: string): OcsfColumn => ({ name, kind: 'map' });

const account = (): OcsfColumn => struct('account', [str('uid'), str('name'), int32('type_id'), str('type')]);
const BASE: OcsfColumn[] = [
  int64('time'),
  int32('class_uid'),
  str('class_name'),
  int32('category_uid'),
  str('category_name'),
  int32('activity_id'),
  str('activity_name'),
  int64('type_uid'),
  str('type_name'),
  int32('severity_id'),
  str('severity'),
  int32('status_id'),
  str('status'),
  str('status_code'),
  str('message'),
  struct('metadata', [
    str('version'),
    struct('product', [str('name'), str('vendor_name'), str('version')]),
    str('uid'),
    str('original_time'),
    int64('logged_time'),
    str('log_name'),
    str('log_provider'),
    str('event_code'),
    str('profiles', LIST),
  ]),
  struct('cloud', [str('provider'), str('region'), account()]),
  struct('actor', [struct('user', [str('uid'), str('name'), int32('type_id'), str('type'), account()])]),
];

/**
 * The columns of each class the archive writes, by class name: exactly the attributes the mappings
 * fill, with the Parquet type of each attribute's OCSF data type (`timestamp_t`/`long_t` INT64,
 * `integer_t` INT32, `json_t` JSON text, objects structs, `unmapped` the string map).
 * test/unit/ocsf/parquet-columns.test.ts derives the same from the compiled schema, so they can never
 * disagree with OCSF; the schema itself stays out of the ingest bundle.
 */
export const OCSF_COLUMNS: Readonly<Record<string, readonly OcsfColumn[]>> = {
  api_activity: [
    ...BASE,
    struct('api', [
      str('operation'),
      struct('service', [str('name'), str('uid')]),
      struct('request', [str('uid'), json('data')]),
      struct('response', [str('error'), str('error_message'), str('message'), json('data')]),
    ]),
    struct('src_endpoint', [str('ip'), str('svc_name'), str('name')]),
    struct('http_request', [str('user_agent')]),
    struct('resources', [str('uid'), str('name'), str('type')], LIST),
    map('unmapped'),
  ],
  entity_management: [...BASE, struct('entity', [str('uid'), str('name'), str('type')]), map('unmapped')],
};

/** The columns of a class; an error naming it when the archive writes no such class. */
export function ocsfColumns(className: string): readonly OcsfColumn[] {
  const columns = Object.hasOwn(OCSF_COLUMNS, className) ? OCSF_COLUMNS[className] : undefined;
  if (!columns) throw new Error(`OCSF class ${className}: the archive writes no such class`);
  return columns;
}

/** The Parquet schema of the columns (every column optional: OCSF requirements are the validator's). */
export function parquetSchemaOfColumns(columns: readonly OcsfColumn[]): SchemaElement[] {
  const out: SchemaElement[] = [{ name: 'root', num_children: columns.length }];
  const add = (column: OcsfColumn): void => {
    if (column.kind === 'map') {
      out.push({ name: column.name, repetition_type: 'OPTIONAL', converted_type: 'MAP', num_children: 1 });
      out.push({ name: 'key_value', repetition_type: 'REPEATED', num_children: 2 });
      out.push({ name: 'key', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' });
      out.push({ name: 'value', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' });
      return;
    }
    if (column.array) {
      // The three-level LIST of the Parquet format (https://github.com/apache/parquet-format/blob/master/LogicalTypes.md#lists).
      out.push({ name: column.name, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 });
      out.push({ name: 'list', repetition_type: 'REPEATED', num_children: 1 });
      element({ ...column, name: 'element', array: false });
      return;
    }
    element(column);
  };
  const element = (column: OcsfColumn): void => {
    const repetition_type = 'OPTIONAL';
    switch (column.kind) {
      case 'struct':
        out.push({ name: column.name, repetition_type, num_children: column.children.length });
        for (const child of column.children) add(child);
        return;
      case 'int64':
        out.push({ name: column.name, type: 'INT64', repetition_type });
        return;
      case 'int32':
        out.push({ name: column.name, type: 'INT32', repetition_type });
        return;
      case 'boolean':
        out.push({ name: column.name, type: 'BOOLEAN', repetition_type });
        return;
      case 'double':
        out.push({ name: column.name, type: 'DOUBLE', repetition_type });
        return;
      case 'map':
        add(column);
        return;
      default:
        // `json` too: the JSON text as UTF8 (with the JSON annotation the writer would stringify it again).
        out.push({ name: column.name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type });
    }
  };
  for (const column of columns) add(column);
  return out;
}

/** Turns a value of a column into what the writer takes; compiled once per column, not per event. */
type Converter = (value: unknown) => unknown;

/**
 * The converter of `column`: int64 as bigint, json as text, structs rebuilt only where something
 * below them needs converting (a struct of strings passes through as it is: the writer reads only
 * the schema's fields of it). `undefined` where the value passes through unchanged.
 */
function converterOf(column: OcsfColumn): Converter | undefined {
  const one = ((): Converter | undefined => {
    switch (column.kind) {
      case 'map':
        return undefined;
      case 'int64':
        return (v) => BigInt(Math.trunc(Number(v)));
      case 'json':
        return (v) => (typeof v === 'string' ? v : JSON.stringify(v));
      case 'struct': {
        const children = column.children.map((child) => [child.name, converterOf(child)] as const);
        if (children.every(([, c]) => c === undefined)) return undefined;
        return (v) => {
          const out: Record<string, unknown> = { ...(v as Record<string, unknown>) };
          for (const [name, convert] of children) {
            const value = out[name];
            if (convert && value !== undefined && value !== null) out[name] = convert(value);
          }
          return out;
        };
      }
      default:
        return undefined;
    }
  })();
  if (column.kind === 'map' || !column.array || !one) return one;
  return (v) =>
    Array.isArray(v) ? v.map((item) => (item === null || item === undefined ? item : one(item))) : null;
}

/** Which attribute names each struct holds, to refuse an attribute the file would drop. */
interface Coverage {
  readonly names: ReadonlySet<string>;
  readonly structs: ReadonlyMap<string, { readonly array: boolean; readonly coverage: Coverage }>;
}

function coverageOf(columns: readonly OcsfColumn[]): Coverage {
  const structs = new Map<string, { array: boolean; coverage: Coverage }>();
  for (const c of columns)
    if (c.kind === 'struct')
      structs.set(c.name, { array: c.array === true, coverage: coverageOf(c.children) });
  return { names: new Set(columns.map((c) => c.name)), structs };
}

/** Throws when `value` has an attribute (at any depth) that the columns do not hold. */
function checkCovered(coverage: Coverage, value: Record<string, unknown>, where: string): void {
  for (const name in value) {
    const v = value[name];
    if (v === undefined || v === null) continue;
    if (!coverage.names.has(name)) throw new Error(`OCSF ${where}.${name}: not a column of the file layout`);
    const struct = coverage.structs.get(name);
    if (!struct) continue;
    if (struct.array && Array.isArray(v)) {
      for (const item of v)
        if (item) checkCovered(struct.coverage, item as Record<string, unknown>, `${where}.${name}`);
    } else checkCovered(struct.coverage, v as Record<string, unknown>, `${where}.${name}`);
  }
}

/**
 * One Parquet file of events of one class, sorted by time (then event id), as Security Lake asks of a
 * custom source. Throws on an attribute outside the layout: an event must never lose a value silently.
 */
export function encodeOcsfParquet(
  className: string,
  events: readonly OcsfEvent[],
  codec?: ArchiveCodec,
): Uint8Array {
  const columns = ocsfColumns(className);
  const coverage = coverageOf(columns);
  const sorted = [...events].sort(
    (a, b) =>
      a.time - b.time || (a.metadata.uid < b.metadata.uid ? -1 : a.metadata.uid > b.metadata.uid ? 1 : 0),
  );
  for (const event of sorted) checkCovered(coverage, event as unknown as Record<string, unknown>, className);
  const buffer = parquetWriteBuffer({
    schema: parquetSchemaOfColumns(columns),
    columnData: columns.map((column) => {
      const convert = converterOf(column);
      const data = sorted.map((event) => {
        const value = (event as unknown as Record<string, unknown>)[column.name];
        return value === undefined || value === null ? null : convert ? convert(value) : value;
      });
      return {
        name: column.name,
        data,
        // Min/max of the time column let a reader skip files and row groups outside a range.
        statistics: column.name === 'time',
      };
    }),
    // The archive's codec: ZSTD, which Security Lake's Athena (Trino) reads (docs/parquet.md).
    ...parquetCodec(codec),
    rowGroupSize: 100_000,
    kvMetadata: [{ key: 'ocsf.version', value: OCSF_VERSION }],
    createdBy: 'eventlog-archive',
  });
  return new Uint8Array(buffer);
}
