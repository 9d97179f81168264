import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalStore } from '../../../../lambdas/core/local-store';
import { parseArchiveUri } from '../../../../lambdas/core/store';

let dir: string;
let store: LocalStore;
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'store-'));
  store = new LocalStore(dir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('LocalStore', () => {
  it('writes, reads, lists in key order and deletes', async () => {
    await store.put('t/b/1.json', bytes('b'));
    await store.put('t/a/1.json', bytes('a'));
    await store.put('u/x.json', bytes('x'));
    expect(Buffer.from((await store.get('t/a/1.json'))!.body).toString()).toBe('a');
    const keys: string[] = [];
    for await (const o of store.list('t/')) keys.push(o.key);
    expect(keys).toEqual(['t/a/1.json', 't/b/1.json']);
    await store.delete('t/a/1.json');
    expect(await store.get('t/a/1.json')).toBeUndefined();
  });

  it('creates only when absent with ifNoneMatch, and swaps only on the expected etag with ifMatch', async () => {
    const { etag } = await store.put('lease.json', bytes('1'), { ifNoneMatch: true });
    await expect(store.put('lease.json', bytes('2'), { ifNoneMatch: true })).rejects.toMatchObject({
      name: 'PreconditionFailedError',
    });
    await expect(store.put('lease.json', bytes('3'), { ifMatch: '"nope"' })).rejects.toMatchObject({
      name: 'PreconditionFailedError',
    });
    await store.put('lease.json', bytes('4'), { ifMatch: etag });
    expect(Buffer.from((await store.get('lease.json'))!.body).toString()).toBe('4');
  });

  it('takes the MD5 of given digests as the ETag, the one a read computes', async () => {
    const body = bytes('a day object');
    const digests = {
      md5: createHash('md5').update(body).digest('hex'),
      sha256: createHash('sha256').update(body).digest('hex'),
    };
    const { etag } = await store.put('t/day.parquet', body, { digests });
    expect(etag).toBe(`"${digests.md5}"`);
    expect((await store.get('t/day.parquet'))!.etag).toBe(etag);
  });

  it('lets exactly one of many concurrent creators win', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => store.put('one.json', bytes(String(i)), { ifNoneMatch: true })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('refuses keys that escape the folder', async () => {
    await expect(store.put('../evil', bytes('x'))).rejects.toThrow(/escapes/);
  });
});

describe('parseArchiveUri', () => {
  it('parses s3, file and relative forms', () => {
    expect(parseArchiveUri('s3://my-bucket/some/prefix/')).toMatchObject({
      kind: 's3',
      bucket: 'my-bucket',
      prefix: 'some/prefix/',
    });
    expect(parseArchiveUri('s3://my-bucket')).toMatchObject({ kind: 's3', prefix: '' });
    expect(parseArchiveUri('file:///tmp/archive')).toMatchObject({ kind: 'file', dir: '/tmp/archive' });
    expect(parseArchiveUri('data', '/home/u')).toMatchObject({ kind: 'file', dir: '/home/u/data' });
  });

  it.each(['s3://Bad_Bucket/x', 'http://example.com/x', 's3://bucket/../x', ''])(
    'rejects %j naming --archive',
    (uri) => {
      expect(() => parseArchiveUri(uri)).toThrow(/^--archive: /);
    },
  );
});
