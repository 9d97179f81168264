/**
 * The token authorizer as deployed: bundled exactly as CDK bundles it, run from the shared layer on
 * NODE_PATH in the Lambda runtime's Node, reading token records from S3 (s3rver) under the archive
 * prefix with signed requests, as its role allows in AWS.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleFunction } from '../../../lambdas/build';
import { createAccessToken, revokeAccessToken } from '../../../lambdas/core/access-tokens';
import { S3Store } from '../../../lambdas/core/s3-store';
import { buildSharedLayer } from '../../../lambdas/shared/build';
import { CLOCK_ENV, iso } from '../../../lambdas/shared/src/time';
import { lambdaNodeBinary } from '../../helpers/lambda-node';
import { runProcess } from '../../helpers/run-process';
import { type S3TestServer, startS3Server } from '../../support/s3-server';

const NOW = Date.UTC(2026, 11, 6, 23, 58);
const BUCKET = 'archive-bucket';
const PREFIX = 'tenant-a/';
const STAGE = 'arn:aws:execute-api:us-east-1:123456789012:abc123/prod';
let work: string;
let s3: S3TestServer;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'authorizer-aws-'));
  s3 = await startS3Server({ buckets: [BUCKET] });
});

afterAll(async () => {
  await s3?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('token authorizer as deployed (bundle + layer + S3)', () => {
  it('allows a valid token, denies a revoked or unknown one, and refuses a malformed one, logging no secret', async () => {
    const store = new S3Store(BUCKET, PREFIX, s3.client());
    const clock = () => NOW;
    const valid = await createAccessToken(store, { name: 'reader', spaces: ['acme-corp'] }, clock);
    const revoked = await createAccessToken(store, { name: 'gone' }, clock);
    await revokeAccessToken(store, { id: revoked.record.id }, clock);
    const unknown = `ela_0123456789abcdef_${valid.token.slice(-43)}`;
    const event = (token: string): APIGatewayTokenAuthorizerEvent => ({
      type: 'TOKEN',
      authorizationToken: `Bearer ${token}`,
      methodArn: `${STAGE}/POST/v1/spaces/acme-corp/eventLogs`,
    });

    const layer = path.join(buildSharedLayer(path.join(work, 'layer')).outDir, 'nodejs', 'node_modules');
    const { outFile, bytes } = bundleFunction(
      path.resolve('lambdas/authorizer/index.ts'),
      path.join(work, 'fn', 'index.js'),
    );
    // One signed GetObject instead of the S3 client: a small bundle for a function on the request path.
    expect(bytes).toBeLessThan(100 * 1024);
    const runner = path.join(work, 'invoke.cjs');
    mkdirSync(path.dirname(runner), { recursive: true });
    const events = [event(valid.token), event(revoked.token), event(unknown), event('local')];
    writeFileSync(
      runner,
      `const { handler } = require(${JSON.stringify(outFile)});
(async () => {
  for (const event of ${JSON.stringify(events)}) {
    try {
      process.stdout.write('RESULT ' + JSON.stringify(await handler(event)) + '\\n');
    } catch (e) {
      process.stdout.write('ERROR ' + e.message + '\\n');
    }
  }
})();
`,
    );
    const { code, stdout, stderr } = await runProcess(lambdaNodeBinary(), [runner], {
      cwd: work,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_PATH: layer,
        ARCHIVE_URI: `s3://${BUCKET}/${PREFIX}`,
        AWS_ENDPOINT_URL_S3: s3.endpoint,
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
        AWS_REGION: 'us-east-1',
        [CLOCK_ENV]: iso(NOW),
        POWERTOOLS_LOG_LEVEL: 'INFO',
      },
    });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const answers = stdout
      .split('\n')
      .filter((l) => l.startsWith('RESULT ') || l.startsWith('ERROR '))
      .map((l) => (l.startsWith('ERROR ') ? l : JSON.parse(l.slice(7))));
    expect(answers).toEqual([
      {
        principalId: `token/${valid.record.id}`,
        policyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: 'execute-api:Invoke',
              Resource: [`${STAGE}/POST/v1/spaces/acme-corp/eventLogs`],
            },
          ],
        },
        context: { tokenId: valid.record.id, tokenName: 'reader', spaces: '["acme-corp"]' },
      },
      expect.objectContaining({
        principalId: `token/${revoked.record.id}`,
        policyDocument: expect.objectContaining({
          Statement: [{ Effect: 'Deny', Action: 'execute-api:Invoke', Resource: `${STAGE}/*` }],
        }),
      }),
      expect.objectContaining({ principalId: 'token/0123456789abcdef' }),
      'ERROR Unauthorized',
    ]);
    expect(stdout).toContain('"reason":"revoked"');
    for (const token of [valid.token, revoked.token]) expect(stdout).not.toContain(token.slice(-43));
  }, 60_000);
});
