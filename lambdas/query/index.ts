/**
 * Query Lambda: API Gateway (REST API, Lambda proxy integration) → {@link handleApiRequest}, with
 * Athena as the engine, the coverage ledger in S3 as the catalog and a Secrets Manager secret as
 * the nextToken key.
 *
 * Environment (all read on the first request, so a bad value is a logged 500, not a crash loop):
 * - `ARCHIVE_URI`: `s3://bucket[/prefix]` of the archive (its ledger decides which spaces exist)
 * - `ATHENA_WORKGROUP`, `GLUE_DATABASE`: where the Athena engine runs its queries
 * - `TOKEN_KEY_SECRET_ARN`: the secret holding the nextToken HMAC key(s) (see next-token.ts)
 * - `TOKEN_TTL_SECONDS` (optional, default 86400): how long a nextToken stays valid
 * - `QUERY_TIMEOUT_MS` (optional): how long one Athena query may run (below API Gateway's 29 s)
 * - `BYTES_SCANNED_CUTOFF_MB` (optional): the workgroup's cutoff, named in the 402 of a query it stopped
 */
import { ArchiveError, clockFromEnv, createLogger } from '@eventlog-archive/shared';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { type ApiDeps, type ApiRequest, handleApiRequest } from './api';
import { createAthenaEngine } from './athena-engine';
import type { QueryEngine } from './engine';
import { DEFAULT_TOKEN_TTL_SECONDS, loadSecretTokenKeys, NextTokenCodec } from './next-token';
import { s3Catalog } from './s3-catalog';

const logger = createLogger({ serviceName: 'eventlog-archive-query' });

/** The function's configuration, checked with messages that name the variable. */
export interface QueryConfig {
  bucket: string;
  /** `''` or ending in `/`. */
  prefix: string;
  workGroup: string;
  database: string;
  tokenSecretArn: string;
  tokenTtlSeconds: number;
  queryTimeoutMs?: number;
  /** The workgroup's bytes-scanned cutoff, in bytes. */
  bytesScannedCutoff?: number;
}

export function configFromEnv(env: NodeJS.ProcessEnv): QueryConfig {
  const required = (name: string): string => {
    const value = env[name];
    if (!value) throw new ArchiveError(`${name}: is required`);
    return value;
  };
  const int = (name: string, min: number, max: number): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max)
      throw new ArchiveError(`${name}: must be an integer from ${min} to ${max} (got "${raw}")`);
    return n;
  };
  const uri = required('ARCHIVE_URI');
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(uri);
  if (!m) throw new ArchiveError(`ARCHIVE_URI: must be s3://bucket[/prefix] (got "${uri}")`);
  const prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
  const queryTimeoutMs = int('QUERY_TIMEOUT_MS', 1_000, 900_000);
  const cutoffMb = int('BYTES_SCANNED_CUTOFF_MB', 10, 10_000_000);
  return {
    bucket: m[1]!,
    prefix: prefix ? `${prefix}/` : '',
    workGroup: required('ATHENA_WORKGROUP'),
    database: required('GLUE_DATABASE'),
    tokenSecretArn: required('TOKEN_KEY_SECRET_ARN'),
    tokenTtlSeconds: int('TOKEN_TTL_SECONDS', 60, 30 * 24 * 3600) ?? DEFAULT_TOKEN_TTL_SECONDS,
    ...(queryTimeoutMs !== undefined ? { queryTimeoutMs } : {}),
    ...(cutoffMb !== undefined ? { bytesScannedCutoff: cutoffMb * 2 ** 20 } : {}),
  };
}

/** How long fetched token keys are used before the secret is read again (picks up rotations). */
const KEY_REFRESH_MS = 10 * 60_000;

