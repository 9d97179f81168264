/**
 * Security Lake delivery under faults of the lake bucket itself, and of Resilience Hub systems: the
 * real ingest, the archive in one S3 stand-in (s3rver) and the "Security Lake bucket" in a second one,
 * written with credentials from the local STS stand-in. Faults are injected on the lake's S3 only,
 * between the archive commit and the lake write:
 *
 * - the lake answers 500 or drops the connection on every attempt the SDK makes: the run succeeds, the
 *   archive is committed, the export ledger does not record the day, the next run delivers it;
 * - the lake's PUT takes effect but the answer is lost on every attempt: the next run writes the same
 *   object again, under the same key, and the lake holds each event once.
 *
 * The lake is read back with DuckDB (test/helpers/ocsf-lake-reader.ts).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type DigestSigner, digestSignerFromEnv } from '../../../lambdas/core/digest-signer';
import { listLedgerDays, readLedgerDay } from '../../../lambdas/core/ledger';
import { OCSF_SCHEMA_1_1_0, validateOcsf } from '../../../lambdas/core/ocsf';
import { S3Store } from '../../../lambdas/core/s3-store';
import {
  clearAssumedRoleCache,
  readExportRecord,
  type SecurityLakeTarget,
  s3LakeSink,
} from '../../../lambdas/core/security-lake';
import { type IngestRequest, ingestInstance } from '../../../lambdas/ingest/ingest-instance';
import { codecatalyst } from '../../../lambdas/ingest/sources/codecatalyst';
import { resiliencehub } from '../../../lambdas/ingest/sources/resiliencehub';
import type { SourceClient, SourceModule } from '../../../lambdas/ingest/sources/types';
import { DAY_MS, HOUR_MS } from '../../../lambdas/shared/src/time';
import { readLake } from '../../helpers/ocsf-lake-reader';
import { type CodeCatalystServer, startCodeCatalystServer } from '../../support/codecatalyst-server';
import {
  type ResilienceHubServer,
  startResilienceHubServer,
  TEST_CREDENTIALS,
} from '../../support/resiliencehub-server';
import { type S3TestServer, startS3Server } from '../../support/s3-server';
import { generateEvents } from '../../support/sample-events';
import { generateSystemEvents } from '../../support/sample-system-events';
import { type StsTestServer, startStsServer } from '../../support/sts-server';

const NOW = Date.UTC(2026, 10, 20, 12, 0, 0);
const TOKEN = 'pat-for-lake-faults-0123456789';
const ARCHIVE_BUCKET = 'archive-bucket';
const LAKE_BUCKET = 'aws-security-data-lake-us-east-1-abcdef';
const ACCOUNT = '123456789012';
// The system's account and Region, which name its lake partition (not the target's, not the function's).
const SYSTEM_ACCOUNT = '444455556666';
const SYSTEM_ARN = `arn:aws:resiliencehub:us-west-2:${SYSTEM_ACCOUNT}:system/checkout-lake`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/AmazonSecurityLake-Provider-eventlog-us-east-1`;
const EXTERNAL_ID = 'lake-external-id-77';
const CC_TARGET: SecurityLakeTarget = {
  sourceName: 'eventlog-codecatalyst',
  bucket: LAKE_BUCKET,
  providerRoleArn: ROLE,
  externalId: EXTERNAL_ID,
  accountId: ACCOUNT,
};
const RH_TARGET: SecurityLakeTarget = {
  sourceName: 'eventlog-resiliencehub',
  bucket: LAKE_BUCKET,
  providerRoleArn: ROLE,
  externalId: EXTERNAL_ID,
};
/** `maxAttempts` of createS3Client (lambdas/core/s3-store.ts): every attempt of one PutObject. */
const SDK_ATTEMPTS = 6;

let cc: CodeCatalystServer;
let rh: ResilienceHubServer;
let archive: S3TestServer;
let lake: S3TestServer;
let sts: StsTestServer;
let archiveClient: S3Client;
let lakeClient: S3Client;
let ccClient: SourceClient;
let rhClient: SourceClient;
let signer: DigestSigner;
let keyDir: string;
let lakeDir: string;

