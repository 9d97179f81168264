/**
 * The node:http server of `serve` (serve.ts): the query API on one machine, in front of the same
 * `handleApiRequest` the Lambda runs, with DuckDB over a folder archive instead of Athena (an S3
 * archive's day objects are fetched into a local cache first: query-archive.ts), the ledger as the
 * catalog and a key file for nextTokens (`_keys/next-token.key` in a folder archive, in the cache
 * folder of an S3 archive). It answers only requests addressed to it by name (Host and Origin checks against DNS rebinding and
 * cross-site requests from a browser), under limits on time, queue and concurrency.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Clock, createLogger, type Logger } from '@eventlog-archive/shared';
import { DEFAULT_AUTHORIZER_CACHE_SECONDS } from '../../lambdas/authorizer/policy';
import type { ArchiveStore } from '../../lambdas/core/store';
import {
  type ApiDeps,
  type ApiRequest,
  type ApiResponse,
  handleApiRequest,
  MAX_BODY_BYTES,
} from '../../lambdas/query/api';
import { storeCatalog } from '../../lambdas/query/catalog';
import {
  createDuckDbEngine,
  DEFAULT_CONNECTIONS,
  DEFAULT_MAX_WAITING,
  type DuckDbEngineOptions,
  type EngineActivity,
} from '../../lambdas/query/duckdb-engine';
import type { QueryEngine } from '../../lambdas/query/engine';
import { type KeyStore, loadLocalTokenKeys, NextTokenCodec } from '../../lambdas/query/next-token';
import { UsageError } from './args';
import { answerConsoleApi, type ConsoleApi, consoleApiOf } from './console-api';
import { CONSOLE_CSP, consoleAssets, pageAt, wantsConsolePage } from './console-assets';
import { type CacheSettings, openQueryArchive } from './query-archive';
import { type Audience, audienceOf, refusal, SAFETY_HEADERS } from './serve-admission';
import { type TokenGate, tokenGate } from './serve-authorizer';
import { DEFAULT_HOST, DEFAULT_PORT } from './serve-command';
import { queryParams, requestDeadline, send, sendError } from './serve-http';

export { DEFAULT_HOST, DEFAULT_PORT } from './serve-command';
export { queryParams } from './serve-http';

// Past the body limit the rest is drained unread; a body this large is cut off by closing the connection.
const DRAIN_LIMIT_BYTES = 16 * 1024 * 1024;
/**
 * Default time from a request's last body byte to its answer, queue wait included: API Gateway's
 * integration timeout, so a query slower than the deployed API could answer fails here too
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html).
 */
export const DEFAULT_QUERY_TIMEOUT_MS = 29_000;
/** Default time to receive a body (the largest valid one is about 10 KB). */
export const DEFAULT_BODY_TIMEOUT_MS = 5_000;
/** Default time to receive the request line and headers. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/** Limits of `serve`; every one has a default fit for one user on one machine. */
export interface ServeLimits {
  /** DuckDB connections, i.e. queries run at once (default {@link DEFAULT_CONNECTIONS}). */
  connections?: number;
  /** Queries waiting for a connection; one more answers 429 ThrottlingException (default {@link DEFAULT_MAX_WAITING}). */
  maxWaiting?: number;
  /** Time from the last body byte to the answer; past it 504 (default {@link DEFAULT_QUERY_TIMEOUT_MS}). */
  queryTimeoutMs?: number;
  /** Time to receive a body from the end of the headers; past it 408 and the connection is closed (default {@link DEFAULT_BODY_TIMEOUT_MS}). */
  bodyTimeoutMs?: number;
  /** node:http `headersTimeout` (default {@link DEFAULT_HEADERS_TIMEOUT_MS}). */
  headersTimeoutMs?: number;
}

