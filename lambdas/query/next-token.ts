/**
 * `nextToken`: opaque to callers, tamper-evident and bound to the request that made it.
 *
 * A token is `<payload>.<mac>`: the payload is base64url JSON holding a hash of the request's
 * meaning (space, time range, filters: the values after parsing), the keyset cursor (time and id of
 * the last event returned) and an expiry; the mac is HMAC-SHA256 over the payload. `maxResults` is
 * not bound: a caller may change the page size between pages, as the SDK paginators allow.
 *
 * Keys: a list, newest first. Tokens are signed with the first and accepted with any, so a key can
 * be rotated by prepending a new one and dropping the old one after the token lifetime.
 * In AWS the keys come from a Secrets Manager secret; locally from a key file in the archive folder.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ArchiveError, registerSecret, validationError } from '@eventlog-archive/shared';

/** How long a token stays valid by default: 24 hours. */
export const DEFAULT_TOKEN_TTL_SECONDS = 24 * 60 * 60;
/** The local key file, relative to the archive root. */
export const LOCAL_TOKEN_KEY = '_keys/next-token.key';
/** Keys shorter than this are refused: an HMAC key must not be guessable. */
export const MIN_KEY_BYTES = 16;

/** Where a page ended: the last event returned, in archive order (event time, then id). */
export interface Cursor {
  time: number;
  id: string;
}

/** The signed payload (short keys keep tokens small). */
interface Payload {
  v: 1;
  /** Request binding (hash). */
  r: string;
  /** Cursor time, epoch ms. */
  t: number;
  /** Cursor id. */
  i: string;
  /** Expiry, epoch seconds. */
  e: number;
}

export interface NextTokenOptions {
  /** HMAC keys, newest first (signs with the first). */
  keys: readonly Uint8Array[];
  /** Token lifetime in seconds (default {@link DEFAULT_TOKEN_TTL_SECONDS}). */
  ttlSeconds?: number;
  now?: () => number;
}

const PAYLOAD = /^[A-Za-z0-9_-]{1,9000}$/;
const MAC = /^[A-Za-z0-9_-]{43}$/;

/**
 * A hash of what a request means, from its parsed values: two requests with the same binding ask
 * for the same listing. Pass the values in a fixed order; `undefined` and `null` are the same.
 *
 * @example
 * const binding = requestBinding(['codecatalyst', space, startMs, endMs, eventName, filters]);
 */
export function requestBinding(parts: readonly unknown[]): string {
  const canonical = JSON.stringify(parts, (_key, value: unknown) => {
    if (value === undefined) return null;
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      // Object keys in a fixed order, so `{a, b}` and `{b, a}` bind the same.
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>)
          .filter(([, v]) => v !== undefined)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      );
    }
    return value;
  });
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 22);
}

