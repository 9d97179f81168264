/**
 * Checks an OCSF event against the compiled schema (compiled-schema.ts), with the rules of the OCSF
 * server's event validator (https://github.com/ocsf/ocsf-server, `Schema.Validator2`), stricter in
 * one respect: what the server only warns about (an enum caption that does not match, a string that
 * does not match its type's pattern) is a problem here too, since the archive writes both itself.
 *
 * Rules: the class named by `class_uid`; required attributes present, at every level; no attribute
 * the class or object does not define (an object with no attributes, such as `unmapped`, holds
 * anything); profile attributes only when `metadata.profiles` names the profile, and only profiles
 * the schema defines; every value of its data type (base type, `max_len`, `range`, `regex`, `values`)
 * or object, arrays where the schema says so; enum values defined, and a present sibling caption
 * (`activity_name`, `status`, `severity`, `type`…) equal to the value's caption, except for 99
 * (Other), whose caption is the source's own; the objects' `at_least_one` / `just_one` constraints;
 * `type_uid` = `class_uid` × 100 + `activity_id`; `metadata.version` the schema's version.
 *
 * Pure: no I/O. Problems are readable strings that start with the attribute's path.
 */
import {
  type CompiledAttribute,
  type CompiledObject,
  type CompiledOcsfSchema,
  classByUid,
} from './compiled-schema';

