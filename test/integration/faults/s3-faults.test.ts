/**
 * S3 faults under a real ingest: the archive's CodeCatalyst client against the local ListEventLogs server,
 * the production S3 client (`createS3Client`, 6 attempts) against s3rver behind the fault-injecting
 * proxy. Random 500 InternalError, 503 SlowDown, slow answers, connections dropped before the
 * request reached S3 and after it took effect; then reruns without faults until the run is complete.
 * Also targeted `dropAfter` on the data PUT, the ledger PUT and the lease's conditional writes (the
 * write happened, the client saw an error and retried), and the query side's ledger listing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type DigestSigner, digestSignerFromEnv } from '../../../lambdas/core/digest-signer';
import { leaseKey } from '../../../lambdas/core/layout';
import { createS3Client, S3Store } from '../../../lambdas/core/s3-store';
import { codecatalystDefinition } from '../../../lambdas/core/sources/codecatalyst/definition';
import type { ArchiveStore, PutOptions } from '../../../lambdas/core/store';
import { Lease } from '../../../lambdas/ingest/archive/lease';
import {
  type IngestRequest,
  type IngestResult,
  ingestInstance,
} from '../../../lambdas/ingest/ingest-instance';
import { codecatalyst } from '../../../lambdas/ingest/sources/codecatalyst';
import type { SourceClient } from '../../../lambdas/ingest/sources/types';
import { s3Catalog } from '../../../lambdas/query/s3-catalog';
import { DAY_MS, HOUR_MS } from '../../../lambdas/shared/src/time';
import { type CodeCatalystServer, startCodeCatalystServer } from '../../support/codecatalyst-server';
import { type S3FaultKind, type S3TestServer, startS3Server } from '../../support/s3-server';
import { type EventLogEntryWire, generateEvents } from '../../support/sample-events';
import { downloadS3Archive, expectArchiveEqualsSource, expectNoGap } from './archive-checks';

const NOW = Date.UTC(2026, 10, 20, 12, 0, 0);
const TOKEN = 'pat-s3-faults-0123456789';
const BUCKET = 'fault-bucket';
const SPACE = 'fault-space';
const TABLE = {
  table: codecatalyst.table,
  partitionKey: codecatalyst.partitionKey,
  partitionValue: codecatalyst.partitionValue(SPACE),
};
let cc: CodeCatalystServer;
let s3: S3TestServer;
let s3Client: S3Client;
let client: SourceClient;
let source: EventLogEntryWire[];
let prefixCount = 0;
let signer: DigestSigner;
let keyDir: string;

beforeAll(async () => {
  source = generateEvents({ count: 4_000, fromMs: NOW - 3 * DAY_MS, toMs: NOW - HOUR_MS, seed: 501 });
  cc = await startCodeCatalystServer({ tokens: [TOKEN], now: () => NOW, spaces: { [SPACE]: source } });
  client = await codecatalyst.createClient({
    env: { CODECATALYST_TOKEN: TOKEN, AWS_ENDPOINT_URL_CODECATALYST: cc.url, AWS_REGION: 'us-east-1' },
  });
  s3 = await startS3Server({ buckets: [BUCKET], seed: 5 });
  // An S3 archive signs its digests: a key file stands in for the KMS key.
  keyDir = mkdtempSync(path.join(tmpdir(), 's3-faults-key-'));
  signer = await digestSignerFromEnv(`s3://${BUCKET}`, {
    DIGEST_SIGNING_KEY_FILE: path.join(keyDir, 'digest-signing-key.pem'),
  });
  // The production client and its retry settings, pointed at the proxy.
  s3Client = createS3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
}, 60_000);
afterAll(async () => {
  s3Client?.destroy();
  await Promise.all([cc?.close(), s3?.close()]);
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
});
beforeEach(() => {
  s3.faults = {};
  s3.resetStats();
});
afterEach(() => {
  vi.unstubAllEnvs();
});

/** A fresh prefix per test: each test starts from an empty archive. */
function freshStore(): { store: S3Store; prefix: string } {
  const prefix = `run-${++prefixCount}/`;
  return { store: new S3Store(BUCKET, prefix, s3Client), prefix };
}

