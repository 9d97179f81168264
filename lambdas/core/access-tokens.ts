/**
 * Bearer tokens for the deployed API (`query.authorization: "token"`), so that the official
 * CodeCatalyst SDK, which authenticates with `Authorization: Bearer …`, works against it unchanged.
 *
 * A token is `ela_<id>_<secret>`: the id (16 hex digits) names its record, the secret (32 random
 * bytes, base64url) is shown once by `eventlog-archive token create` and never stored. The record,
 * `_tokens/<id>.json` under the archive prefix, holds the token's name, scope, expiry, creation and
 * revocation times and a salted SHA-256 of the secret. `token revoke` marks the record, never deletes
 * it, so `token list` keeps the history.
 *
 * Why SHA-256 and not a slow password hash (scrypt, Argon2): the secret is 256 random bits, not a
 * password, so there is nothing to guess faster; a slow hash would only add latency to every
 * authorizer call. The salt keeps equal secrets from having equal records. Hashes are compared in
 * constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ArchiveError, type Clock, checkSpaceName, DAY_MS, isApiError } from '@eventlog-archive/shared';
import type { ArchiveStore } from './store';

/** The archive folder of token records: only the authorizer reads it in AWS (lib/stacks/query-stack.ts). */
export const TOKEN_FOLDER = '_tokens';
/** Token lifetime when `--expires-days` is not given. */
export const DEFAULT_TOKEN_DAYS = 90;
export const MAX_TOKEN_DAYS = 3650;
/** At most this many spaces in one token's scope (the authorizer's policy lists each). */
export const MAX_TOKEN_SPACES = 100;

const TOKEN_PREFIX = 'ela_';
/** A token's form, as a regular expression's source without anchors. */
export const TOKEN_FORM = `${TOKEN_PREFIX}[0-9a-f]{16}_[A-Za-z0-9_-]{43}`;
const TOKEN_PATTERN = new RegExp(`^${TOKEN_PREFIX}([0-9a-f]{16})_([A-Za-z0-9_-]{43})$`);
const ID_PATTERN = /^[0-9a-f]{16}$/;
const TOKEN_KEY = new RegExp(`^${TOKEN_FOLDER}/([0-9a-f]{16})\\.json$`);
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}$/;
const NAME_RULE = 'must be 1 to 64 of A-Z a-z 0-9 space . _ @ -, starting with a letter or digit';

/** What the archive keeps of a token. */
export interface TokenRecord {
  readonly version: 1;
  readonly id: string;
  readonly name: string;
  /** RFC 3339. */
  readonly createdAt: string;
  /** RFC 3339; the token is refused from this instant. */
  readonly expiresAt: string;
  /** The spaces it may read; `null` for every space. */
  readonly spaces: readonly string[] | null;
  /** base64 of 16 random bytes. */
  readonly salt: string;
  /** base64 of SHA-256(salt ‖ secret). */
  readonly hash: string;
  /** RFC 3339, once revoked. */
  readonly revokedAt?: string;
}

/**
 * What the authorizer passes on to the query handler (`event.requestContext.authorizer`), which
 * checks the scope again: API Gateway context values are strings, numbers or booleans only.
 */
export interface TokenContext {
  readonly tokenId: string;
  readonly tokenName: string;
  /** {@link EVERY_SPACE}, else a JSON array of the spaces the token may read. */
  readonly spaces: string;
  readonly [key: string]: string;
}

/** `TokenContext.spaces` of a token that may read every space. */
export const EVERY_SPACE = '*';

export type TokenStatus = 'active' | 'expired' | 'revoked';

/** Why a token was refused (logged by the authorizer; callers only see "denied"). */
export type TokenRefusal = 'malformed' | 'unknown' | 'mismatch' | 'revoked' | 'expired' | 'corrupt';

export type TokenVerdict =
  | { readonly ok: true; readonly record: TokenRecord }
  | { readonly ok: false; readonly reason: TokenRefusal; readonly id?: string };

/** A bad `token` command input: names the option and the rule. */
export class TokenInputError extends ArchiveError {
  constructor(message: string) {
    super(message);
    this.name = 'TokenInputError';
  }
}

