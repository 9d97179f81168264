/**
 * The archive that `serve` and `query` read, opened one way for both: a folder is read where it is;
 * an `s3://bucket/prefix` archive is read through the S3 store (the user's default credential
 * chain, `AWS_ENDPOINT_URL_S3` honoured) into a local cache of day objects (s3-day-cache.ts), which
 * DuckDB then queries exactly as it queries a folder.
 *
 * Reading an S3 archive never writes to the bucket: the catalog and the ledger are listed and read,
 * day objects are read. The nextToken key, which a folder archive keeps in `_keys/next-token.key`,
 * is kept in the archive's cache folder instead: serve must work with read-only access to the
 * bucket, and a key in the bucket would let anyone who can read the bucket forge page tokens.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import type { Clock } from '@eventlog-archive/shared';
import { ensurePrivateDir, LocalStore } from '../../lambdas/core/local-store';
import { type ArchiveStore, openArchive, parseArchiveUri } from '../../lambdas/core/store';
import type { DuckDbEngineOptions } from '../../lambdas/query/duckdb-engine';
import type { KeyStore } from '../../lambdas/query/next-token';
import {
  type ArchiveDayCache,
  DEFAULT_CACHE_MAX_BYTES,
  openArchiveDayCache,
} from '../../lambdas/query/s3-day-cache';
import { UsageError, type Values } from './args';

export { DEFAULT_CACHE_MAX_BYTES } from '../../lambdas/query/s3-day-cache';

/** The cache folder of S3 archives, when neither `--cache-dir` nor this variable names one. */
export const CACHE_DIR_ENV = 'EVENTLOG_ARCHIVE_CACHE_DIR';
/** The bound of an S3 archive's cache, when `--cache-max-bytes` does not give one. */
export const CACHE_MAX_BYTES_ENV = 'EVENTLOG_ARCHIVE_CACHE_MAX_BYTES';

/** The cache options of `serve`, `query` and `coverage`. */
export const CACHE_OPTIONS = {
  'cache-dir': { type: 'string' },
  'cache-max-bytes': { type: 'string' },
} as const;

export interface CacheSettings {
  /** Root cache folder: each S3 archive gets its own folder in it. */
  dir: string;
  maxBytes: number;
}

export interface QueryArchiveOptions {
  /** Where and how much to cache (default: {@link cacheSettings} of no options and `process.env`). */
  cache?: Partial<CacheSettings>;
  /** The clock of the ledger's freshness (default the system clock). */
  clock?: Clock;
  /** How long the ledger of an S3 archive is trusted before it is read again (default 60 s). */
  ledgerTtlMs?: number;
}

export interface QueryArchive {
  /** The archive's URI, normalised. */
  uri: string;
  kind: 'file' | 's3';
  /** The archive itself: the catalog and the ledger are read through it. */
  store: ArchiveStore;
  /** Where the nextToken key lives: the archive folder, or the S3 archive's cache folder. */
  keyStore: KeyStore;
  /** The folder DuckDB is opened over: the archive folder, or the S3 archive's cache folder. */
  dir: string;
  /** What the DuckDB engine needs to find the days (nothing for a folder). */
  engine: Pick<DuckDbEngineOptions, 'dayFiles'>;
  /** The day cache of an S3 archive. */
  cache?: ArchiveDayCache;
  /** One line for banners: which archive, and where its cache is. */
  describe: string;
  close(): Promise<void>;
}

const GIB = 2 ** 30;

/** `2147483648`, `512M`, `2G`, `2GiB`, `1.5G`: bytes (binary units). */
export function parseByteSize(raw: string, name: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(?:([KMGT])(?:i?B)?|B)?$/i.exec(raw.trim());
  const unit = { K: 2 ** 10, M: 2 ** 20, G: GIB, T: 2 ** 40 }[(m?.[2] ?? '').toUpperCase()] ?? 1;
  const bytes = m ? Math.floor(Number(m[1]) * unit) : Number.NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1)
    throw new UsageError(`${name}: must be a size in bytes, such as 2147483648, 512M or 2G (got "${raw}")`);
  return bytes;
}

