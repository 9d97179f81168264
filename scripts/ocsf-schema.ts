/**
 * Compiles the OCSF schema of the classes the archive maps to into one JSON file the validator reads
 * (lambdas/core/ocsf/schema-1.1.0.json), and copies the schema's LICENSE and NOTICE beside it.
 * Run by hand when the mapped classes or the OCSF version change:
 *
 *   git clone --depth 1 --branch v1.1.0 https://github.com/ocsf/ocsf-schema
 *   npx tsx scripts/ocsf-schema.ts ocsf-schema
 *
 * The argument is a checkout of https://github.com/ocsf/ocsf-schema at tag v1.1.0. Resolution follows
 * the OCSF server (https://github.com/ocsf/ocsf-server), which renders https://schema.ocsf.io:
 *
 * - `$include` of an include (`includes/…`: its `annotations` become defaults of every attribute)
 *   or a profile (`profiles/…`: every attribute is tagged with the profile); the including file's
 *   own attributes win, and of two includes the earlier wins;
 * - `extends` of classes and objects, deep-merging the parent's attributes under the child's (an
 *   attribute set to `null` is removed, `"profile": null` untags a profile attribute); profiles add
 *   up, other keys (constraints, observable) are the child's when it has them, else the parent's;
 * - each attribute deep-merged over its dictionary.json definition (type, `is_array`, enum, sibling);
 *   a dictionary type that is not a data type names an object;
 * - `class_uid` = category uid × 1000 + class uid, with `class_uid`, `category_uid` and `type_uid`
 *   enums (type_uid = class_uid × 100 + activity_id) as the server derives them;
 * - a `<name>_dt` attribute (datetime_t, Date/Time profile) beside every timestamp_t attribute;
 * - the observable object's `type_id` enum extended with every data type and object that declares
 *   an `observable` id; requirement defaults to optional.
 *
 * Only the classes in {@link CLASSES} and the objects they reach (through any attribute, profile
 * ones included) are written, with only what validation needs.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type {
  CompiledAttribute,
  CompiledClass,
  CompiledObject,
  CompiledOcsfSchema,
  CompiledType,
} from '../lambdas/core/ocsf/compiled-schema';

/** The classes the archive maps to (https://schema.ocsf.io/1.1.0/classes/api_activity, …/entity_management). */
const CLASSES = ['api_activity', 'entity_management'];
const OUT_DIR = fileURLToPath(new URL('../lambdas/core/ocsf/', import.meta.url));

type Json = Record<string, unknown>;
const isMap = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The OCSF server's deep merge (Schema.Utils.deep_merge): maps merge, anything else is replaced by the right side. */
function deepMerge(left: unknown, right: unknown): unknown {
  if (!isMap(left) || !isMap(right)) return right === undefined ? left : right;
  const out: Json = { ...left };
  for (const [key, value] of Object.entries(right)) {
    const base = out[key];
    if (isMap(base) && isMap(value)) {
      if (Object.keys(base).length === 0) out[key] = value;
      else if (Object.keys(value).length > 0) out[key] = deepMerge(base, value);
    } else out[key] = value;
  }
  return out;
}

function readJson(file: string): Json {
  return JSON.parse(readFileSync(file, 'utf8')) as Json;
}

function jsonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.json'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

const attributesOf = (item: Json): Json => (isMap(item.attributes) ? item.attributes : {});

/** An included file's attributes: profile attributes tagged with the profile, annotations as defaults. */
function includedAttributes(home: string, file: string): Json {
  const data = resolveIncludes(home, readJson(path.join(home, file)));
  const profile = data.meta === 'profile' ? String(data.name) : undefined;
  const annotations = isMap(data.annotations) ? data.annotations : undefined;
  const out: Json = {};
  for (const [name, attribute] of Object.entries(attributesOf(data))) {
    let value = isMap(attribute) ? { ...attribute } : {};
    if (profile) value.profile = profile;
    if (annotations) value = deepMerge(annotations, value) as Json;
    out[name] = value;
  }
  return out;
}

function resolveIncludes(home: string, data: Json): Json {
  const attributes = attributesOf(data);
  const include = attributes.$include;
  if (include === undefined) return data;
  const files = Array.isArray(include) ? (include as string[]) : [include as string];
  let own: Json = { ...attributes };
  delete own.$include;
  for (const file of files) own = deepMerge(includedAttributes(home, file), own) as Json;
  return { ...data, attributes: own };
}

/** Reads a folder of classes or objects by name, includes resolved. */
function readItems(home: string, folder: string): Map<string, Json> {
  const items = new Map<string, Json>();
  for (const file of jsonFiles(path.join(home, folder))) {
    const item = resolveIncludes(home, readJson(file));
    const name = String(item.name ?? item.extends);
    if (items.has(name)) throw new Error(`${file}: ${name} is defined twice`);
    items.set(name, item);
  }
  return items;
}

