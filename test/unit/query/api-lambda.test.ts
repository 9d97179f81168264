/** The query Lambda's adapter: API Gateway proxy events in, proxy results out, configuration from env. */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../../lambdas/query/api';
import { configFromEnv, createHandler, routePath, toApiRequest } from '../../../lambdas/query/index';
import { NextTokenCodec } from '../../../lambdas/query/next-token';
import { record } from '../ingest/fake-source';
import { MemoryEngine, memoryCatalog } from './api-memory-engine';

// The handler's clock: the day after the archived events.
const NOW = Date.UTC(2026, 4, 2);

const BODY = JSON.stringify({ startTime: '2026-05-01T00:00:00Z', endTime: '2026-05-02T00:00:00Z' });

function event(overrides: Partial<APIGatewayProxyEvent> = {}): APIGatewayProxyEvent {
  return {
    resource: '/v1/spaces/{spaceName}/eventLogs',
    path: '/v1/spaces/acme-corp/eventLogs',
    httpMethod: 'POST',
    headers: { 'Content-Type': 'application/json' },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: { spaceName: 'acme-corp' },
    stageVariables: null,
    requestContext: { requestId: 'req-123' } as APIGatewayProxyEvent['requestContext'],
    body: BODY,
    isBase64Encoded: false,
    ...overrides,
  };
}

function deps(): ApiDeps {
  const engine = new MemoryEngine();
  engine.add('acme-corp', [record('e1', Date.UTC(2026, 4, 1, 5)), record('e2', Date.UTC(2026, 4, 1, 6))]);
  return {
    engine,
    catalog: memoryCatalog(['acme-corp']),
    tokens: new NextTokenCodec({ keys: [new Uint8Array(32).fill(7)], now: () => NOW }),
    now: () => NOW,
  };
}

describe('routePath', () => {
  it('fills the resource template with the raw path parameters (no stage or base path)', () => {
    expect(
      routePath({
        resource: '/v1/spaces/{spaceName}/eventLogs',
        path: '/prod/v1/spaces/a%2Fb/eventLogs',
        pathParameters: { spaceName: 'a%2Fb' },
      }),
    ).toBe('/v1/spaces/a%2Fb/eventLogs');
  });

  it('fills a greedy proxy resource', () => {
    expect(
      routePath({
        resource: '/{proxy+}',
        path: '/x/v1/spaces/s/eventLogs',
        pathParameters: { proxy: 'v1/spaces/s/eventLogs' },
      }),
    ).toBe('/v1/spaces/s/eventLogs');
  });

  it('falls back to event.path when a parameter is missing', () => {
    expect(
      routePath({ resource: '/v1/spaces/{spaceName}/eventLogs', path: '/v1/x', pathParameters: null }),
    ).toBe('/v1/x');
  });
});

describe('toApiRequest', () => {
  it('decodes a base64 body and keeps the request id for logs', () => {
    const request = toApiRequest(
      event({ body: Buffer.from(BODY).toString('base64'), isBase64Encoded: true }),
      'req-9',
    );
    expect(request.body).toBe(BODY);
    expect(request.requestId).toBe('req-9');
    expect(request.method).toBe('POST');
  });
});

