/**
 * The AWS side of the query API, offline: the ledger read from S3 (s3rver, with faults) through one
 * signed ListObjectsV2, nextToken keys from Secrets Manager (a local stub that checks SigV4), and
 * the handler bundled exactly as CDK bundles it, run from the shared layer on NODE_PATH. Athena is
 * the one piece not run here: in-process tests put the DuckDB engine in its place, and the bundle
 * test only takes paths that end before the engine (validation, 404) or fail in it (a 500 that says
 * nothing internal).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleFunction } from '../../../lambdas/build';
import type { ApiDeps } from '../../../lambdas/query/api';
import { createDuckDbEngine } from '../../../lambdas/query/duckdb-engine';
import type { QueryEngine } from '../../../lambdas/query/engine';
import { configFromEnv, createHandler, depsFromConfig } from '../../../lambdas/query/index';
import { NextTokenCodec, requestBinding } from '../../../lambdas/query/next-token';
import { s3Catalog } from '../../../lambdas/query/s3-catalog';
import { buildSharedLayer } from '../../../lambdas/shared/build';
import { createLogger } from '../../../lambdas/shared/src';
import { DAY_MS, HOUR_MS } from '../../../lambdas/shared/src/time';
import { lambdaNodeBinary } from '../../helpers/lambda-node';
import { runProcess } from '../../helpers/run-process';
import { type SecretsManagerStub, startSecretsManagerStub } from '../../helpers/secrets-manager-stub';
import { type S3TestServer, startS3Server } from '../../support/s3-server';
import { generateEvents } from '../../support/sample-events';
import { buildArchive, inArchiveOrder } from './api-fixture';

const NOW = Date.UTC(2026, 7, 1, 12);
const SPACE = 'acme-corp';
const BUCKET = 'archive-bucket';
const PREFIX = 'tenant-a/';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:eventlog-archive/next-token-AbCdEf';
const KEYS = ['newest-key-4a7c0f3e9b1d2c8a', 'older-key-5b8d1e4f0c2a3d9b'];
const RANGE = { startTime: new Date(NOW - 2 * DAY_MS).toISOString(), endTime: new Date(NOW).toISOString() };

let dir: string;
let work: string;
let s3: S3TestServer;
let secrets: SecretsManagerStub;
let engine: QueryEngine;
let env: Record<string, string>;
const savedEnv = { ...process.env };
const events = generateEvents({ count: 400, fromMs: NOW - 2 * DAY_MS, toMs: NOW - HOUR_MS, seed: 51 });

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'query-aws-'));
  work = mkdtempSync(path.join(tmpdir(), 'query-aws-work-'));
  await buildArchive(dir, { [SPACE]: events }, NOW);
  s3 = await startS3Server({ buckets: [BUCKET] });
  // The ledger of the archive, uploaded under the prefix (the data stays local: DuckDB reads it).
  const client = s3.client();
  const ledger = path.join(dir, '_ledger');
  for (const file of walk(ledger)) {
    const key = `${PREFIX}${path.relative(dir, file).split(path.sep).join('/')}`;
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: readFileSync(file) }));
  }
  secrets = await startSecretsManagerStub(SECRET_ARN, JSON.stringify({ keys: KEYS }));
  env = {
    ARCHIVE_URI: `s3://${BUCKET}/${PREFIX}`,
    ATHENA_WORKGROUP: 'eventlog-archive',
    GLUE_DATABASE: 'eventlog_archive',
    TOKEN_KEY_SECRET_ARN: SECRET_ARN,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REGION: 'us-east-1',
  };
  // The credential chain reads process.env.
  Object.assign(process.env, env);
  engine = await createDuckDbEngine(dir);
}, 60_000);

afterAll(async () => {
  process.env = savedEnv;
  await engine?.close();
  await Promise.all([s3?.close(), secrets?.close()]);
  rmSync(dir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

function walk(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const full = path.join(folder, name);
    return statSync(full).isDirectory() ? walk(full) : [full];
  });
}

function proxyEvent(body: unknown, space = SPACE): APIGatewayProxyEvent {
  return {
    resource: '/v1/spaces/{spaceName}/eventLogs',
    path: `/v1/spaces/${space}/eventLogs`,
    httpMethod: 'POST',
    headers: { 'content-type': 'application/json' },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: { spaceName: space },
    stageVariables: null,
    requestContext: { requestId: `req-${Math.random()}` } as APIGatewayProxyEvent['requestContext'],
    body: Buffer.from(JSON.stringify(body)).toString('base64'),
    isBase64Encoded: true,
  };
}

/** The AWS dependencies, with DuckDB standing in for Athena. */
function awsDeps(): ApiDeps {
  return {
    ...depsFromConfig(configFromEnv(env), env),
    engine,
    logger: createLogger({ logLevel: 'CRITICAL' }),
  };
}