/** The dependencies of the API in AWS, built once per execution environment. */
export function depsFromConfig(config: QueryConfig, env: NodeJS.ProcessEnv = process.env): ApiDeps {
  const clock = clockFromEnv(env);
  let engine: Promise<QueryEngine> | undefined;
  let codec: { value: NextTokenCodec; at: number } | undefined;
  let loading: Promise<NextTokenCodec> | undefined;
  const loadCodec = (): Promise<NextTokenCodec> => {
    loading ??= loadSecretTokenKeys(config.tokenSecretArn, env)
      .then((keys) => {
        const value = new NextTokenCodec({ keys, ttlSeconds: config.tokenTtlSeconds, now: clock });
        codec = { value, at: clock() };
        return value;
      })
      .finally(() => {
        loading = undefined;
      });
    return loading;
  };
  return {
    engine: () => {
      if (!engine) {
        engine = Promise.resolve().then(() =>
          createAthenaEngine({
            workGroup: config.workGroup,
            database: config.database,
            logger,
            ...(config.queryTimeoutMs !== undefined ? { timeoutMs: config.queryTimeoutMs } : {}),
            ...(config.bytesScannedCutoff !== undefined
              ? { bytesScannedCutoff: config.bytesScannedCutoff }
              : {}),
          }),
        );
        // A failed start is tried again by the next request.
        engine.catch(() => {
          engine = undefined;
        });
      }
      return engine;
    },
    catalog: s3Catalog({ bucket: config.bucket, prefix: config.prefix, env }),
    tokens: async () => {
      if (!codec) return loadCodec();
      if (clock() - codec.at > KEY_REFRESH_MS) {
        // Refresh in the background; a failed refresh keeps the keys in hand (logged).
        loadCodec().catch((err) => logger.warn('token keys not refreshed', { error: String(err) }));
      }
      return codec.value;
    },
    logger,
    now: clock,
  };
}

/**
 * The path to route: the resource template filled with the path parameters as API Gateway passed
 * them (REST APIs pass them still percent-encoded), so a stage name or a custom domain's base path
 * never shows up in it. `event.path` when the template cannot be filled.
 */
export function routePath(event: Pick<APIGatewayProxyEvent, 'resource' | 'path' | 'pathParameters'>): string {
  const params = event.pathParameters ?? {};
  if (event.resource) {
    let complete = true;
    const filled = event.resource.replace(/\{([^}+]+)\+?\}/g, (_m, name: string) => {
      const value = params[name];
      if (value === undefined) complete = false;
      return value ?? '';
    });
    if (complete) return filled;
  }
  return event.path || '/';
}

/** An API Gateway proxy event as an {@link ApiRequest}. */
export function toApiRequest(event: APIGatewayProxyEvent, requestId?: string): ApiRequest {
  const body =
    event.body === null || event.body === undefined
      ? undefined
      : event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').toString('utf8')
        : event.body;
  const query: Record<string, string | string[] | undefined> = {
    ...(event.queryStringParameters ?? {}),
    ...(event.multiValueQueryStringParameters ?? {}),
  };
  return {
    method: event.httpMethod ?? 'GET',
    path: routePath(event),
    query,
    headers: { ...(event.headers ?? {}) },
    body,
    ...(requestId ? { requestId } : {}),
    ...(event.requestContext?.authorizer ? { authorizer: event.requestContext.authorizer } : {}),
  };
}

/** A handler over the given dependencies (tests pass in-memory ones). */
export function createHandler(
  getDeps: () => ApiDeps,
): (event: APIGatewayProxyEvent, context?: Context) => Promise<APIGatewayProxyResult> {
  return async (event, context) => {
    const requestId = event.requestContext?.requestId ?? context?.awsRequestId;
    let deps: ApiDeps;
    try {
      deps = getDeps();
    } catch (err) {
      // A configuration error: the caller gets the generic 500 (through the same mapping), the log the reason.
      const fail = (): Promise<never> => Promise.reject(err);
      deps = { engine: fail, catalog: fail, tokens: fail, logger };
    }
    const response = await handleApiRequest(toApiRequest(event, requestId), deps);
    return { ...response, isBase64Encoded: false };
  };
}

let deps: ApiDeps | undefined;

const run = createHandler(() => {
  deps ??= depsFromConfig(configFromEnv(process.env));
  return deps;
});

/** The function's handler (`index.handler`). */
export const handler = async (
  event: APIGatewayProxyEvent,
  context: Context,
): Promise<APIGatewayProxyResult> => {
  logger.addContext(context);
  logger.appendKeys({ correlationId: event.requestContext?.requestId ?? context.awsRequestId });
  return run(event, context);
};
