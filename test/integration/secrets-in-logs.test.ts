/**
 * Secrets never reach the logs. Every run is a real process whose whole output (stdout and stderr,
 * at DEBUG level) is captured:
 * (a) the CLI ingest of a CodeCatalyst space with a PAT, the source throttling, failing and
 *     resetting (so retries are logged), into an S3 archive (SigV4, with a session token) that
 *     answers 500s and drops connections;
 * (b) the CLI ingest of a Resilience Hub system (SigV4 with a session token, throttles and 500s);
 * (c) the ingest Lambda handler, from the sources, with the PAT read from Secrets Manager;
 * (d) `serve` answering pages with nextTokens, a forged token and an unknown space, to requests that
 *     carry Authorization and security-token headers.
 * Every request of (a)–(c) passes a recording proxy, so the check knows the exact Authorization and
 * X-Amz-Security-Token values sent and looks for them, not only for patterns. A control run proves
 * the scan finds a leak when one is there.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_TOKEN_KEY } from '../../lambdas/query/next-token';
import { DAY_MS, HOUR_MS } from '../../lambdas/shared/src/time';
import { clockEnv, fakedSystemClockEnv, pinnedClock } from '../helpers/clock';
import { type ProcessResult, runProcess } from '../helpers/run-process';
import { type SecretsManagerStub, startSecretsManagerStub } from '../helpers/secrets-manager-stub';
import { type CodeCatalystServer, startCodeCatalystServer } from '../support/codecatalyst-server';
import {
  type ResilienceHubServer,
  startResilienceHubServer,
  TEST_CREDENTIALS,
} from '../support/resiliencehub-server';
import { type S3TestServer, startS3Server } from '../support/s3-server';
import { generateEvents } from '../support/sample-events';
import { generateSystemEvents } from '../support/sample-system-events';

const CLI = path.resolve('bin/eventlog-archive.js');
const PAT = 'pat-CANARY-codecatalyst-7f3a9c1e5b2d4f60';
const LAMBDA_PAT = 'pat-CANARY-from-secrets-manager-0c4e8a2f';
// s3rver knows only the key id S3RVER; it does not check signatures, so the secret can be a canary.
const S3_KEY = {
  id: 'S3RVER',
  secret: 'CanarySecretKey/s3+NeverLog0123456789abcd',
  session: 'CanarySessionToken//s3+NeverLog0123456789==',
};
const RH_KEY = TEST_CREDENTIALS.find((c) => c.sessionToken)!;
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:eventlog-archive/pat-CaNaRy';
const SPACE = 'secret-space';
const ARN = 'arn:aws:resiliencehub:us-west-2:123456789012:system/secret-checkout';
const BUCKET = 'secret-bucket';

/** A forwarding proxy that records the credentials of every request it passes on (Host kept: SigV4 signs it). */
interface RecordingProxy {
  url: string;
  authorizations: Set<string>;
  securityTokens: Set<string>;
  close(): Promise<void>;
}