describe('query handler with the S3 ledger and the Secrets Manager key', () => {
  it('pages through the archive with tokens signed by the newest key, reading the secret once', async () => {
    const deps = awsDeps();
    const handler = createHandler(() => deps);
    const before = secrets.requests;
    const ids: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const result = await handler(
        proxyEvent({ ...RANGE, maxResults: 100, ...(nextToken ? { nextToken } : {}) }),
      );
      expect(result.statusCode).toBe(200);
      const json = JSON.parse(result.body) as { items: { id: string }[]; nextToken?: string };
      ids.push(...json.items.map((i) => i.id));
      nextToken = json.nextToken;
      pages++;
    } while (nextToken);
    expect(ids).toEqual(inArchiveOrder(events).map((e) => e.id));
    expect(pages).toBe(4);
    expect(secrets.requests - before).toBe(1);
  });

  it('accepts a token of the older key (rotation) and refuses one of an unknown key', async () => {
    const handler = createHandler(awsDeps);
    const binding = requestBinding([
      'codecatalyst',
      SPACE,
      Date.parse(RANGE.startTime),
      Date.parse(RANGE.endTime),
      undefined,
      {},
    ]);
    const sign = (key: string): string =>
      new NextTokenCodec({ keys: [new Uint8Array(Buffer.from(key))] }).sign(binding, { time: 0, id: '' });
    const older = await handler(proxyEvent({ ...RANGE, nextToken: sign(KEYS[1]!) }));
    expect(older.statusCode).toBe(200);
    const unknown = await handler(proxyEvent({ ...RANGE, nextToken: sign('some-other-key-0123456789') }));
    expect(unknown.statusCode).toBe(400);
    expect(JSON.parse(unknown.body).message).toMatch(/^nextToken: is not a token issued/);
  });

  it('answers 404 for a space with no ledger under the prefix, and retries S3 faults', async () => {
    const handler = createHandler(awsDeps);
    const missing = await handler(proxyEvent(RANGE, 'other-space'));
    expect(missing.statusCode).toBe(404);
    expect(missing.headers?.['x-amzn-ErrorType']).toBe('ResourceNotFoundException');
    s3.failNext('internalError', 2);
    const retried = await handler(proxyEvent(RANGE, 'third-space'));
    expect(retried.statusCode).toBe(404);
  });

  it('answers a 500 that names nothing internal when the bucket or the secret is wrong', async () => {
    const noBucket = createHandler(() => ({
      ...depsFromConfig(configFromEnv({ ...env, ARCHIVE_URI: 's3://no-such-bucket/x' }), env),
      engine,
      logger: createLogger({ logLevel: 'CRITICAL' }),
    }));
    const bucketResult = await noBucket(proxyEvent(RANGE));
    expect(bucketResult.statusCode).toBe(500);
    expect(bucketResult.body).not.toMatch(/bucket|NoSuchBucket|s3/i);
    const noSecret = createHandler(() => ({
      ...depsFromConfig(configFromEnv({ ...env, TOKEN_KEY_SECRET_ARN: `${SECRET_ARN}-gone` }), env),
      engine,
      logger: createLogger({ logLevel: 'CRITICAL' }),
    }));
    const secretResult = await noSecret(proxyEvent(RANGE));
    // The name of the Secrets Manager error (ResourceNotFoundException, also an error name of the
    // ListEventLogs API reference:
    // https://docs.aws.amazon.com/codecatalyst/latest/APIReference/API_ListEventLogs.html) must not
    // leak as a 404.
    expect(secretResult.statusCode).toBe(500);
    expect(secretResult.body).not.toMatch(/secret|arn:/i);
  });

  it('lists the ledger with one signed request per unknown space and remembers known ones', async () => {
    const catalog = s3Catalog({ bucket: BUCKET, prefix: PREFIX, env });
    const { codecatalystDefinition: CODECATALYST_QUERY_SOURCE } = await import(
      '../../../lambdas/core/sources/codecatalyst/definition'
    );
    s3.resetStats();
    expect(await catalog.hasInstance(CODECATALYST_QUERY_SOURCE, SPACE)).toBe(true);
    expect(await catalog.hasInstance(CODECATALYST_QUERY_SOURCE, SPACE)).toBe(true);
    expect(await catalog.hasInstance(CODECATALYST_QUERY_SOURCE, 'acme')).toBe(false);
    expect(s3.stats.requests).toBe(2);
  });
});

