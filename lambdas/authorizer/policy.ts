/**
 * The IAM policy a token authorizer returns to API Gateway, which caches it per token for the
 * authorizer's TTL and applies it to every method the token is then used on: so an allowed token's
 * policy lists every resource it may call, not only the one of the request that asked.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html
 */
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { TOKEN_FORM, type TokenContext } from '../core/access-tokens';
import { SOURCE_DEFINITIONS } from '../core/sources';
import type { SourceRoute } from '../core/sources/types';

/**
 * How long API Gateway reuses an authorizer result for the same token (and `serve --auth token`
 * too): a revoked token stops working within this time. API Gateway allows 0 to 3600.
 */
export const DEFAULT_AUTHORIZER_CACHE_SECONDS = 60;
export const MAX_AUTHORIZER_CACHE_SECONDS = 3600;

/**
 * The authorizer's identity validation expression: a header not of this form is answered 401 by
 * API Gateway without calling the function (the SDK sends `Bearer <token>`).
 */
export const TOKEN_HEADER_PATTERN = new RegExp(`^Bearer ${TOKEN_FORM}$`);

/** The routes that take tokens: those whose service's own SDK sends a bearer token. */
export function bearerRoutes(): SourceRoute[] {
  return Object.values(SOURCE_DEFINITIONS).flatMap((source) =>
    source.route?.authentication === 'bearer' ? [source.route] : [],
  );
}

/**
 * The stage ARN a method ARN belongs to:
 * `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{method}/{path…}` → `…:{apiId}/{stage}`.
 */
export function stageArnOf(methodArn: string): string {
  const parts = methodArn.split('/');
  if (parts.length < 3 || !parts[0]!.startsWith('arn:')) throw new Error(`not a method ARN: ${methodArn}`);
  return `${parts[0]}/${parts[1]}`;
}

/** The method ARN of a route with its one path parameter (the instance) filled in, or any (`*`). */
function routeArn(stageArn: string, route: SourceRoute, instance: string): string {
  return `${stageArn}/${route.method}${route.path.replace(/\{[^}]+\}/g, instance)}`;
}

/**
 * Allows the bearer routes for `spaces` (every space when `null`). Space names are
 * [A-Za-z0-9._-] only (checked when the token was made), so none is a policy wildcard.
 */
export function allowPolicy(
  methodArn: string,
  principalId: string,
  spaces: readonly string[] | null,
  context: TokenContext,
): APIGatewayAuthorizerResult {
  const stageArn = stageArnOf(methodArn);
  const resources = bearerRoutes().flatMap((route) =>
    spaces === null
      ? [routeArn(stageArn, route, '*')]
      : spaces.map((space) => routeArn(stageArn, route, space)),
  );
  return {
    principalId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: resources }],
    },
    context,
  };
}

/** An explicit deny of the whole stage: API Gateway answers 403 (ACCESS_DENIED) and caches it too. */
export function denyPolicy(methodArn: string, principalId: string): APIGatewayAuthorizerResult {
  return {
    principalId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Action: 'execute-api:Invoke', Resource: `${stageArnOf(methodArn)}/*` }],
    },
  };
}