async function startRecordingProxy(upstream: string): Promise<RecordingProxy> {
  const target = new URL(upstream);
  const proxy: RecordingProxy = {
    url: '',
    authorizations: new Set(),
    securityTokens: new Set(),
    close: async () => undefined,
  };
  const server: Server = createServer((req, res) => {
    if (req.headers.authorization) proxy.authorizations.add(req.headers.authorization);
    const token = req.headers['x-amz-security-token'];
    if (typeof token === 'string') proxy.securityTokens.add(token);
    const forward = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    // A reset upstream (an injected fault) is a reset here too.
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return proxy;
}

/** Everything that must never appear in any output. */
function secretsToFind(proxies: RecordingProxy[]): Map<string, string> {
  const found = new Map<string, string>([
    [PAT, 'the CodeCatalyst PAT'],
    [LAMBDA_PAT, 'the PAT from Secrets Manager'],
    [`Bearer ${PAT}`, 'the bearer header'],
    [S3_KEY.secret, 'the S3 secret access key'],
    [S3_KEY.session, 'the S3 session token'],
    [RH_KEY.secretAccessKey, 'the Resilience Hub secret access key'],
    [RH_KEY.sessionToken!, 'the Resilience Hub session token'],
    ['CLIENT-AUTH-CANARY-9d1f', 'the Authorization header sent to serve'],
    ['CLIENT-SECURITY-TOKEN-CANARY-5e2a', 'the security token sent to serve'],
  ]);
  for (const [value, what] of digestKeySecrets()) found.set(value, what);
  for (const proxy of proxies) {
    for (const value of proxy.authorizations) {
      found.set(value, 'an Authorization header value');
      const signature = /Signature=([0-9a-f]{64})/.exec(value)?.[1];
      if (signature) found.set(signature, 'a SigV4 signature');
    }
    for (const value of proxy.securityTokens) found.set(value, 'an X-Amz-Security-Token value');
  }
  return found;
}

/** What the scan reports: each secret found, and credential patterns that were not masked. */
function leaks(output: string, secrets: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [value, what] of secrets) if (output.includes(value)) out.push(what);
  const patterns: Array<[RegExp, string]> = [
    [/Bearer\s+(?!\[REDACTED\])[A-Za-z0-9._~+/=-]{6,}/i, 'a bearer token'],
    [/Signature=(?!\[REDACTED\])[0-9a-f]{16,}/i, 'a Signature= value'],
    [/X-Amz-Signature=(?!\[REDACTED\])[0-9a-f]{16,}/i, 'an X-Amz-Signature value'],
    [/"authorization"\s*:\s*"(?!\[REDACTED\])/i, 'an authorization attribute'],
    [/"x-amz-security-token"\s*:\s*"(?!\[REDACTED\])/i, 'a security token attribute'],
  ];
  for (const [pattern, what] of patterns) if (pattern.test(output)) out.push(what);
  return out;
}

let work: string;
let cc: CodeCatalystServer;
let rh: ResilienceHubServer;
let s3: S3TestServer;
let secrets: SecretsManagerStub;
let ccProxy: RecordingProxy;
let rhProxy: RecordingProxy;
let s3Proxy: RecordingProxy;
let smProxy: RecordingProxy;
const outputs: Record<string, string> = {};
// Every run (CLI, handler, serve) and the sources read this clock: 00:05 UTC, a day boundary behind.
const clock = pinnedClock(Date.UTC(2026, 11, 6, 0, 5));

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'secrets-in-logs-'));
  const now = clock();
  cc = await startCodeCatalystServer({
    now: clock,
    tokens: [PAT, LAMBDA_PAT],
    spaces: {
      [SPACE]: generateEvents({ count: 1_500, fromMs: now - 2 * DAY_MS, toMs: now - 3 * HOUR_MS, seed: 13 }),
    },
    faults: { throttle: 0.15, serverError: 0.1, reset: 0.05 },
    seed: 3,
  });
  rh = await startResilienceHubServer({
    now: clock,
    systems: {
      [ARN]: generateSystemEvents({
        count: 300,
        fromMs: now - 2 * DAY_MS,
        toMs: now - 3 * HOUR_MS,
        systemArn: ARN,
        seed: 14,
      }),
    },
    faults: { throttle: 0.15, serverError: 0.1 },
    region: 'us-west-2',
  });
  s3 = await startS3Server({ buckets: [BUCKET], faults: { internalError: 0.1, drop: 0.05 }, seed: 9 });
  secrets = await startSecretsManagerStub(SECRET_ARN, JSON.stringify({ token: LAMBDA_PAT }));
  [ccProxy, rhProxy, s3Proxy, smProxy] = await Promise.all([
    startRecordingProxy(cc.url),
    startRecordingProxy(rh.url),
    startRecordingProxy(s3.endpoint),
    startRecordingProxy(secrets.url),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([ccProxy, rhProxy, s3Proxy, smProxy].map((p) => p?.close()));
  await Promise.all([cc?.close(), rh?.close(), s3?.close(), secrets?.close()]);
  rmSync(work, { recursive: true, force: true });
});

/** Logs at DEBUG, the most a user can turn on. */
const debugEnv = (): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH ?? '',
  HOME: work,
  POWERTOOLS_LOG_LEVEL: 'DEBUG',
  LOG_LEVEL: 'DEBUG',
  AWS_REGION: 'us-east-1',
  ...fakedSystemClockEnv(),
  ...clockEnv(clock),
});

const all = (r: ProcessResult): string => `${r.stdout}\n${r.stderr}`;

/** The PEM key an S3 archive signs its digests with (created by the first run that needs it). */
const digestKeyFile = (): string => path.join(work, 'digest-signing-key.pem');

/** The private key's base64 lines: a secret once the file exists. */
function digestKeySecrets(): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(digestKeyFile())) return out;
  for (const line of readFileSync(digestKeyFile(), 'utf8').split('\n'))
    if (line.length >= 16 && !line.startsWith('-----')) out.set(line, 'the digest signing key');
  return out;
}

