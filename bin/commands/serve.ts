/**
 * `serve`: the query API on one machine. A node:http server in front of the same
 * `handleApiRequest` the Lambda runs, with DuckDB over a folder archive instead of Athena (or over
 * a local cache of an S3 archive's day objects), the ledger as the catalog and a local key file for
 * nextTokens.
 * Locally there is no authentication: it listens on 127.0.0.1 unless told otherwise, and answers
 * only requests addressed to it by that name (Host and Origin checks against DNS rebinding and
 * cross-site requests from a browser), under limits on time, queue and concurrency.
 */
import { DAY_MS } from '@eventlog-archive/shared';
import { codecatalystDefinition } from '../../lambdas/core/sources';
import { archivedInstances } from '../../lambdas/query/catalog';
import { DEFAULT_HOST, type ServeAuth, type ServeOptions, startServer } from './serve-server';
import { printable } from './terminal';

// The server lives in serve-server.ts; its API is re-exported here for the commands, tests and bench.
export {
  DEFAULT_BODY_TIMEOUT_MS,
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_QUERY_TIMEOUT_MS,
  queryParams,
  type RunningServer,
  type ServeAuth,
  type ServeLimits,
  type ServeOptions,
  startServer,
} from './serve-server';

/** What to print once the API is up: the URL, a `curl` that works, and the SDK configuration. */
export function serveBanner(
  url: string,
  space: string | undefined,
  now = Date.now(),
  auth: ServeAuth['mode'] = 'none',
): string {
  // A space name from the archive's folders is shown with its control characters escaped.
  const raw = space ?? 'SPACE';
  const tokens = auth === 'token';
  const name = printable(raw);
  const startTime = new Date(now - 30 * DAY_MS).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const endTime = new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const body = JSON.stringify({ startTime, endTime, maxResults: 5 });
  return [
    `Query API: ${url}  (POST /v1/spaces/{spaceName}/eventLogs, wire-compatible with CodeCatalyst ListEventLogs;`,
    `           GET /v2/list-system-events, wire-compatible with Resilience Hub ListSystemEvents)`,
    '',
    `Events of space ${name} over the last 30 days:`,
    `  curl -s -X POST '${url}/v1/spaces/${encodeURIComponent(raw)}/eventLogs' -H 'content-type: application/json'${tokens ? ' -H "authorization: Bearer $TOKEN"' : ''} -d '${body}'`,
    '',
    tokens
      ? 'The AWS SDK, pointed at it, with a token of this archive (--auth token; make one with `eventlog-archive token create --archive … --name …`):'
      : 'The AWS SDK, pointed at it (serve does not check authentication locally; any token works):',
    "  import { CodeCatalystClient, paginateListEventLogs } from '@aws-sdk/client-codecatalyst';",
    `  const client = new CodeCatalystClient({ endpoint: '${url}', region: 'us-east-1', token: { token: ${tokens ? 'process.env.TOKEN' : "'local'"} } });`,
    `  for await (const page of paginateListEventLogs({ client }, { spaceName: '${name}', startTime: new Date('${startTime}'), endTime: new Date('${endTime}') }))`,
    '    for (const event of page.items ?? []) console.log(event.eventTime, event.eventName, event.userIdentity?.userName);',
    '',
    'Extra body filters: userName, projectName, operationType, eventSource, errorCode, requestId.',
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
    const spaces = await archivedInstances(server.store, codecatalystDefinition);
    const space = options.space ?? spaces[0];
    process.stdout.write(`Console: ${server.url}/  (open it in a browser: events, coverage, integrity)\n\n`);
    process.stdout.write(`Serving the archive ${server.describe} at ${server.url}\n`);
    process.stdout.write(
      spaces.length > 0
        ? `Archived spaces: ${spaces.map(printable).join(', ')}\n\n`
        : 'No space archived yet: every request answers 404 until an ingest run records one.\n\n',
    );
    if ((options.host ?? DEFAULT_HOST) !== DEFAULT_HOST && options.host !== 'localhost')
      process.stdout.write(
        options.auth?.mode === 'token'
          ? `WARNING: listening on ${options.host}: ListEventLogs needs a token, but ListSystemEvents and the console answer without one (requests must name the host, or a loopback name, in Host).\n\n`
          : `WARNING: listening on ${options.host} without authentication (requests must name it, or a loopback name, in Host).\n\n`,
      );
    process.stdout.write(
      `${serveBanner(server.url, space, (options.clock ?? Date.now)(), options.auth?.mode ?? 'none')}\n`,
    );
    // Repeated last, where a terminal leaves it in sight.
    process.stdout.write(`\nConsole: ${server.url}/\n`);
    const signal = await untilSignal();
    process.stdout.write(`\n${signal}: stopping\n`);
  } finally {
    await server.close();
  }
  return 0;
}