function ingest(store: ArchiveStore, overrides: Partial<IngestRequest> = {}): Promise<IngestResult> {
  return ingestInstance({
    source: codecatalyst,
    instance: SPACE,
    store,
    client,
    now: () => NOW,
    settings: { backfillDays: 3 },
    signer,
    ...overrides,
  });
}

async function expectS3ArchiveEqualsSource(store: S3Store, prefix: string): Promise<void> {
  const dir = await downloadS3Archive(s3Client, BUCKET, prefix);
  try {
    await expectArchiveEqualsSource(dir, source);
    await expectNoGap(store, SPACE, NOW - 3 * DAY_MS, NOW);
    expect(await store.get(leaseKey(TABLE)), 'lease left behind').toBeUndefined();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The store the pipeline uses, with a hook before each put: lets a test inject a proxy fault into
 * exactly one chosen request (the runs here are sequential on S3: one day at a time is committed).
 */
class TargetedFaultStore implements ArchiveStore {
  readonly injected: string[] = [];
  constructor(
    private readonly inner: ArchiveStore,
    private readonly target: (key: string, options: PutOptions) => S3FaultKind | undefined,
  ) {}
  get uri(): string {
    return this.inner.uri;
  }
  get(key: string) {
    return this.inner.get(key);
  }
  put(key: string, body: Uint8Array, options: PutOptions = {}) {
    const fault = this.target(key, options);
    if (fault) {
      this.injected.push(`${fault} ${key}`);
      s3.failNext(fault);
    }
    return this.inner.put(key, body, options);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
  list(prefix: string) {
    return this.inner.list(prefix);
  }
}

describe('day objects written to S3', () => {
  it('carry the SHA-256 the worker computed, which S3 checks; a wrong one is refused, not stored', async () => {
    const { store, prefix } = freshStore();
    const result = await ingest(store);
    expect(result.status).toBe('complete');
    const dataPuts = s3.requests.filter((r) => r.method === 'PUT' && r.key.endsWith('.parquet'));
    expect(dataPuts.length).toBeGreaterThan(0);
    expect(s3.stats.sha256Checked).toBe(dataPuts.length);
    await expectS3ArchiveEqualsSource(store, prefix);

    const body = new TextEncoder().encode('a day object');
    const wrong = { md5: '00'.repeat(16), sha256: '00'.repeat(32) };
    await expect(store.put('probe/bad-digest', body, { digests: wrong })).rejects.toMatchObject({
      name: 'BadDigest',
    });
    expect(await store.get('probe/bad-digest')).toBeUndefined();
    expect(s3.stats.badDigests).toBe(1);
  });
});

describe('ingest into S3 with injected faults', () => {
  it('survives random 500s, SlowDowns, slow answers and dropped connections; reruns complete the archive exactly', async () => {
    const { store, prefix } = freshStore();
    // About half of all S3 requests fail or stall. No request timeout is configured on the S3 client
    // (the SDK's default is none), so a slow answer delays but does not fail a request.
    s3.faults = { internalError: 0.12, slowDown: 0.12, slow: 0.1, slowMs: 500, drop: 0.08, dropAfter: 0.08 };
    // Ten days: most without events, but each still costs S3 reads and writes (ledger, lease).
    const first = await ingest(store, { settings: { backfillDays: 10 } });
    const injected = { ...s3.stats.faults };
    const requests = s3.stats.requests;
    s3.faults = {};
    const runs: IngestResult[] = [first];
    while (runs.at(-1)!.status !== 'complete' && runs.length < 4)
      runs.push(await ingest(store, { settings: { backfillDays: 10 } }));
    console.info(
      `S3 faults injected in the faulty run: ${JSON.stringify(injected)} of ${requests} requests; runs: ${runs.map((r) => r.status).join(', ')}`,
    );
    for (const kind of ['internalError', 'slowDown', 'slow', 'drop', 'dropAfter'] as const)
      expect(injected[kind], kind).toBeGreaterThan(0);
    expect(first.status).not.toBe('busy');
    expect(runs.at(-1)!.status).toBe('complete');
    await expectS3ArchiveEqualsSource(store, prefix);
  }, 120_000);

  it.each<[string, (key: string, options: PutOptions) => boolean]>([
    ['the data PUT', (key) => key.endsWith('.parquet')],
    ['the ledger PUT', (key) => key.startsWith('_ledger/')],
    ['the lease take (If-None-Match)', (key, options) => key.startsWith('_leases/') && !!options.ifNoneMatch],
  ])(
    'drops the connection after %s took effect, every time; the run (or the next) completes',
    async (_name, matches) => {
      const { store, prefix } = freshStore();
      const faulty = new TargetedFaultStore(store, (key, options) =>
        matches(key, options) ? 'dropAfter' : undefined,
      );
      const first = await ingest(faulty);
      expect(faulty.injected.length).toBeGreaterThan(0);
      expect(s3.stats.faults.dropAfter).toBe(faulty.injected.length);
      // Not stuck: a lease this run wrote but did not see is not held against itself or the next run.
      expect(first.status).not.toBe('busy');
      const second = first.status === 'complete' ? first : await ingest(store);
      expect(second.status).toBe('complete');
      await expectS3ArchiveEqualsSource(store, prefix);
    },
    60_000,
  );
});

describe('the lease under dropped connections', () => {
  it('is taken, renewed and released although each conditional write was answered by a dropped connection', async () => {
    const { store } = freshStore();
    const faulty = new TargetedFaultStore(store, (key) =>
      key.startsWith('_leases/') ? 'dropAfter' : undefined,
    );
    const lease = await Lease.acquire(faulty, TABLE, { ttlMs: 60_000, now: () => NOW });
    expect(faulty.injected).toEqual([`dropAfter ${leaseKey(TABLE)}`]);
    await lease.renew();
    await lease.renew();
    expect(lease.lost).toBe(false);
    expect(faulty.injected).toHaveLength(3);
    // Another run sees it held …
    await expect(Lease.acquire(store, TABLE, { ttlMs: 60_000, now: () => NOW })).rejects.toThrow(
      /another run/,
    );
    // … until it is released: then the key is gone and a new run takes it at once.
    await lease.release();
    expect(await store.get(leaseKey(TABLE))).toBeUndefined();
    const next = await Lease.acquire(store, TABLE, { ttlMs: 60_000, now: () => NOW });
    await next.release();
  });
});

describe('the query side reading the ledger from S3', () => {
  it.each<S3FaultKind>(['internalError', 'slowDown', 'drop', 'dropAfter', 'slow'])(
    'answers which spaces exist through a %s',
    async (kind) => {
      const { store, prefix } = freshStore();
      expect((await ingest(store, { settings: { backfillDays: 1 } })).status).toBe('complete');
      const env = {
        AWS_ENDPOINT_URL_S3: s3.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
      };
      // The signed listing takes its credentials from the default provider chain.
      for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
      const catalog = s3Catalog({ bucket: BUCKET, prefix, env });
      s3.resetStats();
      s3.failNext(kind, 2);
      expect(await catalog.hasInstance(codecatalystDefinition, SPACE)).toBe(true);
      expect(await catalog.hasInstance(codecatalystDefinition, 'never-archived')).toBe(false);
      expect(s3.stats.faults[kind]).toBe(2);
    },
    30_000,
  );
});

describe('a stalled S3 answer', () => {
  it('is cut by the idle timeout and retried, instead of hanging the run', async () => {
    // The production client with a short idle timeout in place of the 30 s default.
    const impatient = createS3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      requestHandler: { socketTimeout: 300, connectionTimeout: 1_000 },
    });
    try {
      const store = new S3Store(BUCKET, `stalled-${++prefixCount}/`, impatient);
      await store.put('probe.json', new TextEncoder().encode('{"ok":true}'));
      s3.faults = { slowMs: 3_000 };
      s3.failNext('slow', 1);
      const started = performance.now();
      const got = await store.get('probe.json');
      expect(new TextDecoder().decode(got?.body)).toBe('{"ok":true}');
      expect(s3.stats.faults.slow).toBe(1);
      // Well before the stalled answer would have come.
      expect(performance.now() - started).toBeLessThan(2_500);
    } finally {
      impatient.destroy();
    }
  });
});