describe('secrets in the logs', () => {
  it('(a) a CodeCatalyst ingest into S3 with retries logs no PAT, key, token or signature', async () => {
    const run = await runProcess(
      process.execPath,
      [
        CLI,
        'ingest',
        '--source',
        'codecatalyst',
        '--space',
        SPACE,
        '--archive',
        `s3://${BUCKET}/a`,
        '--backfill-days',
        '2',
      ],
      {
        cwd: work,
        env: {
          ...debugEnv(),
          CODECATALYST_TOKEN: PAT,
          AWS_ENDPOINT_URL_CODECATALYST: ccProxy.url,
          AWS_ENDPOINT_URL_S3: s3Proxy.url,
          AWS_ACCESS_KEY_ID: S3_KEY.id,
          AWS_SECRET_ACCESS_KEY: S3_KEY.secret,
          AWS_SESSION_TOKEN: S3_KEY.session,
          DIGEST_SIGNING_KEY_FILE: digestKeyFile(),
        },
      },
    );
    outputs.a = all(run);
    expect(run.code, outputs.a.slice(-2_000)).toBe(0);
    // The capture holds the run's debug and retry lines: the scan reads real log output.
    expect(outputs.a).toMatch(/"level":"DEBUG"/);
    expect(outputs.a).toMatch(/^\{"level":"(DEBUG|INFO|WARN)"[^\n]*(retr|throttl)/im);
    expect(cc.stats.faults.throttle + cc.stats.faults.serverError).toBeGreaterThan(0);
    expect(s3.stats.faults.internalError + s3.stats.faults.drop).toBeGreaterThan(0);
    expect(s3Proxy.authorizations.size).toBeGreaterThan(10);
    expect(s3Proxy.securityTokens).toEqual(new Set([S3_KEY.session]));
    expect(leaks(outputs.a, secretsToFind([ccProxy, s3Proxy]))).toEqual([]);
  }, 120_000);

  it('(b) a Resilience Hub ingest (SigV4 with a session token) logs no key, token or signature', async () => {
    const run = await runProcess(
      process.execPath,
      [
        CLI,
        'ingest',
        '--source',
        'resiliencehub',
        '--system-arn',
        ARN,
        '--archive',
        './rh',
        '--backfill-days',
        '2',
      ],
      {
        cwd: work,
        env: {
          ...debugEnv(),
          AWS_ENDPOINT_URL_RESILIENCEHUBV2: rhProxy.url,
          AWS_ACCESS_KEY_ID: RH_KEY.accessKeyId,
          AWS_SECRET_ACCESS_KEY: RH_KEY.secretAccessKey,
          AWS_SESSION_TOKEN: RH_KEY.sessionToken!,
        },
      },
    );
    outputs.b = all(run);
    expect(run.code, outputs.b.slice(-2_000)).toBe(0);
    expect(outputs.b).toMatch(/"level":"DEBUG"/);
    expect(rh.stats.faults.throttle + rh.stats.faults.serverError).toBeGreaterThan(0);
    expect(rhProxy.authorizations.size).toBeGreaterThan(5);
    expect(leaks(outputs.b, secretsToFind([rhProxy]))).toEqual([]);
  }, 120_000);

  it('(c) the ingest Lambda handler with the PAT from Secrets Manager logs no secret', async () => {
    const runner = path.join(work, 'invoke.mjs');
    const tsx = pathToFileURL(path.resolve('node_modules/tsx/dist/esm/api/index.mjs')).href;
    const handlerUrl = pathToFileURL(path.resolve('lambdas/ingest/index.ts')).href;
    writeFileSync(
      runner,
      `import { register } from ${JSON.stringify(tsx)};
register();
const { handler } = await import(${JSON.stringify(handlerUrl)});
const context = { awsRequestId: 'req-canary-visible-1234', functionName: 'ingest', functionVersion: '$LATEST',
  memoryLimitInMB: '1024', invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:ingest',
  getRemainingTimeInMillis: () => 900000 };
const result = await handler({ source: 'codecatalyst', instance: ${JSON.stringify(SPACE)} }, context);
process.stdout.write('RESULT ' + JSON.stringify(result) + '\\n');
`,
    );
    const run = await runProcess(process.execPath, [runner], {
      cwd: path.resolve('.'),
      env: {
        ...debugEnv(),
        POWERTOOLS_SERVICE_NAME: 'eventlog-archive-ingest',
        ARCHIVE_URI: `s3://${BUCKET}/lambda`,
        BACKFILL_DAYS: '2',
        CODECATALYST_TOKEN_SECRET_ARN: SECRET_ARN,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: smProxy.url,
        AWS_ENDPOINT_URL_CODECATALYST: ccProxy.url,
        AWS_ENDPOINT_URL_S3: s3Proxy.url,
        AWS_ACCESS_KEY_ID: S3_KEY.id,
        AWS_SECRET_ACCESS_KEY: S3_KEY.secret,
        AWS_SESSION_TOKEN: S3_KEY.session,
        DIGEST_SIGNING_KEY_FILE: digestKeyFile(),
      },
    });
    outputs.c = all(run);
    expect(run.code, outputs.c.slice(-2_000)).toBe(0);
    expect(outputs.c).toMatch(/^RESULT /m);
    // The capture holds the handler's own log lines (the correlation id is the request id).
    expect(outputs.c).toContain('req-canary-visible-1234');
    expect(secrets.requests).toBeGreaterThan(0);
    expect(smProxy.authorizations.size).toBeGreaterThan(0);
    expect(leaks(outputs.c, secretsToFind([ccProxy, s3Proxy, smProxy]))).toEqual([]);
  }, 120_000);

  it('(d) serve answering pages, a forged token and an unknown space logs no credential', async () => {
    const child: ChildProcessWithoutNullStreams = spawn(
      process.execPath,
      [CLI, 'serve', '--archive', path.join(work, 'rh'), '--port', '0'],
      { cwd: work, env: debugEnv() },
    );
    let output = '';
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      output += c.toString();
    });
    const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve not ready: ${output}`)), 30_000);
        const check = (): void => {
          const m = /http:\/\/127\.0\.0\.1:\d+/.exec(output);
          if (m) {
            clearTimeout(timer);
            resolve(m[0]);
          } else setTimeout(check, 50);
        };
        check();
      });
      const headers = {
        authorization:
          'AWS4-HMAC-SHA256 Credential=AKIACLIENT/20260101/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=CLIENT-AUTH-CANARY-9d1f',
        'x-amz-security-token': 'CLIENT-SECURITY-TOKEN-CANARY-5e2a',
      };
      const list = (token?: string) =>
        fetch(
          `${url}/v2/list-system-events?systemArn=${encodeURIComponent(ARN)}&maxResults=7${token ? `&nextToken=${encodeURIComponent(token)}` : ''}`,
          { headers },
        );
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await list(token);
        expect(page.status).toBe(200);
        token = ((await page.json()) as { nextToken?: string }).nextToken;
        pages++;
      } while (token && pages < 5);
      expect(pages).toBe(5);
      const forged = await list('eyJmb3JnZWQiOnRydWV9.AAAA');
      expect(forged.status).toBe(400);
      const unknown = await fetch(`${url}/v1/spaces/no-such-space/eventLogs`, {
        method: 'POST',
        headers: { ...headers, authorization: `Bearer ${PAT}`, 'content-type': 'application/json' },
        body: JSON.stringify({ startTime: '2026-01-01T00:00:00Z', endTime: '2026-01-02T00:00:00Z' }),
      });
      expect(unknown.status).toBe(404);
    } finally {
      child.kill('SIGTERM');
      await closed;
    }
    outputs.d = output;
    // The capture holds the request log lines of these requests.
    expect(output).toMatch(/"message":"request"/);
    expect(output).toMatch(/"status":400/);
    // The nextToken signing key the server created for the pages is a secret too.
    const key = readFileSync(path.join(work, 'rh', LOCAL_TOKEN_KEY));
    const secretsOfServe = secretsToFind([]);
    secretsOfServe.set(key.toString('base64'), 'the nextToken key (base64)');
    secretsOfServe.set(key.toString('hex'), 'the nextToken key (hex)');
    expect(leaks(output, secretsOfServe)).toEqual([]);
  }, 60_000);

  it('the scan finds a secret written through an unmasked path (control run)', async () => {
    const run = await runProcess(
      process.execPath,
      [
        '-e',
        `process.stderr.write(JSON.stringify({ level: 'DEBUG', headers: { authorization: process.env.LEAK_AUTH } }) + '\\n' + process.env.CODECATALYST_TOKEN + '\\n');`,
      ],
      {
        cwd: work,
        env: {
          PATH: process.env.PATH ?? '',
          CODECATALYST_TOKEN: PAT,
          LEAK_AUTH: [...s3Proxy.authorizations][0]!,
        },
      },
    );
    const found = leaks(all(run), secretsToFind([s3Proxy]));
    expect(found).toContain('the CodeCatalyst PAT');
    expect(found).toContain('an Authorization header value');
    expect(found).toContain('a SigV4 signature');
    expect(found).toContain('a Signature= value');
    expect(found).toContain('an authorization attribute');
  });
});
