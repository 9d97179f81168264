/**
 * One storage interface for the archive, chosen by URI: `s3://bucket/prefix` in AWS, a folder
 * (`file:///abs/path` or a relative path) on one machine. Everything above this file is the same code.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArchiveError } from '@eventlog-archive/shared';

export interface StoredObject {
  body: Uint8Array;
  /** Opaque version tag for compare-and-swap writes (the S3 ETag, quoted). */
  etag: string;
}

export interface PutOptions {
  contentType?: string;
  /** Write only if no object exists at the key (S3 `If-None-Match: *`). */
  ifNoneMatch?: boolean;
  /** Write only if the current object has this ETag (S3 `If-Match`). */
  ifMatch?: string;
  /**
   * The body's digests (hex), when the caller has them already (the Parquet worker computes them):
   * S3 is sent the SHA-256 and checks the upload against it (a mismatch is a 400 BadDigest, and the
   * SDK computes no checksum of its own); the local store takes the MD5 as the ETag instead of
   * hashing the body again on the event loop.
   */
  digests?: { md5: string; sha256: string };
}

export interface ListedObject {
  key: string;
  size: number;
}

export interface ArchiveStore {
  /** The archive's URI as given, normalised (`file:///…` or `s3://bucket/prefix`). */
  readonly uri: string;
  get(key: string): Promise<StoredObject | undefined>;
  /** Writes atomically: a reader sees the old object or the new one, never a part. */
  put(key: string, body: Uint8Array, options?: PutOptions): Promise<{ etag: string }>;
  delete(key: string): Promise<void>;
  /** Every object whose key starts with `prefix`, in key order. */
  list(prefix: string): AsyncIterable<ListedObject>;
}

/** A conditional write lost: the object exists (If-None-Match) or changed (If-Match). */
export class PreconditionFailedError extends ArchiveError {
  constructor(key: string, options?: { cause?: unknown }) {
    super(`the object ${key} changed or already exists`, options);
    this.name = 'PreconditionFailedError';
  }
}

export function isPreconditionFailed(err: unknown): boolean {
  return err instanceof Error && err.name === 'PreconditionFailedError';
}

/** Bad `--archive` value. */
export class ArchiveUriError extends ArchiveError {
  constructor(message: string) {
    super(message);
    this.name = 'ArchiveUriError';
  }
}

export type ArchiveLocation =
  | { kind: 'file'; dir: string; uri: string }
  | { kind: 's3'; bucket: string; prefix: string; uri: string };

// S3 bucket naming rules (general purpose buckets).
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Parses an archive URI: `s3://bucket[/prefix]`, `file:///abs/path`, or a path relative to `cwd`. */
export function parseArchiveUri(uri: string, cwd = process.cwd()): ArchiveLocation {
  if (typeof uri !== 'string' || uri.trim() === '')
    throw new ArchiveUriError('--archive: is required (s3://bucket/prefix, file:///abs/path or a folder)');
  if (uri.startsWith('s3://')) {
    const rest = uri.slice(5);
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    let prefix = slash < 0 ? '' : rest.slice(slash + 1);
    if (!BUCKET.test(bucket) || bucket.includes('..')) {
      throw new ArchiveUriError(`--archive: "${bucket}" is not a valid S3 bucket name`);
    }
    prefix = prefix.replace(/^\/+|\/+$/g, '');
    if (prefix.split('/').some((part) => part === '.' || part === '..')) {
      throw new ArchiveUriError('--archive: the S3 prefix must not contain "." or ".." segments');
    }
    const normalised = prefix ? `${prefix}/` : '';
    return { kind: 's3', bucket, prefix: normalised, uri: `s3://${bucket}${prefix ? `/${prefix}` : ''}` };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) && !uri.startsWith('file://')) {
    throw new ArchiveUriError(
      `--archive: unsupported scheme in "${uri}" (use s3://, file:// or a folder path)`,
    );
  }
  const dir = uri.startsWith('file://') ? fileURLToPath(uri) : path.resolve(cwd, uri);
  return { kind: 'file', dir, uri: `file://${dir}` };
}

/** Opens the archive a URI names. The S3 store is loaded lazily so local runs never load the S3 client. */
export async function openArchive(uri: string): Promise<ArchiveStore> {
  const location = parseArchiveUri(uri);
  if (location.kind === 'file') {
    const { LocalStore } = await import('./local-store');
    return new LocalStore(location.dir);
  }
  const { S3Store } = await import('./s3-store');
  return new S3Store(location.bucket, location.prefix);
}