/** Applies `extends` (Cache.resolve_extends): the parent's attributes under the child's, profiles added up. */
function resolveExtends(items: Map<string, Json>, item: Json, seen: string[] = []): Json {
  const parentName = item.extends;
  if (typeof parentName !== 'string') return item;
  const parentItem = items.get(parentName);
  if (!parentItem) throw new Error(`${String(item.name)} extends undefined ${parentName}`);
  if (seen.includes(parentName)) throw new Error(`extends cycle: ${[...seen, parentName].join(' → ')}`);
  const parent = resolveExtends(items, parentItem, [...seen, parentName]);
  const attributes = deepMerge(attributesOf(parent), attributesOf(item)) as Json;
  for (const [name, value] of Object.entries(attributes)) if (value === null) delete attributes[name];
  const profiles = [
    ...new Set([...((parent.profiles as string[]) ?? []), ...((item.profiles as string[]) ?? [])]),
  ];
  return { ...parent, ...item, profiles, attributes };
}

interface Dictionary {
  attributes: Record<string, Json>;
  types: Record<string, Json>;
}

function compileAttribute(name: string, own: Json, dictionary: Dictionary, where: string): CompiledAttribute {
  const base = dictionary.attributes[name];
  if (!base) throw new Error(`${where}.${name} is not in the dictionary`);
  const merged = deepMerge(base, own) as Json;
  const typeName = merged.type;
  if (typeof typeName !== 'string') throw new Error(`${where}.${name} has no type`);
  const out: CompiledAttribute = typeName in dictionary.types ? { type: typeName } : { object: typeName };
  if (merged.is_array === true) out.array = true;
  if (merged.requirement === 'required' || merged.requirement === 'recommended')
    out.requirement = merged.requirement;
  if (isMap(merged.enum)) {
    out.enum = {};
    const keys = Object.keys(merged.enum).sort(
      (a, b) => Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0),
    );
    for (const key of keys) out.enum[key] = String((merged.enum[key] as Json).caption);
  }
  if (typeof merged.sibling === 'string') out.sibling = merged.sibling;
  if (typeof merged.profile === 'string') out.profile = merged.profile;
  return out;
}

/** Every attribute of a class or object compiled, plus the `_dt` twin of each timestamp_t one. */
function compileAttributes(
  item: Json,
  dictionary: Dictionary,
  where: string,
): Record<string, CompiledAttribute> {
  const out: Record<string, CompiledAttribute> = {};
  for (const [name, own] of Object.entries(attributesOf(item)).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const attribute = compileAttribute(name, isMap(own) ? own : {}, dictionary, where);
    out[name] = attribute;
    // Cache.add_datetime: the Date/Time profile's attributes are generated, one per timestamp.
    if (dictionary.attributes[name]?.type === 'timestamp_t')
      out[`${name}_dt`] = {
        type: 'datetime_t',
        ...(attribute.array ? { array: true } : {}),
        profile: 'datetime',
      };
  }
  return out;
}

function compileConstraints(item: Json): CompiledObject['constraints'] {
  if (!isMap(item.constraints)) return undefined;
  const out: NonNullable<CompiledObject['constraints']> = {};
  for (const [kind, names] of Object.entries(item.constraints)) {
    if (kind !== 'at_least_one' && kind !== 'just_one') throw new Error(`unknown constraint ${kind}`);
    out[kind] = [...(names as string[])];
  }
  return out;
}

