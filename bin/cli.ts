/**
 * `eventlog-archive <command>`: the archive on one machine. Each command lives in bin/commands/ and
 * is imported only when it runs: `--help`, `--version` and a mistyped command load no command's code
 * (in the bundle, each command is its own chunk; DuckDB, the S3 client and KMS load only with the
 * commands that use them). Bad arguments print one line naming the argument and the rule, exit 2;
 * a failed run exits 1.
 */
import { readFileSync } from 'node:fs';
import type { Command } from './commands/run-command';
import { writeLine } from './commands/terminal';

const USAGE = `usage: eventlog-archive <command> [options]
       eventlog-archive --help | --version

commands:
  ingest    --source codecatalyst --space NAME [--from T] [--to T] --archive URI
            [--slice-minutes N] [--lookback-minutes N] [--backfill-days N] [--concurrency N] [--json]
  ingest    --source resiliencehub --system-arn ARN [--from T] [--to T] --archive URI
            [--slice-minutes N] [--lookback-minutes N] [--backfill-days N] [--concurrency N] [--json]
  coverage  --archive URI [--source codecatalyst|resiliencehub] [--space NAME | --system-arn ARN]
            [--from T] [--to T] [--slice-minutes N] [--lookback-minutes N] [--json] [CACHE]
  serve     --archive URI [--port N (3000)] [--host H (127.0.0.1)] [--token-ttl-seconds N (86400)]
            [--auth none|token] [--authorizer-cache-seconds N (60)] [CACHE]
            the ListEventLogs-compatible API: POST /v1/spaces/{spaceName}/eventLogs, and the
            ListSystemEvents-compatible API: GET /v2/list-system-events?systemArn=… (no auth locally;
            --auth token: the ListEventLogs route needs a bearer token from \`token create\`, as in AWS)
  query     --space NAME --from T [--to T (now)] [--event-name X] [--user-name U] [--project-name P]
            [--operation-type T] [--event-source S] [--error-code C] [--request-id R]
            [--limit N] [--format table|json|csv | --json] --archive URI [CACHE]
  query     --system-arn ARN --from T [--to T (now)] [--event-type T]...
            [--limit N] [--format table|json|csv | --json] --archive URI [CACHE]
            archived events at a terminal, in archive order; json is an array of events exactly as
            ListEventLogs (items) or ListSystemEvents (events) returns them
  start     [--space NAME] [--archive URI (./data)] [--port N (3000)]
            ingest (a real space with CODECATALYST_TOKEN, else a labelled demo), then serve the archive
  export    --format ocsf --archive URI --out URI [--source S] [--space NAME | --system-arn ARN]
            [--from T] [--to T] [--region R] [--account-id A] [--json]
            archived days as OCSF Parquet in Amazon Security Lake's layout for a custom source (--out:
            a folder or s3://<lake bucket>/ext/<source name>/); whole days, re-runs replace, never duplicate
  token     create --archive URI --name N [--expires-days D (90)] [--space NAME]... [--json]
            list --archive URI [--json]
            revoke --archive URI (--id ID | --name N) [--json]
            bearer tokens for the deployed API (query.authorization "token") and serve --auth token;
            create prints the token once on stdout; the archive keeps only a salted hash
  verify    --archive URI [--from T] [--to T] [--source codecatalyst|resiliencehub]
            [--space NAME | --system-arn ARN] [--public-key FILE | --signing-key-arn ARN]
            [--seal-grace-minutes N (60)] [--json]
            checks the signed digest chains and every data object against them; exit 1 on any problem

Times are RFC 3339 (2024-05-01T00:00:00Z). URI is file:///abs/path, a relative path, or s3://bucket/prefix
(start archives into a folder only).
CACHE: [--cache-dir D] [--cache-max-bytes N (2G)]: where serve and query keep the day objects of an s3://
archive (default $EVENTLOG_ARCHIVE_CACHE_DIR, else $XDG_CACHE_HOME/eventlog-archive, else
~/.cache/eventlog-archive; bound also EVENTLOG_ARCHIVE_CACHE_MAX_BYTES); the bucket is only read.
Environment: CODECATALYST_TOKEN (a personal access token), AWS_ENDPOINT_URL_CODECATALYST, AWS_ENDPOINT_URL_S3;
for S3 and Resilience Hub: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN (else the default
credential chain: profiles, SSO, instance roles), AWS_ENDPOINT_URL_RESILIENCEHUBV2 (endpoint override),
RESILIENCEHUB_SIGNING_NAME (SigV4 signing name, default resiliencehub).
Digests: DIGEST_SIGNING_KEY_ARN (a KMS ECC_NIST_P256 key; AWS_ENDPOINT_URL_KMS) or DIGEST_SIGNING_KEY_FILE
(a PEM EC P-256 key; default for folder archives: <archive>/_keys/digest-signing-key.pem).
Clock: EVENTLOG_ARCHIVE_NOW (RFC 3339) starts the commands' clock at that instant, for a reproducible run.
Exit codes: 0 done, 1 failed (verify: a problem found), 2 bad arguments (one line on stderr naming the argument
and the rule). --json prints one JSON document on stdout. EVENTLOG_ARCHIVE_FROM_SOURCES=1 runs the TypeScript
sources instead of the bundle that npm ci builds (dist/cli/).`;

// Every command reads the time from the one clock it is given (EVENTLOG_ARCHIVE_NOW pins it).
const COMMANDS: Record<string, () => Promise<Command>> = {
  ingest: async () => (await import('./commands/ingest')).ingestCommand,
  coverage: async () => (await import('./commands/coverage')).coverageCommand,
  serve: async () => (await import('./commands/serve-command')).serveCommand,
  query: async () => (await import('./commands/query')).queryCommand,
  start: async () => (await import('./commands/start')).startCommand,
  export: async () => (await import('./commands/export')).exportCommand,
  token: async () => (await import('./commands/token')).tokenCommand,
  verify: async () => (await import('./commands/verify')).verifyCommand,
};

/** The package's version (package.json, read when asked: the bundle carries no copy to go stale). */
export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command === '--version') {
    process.stdout.write(`${cliVersion()}\n`);
    return 0;
  }
  const load = command !== undefined && Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (command === undefined || !load) {
    const what = command === undefined ? 'a command is required' : `unknown command "${command}"`;
    writeLine(
      process.stderr,
      `eventlog-archive: ${what} (one of ${Object.keys(COMMANDS).join(', ')}; eventlog-archive --help shows their options)`,
    );
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  // The clock, the error handling and the command itself load only once a command runs.
  const { runCommand } = await import('./commands/run-command');
  return runCommand(command, load, rest, env);
}