export interface CreateTokenInput {
  readonly name: string;
  /** 1 to {@link MAX_TOKEN_DAYS}; default {@link DEFAULT_TOKEN_DAYS}. */
  readonly expiresDays?: number;
  /** Spaces the token may read; absent or empty for every space. */
  readonly spaces?: readonly string[];
}

export function tokenKey(id: string): string {
  return `${TOKEN_FOLDER}/${id}.json`;
}

/** The id and secret of a token string, or `undefined` when it is not one. */
export function parseAccessToken(token: string): { id: string; secret: string } | undefined {
  const m = TOKEN_PATTERN.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

/** The status of a record at `now`. */
export function tokenStatus(record: TokenRecord, now: number): TokenStatus {
  if (record.revokedAt !== undefined) return 'revoked';
  return Date.parse(record.expiresAt) <= now ? 'expired' : 'active';
}

/**
 * Creates a token and stores its record; returns the token (to show once) and the record. A name
 * already used by an active token is refused, so `token revoke --name` always means one token.
 */
export async function createAccessToken(
  store: ArchiveStore,
  input: CreateTokenInput,
  clock: Clock,
  random: (size: number) => Buffer = randomBytes,
): Promise<{ token: string; record: TokenRecord }> {
  const name = checkName(input.name);
  const days = input.expiresDays ?? DEFAULT_TOKEN_DAYS;
  if (!Number.isInteger(days) || days < 1 || days > MAX_TOKEN_DAYS)
    throw new TokenInputError(`--expires-days: must be an integer from 1 to ${MAX_TOKEN_DAYS}`);
  const spaces = checkSpaces(input.spaces ?? []);
  const now = clock();
  const clash = (await listAccessTokens(store)).find(
    (r) => r.name === name && tokenStatus(r, now) === 'active',
  );
  if (clash)
    throw new TokenInputError(
      `--name: an active token is already named "${name}" (id ${clash.id}); choose another name or revoke it first`,
    );
  const id = random(8).toString('hex');
  const secret = random(32).toString('base64url');
  const salt = random(16);
  const record: TokenRecord = {
    version: 1,
    id,
    name,
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + days * DAY_MS).toISOString(),
    spaces: spaces.length > 0 ? spaces : null,
    salt: salt.toString('base64'),
    hash: hashSecret(salt, secret).toString('base64'),
  };
  // Never overwrites: an id collision (64 random bits) fails rather than replace another token.
  await store.put(tokenKey(id), encode(record), { ifNoneMatch: true, contentType: 'application/json' });
  return { token: `${TOKEN_PREFIX}${id}_${secret}`, record };
}

/** Every token record, oldest first; records that do not parse are skipped. */
export async function listAccessTokens(store: ArchiveStore): Promise<TokenRecord[]> {
  const records: TokenRecord[] = [];
  for await (const { key } of store.list(`${TOKEN_FOLDER}/`)) {
    const m = TOKEN_KEY.exec(key);
    if (!m) continue;
    const record = await readRecord(store, m[1]!);
    if (record && record !== 'corrupt') records.push(record);
  }
  return records.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
}

/**
 * Revokes the token with this id, or the active token with this name. Returns the updated record.
 * Revoking a revoked token is an error (it names when).
 */
