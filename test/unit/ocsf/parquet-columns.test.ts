/**
 * The columns of the OCSF Parquet files (lambdas/core/ocsf/parquet.ts `OCSF_COLUMNS`) are written out
 * so the ingest bundle carries no schema; here they are derived again from the compiled OCSF schema
 * (each attribute's data type through its base types, objects, arrays, the open `unmapped` object)
 * and must be the same, attribute for attribute.
 */
import { describe, expect, it } from 'vitest';
import { type CompiledAttribute, OCSF_SCHEMA_1_1_0 as schema } from '../../../lambdas/core/ocsf';
import { OCSF_COLUMNS, type OcsfColumn, ocsfColumns } from '../../../lambdas/core/ocsf/parquet';

/** The Parquet type of an OCSF data type: its own, or the first base type that has one. */
function leafKind(type: string): Exclude<OcsfColumn['kind'], 'struct' | 'map'> {
  const kinds: Record<string, Exclude<OcsfColumn['kind'], 'struct' | 'map'>> = {
    timestamp_t: 'int64',
    long_t: 'int64',
    integer_t: 'int32',
    port_t: 'int32',
    boolean_t: 'boolean',
    float_t: 'double',
    json_t: 'json',
    string_t: 'string',
  };
  for (let t: string | undefined = type, depth = 0; t && depth < 10; t = schema.types[t]?.type, depth++) {
    const kind = kinds[t];
    if (kind) return kind;
  }
  throw new Error(`OCSF data type ${type}: no Parquet type`);
}

/** The columns the schema says the same attribute names have. */
function fromSchema(
  attributes: Record<string, CompiledAttribute>,
  columns: readonly OcsfColumn[],
  where: string,
): OcsfColumn[] {
  return columns.map((column) => {
    const attribute = attributes[column.name];
    if (!attribute) throw new Error(`${where}.${column.name}: not an attribute of the schema`);
    const array = attribute.array === true ? { array: true } : {};
    if (attribute.object) {
      const object = schema.objects[attribute.object]!;
      if (Object.keys(object.attributes).length === 0) return { name: column.name, kind: 'map' };
      const children = column.kind === 'struct' ? column.children : [];
      return {
        name: column.name,
        kind: 'struct',
        children: fromSchema(object.attributes, children, `${where}.${column.name}`),
        ...array,
      };
    }
    return { name: column.name, kind: leafKind(attribute.type ?? 'string_t'), ...array };
  });
}

describe('OCSF_COLUMNS', () => {
  it.each(Object.keys(OCSF_COLUMNS))(
    '%s: every column is an attribute of the class, typed as the schema types it',
    (className) => {
      const columns = ocsfColumns(className);
      expect(columns).toEqual(fromSchema(schema.classes[className]!.attributes, columns, className));
    },
  );

  it('covers exactly the classes the mappings produce', () => {
    expect(Object.keys(OCSF_COLUMNS).sort()).toEqual(Object.keys(schema.classes).sort());
    expect(() => ocsfColumns('file_activity')).toThrow(
      'OCSF class file_activity: the archive writes no such class',
    );
  });
});
