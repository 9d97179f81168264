/**
 * Token authorizer (API Gateway REST API, `TOKEN` type, identity source `Authorization`): accepts
 * `Authorization: Bearer <token>` for tokens made by `eventlog-archive token create`, so the official
 * CodeCatalyst SDK (`token: { token }`) reaches the deployed API unchanged.
 *
 * - a token that is not `Bearer ela_…`: `Unauthorized` (API Gateway answers 401);
 * - unknown, wrong secret, revoked or expired: an explicit Deny (403), which API Gateway caches
 *   like an Allow, so a bad token costs one invocation per TTL;
 * - valid: an Allow of the bearer routes for the token's spaces (another space: 403), with the
 *   token's id, name and spaces as context for the query handler, which checks the scope again.
 * Every 401 and 403 carries `x-amzn-ErrorType: AccessDeniedException` (gateway-responses.ts).
 *
 * Environment: `ARCHIVE_URI` (`s3://bucket[/prefix]`; the records are under `_tokens/`).
 * The token itself never reaches a log line: only its id and the verdict.
 */
import { type Clock, clockFromEnv, createLogger, type Logger } from '@eventlog-archive/shared';
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { checkAccessToken, EVERY_SPACE } from '../core/access-tokens';
import { LocalStore } from '../core/local-store';
import { signedS3Reader } from '../core/s3-signed';
import { type ArchiveStore, parseArchiveUri } from '../core/store';
import { allowPolicy, denyPolicy } from './policy';

export interface AuthorizerDeps {
  /** The archive holding the token records (only read). */
  readonly store: () => Promise<Pick<ArchiveStore, 'get'>>;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** The error message API Gateway turns into a 401 (any other error is a 500). */
export const UNAUTHORIZED = 'Unauthorized';

const BEARER = /^Bearer +(\S+)$/i;

/** The authorizer over the given dependencies (`serve --auth token` runs it too). */
export function createAuthorizer(
  deps: () => AuthorizerDeps,
): (event: APIGatewayTokenAuthorizerEvent) => Promise<APIGatewayAuthorizerResult> {
  return async (event) => {
    const { store, clock, logger } = deps();
    const token = BEARER.exec(event.authorizationToken ?? '')?.[1];
    if (!token) {
      logger.info('token refused', { reason: 'no-bearer-header' });
      throw new Error(UNAUTHORIZED);
    }
    // A store failure is thrown: a 500 the caller may retry, never a deny of a good token.
    const verdict = await checkAccessToken(await store(), token, clock);
    if (!verdict.ok) {
      if (verdict.reason === 'malformed') {
        logger.info('token refused', { reason: 'malformed' });
        throw new Error(UNAUTHORIZED);
      }
      const log = verdict.reason === 'corrupt' ? logger.error.bind(logger) : logger.info.bind(logger);
      log('token refused', { reason: verdict.reason, tokenId: verdict.id });
      return denyPolicy(event.methodArn, `token/${verdict.id ?? 'unknown'}`);
    }
    const { record } = verdict;
    logger.info('token accepted', { tokenId: record.id });
    return allowPolicy(event.methodArn, `token/${record.id}`, record.spaces, {
      tokenId: record.id,
      tokenName: record.name,
      spaces: record.spaces === null ? EVERY_SPACE : JSON.stringify(record.spaces),
    });
  };
}

const logger = createLogger({ serviceName: 'eventlog-archive-authorizer' });
let deps: AuthorizerDeps | undefined;

/** The function's handler (`index.handler`). */
export const handler = createAuthorizer(() => {
  deps ??= depsFromEnv(process.env);
  return deps;
});

function depsFromEnv(env: NodeJS.ProcessEnv): AuthorizerDeps {
  const uri = env.ARCHIVE_URI;
  let store: Promise<Pick<ArchiveStore, 'get'>> | undefined;
  return {
    store: () => {
      if (!uri) return Promise.reject(new Error('ARCHIVE_URI: is required'));
      store ??= (async () => {
        const location = parseArchiveUri(uri);
        // In AWS one signed GetObject per check: no S3 client in the bundle, a faster cold start.
        return location.kind === 's3'
          ? signedS3Reader({ bucket: location.bucket, prefix: location.prefix, env })
          : new LocalStore(location.dir);
      })();
      store.catch(() => {
        store = undefined;
      });
      return store;
    },
    clock: clockFromEnv(env),
    logger,
  };
}
