/**
 * The token authorizer's handler over a folder archive: the policy and context it answers API
 * Gateway with for each kind of token, and that no log line carries a token.
 */
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAuthorizer } from '../../../lambdas/authorizer';
import { createAccessToken, revokeAccessToken } from '../../../lambdas/core/access-tokens';
import { LocalStore } from '../../../lambdas/core/local-store';
import { createLogger } from '../../../lambdas/shared/src';
import { DAY_MS } from '../../../lambdas/shared/src/time';

const NOW = Date.UTC(2026, 11, 6, 23, 59);
const STAGE = 'arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod';
const METHOD_ARN = `${STAGE}/POST/v1/spaces/alpha/eventLogs`;
let dir: string;
let store: LocalStore;
let now: number;
const logger = createLogger({ logLevel: 'SILENT' });
const authorize = createAuthorizer(() => ({ store: async () => store, clock: () => now, logger }));

function event(authorization: string): APIGatewayTokenAuthorizerEvent {
  return { type: 'TOKEN', authorizationToken: authorization, methodArn: METHOD_ARN };
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'authorizer-'));
  store = new LocalStore(dir);
  now = NOW;
});

afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

describe('the token authorizer', () => {
  it('allows a scoped token the route for each of its spaces, and passes its scope on', async () => {
    const { token, record } = await createAccessToken(
      store,
      { name: 'two', spaces: ['beta', 'alpha'] },
      () => now,
    );
    expect(await authorize(event(`Bearer ${token}`))).toEqual({
      principalId: `token/${record.id}`,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'execute-api:Invoke',
            Resource: [`${STAGE}/POST/v1/spaces/alpha/eventLogs`, `${STAGE}/POST/v1/spaces/beta/eventLogs`],
          },
        ],
      },
      context: { tokenId: record.id, tokenName: 'two', spaces: '["alpha","beta"]' },
    });
  });

  it('allows a token for every space the route of any space', async () => {
    const { token } = await createAccessToken(store, { name: 'all' }, () => now);
    const result = await authorize(event(`Bearer ${token}`));
    expect(result.policyDocument.Statement).toEqual([
      { Effect: 'Allow', Action: 'execute-api:Invoke', Resource: [`${STAGE}/POST/v1/spaces/*/eventLogs`] },
    ]);
    expect(result.context?.spaces).toBe('*');
  });

  it('denies the whole stage to a revoked, expired, unknown or wrong token', async () => {
    const { token, record } = await createAccessToken(store, { name: 'x', expiresDays: 1 }, () => now);
    const deny = (id: string) => ({
      principalId: `token/${id}`,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Deny', Action: 'execute-api:Invoke', Resource: `${STAGE}/*` }],
      },
    });
    const secret = token.slice(-43);
    expect(await authorize(event(`Bearer ela_0123456789abcdef_${secret}`))).toEqual(deny('0123456789abcdef'));
    expect(await authorize(event(`Bearer ${token.slice(0, -1)}${token.endsWith('x') ? 'y' : 'x'}`))).toEqual(
      deny(record.id),
    );
    now = NOW + DAY_MS;
    expect(await authorize(event(`Bearer ${token}`))).toEqual(deny(record.id));
    now = NOW;
    await revokeAccessToken(store, { id: record.id }, () => now);
    expect(await authorize(event(`Bearer ${token}`))).toEqual(deny(record.id));
  });

  it('answers Unauthorized (API Gateway: 401) to what is not a bearer token of this archive', async () => {
    for (const header of [
      '',
      'Bearer',
      'Basic dXNlcjpwYXNz',
      'Bearer local',
      'AWS4-HMAC-SHA256 Credential=x',
    ])
      await expect(authorize(event(header)), header).rejects.toThrow(/^Unauthorized$/);
  });

  it('fails (API Gateway: 500) rather than deny when the records cannot be read', async () => {
    const failing = Object.assign(Object.create(store) as LocalStore, {
      get: () => Promise.reject(new Error('S3 is down')),
    });
    const broken = createAuthorizer(() => ({ store: async () => failing, clock: () => now, logger }));
    await expect(broken(event(`Bearer ela_0123456789abcdef_${'A'.repeat(43)}`))).rejects.toThrow(
      'S3 is down',
    );
  });

  it('logs the verdict and the token id, never the token', async () => {
    const lines: string[] = [];
    for (const level of ['info', 'warn', 'error', 'debug'] as const)
      vi.spyOn(logger, level).mockImplementation((...args: unknown[]) => {
        lines.push(JSON.stringify(args));
      });
    const { token, record } = await createAccessToken(store, { name: 'logged' }, () => now);
    await authorize(event(`Bearer ${token}`));
    await revokeAccessToken(store, { id: record.id }, () => now);
    await authorize(event(`Bearer ${token}`));
    await authorize(event('Bearer not-a-token-but-secret')).catch(() => {});
    expect(lines.length).toBe(3);
    expect(lines.join('\n')).toContain(record.id);
    expect(lines.join('\n')).toContain('revoked');
    expect(lines.join('\n')).not.toContain(token.slice(-43));
    expect(lines.join('\n')).not.toContain('not-a-token-but-secret');
  });
});
