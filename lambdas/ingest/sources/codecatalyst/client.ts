/** ListEventLogs through the official `@aws-sdk/client-codecatalyst`, authenticated with a PAT. */
import { CodeCatalystClient, ListEventLogsCommand } from '@aws-sdk/client-codecatalyst';
import { ArchiveError, registerSecret } from '@eventlog-archive/shared';
import { normaliseRecord } from '../../../core/records';
import { getSecretString } from '../../../core/secrets';
import { CODECATALYST_FIELDS } from '../../../core/sources/codecatalyst/schema';
import type { SourceClient, SourceClientOptions } from '../types';
import { FAST_PAGE_MIDDLEWARE, type FastPage, fastPageMiddleware } from './page-reader';

/** No token was configured: locally CODECATALYST_TOKEN, in Lambda CODECATALYST_TOKEN_SECRET_ARN. */
export class MissingTokenError extends ArchiveError {
  constructor() {
    super(
      'no CodeCatalyst token: set CODECATALYST_TOKEN to a personal access token (locally) or CODECATALYST_TOKEN_SECRET_ARN to a Secrets Manager secret holding it (in Lambda)',
    );
    this.name = 'MissingTokenError';
  }
}

/** The token secret is not a token: the message names the rule and never quotes the secret. */
export class TokenSecretFormatError extends ArchiveError {
  constructor() {
    super(
      'CodeCatalyst token secret: must be the token string or JSON {"token": "<personal access token>"} (its value is not shown)',
    );
    this.name = 'TokenSecretFormatError';
  }
}

/**
 * The PAT from a secret's string: the token itself, or JSON `{"token": …}`. A parse error is replaced
 * by a {@link TokenSecretFormatError} without a cause: V8's SyntaxError quotes the text it could not
 * parse (part of the token), and that error would be logged by the Lambda runtime or printed by the
 * CLI, while redaction only masks the whole registered value, not a fragment of it.
 */
export function tokenFromSecretString(secret: string): string {
  const raw = secret.trim();
  if (!raw.startsWith('{')) return raw;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new TokenSecretFormatError();
  }
  const token = (parsed as { token?: unknown } | null)?.token;
  if (typeof token !== 'string' || token.trim() === '') throw new TokenSecretFormatError();
  return token;
}

/** Reads the PAT: from the environment locally, from Secrets Manager in Lambda (plain text or `{"token": …}`). */
export async function resolveCodeCatalystToken(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  let token = env.CODECATALYST_TOKEN;
  const secretArn = env.CODECATALYST_TOKEN_SECRET_ARN;
  if (!token && secretArn) {
    const secret = await getSecretString(secretArn, env);
    // Masked before anything can fail on it, whatever its shape.
    registerSecret(secret);
    registerSecret(secret.trim());
    token = tokenFromSecretString(secret);
  }
  if (!token) throw new MissingTokenError();
  registerSecret(token);
  return token;
}

export async function createCodeCatalystClient(options: SourceClientOptions = {}): Promise<SourceClient> {
  const env = options.env ?? process.env;
  const token = await resolveCodeCatalystToken(env);
  const endpoint = env.AWS_ENDPOINT_URL_CODECATALYST ?? env.AWS_ENDPOINT_URL;
  const client = new CodeCatalystClient({
    // The service is global, but the client refuses to start without a region.
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-west-2',
    ...(endpoint ? { endpoint } : {}),
    token: { token },
    // Retries are ours (shared withRetry): they feed the adaptive concurrency and the metrics.
    maxAttempts: 1,
    requestHandler: { requestTimeout: options.requestTimeoutMs ?? 30_000, connectionTimeout: 5_000 },
  });
  return {
    async listPage({ instance, start, end, nextToken, pageSize, signal }) {
      const command = new ListEventLogsCommand({
        spaceName: instance,
        startTime: new Date(start),
        endTime: new Date(end),
        maxResults: pageSize,
        ...(nextToken ? { nextToken } : {}),
      });
      let fast: FastPage | undefined;
      if (options.fastPageReader !== false)
        command.middlewareStack.add(
          fastPageMiddleware(CODECATALYST_FIELDS, (page) => {
            fast = page;
          }) as never,
          FAST_PAGE_MIDDLEWARE,
        );
      const out = await client.send(command, signal ? { abortSignal: signal } : {});
      if (fast) return fast;
      return {
        items: (out.items ?? []).map((item) =>
          normaliseRecord(CODECATALYST_FIELDS, item as unknown as Record<string, unknown>),
        ),
        nextToken: out.nextToken,
      };
    },
  };
}