export interface ServeOptions {
  /**
   * Archive URI: `file:///abs/path`, a folder path, or `s3://bucket/prefix` (read through a local
   * cache of day objects; see query-archive.ts).
   */
  archive: string;
  /** Where an S3 archive's day objects are cached, and the bound (default: `cacheSettings` of the environment). */
  cache?: Partial<CacheSettings>;
  /** Default {@link DEFAULT_PORT}; 0 picks a free port. */
  port?: number;
  /** Default {@link DEFAULT_HOST}. */
  host?: string;
  /** nextToken lifetime (default 24 h). */
  tokenTtlSeconds?: number;
  /** Request and error log (default: the project's logger, level from POWERTOOLS_LOG_LEVEL). */
  logger?: Logger;
  /** Clock for nextToken expiry and the banner's example range (default: the system clock). */
  clock?: Clock;
  /** Time, queue and concurrency limits. */
  limits?: ServeLimits;
  /** Further DuckDB engine options (threads, day cache; `beforeQuerySql` for tests). */
  engine?: Omit<DuckDbEngineOptions, 'connections' | 'maxWaiting'>;
  /**
   * `token`: the routes that take bearer tokens in AWS need a token made by `token create` for this
   * archive, checked by the authorizer's own handler (serve-authorizer.ts). Default `none`.
   */
  auth?: ServeAuth;
}

/** How `serve` authenticates: not at all (the default, on loopback), or with the deployed API's tokens. */
export type ServeAuth =
  | { readonly mode: 'none' }
  | {
      readonly mode: 'token';
      /** How long an authorizer result is reused, as API Gateway's cache (default {@link DEFAULT_AUTHORIZER_CACHE_SECONDS}). */
      readonly cacheSeconds?: number;
    };

export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:3000`. */
  url: string;
  /** The archive folder served, or the cache folder of the S3 archive served. */
  dir: string;
  /** The archive served (its catalog and ledger). */
  store: ArchiveStore;
  /** Which archive is served, and where its cache is: for banners. */
  describe: string;
  /** What the engine is doing (queries running, waiting, cancelled). */
  activity(): EngineActivity;
  /** Stops listening, ends open connections and closes the engine. */
  close(): Promise<void>;
}

/**
 * Starts the local API.
 *
 * @example
 * const server = await startServer({ archive: './data', port: 0 });
 * const res = await fetch(`${server.url}/v1/spaces/demo-space/eventLogs`, {
 *   method: 'POST',
 *   headers: { 'content-type': 'application/json' },
 *   body: '{…}',
 * });
 * await server.close();
 */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const archive = await openQueryArchive(options.archive, {
    ...(options.cache ? { cache: options.cache } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const { dir, store } = archive;
  const limits = options.limits ?? {};
  const queryTimeoutMs = limits.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
  const bodyTimeoutMs = limits.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  const headersTimeoutMs = limits.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  const engine = await createDuckDbEngine(dir, {
    ...archive.engine,
    ...options.engine,
    connections: limits.connections ?? DEFAULT_CONNECTIONS,
    maxWaiting: limits.maxWaiting ?? DEFAULT_MAX_WAITING,
  });
  // Bundled while the server starts, so the first page does not wait for it.
  consoleAssets().catch(() => {});
  const logger = options.logger ?? createLogger({ serviceName: 'eventlog-archive-serve' });
  const deps = apiDeps(options, store, archive.keyStore, engine, logger);
  const clock = options.clock ?? Date.now;
  const consoleApi = consoleApiOf({ archive: options.archive, store, engine, clock, logger, queryTimeoutMs });
  const gate =
    options.auth?.mode === 'token'
      ? tokenGate({
          store,
          clock,
          logger,
          cacheSeconds: options.auth.cacheSeconds ?? DEFAULT_AUTHORIZER_CACHE_SECONDS,
        })
      : undefined;

  const host = options.host ?? DEFAULT_HOST;
  const port = options.port ?? DEFAULT_PORT;
  // Known once listening (port 0 picks one); no request is handled before that.
  let audience: Audience = { names: new Set(), origins: new Set(), port: -1 };

  const server = createServer(
    {
      headersTimeout: headersTimeoutMs,
      // Node's own cut-off for a whole request (answers 408 itself); the body deadline below comes first.
      requestTimeout: headersTimeoutMs + bodyTimeoutMs + 1_000,
      // Node checks both timeouts only this often (default 30 s), which would stretch them.
      connectionsCheckingInterval: Math.min(1_000, headersTimeoutMs),
    },
    (req, res) =>
      answer(req, res, {
        audience,
        deps,
        engine,
        consoleApi,
        gate,
        clock,
        logger,
        queryTimeoutMs,
        bodyTimeoutMs,
      }),
  );
  await listen(server, port, host, engine);
  const address = server.address() as AddressInfo;
  audience = audienceOf(host, address.port);
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${address.port}`,
    dir,
    store,
    describe: archive.describe,
    activity: () => engine.activity(),
    close: () => {
      closed ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await stopped;
        await engine.close();
        await archive.close();
      })();
      return closed;
    },
  };
}