describe('handler', () => {
  it('answers a proxy event with a proxy result', async () => {
    const handler = createHandler(deps);
    const result = await handler(event());
    expect(result.statusCode).toBe(200);
    expect(result.isBase64Encoded).toBe(false);
    expect(result.headers?.['content-type']).toBe('application/json');
    expect(JSON.parse(result.body).items.map((i: { id: string }) => i.id)).toEqual(['e1', 'e2']);
  });

  // The error shape of the ListEventLogs API reference:
  // https://docs.aws.amazon.com/codecatalyst/latest/APIReference/API_ListEventLogs.html
  it('answers errors in the shape of the API reference through API Gateway', async () => {
    const handler = createHandler(deps);
    const bad = await handler(event({ pathParameters: { spaceName: 'a%2Fb' } }));
    expect(bad.statusCode).toBe(400);
    expect(bad.headers?.['x-amzn-ErrorType']).toBe('ValidationException');
    expect(JSON.parse(bad.body).message).toMatch(/^spaceName:/);
  });

  it('answers a generic 500 when the configuration is wrong, and 400 for bad input before that', async () => {
    const handler = createHandler(() => {
      throw new Error('ARCHIVE_URI: is required');
    });
    const result = await handler(event());
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toContain('ARCHIVE_URI');
    expect((await handler(event({ body: '[]' }))).statusCode).toBe(400);
  });

  // The authorizer's policy keeps API Gateway from passing these on; the handler checks again.
  it('answers 403 AccessDeniedException when the token authorizer’s scope leaves out the space', async () => {
    const handler = createHandler(deps);
    const withScope = (spaces: string) =>
      event({
        requestContext: {
          requestId: 'req-9',
          authorizer: {
            principalId: 'token/0123456789abcdef',
            tokenId: '0123456789abcdef',
            tokenName: 'ci',
            spaces,
          },
        } as unknown as APIGatewayProxyEvent['requestContext'],
      });
    const denied = await handler(withScope('["other-space"]'));
    expect(denied.statusCode).toBe(403);
    expect(denied.headers?.['x-amzn-ErrorType']).toBe('AccessDeniedException');
    expect(JSON.parse(denied.body).message).toBe(
      'spaceName: the token "ci" may not read the space "acme-corp"',
    );
    // Before validation: a bad body of another space is still a 403.
    expect((await handler({ ...withScope('["other-space"]'), body: '[]' })).statusCode).toBe(403);
    expect((await handler(withScope('not json'))).statusCode).toBe(403);
    expect((await handler(withScope('["acme-corp","other-space"]'))).statusCode).toBe(200);
    expect((await handler(withScope('*'))).statusCode).toBe(200);
  });
});

describe('configFromEnv', () => {
  const env = {
    ARCHIVE_URI: 's3://archive-bucket/some/prefix/',
    ATHENA_WORKGROUP: 'wg',
    GLUE_DATABASE: 'db',
    TOKEN_KEY_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:k-AbCdEf',
  };

  it('reads the environment contract with defaults', () => {
    expect(configFromEnv(env)).toEqual({
      bucket: 'archive-bucket',
      prefix: 'some/prefix/',
      workGroup: 'wg',
      database: 'db',
      tokenSecretArn: env.TOKEN_KEY_SECRET_ARN,
      tokenTtlSeconds: 86_400,
    });
    expect(
      configFromEnv({
        ...env,
        ARCHIVE_URI: 's3://b-1',
        TOKEN_TTL_SECONDS: '3600',
        QUERY_TIMEOUT_MS: '20000',
        BYTES_SCANNED_CUTOFF_MB: '64',
      }),
    ).toMatchObject({
      bucket: 'b-1',
      prefix: '',
      tokenTtlSeconds: 3600,
      queryTimeoutMs: 20_000,
      bytesScannedCutoff: 64 * 2 ** 20,
    });
  });

  it.each([
    [{ ARCHIVE_URI: undefined }, /^ARCHIVE_URI: is required/],
    [{ ARCHIVE_URI: 'file:///data' }, /^ARCHIVE_URI: must be s3:\/\/bucket/],
    [{ ATHENA_WORKGROUP: '' }, /^ATHENA_WORKGROUP: is required/],
    [{ GLUE_DATABASE: undefined }, /^GLUE_DATABASE: is required/],
    [{ TOKEN_KEY_SECRET_ARN: undefined }, /^TOKEN_KEY_SECRET_ARN: is required/],
    [{ TOKEN_TTL_SECONDS: '1.5' }, /^TOKEN_TTL_SECONDS: must be an integer/],
    [{ QUERY_TIMEOUT_MS: '10' }, /^QUERY_TIMEOUT_MS: must be an integer from 1000/],
    [{ BYTES_SCANNED_CUTOFF_MB: '1' }, /^BYTES_SCANNED_CUTOFF_MB: must be an integer from 10/],
  ])('refuses %j naming the variable', (overrides, message) => {
    expect(() => configFromEnv({ ...env, ...overrides })).toThrow(message);
  });
});
