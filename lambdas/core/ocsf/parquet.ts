/**
 * OCSF events as Parquet, the form Amazon Security Lake takes from a custom source
 * (https://docs.aws.amazon.com/security-lake/latest/userguide/custom-sources.html): one column per
 * top-level attribute, nested OCSF objects as Parquet structs, arrays as LISTs, `unmapped` as a
 * MAP<STRING, STRING>, and times as OCSF's `timestamp_t` (epoch milliseconds, INT64).
 *
 * Which attributes become columns is each class's {@link OCSF_LAYOUTS} entry: exactly the attributes
 * the mappings fill (lambdas/core/sources/<source>/ocsf.ts), so the table a crawler makes of the files
 * is not hundreds of empty columns wide. Their Parquet types are not written here but read from the
 * compiled schema (the attribute's data type and its base types), so a column can never disagree
 * with what OCSF says the attribute is.
 */
import { gzipSync } from 'node:zlib';
import type { SchemaElement } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { CompiledAttribute, CompiledOcsfSchema } from './compiled-schema';
import type { OcsfEvent } from './types';

/** Attributes to write: `true` for a value (or an array of values), a nested layout for an object. */
export interface OcsfLayout {
  readonly [attribute: string]: true | OcsfLayout;
}

const ACCOUNT: OcsfLayout = { uid: true, name: true, type_id: true, type: true };
const USER: OcsfLayout = { uid: true, name: true, type_id: true, type: true, account: ACCOUNT };
const BASE: OcsfLayout = {
  time: true,
  class_uid: true,
  class_name: true,
  category_uid: true,
  category_name: true,
  activity_id: true,
  activity_name: true,
  type_uid: true,
  type_name: true,
  severity_id: true,
  severity: true,
  status_id: true,
  status: true,
  status_code: true,
  message: true,
  metadata: {
    version: true,
    product: { name: true, vendor_name: true, version: true },
    uid: true,
    original_time: true,
    logged_time: true,
    log_name: true,
    log_provider: true,
    event_code: true,
    profiles: true,
  },
  cloud: { provider: true, region: true, account: ACCOUNT },
  actor: { user: USER },
};

/** The columns of each class the archive writes, by class name. */
export const OCSF_LAYOUTS: Readonly<Record<string, OcsfLayout>> = {
  api_activity: {
    ...BASE,
    api: {
      operation: true,
      service: { name: true, uid: true },
      request: { uid: true, data: true },
      response: { error: true, error_message: true, message: true, data: true },
    },
    src_endpoint: { ip: true, svc_name: true, name: true },
    http_request: { user_agent: true },
    resources: { uid: true, name: true, type: true },
    unmapped: true,
  },
  entity_management: {
    ...BASE,
    entity: { uid: true, name: true, type: true },
    unmapped: true,
  },
};

/** A column of the file: a leaf of one Parquet type, a struct, a list of one of those, or the string map. */
export type OcsfColumn =
  | { name: string; kind: 'string' | 'json' | 'int32' | 'int64' | 'boolean' | 'double'; array?: boolean }
  | { name: string; kind: 'struct'; children: OcsfColumn[]; array?: boolean }
  | { name: string; kind: 'map' };

/** The columns of `className` per its layout, typed from the compiled schema. */
export function ocsfColumns(schema: CompiledOcsfSchema, className: string): OcsfColumn[] {
  const cls = schema.classes[className];
  const layout = OCSF_LAYOUTS[className];
  if (!cls || !layout)
    throw new Error(`OCSF class ${className}: not in the compiled schema or without a layout`);
  const columnsOf = (
    attributes: Record<string, CompiledAttribute>,
    of: OcsfLayout,
    where: string,
  ): OcsfColumn[] =>
    Object.entries(of).map(([name, sub]) => {
      const attribute = attributes[name];
      if (!attribute) throw new Error(`OCSF ${where}.${name}: not an attribute in the schema`);
      const array = attribute.array === true;
      if (attribute.object) {
        const object = schema.objects[attribute.object];
        if (!object)
          throw new Error(`OCSF ${where}.${name}: object ${attribute.object} is not in the schema`);
        // An open object (`unmapped`: no attributes of its own) holds the mappings' string map.
        if (Object.keys(object.attributes).length === 0) return { name, kind: 'map' };
        if (sub === true) throw new Error(`OCSF ${where}.${name}: an object needs a nested layout`);
        return {
          name,
          kind: 'struct',
          children: columnsOf(object.attributes, sub, `${where}.${name}`),
          array,
        };
      }
      if (sub !== true) throw new Error(`OCSF ${where}.${name}: a value has no nested layout`);
      return { name, kind: leafKind(schema, attribute.type ?? 'string_t'), array };
    });
  return columnsOf(cls.attributes, layout, className);
}

/** The Parquet type of an OCSF data type: its own, or the first base type that has one. */
function leafKind(schema: CompiledOcsfSchema, type: string): Exclude<OcsfColumn['kind'], 'struct' | 'map'> {
  for (let t: string | undefined = type, depth = 0; t && depth < 10; t = schema.types[t]?.type, depth++) {
    switch (t) {
      case 'timestamp_t':
      case 'long_t':
        return 'int64';
      case 'integer_t':
      case 'port_t':
        return 'int32';
      case 'boolean_t':
        return 'boolean';
      case 'float_t':
        return 'double';
      case 'json_t':
        return 'json';
      case 'string_t':
        return 'string';
    }
  }
  throw new Error(`OCSF data type ${type}: no Parquet type`);
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

/** Level 6, as the archive's own files (lambdas/core/parquet.ts). */
const GZIP_LEVEL = 6;

/**
 * One Parquet file of events of one class, sorted by time (then event id), as Security Lake asks of a
 * custom source. Throws on an attribute outside the layout: an event must never lose a value silently.
 */
export function encodeOcsfParquet(
  schema: CompiledOcsfSchema,
  className: string,
  events: readonly OcsfEvent[],
): Uint8Array {
  const columns = ocsfColumns(schema, className);
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
    codec: 'GZIP',
    compressors: { GZIP: (input: Uint8Array) => new Uint8Array(gzipSync(input, { level: GZIP_LEVEL })) },
    rowGroupSize: 100_000,
    kvMetadata: [{ key: 'ocsf.version', value: schema.version }],
    createdBy: 'eventlog-archive',
  });
  return new Uint8Array(buffer);
}
