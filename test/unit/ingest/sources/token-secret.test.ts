/**
 * A malformed CodeCatalyst token secret never puts a fragment of the token into an error or a log
 * line. The secret is served by a local Secrets Manager (SigV4-checked) and read by the code the ingest
 * Lambda runs; the thrown error (message, stack, cause chain, inspection) and everything the
 * project's logger prints while handling it are searched for any 6-character piece of the canary.
 */
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  resolveCodeCatalystToken,
  TokenSecretFormatError,
  tokenFromSecretString,
} from '../../../../lambdas/ingest/sources/codecatalyst/client';
import { createLogger } from '../../../../lambdas/shared/src/logger';
import { type SecretsManagerStub, startSecretsManagerStub } from '../../../helpers/secrets-manager-stub';

const CANARY = 'pat-CANARY-1234567890';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:eventlog-archive/pat-AbCdEf';
const MESSAGE =
  'CodeCatalyst token secret: must be the token string or JSON {"token": "<personal access token>"} (its value is not shown)';

/** Every 6-character piece of the canary found in `text`. */
function fragments(text: string): string[] {
  const found = new Set<string>();
  for (let i = 0; i + 6 <= CANARY.length; i++) {
    const piece = CANARY.slice(i, i + 6);
    if (text.includes(piece)) found.add(piece);
  }
  return [...found];
}

/** All an error can show: message, stack, its inspection, JSON, and the same for each cause. */
function everythingIn(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 10; depth++) {
    const error = e as Error & { cause?: unknown };
    parts.push(String(error.message), String(error.stack), inspect(error, { depth: 5 }), String(error));
    try {
      parts.push(JSON.stringify(error));
    } catch {
      // circular: the inspection above has it
    }
    e = error.cause;
  }
  return parts.join('\n');
}

const MALFORMED: [string, string][] = [
  ['cut off inside the token', `{"token": "${CANARY}`],
  ['cut off after the token', `{"token": "${CANARY}"`],
  ['the token unquoted', `{"token": ${CANARY}}`],
  ['single quotes', `{'token': '${CANARY}'}`],
  ['a trailing comma', `{"token": "${CANARY}",}`],
  ['a brace too many', `{"token": "${CANARY}"}}`],
  ['a bare brace before the token', `{${CANARY}`],
  ['a raw control character inside the string', `{"token": "${CANARY}\u0001"}`],
  ['the token under another name', `{"tokn": "${CANARY}"}`],
  ['the token not a string', `{"token": ["${CANARY}"]}`],
  ['null as JSON object member', `{"token": null, "x": "${CANARY}"}`],
];

describe('tokenFromSecretString', () => {
  it.each([
    ['the token itself', CANARY],
    ['the token with surrounding whitespace', `  ${CANARY}\n`],
    ['JSON with a token member', JSON.stringify({ token: CANARY })],
    ['JSON with more members', JSON.stringify({ user: 'me', token: CANARY })],
  ])('reads %s', (_name, secret) => {
    expect(tokenFromSecretString(secret)).toBe(CANARY);
  });

  it.each(MALFORMED)('refuses %s with a fixed message and no cause', (_name, secret) => {
    let thrown: unknown;
    try {
      tokenFromSecretString(secret);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(TokenSecretFormatError);
    expect((thrown as Error).message).toBe(MESSAGE);
    expect((thrown as Error).cause).toBeUndefined();
    expect(fragments(everythingIn(thrown))).toEqual([]);
  });
});

describe('the token secret read from Secrets Manager', () => {
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  let stub: SecretsManagerStub | undefined;
  beforeAll(() => {
    // Signed requests take credentials from the default chain, which reads the process environment.
    process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'secret-for-the-stub';
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await stub?.close();
    stub = undefined;
  });
  afterAll(() => {
    for (const [name, value] of [
      ['AWS_ACCESS_KEY_ID', saved.id],
      ['AWS_SECRET_ACCESS_KEY', saved.secret],
    ] as const)
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
  });

  it.each(MALFORMED)(
    'a secret with %s: no piece of the token in the error or in what the logger prints',
    async (_name, secret) => {
      stub = await startSecretsManagerStub(SECRET_ARN, secret);
      const printed: string[] = [];
      const capture = (chunk: unknown): boolean => {
        printed.push(String(chunk));
        return true;
      };
      vi.spyOn(process.stdout, 'write').mockImplementation(capture as never);
      vi.spyOn(process.stderr, 'write').mockImplementation(capture as never);
      const logger = createLogger({ serviceName: 'token-secret-test', logLevel: 'DEBUG' });

      let thrown: unknown;
      try {
        await resolveCodeCatalystToken({
          CODECATALYST_TOKEN_SECRET_ARN: SECRET_ARN,
          AWS_ENDPOINT_URL_SECRETS_MANAGER: stub.url,
          AWS_REGION: 'us-east-1',
        });
      } catch (err) {
        thrown = err;
        // What the handler's caller does with it: the Lambda runtime logs it, the CLI prints it.
        logger.error('ingest failed', err as Error);
        logger.error('ingest failed', { error: String(err), detail: inspect(err) });
      }
      // The whole secret, should anything log it, is masked: it was registered before parsing.
      logger.debug('secret as read', { value: secret });
      vi.restoreAllMocks();

      expect(stub.requests).toBe(1);
      expect(thrown).toBeInstanceOf(TokenSecretFormatError);
      expect(fragments(everythingIn(thrown))).toEqual([]);
      const output = printed.join('');
      expect(output).toContain('CodeCatalyst token secret: must be the token string');
      expect(output).toContain('[REDACTED]');
      expect(fragments(output)).toEqual([]);
    },
  );

  it('a well-formed secret still yields the token', async () => {
    stub = await startSecretsManagerStub(SECRET_ARN, JSON.stringify({ token: CANARY }));
    await expect(
      resolveCodeCatalystToken({
        CODECATALYST_TOKEN_SECRET_ARN: SECRET_ARN,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: stub.url,
        AWS_REGION: 'us-east-1',
      }),
    ).resolves.toBe(CANARY);
  });
});
