/** The archive as a folder: keys are relative paths; writes are atomic by write-then-rename. */
import { createHash, randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { sleep } from '@eventlog-archive/shared';
import { TOKEN_FOLDER } from './access-tokens';
import {
  type ArchiveStore,
  type ListedObject,
  PreconditionFailedError,
  type PutOptions,
  type StoredObject,
} from './store';

export function etagOf(body: Uint8Array): string {
  return `"${createHash('md5').update(body).digest('hex')}"`;
}

/**
 * The archive folder of key material: the query API's token key (`_keys/next-token.key`) and the
 * local digest signing key (`_keys/digest-signing-key.pem`). Owner-only, whoever writes into it:
 * folder 0700, files 0600 (an HMAC or signing key readable by other users of the machine would let
 * them forge page tokens or re-sign a chain).
 */
export const KEYS_FOLDER = '_keys';
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Folders kept owner-only like {@link KEYS_FOLDER}: the API's access-token records
 * (access-tokens.ts) hold only salted hashes, but who holds a token is nobody else's business.
 */
const PRIVATE_FOLDERS: ReadonlySet<string> = new Set([KEYS_FOLDER, TOKEN_FOLDER]);

/** Whether an archive key names key material (something under {@link KEYS_FOLDER} or {@link TOKEN_FOLDER}). */
export function isKeyMaterial(key: string): boolean {
  return PRIVATE_FOLDERS.has(key.split('/')[0]!);
}

/**
 * Makes `dir` exist as an owner-only (0700) folder; missing parents get the default mode (the archive
 * folder itself stays readable). An existing `dir` is tightened to 0700 when `tightenExisting` and
 * this process's user owns it (an archive's own `_keys/`, perhaps created 0755 by an earlier
 * version); a folder named by the user (`DIGEST_SIGNING_KEY_FILE`'s) is left as it is.
 */
export async function ensurePrivateDir(dir: string, options: { tightenExisting: boolean }): Promise<void> {
  await fs.mkdir(path.dirname(dir), { recursive: true });
  let created = false;
  try {
    await fs.mkdir(dir, { mode: PRIVATE_DIR_MODE });
    created = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  // mkdir's mode is filtered by the umask, which may take bits away but never adds any: set it exactly.
  if (created || options.tightenExisting) await tightenMode(dir, PRIVATE_DIR_MODE);
}

/**
 * Sets `file`'s permission bits to `mode` when they differ and this process's user owns it (chmod
 * would fail otherwise). Symbolic links are left alone: chmod would change their target.
 */
export async function tightenMode(file: string, mode: number): Promise<void> {
  let stat: import('node:fs').Stats;
  try {
    stat = await fs.lstat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (stat.isSymbolicLink() || (stat.mode & 0o777) === mode) return;
  if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) return;
  await fs.chmod(file, mode);
}

export class LocalStore implements ArchiveStore {
  readonly uri: string;
  readonly #root: string;

  constructor(root: string) {
    this.#root = path.resolve(root);
    this.uri = pathToFileURL(this.#root).href;
  }

  #path(key: string): string {
    const full = path.resolve(this.#root, key);
    if (!full.startsWith(this.#root + path.sep))
      throw new RangeError(`key escapes the archive folder: ${key}`);
    return full;
  }

  async get(key: string): Promise<StoredObject | undefined> {
    try {
      const file = this.#path(key);
      // A key file written before keys were owner-only is tightened when next read.
      if (isKeyMaterial(key)) await this.#securePrivate(file);
      const body = new Uint8Array(await fs.readFile(file));
      return { body, etag: etagOf(body) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async put(key: string, body: Uint8Array, options: PutOptions = {}): Promise<{ etag: string }> {
    const target = this.#path(key);
    const secret = isKeyMaterial(key);
    if (secret) await ensurePrivateDir(path.dirname(target), { tightenExisting: true });
    else await fs.mkdir(path.dirname(target), { recursive: true });
    const tmp = `${target}.${randomUUID()}.tmp`;
    // The mode is the temporary file's from its creation, and rename/link keep it: a key is never
    // readable by others, not even between the write and a chmod.
    await fs.writeFile(tmp, body, { flush: true, ...(secret ? { mode: PRIVATE_FILE_MODE } : {}) });
    try {
      if (options.ifNoneMatch) {
        // link() fails with EEXIST when the target exists: an atomic create-if-absent with full content.
        try {
          await fs.link(tmp, target);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EEXIST')
            throw new PreconditionFailedError(key, { cause: err });
          throw err;
        }
      } else if (options.ifMatch !== undefined) {
        await this.#withKeyLock(target, async () => {
          const current = await this.get(key);
          if (!current || current.etag !== options.ifMatch) throw new PreconditionFailedError(key);
          await fs.rename(tmp, target);
        });
      } else {
        await fs.rename(tmp, target);
      }
    } finally {
      await fs.rm(tmp, { force: true });
    }
    return { etag: options.digests ? `"${options.digests.md5}"` : etagOf(body) };
  }

  /** Tightens an existing key file and the `_keys/` folders above it (best effort: reads still work). */
  async #securePrivate(file: string): Promise<void> {
    try {
      for (let dir = path.dirname(file); dir.startsWith(this.#root + path.sep); dir = path.dirname(dir))
        await tightenMode(dir, PRIVATE_DIR_MODE);
      await tightenMode(file, PRIVATE_FILE_MODE);
    } catch {
      // Not ours to change (a read-only copy, another user's archive): reading it is still allowed.
    }
  }

  async delete(key: string): Promise<void> {
    await fs.rm(this.#path(key), { force: true });
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    // Walk only the folder the prefix names, then filter by the rest of the prefix.
    const slash = prefix.lastIndexOf('/');
    const dirKey = slash < 0 ? '' : prefix.slice(0, slash);
    const start = dirKey ? this.#path(dirKey) : this.#root;
    const found: ListedObject[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await fs.readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (
          (err as NodeJS.ErrnoException).code === 'ENOENT' ||
          (err as NodeJS.ErrnoException).code === 'ENOTDIR'
        )
          return;
        throw err;
      }
      for (const entry of entries) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        else if (entry.isFile() && !entry.name.endsWith('.tmp') && !entry.name.endsWith('.lock')) {
          const key = path.relative(this.#root, full).split(path.sep).join('/');
          if (key.startsWith(prefix)) found.push({ key, size: (await fs.stat(full)).size });
        }
      }
    };
    await walk(start);
    found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    yield* found;
  }

  /** A per-key mutex across processes: mkdir is atomic. Used only for compare-and-swap writes. */
  async #withKeyLock<T>(target: string, fn: () => Promise<T>): Promise<T> {
    const lock = `${target}.lock`;
    for (let attempt = 0; ; attempt++) {
      try {
        await fs.mkdir(lock);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 200) throw err;
        await sleep(5 + Math.random() * 20);
      }
    }
    try {
      return await fn();
    } finally {
      await fs.rmdir(lock).catch(() => undefined);
    }
  }
}
