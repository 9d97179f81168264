/**
 * Which source instances the archive knows: a space "exists" for the API once the coverage ledger
 * has a document for it (`_ledger/<table>/<key>=<instance>/`), i.e. once an ingest run has recorded
 * a window of it, even a window without events. A space never archived is a 404
 * ResourceNotFoundException, as CodeCatalyst answers for a space that does not exist.
 *
 * Locally the ledger is read through the archive store; in Lambda through one signed S3
 * `ListObjectsV2` request (`max-keys=1`), so the query bundle carries no S3 client.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { ArchiveError, checkSpaceName, withRetry } from '@eventlog-archive/shared';
import { SignatureV4 } from '@smithy/signature-v4';
import { ledgerPrefix, tableLedgerPrefix } from '../ingest/archive/layout';
import {
  CODECATALYST_FIELDS,
  CODECATALYST_PARTITION_KEY,
  CODECATALYST_TABLE,
} from '../ingest/sources/codecatalyst/schema';
import type { SourceModule } from '../ingest/sources/types';

/**
 * The CodeCatalyst source as the query side sees it: the ingest's `codecatalyst` module without its
 * client. Importing that module would pull `@aws-sdk/client-codecatalyst` (~185 KB minified, through
 * `createClient`'s dynamic import) into the query bundle. A unit test keeps every other property
 * equal to the ingest's module.
 */
export const CODECATALYST_QUERY_SOURCE: SourceModule = {
  name: 'codecatalyst',
  title: 'CodeCatalyst event logs',
  table: CODECATALYST_TABLE,
  partitionKey: CODECATALYST_PARTITION_KEY,
  instanceOption: 'space',
  fields: CODECATALYST_FIELDS,
  idField: 'id',
  timeField: 'eventTime',
  pageSize: 250,
  pageSizeLimits: { min: 1, max: 250 },
  retentionDays: 30,
  checkInstance: (value, field) => checkSpaceName(value, field),
  partitionValue: (space) => space,
  createClient: () => Promise.reject(new ArchiveError('the query side has no source client')),
};

export interface ArchiveCatalog {
  /** True when the archive has recorded at least one window of this instance. */
  hasInstance(source: SourceModule, instance: string): Promise<boolean>;
}

/** The ledger folder of an instance. The instance must already be validated by the source's rule. */
export function instanceLedgerPrefix(source: SourceModule, instance: string): string {
  return ledgerPrefix({
    table: source.table,
    partitionKey: source.partitionKey,
    partitionValue: source.partitionValue(instance),
  });
}

/**
 * Caches positive answers: the archive never forgets an instance (a rewrite is a union), so once
 * seen it stays. Negative answers are asked again each time: a first ingest run makes a space appear.
 */
function cached(lookup: (prefix: string) => Promise<boolean>): ArchiveCatalog {
  const known = new Set<string>();
  return {
    async hasInstance(source, instance) {
      const prefix = instanceLedgerPrefix(source, instance);
      if (known.has(prefix)) return true;
      let found: boolean;
      try {
        found = await lookup(prefix);
      } catch (err) {
        // Storage faults are ours, never the caller's: wrapped so they map to a 500 (or 429 when throttled).
        throw new ArchiveError('the archive ledger could not be listed', { cause: err });
      }
      if (found) known.add(prefix);
      return found;
    },
  };
}

/** Every instance of a source that the archive's ledger knows, sorted (for listings and messages). */
export async function archivedInstances(
  store: { list(prefix: string): AsyncIterable<{ key: string }> },
  source: SourceModule,
): Promise<string[]> {
  const found = new Set<string>();
  const prefix = tableLedgerPrefix(source.table);
  const folder = `${source.partitionKey}=`;
  for await (const object of store.list(prefix)) {
    const rest = object.key.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash > folder.length && rest.startsWith(folder)) found.add(rest.slice(folder.length, slash));
  }
  return [...found].sort();
}

/** A catalog over an archive store (a folder locally). */
export function storeCatalog(store: {
  list(prefix: string): AsyncIterable<{ key: string }>;
}): ArchiveCatalog {
  return cached(async (prefix) => {
    for await (const _object of store.list(prefix)) return true;
    return false;
  });
}

export interface S3CatalogOptions {
  bucket: string;
  /** Key prefix of the archive, `''` or ending in `/`. */
  prefix: string;
  /** Environment for the region and `AWS_ENDPOINT_URL_S3` (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** A catalog over an S3 archive: one signed `ListObjectsV2` with `max-keys=1` per unknown instance. */
export function s3Catalog(options: S3CatalogOptions): ArchiveCatalog {
  const env = options.env ?? process.env;
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const custom = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  // Path-style for custom endpoints (S3-compatible servers) and for dotted bucket names (TLS).
  const base = custom
    ? `${custom.replace(/\/+$/, '')}/${options.bucket}`
    : options.bucket.includes('.')
      ? `https://s3.${region}.amazonaws.com/${options.bucket}`
      : `https://${options.bucket}.s3.${region}.amazonaws.com`;
  const url = new URL(base.endsWith('/') ? base : `${base}/`);
  const signer = new SignatureV4({
    service: 's3',
    region,
    credentials: defaultProvider(),
    sha256: NodeSha256,
    uriEscapePath: false,
  });
  return cached((prefix) =>
    withRetry(
      async () => {
        const query = { 'list-type': '2', 'max-keys': '1', prefix: options.prefix + prefix };
        const signed = await signer.sign({
          method: 'GET',
          protocol: url.protocol,
          hostname: url.hostname,
          port: url.port ? Number(url.port) : undefined,
          path: url.pathname,
          query,
          headers: { host: url.host },
        });
        const headers = { ...signed.headers };
        delete headers.host;
        const response = await fetch(`${url.origin}${url.pathname}?${new URLSearchParams(query)}`, {
          headers,
          signal: AbortSignal.timeout(10_000),
        });
        const text = await response.text();
        if (!response.ok) throw new S3ListError(response.status, /<Code>([^<]+)<\/Code>/.exec(text)?.[1]);
        const count = /<KeyCount>(\d+)<\/KeyCount>/.exec(text)?.[1];
        return count !== undefined ? Number(count) > 0 : text.includes('<Contents>');
      },
      { maxAttempts: 4, baseMs: 50, capMs: 1_000 },
    ),
  );
}

/** An S3 error answer; `$metadata` lets the shared classifier retry 5xx and 429. */
class S3ListError extends ArchiveError {
  readonly $metadata: { httpStatusCode: number };
  constructor(status: number, code = `Http${status}`) {
    super(`S3 ListObjectsV2 answered ${status} ${code}`);
    // The S3 code stays in the message only: a name such as AccessDenied must not look like an API error.
    this.name = 'S3ListError';
    this.$metadata = { httpStatusCode: status };
  }
}

/** SHA-256 for the signer, from node:crypto (HMAC when given a secret). */
class NodeSha256 {
  readonly #hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
}

function bytes(data: string | ArrayBuffer | ArrayBufferView): Uint8Array | string {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}