/** What the API handler needs: the engine, the ledger as catalog, and a nextToken codec made when first needed. */
function apiDeps(
  options: ServeOptions,
  store: ArchiveStore,
  keyStore: KeyStore,
  engine: QueryEngine,
  logger: Logger,
): ApiDeps {
  let tokens: Promise<NextTokenCodec> | undefined;
  return {
    engine,
    catalog: storeCatalog(store),
    // Created on the first page that needs a nextToken, so serving a read-only folder works until then.
    tokens: () => {
      // An S3 archive's key is in its cache folder: serve never writes to the bucket.
      tokens ??= loadLocalTokenKeys(keyStore).then(
        (keys) =>
          new NextTokenCodec({
            keys,
            ...(options.clock ? { now: options.clock } : {}),
            ...(options.tokenTtlSeconds !== undefined ? { ttlSeconds: options.tokenTtlSeconds } : {}),
          }),
      );
      tokens.catch(() => {
        tokens = undefined;
      });
      return tokens;
    },
    logger,
    ...(options.clock ? { now: options.clock } : {}),
  };
}

/** Listens on `host:port`; a port in use or a host it cannot listen on is a usage error (and closes the engine). */
function listen(server: Server, port: number, host: string, engine: QueryEngine): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      void engine.close();
      if (err.code === 'EADDRINUSE')
        reject(new UsageError(`--port: ${port} is in use on ${host}; choose another with --port N`));
      else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND')
        reject(new UsageError(`--host: cannot listen on ${host}`));
      else reject(err);
    });
    server.listen(port, host, () => resolve());
  });
}

/** What one request needs of the server it came to. */
interface RequestContext {
  audience: Audience;
  deps: ApiDeps;
  engine: QueryEngine;
  consoleApi: ConsoleApi;
  /** With `--auth token`: who may call the bearer routes. */
  gate: TokenGate | undefined;
  clock: Clock;
  logger: Logger;
  queryTimeoutMs: number;
  bodyTimeoutMs: number;
}

/** Admits, reads and answers one request; its query stops when the client leaves or time runs out. */
function answer(req: IncomingMessage, res: ServerResponse, context: RequestContext): void {
  const { audience, deps, engine, logger, queryTimeoutMs, bodyTimeoutMs } = context;
  const requestId = randomUUID();
  const refused = refusal(req, audience);
  if (refused) {
    logger.warn('request refused', {
      requestId,
      method: req.method,
      path: (req.url ?? '').slice(0, 200),
      status: refused.status,
      errorType: refused.type,
    });
    // The body is not read: close the connection rather than drain what a refused client sends.
    sendError(res, requestId, refused.status, refused.type, refused.message, { connection: 'close' });
    return;
  }
  if (answerConsoleFile(req, res, requestId, context)) return;
  if (answerConsoleApi(req, res, requestId, context.consoleApi)) return;
  readBody(req, res, requestId, bodyTimeoutMs, (body, tooLarge) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const request: ApiRequest = {
      method: req.method ?? 'GET',
      path: q < 0 ? url : url.slice(0, q),
      query: queryParams(q < 0 ? '' : url.slice(q + 1)),
      headers: req.headers,
      body,
      bodyTooLarge: tooLarge,
      requestId,
    };
    const deadline = requestDeadline(res, { requestId, path: request.path }, queryTimeoutMs, logger);
    const perRequest: ApiDeps = { ...deps, engine: withSignal(engine, deadline.signal) };
    void admit(request, req.headers.authorization, context).then(async (refused) => {
      const response = refused ?? (await handleApiRequest(request, perRequest));
      deadline.settle();
      send(res, requestId, response.statusCode, response.headers, response.body);
    });
  });
}

/**
 * With `--auth token`, runs the token gate: the refusal to send, or `undefined` with the
 * authorizer's context put on the request. Logged like the API's own answers.
 */
