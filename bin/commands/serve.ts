/**
 * `serve`: the query API on one machine. A node:http server in front of the same
 * `handleApiRequest` the Lambda runs, with DuckDB over a folder archive instead of Athena, the
 * ledger folder as the catalog and a key file in the archive (`_keys/next-token.key`) for nextTokens.
 * Locally there is no authentication: it listens on 127.0.0.1 unless told otherwise.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Clock, createLogger, DAY_MS, type Logger } from '@eventlog-archive/shared';
import { LocalStore } from '../../lambdas/ingest/archive/local-store';
import { parseArchiveUri } from '../../lambdas/ingest/archive/store';
import { codecatalyst } from '../../lambdas/ingest/sources/codecatalyst';
import { type ApiDeps, type ApiRequest, handleApiRequest, MAX_BODY_BYTES } from '../../lambdas/query/api';
import { archivedInstances, storeCatalog } from '../../lambdas/query/catalog';
import { createDuckDbEngine } from '../../lambdas/query/duckdb-engine';
import { loadLocalTokenKeys, NextTokenCodec } from '../../lambdas/query/next-token';
import { archiveOption, intOption, parse, UsageError } from './args';

export const DEFAULT_PORT = 3000;
export const DEFAULT_HOST = '127.0.0.1';
// Past the body limit the rest is drained unread; a body this large is cut off by closing the connection.
const DRAIN_LIMIT_BYTES = 16 * 1024 * 1024;

export interface ServeOptions {
  /** Archive URI: `file:///abs/path` or a folder path (an `s3://` archive is not served locally). */
  archive: string;
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
}

export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:3000`. */
  url: string;
  /** The archive folder served. */
  dir: string;
  /** Stops listening, ends open connections and closes the engine. */
  close(): Promise<void>;
}

/** The archive folder of a URI; an `s3://` archive is a usage error (DuckDB cannot reach S3 offline). */
export function localArchiveDir(archive: string): string {
  const location = parseArchiveUri(archive);
  if (location.kind !== 'file')
    throw new UsageError(
      '--archive: serve and query read a folder archive (file:///abs/path or a path); an s3:// archive is ' +
        "queried through the deployed API or Athena (DuckDB's httpfs extension cannot be installed offline)",
    );
  return location.dir;
}

