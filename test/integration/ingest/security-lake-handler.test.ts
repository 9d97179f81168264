/**
 * The Lambda handler's Security Lake path: the real `handler` of lambdas/ingest/index.ts, configured
 * only through its environment as the ingest stack configures it (`SECURITY_LAKE` as JSON, the
 * CodeCatalyst target with the deploying account filled in), STS and the lake bucket reached through
 * `AWS_ENDPOINT_URL_STS` and `AWS_ENDPOINT_URL_S3` (local stand-ins), the archive in a folder. It
 * checks the delivery, the EMF documents on stdout (per instance, and per source for the alarms), and
 * that a malformed `SECURITY_LAKE` is an error naming the variable that never stops the archive.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { listLedgerDays, readLedgerDay } from '../../../lambdas/core/ledger';
import { LocalStore } from '../../../lambdas/core/local-store';
import {
  clearAssumedRoleCache,
  readExportRecord,
  SECURITY_LAKE_ENV,
} from '../../../lambdas/core/security-lake';
import { handler } from '../../../lambdas/ingest/index';
import { codecatalyst } from '../../../lambdas/ingest/sources/codecatalyst';
import { DAY_MS, HOUR_MS } from '../../../lambdas/shared/src/time';
import { clockEnv, pinnedClock } from '../../helpers/clock';
import { type CodeCatalystServer, startCodeCatalystServer } from '../../support/codecatalyst-server';
import { type S3TestServer, startS3Server } from '../../support/s3-server';
import { generateEvents } from '../../support/sample-events';
import { type StsTestServer, startStsServer } from '../../support/sts-server';

const clock = pinnedClock(Date.UTC(2026, 10, 20, 12, 0, 0));
const TOKEN = 'pat-lake-handler-0123456789';
const SPACE = 'lake-handler';
const LAKE_BUCKET = 'aws-security-data-lake-us-east-1-abcdef';
const ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/AmazonSecurityLake-Provider-eventlog-codecatalyst-us-east-1`;
const EXTERNAL_ID = 'handler-external-id-secret';
/** What the stack writes (lib/stacks/ingest-stack.ts): the configured target, CodeCatalyst's account filled in. */
const SECURITY_LAKE = JSON.stringify({
  codecatalyst: {
    sourceName: 'eventlog-codecatalyst',
    bucket: LAKE_BUCKET,
    providerRoleArn: ROLE,
    externalId: EXTERNAL_ID,
    accountId: ACCOUNT,
  },
});
const context = {
  awsRequestId: 'req-lake-1',
  functionName: 'ingest',
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:ingest`,
  memoryLimitInMB: '1024',
  getRemainingTimeInMillis: () => 900_000,
} as unknown as Context;

let cc: CodeCatalystServer;
let lake: S3TestServer;
let sts: StsTestServer;
let dir: string;

beforeAll(async () => {
  const now = clock();
  cc = await startCodeCatalystServer({
    tokens: [TOKEN],
    now: clock,
    spaces: {
      [SPACE]: generateEvents({ count: 600, fromMs: now - 2 * DAY_MS, toMs: now - HOUR_MS, seed: 9 }),
    },
  });
  lake = await startS3Server({ buckets: [LAKE_BUCKET] });
  sts = await startStsServer({ roleArn: ROLE, externalId: EXTERNAL_ID });
}, 60_000);
afterAll(async () => {
  await Promise.all([cc?.close(), lake?.close(), sts?.close()]);
});

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'lake-handler-'));
  clearAssumedRoleCache();
  vi.stubEnv('ARCHIVE_URI', `file://${dir}`);
  vi.stubEnv('CODECATALYST_TOKEN', TOKEN);
  vi.stubEnv('AWS_ENDPOINT_URL_CODECATALYST', cc.url);
  // The function's own credentials sign AssumeRole; the lake is written with the provider role's.
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAFUNCTIONROLE');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'function-secret');
  vi.stubEnv('AWS_SESSION_TOKEN', 'function-session-token');
  vi.stubEnv('AWS_ENDPOINT_URL_STS', sts.url);
  vi.stubEnv('AWS_ENDPOINT_URL_S3', lake.endpoint);
  vi.stubEnv('AWS_ENDPOINT_URL', undefined);
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('BACKFILL_DAYS', '2');
  for (const [name, value] of Object.entries(clockEnv(clock))) vi.stubEnv(name, value);
  vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'eventlog-archive-ingest');
  vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', 'EventlogArchive');
  vi.stubEnv('POWERTOOLS_DEV', 'false');
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