describe('query handler as deployed (bundle + layer)', () => {
  it('loads from the layer and answers validation, 404 and an engine failure in the error shape of the API reference', async () => {
    const layer = path.join(buildSharedLayer(path.join(work, 'layer')).outDir, 'nodejs', 'node_modules');
    const { outFile, bytes } = bundleFunction(
      path.resolve('lambdas/query/index.ts'),
      path.join(work, 'fn', 'index.js'),
    );
    expect(bytes).toBeLessThan(400 * 1024);
    const runner = path.join(work, 'invoke.cjs');
    mkdirSync(path.dirname(runner), { recursive: true });
    const requests = [
      proxyEvent({ ...RANGE, maxResults: 0 }),
      proxyEvent(RANGE, 'never-archived'),
      proxyEvent(RANGE),
      { ...proxyEvent(RANGE), httpMethod: 'GET' },
    ];
    writeFileSync(
      runner,
      `const { handler } = require(${JSON.stringify(outFile)});
(async () => {
  for (const event of ${JSON.stringify(requests)}) {
    const r = await handler(event, { awsRequestId: 'req-1', getRemainingTimeInMillis: () => 30000 });
    process.stdout.write('RESULT ' + JSON.stringify(r) + '\\n');
  }
})().catch((e) => { process.stdout.write('CRASH ' + e.message + '\\n'); process.exitCode = 1; });
`,
    );
    const { code, stdout } = await runProcess(lambdaNodeBinary(), [runner], {
      cwd: work,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_PATH: layer,
        ...env,
        // Nothing listens here: the Athena engine fails, as when Athena is unreachable.
        AWS_ENDPOINT_URL_ATHENA: 'http://127.0.0.1:9',
        QUERY_TIMEOUT_MS: '3000',
        POWERTOOLS_LOG_LEVEL: 'INFO',
      },
    });
    expect(code).toBe(0);
    const results = stdout
      .split('\n')
      .filter((l) => l.startsWith('RESULT '))
      .map(
        (l) =>
          JSON.parse(l.slice(7)) as { statusCode: number; headers: Record<string, string>; body: string },
      );
    expect(results.map((r) => [r.statusCode, r.headers['x-amzn-ErrorType']])).toEqual([
      [400, 'ValidationException'],
      [404, 'ResourceNotFoundException'],
      [500, 'InternalServerException'],
      [405, 'MethodNotAllowedException'],
    ]);
    expect(results[2]!.body).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|athena/i);
    // Logs carry the correlation id and never the keys.
    expect(stdout).toContain('"correlationId"');
    for (const key of KEYS) expect(stdout).not.toContain(key);
  }, 60_000);
});
