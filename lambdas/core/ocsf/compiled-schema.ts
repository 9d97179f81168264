/**
 * The compiled OCSF schema: the classes the archive maps to, every object they reach and the data
 * types, each attribute already resolved (class and object inheritance, `$include`d includes and
 * profiles, the dictionary's definition merged with the class's or object's overrides), so the
 * validator reads it without knowing how the raw schema is laid out.
 *
 * `scripts/ocsf-schema.ts` writes it from the OCSF schema repository
 * (https://github.com/ocsf/ocsf-schema, tag v1.1.0) to `schema-1.1.0.json` beside this file; the
 * schema's LICENSE and NOTICE are beside it too (SCHEMA-LICENSE, SCHEMA-NOTICE).
 */
import compiled from './schema-1.1.0.json' with { type: 'json' };

/** One attribute of a class or an object, as the validator needs it. */
export interface CompiledAttribute {
  /** A data type of {@link CompiledOcsfSchema.types} (`string_t`, `ip_t`, `timestamp_t`…); absent for objects. */
  type?: string;
  /** The object type (a key of {@link CompiledOcsfSchema.objects}); absent for data types. */
  object?: string;
  /** An array of values of the type or object. */
  array?: true;
  /** Absent means optional. */
  requirement?: 'required' | 'recommended';
  /** Defined values (as object keys: `"1"`, `"99"`, `"GET"`) and their captions. */
  enum?: Record<string, string>;
  /** The string attribute that carries the enum value's caption, e.g. `activity_name` for `activity_id`. */
  sibling?: string;
  /** The profile the attribute belongs to: allowed only when the event names it in `metadata.profiles`. */
  profile?: string;
}

export interface CompiledConstraints {
  /** At least one of these attributes is present. */
  at_least_one?: string[];
  /** Exactly one of these attributes is present. */
  just_one?: string[];
}

export interface CompiledObject {
  caption: string;
  /** The observable type id of the object, when OCSF defines one. */
  observable?: number;
  constraints?: CompiledConstraints;
  /** No attributes: an open object (`object`, the type of `unmapped`) that holds anything. */
  attributes: Record<string, CompiledAttribute>;
}

export interface CompiledClass extends CompiledObject {
  /** `category_uid * 1000 + uid`, e.g. 6003. */
  uid: number;
  category: { uid: number; caption: string };
  /** Profiles the class supports (informational: the validator accepts any profile the schema defines). */
  profiles: string[];
}

/** A data type: its base type (absent for the primitives) and the constraints the dictionary gives. */
export interface CompiledType {
  type?: string;
  max_len?: number;
  range?: [number, number];
  regex?: string;
  values?: unknown[];
  observable?: number;
}

export interface CompiledOcsfSchema {
  /** The OCSF schema version, e.g. `1.1.0`: what `metadata.version` must say. */
  version: string;
  /** Where it was compiled from. */
  source: string;
  /** Every profile the schema defines. */
  profiles: string[];
  types: Record<string, CompiledType>;
  /** By class name, e.g. `api_activity`. */
  classes: Record<string, CompiledClass>;
  /** By object name, e.g. `user`. */
  objects: Record<string, CompiledObject>;
}

/** The committed OCSF 1.1.0 schema of the classes the archive maps to. */
export const OCSF_SCHEMA_1_1_0 = compiled as unknown as CompiledOcsfSchema;

/** The class with this `class_uid`, if the compiled schema has it. */
export function classByUid(schema: CompiledOcsfSchema, uid: number): [string, CompiledClass] | undefined {
  return Object.entries(schema.classes).find(([, c]) => c.uid === uid);
}
