/**
 * ListEventLogs, the one CodeCatalyst call the ingest makes: a POST of a small JSON body with the
 * personal access token as a bearer token
 * (https://docs.aws.amazon.com/codecatalyst/latest/APIReference/API_ListEventLogs.html).
 *
 * Why not `@aws-sdk/client-codecatalyst`: the ingest's main thread is what limits a backfill, and the
 * client's middleware stack (endpoint rules, user agent, retry and serde plumbing, with retries off)
 * cost ~300 µs of it per request; it also made a tenth of the function bundle (63 KB). This client
 * sends what the official one sends (method, path, content type, the body its serializer writes) over
 * a keep-alive connection pool, reads ordinary pages with the fast page reader and every other page
 * as the SDK's deserializer does (./page-reader.ts), and decodes errors as restJson1 does (the type
 * from `x-amzn-errortype`, else the body's `__type` or `code`). Tests run it and the official client
 * against the same local servers and compare (test/unit/ingest/sources/page-reader.test.ts).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ArchiveError, type DeferredPage, registerSecret } from '@eventlog-archive/shared';
import { endpointFor, restJsonError, rfc3986 } from '../../../core/aws-request';
import type { ArchiveRecord } from '../../../core/records';
import { getSecretString } from '../../../core/secrets';
import { CODECATALYST_FIELDS } from '../../../core/sources/codecatalyst/schema';
import type { PageRequest, SourceClient, SourceClientOptions } from '../types';
import { readEventLogPage, readEventLogPageAsSdk } from './page-reader';

/** The endpoint the official client resolves for every Region (the service is global). */
export const CODECATALYST_ENDPOINT = 'https://codecatalyst.global.api.aws';
/** With `AWS_USE_FIPS_ENDPOINT=true`, as the official client's endpoint rules have it. */
export const CODECATALYST_FIPS_ENDPOINT = 'https://codecatalyst-fips.global.api.aws';
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const CONNECTION_TIMEOUT_MS = 5_000;
/** Sockets kept per client: above the ingest's page concurrency (DEFAULT_SETTINGS.maxConcurrency). */
const MAX_SOCKETS = 64;

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

/** The request was not answered in time (a name the pipeline's retry classifies as transient). */
export class RequestTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimeoutError';
  }
}

/** The body of a ListEventLogs request as the official client's serializer writes it (same key order). */
export function listEventLogsBody(input: {
  startTime: Date;
  endTime: Date;
  maxResults?: number;
  nextToken?: string;
  eventName?: string;
}): string {
  // `__serializeDateTime` of @smithy/smithy-client: ISO 8601, whole seconds without `.000`.
  const time = (d: Date): string => d.toISOString().replace('.000Z', 'Z');
  return JSON.stringify({
    endTime: time(input.endTime),
    ...(input.eventName !== undefined ? { eventName: input.eventName } : {}),
    ...(input.maxResults !== undefined ? { maxResults: input.maxResults } : {}),
    ...(input.nextToken !== undefined ? { nextToken: input.nextToken } : {}),
    startTime: time(input.startTime),
  });
}

const NEXT_TOKEN_KEY = Buffer.from('"nextToken":"');

/**
 * The next page's token as the raw body names it, before the body is parsed: the value of the last
 * `"nextToken":"…"` key (a quote inside a JSON string is always escaped, so the text can only be a
 * key), when it has no escapes. It may be an item's field of that name rather than the page's:
 * the paginator checks the guess against the parsed page and drops a wrong one.
 */
export function guessNextToken(body: Buffer): string | undefined {
  const at = body.lastIndexOf(NEXT_TOKEN_KEY);
  if (at < 0) return undefined;
  const from = at + NEXT_TOKEN_KEY.length;
  const to = body.indexOf(0x22, from);
  if (to < 0) return undefined;
  const value = body.toString('utf8', from, to);
  return value.includes('\\') ? undefined : value;
}

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export async function createCodeCatalystClient(options: SourceClientOptions = {}): Promise<SourceClient> {
  const env = options.env ?? process.env;
  const token = await resolveCodeCatalystToken(env);
  const base = new URL(
    endpointFor(
      'CODECATALYST',
      env.AWS_USE_FIPS_ENDPOINT === 'true' ? CODECATALYST_FIPS_ENDPOINT : CODECATALYST_ENDPOINT,
      env,
    ),
  );
  const https = base.protocol === 'https:';
  const send = https ? httpsRequest : httpRequest;
  const agent = https
    ? new HttpsAgent({ keepAlive: true, maxSockets: MAX_SOCKETS })
    : new HttpAgent({ keepAlive: true, maxSockets: MAX_SOCKETS });
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const prefix = base.pathname.replace(/\/+$/, '');
  const headers = {
    'content-type': 'application/json',
    authorization: `Bearer ${token}`,
    'user-agent': 'eventlog-archive',
  };

  const post = (path: string, body: string, signal: AbortSignal | undefined): Promise<RawResponse> =>
    new Promise<RawResponse>((resolve, reject) => {
      const req = send(
        {
          protocol: base.protocol,
          hostname: base.hostname,
          port: base.port,
          path,
          method: 'POST',
          headers: { ...headers, 'content-length': Buffer.byteLength(body) },
          agent,
          // An idle socket for this long ends the request (the official client's requestTimeout).
          timeout: requestTimeoutMs,
          ...(signal ? { signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          // A body cut short ends in 'error' (`aborted`, ECONNRESET): a transient fault.
          res.on('error', reject);
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks),
            }),
          );
        },
      );
      req.on('error', reject);
      req.on('timeout', () =>
        req.destroy(new RequestTimeoutError(`ListEventLogs: no answer within ${requestTimeoutMs} ms`)),
      );
      req.on('socket', (socket) => {
        if (!socket.connecting) return;
        const timer = setTimeout(
          () =>
            req.destroy(
              new RequestTimeoutError(
                `ListEventLogs: no connection to ${base.host} within ${CONNECTION_TIMEOUT_MS} ms`,
              ),
            ),
          CONNECTION_TIMEOUT_MS,
        );
        socket.once('connect', () => clearTimeout(timer));
        socket.once('close', () => clearTimeout(timer));
      });
      req.end(body);
    });

  const listPageDeferred = async ({
    instance,
    start,
    end,
    nextToken,
    pageSize,
    signal,
  }: PageRequest): Promise<DeferredPage<ArchiveRecord>> => {
    const response = await post(
      `${prefix}/v1/spaces/${rfc3986(instance)}/eventLogs`,
      listEventLogsBody({
        startTime: new Date(start),
        endTime: new Date(end),
        maxResults: pageSize,
        ...(nextToken ? { nextToken } : {}),
      }),
      signal,
    );
    // The official client's test: any status below 300 is an answer.
    if (response.status >= 300) {
      const type = response.headers['x-amzn-errortype'];
      throw restJsonError(
        'ListEventLogs',
        response.status,
        typeof type === 'string' ? type : undefined,
        response.body.toString('utf8'),
      );
    }
    const body = response.body;
    return {
      nextTokenGuess: guessNextToken(body),
      read: async () => {
        // After the I/O already waiting: other answers ask for their next pages before this parse.
        await nextTurn();
        const text = body.toString('utf8');
        if (options.fastPageReader !== false) {
          const page = readEventLogPage(CODECATALYST_FIELDS, text);
          if (page) return page;
        }
        return readEventLogPageAsSdk(CODECATALYST_FIELDS, text);
      },
    };
  };

  return {
    listPageDeferred,
    async listPage(request) {
      return (await listPageDeferred(request)).read();
    },
  };
}
