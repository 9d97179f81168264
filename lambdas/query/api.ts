/**
 * The HTTP API as one framework-free function: the Lambda handler (behind API Gateway) and
 * `eventlog-archive serve` (node:http) both translate their requests into an {@link ApiRequest} and
 * send back the {@link ApiResponse}, so routes, validation, status codes and headers are one code.
 *
 * Errors have the shape of the AWS service the route mimics: the error name in the
 * `x-amzn-ErrorType` header and a JSON body `{"message": "…"}`, with the API references' status codes
 * (CodeCatalyst: https://docs.aws.amazon.com/codecatalyst/latest/APIReference/CommonErrors.html;
 * Resilience Hub: https://docs.aws.amazon.com/resilience-hub/v2/APIReference/API_ListSystemEvents.html). No
 * input yields a 5xx: anything unexpected becomes a 500 whose message says nothing internal, and
 * the details go to the log (redacted).
 */
import {
  ApiError,
  ArchiveError,
  errorSummary,
  isApiError,
  type Logger,
  toApiError,
  validationError,
} from '@eventlog-archive/shared';
import { EVERY_SPACE } from '../core/access-tokens';
import { codecatalystDefinition, SOURCE_DEFINITIONS } from '../core/sources';
import type { SourceDefinition, SourceRoute } from '../core/sources/types';
import type { ArchiveCatalog } from './catalog';
import type { QueryEngine } from './engine';
import { listEventLogs, parseListEventLogs } from './list-event-logs';
import { listSystemEvents, parseListSystemEvents } from './list-system-events';
import type { NextTokenCodec } from './next-token';
import type { RouteDeps } from './route-deps';

export type { RouteDeps } from './route-deps';

/** Largest request body accepted (the largest valid ListEventLogs body is about 10 KB). */
export const MAX_BODY_BYTES = 64 * 1024;

export interface ApiRequest {
  method: string;
  /** The request path as sent, still percent-encoded (a query string, if any, is ignored). */
  path: string;
  /** The query string, percent-decoded; a parameter given more than once as a list of its values. */
  query?: Record<string, string | string[] | undefined>;
  headers?: Record<string, string | string[] | undefined>;
  /** The body as text; `undefined` or empty when there is none. */
  body: string | undefined;
  /** Set by a server that stopped reading a body longer than {@link MAX_BODY_BYTES}. */
  bodyTooLarge?: boolean;
  /** Correlation id for log lines (the API Gateway request id, or one the server made). */
  requestId?: string;
  /**
   * What a Lambda authorizer passed on (`requestContext.authorizer`): with token authorization, the
   * token's id, name and spaces (access-tokens.ts `TokenContext`). Absent with IAM authorization.
   */
  authorizer?: Readonly<Record<string, unknown>>;
}

export interface ApiResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** A value, or how to get it (resolved on each request; memoise inside when it is costly). */
export type Provider<T> = T | (() => T | Promise<T>);

export interface ApiDeps {
  engine: Provider<QueryEngine>;
  catalog: Provider<ArchiveCatalog>;
  tokens: Provider<NextTokenCodec>;
  logger?: Logger;
  now?: () => number;
  /** Byte budget of a page (list-event-logs.ts `DEFAULT_PAGE_BYTES`, below Lambda's 6 MB response). */
  pageBytes?: number;
}

const JSON_HEADERS = { 'content-type': 'application/json' } as const;
/** The ListEventLogs route: `POST /v1/spaces/{spaceName}/eventLogs`, the one route with a body. */
export const LIST_EVENT_LOGS = routePattern(codecatalystDefinition.route?.path ?? '');

/** Error names that are not errors of the API references but of the HTTP layer (routing). */
type RoutingError = 'UnknownOperationException' | 'MethodNotAllowedException';

/** Answers one request. Never throws. */
export async function handleApiRequest(request: ApiRequest, deps: ApiDeps): Promise<ApiResponse> {
  return answerLogged(request, deps.logger, () => route(request, deps));
}

/**
 * Answers a request with `answer`, any error mapped to the API's error shape, and logs one line for
 * it. Never throws. Also how `serve` answers the console's endpoints (bin/commands/console-api.ts).
 */
export async function answerLogged(
  request: ApiRequest,
  logger: Logger | undefined,
  answer: () => Promise<Routed>,
): Promise<ApiResponse> {
  const started = performance.now();
  let routed: Routed;
  try {
    routed = await answer();
  } catch (err) {
    routed = errorResponse(err, request, logger);
  }
  const { log, ...response } = routed;
  logger?.info('request', {
    requestId: request.requestId,
    method: request.method,
    path: request.path.slice(0, 200),
    status: response.statusCode,
    errorType: response.headers['x-amzn-ErrorType'],
    ms: Math.round(performance.now() - started),
    ...log,
  });
  return response;
}

