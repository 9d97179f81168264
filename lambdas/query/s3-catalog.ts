/**
 * The catalog of an S3 archive as the query Lambda reads it: one signed `ListObjectsV2` with
 * `max-keys=1` per unknown instance (no S3 client in the bundle). Apart from catalog.ts so that
 * what reads a folder never loads the request signer.
 */
import { withRetry } from '@eventlog-archive/shared';
import { signedRequest } from '../core/aws-request';
import { S3RequestError, s3BucketUrl } from '../core/s3-signed';
import { type ArchiveCatalog, cached } from './catalog';

export interface S3CatalogOptions {
  bucket: string;
  /** Key prefix of the archive, `''` or ending in `/`. */
  prefix: string;
  /** Environment for the region and `AWS_ENDPOINT_URL_S3` (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** A catalog over an S3 archive: one signed `ListObjectsV2` with `max-keys=1` per unknown instance. */
export function s3Catalog(options: S3CatalogOptions): ArchiveCatalog {
  const { url, region } = s3BucketUrl(options.bucket, options.env ?? process.env);
  return cached((prefix) =>
    withRetry(
      async () => {
        const response = await signedRequest({
          service: 's3',
          region,
          endpoint: url.origin,
          // S3 signs the path as sent (no second escaping).
          uriEscapePath: false,
          method: 'GET',
          path: url.pathname,
          query: { 'list-type': '2', 'max-keys': '1', prefix: options.prefix + prefix },
          timeoutMs: 10_000,
        });
        const { text } = response;
        if (!response.ok)
          throw new S3RequestError('ListObjectsV2', response.status, /<Code>([^<]+)<\/Code>/.exec(text)?.[1]);
        const count = /<KeyCount>(\d+)<\/KeyCount>/.exec(text)?.[1];
        return count !== undefined ? Number(count) > 0 : text.includes('<Contents>');
      },
      { maxAttempts: 4, baseMs: 50, capMs: 1_000 },
    ),
  );
}