/** OCSF integer_t is 64-bit and long_t 128-bit (OCSF server `is_integer_t` / `is_long_t`). */
const INTEGER_BITS: Record<string, bigint> = { integer_t: 63n, long_t: 127n };
const OTHER = '99';

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON-ish rendering of a value for a message, cut short. */
function show(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'bigint' ? `${value}` : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

function join(parent: string, name: string): string {
  return parent === '' ? name : `${parent}.${name}`;
}

/** Code points, not UTF-16 units: no stricter than the OCSF server, which counts graphemes. */
function codePointLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

class Validation {
  readonly problems: string[] = [];
  private readonly regexes = new Map<string, RegExp>();

  constructor(
    private readonly schema: CompiledOcsfSchema,
    private readonly profiles: ReadonlySet<string>,
  ) {}

  add(path: string, rule: string): void {
    this.problems.push(`${path || '(event)'}: ${rule}`);
  }

  /** The attributes of a class or an object, checked at `path` (empty for the event itself). */
  item(value: Record<string, unknown>, where: CompiledObject, label: string, path: string): void {
    const attributes = where.attributes;
    const open = Object.keys(attributes).length === 0;
    for (const [name, attribute] of Object.entries(attributes)) {
      if (attribute.profile && !this.profiles.has(attribute.profile)) continue;
      const attributePath = join(path, name);
      const present = value[name];
      if (present === undefined || present === null) {
        if (attribute.requirement === 'required')
          this.add(attributePath, `required attribute of ${label} is missing`);
        continue;
      }
      this.attribute(present, attribute, name, attributePath);
      if (attribute.enum) this.enumeration(value, present, attribute, name, path);
    }
    if (!open) {
      for (const [name, present] of Object.entries(value)) {
        if (present === undefined || present === null) continue; // absent, as above
        const attribute = Object.hasOwn(attributes, name) ? attributes[name] : undefined;
        if (!attribute) this.add(join(path, name), `unknown attribute: ${label} does not define "${name}"`);
        else if (attribute.profile && !this.profiles.has(attribute.profile))
          this.add(
            join(path, name),
            `attribute of the "${attribute.profile}" profile, which metadata.profiles does not name`,
          );
      }
    }
    this.constraints(value, where, label, path);
  }

  private attribute(value: unknown, attribute: CompiledAttribute, name: string, path: string): void {
    if (!attribute.array) {
      this.value(value, attribute, name, path);
      return;
    }
    if (!Array.isArray(value)) {
      this.add(path, `expected an array of ${attribute.object ?? attribute.type}, got ${show(value)}`);
      return;
    }
    value.forEach((element, i) => {
      this.value(element, attribute, name, `${path}[${i}]`);
    });
  }

  private value(value: unknown, attribute: CompiledAttribute, name: string, path: string): void {
    if (attribute.object) {
      const object = this.schema.objects[attribute.object];
      if (!object) this.add(path, `schema has no object "${attribute.object}"`);
      else if (!isPlainObject(value))
        this.add(path, `expected a ${attribute.object} object, got ${show(value)}`);
      else this.item(value, object, `object ${attribute.object}`, path);
      return;
    }
    if (attribute.array && attribute.enum && value !== null && !Object.hasOwn(attribute.enum, String(value)))
      this.add(path, `${show(value)} is not a defined value of ${name} (${describeEnum(attribute.enum)})`);
    this.dataType(value, attribute.type!, path);
  }

  /** A value of a data type: its primitive base, then each type's constraints from the most derived. */
  dataType(value: unknown, typeName: string, path: string): void {
    const chain: string[] = [];
    for (let t: string | undefined = typeName; t !== undefined; t = this.schema.types[t]?.type) {
      if (!this.schema.types[t] || chain.includes(t)) {
        this.add(path, `schema has no data type "${t}"`);
        return;
      }
      chain.push(t);
    }
    const primitive = chain[chain.length - 1]!;
    const expected = typeName === primitive ? typeName : `${typeName} (${primitive})`;
    if (!primitiveMatches(value, primitive)) {
      this.add(path, `expected ${expected}, got ${show(value)}`);
      return;
    }
    for (const t of chain) {
      const type = this.schema.types[t]!;
      if (type.max_len !== undefined && typeof value === 'string' && value.length > type.max_len) {
        const length = codePointLength(value);
        if (length > type.max_len)
          this.add(path, `${t} is at most ${type.max_len} characters long, got ${length}`);
      }
      if (type.range && (typeof value === 'number' || typeof value === 'bigint')) {
        const [low, high] = type.range;
        if (value < low || value > high) this.add(path, `${t} is within ${low}..${high}, got ${show(value)}`);
      }
      if (type.regex && typeof value === 'string' && !this.regex(type.regex).test(value))
        this.add(path, `${show(value)} is not a valid ${t} (does not match its pattern)`);
      if (type.values && !type.values.includes(value))
        this.add(path, `${t} is one of ${show(type.values)}, got ${show(value)}`);
    }
  }

  private regex(source: string): RegExp {
    let regex = this.regexes.get(source);
    if (!regex) {
      regex = new RegExp(source);
      this.regexes.set(source, regex);
    }
    return regex;
  }

  /** A scalar enum: the value is defined, and its sibling (when present) carries its caption. */
  private enumeration(
    item: Record<string, unknown>,
    value: unknown,
    attribute: CompiledAttribute,
    name: string,
    path: string,
  ): void {
    if (attribute.array) return; // elements checked one by one in value()
    const key = String(value);
    const enumeration = attribute.enum!;
    if (!Object.hasOwn(enumeration, key)) {
      this.add(join(path, name), `${show(value)} is not a defined value (${describeEnum(enumeration)})`);
      return;
    }
    const sibling = attribute.sibling;
    if (!sibling || key === OTHER) return;
    const caption = item[sibling];
    if (caption !== undefined && caption !== null && caption !== enumeration[key])
      this.add(
        join(path, sibling),
        `must be the caption of ${name} ${key}, ${show(enumeration[key])}, got ${show(caption)}`,
      );
  }

  private constraints(
    value: Record<string, unknown>,
    where: CompiledObject,
    label: string,
    path: string,
  ): void {
    const has = (name: string): boolean => value[name] !== undefined && value[name] !== null;
    const atLeastOne = where.constraints?.at_least_one;
    if (atLeastOne && !atLeastOne.some(has))
      this.add(path, `${label} needs at least one of ${atLeastOne.join(', ')}`);
    const justOne = where.constraints?.just_one;
    if (justOne && justOne.filter(has).length !== 1)
      this.add(
        path,
        `${label} needs exactly one of ${justOne.join(', ')}, got ${justOne.filter(has).length}`,
      );
  }
}

function describeEnum(enumeration: Record<string, string>): string {
  const values = Object.entries(enumeration).map(([k, caption]) => `${k} ${caption}`);
  return values.length > 12 ? `${values.slice(0, 12).join(', ')}, …` : values.join(', ');
}

function primitiveMatches(value: unknown, primitive: string): boolean {
  switch (primitive) {
    case 'string_t':
      return typeof value === 'string';
    case 'boolean_t':
      return typeof value === 'boolean';
    case 'float_t':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer_t':
    case 'long_t': {
      const limit = 1n << INTEGER_BITS[primitive]!;
      if (typeof value === 'bigint') return value >= -limit && value < limit;
      return (
        typeof value === 'number' &&
        Number.isInteger(value) &&
        BigInt(value) >= -limit &&
        BigInt(value) < limit
      );
    }
    case 'json_t':
      return value !== undefined && typeof value !== 'function' && typeof value !== 'symbol';
    default:
      return false;
  }
}

/**
 * The problems of `event` against `schema`: empty when it is a valid event of a class the schema
 * has. Each names the attribute path (`actor.user.name`, `resources[1].uid`) and the rule broken.
 */
export function validateOcsf(event: unknown, schema: CompiledOcsfSchema): string[] {
  if (!isPlainObject(event)) return [`(event): expected an object, got ${show(event)}`];
  const metadata = isPlainObject(event.metadata) ? event.metadata : undefined;
  const named = Array.isArray(metadata?.profiles) ? metadata.profiles : [];
  const profiles = new Set(named.filter((p): p is string => typeof p === 'string'));
  const validation = new Validation(schema, profiles);

  const classUid = event.class_uid;
  if (classUid === undefined || classUid === null) return ['class_uid: required attribute is missing'];
  const found = typeof classUid === 'number' ? classByUid(schema, classUid) : undefined;
  if (!found) return [`class_uid: ${show(classUid)} is not a class of the schema (${classList(schema)})`];
  const [className, eventClass] = found;
  const expectedTypeUid = (activityId: number): number => eventClass.uid * 100 + activityId;

  named.forEach((profile, i) => {
    if (typeof profile === 'string' && !schema.profiles.includes(profile))
      validation.add(`metadata.profiles[${i}]`, `"${profile}" is not a profile of OCSF ${schema.version}`);
  });
  validation.item(event, eventClass, `class ${className}`, '');

  const { activity_id: activityId, type_uid: typeUid } = event;
  if (
    typeof activityId === 'number' &&
    typeof typeUid === 'number' &&
    typeUid !== expectedTypeUid(activityId)
  )
    validation.add(
      'type_uid',
      `must be class_uid × 100 + activity_id = ${expectedTypeUid(activityId)}, got ${typeUid}`,
    );
  if (typeof metadata?.version === 'string' && metadata.version !== schema.version)
    validation.add(
      'metadata.version',
      `must be the schema version "${schema.version}", got ${show(metadata.version)}`,
    );
  return validation.problems;
}

function classList(schema: CompiledOcsfSchema): string {
  return Object.entries(schema.classes)
    .map(([name, c]) => `${c.uid} ${name}`)
    .join(', ');
}
