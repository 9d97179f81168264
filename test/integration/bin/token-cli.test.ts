/**
 * `eventlog-archive token create|list|revoke` as a user runs it, on a folder and on an S3 archive
 * (s3rver): the token alone on stdout, listings without secrets, exit 2 for bad arguments, and a
 * token made into the bucket accepted by the authorizer's handler reading that bucket.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthorizer } from '../../../lambdas/authorizer';
import { S3Store } from '../../../lambdas/core/s3-store';
import { createLogger } from '../../../lambdas/shared/src';
import { pinnedClock } from '../../helpers/clock';
import { type ProcessResult, runCli } from '../../helpers/run-process';
import { type S3TestServer, startS3Server } from '../../support/s3-server';

const clock = pinnedClock(Date.UTC(2026, 11, 6, 0, 5));
let work: string;
let archive: string;

function cli(args: string[], env: Record<string, string> = {}): Promise<ProcessResult> {
  return runCli(args, { cwd: work, env, clock });
}

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'token-cli-'));
  archive = path.join(work, 'data');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('token (folder archive)', () => {
  let token: string;

  it('creates a token, printing only it on stdout and what it is on stderr', async () => {
    const run = await cli([
      'token',
      'create',
      '--archive',
      archive,
      '--name',
      'ci',
      '--space',
      'acme-corp',
      '--space',
      'beta',
      '--expires-days',
      '7',
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^ela_[0-9a-f]{16}_[A-Za-z0-9_-]{43}\n$/);
    token = run.stdout.trim();
    expect(run.stderr).toMatch(
      /Created token [0-9a-f]{16} "ci": reads spaces acme-corp, beta, expires 2026-12-13T00:05/,
    );
    expect(run.stderr).toContain('shown only now');
  });

  it('lists tokens without their secrets, as a table and as JSON', async () => {
    const text = await cli(['token', 'list', '--archive', archive]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      /^ID\s+NAME\s+STATUS\s+CREATED\s+EXPIRES\s+READS\n[0-9a-f]{16}\s+ci\s+active\s+2026-12-06T00:05/,
    );
    const json = await cli(['token', 'list', '--archive', archive, '--json']);
    const [listed] = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(listed).toMatchObject({ name: 'ci', status: 'active', spaces: ['acme-corp', 'beta'] });
    expect(Object.keys(listed!).sort()).toEqual(['createdAt', 'expiresAt', 'id', 'name', 'spaces', 'status']);
    expect(text.stdout + json.stdout).not.toContain(token.slice(-43));
  });

  it('revokes by name, shows it revoked, and refuses to revoke it again', async () => {
    const run = await cli(['token', 'revoke', '--archive', archive, '--name', 'ci']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Revoked token [0-9a-f]{16} "ci" at 2026-12-06T00:05/);
    const json = await cli(['token', 'list', '--archive', archive, '--json']);
    expect(JSON.parse(json.stdout)[0]).toMatchObject({ status: 'revoked' });
    const again = await cli(['token', 'revoke', '--archive', archive, '--name', 'ci']);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe('eventlog-archive token: --name: no active or expired token is named "ci"\n');
  });

  it.each([
    [['token'], 'a subcommand is required: create, list or revoke'],
    [['token', 'rotate', '--archive', 'x'], 'unknown subcommand "rotate" (create, list or revoke)'],
    [['token', 'create', '--archive', 'x'], '--name: is required'],
    [
      ['token', 'create', '--archive', 'x', '--name', 'n', '--expires-days', '0'],
      '--expires-days: must be an integer from 1 to 3650',
    ],
    [
      ['token', 'create', '--archive', 'x', '--name', 'n', '--space', 'no/slash'],
      '--space: must match the pattern',
    ],
    [['token', 'revoke', '--archive', 'x'], '--id or --name: give exactly one'],
    [['serve', '--archive', 'x', '--auth', 'basic'], '--auth: must be none or token'],
  ])('exits 2 for %j, naming the argument', async (args, message) => {
    const run = await cli(args);
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')[0]).toContain(message);
    expect(run.stdout).toBe('');
  });
});

describe('token (S3 archive)', () => {
  let s3: S3TestServer;
  beforeAll(async () => {
    s3 = await startS3Server({ buckets: ['token-bucket'] });
  });
  afterAll(async () => s3?.close());

  it('writes the record into the bucket, where the authorizer reads and accepts it', async () => {
    const env = {
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    };
    const run = await cli(
      ['token', 'create', '--archive', 's3://token-bucket/archive', '--name', 'sdk'],
      env,
    );
    expect(run.stderr).toContain('Created token');
    expect(run.code).toBe(0);
    const store = new S3Store('token-bucket', 'archive/', s3.client());
    const authorize = createAuthorizer(() => ({
      store: async () => store,
      clock,
      logger: createLogger({ logLevel: 'SILENT' }),
    }));
    const result = await authorize({
      type: 'TOKEN',
      authorizationToken: `Bearer ${run.stdout.trim()}`,
      methodArn: 'arn:aws:execute-api:us-east-1:123456789012:abc123/prod/POST/v1/spaces/acme-corp/eventLogs',
    });
    expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
    expect(result.context).toMatchObject({ tokenName: 'sdk', spaces: '*' });
  });
});
