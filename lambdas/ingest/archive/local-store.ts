/** The archive as a folder: keys are relative paths; writes are atomic by write-then-rename. */
import { createHash, randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { sleep } from '@eventlog-archive/shared';
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
      const body = new Uint8Array(await fs.readFile(this.#path(key)));
      return { body, etag: etagOf(body) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async put(key: string, body: Uint8Array, options: PutOptions = {}): Promise<{ etag: string }> {
    const target = this.#path(key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    const tmp = `${target}.${randomUUID()}.tmp`;
    await fs.writeFile(tmp, body, { flush: true });
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
    return { etag: etagOf(body) };
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