type EmfDoc = Record<string, unknown> & {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
};

/** Runs the handler with stdout captured: its answer (or error), the EMF documents and the log lines. */
async function invoke(event: { source: string; instance: string }) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    stdout.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  });
  // The logger writes warnings and errors to stderr.
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => {
    stderr.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  });
  let response: Awaited<ReturnType<typeof handler>> | undefined;
  let error: unknown;
  try {
    response = await handler(event, context);
  } catch (err) {
    error = err;
  } finally {
    vi.restoreAllMocks();
  }
  const parse = (lines: string[]) =>
    lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  const emf = parse(stdout).filter((l): l is EmfDoc => '_aws' in l);
  const logs = [...parse(stdout), ...parse(stderr)].filter((l) => !('_aws' in l));
  return { response, error, stdout: [...stdout, ...stderr].join('\n'), emf, logs };
}

const metricNames = (doc: EmfDoc) => doc._aws.CloudWatchMetrics[0]!.Metrics.map((m) => m.Name);
const dimensionSets = (doc: EmfDoc) => doc._aws.CloudWatchMetrics[0]!.Dimensions;
const table = {
  table: codecatalyst.table,
  partitionKey: codecatalyst.partitionKey,
  partitionValue: codecatalyst.partitionValue(SPACE),
};

