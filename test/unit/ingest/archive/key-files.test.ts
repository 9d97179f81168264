/**
 * Key material in a folder archive is owner-only: `_keys/` 0700 and every key file in it 0600,
 * whichever writer creates them first (the query API's token key through LocalStore, the digest
 * signing key through its loader), and an existing `_keys/` or key file left looser by an earlier
 * version is tightened. Run under a umask of 022, the usual default, which would leave 0755 / 0644.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  digestSignerFromEnv,
  LOCAL_DIGEST_KEY,
  loadOrCreateKeyFile,
} from '../../../../lambdas/core/digest-signer';
import { LocalStore } from '../../../../lambdas/core/local-store';
import { LOCAL_TOKEN_KEY, loadLocalTokenKeys } from '../../../../lambdas/query/next-token';

const mode = (file: string): number => statSync(file).mode & 0o777;
let previousUmask: number;
let dir: string;

beforeAll(() => {
  previousUmask = process.umask(0o022);
});
afterAll(() => {
  process.umask(previousUmask);
});
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'key-files-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('key files of a folder archive', () => {
  it('creates the token key 0600 in a 0700 _keys/, and leaves data and the archive folder as they were', async () => {
    const store = new LocalStore(dir);
    await store.put('codecatalyst_event_logs/space=a/dt=2024-05-01/events.parquet', new Uint8Array([1]));
    await loadLocalTokenKeys(store);

    expect(mode(path.join(dir, LOCAL_TOKEN_KEY))).toBe(0o600);
    expect(mode(path.join(dir, '_keys'))).toBe(0o700);
    expect(mode(path.join(dir, 'codecatalyst_event_logs/space=a/dt=2024-05-01/events.parquet'))).toBe(0o644);
    expect(mode(path.join(dir, 'codecatalyst_event_logs'))).toBe(0o755);
    expect(mode(dir)).toBe(0o700); // mkdtemp's own mode, untouched
  });

  it('creates the token key owner-only in an archive folder that does not exist yet, which keeps the default mode', async () => {
    const root = path.join(dir, 'new-archive');
    await loadLocalTokenKeys(new LocalStore(root));

    expect(mode(root)).toBe(0o755);
    expect(mode(path.join(root, '_keys'))).toBe(0o700);
    expect(mode(path.join(root, LOCAL_TOKEN_KEY))).toBe(0o600);
  });

  it.each([
    ['token key first, then the signing key', ['token', 'digest']],
    ['signing key first, then the token key', ['digest', 'token']],
  ])('keeps both keys 0600 and _keys/ 0700 with the %s', async (_name, order) => {
    for (const which of order) {
      if (which === 'token') await loadLocalTokenKeys(new LocalStore(dir));
      else await digestSignerFromEnv(dir, {});
    }

    expect(mode(path.join(dir, '_keys'))).toBe(0o700);
    expect(mode(path.join(dir, LOCAL_TOKEN_KEY))).toBe(0o600);
    expect(mode(path.join(dir, LOCAL_DIGEST_KEY))).toBe(0o600);
  });

  it('tightens an existing _keys/ (0755) and key files (0644) it owns when it next uses them', async () => {
    await loadLocalTokenKeys(new LocalStore(dir));
    await digestSignerFromEnv(dir, {});
    chmodSync(path.join(dir, '_keys'), 0o755);
    chmodSync(path.join(dir, LOCAL_TOKEN_KEY), 0o644);
    chmodSync(path.join(dir, LOCAL_DIGEST_KEY), 0o644);

    await loadLocalTokenKeys(new LocalStore(dir));
    expect(mode(path.join(dir, '_keys'))).toBe(0o700);
    expect(mode(path.join(dir, LOCAL_TOKEN_KEY))).toBe(0o600);

    chmodSync(path.join(dir, '_keys'), 0o755);
    await digestSignerFromEnv(dir, {});
    expect(mode(path.join(dir, '_keys'))).toBe(0o700);
    expect(mode(path.join(dir, LOCAL_DIGEST_KEY))).toBe(0o600);
  });

  it('writes a new key 0600 into a _keys/ that already existed 0755, and tightens the folder', async () => {
    mkdirSync(path.join(dir, '_keys'), { mode: 0o755 });
    chmodSync(path.join(dir, '_keys'), 0o755);
    await new LocalStore(dir).put(LOCAL_TOKEN_KEY, new Uint8Array(32), { ifNoneMatch: true });

    expect(mode(path.join(dir, '_keys'))).toBe(0o700);
    expect(mode(path.join(dir, LOCAL_TOKEN_KEY))).toBe(0o600);
  });

  it('creates DIGEST_SIGNING_KEY_FILE 0600 and its new folders 0700, and leaves a folder of yours as it is', async () => {
    const nested = path.join(dir, 'keys/signing/digest.pem');
    await digestSignerFromEnv(dir, { DIGEST_SIGNING_KEY_FILE: nested });
    expect(mode(nested)).toBe(0o600);
    expect(mode(path.dirname(nested))).toBe(0o700);

    const yours = path.join(dir, 'yours');
    mkdirSync(yours);
    chmodSync(yours, 0o755);
    await loadOrCreateKeyFile(path.join(yours, 'digest.pem'));
    expect(mode(path.join(yours, 'digest.pem'))).toBe(0o600);
    expect(mode(yours)).toBe(0o755);
  });
});