async function admit(
  request: ApiRequest,
  authorization: string | undefined,
  { gate, logger }: Pick<RequestContext, 'gate' | 'logger'>,
): Promise<ApiResponse | undefined> {
  if (!gate) return undefined;
  const result = await gate(request.method, request.path, authorization);
  if (result.kind === 'allowed') request.authorizer = result.context;
  if (result.kind !== 'refused') return undefined;
  logger.info('request', {
    requestId: request.requestId,
    method: request.method,
    path: request.path.slice(0, 200),
    status: result.statusCode,
    errorType: result.errorType,
  });
  return {
    statusCode: result.statusCode,
    headers: { 'content-type': 'application/json', 'x-amzn-ErrorType': result.errorType },
    body: JSON.stringify({ message: result.message }),
  };
}

/**
 * Sends the console's page (`GET /` from a browser) or one of its files (`GET /assets/…`); false
 * when the request is for the API. `HEAD` is answered too; a browser's conditional GET gets 304.
 */
function answerConsoleFile(
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  { clock, logger }: Pick<RequestContext, 'clock' | 'logger'>,
): boolean {
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') return false;
  const path = (req.url ?? '/').split('?', 1)[0]!;
  const isPage = (path === '/' || path === '') && wantsConsolePage(req.headers.accept);
  if (!isPage && !path.startsWith('/assets/')) return false;
  consoleAssets().then(
    (assets) => {
      const template = assets.get(isPage ? '/' : path);
      const file = isPage && template ? pageAt(template, clock()) : template;
      if (!file) {
        sendError(
          res,
          requestId,
          404,
          'ResourceNotFoundException',
          `${path.slice(0, 200)}: no such console file`,
        );
        return;
      }
      if (res.headersSent || res.destroyed) return;
      const headers = {
        ...SAFETY_HEADERS,
        'content-type': file.contentType,
        'content-length': String(file.body.length),
        etag: file.etag,
        // The page is checked each time (it names the current script); the files it names carry
        // their version in the query string, but are small enough to revalidate too.
        'cache-control': 'no-cache',
        'x-amzn-RequestId': requestId,
        ...(isPage ? { 'content-security-policy': CONSOLE_CSP, 'referrer-policy': 'no-referrer' } : {}),
      };
      if (req.headers['if-none-match'] === file.etag) {
        res.writeHead(304, { ...headers, 'content-length': '0' });
        res.end();
        return;
      }
      res.writeHead(200, headers);
      res.end(method === 'HEAD' ? undefined : file.body);
    },
    (err: unknown) => {
      logger.error('the console could not be bundled', { requestId, error: String(err) });
      sendError(
        res,
        requestId,
        500,
        'InternalServerException',
        'the console could not be built from console/src (run `npm ci`); the API routes still answer',
      );
    },
  );
  return true;
}

/** The engine as one request sees it: its queries stop when the request's signal aborts. */
function withSignal(engine: QueryEngine, signal: AbortSignal): QueryEngine {
  return {
    listEvents: (query, options) => engine.listEvents(query, { ...options, signal }),
    close: () => engine.close(),
  };
}

/**
 * Collects a body up to the API's limit; past it the rest is drained and the request flagged. A
 * body not complete within `timeoutMs` (a client sending a byte at a time) is answered 408
 * RequestTimeoutException, a name the AWS SDKs retry, and its connection closed.
 */
function readBody(
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  timeoutMs: number,
  done: (body: string | undefined, tooLarge: boolean) => void,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  const cut = (status: number, type: string, message: string): void => {
    over = true;
    clearTimeout(timer);
    sendError(res, requestId, status, type, message, { connection: 'close' });
    // Closed once the answer is flushed (not before, or the client would never read it): the
    // client may still be sending, so the connection cannot be reused.
    if (res.writableFinished) req.socket.destroy();
    else res.once('finish', () => req.socket.destroy());
  };
  const timer = setTimeout(
    () => cut(408, 'RequestTimeoutException', `body: not received within ${timeoutMs} ms; send it at once`),
    timeoutMs,
  );
  req.on('data', (chunk: Buffer) => {
    if (over) return;
    size += chunk.length;
    if (size <= MAX_BODY_BYTES + 1) chunks.push(chunk);
    if (size > DRAIN_LIMIT_BYTES)
      cut(400, 'ValidationException', `body: must not be larger than ${MAX_BODY_BYTES} bytes`);
  });
  req.on('error', () => {
    clearTimeout(timer);
    res.destroy();
  });
  req.on('close', () => clearTimeout(timer));
  req.on('end', () => {
    clearTimeout(timer);
    if (over) return;
    done(size === 0 ? undefined : Buffer.concat(chunks).toString('utf8'), size > MAX_BODY_BYTES);
  });
}