describe('ingest handler with SECURITY_LAKE', () => {
  it('delivers after the archive commit and writes the delivery metrics per instance and per source', async () => {
    vi.stubEnv(SECURITY_LAKE_ENV, SECURITY_LAKE);
    const { response, error, emf, stdout } = await invoke({ source: 'codecatalyst', instance: SPACE });
    expect(error).toBeUndefined();

    const store = new LocalStore(dir);
    const days = await listLedgerDays(store, table);
    expect(days.length).toBeGreaterThanOrEqual(2);
    const result = response!.outcomes[0]!.result!;
    expect(result).toMatchObject({ status: 'complete', events: cc.events(SPACE).length, failures: [] });
    expect(result.securityLake).toEqual({
      delivered: days.length,
      events: cc.events(SPACE).length,
      pending: 0,
      failures: 0,
    });
    // Assumed through the STS endpoint from the environment, with the role and external id of SECURITY_LAKE.
    expect(sts.requests.at(-1)).toMatchObject({ roleArn: ROLE, externalId: EXTERNAL_ID, signed: true });
    // Every day in the lake bucket (AWS_ENDPOINT_URL_S3), in the deploying account's partition.
    const listed = await lake
      .client()
      .send(new ListObjectsV2Command({ Bucket: LAKE_BUCKET, Prefix: 'ext/eventlog-codecatalyst/' }));
    expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual(
      days.map(
        (day) =>
          `ext/eventlog-codecatalyst/region=us-west-2/accountId=${ACCOUNT}/eventDay=${day.replaceAll('-', '')}/codecatalyst-${SPACE}.parquet`,
      ),
    );
    for (const day of days)
      expect((await readExportRecord(store, table, day))?.data.sha256).toBe(
        (await readLedgerDay(store, table, day))?.data?.sha256,
      );

    // Three EMF documents: the run's, the delivery's per instance, the delivery's per source.
    expect(emf).toHaveLength(3);
    for (const doc of emf) {
      expect(doc._aws.CloudWatchMetrics[0]!.Namespace).toBe('EventlogArchive');
      expect(doc).toMatchObject({ service: 'eventlog-archive-ingest', Source: 'codecatalyst' });
    }
    const [run, perInstance, perSource] = emf as [EmfDoc, EmfDoc, EmfDoc];
    expect(metricNames(run)).toContain('InstanceFailed');
    expect(dimensionSets(perInstance)).toEqual([['service', 'Source', 'Instance']]);
    expect(metricNames(perInstance)).toEqual([
      'SecurityLakeDaysDelivered',
      'SecurityLakeDaysPending',
      'SecurityLakeDeliveryFailures',
    ]);
    expect(perInstance).toMatchObject({
      Instance: SPACE,
      SecurityLakeDaysDelivered: days.length,
      SecurityLakeDaysPending: 0,
      SecurityLakeDeliveryFailures: 0,
    });
    expect(dimensionSets(perSource)).toEqual([['service', 'Source']]);
    expect(metricNames(perSource)).toEqual(['SecurityLakeDaysPending', 'SecurityLakeDeliveryFailures']);
    expect(perSource).not.toHaveProperty('Instance');
    expect(perSource).toMatchObject({ SecurityLakeDaysPending: 0, SecurityLakeDeliveryFailures: 0 });
    expect(stdout).not.toContain(EXTERNAL_ID);
    expect(stdout).not.toContain('function-session-token');
  }, 120_000);

  it('counts a failed delivery (the lake bucket failing every attempt) in both documents and still succeeds', async () => {
    vi.stubEnv(SECURITY_LAKE_ENV, SECURITY_LAKE);
    // A warm function: the sink and its credentials are reused, so the fault is the lake's S3.
    lake.failNext('internalError', 6);
    const { response, error, emf } = await invoke({ source: 'codecatalyst', instance: SPACE });
    expect(error).toBeUndefined();
    const days = await listLedgerDays(new LocalStore(dir), table);
    expect(response!.outcomes[0]!.result!.securityLake).toMatchObject({
      delivered: 0,
      pending: days.length,
      failures: 1,
    });
    const [, perInstance, perSource] = emf as [EmfDoc, EmfDoc, EmfDoc];
    expect(perInstance).toMatchObject({
      SecurityLakeDaysDelivered: 0,
      SecurityLakeDaysPending: days.length,
      SecurityLakeDeliveryFailures: 1,
    });
    expect(perSource).toMatchObject({
      SecurityLakeDaysPending: days.length,
      SecurityLakeDeliveryFailures: 1,
    });
  }, 120_000);

  it.each([
    ['not JSON', '{"codecatalyst": {', /^ArchiveError: SECURITY_LAKE: must be JSON$/],
    [
      'a target without its external id',
      JSON.stringify({
        codecatalyst: { sourceName: 'eventlog-codecatalyst', bucket: LAKE_BUCKET, providerRoleArn: ROLE },
      }),
      /^ArchiveError: SECURITY_LAKE\.codecatalyst\.externalId: is required$/,
    ],
    ['an array', JSON.stringify([{ externalId: EXTERNAL_ID }]), /SECURITY_LAKE: must be a JSON object/],
  ])(
    'archives anyway when SECURITY_LAKE is %s, and reports the delivery failed naming the variable',
    async (_, value, message) => {
      vi.stubEnv(SECURITY_LAKE_ENV, value);
      const stsCalls = sts.requests.length;
      const { response, error, emf, logs, stdout } = await invoke({
        source: 'codecatalyst',
        instance: SPACE,
      });

      // The archive is written in full and the invocation succeeds: no retry would fix the setting.
      expect(error).toBeUndefined();
      const result = response!.outcomes[0]!.result!;
      expect(result).toMatchObject({ status: 'complete', events: cc.events(SPACE).length, failures: [] });
      const days = await listLedgerDays(new LocalStore(dir), table);
      expect(days.length).toBeGreaterThanOrEqual(2);
      for (const day of days)
        expect((await readLedgerDay(new LocalStore(dir), table, day))?.data).toBeDefined();

      // Nothing is delivered; the failure names the variable (and the field) and is counted.
      expect(result.securityLake).toMatchObject({ delivered: 0, pending: 0, failures: 1 });
      expect(result.securityLake?.error).toMatch(message);
      expect(sts.requests.length).toBe(stsCalls);
      const logged = logs.find((l) => String(l.message).startsWith('SECURITY_LAKE is malformed'));
      expect(logged).toMatchObject({ level: 'ERROR' });
      expect(JSON.stringify(logged)).toMatch(/SECURITY_LAKE/);
      // The value is never logged: it holds the external ids.
      expect(stdout).not.toContain(EXTERNAL_ID);
      const [, perInstance, perSource] = emf as [EmfDoc, EmfDoc, EmfDoc];
      expect(emf).toHaveLength(3);
      expect(perInstance).toMatchObject({ Instance: SPACE, SecurityLakeDeliveryFailures: 1 });
      expect(perSource).toMatchObject({ SecurityLakeDeliveryFailures: 1 });
    },
    120_000,
  );

  it('does nothing for Security Lake without SECURITY_LAKE: one EMF document, no delivery', async () => {
    vi.stubEnv(SECURITY_LAKE_ENV, undefined);
    const { response, error, emf } = await invoke({ source: 'codecatalyst', instance: SPACE });
    expect(error).toBeUndefined();
    expect(response!.outcomes[0]!.result!.securityLake).toBeUndefined();
    expect(emf).toHaveLength(1);
    expect(metricNames(emf[0]!).some((n) => n.startsWith('SecurityLake'))).toBe(false);
  }, 120_000);
});
