/**
 * A local S3 for tests: `s3rver` 3.7.1 (filesystem store in a fresh temp directory) behind a small
 * HTTP proxy that adds what real S3 does and s3rver lacks, and injects faults. Point the SDK at
 * {@link S3TestServer.endpoint}, or use {@link S3TestServer.client}.
 *
 * What the proxy adds or fixes (all found by driving s3rver with `@aws-sdk/client-s3` 3.1169):
 * - Conditional PutObject: `If-None-Match: *` → 412 PreconditionFailed if the key exists;
 *   `If-Match: "<etag>"` → 412 if the object is missing or its ETag differs. s3rver ignores both.
 *   Writes and deletes of one key are serialized inside the proxy, so check-then-write is atomic.
 * - `aws-chunked` uploads: the SDK's default `requestChecksumCalculation: 'WHEN_SUPPORTED'` sends a
 *   stream body (with a known ContentLength) as `Content-Encoding: aws-chunked` with a trailing
 *   `x-amz-checksum-crc32`; s3rver would store the chunk framing as the object's bytes. The proxy
 *   decodes it (and checks CRC32 checksums, header or trailer, like S3: 400 BadDigest).
 * - `x-amz-checksum-sha256` on a PutObject is checked against the body, as S3 does (400 BadDigest).
 * - ListObjectsV2 pagination: s3rver makes its continuation tokens with DES, which OpenSSL 3
 *   (Node ≥ 17) no longer offers, so any truncated ListObjectsV2 fails with 500 InternalError. The
 *   proxy serves list-type=2 through s3rver's V1 listing (marker) and issues its own tokens.
 *   As in s3rver, CommonPrefixes do not count towards MaxKeys.
 *
 * Not modelled: versioning, multipart conditional writes, 409 ConditionalRequestConflict, SigV4
 * verification (s3rver only checks the header's shape; any credentials work).
 */

import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { mulberry32 } from './sample-events';
import { bump, drawFault, intake, listenLocal } from './stand-in-server';

/** Faults the proxy can inject. `dropAfter` forwards the request (it takes effect) and then drops the connection. */
export type S3FaultKind = 'internalError' | 'slowDown' | 'slow' | 'drop' | 'dropAfter';
const S3_FAULT_ORDER: readonly S3FaultKind[] = ['internalError', 'slowDown', 'slow', 'drop', 'dropAfter'];

/** Per-request fault probabilities (drawn in this order from a seeded PRNG); mutate at any time. */
export interface S3Faults {
  /** 500 `InternalError`. */
  internalError?: number;
  /** 503 `SlowDown`. */
  slowDown?: number;
  /** Delay the request by `slowMs` before handling it. */
  slow?: number;
  /** Destroy the connection without forwarding the request. */
  drop?: number;
  /** Forward the request, then destroy the connection instead of answering. */
  dropAfter?: number;
  /** Delay of a `slow` fault. Default 200 ms. */
  slowMs?: number;
}

/** Options of {@link startS3Server}. */
export interface S3ServerOptions {
  /** Buckets to create. */
  buckets?: string[];
  /** Initial faults. */
  faults?: S3Faults;
  /** Seed of the fault PRNG. Default 1. */
  seed?: number;
}

/** Counters of {@link S3TestServer.stats}. */
export interface S3ServerStats {
  requests: number;
  byMethod: Record<string, number>;
  /** Responses by status (faults included; drops have none). */
  byStatus: Record<string, number>;
  faults: Record<S3FaultKind, number>;
  /** Conditional PutObjects refused with 412. */
  preconditionFailed: number;
  /** Bodies that arrived aws-chunked and were decoded. */
  awsChunked: number;
  /** PutObjects that carried `x-amz-checksum-sha256` and matched it. */
  sha256Checked: number;
  /** PutObjects refused with 400 BadDigest (a checksum header that does not match the body). */
  badDigests: number;
  inFlight: number;
  maxInFlight: number;
}

