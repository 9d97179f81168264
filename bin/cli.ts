/**
 * `eventlog-archive <command>`: the archive on one machine. Each command lives in bin/commands/;
 * bad arguments print one line naming the argument and the rule, and exit with code 2.
 */
import { type Clock, clockFromEnv, isApiError } from '@eventlog-archive/shared';
import { UsageError } from './commands/args';
import { coverageCommand } from './commands/coverage';
import { ingestCommand } from './commands/ingest';
import { startCommand } from './commands/start';
import { writeLine } from './commands/terminal';
import { verifyCommand } from './commands/verify';

const USAGE = `usage: eventlog-archive <command> [options]

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
            [--operation-type T] [--event-source S] [--error-code C] [--request-id R] [--limit N] [--format table|json|csv]
            --archive URI [CACHE]
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
Clock: EVENTLOG_ARCHIVE_NOW (RFC 3339) starts the commands' clock at that instant, for a reproducible run.`;

// Every command reads the time from the one clock it is given (EVENTLOG_ARCHIVE_NOW pins it).
const COMMANDS: Record<string, (args: string[], clock: Clock) => Promise<number>> = {
  ingest: ingestCommand,
  coverage: coverageCommand,
  // Loaded on use: they load DuckDB's native module, which the other commands do not need.
  serve: async (args, clock) => (await import('./commands/serve')).serveCommand(args, clock),
  query: async (args, clock) => (await import('./commands/query')).queryCommand(args, clock),
  token: async (args, clock) => (await import('./commands/token')).tokenCommand(args, clock),
  export: async (args, clock) => (await import('./commands/export')).exportCommand(args, clock),
  start: startCommand,
  verify: verifyCommand,
};

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command];
  if (!run) {
    process.stderr.write(`eventlog-archive: unknown command "${command}"\n${USAGE}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let clock: Clock;
  try {
    clock = clockFromEnv(env);
  } catch (err) {
    writeLine(process.stderr, `eventlog-archive: ${isApiError(err) ? err.message : String(err)}`);
    return 2;
  }
  try {
    return await run(rest, clock);
  } catch (err) {
    // Messages may quote archive text (keys, instance names) or arguments: printable, one line.
    if (err instanceof UsageError) {
      writeLine(process.stderr, `eventlog-archive ${command}: ${err.message}`);
      return 2;
    }
    writeLine(
      process.stderr,
      `eventlog-archive ${command}: ${(err as Error)?.name ?? 'Error'}: ${(err as Error)?.message ?? String(err)}`,
    );
    return 1;
  }
}
