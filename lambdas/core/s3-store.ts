/** The archive in S3: one bucket, keys under a prefix. */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import {
  type ArchiveStore,
  type ListedObject,
  PreconditionFailedError,
  type PutOptions,
  type StoredObject,
} from './store';

/**
 * The S3 client the archive uses. `AWS_ENDPOINT_URL_S3` (read by the SDK itself) points it at an
 * S3-compatible server; such servers want path-style addressing.
 */
/**
 * How long a socket may stay silent (connect, or between bytes of an answer) before the attempt is
 * cut and retried. Without it a stalled S3 call would hang until the Lambda timeout; 30 s of silence
 * is far beyond S3's normal pauses even for the largest day object.
 */
export const S3_IDLE_TIMEOUT_MS = 30_000;

export function createS3Client(config: S3ClientConfig = {}): S3Client {
  const custom = Boolean(config.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL);
  return new S3Client({
    maxAttempts: 6,
    requestHandler: { socketTimeout: S3_IDLE_TIMEOUT_MS, connectionTimeout: 5_000 },
    ...(custom ? { forcePathStyle: true } : {}),
    ...config,
  });
}

let sharedClient: S3Client | undefined;

export class S3Store implements ArchiveStore {
  readonly uri: string;
  readonly #client: S3Client;

  constructor(
    readonly bucket: string,
    readonly prefix: string,
    client?: S3Client,
  ) {
    sharedClient ??= client ?? createS3Client();
    this.#client = client ?? sharedClient;
    this.uri = `s3://${bucket}${prefix ? `/${prefix.replace(/\/$/, '')}` : ''}`;
  }

  async get(key: string): Promise<StoredObject | undefined> {
    try {
      const out = await this.#client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }),
      );
      const body = out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
      return { body, etag: out.ETag ?? '' };
    } catch (err) {
      if (
        (err as Error).name === 'NoSuchKey' ||
        (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404
      ) {
        return undefined;
      }
      throw err;
    }
  }

  async put(key: string, body: Uint8Array, options: PutOptions = {}): Promise<{ etag: string }> {
    try {
      const out = await this.#client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.prefix + key,
          Body: body,
          ContentLength: body.byteLength,
          ContentType: options.contentType ?? 'application/octet-stream',
          ...(options.ifNoneMatch ? { IfNoneMatch: '*' } : {}),
          ...(options.ifMatch !== undefined ? { IfMatch: options.ifMatch } : {}),
          ...(options.digests
            ? { ChecksumSHA256: Buffer.from(options.digests.sha256, 'hex').toString('base64') }
            : {}),
        }),
      );
      return { etag: out.ETag ?? '' };
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      // 412: the condition failed; 409: a concurrent conditional write to the same key won;
      // 404 with If-Match: the object it had to match is gone.
      const conditional = options.ifNoneMatch || options.ifMatch !== undefined;
      if (
        conditional &&
        (status === 412 || status === 409 || (status === 404 && options.ifMatch !== undefined))
      ) {
        throw new PreconditionFailedError(key, { cause: err });
      }
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.#client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    let token: string | undefined;
    do {
      const out = await this.#client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.prefix + prefix,
          ContinuationToken: token,
        }),
      );
      for (const item of out.Contents ?? []) {
        if (item.Key) yield { key: item.Key.slice(this.prefix.length), size: item.Size ?? 0 };
      }
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
  }
}