/**
 * Starts the local API.
 *
 * @example
 * const server = await startServer({ archive: './data', port: 0 });
 * const res = await fetch(`${server.url}/v1/spaces/demo-space/eventLogs`, { method: 'POST', body: '{…}' });
 * await server.close();
 */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const dir = localArchiveDir(options.archive);
  const store = new LocalStore(dir);
  const engine = await createDuckDbEngine(dir);
  const logger = options.logger ?? createLogger({ serviceName: 'eventlog-archive-serve' });
  let tokens: Promise<NextTokenCodec> | undefined;
  const deps: ApiDeps = {
    engine,
    catalog: storeCatalog(store),
    // Created on the first page that needs a nextToken, so serving a read-only folder works until then.
    tokens: () => {
      tokens ??= loadLocalTokenKeys(store).then(
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

  const server = createServer((req, res) => {
    readBody(req, res, (body, tooLarge) => {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const requestId = randomUUID();
      const request: ApiRequest = {
        method: req.method ?? 'GET',
        path: q < 0 ? url : url.slice(0, q),
        query: queryParams(q < 0 ? '' : url.slice(q + 1)),
        headers: req.headers,
        body,
        bodyTooLarge: tooLarge,
        requestId,
      };
      void handleApiRequest(request, deps).then((response) => {
        if (res.destroyed) return;
        res.writeHead(response.statusCode, {
          ...response.headers,
          'content-length': String(Buffer.byteLength(response.body, 'utf8')),
          'x-amzn-RequestId': requestId,
        });
        res.end(response.body);
      });
    });
  });
  const host = options.host ?? DEFAULT_HOST;
  const port = options.port ?? DEFAULT_PORT;
  await new Promise<void>((resolve, reject) => {
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
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${address.port}`,
    dir,
    close: () => {
      closed ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await stopped;
        await engine.close();
      })();
      return closed;
    },
  };
}

/** Collects a body up to the API's limit; past it the rest is drained and the request flagged. */
function readBody(
  req: IncomingMessage,
  res: ServerResponse,
  done: (body: string | undefined, tooLarge: boolean) => void,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES + 1) chunks.push(chunk);
    if (size > DRAIN_LIMIT_BYTES) {
      res.writeHead(400, {
        'content-type': 'application/json',
        'x-amzn-ErrorType': 'ValidationException',
        connection: 'close',
      });
      res.end(JSON.stringify({ message: `body: must not be larger than ${MAX_BODY_BYTES} bytes` }));
      req.destroy();
    }
  });
  req.on('error', () => res.destroy());
  req.on('end', () => {
    if (size > DRAIN_LIMIT_BYTES) return;
    done(size === 0 ? undefined : Buffer.concat(chunks).toString('utf8'), size > MAX_BODY_BYTES);
  });
}

/** What to print once the API is up: the URL, a `curl` that works, and the SDK configuration. */
export function serveBanner(url: string, space: string | undefined, now = Date.now()): string {
  const name = space ?? 'SPACE';
  const startTime = new Date(now - 30 * DAY_MS).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const endTime = new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const body = JSON.stringify({ startTime, endTime, maxResults: 5 });
  return [
    `Query API: ${url}  (POST /v1/spaces/{spaceName}/eventLogs, wire-compatible with CodeCatalyst ListEventLogs;`,
    `           GET /v2/list-system-events, wire-compatible with Resilience Hub ListSystemEvents)`,
    '',
    `Events of space ${name} over the last 30 days:`,
    `  curl -s -X POST '${url}/v1/spaces/${encodeURIComponent(name)}/eventLogs' -H 'content-type: application/json' -d '${body}'`,
    '',
    'The AWS SDK, pointed at it (serve does not check authentication locally; any token works):',
    "  import { CodeCatalystClient, paginateListEventLogs } from '@aws-sdk/client-codecatalyst';",
    `  const client = new CodeCatalystClient({ endpoint: '${url}', region: 'us-east-1', token: { token: 'local' } });`,
    `  for await (const page of paginateListEventLogs({ client }, { spaceName: '${name}', startTime: new Date('${startTime}'), endTime: new Date('${endTime}') }))`,
    '    for (const event of page.items ?? []) console.log(event.eventTime, event.eventName, event.userIdentity?.userName);',
    '',
    'Extra body filters: userName, projectName, operationType, eventSource, errorCode.',
    '',
    'Resilience Hub system events (wire-compatible with ListSystemEvents; eventTypes may repeat):',
    `  curl -s '${url}/v2/list-system-events?systemArn=SYSTEM_ARN&eventTypes=SYSTEM_CREATED&eventTypes=SYSTEM_DELETED&maxResults=5'`,
    '',
    'Ctrl-C stops the server.',
  ].join('\n');
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

/**
 * Serves an archive until SIGINT/SIGTERM, printing the banner (with an example for `space`, else
 * for the first archived space). Returns the exit code.
 */
export async function serveUntilSignal(options: ServeOptions & { space?: string }): Promise<number> {
  const server = await startServer(options);
  try {
    const spaces = await archivedInstances(new LocalStore(server.dir), codecatalyst);
    const space = options.space ?? spaces[0];
    process.stdout.write(`Serving the archive ${server.dir} at ${server.url}\n`);
    process.stdout.write(
      spaces.length > 0
        ? `Archived spaces: ${spaces.join(', ')}\n\n`
        : 'No space archived yet: every request answers 404 until an ingest run records one.\n\n',
    );
    if ((options.host ?? DEFAULT_HOST) !== DEFAULT_HOST && options.host !== 'localhost')
      process.stdout.write(`WARNING: listening on ${options.host} without authentication.\n\n`);
    process.stdout.write(`${serveBanner(server.url, space, (options.clock ?? Date.now)())}\n`);
    const signal = await untilSignal();
    process.stdout.write(`\n${signal}: stopping\n`);
  } finally {
    await server.close();
  }
  return 0;
}

export async function serveCommand(args: string[], clock: Clock): Promise<number> {
  const values = parse(args, {
    archive: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    'token-ttl-seconds': { type: 'string' },
  });
  const archive = archiveOption(values);
  localArchiveDir(archive);
  const host = values.host === undefined ? DEFAULT_HOST : String(values.host);
  if (host === '') throw new UsageError('--host: must not be empty');
  return serveUntilSignal({
    archive,
    host,
    port: intOption(values, 'port', DEFAULT_PORT, 0, 65535),
    tokenTtlSeconds: intOption(values, 'token-ttl-seconds', 24 * 3600, 60, 30 * 24 * 3600),
    clock,
  });
}

/**
 * A query string as the API takes it: percent-decoded, a repeated parameter as the list of its
 * values. `+` stays a plus sign (as AWS services read query strings; a system ARN may contain `+`),
 * and a malformed escape is kept as sent, for the route's validation to reject.
 */
export function queryParams(search: string): Record<string, string | string[]> {
  const decode = (text: string): string => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  const out: Record<string, string | string[]> = {};
  for (const part of search.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = decode(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : decode(part.slice(eq + 1));
    const seen = Object.hasOwn(out, key) ? out[key] : undefined;
    out[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return out;
}
