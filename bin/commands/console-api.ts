/**
 * The console's read-only JSON endpoints under `/console/api/` (docs/console-api.md), answered only
 * by `serve` (serve-server.ts calls {@link answerConsoleApi} for every admitted request): the
 * instances, a histogram, coverage and its hours, and `verify` as a stream. They answer through the
 * API's own machinery: errors in its shape, one log line a request, and the request deadline (the
 * query timeout, and the query stopped when the client leaves); only `verify` has no timeout.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Clock, errorSummary, iso, type Logger, toApiError } from '@eventlog-archive/shared';
import type { ArchiveStore } from '../../lambdas/core/store';
import { type ApiRequest, answerLogged, json, type Routed, routingError } from '../../lambdas/query/api';
import { type ArchiveCatalog, storeCatalog } from '../../lambdas/query/catalog';
import { coverageHours, coverageView } from '../../lambdas/query/console/coverage-view';
import { histogramOf } from '../../lambdas/query/console/histogram';
import { parseHistogramRequest } from '../../lambdas/query/console/histogram-params';
import { listInstances } from '../../lambdas/query/console/instances';
import {
  dayParam,
  instanceParam,
  type QueryParams,
  rangeParams,
  sourceParam,
} from '../../lambdas/query/console/params';
import {
  parseVerifyRequest,
  runVerification,
  type VerifyMessage,
} from '../../lambdas/query/console/verification';
import type { DuckDbEngine } from '../../lambdas/query/duckdb-engine';
import { SAFETY_HEADERS } from './serve-admission';
import { queryParams, requestDeadline, send } from './serve-http';

export const CONSOLE_API_PREFIX = '/console/api/';

/** What the console's endpoints read: the archive served, its engine and the server's clock. */
export interface ConsoleApi {
  /** The archive's URI (its own key file is the default digest key). */
  archive: string;
  store: ArchiveStore;
  catalog: ArchiveCatalog;
  engine: DuckDbEngine;
  clock: Clock;
  logger: Logger;
  /** The API routes' query timeout, for every endpoint but `verify`. */
  queryTimeoutMs: number;
}

/** The console's endpoints over what `serve` opened. */
export function consoleApiOf(options: Omit<ConsoleApi, 'catalog'>): ConsoleApi {
  return { ...options, catalog: storeCatalog(options.store) };
}

type JsonEndpoint = (query: QueryParams, api: ConsoleApi, signal: AbortSignal) => Promise<Routed>;

const JSON_ENDPOINTS: Readonly<Record<string, JsonEndpoint>> = {
  instances: async (_query, api) => {
    const instances = await listInstances(api.store);
    return { ...json(200, { now: iso(api.clock()), instances }), log: { instances: instances.length } };
  },
  histogram: async (query, api, signal) => {
    const request = parseHistogramRequest(query);
    const answer = await histogramOf(request, { engine: api.engine, catalog: api.catalog, signal });
    return { ...json(200, answer), log: { buckets: answer.buckets.length, events: answer.total } };
  },
  coverage: async (query, api, signal) => {
    const source = sourceParam(query);
    const instance = instanceParam(query, source);
    const { from, to } = rangeParams(query);
    const deps = { store: api.store, catalog: api.catalog, engine: api.engine, now: api.clock(), signal };
    return json(200, await coverageView({ source, instance, from, to }, deps));
  },
  'coverage/hours': async (query, api) => {
    const source = sourceParam(query);
    const instance = instanceParam(query, source);
    const day = dayParam(query, 'day');
    return json(200, await coverageHours({ source, instance, day }, { ...api, now: api.clock() }));
  },
};
const VERIFY = 'verify';
const ENDPOINTS = [...Object.keys(JSON_ENDPOINTS), VERIFY].map((name) => `GET ${CONSOLE_API_PREFIX}${name}`);

