import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalStore } from '../../../lambdas/core/local-store';
import {
  DEFAULT_TOKEN_TTL_SECONDS,
  keysFromSecretString,
  LOCAL_TOKEN_KEY,
  loadLocalTokenKeys,
  NextTokenCodec,
  requestBinding,
} from '../../../lambdas/query/next-token';
import { isApiError, redactText } from '../../../lambdas/shared/src';

const KEY_A = new Uint8Array(Buffer.from('a'.repeat(32)));
const KEY_B = new Uint8Array(Buffer.from('b'.repeat(32)));
const T0 = Date.UTC(2026, 0, 1);
const BINDING = requestBinding(['codecatalyst', 'acme', 1, 2, null, {}]);

/** The ValidationException message `fn` throws (fails the test when it throws anything else). */
function rejection(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isApiError(err)).toBe(true);
    if (isApiError(err)) {
      expect(err.errorType).toBe('ValidationException');
      expect(err.statusCode).toBe(400);
      return err.message;
    }
  }
  throw new Error('expected a ValidationException');
}

describe('NextTokenCodec', () => {
  it('returns the cursor of a token it signed for the same request', () => {
    // Prepare
    const codec = new NextTokenCodec({ keys: [KEY_A], now: () => T0 });
    // Act
    const token = codec.sign(BINDING, { time: T0 - 5, id: 'evt-1' });
    // Assess
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(codec.verify(token, BINDING)).toEqual({ time: T0 - 5, id: 'evt-1' });
  });

  it("binds the request: another request's token is refused naming nextToken", () => {
    const codec = new NextTokenCodec({ keys: [KEY_A], now: () => T0 });
    const token = codec.sign(BINDING, { time: 1, id: 'x' });
    const other = requestBinding(['codecatalyst', 'acme', 1, 2, 'createProject', {}]);
    expect(rejection(() => codec.verify(token, other))).toMatch(/^nextToken: belongs to a different request/);
  });

  it('refuses a token whose payload or mac was changed, or that another key signed', () => {
    const codec = new NextTokenCodec({ keys: [KEY_A], now: () => T0 });
    const token = codec.sign(BINDING, { time: 1, id: 'x' });
    const [body, mac] = token.split('.') as [string, string];
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
    const forgedBody = Buffer.from(JSON.stringify({ ...payload, t: 0 })).toString('base64url');
    const flipped = `${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`;
    const otherKey = new NextTokenCodec({ keys: [KEY_B], now: () => T0 }).sign(BINDING, { time: 1, id: 'x' });
    for (const bad of [`${forgedBody}.${mac}`, `${body}.${flipped}`, otherKey])
      expect(rejection(() => codec.verify(bad, BINDING))).toMatch(
        /^nextToken: is not a token issued by this archive/,
      );
  });

  it('refuses another spelling of the same mac (base64url padding bits set) as malformed', () => {
    const codec = new NextTokenCodec({ keys: [KEY_A], now: () => T0 });
    const token = codec.sign(BINDING, { time: 1, id: 'x' });
    // The 43rd character carries 4 bits of the mac and 2 padding bits: +1 sets a padding bit only.
    const last = token.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const respelled = `${token.slice(0, -1)}${alphabet[alphabet.indexOf(last) + 1]}`;
    expect(Buffer.from(respelled.split('.')[1]!, 'base64url')).toEqual(
      Buffer.from(token.split('.')[1]!, 'base64url'),
    );
    expect(codec.verify(token, BINDING)).toEqual({ time: 1, id: 'x' });
    expect(rejection(() => codec.verify(respelled, BINDING))).toMatch(/^nextToken: is malformed/);
  });

  it.each([
    ['no separator', 'abc'],
    ['empty parts', '.'],
    ['short mac', 'eyJ2IjoxfQ.abc'],
    ['non-base64url characters', `ab$c.${'A'.repeat(43)}`],
    ['SQL in the token', `' OR 1=1 --.${'A'.repeat(43)}`],
    ['a huge token', `${'A'.repeat(9500)}.${'A'.repeat(43)}`],
  ])('refuses a malformed token (%s) naming nextToken', (_label, token) => {
    const codec = new NextTokenCodec({ keys: [KEY_A], now: () => T0 });
    expect(rejection(() => codec.verify(token, BINDING))).toMatch(/^nextToken: is malformed/);
  });

  it('refuses a correctly signed payload that is not a token payload as malformed', () => {
    const codec = new NextTokenCodec({ keys: [KEY_A], now: () => T0 });
    const body = Buffer.from('{"v":2}').toString('base64url');
    const mac = createHmac('sha256', KEY_A).update(`v1.${body}`).digest('base64url');
    expect(rejection(() => codec.verify(`${body}.${mac}`, BINDING))).toMatch(/^nextToken: is malformed/);
  });

  it('expires tokens after the TTL with a message that says what to do', () => {
    let now = T0;
    const codec = new NextTokenCodec({ keys: [KEY_A], ttlSeconds: 60, now: () => now });
    const token = codec.sign(BINDING, { time: 1, id: 'x' });
    now = T0 + 59_000;
    expect(codec.verify(token, BINDING)).toEqual({ time: 1, id: 'x' });
    now = T0 + 61_000;
    expect(rejection(() => codec.verify(token, BINDING))).toBe(
      'nextToken: has expired; repeat the request without nextToken',
    );
  });

  it('defaults the TTL to 24 hours', () => {
    let now = T0;
    const codec = new NextTokenCodec({ keys: [KEY_A], now: () => now });
    const token = codec.sign(BINDING, { time: 1, id: 'x' });
    now = T0 + DEFAULT_TOKEN_TTL_SECONDS * 1000 - 1000;
    expect(codec.verify(token, BINDING).id).toBe('x');
    now = T0 + DEFAULT_TOKEN_TTL_SECONDS * 1000 + 1000;
    expect(rejection(() => codec.verify(token, BINDING))).toMatch(/has expired/);
  });

  it('rotates keys: signs with the first key and accepts tokens of every listed key', () => {
    const old = new NextTokenCodec({ keys: [KEY_A], now: () => T0 });
    const rotated = new NextTokenCodec({ keys: [KEY_B, KEY_A], now: () => T0 });
    const oldToken = old.sign(BINDING, { time: 1, id: 'old' });
    const newToken = rotated.sign(BINDING, { time: 2, id: 'new' });
    expect(rotated.verify(oldToken, BINDING).id).toBe('old');
    expect(rotated.verify(newToken, BINDING).id).toBe('new');
    expect(rejection(() => old.verify(newToken, BINDING))).toMatch(/not a token issued/);
  });

  it('refuses missing or short keys and a bad TTL at construction', () => {
    expect(() => new NextTokenCodec({ keys: [] })).toThrow(/at least one key/);
    expect(() => new NextTokenCodec({ keys: [new Uint8Array(8)] })).toThrow(/at least 16 bytes/);
    expect(() => new NextTokenCodec({ keys: [KEY_A], ttlSeconds: 0 })).toThrow(/TTL/);
  });
});

