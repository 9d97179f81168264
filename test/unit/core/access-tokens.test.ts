/** Token records: made, listed, revoked and checked in a folder archive, by the real LocalStore. */
import { readFileSync, rmSync, statSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  checkAccessToken,
  createAccessToken,
  listAccessTokens,
  parseAccessToken,
  revokeAccessToken,
  TokenInputError,
  tokenKey,
} from '../../../lambdas/core/access-tokens';
import { LocalStore } from '../../../lambdas/core/local-store';
import { DAY_MS } from '../../../lambdas/shared/src/time';

const NOW = Date.UTC(2026, 11, 6, 9, 30);
let dir: string;
let store: LocalStore;
let now: number;
const clock = (): number => now;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tokens-'));
  store = new LocalStore(dir);
  now = NOW;
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('createAccessToken', () => {
  it('returns a token of the documented form and stores only a salted hash of its secret', async () => {
    const { token, record } = await createAccessToken(
      store,
      { name: 'ci pipeline', spaces: ['b-space', 'a-space'] },
      clock,
    );
    const parsed = parseAccessToken(token);
    expect(parsed?.id).toBe(record.id);
    expect(record).toMatchObject({
      version: 1,
      name: 'ci pipeline',
      createdAt: new Date(NOW).toISOString(),
      expiresAt: new Date(NOW + 90 * DAY_MS).toISOString(),
      spaces: ['a-space', 'b-space'],
    });
    const file = path.join(dir, tokenKey(record.id));
    const stored = readFileSync(file, 'utf8');
    expect(stored).not.toContain(parsed!.secret);
    expect(JSON.parse(stored)).toEqual(record);
    // Owner-only, like the archive's other key material.
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
  });

  it('salts each record: two tokens never share a hash or a salt', async () => {
    const a = await createAccessToken(store, { name: 'a' }, clock);
    const b = await createAccessToken(store, { name: 'b' }, clock);
    expect(a.record.salt).not.toBe(b.record.salt);
    expect(a.record.hash).not.toBe(b.record.hash);
    expect(a.record.spaces).toBeNull();
  });

  it('refuses a bad name, lifetime or space, naming the option and the rule', async () => {
    await expect(createAccessToken(store, { name: '' }, clock)).rejects.toThrow(/^--name: must be 1 to 64/);
    await expect(createAccessToken(store, { name: 'x\u001b[31m' }, clock)).rejects.toThrow(TokenInputError);
    await expect(createAccessToken(store, { name: 'n', expiresDays: 0 }, clock)).rejects.toThrow(
      '--expires-days: must be an integer from 1 to 3650',
    );
    await expect(createAccessToken(store, { name: 'n', spaces: ['a/b'] }, clock)).rejects.toThrow(
      /^--space: must/,
    );
    expect(await listAccessTokens(store)).toEqual([]);
  });

  it('refuses a name an active token has, and allows it again once that one is revoked', async () => {
    const first = await createAccessToken(store, { name: 'deploy' }, clock);
    await expect(createAccessToken(store, { name: 'deploy' }, clock)).rejects.toThrow(
      `--name: an active token is already named "deploy" (id ${first.record.id})`,
    );
    await revokeAccessToken(store, { name: 'deploy' }, clock);
    await expect(createAccessToken(store, { name: 'deploy' }, clock)).resolves.toBeDefined();
  });

  it('never overwrites a record: an id that exists fails the create', async () => {
    const fixed = (size: number): Buffer => Buffer.alloc(size, 1);
    await createAccessToken(store, { name: 'one' }, clock, fixed);
    await expect(createAccessToken(store, { name: 'two' }, clock, fixed)).rejects.toThrow(
      /changed or already exists/,
    );
  });
});

describe('checkAccessToken', () => {
  it('accepts the token until it expires, then refuses it as expired', async () => {
    const { token } = await createAccessToken(store, { name: 'short', expiresDays: 1 }, clock);
    expect((await checkAccessToken(store, token, clock)).ok).toBe(true);
    now = NOW + DAY_MS - 1;
    expect((await checkAccessToken(store, token, clock)).ok).toBe(true);
    now = NOW + DAY_MS;
    expect(await checkAccessToken(store, token, clock)).toMatchObject({ ok: false, reason: 'expired' });
  });

  it('refuses a revoked token, a wrong secret, an unknown id, a malformed token and a corrupt record', async () => {
    const { token, record } = await createAccessToken(store, { name: 'x' }, clock);
    const { secret } = parseAccessToken(token)!;
    const wrong = `ela_${record.id}_${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    expect(await checkAccessToken(store, wrong, clock)).toEqual({
      ok: false,
      reason: 'mismatch',
      id: record.id,
    });
    expect(await checkAccessToken(store, `ela_ffffffffffffffff_${secret}`, clock)).toEqual({
      ok: false,
      reason: 'unknown',
      id: 'ffffffffffffffff',
    });
    expect(await checkAccessToken(store, 'local', clock)).toEqual({ ok: false, reason: 'malformed' });
    await revokeAccessToken(store, { id: record.id }, clock);
    expect(await checkAccessToken(store, token, clock)).toMatchObject({ ok: false, reason: 'revoked' });

    const other = await createAccessToken(store, { name: 'y' }, clock);
    await store.put(tokenKey(other.record.id), new TextEncoder().encode('{"version":1}'));
    expect(await checkAccessToken(store, other.token, clock)).toMatchObject({ ok: false, reason: 'corrupt' });
  });
});

describe('revokeAccessToken and listAccessTokens', () => {
  it('marks the record revoked, keeps it listed, and refuses to revoke it twice', async () => {
    const { record } = await createAccessToken(store, { name: 'old' }, clock);
    now = NOW + 1000;
    const revoked = await revokeAccessToken(store, { id: record.id }, clock);
    expect(revoked.revokedAt).toBe(new Date(NOW + 1000).toISOString());
    expect(await listAccessTokens(store)).toEqual([revoked]);
    await expect(revokeAccessToken(store, { id: record.id }, clock)).rejects.toThrow(
      `token ${record.id} ("old") was revoked at ${revoked.revokedAt}`,
    );
  });

  it('names what it could not find', async () => {
    await expect(revokeAccessToken(store, { id: 'nothex' }, clock)).rejects.toThrow(
      '--id: must be 16 hex digits',
    );
    await expect(revokeAccessToken(store, { id: '0000000000000000' }, clock)).rejects.toThrow(
      '--id: no token has the id 0000000000000000',
    );
    await expect(revokeAccessToken(store, { name: 'nobody' }, clock)).rejects.toThrow(
      '--name: no active or expired token is named "nobody"',
    );
  });

  it('lists oldest first and skips files that are not records', async () => {
    const a = await createAccessToken(store, { name: 'a' }, clock);
    now += 5;
    const b = await createAccessToken(store, { name: 'b' }, clock);
    await store.put('_tokens/README.txt', new TextEncoder().encode('not a record'));
    expect((await listAccessTokens(store)).map((r) => r.id)).toEqual([a.record.id, b.record.id]);
  });
});