/** Answers a request for a path under {@link CONSOLE_API_PREFIX} and returns true; false for any other path. */
export function answerConsoleApi(
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  api: ConsoleApi,
): boolean {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (!path.startsWith(CONSOLE_API_PREFIX)) return false;
  const name = path.slice(CONSOLE_API_PREFIX.length);
  const method = (req.method ?? 'GET').toUpperCase();
  // The endpoints read no body: node:http discards one when the answer ends.
  const request: ApiRequest = {
    method,
    path,
    query: queryParams(q < 0 ? '' : url.slice(q + 1)),
    headers: req.headers,
    body: undefined,
    requestId,
  };
  const known = name === VERIFY || Object.hasOwn(JSON_ENDPOINTS, name);
  if (method === 'GET' && name === VERIFY) {
    void streamVerification(res, request, api);
    return true;
  }
  const deadline = requestDeadline(res, { requestId, path }, api.queryTimeoutMs, api.logger);
  const endpoint = JSON_ENDPOINTS[name];
  const answered = answerLogged(request, api.logger, async () => {
    if (!known) return routingError('UnknownOperationException', `${method} ${path}`, undefined, ENDPOINTS);
    if (method !== 'GET') return routingError('MethodNotAllowedException', `${method} ${path}`, 'GET');
    try {
      return await endpoint!(request.query ?? {}, api, deadline.signal);
    } catch (err) {
      // Nobody reads the answer (the client left, or the 504 went out): not an error of ours.
      if (deadline.signal.aborted) return stopped(deadline.signal);
      throw err;
    }
  });
  void answered.then((response) => {
    deadline.settle();
    send(res, requestId, response.statusCode, response.headers, response.body);
  });
  return true;
}

/** The answer nobody will read, for the log line of a request stopped by its deadline. */
function stopped(signal: AbortSignal): Routed {
  const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason);
  return { ...json(504, { message: reason }), log: { stopped: reason } };
}

/**
 * `GET /console/api/verify`: NDJSON, one message a line, written as the check goes. No timeout (a
 * large archive takes long), but it stops when the client leaves. A bad parameter is answered as
 * JSON, before the stream starts.
 */
async function streamVerification(res: ServerResponse, request: ApiRequest, api: ConsoleApi): Promise<void> {
  const requestId = request.requestId ?? '';
  let verifyRequest: ReturnType<typeof parseVerifyRequest>;
  try {
    verifyRequest = parseVerifyRequest(request.query ?? {});
  } catch (err) {
    const response = await answerLogged(request, api.logger, () => Promise.reject(err));
    send(res, requestId, response.statusCode, response.headers, response.body);
    return;
  }
  const started = performance.now();
  const deadline = requestDeadline(res, { requestId, path: request.path }, undefined, api.logger);
  res.writeHead(200, {
    ...SAFETY_HEADERS,
    'content-type': 'application/x-ndjson',
    'x-amzn-RequestId': requestId,
  });
  res.flushHeaders();
  // How far it got, for the log line.
  const reached = { done: 0, total: 0 };
  const emit = (message: VerifyMessage): void => {
    if (message.type === 'start') reached.total = message.instances;
    if (message.type === 'progress') reached.done = message.done;
    if (!res.destroyed) res.write(`${JSON.stringify(message)}\n`);
  };
  const deps = { archive: api.archive, store: api.store, now: api.clock(), signal: deadline.signal };
  let outcome: string;
  try {
    const result = await runVerification(verifyRequest, deps, emit);
    emit(result);
    outcome = result.ok ? 'ok' : 'problems';
  } catch (err) {
    if (deadline.signal.aborted) outcome = 'stopped';
    else {
      outcome = 'error';
      api.logger.error('verify failed', { requestId, causes: [errorSummary(err)] });
      emit({ type: 'error', message: toApiError(err).message });
    }
  }
  res.end();
  api.logger.info('request', {
    requestId,
    method: request.method,
    path: request.path,
    status: 200,
    ms: Math.round(performance.now() - started),
    outcome,
    ...reached,
  });
}
