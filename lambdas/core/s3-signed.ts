/**
 * S3 reads without an S3 client in the bundle: one SigV4-signed request each (aws-request.ts). The
 * query function lists the ledger this way (query/catalog.ts) and the token authorizer reads token
 * records, which keeps both bundles small (the S3 client is about 140 KB of a cold start).
 */
import { ArchiveError, withRetry } from '@eventlog-archive/shared';
import { signedRequest } from './aws-request';
import type { ArchiveStore } from './store';

/** Where a bucket is reached: `AWS_ENDPOINT_URL_S3` (path style) or the regional endpoint. */
export function s3BucketUrl(bucket: string, env: NodeJS.ProcessEnv): { url: URL; region: string } {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const custom = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  // Path-style for custom endpoints (S3-compatible servers) and for dotted bucket names (TLS).
  const base = custom
    ? `${custom.replace(/\/+$/, '')}/${bucket}`
    : bucket.includes('.')
      ? `https://s3.${region}.amazonaws.com/${bucket}`
      : `https://${bucket}.s3.${region}.amazonaws.com`;
  return { url: new URL(base.endsWith('/') ? base : `${base}/`), region };
}

/** An S3 error answer; `$metadata` lets the shared classifier retry 5xx and 429. */
export class S3RequestError extends ArchiveError {
  readonly $metadata: { httpStatusCode: number };
  constructor(operation: string, status: number, code = `Http${status}`) {
    super(`S3 ${operation} answered ${status} ${code}`);
    // The S3 code stays in the message only: a name such as AccessDenied must not look like an API error.
    this.name = 'S3RequestError';
    this.$metadata = { httpStatusCode: status };
  }
}

/**
 * Reads objects of `s3://bucket/prefix` by key with signed GetObject requests (a missing key is
 * `undefined`; 5xx and throttling are retried). Read-only: just `get` of an {@link ArchiveStore}.
 */
export function signedS3Reader(options: {
  bucket: string;
  /** `''` or ending in `/`. */
  prefix: string;
  env?: NodeJS.ProcessEnv;
}): Pick<ArchiveStore, 'get'> {
  const { url, region } = s3BucketUrl(options.bucket, options.env ?? process.env);
  return {
    get: (key) =>
      withRetry(
        async () => {
          const objectPath = `${url.pathname}${`${options.prefix}${key}`.split('/').map(encodeURIComponent).join('/')}`;
          const response = await signedRequest({
            service: 's3',
            region,
            endpoint: url.origin,
            // S3 signs the path as sent (no second escaping).
            uriEscapePath: false,
            method: 'GET',
            path: objectPath,
            timeoutMs: 5_000,
          });
          if (response.status === 404) return undefined;
          if (!response.ok)
            throw new S3RequestError(
              'GetObject',
              response.status,
              /<Code>([^<]+)<\/Code>/.exec(response.text)?.[1],
            );
          return {
            body: new TextEncoder().encode(response.text),
            etag: response.headers.get('etag') ?? '',
          };
        },
        { maxAttempts: 3, baseMs: 50, capMs: 500 },
      ),
  };
}