/** Signs and verifies `nextToken`s with a key list. */
export class NextTokenCodec {
  readonly #keys: readonly Uint8Array[];
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: NextTokenOptions) {
    if (options.keys.length === 0) throw new ArchiveError('nextToken keys: at least one key is required');
    for (const key of options.keys) {
      if (key.byteLength < MIN_KEY_BYTES)
        throw new ArchiveError(`nextToken keys: every key must have at least ${MIN_KEY_BYTES} bytes`);
    }
    const ttl = options.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
    if (!Number.isInteger(ttl) || ttl < 1)
      throw new ArchiveError('nextToken TTL: must be a positive whole number of seconds');
    this.#keys = options.keys;
    this.#ttlMs = ttl * 1000;
    this.#now = options.now ?? Date.now;
  }

  /** A token for the page after `cursor` of the request whose binding is `binding`. */
  sign(binding: string, cursor: Cursor): string {
    const payload: Payload = {
      v: 1,
      r: binding,
      t: cursor.time,
      i: cursor.id,
      e: Math.ceil((this.#now() + this.#ttlMs) / 1000),
    };
    const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
    return `${body}.${mac(this.#keys[0]!, body).toString('base64url')}`;
  }

  /**
   * The cursor a token carries, after checking that this archive made it, for this request, and
   * that it has not expired. Every failure is a 400 ValidationException naming `nextToken`;
   * `requestFields` names, for the message, what must not change between pages.
   */
  verify(
    token: string,
    binding: string,
    requestFields = 'spaceName, startTime, endTime, eventName and filters',
  ): Cursor {
    const dot = token.indexOf('.');
    const body = dot < 0 ? '' : token.slice(0, dot);
    const signature = dot < 0 ? '' : token.slice(dot + 1);
    if (!PAYLOAD.test(body) || !MAC.test(signature))
      throw validationError('nextToken', 'is malformed; pass the nextToken of a previous response unchanged');
    const given = Buffer.from(signature, 'base64url');
    // Base64 text has several spellings of the same bytes (the last character's low bits are
    // padding): only the canonical one is a token this archive issued.
    if (given.toString('base64url') !== signature)
      throw validationError('nextToken', 'is malformed; pass the nextToken of a previous response unchanged');
    // Every key is tried (no early exit), so timing does not tell which key matched.
    let valid = false;
    for (const key of this.#keys) {
      const expected = mac(key, body);
      if (expected.length === given.length && timingSafeEqual(expected, given)) valid = true;
    }
    if (!valid)
      throw validationError(
        'nextToken',
        'is not a token issued by this archive (it was altered, or signed with a key it no longer has)',
      );
    const payload = parsePayload(body);
    if (!payload)
      throw validationError('nextToken', 'is malformed; pass the nextToken of a previous response unchanged');
    if (payload.r !== binding)
      throw validationError(
        'nextToken',
        `belongs to a different request; send the same ${requestFields} as the request that returned it`,
      );
    if (payload.e * 1000 <= this.#now())
      throw validationError('nextToken', 'has expired; repeat the request without nextToken');
    return { time: payload.t, id: payload.i };
  }
}

function mac(key: Uint8Array, body: string): Buffer {
  return createHmac('sha256', key).update(`v1.${body}`).digest();
}

function parsePayload(body: string): Payload | undefined {
  try {
    const p = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Partial<Payload>;
    if (
      p?.v === 1 &&
      typeof p.r === 'string' &&
      typeof p.t === 'number' &&
      Number.isSafeInteger(p.t) &&
      typeof p.i === 'string' &&
      typeof p.e === 'number' &&
      Number.isSafeInteger(p.e)
    )
      return p as Payload;
  } catch {
    // Not JSON: a signed payload always is, so only a key leak could get here. Malformed.
  }
  return undefined;
}

/**
 * Token keys from a Secrets Manager secret string: either one key (the secret string itself, as
 * generated by `secretsmanager:GetRandomPassword` or CDK `generateSecretString`) or, for rotation,
 * JSON `{"keys": ["newest", "older"]}`. Each key is used as its UTF-8 bytes.
 */
export function keysFromSecretString(secret: string): Uint8Array[] {
  let keys: unknown = [secret];
  const trimmed = secret.trim();
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new ArchiveError('token key secret: looks like JSON but does not parse');
    }
    keys = (parsed as { keys?: unknown; key?: unknown }).keys ?? [(parsed as { key?: unknown }).key];
  }
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => typeof k === 'string'))
    throw new ArchiveError('token key secret: must be a key string or {"keys": ["newest", "older", …]}');
  return (keys as string[]).map((k) => {
    registerSecret(k);
    return new Uint8Array(Buffer.from(k, 'utf8'));
  });
}

/** The token keys of a Secrets Manager secret (`TOKEN_KEY_SECRET_ARN` in Lambda). */
export async function loadSecretTokenKeys(
  secretArn: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Uint8Array[]> {
  let secret: string;
  try {
    // Loaded on use: only the Lambda reads a secret, and what signs the request (the credential
    // chain) is heavy for the CLI, which pages with local keys (loadLocalTokenKeys).
    const { getSecretString } = await import('../core/secrets');
    secret = await getSecretString(secretArn, env);
  } catch (err) {
    // Wrapped: a Secrets Manager error name (e.g. ResourceNotFoundException) must not reach a caller as is.
    throw new ArchiveError('token key secret: could not be read', { cause: err });
  }
  return keysFromSecretString(secret);
}

/** The store operations the local key file needs (an `ArchiveStore` has them). */
export interface KeyStore {
  get(key: string): Promise<{ body: Uint8Array } | undefined>;
  put(key: string, body: Uint8Array, options?: { ifNoneMatch?: boolean }): Promise<unknown>;
}

/**
 * The local token key: `_keys/next-token.key` in the archive folder, 32 random bytes created on
 * first use. Created with a conditional write, so when two processes start at once both end up
 * with the key of whichever wrote first.
 */
export async function loadLocalTokenKeys(store: KeyStore): Promise<Uint8Array[]> {
  let stored = await store.get(LOCAL_TOKEN_KEY);
  if (!stored) {
    try {
      await store.put(LOCAL_TOKEN_KEY, new Uint8Array(randomBytes(32)), { ifNoneMatch: true });
    } catch (err) {
      // Another process created it first (matched by name, as store.ts's isPreconditionFailed does).
      if ((err as Error)?.name !== 'PreconditionFailedError') throw err;
    }
    stored = await store.get(LOCAL_TOKEN_KEY);
  }
  if (!stored || stored.body.byteLength < MIN_KEY_BYTES)
    throw new ArchiveError(
      `${LOCAL_TOKEN_KEY}: the token key file is missing or shorter than ${MIN_KEY_BYTES} bytes; delete it to create a new one`,
    );
  registerSecret(Buffer.from(stored.body).toString('base64'));
  return [stored.body];
}