/** One request the proxy received, in arrival order (see {@link S3TestServer.requests}). */
export interface S3RequestRecord {
  method: string;
  bucket: string;
  /** The object key, decoded; `''` for a bucket request (a listing). */
  key: string;
  /** The query string's parameter names (`list-type`, `x-id`, …). */
  params: string[];
}

/** The running server. */
export interface S3TestServer {
  /** Proxy URL for the SDK's `endpoint` (path-style). */
  readonly endpoint: string;
  /** s3rver itself, bypassing the proxy (no conditional writes, no faults). */
  readonly upstreamEndpoint: string;
  /** s3rver's storage directory (removed by `close()`). */
  readonly directory: string;
  /** Probabilistic faults, read on every request. */
  faults: S3Faults;
  /** Makes the next `count` requests fail with `kind` (before probabilistic faults). */
  failNext(kind: S3FaultKind, count?: number): void;
  readonly stats: S3ServerStats;
  /** Every request received since the start or the last `resetStats()`, in arrival order. */
  readonly requests: readonly S3RequestRecord[];
  /** Clears `stats` and `requests`. */
  resetStats(): void;
  /** An S3Client for this server; `overrides` are merged into the configuration. */
  client(overrides?: Partial<S3ClientConfig>): S3Client;
  /** Stops proxy and s3rver, destroys clients made by `client()`, removes the directory. */
  close(): Promise<void>;
}

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

interface Upstream {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

interface S3Error {
  status: number;
  code: string;
  message: string;
  extra?: Record<string, string>;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'expect',
  'upgrade',
  'proxy-connection',
  'te',
  'trailer',
]);
const TOKEN_PREFIX = 's3proxy1:';

function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function xmlUnescape(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, e: string) => {
    if (e === 'amp') return '&';
    if (e === 'lt') return '<';
    if (e === 'gt') return '>';
    if (e === 'quot') return '"';
    if (e === 'apos') return "'";
    return String.fromCodePoint(e[1] === 'x' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1)));
  });
}