const ccEvents = (seed: number) =>
  generateEvents({ count: 900, fromMs: NOW - 3 * DAY_MS, toMs: NOW - HOUR_MS, seed });

beforeAll(async () => {
  cc = await startCodeCatalystServer({
    tokens: [TOKEN],
    now: () => NOW,
    spaces: { 'lake-fail': ccEvents(101), 'lake-lost-answer': ccEvents(102) },
  });
  ccClient = await codecatalyst.createClient({
    env: { CODECATALYST_TOKEN: TOKEN, AWS_ENDPOINT_URL_CODECATALYST: cc.url, AWS_REGION: 'us-east-1' },
  });
  rh = await startResilienceHubServer({
    now: () => NOW,
    region: 'us-west-2',
    systems: {
      [SYSTEM_ARN]: generateSystemEvents({
        count: 700,
        fromMs: NOW - 3 * DAY_MS,
        toMs: NOW - HOUR_MS,
        systemArn: SYSTEM_ARN,
        seed: 5,
      }),
    },
  });
  const key = TEST_CREDENTIALS[0]!;
  rhClient = await resiliencehub.createClient({
    env: {
      AWS_ENDPOINT_URL_RESILIENCEHUBV2: rh.url,
      AWS_ACCESS_KEY_ID: key.accessKeyId,
      AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
      ...(key.sessionToken ? { AWS_SESSION_TOKEN: key.sessionToken } : {}),
    },
  });
  // Two S3s: the archive's, and the lake's (the only one with faults).
  archive = await startS3Server({ buckets: [ARCHIVE_BUCKET] });
  lake = await startS3Server({ buckets: [LAKE_BUCKET] });
  sts = await startStsServer({ roleArn: ROLE, externalId: EXTERNAL_ID });
  keyDir = mkdtempSync(path.join(tmpdir(), 'lake-faults-key-'));
  lakeDir = mkdtempSync(path.join(tmpdir(), 'lake-faults-read-'));
  signer = await digestSignerFromEnv(`s3://${ARCHIVE_BUCKET}`, {
    DIGEST_SIGNING_KEY_FILE: path.join(keyDir, 'digest-signing-key.pem'),
  });
  archiveClient = archive.client();
  lakeClient = lake.client();
}, 60_000);

