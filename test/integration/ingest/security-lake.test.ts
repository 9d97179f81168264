/**
 * Security Lake delivery end to end: the real ingest against the local CodeCatalyst server, the
 * archive in one s3rver bucket and the "Security Lake bucket" in another, written with credentials
 * from a local STS stand-in (AssumeRole with the provider role and external id). The lake is read
 * back with DuckDB: every archived event exactly once, valid OCSF, in the right partitions; a fault
 * between the archive commit and the lake write leaves the archive committed and the run successful,
 * and later runs catch up without a duplicate.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DigestSigner, digestSignerFromEnv } from '../../../lambdas/core/digest-signer';
import { listLedgerDays, readLedgerDay } from '../../../lambdas/core/ledger';
import { OCSF_SCHEMA_1_1_0, validateOcsf } from '../../../lambdas/core/ocsf';
import { createS3Client, S3Store } from '../../../lambdas/core/s3-store';
import {
  clearAssumedRoleCache,
  readExportRecord,
  type SecurityLakeTarget,
  s3LakeSink,
} from '../../../lambdas/core/security-lake';
import { type IngestRequest, ingestInstance } from '../../../lambdas/ingest/ingest-instance';
import { codecatalyst } from '../../../lambdas/ingest/sources/codecatalyst';
import type { SourceClient } from '../../../lambdas/ingest/sources/types';
import { DAY_MS, HOUR_MS } from '../../../lambdas/shared/src/time';
import { readLake } from '../../helpers/ocsf-lake-reader';
import { type CodeCatalystServer, startCodeCatalystServer } from '../../support/codecatalyst-server';
import { type S3TestServer, startS3Server } from '../../support/s3-server';
import { generateEvents } from '../../support/sample-events';
import { type StsTestServer, startStsServer } from '../../support/sts-server';

const NOW = Date.UTC(2026, 10, 20, 12, 0, 0);
const SPACE = 'lake-space';
const TOKEN = 'pat-for-tests-0123456789';
const ARCHIVE_BUCKET = 'archive-bucket';
const LAKE_BUCKET = 'aws-security-data-lake-us-east-1-abcdef';
const ACCOUNT = '123456789012';
const TARGET: SecurityLakeTarget = {
  sourceName: 'eventlog-codecatalyst',
  bucket: LAKE_BUCKET,
  providerRoleArn: `arn:aws:iam::${ACCOUNT}:role/AmazonSecurityLake-Provider-eventlog-codecatalyst-us-east-1`,
  externalId: 'lake-external-id-42',
  accountId: ACCOUNT,
};
const TABLE = {
  table: codecatalyst.table,
  partitionKey: codecatalyst.partitionKey,
  partitionValue: codecatalyst.partitionValue(SPACE),
};

let cc: CodeCatalystServer;
let s3: S3TestServer;
let sts: StsTestServer;
let s3Client: S3Client;
let client: SourceClient;
let signer: DigestSigner;
let keyDir: string;
let lakeDir: string;

beforeAll(async () => {
  const events = generateEvents({ count: 2_000, fromMs: NOW - 3 * DAY_MS, toMs: NOW - HOUR_MS, seed: 77 });
  cc = await startCodeCatalystServer({ tokens: [TOKEN], now: () => NOW, spaces: { [SPACE]: events } });
  client = await codecatalyst.createClient({
    env: { CODECATALYST_TOKEN: TOKEN, AWS_ENDPOINT_URL_CODECATALYST: cc.url, AWS_REGION: 'us-east-1' },
  });
  s3 = await startS3Server({ buckets: [ARCHIVE_BUCKET, LAKE_BUCKET] });
  sts = await startStsServer({ roleArn: TARGET.providerRoleArn, externalId: TARGET.externalId });
  keyDir = mkdtempSync(path.join(tmpdir(), 'security-lake-key-'));
  lakeDir = mkdtempSync(path.join(tmpdir(), 'security-lake-read-'));
  signer = await digestSignerFromEnv(`s3://${ARCHIVE_BUCKET}`, {
    DIGEST_SIGNING_KEY_FILE: path.join(keyDir, 'digest-signing-key.pem'),
  });
  s3Client = createS3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
}, 60_000);
afterAll(async () => {
  s3Client?.destroy();
  await Promise.all([cc?.close(), s3?.close(), sts?.close()]);
  for (const dir of [keyDir, lakeDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

const store = (): S3Store => new S3Store(ARCHIVE_BUCKET, '', s3Client);

function ingest(overrides: Partial<IngestRequest> = {}) {
  return ingestInstance({
    source: codecatalyst,
    instance: SPACE,
    store: store(),
    client,
    now: () => NOW,
    settings: { backfillDays: 3 },
    signer,
    securityLake: {
      target: TARGET,
      // The function's own credentials sign AssumeRole; the lake is written with the assumed role's.
      sink: () =>
        s3LakeSink(TARGET, {
          env: { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_ENDPOINT_URL_STS: sts.url },
          credentials: { accessKeyId: 'AKIAFUNCTIONROLE', secretAccessKey: 'function-secret' },
        }),
    },
    ...overrides,
  });
}

/** The lake bucket's `ext/<name>/` objects, copied to a fresh folder and read with DuckDB. */
async function readLakeBucket() {
  const root = mkdtempSync(path.join(lakeDir, 'copy-'));
  const prefix = `ext/${TARGET.sourceName}/`;
  const listed = await s3Client.send(new ListObjectsV2Command({ Bucket: LAKE_BUCKET, Prefix: prefix }));
  const keys = (listed.Contents ?? []).map((o) => o.Key!);
  for (const key of keys) {
    const out = await s3Client.send(new GetObjectCommand({ Bucket: LAKE_BUCKET, Key: key }));
    const file = path.join(root, key.slice(prefix.length));
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, await out.Body!.transformToByteArray());
  }
  return { keys, ...(keys.length ? await readLake(root) : { rows: [], columnTypes: {} }) };
}

