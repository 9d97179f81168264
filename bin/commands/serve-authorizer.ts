/**
 * `serve --auth token`: the deployed API's token authorization, reproduced on one machine with the
 * authorizer's own handler (lambdas/authorizer). What API Gateway does around that handler is done
 * here the same way: the `Authorization` header checked against the identity validation expression
 * (else 401 without calling the authorizer), the result cached per header value for the TTL, and the
 * returned policy evaluated against the request's method ARN (explicit deny, allow, else implicit
 * deny), with API Gateway's own messages. The allowed request then reaches the query handler with
 * the authorizer's context, as `requestContext.authorizer` does in Lambda.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-use-lambda-authorizer.html
 *
 * Only the routes that take tokens in AWS (bearer routes) are gated; the SigV4 routes keep IAM there,
 * which cannot be checked locally, and the console's endpoints exist only here.
 */
import type { Clock, Logger } from '@eventlog-archive/shared';
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { createAuthorizer, UNAUTHORIZED } from '../../lambdas/authorizer';
import { bearerRoutes, TOKEN_HEADER_PATTERN } from '../../lambdas/authorizer/policy';
import type { ArchiveStore } from '../../lambdas/core/store';
import { routePattern } from '../../lambdas/query/api';

/** The stage ARN of `serve`'s method ARNs (an API Gateway one names region, account, API and stage). */
export const LOCAL_STAGE_ARN = 'arn:aws:execute-api:local:000000000000:serve/local';

/** API Gateway's messages for its 401 and 403 answers, which the SDKs show as is. */
export const GATEWAY_MESSAGES = {
  unauthorized: 'Unauthorized',
  explicitDeny: 'User is not authorized to access this resource with an explicit deny',
  implicitDeny: 'User is not authorized to access this resource',
} as const;

export type GateResult =
  /** Not a route that takes tokens: answered as without `--auth token`. */
  | { readonly kind: 'open' }
  | { readonly kind: 'allowed'; readonly context: Readonly<Record<string, unknown>> }
  | {
      readonly kind: 'refused';
      readonly statusCode: number;
      readonly errorType: string;
      readonly message: string;
    };

export interface TokenGateOptions {
  readonly store: ArchiveStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How long an authorizer result is reused for the same header (API Gateway's TTL); 0 for never. */
  readonly cacheSeconds: number;
}

export type TokenGate = (
  method: string,
  path: string,
  authorization: string | undefined,
) => Promise<GateResult>;

/** A gate in front of the bearer routes, running the authorizer handler as API Gateway would. */
export function tokenGate(options: TokenGateOptions): TokenGate {
  const authorizer = createAuthorizer(() => ({
    store: async () => options.store,
    clock: options.clock,
    logger: options.logger,
  }));
  const routes = bearerRoutes().map((route) => ({ method: route.method, pattern: routePattern(route.path) }));
  const cache = new Map<string, { result: APIGatewayAuthorizerResult; at: number }>();
  const refused = (statusCode: number, message: string): GateResult => ({
    kind: 'refused',
    statusCode,
    // Both API Gateway answers carry this name on the deployed API (gateway-responses.ts).
    errorType: 'AccessDeniedException',
    message,
  });

  return async (method, path, authorization) => {
    if (!routes.some((route) => route.method === method.toUpperCase() && route.pattern.test(path)))
      return { kind: 'open' };
    if (authorization === undefined || !TOKEN_HEADER_PATTERN.test(authorization))
      return refused(401, GATEWAY_MESSAGES.unauthorized);
    const now = options.clock();
    let cached = cache.get(authorization);
    if (!cached || now - cached.at >= options.cacheSeconds * 1000) {
      cache.delete(authorization);
      const event: APIGatewayTokenAuthorizerEvent = {
        type: 'TOKEN',
        authorizationToken: authorization,
        methodArn: `${LOCAL_STAGE_ARN}/${method.toUpperCase()}${path}`,
      };
      let result: APIGatewayAuthorizerResult;
      try {
        result = await authorizer(event);
      } catch (err) {
        if (err instanceof Error && err.message === UNAUTHORIZED)
          return refused(401, GATEWAY_MESSAGES.unauthorized);
        options.logger.error('the authorizer failed', { error: String(err) });
        return {
          kind: 'refused',
          statusCode: 500,
          errorType: 'InternalServerException',
          message: 'the token could not be checked; try again',
        };
      }
      cached = { result, at: now };
      if (options.cacheSeconds > 0) cache.set(authorization, cached);
    }
    const effect = evaluatePolicy(cached.result, `${LOCAL_STAGE_ARN}/${method.toUpperCase()}${path}`);
    if (effect === 'explicitDeny') return refused(403, GATEWAY_MESSAGES.explicitDeny);
    if (effect === 'implicitDeny') return refused(403, GATEWAY_MESSAGES.implicitDeny);
    return {
      kind: 'allowed',
      context: { ...cached.result.context, principalId: cached.result.principalId },
    };
  };
}

/**
 * IAM's evaluation of an authorizer policy for one `execute-api:Invoke`: any matching Deny wins,
 * else any matching Allow, else an implicit deny. `*` and `?` in actions and resources are IAM's
 * wildcards (any run of characters, one character).
 */
export function evaluatePolicy(
  result: APIGatewayAuthorizerResult,
  methodArn: string,
): 'allow' | 'explicitDeny' | 'implicitDeny' {
  let allowed = false;
  for (const statement of result.policyDocument?.Statement ?? []) {
    const s = statement as { Effect?: string; Action?: string | string[]; Resource?: string | string[] };
    const actions = [s.Action ?? []].flat();
    const resources = [s.Resource ?? []].flat();
    if (!actions.some((a) => wildcardMatch(a.toLowerCase(), 'execute-api:invoke'))) continue;
    if (!resources.some((r) => wildcardMatch(r, methodArn))) continue;
    if (s.Effect === 'Deny') return 'explicitDeny';
    if (s.Effect === 'Allow') allowed = true;
  }
  return allowed ? 'allow' : 'implicitDeny';
}

function wildcardMatch(pattern: string, value: string): boolean {
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 's').test(value);
}