/** A response and what its log line should add (items, files read, bytes scanned). */
export type Routed = ApiResponse & { log?: Record<string, unknown> };

/**
 * The handler of a source's route. The route's method and path are the source's (its definition's
 * `route`, which API Gateway's resources come from too); this says how to answer it.
 */
export interface RouteHandler {
  /** What `GET /` shows of the request: its body or query parameters. */
  readonly shape: { readonly body?: string; readonly query?: string };
  /** Answers a request; `params` are the path parameters, in the order of the path. */
  handle(request: ApiRequest, deps: ApiDeps, params: readonly string[]): Promise<Routed>;
}

const ROUTE_HANDLERS: Record<string, RouteHandler> = {
  codecatalyst: {
    shape: {
      body: '{"startTime","endTime","eventName?","maxResults?","nextToken?","userName?","projectName?","operationType?","eventSource?","errorCode?","requestId?"}',
    },
    handle: (request, deps, [segment]) => listEventLogsRoute(segment ?? '', request, deps),
  },
  resiliencehub: {
    shape: { query: 'systemArn&eventTypes?(repeated)&startTime?&endTime?&maxResults?&nextToken?' },
    handle: (request, deps) => listSystemEventsRoute(request, deps),
  },
};

/** Answers a registered source's route (a third source, or a test's) with `handler`. */
export function registerRouteHandler(source: string, handler: RouteHandler): void {
  if (Object.hasOwn(ROUTE_HANDLERS, source))
    throw new Error(`source ${source}: its route has a handler already`);
  ROUTE_HANDLERS[source] = handler;
}

/** A route path template (`/v1/spaces/{spaceName}/eventLogs`) as a pattern capturing its parameters. */
export function routePattern(path: string): RegExp {
  const literal = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(
    `^${path
      .split(/\{[^}/]+\}/)
      .map(literal)
      .join('([^/]*)')}$`,
  );
}

/** The routes answered: each registered source with a route and a handler. */
function routes(): {
  source: SourceDefinition;
  route: SourceRoute;
  pattern: RegExp;
  handler: RouteHandler;
}[] {
  return Object.values(SOURCE_DEFINITIONS).flatMap((source) => {
    const handler = ROUTE_HANDLERS[source.name];
    return source.route && handler
      ? [{ source, route: source.route, pattern: routePattern(source.route.path), handler }]
      : [];
  });
}

async function route(request: ApiRequest, deps: ApiDeps): Promise<Routed> {
  const method = request.method.toUpperCase();
  const q = request.path.indexOf('?');
  const path = q < 0 ? request.path : request.path.slice(0, q);
  const answered = routes();
  for (const { route: r, pattern, handler } of answered) {
    const match = pattern.exec(path);
    if (!match) continue;
    if (method !== r.method) return routingError('MethodNotAllowedException', `${method} ${path}`, r.method);
    return handler.handle(request, deps, match.slice(1));
  }
  if (path === '/' || path === '' || path === '/health') {
    if (method !== 'GET') return routingError('MethodNotAllowedException', `${method} ${path || '/'}`, 'GET');
    return json(200, {
      service: 'eventlog-archive',
      description: `Archived ${answered.map((a) => a.source.title).join(', ')}, served wire-compatible with the services' own list calls.`,
      routes: answered.map(({ route: r, handler }) => ({ method: r.method, path: r.path, ...handler.shape })),
    });
  }
  return routingError('UnknownOperationException', `${method} ${path}`);
}

async function listEventLogsRoute(segment: string, request: ApiRequest, deps: ApiDeps): Promise<Routed> {
  let spaceName: string;
  try {
    spaceName = decodeURIComponent(segment);
  } catch {
    throw validationError('spaceName', 'is not valid percent-encoding');
  }
  // Before any validation, as API Gateway's policy check comes before the handler.
  checkTokenScope(request, spaceName);
  const body = parseBody(request);
  const input = parseListEventLogs(spaceName, body);
  const { items, nextToken, stats } = await listEventLogs(input, await routeDeps(deps));
  return {
    ...json(200, nextToken === undefined ? { items } : { items, nextToken }),
    log: { items: items.length, more: nextToken !== undefined, ...stats },
  };
}

async function listSystemEventsRoute(request: ApiRequest, deps: ApiDeps): Promise<Routed> {
  const input = parseListSystemEvents(request.query ?? {});
  const { body, count, nextToken, stats } = await listSystemEvents(input, await routeDeps(deps));
  return {
    statusCode: 200,
    headers: { ...JSON_HEADERS },
    body,
    log: { items: count, more: nextToken !== undefined, ...stats },
  };
}