describe('Security Lake delivery from the ingest', () => {
  it('leaves the archive committed when STS is down, catches up over later runs and holds every event once', async () => {
    // Run 1: STS down between the archive commit and the lake write.
    sts.down = true;
    clearAssumedRoleCache();
    const first = await ingest();
    expect(first.status).toBe('complete');
    expect(first.failures).toEqual([]);
    expect(first.events).toBe(cc.events(SPACE).length);
    expect(first.securityLake).toMatchObject({ delivered: 0, failures: 1 });
    expect(first.securityLake?.error).toMatch(/ServiceUnavailable/);
    expect(first.securityLake?.error).not.toContain(TARGET.externalId);
    const days = await listLedgerDays(store(), TABLE);
    expect(days.length).toBeGreaterThanOrEqual(3);
    expect((await readLakeBucket()).keys).toEqual([]);
    for (const day of days) expect(await readExportRecord(store(), TABLE, day)).toBeUndefined();

    // Run 2: STS is back; at most two days a run, oldest first.
    sts.down = false;
    const failedAssumeRoles = sts.requests.length;
    const second = await ingest({
      securityLake: { ...(await lakeOf()), maxDaysPerRun: 2 },
    });
    expect(second.status).toBe('complete');
    expect(second.securityLake?.error).toBeUndefined();
    expect(second.securityLake).toMatchObject({ delivered: 2, failures: 0 });
    expect(second.securityLake?.pending).toBeGreaterThan(0);
    for (const day of days.slice(0, 2)) expect(await readExportRecord(store(), TABLE, day)).toBeDefined();

    // Run 3: the rest.
    const third = await ingest();
    expect(third.securityLake).toMatchObject({ failures: 0, pending: 0 });

    // Late events on a day already delivered: the day is delivered again, its object replaced.
    const late = generateEvents({ count: 40, fromMs: NOW - 2 * HOUR_MS, toMs: NOW - HOUR_MS - 1, seed: 78 });
    cc.addEvents(SPACE, late);
    const fourth = await ingest({ from: NOW - 3 * HOUR_MS, to: NOW - HOUR_MS });
    expect(fourth.securityLake).toMatchObject({ failures: 0, pending: 0 });
    expect(fourth.securityLake?.delivered).toBeGreaterThanOrEqual(1);

    // The lake: every archived event exactly once, valid OCSF, in its partitions.
    const { keys, rows } = await readLakeBucket();
    expect(keys.length).toBe(days.length);
    const expected = cc.events(SPACE).map((e) => e.id);
    const uids = rows.map((r) => (r.event.metadata as { uid: string }).uid);
    expect(uids.length).toBe(expected.length);
    expect(new Set(uids)).toEqual(new Set(expected));
    for (const row of rows) {
      expect(validateOcsf(row.event, OCSF_SCHEMA_1_1_0)).toEqual([]);
      expect(row).toMatchObject({ region: 'us-west-2', accountId: ACCOUNT });
      expect(row.file).toBe(
        `region=us-west-2/accountId=${ACCOUNT}/eventDay=${row.eventDay}/codecatalyst-${SPACE}.parquet`,
      );
    }
    // The export ledger records what the archive ledger names.
    for (const day of days) {
      const [record, ledger] = await Promise.all([
        readExportRecord(store(), TABLE, day),
        readLedgerDay(store(), TABLE, day),
      ]);
      expect(record?.data.sha256).toBe(ledger?.data?.sha256);
      expect(record?.lake.key).toBe(
        `ext/${TARGET.sourceName}/region=us-west-2/accountId=${ACCOUNT}/eventDay=${day.replaceAll('-', '')}/codecatalyst-${SPACE}.parquet`,
      );
    }
    // Every AssumeRole was signed and named the provider role and its external id; credentials were reused.
    expect(sts.requests.length).toBeGreaterThan(1);
    for (const request of sts.requests)
      expect(request).toMatchObject({
        roleArn: TARGET.providerRoleArn,
        externalId: TARGET.externalId,
        signed: true,
      });
    expect(sts.requests.length - failedAssumeRoles).toBe(1);
  }, 120_000);
});

async function lakeOf() {
  return {
    target: TARGET,
    sink: await s3LakeSink(TARGET, {
      env: { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_ENDPOINT_URL_STS: sts.url },
      credentials: { accessKeyId: 'AKIAFUNCTIONROLE', secretAccessKey: 'function-secret' },
    }),
  };
}