afterAll(async () => {
  await Promise.all([cc?.close(), rh?.close(), archive?.close(), lake?.close(), sts?.close()]);
  for (const dir of [keyDir, lakeDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  clearAssumedRoleCache();
  archive.resetStats();
  lake.resetStats();
});

const store = (): S3Store => new S3Store(ARCHIVE_BUCKET, '', archiveClient);

function ingest(
  source: SourceModule,
  instance: string,
  target: SecurityLakeTarget,
  overrides: Partial<IngestRequest> = {},
) {
  return ingestInstance({
    source,
    instance,
    store: store(),
    client: source === codecatalyst ? ccClient : rhClient,
    now: () => NOW,
    settings: { backfillDays: 3 },
    signer,
    securityLake: {
      target,
      // The sink's own endpoint: the lake's S3, not the archive's.
      sink: () =>
        s3LakeSink(target, {
          env: { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_S3: lake.endpoint, AWS_ENDPOINT_URL_STS: sts.url },
          credentials: { accessKeyId: 'AKIAFUNCTIONROLE', secretAccessKey: 'function-secret' },
        }),
    },
    ...overrides,
  });
}

const tableOf = (source: SourceModule, instance: string) => ({
  table: source.table,
  partitionKey: source.partitionKey,
  partitionValue: source.partitionValue(instance),
});

/** The instance's objects in the lake bucket, copied to a fresh folder and read with DuckDB. */
async function readLakeOf(target: SecurityLakeTarget, source: SourceModule, instance: string) {
  const root = mkdtempSync(path.join(lakeDir, 'copy-'));
  const prefix = `ext/${target.sourceName}/`;
  const suffix = `/${source.name}-${source.partitionValue(instance)}.parquet`;
  const listed = await lakeClient.send(new ListObjectsV2Command({ Bucket: LAKE_BUCKET, Prefix: prefix }));
  const keys = (listed.Contents ?? []).map((o) => o.Key!).filter((k) => k.endsWith(suffix));
  for (const key of keys) {
    const out = await lakeClient.send(new GetObjectCommand({ Bucket: LAKE_BUCKET, Key: key }));
    const file = path.join(root, key.slice(prefix.length));
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, await out.Body!.transformToByteArray());
  }
  return { keys, ...(keys.length ? await readLake(root) : { rows: [], columnTypes: {} }) };
}

/** Each export record names the archive's current data object and the lake key of its day. */
async function expectLedgersAgree(source: SourceModule, instance: string, days: readonly string[]) {
  const table = tableOf(source, instance);
  for (const day of days) {
    const [record, ledger] = await Promise.all([
      readExportRecord(store(), table, day),
      readLedgerDay(store(), table, day),
    ]);
    expect(record?.data.sha256, day).toBe(ledger?.data?.sha256);
  }
}

describe('a fault on the lake bucket write', () => {
  it('leaves the archive committed and the day unrecorded when every attempt fails; the next run delivers it once', async () => {
    const space = 'lake-fail';
    const table = tableOf(codecatalyst, space);
    // Every attempt of the first PutObject fails: 500s, then connections dropped before the request.
    lake.failNext('internalError', SDK_ATTEMPTS - 2);
    lake.failNext('drop', 2);

    const first = await ingest(codecatalyst, space, CC_TARGET);
    expect(first.status).toBe('complete');
    expect(first.failures).toEqual([]);
    expect(first.events).toBe(cc.events(space).length);
    expect(first.securityLake).toMatchObject({ delivered: 0, failures: 1 });
    expect(first.securityLake?.error).toMatch(/InternalError|ECONNRESET|socket hang up/i);
    expect(first.securityLake?.error).not.toContain(EXTERNAL_ID);
    const days = await listLedgerDays(store(), table);
    expect(days.length).toBeGreaterThanOrEqual(3);
    expect(first.securityLake?.pending).toBe(days.length);
    // The SDK tried the one PutObject every time it may, all on the lake's S3; nothing was written there.
    expect(lake.stats.faults).toMatchObject({ internalError: SDK_ATTEMPTS - 2, drop: 2 });
    expect(lake.requests.map((r) => `${r.method} ${r.bucket}`)).toEqual(
      Array(SDK_ATTEMPTS).fill(`PUT ${LAKE_BUCKET}`),
    );
    expect(new Set(lake.requests.map((r) => r.key)).size).toBe(1);
    expect(archive.requests.some((r) => r.bucket === LAKE_BUCKET)).toBe(false);
    expect((await readLakeOf(CC_TARGET, codecatalyst, space)).keys).toEqual([]);
    // The archive is committed (every day in the ledger with its data object), the export ledger empty.
    for (const day of days) {
      expect((await readLedgerDay(store(), table, day))?.data, day).toBeDefined();
      expect(await readExportRecord(store(), table, day), day).toBeUndefined();
    }

    // The next run: nothing new to archive, every day delivered.
    const second = await ingest(codecatalyst, space, CC_TARGET);
    expect(second.status).toBe('complete');
    expect(second.newEvents).toBe(0);
    expect(second.securityLake).toEqual({
      delivered: days.length,
      events: cc.events(space).length,
      pending: 0,
      failures: 0,
    });
    await expectLedgersAgree(codecatalyst, space, days);

    const { keys, rows } = await readLakeOf(CC_TARGET, codecatalyst, space);
    expect(keys).toHaveLength(days.length);
    const uids = rows.map((r) => (r.event.metadata as { uid: string }).uid);
    expect(uids.length).toBe(cc.events(space).length);
    expect(new Set(uids)).toEqual(new Set(cc.events(space).map((e) => e.id)));
  }, 120_000);

  it('writes the same object again when the PUT took effect but its answer was lost: no duplicate', async () => {
    const space = 'lake-lost-answer';
    const table = tableOf(codecatalyst, space);
    // Every attempt reaches the lake bucket and is stored; every answer is lost.
    lake.failNext('dropAfter', SDK_ATTEMPTS);

    const first = await ingest(codecatalyst, space, CC_TARGET);
    expect(first.status).toBe('complete');
    expect(first.failures).toEqual([]);
    expect(first.securityLake).toMatchObject({ delivered: 0, failures: 1 });
    const days = await listLedgerDays(store(), table);
    // The first day is in the lake, but not in the export ledger: the run could not know it arrived.
    const written = await readLakeOf(CC_TARGET, codecatalyst, space);
    expect(written.keys).toHaveLength(1);
    expect(written.keys[0]).toContain(`/eventDay=${days[0]!.replaceAll('-', '')}/`);
    for (const day of days) expect(await readExportRecord(store(), table, day), day).toBeUndefined();
    const putKeys = lake.requests.filter((r) => r.method === 'PUT').map((r) => r.key);
    expect(putKeys).toEqual(Array(SDK_ATTEMPTS).fill(written.keys[0]));

    lake.resetStats();
    const second = await ingest(codecatalyst, space, CC_TARGET);
    expect(second.securityLake).toMatchObject({ delivered: days.length, pending: 0, failures: 0 });
    // The first day again, under the same key: it replaces the object the lost answer left.
    expect(lake.requests.filter((r) => r.method === 'PUT').map((r) => r.key)[0]).toBe(written.keys[0]);
    await expectLedgersAgree(codecatalyst, space, days);

    const { keys, rows } = await readLakeOf(CC_TARGET, codecatalyst, space);
    expect(keys).toHaveLength(days.length);
    const uids = rows.map((r) => (r.event.metadata as { uid: string }).uid);
    expect(uids.length).toBe(cc.events(space).length);
    expect(new Set(uids)).toEqual(new Set(cc.events(space).map((e) => e.id)));
  }, 120_000);
});

describe('Resilience Hub delivery', () => {
  it("delivers a system's days under its own Region and account, as valid OCSF entity management, each event once", async () => {
    const result = await ingest(resiliencehub, SYSTEM_ARN, RH_TARGET);
    expect(result.status).toBe('complete');
    expect(result.failures).toEqual([]);
    const expected = rh.events(SYSTEM_ARN);
    expect(result.events).toBe(expected.length);
    const days = await listLedgerDays(store(), tableOf(resiliencehub, SYSTEM_ARN));
    expect(result.securityLake).toEqual({
      delivered: days.length,
      events: expected.length,
      pending: 0,
      failures: 0,
    });
    await expectLedgersAgree(resiliencehub, SYSTEM_ARN, days);

    const partitionValue = resiliencehub.partitionValue(SYSTEM_ARN);
    const { keys, rows } = await readLakeOf(RH_TARGET, resiliencehub, SYSTEM_ARN);
    expect(keys.sort()).toEqual(
      days.map(
        (day) =>
          `ext/${RH_TARGET.sourceName}/region=us-west-2/accountId=${SYSTEM_ACCOUNT}/eventDay=${day.replaceAll('-', '')}/resiliencehub-${partitionValue}.parquet`,
      ),
    );
    const uids = rows.map((r) => (r.event.metadata as { uid: string }).uid);
    expect(uids.length).toBe(expected.length);
    expect(new Set(uids)).toEqual(new Set(expected.map((e) => e.eventId)));
    for (const row of rows) {
      expect(row.event.class_uid).toBe(3004);
      expect(validateOcsf(row.event, OCSF_SCHEMA_1_1_0)).toEqual([]);
      expect(row).toMatchObject({ region: 'us-west-2', accountId: SYSTEM_ACCOUNT });
      expect(row.file).toBe(
        `region=us-west-2/accountId=${SYSTEM_ACCOUNT}/eventDay=${row.eventDay}/resiliencehub-${partitionValue}.parquet`,
      );
      // Each event in the object of its own UTC day.
      expect(new Date(row.event.time as number).toISOString().slice(0, 10).replaceAll('-', '')).toBe(
        row.eventDay,
      );
    }
  }, 120_000);
});
