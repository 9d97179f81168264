/**
 * The ingest role may put into `_digests/*` only with `If-None-Match: *` (lib/constructs/
 * archive-access.ts, CREATE_ONLY_CONDITION). This runs the real CLI ingest into S3 through a proxy
 * that enforces exactly that condition, as IAM would, and records every request to the digests:
 * every digest write is a single PutObject carrying the header (no multipart upload, which could not
 * carry it), the runs succeed, the chain extends on a later run, and an overwrite without the header
 * is refused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS, MINUTE_MS } from '../../../lambdas/shared/src/time';
import { clockEnv, pinnedClock } from '../../helpers/clock';
import { runCli } from '../../helpers/run-process';
import { type CodeCatalystServer, startCodeCatalystServer } from '../../support/codecatalyst-server';
import { type S3TestServer, startS3Server } from '../../support/s3-server';
import { generateEvents } from '../../support/sample-events';

const TOKEN = 'pat-create-only-0123456789';
const SPACE = 'create-only';
const BUCKET = 'create-only-bucket';
const NOW = Date.UTC(2027, 3, 20, 12, 0);

interface DigestRequest {
  method: string;
  url: string;
  ifNoneMatch: string | undefined;
  status: number;
}

let work: string;
let cc: CodeCatalystServer;
let s3: S3TestServer;
let proxy: Server;
let proxyUrl: string;
const digestRequests: DigestRequest[] = [];

/** IAM's view of a request to `_digests/`: PutObject allowed only with `If-None-Match: *`. */
function deniedByPolicy(req: IncomingMessage): boolean {
  if (!/\/_digests\//.test(req.url ?? '')) return false;
  if (req.method === 'GET' || req.method === 'HEAD') return false;
  return !(
    req.method === 'PUT' &&
    req.headers['if-none-match'] === '*' &&
    !/[?&](uploadId|partNumber)=/.test(req.url ?? '')
  );
}

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'create-only-'));
  cc = await startCodeCatalystServer({
    now: pinnedClock(NOW),
    tokens: [TOKEN],
    spaces: {
      [SPACE]: generateEvents({ count: 300, fromMs: NOW - 3 * DAY_MS, toMs: NOW - MINUTE_MS, seed: 31 }),
    },
  });
  s3 = await startS3Server({ buckets: [BUCKET] });
  const upstream = new URL(s3.endpoint);
  proxy = createServer((req, res) => {
    const digest = /\/_digests\//.test(req.url ?? '');
    const record = (status: number): void => {
      if (digest)
        digestRequests.push({
          method: req.method ?? '',
          url: req.url ?? '',
          ifNoneMatch: req.headers['if-none-match'] as string | undefined,
          status,
        });
    };
    if (deniedByPolicy(req)) {
      req.resume();
      record(403);
      res
        .writeHead(403, { 'content-type': 'application/xml' })
        .end('<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>');
      return;
    }
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        record(answer.statusCode ?? 0);
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => {
    proxy?.close(() => resolve());
    proxy?.closeAllConnections();
  });
  await Promise.all([cc?.close(), s3?.close()]);
  rmSync(work, { recursive: true, force: true });
});

const env = (at: number): Record<string, string> => ({
  AWS_ENDPOINT_URL_CODECATALYST: cc.url,
  AWS_ENDPOINT_URL_S3: proxyUrl,
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  CODECATALYST_TOKEN: TOKEN,
  DIGEST_SIGNING_KEY_FILE: path.join(work, 'digest-signing-key.pem'),
  ...clockEnv(pinnedClock(at)),
});

describe('digest writes under the create-only IAM condition', () => {
  it('writes every digest as one PutObject with If-None-Match: *, on the first run and a later one', async () => {
    const archive = `s3://${BUCKET}/a`;
    const args = [
      'ingest',
      '--source',
      'codecatalyst',
      '--space',
      SPACE,
      '--archive',
      archive,
      '--backfill-days',
      '3',
    ];
    const first = await runCli(args, { cwd: work, env: env(NOW) });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const firstPuts = digestRequests.filter((r) => r.method === 'PUT').length;
    expect(firstPuts).toBeGreaterThanOrEqual(2);

    cc.setNow(pinnedClock(NOW + DAY_MS));
    const later = await runCli(args, { cwd: work, env: env(NOW + DAY_MS) });
    expect(later.code).toBe(0);

    const puts = digestRequests.filter((r) => r.method === 'PUT');
    expect(puts.length).toBeGreaterThan(firstPuts);
    for (const put of puts) {
      expect(put).toMatchObject({ ifNoneMatch: '*', status: 200 });
      expect(put.url).toMatch(
        /\/_digests\/codecatalyst_event_logs\/space(=|%3D)create-only\/\d{10}\.json(\?x-id=PutObject)?$/,
      );
    }
    expect(digestRequests.filter((r) => r.method === 'POST' || r.method === 'DELETE')).toEqual([]);

    const verify = await runCli(
      ['verify', '--archive', archive, '--public-key', path.join(work, 'digest-signing-key.pem')],
      { cwd: work, env: env(NOW + DAY_MS) },
    );
    expect(verify.stdout).toMatch(/^verified: 1 instances/m);
    expect(verify.code).toBe(0);
  });

  it('the enforcing proxy refuses an overwrite without the header, and S3 refuses one with it', async () => {
    const client = new S3Client({
      endpoint: proxyUrl,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    try {
      // A digest that exists, written around the enforcing proxy.
      const Key = `b/_digests/codecatalyst_event_logs/space=${SPACE}/0000000001.json`;
      await s3.client().send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: '{"sequence":1}' }));
      await expect(
        client.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: '{}' })),
      ).rejects.toMatchObject({
        $metadata: { httpStatusCode: 403 },
      });
      await expect(
        client.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: '{}', IfNoneMatch: '*' })),
      ).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
    } finally {
      client.destroy();
    }
  });
});