function main(home: string): void {
  const version = String(readJson(path.join(home, 'version.json')).version);
  const dictionaryJson = readJson(path.join(home, 'dictionary.json'));
  const dictionary: Dictionary = {
    attributes: attributesOf(dictionaryJson) as Record<string, Json>,
    types: attributesOf(dictionaryJson.types as Json) as Record<string, Json>,
  };
  const categories = attributesOf(readJson(path.join(home, 'categories.json'))) as Record<string, Json>;
  const profiles = jsonFiles(path.join(home, 'profiles'))
    .map((file) => String(readJson(file).name))
    .sort();

  const rawClasses = readItems(home, 'events');
  const rawObjects = readItems(home, 'objects');
  const objects = new Map([...rawObjects].map(([name, item]) => [name, resolveExtends(rawObjects, item)]));

  const types: Record<string, CompiledType> = {};
  for (const [name, type] of Object.entries(dictionary.types).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const { caption: _c, description: _d, type_name: _t, ...rest } = type;
    types[name] = rest as CompiledType;
  }

  const classes: Record<string, CompiledClass> = {};
  for (const name of CLASSES) {
    const raw = rawClasses.get(name);
    if (!raw) throw new Error(`no class ${name}`);
    const item = resolveExtends(rawClasses, raw);
    const category = categories[String(item.category)];
    if (!category) throw new Error(`class ${name}: unknown category ${String(item.category)}`);
    const categoryUid = Number(category.uid);
    const uid = categoryUid * 1000 + Number(item.uid);
    const attributes = compileAttributes(item, dictionary, name);
    const caption = String(item.caption);
    // Cache.enrich_class: the class's own uids as one-value enums, type_uid from the activities.
    attributes.class_uid = { ...attributes.class_uid!, enum: { [uid]: caption } };
    attributes.category_uid = {
      ...attributes.category_uid!,
      enum: { [categoryUid]: String(category.caption) },
    };
    const typeEnum: Record<string, string> = {};
    for (const [id, activity] of Object.entries(attributes.activity_id?.enum ?? {}))
      typeEnum[uid * 100 + Number(id)] = `${caption}: ${activity}`;
    attributes.type_uid = { ...attributes.type_uid!, enum: typeEnum };
    classes[name] = {
      caption,
      uid,
      category: { uid: categoryUid, caption: String(category.caption) },
      profiles: [...new Set([...((item.profiles as string[]) ?? []), 'datetime'])].sort(),
      attributes,
    };
  }

  // Every object the classes reach, through any attribute (profile ones too).
  const compiledObjects: Record<string, CompiledObject> = {};
  const pending = Object.values(classes).flatMap((c) => Object.values(c.attributes));
  while (pending.length > 0) {
    const name = pending.pop()!.object;
    if (!name || name in compiledObjects) continue;
    const item = objects.get(name);
    if (!item) throw new Error(`no object ${name}`);
    const compiled: CompiledObject = {
      caption: String(item.caption),
      attributes: compileAttributes(item, dictionary, name),
    };
    const constraints = compileConstraints(item);
    if (constraints) compiled.constraints = constraints;
    if (typeof item.observable === 'number') compiled.observable = item.observable;
    compiledObjects[name] = compiled;
    pending.push(...Object.values(compiled.attributes));
  }

  // Cache.update_observables: observable.type_id lists the data types and the (non-derived) objects
  // that declare an observable id, wherever they are used.
  const observable = compiledObjects.observable?.attributes.type_id;
  if (observable?.enum) {
    for (const type of Object.values(dictionary.types))
      if (typeof type.observable === 'number') observable.enum[type.observable] = String(type.caption);
    for (const item of rawObjects.values())
      if (
        typeof item.observable === 'number' &&
        ['object', '_entity', undefined].includes(item.extends as string)
      )
        observable.enum[item.observable] = String(item.caption);
    observable.enum = Object.fromEntries(
      Object.entries(observable.enum).sort(([a], [b]) => Number(a) - Number(b)),
    );
  }

  const schema: CompiledOcsfSchema = {
    version,
    source: `https://github.com/ocsf/ocsf-schema/tree/v${version}`,
    profiles,
    types,
    classes,
    objects: Object.fromEntries(Object.entries(compiledObjects).sort(([a], [b]) => (a < b ? -1 : 1))),
  };
  const out = path.join(OUT_DIR, `schema-${version}.json`);
  writeFileSync(out, `${stringify(schema)}\n`);
  // Written, not copied: a checkout's read-only modes would make the copies read-only.
  writeFileSync(path.join(OUT_DIR, 'SCHEMA-LICENSE'), readFileSync(path.join(home, 'LICENSE')));
  writeFileSync(path.join(OUT_DIR, 'SCHEMA-NOTICE'), readFileSync(path.join(home, 'NOTICE')));
  console.log(
    `${path.relative(process.cwd(), out)}: ${Object.keys(classes).length} classes, ` +
      `${Object.keys(compiledObjects).length} objects, ${statSync(out).size} bytes`,
  );
}

/** JSON with one line per attribute: small, and a diff shows which attribute changed. */
function stringify(value: unknown, depth = 0): string {
  if (!isMap(value) || depth >= 4) return JSON.stringify(value);
  const pad = '  '.repeat(depth + 1);
  const entries = Object.entries(value).map(
    ([k, v]) => `${pad}${JSON.stringify(k)}: ${stringify(v, depth + 1)}`,
  );
  return entries.length === 0 ? '{}' : `{\n${entries.join(',\n')}\n${'  '.repeat(depth)}}`;
}

const home = process.argv[2];
if (!home) {
  console.error(
    'usage: npx tsx scripts/ocsf-schema.ts <checkout of https://github.com/ocsf/ocsf-schema at v1.1.0>',
  );
  process.exit(2);
}
main(path.resolve(home));
