import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  paginateListObjectsV2,
  type S3Client,
  type S3ServiceException,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type S3TestServer, startS3Server } from './s3-server';

const BUCKET = 'archive';

async function rejection(promise: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await promise;
  } catch (err) {
    return err as S3ServiceException;
  }
  throw new Error('expected the call to fail');
}

async function getBytes(client: S3Client, key: string): Promise<Uint8Array> {
  const out = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return out.Body!.transformToByteArray();
}

describe('s3-server', () => {
  let server: S3TestServer;
  let s3: S3Client;

  beforeAll(async () => {
    server = await startS3Server({ buckets: [BUCKET] });
    s3 = server.client();
  });

  afterAll(async () => {
    await server.close();
  });

  beforeEach(() => {
    server.faults = {};
    server.resetStats();
  });

  describe('round trips', () => {
    it('returns the same bytes when a Uint8Array body is put and got', async () => {
      // 3 MB: above the SDK's 2 MB threshold for `Expect: 100-continue`.
      const body = new Uint8Array(randomBytes(3 * 1024 * 1024));
      const put = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'rt/bytes.bin', Body: body }));
      expect(put.ETag).toMatch(/^"[0-9a-f]{32}"$/);

      expect(Buffer.from(await getBytes(s3, 'rt/bytes.bin')).equals(Buffer.from(body))).toBe(true);
    });

    it('returns the same bytes when a key has characters that need encoding', async () => {
      const key = 'rt/space name+plus/é=ü&.parquet';
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: new Uint8Array([1, 2, 3]) }));
      expect([...(await getBytes(s3, key))]).toEqual([1, 2, 3]);
    });

    it('returns the same bytes when a stream body is sent aws-chunked with the default checksum settings', async () => {
      const parts = [Buffer.from('hello '), Buffer.from('chunked '), Buffer.from('world')];
      await s3.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: 'rt/stream.txt',
          Body: Readable.from(parts),
          ContentLength: 19,
        }),
      );
      expect(server.stats.awsChunked).toBe(1);
      expect(Buffer.from(await getBytes(s3, 'rt/stream.txt')).toString()).toBe('hello chunked world');
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'rt/stream.txt' }));
      expect(head.ContentEncoding).toBeUndefined();
    });

    it('fails in the SDK before sending when a stream body has no ContentLength', async () => {
      const err = await rejection(
        s3.send(
          new PutObjectCommand({
            Bucket: BUCKET,
            Key: 'rt/no-length',
            Body: Readable.from([Buffer.from('x')]),
          }),
        ),
      );
      expect(String(err.message)).toMatch(/x-amz-decoded-content-length/);
      expect(server.stats.requests).toBe(0);
    });

    it('returns size and ETag from HeadObject and NotFound after DeleteObject', async () => {
      const put = await s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: 'rt/head.bin', Body: new Uint8Array(1234) }),
      );
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'rt/head.bin' }));
      expect(head.ContentLength).toBe(1234);
      expect(head.ETag).toBe(put.ETag);

      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'rt/head.bin' }));
      const err = await rejection(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'rt/head.bin' })));
      expect(err.name).toBe('NotFound');
      expect(err.$metadata.httpStatusCode).toBe(404);
    });

    it('returns NoSuchKey when a missing object is got', async () => {
      const err = await rejection(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'rt/missing' })));
      expect(err.name).toBe('NoSuchKey');
      expect(err.$metadata.httpStatusCode).toBe(404);
    });
  });

  describe('ListObjectsV2', () => {
    const keys = Array.from({ length: 7 }, (_, i) => `list/day=2026-01-0${i + 1}/part-0.parquet`);

    beforeAll(async () => {
      for (const key of [...keys, 'other/a', 'lisz']) {
        await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: new Uint8Array([7]) }));
      }
    });

    it('returns a continuation token when a listing is truncated', async () => {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'list/', MaxKeys: 3 }));
      expect(page.Contents?.map((o) => o.Key)).toEqual(keys.slice(0, 3));
      expect(page.IsTruncated).toBe(true);
      expect(page.KeyCount).toBe(3);
      expect(page.NextContinuationToken).toBeTruthy();
      expect(page.Contents?.[0]?.Size).toBe(1);
    });

    it('returns every key under the prefix exactly once when paginated', async () => {
      const seen: string[] = [];
      for await (const page of paginateListObjectsV2(
        { client: s3, pageSize: 3 },
        { Bucket: BUCKET, Prefix: 'list/' },
      )) {
        for (const object of page.Contents ?? []) seen.push(object.Key!);
      }
      expect(seen).toEqual(keys);
    });

    it('returns keys after StartAfter', async () => {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'list/', StartAfter: keys[4] }),
      );
      expect(page.Contents?.map((o) => o.Key)).toEqual(keys.slice(5));
      expect(page.IsTruncated).toBe(false);
    });

    it('returns common prefixes once when a delimiter is given and the listing is paginated', async () => {
      const prefixes: string[] = [];
      for await (const page of paginateListObjectsV2(
        { client: s3, pageSize: 2 },
        { Bucket: BUCKET, Prefix: 'list/', Delimiter: '/' },
      )) {
        for (const p of page.CommonPrefixes ?? []) prefixes.push(p.Prefix!);
        expect(page.Contents ?? []).toEqual([]);
      }
      expect(prefixes).toEqual(keys.map((k) => k.slice(0, k.lastIndexOf('/') + 1)));
    });

    it('returns InvalidArgument when a continuation token was not issued by the proxy', async () => {
      const err = await rejection(
        s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'list/', ContinuationToken: 'bogus' })),
      );
      expect(err.name).toBe('InvalidArgument');
      expect(err.$metadata.httpStatusCode).toBe(400);
    });
  });

  describe('conditional writes', () => {
    it('returns PreconditionFailed when If-None-Match is * and the key exists', async () => {
      await s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: 'cw/once', Body: 'first', IfNoneMatch: '*' }),
      );
      const err = await rejection(
        s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'cw/once', Body: 'second', IfNoneMatch: '*' })),
      );
      expect(err.name).toBe('PreconditionFailed');
      expect(err.$metadata.httpStatusCode).toBe(412);
      expect(Buffer.from(await getBytes(s3, 'cw/once')).toString()).toBe('first');
      expect(server.stats.preconditionFailed).toBe(1);
    });

    it('writes when If-Match carries the current ETag and refuses a stale or missing one', async () => {
      const first = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'cw/cas', Body: 'v1' }));
      const second = await s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: 'cw/cas', Body: 'v2', IfMatch: first.ETag }),
      );
      expect(second.ETag).not.toBe(first.ETag);

      const stale = await rejection(
        s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'cw/cas', Body: 'v3', IfMatch: first.ETag })),
      );
      expect(stale.name).toBe('PreconditionFailed');
      expect(Buffer.from(await getBytes(s3, 'cw/cas')).toString()).toBe('v2');

      const missing = await rejection(
        s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'cw/none', Body: 'v1', IfMatch: first.ETag })),
      );
      expect(missing.$metadata.httpStatusCode).toBe(412);
    });

    it('lets exactly one writer win when conditional puts of one key race', async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          s3.send(
            new PutObjectCommand({ Bucket: BUCKET, Key: 'cw/race', Body: `writer-${i}`, IfNoneMatch: '*' }),
          ),
        ),
      );
      const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      expect(winners).toHaveLength(1);
      for (const r of results) {
        if (r.status === 'rejected') expect((r.reason as S3ServiceException).name).toBe('PreconditionFailed');
      }
      expect(Buffer.from(await getBytes(s3, 'cw/race')).toString()).toBe(`writer-${winners[0]}`);
    });
  });

  describe('faults', () => {
    it('returns success after the SDK retries when a 500 InternalError is injected', async () => {
      server.failNext('internalError');
      const out = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'f/retry', Body: 'x' }));
      expect(out.$metadata.attempts).toBe(2);
      expect(server.stats.faults.internalError).toBe(1);
      expect(server.stats.byStatus['500']).toBe(1);
    });

    it('surfaces InternalError and SlowDown when the client makes one attempt', async () => {
      const once = server.client({ maxAttempts: 1 });
      server.failNext('internalError');
      const internal = await rejection(once.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'f/retry' })));
      expect(internal.$metadata.httpStatusCode).toBe(500);

      server.failNext('slowDown');
      const slow = await rejection(once.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'f/retry' })));
      expect(slow.name).toBe('SlowDown');
      expect(slow.$metadata.httpStatusCode).toBe(503);
    });

    it('returns success after a retry when the connection is dropped before the request is applied', async () => {
      server.failNext('drop');
      const out = await s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: 'f/drop', Body: 'x', IfNoneMatch: '*' }),
      );
      expect(out.$metadata.attempts).toBe(2);
      expect(server.stats.faults.drop).toBe(1);
    });

    it('returns PreconditionFailed on the retry when a conditional put was applied but its response dropped', async () => {
      server.failNext('dropAfter');
      const err = await rejection(
        s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'f/ambiguous', Body: 'x', IfNoneMatch: '*' })),
      );
      expect(err.name).toBe('PreconditionFailed');
      expect(err.$metadata.attempts).toBe(2);
      expect(Buffer.from(await getBytes(s3, 'f/ambiguous')).toString()).toBe('x');
    });

    it('delays a request when a slow fault is injected', async () => {
      server.faults = { slowMs: 150 };
      server.failNext('slow');
      const started = performance.now();
      await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'f/retry' }));
      expect(performance.now() - started).toBeGreaterThanOrEqual(140);
      expect(server.stats.faults.slow).toBe(1);
    });

    it('injects the same faults when two servers have the same seed', async () => {
      const runs: number[][] = [];
      for (let n = 0; n < 2; n++) {
        const other = await startS3Server({ buckets: ['b'], seed: 42, faults: { internalError: 0.4 } });
        const client = other.client({ maxAttempts: 1 });
        const outcomes: number[] = [];
        for (let i = 0; i < 12; i++) {
          try {
            await client.send(new PutObjectCommand({ Bucket: 'b', Key: `k${i}`, Body: 'x' }));
            outcomes.push(200);
          } catch (err) {
            outcomes.push((err as S3ServiceException).$metadata.httpStatusCode ?? 0);
          }
        }
        runs.push(outcomes);
        await other.close();
      }
      expect(runs[0]).toEqual(runs[1]);
      expect(runs[0]).toContain(500);
      expect(runs[0]).toContain(200);
    });

    it('counts requests by method', async () => {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'f/count', Body: 'x' }));
      await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'f/count' }));
      await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'f/count' }));
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'f/count' }));
      expect(server.stats.byMethod).toEqual({ PUT: 1, HEAD: 1, GET: 1, DELETE: 1 });
      expect(server.stats.requests).toBe(4);
    });

    it('logs each request with its method, bucket, decoded key and parameters until stats are reset', async () => {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'log/a b.txt', Body: 'x' }));
      await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'log/a b.txt' }));
      await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'log/' }));
      expect(server.requests.map((r) => [r.method, r.bucket, r.key])).toEqual([
        ['PUT', BUCKET, 'log/a b.txt'],
        ['GET', BUCKET, 'log/a b.txt'],
        ['GET', BUCKET, ''],
      ]);
      expect(server.requests[2]!.params).toContain('list-type');
      server.resetStats();
      expect(server.requests).toEqual([]);
    });
  });
});
