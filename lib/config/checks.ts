/**
 * The building blocks of validation: `ConfigError`, `Section` (one object of settings) and the small
 * readers that check one value each. Every check throws the first rule broken, naming its field.
 */

/** A setting broke a rule. The message is `<path>: <value> <rule>`. */
export class ConfigError extends Error {
  readonly path: string;

  constructor(path: string, value: unknown, rule: string) {
    super(`${path}: ${show(value)}${rule}`);
    this.name = 'ConfigError';
    this.path = path;
  }
}

function show(value: unknown): string {
  if (value === undefined) return '';
  const text = JSON.stringify(value) ?? String(value);
  return `${text.length > 60 ? `${text.slice(0, 60)}…` : text} `;
}

/** Checks one value found at `path` and returns it (perhaps normalised), or throws a ConfigError. */
export type Reader<T> = (value: unknown, path: string) => T;

/**
 * One object of settings, such as `eventlogArchive.query`: its keys are checked as it is opened (a
 * misspelt key would otherwise fall back to its default without a word), then read field by field.
 */
export class Section {
  private constructor(
    readonly path: string,
    private readonly raw: Record<string, unknown>,
  ) {}

  /** `value` must be an object whose keys are all among `keys`. */
  static of(value: unknown, path: string, keys: readonly string[]): Section {
    const raw = object(value, path);
    known(raw, path, keys);
    return new Section(path, raw);
  }

  /** The path of field `key`. */
  at(key: string): string {
    return `${this.path}.${key}`;
  }

  /** Field `key` as given, unchecked. */
  get(key: string): unknown {
    return this.raw[key];
  }

  /** The nested section `key`; absent (undefined) reads as `{}`, so that its fields take their defaults. */
  section(key: string, keys: readonly string[]): Section {
    const value = this.raw[key];
    return Section.of(value === undefined ? {} : value, this.at(key), keys);
  }

  /** The nested section `key`, or undefined when it is absent. */
  optionalSection(key: string, keys: readonly string[]): Section | undefined {
    return this.raw[key] === undefined ? undefined : Section.of(this.raw[key], this.at(key), keys);
  }

  /** Field `key`, or `fallback` when it is absent or null. */
  read<T>(key: string, reader: Reader<T>, fallback: unknown): T {
    return reader(this.raw[key] ?? fallback, this.at(key));
  }

  /** Field `key`, which has no default: an absent one fails the reader's rule. */
  require<T>(key: string, reader: Reader<T>): T {
    return reader(this.raw[key], this.at(key));
  }

  /** Field `key`, or undefined when it is absent (null is not absent, and fails the reader's rule). */
  optional<T>(key: string, reader: Reader<T>): T | undefined {
    return this.raw[key] === undefined ? undefined : reader(this.raw[key], this.at(key));
  }
}

export function object(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(path, value, 'must be an object');
  }
  return value as Record<string, unknown>;
}

function known(value: Record<string, unknown>, path: string, keys: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) {
      throw new ConfigError(
        `${path}.${key}`,
        undefined,
        `is not a known setting (known: ${keys.join(', ')})`,
      );
    }
  }
}

/** `fields` without its undefined ones, so that an absent optional setting stays absent. */
export function compact<T extends object>(fields: T): T {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as T;
}

export function integer(min: number, max: number): Reader<number> {
  return (value, path) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new ConfigError(path, value, `must be an integer from ${min} to ${max}`);
    }
    return value;
  };
}

export function matching(pattern: RegExp, rule: string): Reader<string> {
  return (value, path) => {
    if (typeof value !== 'string' || !pattern.test(value)) throw new ConfigError(path, value, rule);
    return value;
  };
}

export const boolean: Reader<boolean> = (value, path) => {
  if (typeof value !== 'boolean') throw new ConfigError(path, value, 'must be true or false');
  return value;
};

// A KMS key ARN (not an alias: grants and key policies need the key itself).
export const kmsKeyArn: Reader<string> = matching(
  /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/,
  'must be a KMS key ARN: arn:<partition>:kms:<region>:<account>:key/<key id> (a key id, not an alias)',
);

// `cdk synth -c eventlogArchive='{...}'` passes the value as a JSON string.
export function fromCommandLine(value: unknown, path: string): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    throw new ConfigError(path, value, 'must be an object (or its JSON text)');
  }
}

/**
 * Reads each item of a list with `check`, one of the shared field checks (they throw `<field>: <rule>`,
 * rethrown here as a ConfigError that also shows the value, so that each rule keeps a single
 * implementation), and refuses an item listed twice.
 */
export function distinct(
  items: readonly unknown[],
  path: string,
  check: (value: unknown, field: string) => string,
): string[] {
  const seen = new Map<string, number>();
  return items.map((item, i) => {
    const field = `${path}[${i}]`;
    const value = viaFieldCheck(item, field, check);
    const first = seen.get(value);
    if (first !== undefined) throw new ConfigError(field, value, `is listed twice (also at [${first}])`);
    seen.set(value, i);
    return value;
  });
}

function viaFieldCheck<T>(value: unknown, field: string, check: (value: unknown, field: string) => T): T {
  try {
    return check(value, field);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const rule = message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message;
    throw new ConfigError(field, value, rule);
  }
}