describe('requestBinding', () => {
  it('is the same for the same values whatever the object key order, and undefined is null', () => {
    expect(requestBinding(['a', { x: '1', y: '2' }, undefined])).toBe(
      requestBinding(['a', { y: '2', x: '1' }, null]),
    );
    expect(requestBinding(['a', { x: '1', y: undefined }])).toBe(requestBinding(['a', { x: '1' }]));
  });

  it('differs when any value differs, including values that only differ in type', () => {
    const base = requestBinding(['codecatalyst', 'acme', 1, 2, null, {}]);
    for (const parts of [
      ['codecatalyst', 'acme2', 1, 2, null, {}],
      ['codecatalyst', 'acme', 1, 3, null, {}],
      ['codecatalyst', 'acme', 1, 2, '', {}],
      ['codecatalyst', 'acme', 1, 2, null, { userName: 'u' }],
      ['codecatalyst', 'acme', '1', 2, null, {}],
    ])
      expect(requestBinding(parts)).not.toBe(base);
  });
});

describe('keysFromSecretString', () => {
  it('takes a plain secret string as one key and registers it for redaction', () => {
    const keys = keysFromSecretString('s3cr3t-token-key-0123456789');
    expect(keys.map((k) => Buffer.from(k).toString())).toEqual(['s3cr3t-token-key-0123456789']);
    expect(redactText('leaked s3cr3t-token-key-0123456789 here')).not.toContain('s3cr3t');
  });

  it('takes {"keys": [...]} (newest first) and {"key": "..."}', () => {
    expect(
      keysFromSecretString('{"keys":["newest-key-0123456789","older-key-0123456789"]}').map((k) =>
        Buffer.from(k).toString(),
      ),
    ).toEqual(['newest-key-0123456789', 'older-key-0123456789']);
    expect(keysFromSecretString('{"key":"only-key-0123456789"}')).toHaveLength(1);
  });

  it.each(['{not json', '{"keys":[]}', '{"keys":[1]}', '{"other":"x"}'])('refuses %s', (secret) => {
    expect(() => keysFromSecretString(secret)).toThrow(/token key secret/);
  });
});

describe('loadLocalTokenKeys', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'token-keys-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates 32 random bytes in _keys/next-token.key on first use and reads the same key later', async () => {
    const store = new LocalStore(dir);
    const [first] = await loadLocalTokenKeys(store);
    const [second] = await loadLocalTokenKeys(new LocalStore(dir));
    expect(statSync(path.join(dir, LOCAL_TOKEN_KEY)).size).toBe(32);
    expect(Buffer.from(second!).equals(Buffer.from(first!))).toBe(true);
    expect(Buffer.from(readFileSync(path.join(dir, LOCAL_TOKEN_KEY))).equals(Buffer.from(first!))).toBe(true);
  });

  it('gives every process the same key when several create it at once', async () => {
    const keys = await Promise.all(Array.from({ length: 8 }, () => loadLocalTokenKeys(new LocalStore(dir))));
    const distinct = new Set(keys.map(([k]) => Buffer.from(k!).toString('hex')));
    expect(distinct.size).toBe(1);
  });

  it('refuses a key file that is too short', async () => {
    const store = new LocalStore(dir);
    await store.put(LOCAL_TOKEN_KEY, new Uint8Array(4));
    await expect(loadLocalTokenKeys(store)).rejects.toThrow(/shorter than 16 bytes/);
  });
});