/**
 * The cache settings of a command line: `--cache-dir`, else `EVENTLOG_ARCHIVE_CACHE_DIR`, else
 * `$XDG_CACHE_HOME/eventlog-archive`, else `~/.cache/eventlog-archive`; `--cache-max-bytes`, else
 * `EVENTLOG_ARCHIVE_CACHE_MAX_BYTES`, else 2 GiB.
 */
export function cacheSettings(values: Values, env: NodeJS.ProcessEnv = process.env): CacheSettings {
  const option = values['cache-dir'];
  if (option !== undefined && (typeof option !== 'string' || option.trim() === ''))
    throw new UsageError('--cache-dir: must name a folder');
  const fromEnv = env[CACHE_DIR_ENV]?.trim() ? env[CACHE_DIR_ENV] : undefined;
  const xdg = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : undefined;
  const dir = path.resolve(
    (option as string | undefined) ??
      fromEnv ??
      path.join(xdg ?? path.join(env.HOME || homedir(), '.cache'), 'eventlog-archive'),
  );
  const rawMax = values['cache-max-bytes'];
  const maxBytes =
    typeof rawMax === 'string'
      ? parseByteSize(rawMax, '--cache-max-bytes')
      : env[CACHE_MAX_BYTES_ENV]?.trim()
        ? parseByteSize(env[CACHE_MAX_BYTES_ENV], CACHE_MAX_BYTES_ENV)
        : DEFAULT_CACHE_MAX_BYTES;
  return { dir, maxBytes };
}

/**
 * The folder of one S3 archive inside the cache root: a readable slug of bucket and prefix and the
 * first 16 hex digits of the SHA-256 of the URI (two archives never share a folder; the slug alone
 * could collide, and a prefix can be longer than a file name may be).
 */
export function archiveCacheFolder(root: string, uri: string): string {
  const slug = uri
    .replace(/^s3:\/\//, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[.-]+|-+$/g, '')
    .slice(0, 80);
  const hash = createHash('sha256').update(uri).digest('hex').slice(0, 16);
  return path.join(root, `s3-${slug}-${hash}`);
}

/** Shown sizes: `2.0 GiB`, `512 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes >= GIB) return `${(bytes / GIB).toFixed(1)} GiB`;
  if (bytes >= 2 ** 20) return `${Math.round(bytes / 2 ** 20)} MiB`;
  if (bytes >= 2 ** 10) return `${Math.round(bytes / 2 ** 10)} KiB`;
  return `${bytes} B`;
}

/**
 * Opens an archive for querying: the one way `serve` and `query` open a folder or an S3 archive.
 *
 * @example
 * const archive = await openQueryArchive('s3://my-bucket/audit', { cache: { dir: '/tmp/c' } });
 * const engine = await createDuckDbEngine(archive.dir, archive.engine);
 */
export async function openQueryArchive(
  uri: string,
  options: QueryArchiveOptions = {},
): Promise<QueryArchive> {
  const location = parseArchiveUri(uri);
  if (location.kind === 'file') {
    const store = new LocalStore(location.dir);
    return {
      uri: location.uri,
      kind: 'file',
      store,
      keyStore: store,
      dir: location.dir,
      engine: {},
      describe: location.dir,
      close: async () => {},
    };
  }
  const settings = { ...cacheSettings({}), ...options.cache };
  const dir = archiveCacheFolder(path.resolve(settings.dir), location.uri);
  // Audit events: the cache is for this user only.
  await ensurePrivateDir(path.resolve(settings.dir), { tightenExisting: false });
  await ensurePrivateDir(dir, { tightenExisting: true });
  // Which archive a folder caches, for whoever looks into the cache root.
  await writeFile(path.join(dir, 'ARCHIVE'), `${location.uri}\n`).catch(() => {});
  const store = await openArchive(location.uri);
  const cache = await openArchiveDayCache({
    store,
    dir,
    maxBytes: settings.maxBytes,
    ...(options.clock ? { now: options.clock } : {}),
    ...(options.ledgerTtlMs !== undefined ? { ledgerTtlMs: options.ledgerTtlMs } : {}),
  });
  return {
    uri: location.uri,
    kind: 's3',
    store,
    // Never the bucket: see the header.
    keyStore: new LocalStore(dir),
    dir,
    engine: { dayFiles: cache.dayFiles },
    cache,
    describe: `${location.uri} (day objects cached in ${dir}, at most ${formatBytes(settings.maxBytes)})`,
    close: async () => {},
  };
}
