/**
 * Glue columns from a source's field declaration (the same `FieldSpec` list the Parquet schema derives
 * from), so that a table's catalog entry can never drift from the files the ingest writes.
 */
import type { FieldSpec } from '../lambdas/core/records';

/** A Glue column as `CfnTable`'s `StorageDescriptor.Columns` takes it. */
export interface GlueColumn {
  readonly name: string;
  readonly type: string;
}

/**
 * The Hive type of one field: `string` and `json` → `string` (JSON is kept as the text the source sent),
 * `timestamp` → `timestamp` (Parquet INT64 millis, UTC), `struct` → `struct<name:type,...>`.
 *
 * @example
 * glueTypeOf({ name: 'p', type: 'struct', fields: [{ name: 'data', type: 'string' }] }); // 'struct<data:string>'
 */
export function glueTypeOf(field: FieldSpec): string {
  switch (field.type) {
    case 'struct':
      return `struct<${field.fields.map((child) => `${child.name}:${glueTypeOf(child)}`).join(',')}>`;
    case 'timestamp':
      return 'timestamp';
    case 'json':
    case 'string':
      return 'string';
    default: {
      // A new FieldSpec type fails type checking here instead of becoming a wrong column.
      const unknown: never = field;
      throw new Error(`glueTypeOf: unsupported field type in ${JSON.stringify(unknown)}`);
    }
  }
}

/**
 * Every declared field as a Glue column, in declaration order.
 *
 * @example
 * glueColumnsOf(CODECATALYST_FIELDS); // [{ name: 'id', type: 'string' }, ..., { name: 'eventTime', type: 'timestamp' }, ...]
 */
export function glueColumnsOf(fields: readonly FieldSpec[]): GlueColumn[] {
  return fields.map((field) => ({ name: field.name, type: glueTypeOf(field) }));
}