/**
 * A token limited to some spaces reads only those. The authorizer's policy already keeps API
 * Gateway from passing such a request on; this is the second lock, and the only one where a policy
 * was mis-cached or an authorizer of another make passes a scope on.
 */
function checkTokenScope(request: ApiRequest, space: string): void {
  const spaces = request.authorizer?.spaces;
  if (spaces === undefined || spaces === EVERY_SPACE) return;
  let allowed: unknown;
  try {
    allowed = typeof spaces === 'string' ? JSON.parse(spaces) : undefined;
  } catch {
    allowed = undefined;
  }
  if (Array.isArray(allowed) && allowed.includes(space)) return;
  const name = request.authorizer?.tokenName;
  throw new ApiError(
    'AccessDeniedException',
    `spaceName: the token${typeof name === 'string' ? ` "${name.slice(0, 64)}"` : ''} may not read the space ${JSON.stringify(space.slice(0, 100))}`,
  );
}

/** Resolves a request's dependencies for a route handler (a dependency that fails is a 500). */
export async function routeDeps(deps: ApiDeps): Promise<RouteDeps> {
  const [engine, catalog] = await Promise.all([
    resolve(deps.engine, 'query engine'),
    resolve(deps.catalog, 'archive catalog'),
  ]);
  return {
    engine: guardEngine(engine),
    catalog,
    tokens: () => resolve(deps.tokens, 'nextToken keys'),
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.pageBytes !== undefined ? { pageBytes: deps.pageBytes } : {}),
  };
}

/** The request body as a JSON object; an absent body is `{}` (so the message names the missing field). */
function parseBody(request: ApiRequest): Record<string, unknown> {
  const text = request.body ?? '';
  if (request.bodyTooLarge || Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES)
    throw validationError('body', `must not be larger than ${MAX_BODY_BYTES} bytes`);
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw validationError('body', 'is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw validationError('body', 'must be a JSON object');
  return value as Record<string, unknown>;
}

async function resolve<T>(provider: Provider<T>, what: string): Promise<T> {
  try {
    return typeof provider === 'function' ? await (provider as () => T | Promise<T>)() : provider;
  } catch (err) {
    throw internal(err, `${what}: not available`);
  }
}

/**
 * Engine errors reach callers only as the engine's own API errors (throttling, the bytes-scanned
 * cutoff); any other error, even one whose name happens to be in an API reference (an AWS
 * `ResourceNotFoundException` about a work group), is ours: a 500, or a 429 when it was throttling.
 */
function guardEngine(engine: QueryEngine): QueryEngine {
  return {
    listEvents: async (query, options) => {
      try {
        return await engine.listEvents(query, options);
      } catch (err) {
        throw internal(err, 'the query engine failed');
      }
    },
    close: () => engine.close(),
  };
}

function internal(err: unknown, message: string): Error {
  return isApiError(err) ? err : new ArchiveError(message, { cause: err });
}

export function json(statusCode: number, value: unknown): ApiResponse {
  return { statusCode, headers: { ...JSON_HEADERS }, body: JSON.stringify(value) };
}

/** A 404 naming the `operations` there are (default: the routes), or a 405 naming the method to `allow`. */
export function routingError(
  type: RoutingError,
  what: string,
  allow?: string,
  operations: readonly string[] = routes().map(({ route: r }) => `${r.method} ${r.path}`),
): ApiResponse {
  const clipped = what.length > 200 ? `${what.slice(0, 200)}…` : what;
  const statusCode = type === 'MethodNotAllowedException' ? 405 : 404;
  const message =
    type === 'MethodNotAllowedException'
      ? `${clipped}: method not allowed (use ${allow})`
      : `${clipped}: no such operation (${operations.join(', ')})`;
  return {
    statusCode,
    headers: { ...JSON_HEADERS, 'x-amzn-ErrorType': type, ...(allow ? { allow } : {}) },
    body: JSON.stringify({ message }),
  };
}

/** An error as the caller sees it, through the shared mapping; 5xx are logged with their cause. */
function errorResponse(err: unknown, request: ApiRequest, logger: Logger | undefined): ApiResponse {
  const apiError = toApiError(err);
  if (apiError.statusCode >= 500) {
    const causes: ReturnType<typeof errorSummary>[] = [];
    for (let e: unknown = err, depth = 0; e && depth < 5; depth++, e = (e as { cause?: unknown }).cause)
      causes.push(errorSummary(e));
    logger?.error('request failed', { requestId: request.requestId, causes });
  }
  return {
    statusCode: apiError.statusCode,
    headers: { ...JSON_HEADERS, 'x-amzn-ErrorType': apiError.errorType },
    body: JSON.stringify(apiError.toJSON()),
  };
}