export async function revokeAccessToken(
  store: ArchiveStore,
  which: { readonly id?: string; readonly name?: string },
  clock: Clock,
): Promise<TokenRecord> {
  const now = clock();
  let record: TokenRecord | undefined;
  if (which.id !== undefined) {
    if (!ID_PATTERN.test(which.id))
      throw new TokenInputError('--id: must be 16 hex digits (see `token list`)');
    const found = await readRecord(store, which.id);
    if (found === 'corrupt') throw new ArchiveError(`${tokenKey(which.id)}: is not a token record`);
    record = found;
    if (!record) throw new TokenInputError(`--id: no token has the id ${which.id}`);
  } else if (which.name !== undefined) {
    const records = await listAccessTokens(store);
    record =
      records.find((r) => r.name === which.name && tokenStatus(r, now) === 'active') ??
      records.find((r) => r.name === which.name && tokenStatus(r, now) === 'expired');
    if (!record) throw new TokenInputError(`--name: no active or expired token is named "${which.name}"`);
  } else {
    throw new TokenInputError('--id or --name: one is required');
  }
  if (record.revokedAt !== undefined)
    throw new TokenInputError(`token ${record.id} ("${record.name}") was revoked at ${record.revokedAt}`);
  const current = await store.get(tokenKey(record.id));
  if (!current) throw new ArchiveError(`${tokenKey(record.id)}: disappeared while being revoked`);
  const revoked: TokenRecord = { ...record, revokedAt: new Date(now).toISOString() };
  // If-Match: a concurrent revoke or edit is not silently overwritten.
  await store.put(tokenKey(record.id), encode(revoked), {
    ifMatch: current.etag,
    contentType: 'application/json',
  });
  return revoked;
}

/**
 * Checks a token: its record exists and parses, the secret's salted hash matches (constant time),
 * and it is neither revoked nor expired at `clock()`. Store failures are thrown (the caller answers
 * 5xx rather than deny a valid token).
 */
export async function checkAccessToken(
  store: Pick<ArchiveStore, 'get'>,
  token: string,
  clock: Clock,
): Promise<TokenVerdict> {
  const parsed = parseAccessToken(token);
  if (!parsed) return { ok: false, reason: 'malformed' };
  const record = await readRecord(store, parsed.id);
  if (record === undefined) return { ok: false, reason: 'unknown', id: parsed.id };
  if (record === 'corrupt') return { ok: false, reason: 'corrupt', id: parsed.id };
  const expected = Buffer.from(record.hash, 'base64');
  const actual = hashSecret(Buffer.from(record.salt, 'base64'), parsed.secret);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual))
    return { ok: false, reason: 'mismatch', id: parsed.id };
  const status = tokenStatus(record, clock());
  if (status !== 'active') return { ok: false, reason: status, id: parsed.id };
  return { ok: true, record };
}

function hashSecret(salt: Buffer, secret: string): Buffer {
  return createHash('sha256').update(salt).update(secret, 'utf8').digest();
}

function encode(record: TokenRecord): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(record, null, 2)}\n`);
}

/** The record of `id`; `undefined` when there is none, `'corrupt'` when it does not parse as one. */
async function readRecord(
  store: Pick<ArchiveStore, 'get'>,
  id: string,
): Promise<TokenRecord | undefined | 'corrupt'> {
  const object = await store.get(tokenKey(id));
  if (!object) return undefined;
  try {
    const value = JSON.parse(new TextDecoder().decode(object.body)) as Partial<TokenRecord>;
    const isTime = (v: unknown): v is string => typeof v === 'string' && Number.isFinite(Date.parse(v));
    if (
      value.version !== 1 ||
      value.id !== id ||
      typeof value.name !== 'string' ||
      !isTime(value.createdAt) ||
      !isTime(value.expiresAt) ||
      !(
        value.spaces === null ||
        (Array.isArray(value.spaces) && value.spaces.every((s) => typeof s === 'string'))
      ) ||
      typeof value.salt !== 'string' ||
      typeof value.hash !== 'string' ||
      !(value.revokedAt === undefined || isTime(value.revokedAt))
    )
      return 'corrupt';
    return value as TokenRecord;
  } catch {
    return 'corrupt';
  }
}

function checkName(name: string): string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) throw new TokenInputError(`--name: ${NAME_RULE}`);
  return name;
}

function checkSpaces(spaces: readonly string[]): string[] {
  const checked = spaces.map((space) => {
    try {
      return checkSpaceName(space, '--space');
    } catch (err) {
      throw new TokenInputError(isApiError(err) ? err.message : String(err));
    }
  });
  const distinct = [...new Set(checked)].sort();
  if (distinct.length > MAX_TOKEN_SPACES)
    throw new TokenInputError(
      `--space: at most ${MAX_TOKEN_SPACES} spaces per token (got ${distinct.length})`,
    );
  return distinct;
}