function errorXml(err: S3Error, resource: string): string {
  const extra = Object.entries(err.extra ?? {})
    .map(([k, v]) => `<${k}>${xmlEscape(v)}</${k}>`)
    .join('');
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${err.code}</Code><Message>${xmlEscape(err.message)}</Message>${extra}` +
    `<Resource>${xmlEscape(resource)}</Resource><RequestId>s3proxy</RequestId></Error>`
  );
}

function tag(xml: string, name: string): string | undefined {
  const m = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return m ? m[1] : undefined;
}

function normalizeEtag(etag: string): string {
  return etag.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
}

/** Decodes an aws-chunked body (signed `size;chunk-signature=…` or unsigned chunks, optional trailers). */
function decodeAwsChunked(body: Buffer): { data: Buffer; trailers: Record<string, string> } | undefined {
  const parts: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', pos);
    if (eol < 0) return undefined;
    const size = Number.parseInt(body.subarray(pos, eol).toString('latin1').split(';')[0]!, 16);
    if (!Number.isFinite(size) || size < 0) return undefined;
    pos = eol + 2;
    if (size === 0) break;
    if (pos + size + 2 > body.length) return undefined;
    parts.push(body.subarray(pos, pos + size));
    pos += size + 2; // data + CRLF
  }
  const trailers: Record<string, string> = {};
  for (const line of body.subarray(pos).toString('latin1').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { data: Buffer.concat(parts), trailers };
}

function crc32Base64(data: Buffer): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(data) >>> 0);
  return out.toString('base64');
}

/**
 * Starts s3rver on 127.0.0.1 (ephemeral port; `run()` resolves to its bound address) and the proxy
 * in front of it, and creates `options.buckets`.
 */
export async function startS3Server(options: S3ServerOptions = {}): Promise<S3TestServer> {
  const require = createRequire(import.meta.url);
  const S3rver = require('s3rver') as S3rverConstructor;
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name })),
  });
  const upstreamAddress = await s3rver.run();
  const upstreamPort = upstreamAddress.port;

  const rng = mulberry32(options.seed ?? 1);
  const scripted: S3FaultKind[] = [];
  const locks = new Map<string, Promise<void>>();
  const clients: S3Client[] = [];
  const agent = new Agent({ keepAlive: true });
  const freshStats = (): S3ServerStats => ({
    requests: 0,
    byMethod: {},
    byStatus: {},
    faults: { internalError: 0, slowDown: 0, slow: 0, drop: 0, dropAfter: 0 },
    preconditionFailed: 0,
    awsChunked: 0,
    sha256Checked: 0,
    badDigests: 0,
    inFlight: 0,
    maxInFlight: 0,
  });
  let stats = freshStats();
  let requests: S3RequestRecord[] = [];

  const forward = (method: string, path: string, headers: Record<string, string>, body?: Buffer) =>
    new Promise<Upstream>((resolve, reject) => {
      const out = request({ host: '127.0.0.1', port: upstreamPort, method, path, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 502,
            headers: res.headers as Record<string, string | string[]>,
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', reject);
      });
      out.on('error', reject);
      out.end(body);
    });

  /** Runs `fn` after every earlier holder of `key` has finished. */
  const withLock = async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const previous = locks.get(key) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((r) => {
      release = r;
    });
    const chained = previous.then(() => current);
    locks.set(key, chained);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (locks.get(key) === chained) locks.delete(key);
    }
  };

  const reply = (
    res: ServerResponse,
    status: number,
    headers: Record<string, string | string[]>,
    body: Buffer,
  ) => {
    if (res.destroyed) return;
    bump(stats.byStatus, String(status));
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(headers)) if (!HOP_BY_HOP.has(k.toLowerCase())) out[k] = v;
    // A HEAD (or 204/304) response keeps the upstream content-length: it describes the object, not the body.
    const bodiless = res.req.method === 'HEAD' || status === 204 || status === 304;
    if (!bodiless) out['content-length'] = String(body.length);
    res.writeHead(status, out);
    res.end(bodiless ? undefined : body);
  };

  const replyError = (res: ServerResponse, err: S3Error, resource: string) => {
    reply(res, err.status, { 'content-type': 'application/xml' }, Buffer.from(errorXml(err, resource)));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> => {
    const method = req.method ?? 'GET';
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1));
    const decodedPath = decodeURIComponent(rawPath);
    const slash = decodedPath.indexOf('/', 1);
    const bucket = slash < 0 ? decodedPath.slice(1) : decodedPath.slice(1, slash);
    const key = slash < 0 ? '' : decodedPath.slice(slash + 1);
    requests.push({ method, bucket, key, params: [...new Set(query.keys())] });

    const fault = scripted.shift() ?? drawFault(server.faults, S3_FAULT_ORDER, rng);
    if (fault) stats.faults[fault]++;
    if (fault === 'slow') await new Promise((r) => setTimeout(r, server.faults.slowMs ?? 200));
    if (fault === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault === 'internalError') {
      replyError(
        res,
        {
          status: 500,
          code: 'InternalError',
          message: 'We encountered an internal error. Please try again.',
        },
        decodedPath,
      );
      return;
    }
    if (fault === 'slowDown') {
      replyError(
        res,
        { status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' },
        decodedPath,
      );
      return;
    }

    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined || HOP_BY_HOP.has(k)) continue;
      headers[k] = Array.isArray(v) ? v.join(', ') : v;
    }

    // aws-chunked → plain body.
    const encodings = (headers['content-encoding'] ?? '')
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean);
    if (encodings.includes('aws-chunked') || headers['x-amz-decoded-content-length'] !== undefined) {
      const decoded = decodeAwsChunked(body);
      if (!decoded) {
        replyError(
          res,
          { status: 400, code: 'IncompleteBody', message: 'The aws-chunked body could not be decoded.' },
          decodedPath,
        );
        return;
      }
      stats.awsChunked++;
      body = decoded.data;
      Object.assign(headers, decoded.trailers);
      const rest = encodings.filter((e) => e !== 'aws-chunked');
      if (rest.length > 0) headers['content-encoding'] = rest.join(', ');
      else delete headers['content-encoding'];
      delete headers['x-amz-decoded-content-length'];
      delete headers['x-amz-trailer'];
      headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
    }
    const crc = headers['x-amz-checksum-crc32'];
    const sha256 = headers['x-amz-checksum-sha256'];
    const badDigest =
      method !== 'PUT'
        ? undefined
        : crc !== undefined && crc !== crc32Base64(body)
          ? 'CRC32'
          : sha256 !== undefined && sha256 !== createHash('sha256').update(body).digest('base64')
            ? 'SHA256'
            : undefined;
    if (badDigest) {
      stats.badDigests++;
      replyError(
        res,
        {
          status: 400,
          code: 'BadDigest',
          message: `The ${badDigest} you specified did not match the calculated checksum.`,
        },
        decodedPath,
      );
      return;
    }
    if (method === 'PUT' && sha256 !== undefined) stats.sha256Checked++;
    if (body.length > 0 || method === 'PUT' || method === 'POST')
      headers['content-length'] = String(body.length);

    const isObjectWrite =
      (method === 'PUT' || method === 'DELETE') && key !== '' && [...query.keys()].every((k) => k === 'x-id');

    let upstream: Upstream;
    if (isObjectWrite) {
      const result = await withLock(`${bucket}/${key}`, async () => {
        const ifNoneMatch = headers['if-none-match'];
        const ifMatch = headers['if-match'];
        if (method === 'PUT' && (ifNoneMatch !== undefined || ifMatch !== undefined)) {
          const head = await forward('HEAD', rawPath, { host: headers.host ?? '' });
          const current = head.status === 200 ? normalizeEtag(String(head.headers.etag ?? '')) : undefined;
          const wanted = (value: string) => value.split(',').map(normalizeEtag);
          const noneMatchFails =
            ifNoneMatch !== undefined &&
            current !== undefined &&
            wanted(ifNoneMatch).some((e) => e === '*' || e === current);
          const matchFails =
            ifMatch !== undefined &&
            (current === undefined || !wanted(ifMatch).some((e) => e === '*' || e === current));
          if (noneMatchFails || matchFails) {
            stats.preconditionFailed++;
            return {
              status: 412,
              code: 'PreconditionFailed',
              message: 'At least one of the pre-conditions you specified did not hold',
              extra: { Condition: noneMatchFails ? 'If-None-Match' : 'If-Match' },
            } satisfies S3Error;
          }
        }
        delete headers['if-none-match'];
        delete headers['if-match'];
        return forward(method, rawUrl, headers, body);
      });
      if ('code' in result) {
        replyError(res, result, decodedPath);
        return;
      }
      upstream = result;
    } else if (method === 'GET' && key === '' && bucket !== '' && query.get('list-type') === '2') {
      const listed = await listObjectsV2(bucket, rawPath, query, headers);
      if ('code' in listed) {
        replyError(res, listed, decodedPath);
        return;
      }
      upstream = listed;
    } else {
      upstream = await forward(method, rawUrl, headers, body);
    }

    if (fault === 'dropAfter') {
      req.socket.destroy();
      return;
    }
    reply(res, upstream.status, upstream.headers, upstream.body);
  };

  /** ListObjectsV2 through s3rver's V1 listing, with the proxy's own continuation tokens. */
  const listObjectsV2 = async (
    bucket: string,
    rawPath: string,
    query: URLSearchParams,
    headers: Record<string, string>,
  ): Promise<Upstream | S3Error> => {
    const token = query.get('continuation-token');
    let marker = query.get('start-after') ?? '';
    if (token !== null) {
      const decoded = Buffer.from(token, 'base64url').toString('utf8');
      if (!decoded.startsWith(TOKEN_PREFIX)) {
        return {
          status: 400,
          code: 'InvalidArgument',
          message: 'The continuation token provided is incorrect',
          extra: { ArgumentName: 'continuation-token' },
        };
      }
      marker = decoded.slice(TOKEN_PREFIX.length);
    }
    const v1 = new URLSearchParams();
    for (const name of ['prefix', 'delimiter', 'max-keys', 'encoding-type']) {
      const value = query.get(name);
      if (value !== null) v1.set(name, value);
    }
    if (marker) v1.set('marker', marker);
    const upstream = await forward('GET', `${rawPath}?${v1.toString()}`, headers);
    if (upstream.status !== 200) return upstream;

    const xml = upstream.body.toString('utf8');
    const contents = [...xml.matchAll(/<Contents>[\s\S]*?<\/Contents>/g)].map((m) =>
      query.get('fetch-owner') === 'true' ? m[0] : m[0].replace(/<Owner>[\s\S]*?<\/Owner>/, ''),
    );
    const prefixes = [...xml.matchAll(/<CommonPrefixes>[\s\S]*?<\/CommonPrefixes>/g)].map((m) => m[0]);
    const firstItem = xml.search(/<Contents>|<CommonPrefixes>|<\/ListBucketResult>/);
    const head = xml.slice(0, firstItem);
    const truncated = tag(head, 'IsTruncated') === 'true';
    let next = '';
    const lastKey = contents.length ? tag(contents[contents.length - 1]!, 'Key') : undefined;
    if (lastKey !== undefined) next = xmlUnescape(lastKey);
    const lastPrefix = prefixes.length ? tag(prefixes[prefixes.length - 1]!, 'Prefix') : undefined;
    // Skip everything under the last common prefix ('\uffff' sorts after any UTF-16 code unit in a key).
    if (lastPrefix !== undefined && `${xmlUnescape(lastPrefix)}\uffff` > next)
      next = `${xmlUnescape(lastPrefix)}\uffff`;

    const field = (name: string, value: string | undefined | null) =>
      value === undefined || value === null ? '' : `<${name}>${value}</${name}>`;
    const out =
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      field('Name', tag(head, 'Name') ?? xmlEscape(bucket)) +
      field('Prefix', tag(head, 'Prefix') ?? '') +
      (token !== null
        ? field('ContinuationToken', xmlEscape(token))
        : field('StartAfter', marker ? xmlEscape(marker) : undefined)) +
      field('KeyCount', String(contents.length + prefixes.length)) +
      field('MaxKeys', tag(head, 'MaxKeys')) +
      field('Delimiter', tag(head, 'Delimiter')) +
      field('IsTruncated', String(truncated)) +
      (truncated
        ? field('NextContinuationToken', Buffer.from(TOKEN_PREFIX + next).toString('base64url'))
        : '') +
      contents.join('') +
      prefixes.join('') +
      '</ListBucketResult>';
    return { status: 200, headers: { 'content-type': 'application/xml' }, body: Buffer.from(out) };
  };

  const proxy = createServer((req, res) => {
    bump(stats.byMethod, req.method ?? 'GET');
    intake(
      req,
      res,
      () => stats,
      Number.POSITIVE_INFINITY,
      (body) => {
        handle(req, res, body).catch((err: unknown) => {
          replyError(
            res,
            { status: 500, code: 'InternalError', message: `proxy: ${String(err)}` },
            req.url ?? '',
          );
        });
      },
    );
  });
  const endpoint = await listenLocal(proxy);

  const server: S3TestServer = {
    endpoint,
    upstreamEndpoint: `http://127.0.0.1:${upstreamPort}`,
    directory,
    faults: { ...options.faults },
    failNext(kind, count = 1) {
      for (let i = 0; i < count; i++) scripted.push(kind);
    },
    get stats() {
      return stats;
    },
    get requests() {
      return requests;
    },
    resetStats() {
      requests = [];
      const inFlight = stats.inFlight;
      stats = freshStats();
      stats.inFlight = inFlight;
    },
    client(overrides = {}) {
      const client = new S3Client({
        region: 'us-east-1',
        endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
        ...overrides,
      });
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) client.destroy();
      await new Promise<void>((resolve) => {
        proxy.close(() => resolve());
        proxy.closeAllConnections();
      });
      agent.destroy();
      await s3rver.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
  return server;
}
