/**
 * The deployed shape, run locally: the ingest handler bundled exactly as CDK bundles it, the shared
 * layer built into its `nodejs/node_modules` layout and found only through NODE_PATH (as the Lambda
 * runtime does), the token read from Secrets Manager, the archive written to S3 (s3rver).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleFunction } from '../../../lambdas/build';
import { buildSharedLayer } from '../../../lambdas/shared/build';
import { DAY_MS, HOUR_MS } from '../../../lambdas/shared/src/time';
import { diffArchive, readCodeCatalystArchive } from '../../helpers/archive-reader';
import { clockEnv, pinnedClock } from '../../helpers/clock';
import { lambdaNodeBinary } from '../../helpers/lambda-node';
import { type ProcessResult, runProcess } from '../../helpers/run-process';
import { type SecretsManagerStub, startSecretsManagerStub } from '../../helpers/secrets-manager-stub';
import { type CodeCatalystServer, startCodeCatalystServer } from '../../support/codecatalyst-server';
import { type KmsServer, startKmsServer } from '../../support/kms-server';
import { type S3TestServer, startS3Server } from '../../support/s3-server';
import { generateEvents } from '../../support/sample-events';
import { downloadS3Archive } from '../faults/archive-checks';

const TOKEN = 'pat-lambda-runtime-test-0123456789';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:eventlog-archive/pat-AbCdEf';
let work: string;
let layerModules: string;
let bundle: string;
let cc: CodeCatalystServer;
let s3: S3TestServer;
let secrets: SecretsManagerStub;
let kms: KmsServer;
// 23:55 UTC on New Year's Eve: the backfill's days and the lookback span a change of year.
const clock = pinnedClock(Date.UTC(2026, 11, 31, 23, 55));

beforeAll(async () => {
  // Under the OS temp folder, far from the repo's node_modules: nothing resolves by accident.
  work = mkdtempSync(path.join(tmpdir(), 'lambda-runtime-'));
  layerModules = path.join(buildSharedLayer(path.join(work, 'layer')).outDir, 'nodejs', 'node_modules');
  bundle = bundleFunction(
    path.resolve('lambdas/ingest/index.ts'),
    path.join(work, 'function', 'index.js'),
  ).outFile;
  const now = clock();
  cc = await startCodeCatalystServer({
    now: clock,
    tokens: [TOKEN],
    spaces: {
      'acme-corp': generateEvents({
        count: 4_000,
        fromMs: now - 2 * DAY_MS,
        toMs: now - 3 * HOUR_MS,
        seed: 21,
      }),
    },
    faults: { throttle: 0.05, serverError: 0.03 },
  });
  s3 = await startS3Server({ buckets: ['archive-bucket'], faults: { internalError: 0.05, slowDown: 0.05 } });
  secrets = await startSecretsManagerStub(SECRET_ARN, JSON.stringify({ token: TOKEN }));
  kms = await startKmsServer();
}, 120_000);

afterAll(async () => {
  await Promise.all([cc?.close(), s3?.close(), secrets?.close(), kms?.close()]);
  rmSync(work, { recursive: true, force: true });
});

function invoke(env: Record<string, string>, event: unknown): Promise<ProcessResult> {
  const runner = path.join(work, 'invoke.cjs');
  writeFileSync(
    runner,
    `const { handler } = require(${JSON.stringify(bundle)});
const context = { awsRequestId: 'req-1234', functionName: 'ingest', functionVersion: '$LATEST', memoryLimitInMB: '1024',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:ingest', getRemainingTimeInMillis: () => 900000 };
handler(${JSON.stringify(event)}, context).then(
  (r) => { process.stdout.write('RESULT ' + JSON.stringify(r) + '\\n'); },
  (e) => { process.stdout.write('ERROR ' + JSON.stringify({ name: e.name, message: e.message }) + '\\n'); process.exitCode = 1; });
`,
  );
  return runProcess(lambdaNodeBinary(), [runner], {
    cwd: work,
    env: { PATH: process.env.PATH ?? '', ...clockEnv(clock), ...env },
  });
}

const lambdaEnv = (): Record<string, string> => ({
  NODE_PATH: layerModules,
  ARCHIVE_URI: 's3://archive-bucket/audit',
  CODECATALYST_TOKEN_SECRET_ARN: SECRET_ARN,
  AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
  AWS_ENDPOINT_URL_CODECATALYST: cc.url,
  AWS_ENDPOINT_URL_S3: s3.endpoint,
  // Digests are signed by the KMS key, as the CDK stack configures the function.
  DIGEST_SIGNING_KEY_ARN: kms.keyArn,
  AWS_ENDPOINT_URL_KMS: kms.url,
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  AWS_SESSION_TOKEN: 'session-token-that-must-not-be-logged',
  AWS_REGION: 'us-east-1',
  BACKFILL_DAYS: '3',
  POWERTOOLS_LOG_LEVEL: 'INFO',
  POWERTOOLS_SERVICE_NAME: 'eventlog-archive-ingest',
});

describe('ingest handler as deployed', () => {
  it('cannot load without the layer: the shared package is not in the bundle', async () => {
    const { code, stdout } = await invoke(
      { ...lambdaEnv(), NODE_PATH: '' },
      { source: 'codecatalyst', instance: 'acme-corp' },
    );
    expect(code).not.toBe(0);
    expect(stdout + '').not.toContain('RESULT');
  });

  it('archives a space into S3 from the layer, equal to the source, and logs no secret', async () => {
    const { code, stdout, stderr } = await invoke(lambdaEnv(), {
      source: 'codecatalyst',
      instance: 'acme-corp',
    });
    // Node 24 as in Lambda prints nothing on stderr; an older Node gets the SDK's end-of-support notice only.
    expect(
      stderr.replace(/\(node:\d+\) Warning: NodeVersionSupportWarning[\s\S]*?--trace-warnings[^\n]*\n/, ''),
    ).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(
      stdout
        .split('\n')
        .find((l) => l.startsWith('RESULT '))!
        .slice(7),
    );
    expect(result.outcomes[0].result).toMatchObject({
      status: 'complete',
      events: 4_000,
      newEvents: 4_000,
      failures: [],
    });
    expect(secrets.requests).toBe(1);
    // Every sealed day was signed by KMS (the private key never left it).
    expect(result.outcomes[0].result.sealed?.digests).toBeGreaterThan(0);
    expect(kms.requests.Sign).toBe(result.outcomes[0].result.sealed.digests);

    const copy = await downloadS3Archive(s3.client(), 'archive-bucket', 'audit/');
    const archived = await readCodeCatalystArchive(copy);
    rmSync(copy, { recursive: true, force: true });
    const diff = diffArchive(archived, cc.events('acme-corp') as never);
    expect({
      missing: diff.missing.length,
      duplicates: diff.duplicates.length,
      different: diff.different.length,
      extra: diff.extra.length,
    }).toEqual({
      missing: 0,
      duplicates: 0,
      different: 0,
      extra: 0,
    });

    const logs = stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logs.some((l) => l.message === 'ingest finished' && l.correlationId === 'req-1234')).toBe(true);
    // The bundle spawned itself as the Parquet worker: every day was encoded off the event loop.
    const days = logs.filter((l) => l.message === 'day archived');
    expect(days.length).toBeGreaterThan(0);
    expect(days.every((l) => l.encodedIn === 'worker')).toBe(true);
    expect(stdout).not.toContain(TOKEN);
    expect(stdout).not.toContain('session-token-that-must-not-be-logged');
    // Nothing left behind: the lease is released.
    const leases = await s3
      .client()
      .send(new ListObjectsV2Command({ Bucket: 'archive-bucket', Prefix: 'audit/_leases/' }));
    expect(leases.Contents ?? []).toEqual([]);
  });

  it('rejects a malformed event with an error that names the field', async () => {
    const { code, stdout } = await invoke(lambdaEnv(), { source: 'codecatalyst', instance: 'x' });
    expect(code).toBe(1);
    expect(stdout).toContain('event.instance: must be 3 to 63 characters long');
  });
});
