/**
 * `eventlog-archive <command>`: the archive on one machine. `ingest` runs exactly the code the
 * ingest Lambda runs; `coverage` reads the ledger. Bad arguments print one line naming the argument
 * and the rule, and exit with code 2.
 */
import { parseArgs } from 'node:util';
import { createLogger, DAY_MS, floorTo, isApiError, MINUTE_MS, parseRfc3339 } from '@eventlog-archive/shared';
import { tableLedgerPrefix } from '../lambdas/ingest/archive/layout';
import { coverageOf, listLedgerDays, readLedgerDays } from '../lambdas/ingest/archive/ledger';
import { openArchive, parseArchiveUri } from '../lambdas/ingest/archive/store';
import { DEFAULT_SETTINGS, type IngestProgress } from '../lambdas/ingest/pipeline';
import { allSucceeded, runIngest } from '../lambdas/ingest/run';
import { SOURCES, sourceByName } from '../lambdas/ingest/sources';
import type { SourceModule } from '../lambdas/ingest/sources/types';

/** A bad command line: printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

const USAGE = `usage: eventlog-archive <command> [options]

commands:
  ingest    --source codecatalyst --space NAME [--from T] [--to T] --archive URI
            [--slice-minutes N] [--lookback-minutes N] [--backfill-days N] [--concurrency N] [--json]
  coverage  --archive URI [--source codecatalyst] [--space NAME] [--from T] [--to T]
            [--slice-minutes N] [--lookback-minutes N] [--json]

Times are RFC 3339 (2024-05-01T00:00:00Z). URI is file:///abs/path, a relative path, or s3://bucket/prefix.
Environment: CODECATALYST_TOKEN (a personal access token), AWS_ENDPOINT_URL_CODECATALYST, AWS_ENDPOINT_URL_S3.`;

type Values = Record<string, string | boolean | undefined>;

function parse(args: string[], options: Record<string, { type: 'string' | 'boolean' }>): Values {
  try {
    return parseArgs({
      args,
      options: { ...options, help: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }).values as Values;
  } catch (err) {
    const message = (err as Error).message
      .replace(/\. To specify.*$/s, '')
      .replace(/^Unknown option/, 'unknown option');
    throw new UsageError(message);
  }
}

function required(values: Values, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name}: is required`);
  return value;
}

function intOption(values: Values, name: string, fallback: number, min: number, max: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || n < min || n > max)
    throw new UsageError(`--${name}: must be an integer from ${min} to ${max}`);
  return n;
}

function timeOption(values: Values, name: string): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  try {
    return parseRfc3339(raw, `--${name}`);
  } catch (err) {
    throw new UsageError(isApiError(err) ? err.message : String(err));
  }
}

function sourceOption(values: Values, fallback?: string): SourceModule {
  const name = (values.source as string | undefined) ?? fallback;
  if (name === undefined)
    throw new UsageError(`--source: is required (one of ${Object.keys(SOURCES).join(', ')})`);
  const source = sourceByName(name);
  if (!source)
    throw new UsageError(`--source: must be one of ${Object.keys(SOURCES).join(', ')} (got "${name}")`);
  return source;
}

function instanceOption(values: Values, source: SourceModule, isRequired: boolean): string | undefined {
  const flag = `--${source.instanceOption}`;
  const raw = values[source.instanceOption];
  if (raw === undefined) {
    if (isRequired) throw new UsageError(`${flag}: is required`);
    return undefined;
  }
  try {
    return source.checkInstance(raw, flag);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function archiveOption(values: Values): string {
  const uri = required(values, 'archive');
  try {
    return parseArchiveUri(uri).uri;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

const INSTANCE_OPTIONS = Object.fromEntries(
  Object.values(SOURCES).map((s) => [s.instanceOption, { type: 'string' as const }]),
);
const TUNING_OPTIONS = {
  'slice-minutes': { type: 'string' },
  'lookback-minutes': { type: 'string' },
} as const;

function tuning(values: Values): { sliceMs: number; lookbackMs: number } {
  const sliceMinutes = intOption(values, 'slice-minutes', DEFAULT_SETTINGS.sliceMs / MINUTE_MS, 1, 1440);
  if (1440 % sliceMinutes !== 0) throw new UsageError('--slice-minutes: must divide a day (1440 minutes)');
  return {
    sliceMs: sliceMinutes * MINUTE_MS,
    lookbackMs:
      intOption(values, 'lookback-minutes', DEFAULT_SETTINGS.lookbackMs / MINUTE_MS, 0, 10080) * MINUTE_MS,
  };
}

async function ingest(args: string[]): Promise<number> {
  const values = parse(args, {
    source: { type: 'string' },
    ...INSTANCE_OPTIONS,
    from: { type: 'string' },
    to: { type: 'string' },
    archive: { type: 'string' },
    ...TUNING_OPTIONS,
    'backfill-days': { type: 'string' },
    concurrency: { type: 'string' },
    json: { type: 'boolean' },
  });
  const source = sourceOption(values);
  const instance = instanceOption(values, source, true)!;
  const archive = archiveOption(values);
  const from = timeOption(values, 'from');
  const to = timeOption(values, 'to');
  if (from !== undefined && to !== undefined && from >= to)
    throw new UsageError('--to: must be later than --from');
  const settings = {
    ...tuning(values),
    backfillDays: intOption(values, 'backfill-days', source.retentionDays, 1, 3650),
    maxConcurrency: intOption(values, 'concurrency', DEFAULT_SETTINGS.maxConcurrency, 1, 256),
  };

  const logger = createLogger({ serviceName: 'eventlog-archive-cli' });
  const store = await openArchive(archive);
  let client: Awaited<ReturnType<SourceModule['createClient']>>;
  try {
    client = await source.createClient({});
  } catch (err) {
    process.stderr.write(`eventlog-archive: ${(err as Error).message}\n`);
    return 1;
  }
  const tty = process.stderr.isTTY === true;
  const show = (p: IngestProgress): void => {
    const rate = p.elapsedMs > 0 ? Math.round((p.events * 1000) / p.elapsedMs) : 0;
    process.stderr.write(
      `\r\x1b[2Kwindows ${p.windowsDone}/${p.windowsTotal} · days ${p.daysDone} · events ${p.events.toLocaleString('en-US')} · ${rate.toLocaleString('en-US')} ev/s · throttles ${p.throttles} · concurrency ${p.concurrency}`,
    );
  };
  const [outcome] = await runIngest({
    source,
    instances: [instance],
    store,
    client,
    settings,
    logger,
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
    ...(tty ? { onProgress: show } : {}),
  });
  if (tty) process.stderr.write('\n');
  if (values.json) {
    process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
  } else if (outcome?.error) {
    process.stderr.write(
      `eventlog-archive: ${source.instanceOption} ${instance} failed: ${outcome.error.name}: ${outcome.error.message}\n`,
    );
  } else if (outcome?.result) {
    const r = outcome.result;
    if (r.status === 'busy') {
      process.stdout.write(
        `another run is ingesting ${source.instanceOption} ${instance} (lease held until ${r.busy?.expiresAt}); nothing done\n`,
      );
    } else {
      process.stdout.write(
        `${r.status}: ${source.title} of ${source.instanceOption} ${instance}, ${r.from} → ${r.to}: ` +
          `${r.windowsDone}/${r.windowsTotal} windows, ${r.daysDone} days, ${r.events} events fetched (${r.newEvents} new), ` +
          `${r.pages} pages, ${r.throttles} throttles, ${r.retries} retries, ${(r.elapsedMs / 1000).toFixed(1)} s\n`,
      );
      for (const failure of r.failures) process.stderr.write(`  failed: ${failure}\n`);
      if (r.windowsRemaining > 0)
        process.stderr.write(`  ${r.windowsRemaining} windows left for the next run\n`);
    }
  }
  return outcome && allSucceeded([outcome]) ? 0 : 1;
}

async function coverage(args: string[]): Promise<number> {
  const values = parse(args, {
    source: { type: 'string' },
    ...INSTANCE_OPTIONS,
    from: { type: 'string' },
    to: { type: 'string' },
    archive: { type: 'string' },
    ...TUNING_OPTIONS,
    json: { type: 'boolean' },
  });
  const archive = archiveOption(values);
  const sources = values.source === undefined ? Object.values(SOURCES) : [sourceOption(values)];
  const { sliceMs, lookbackMs } = tuning(values);
  const store = await openArchive(archive);
  const now = Date.now();
  const reports = [];
  for (const source of sources) {
    const only = instanceOption(values, source, false);
    const instances = only ? [only] : await instancesInLedger(store, source);
    for (const instance of instances) {
      const table = {
        table: source.table,
        partitionKey: source.partitionKey,
        partitionValue: source.partitionValue(instance),
      };
      const days = await listLedgerDays(store, table);
      const ledger = await readLedgerDays(store, table, days);
      // By default the report spans what the archive has: from its first recorded window.
      const firstWindow = Object.keys(ledger.get(days[0] ?? '')?.windows ?? {})[0];
      const from =
        timeOption(values, 'from') ??
        (firstWindow ? Date.parse(firstWindow) : now - source.retentionDays * DAY_MS);
      const to = timeOption(values, 'to') ?? floorTo(now, sliceMs);
      if (from >= to) throw new UsageError('--to: must be later than --from');
      reports.push(
        coverageOf(ledger, {
          source: source.name,
          instance,
          from: floorTo(from, sliceMs),
          to,
          sliceMs,
          lookbackMs,
        }),
      );
    }
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
    return 0;
  }
  if (reports.length === 0) {
    process.stdout.write(`nothing archived yet in ${archive}\n`);
    return 0;
  }
  const label = {
    final: 'covered',
    provisional: 're-sweep pending (inside lookback)',
    missing: 'GAP',
  } as const;
  for (const r of reports) {
    process.stdout.write(
      `${r.source} ${r.instance}: ${r.from} → ${r.to} in ${r.sliceMinutes}-minute windows: ` +
        `${r.windows.final} covered, ${r.windows.provisional} to re-sweep, ${r.windows.missing} gaps; ${r.events} events\n`,
    );
    for (const run of r.runs) {
      process.stdout.write(
        `  ${run.start} → ${run.end}  ${label[run.status].padEnd(36)} ${String(run.windows).padStart(5)} windows ${String(run.events).padStart(9)} events\n`,
      );
    }
  }
  return 0;
}

async function instancesInLedger(
  store: Awaited<ReturnType<typeof openArchive>>,
  source: SourceModule,
): Promise<string[]> {
  const found = new Set<string>();
  const prefix = tableLedgerPrefix(source.table);
  for await (const object of store.list(prefix)) {
    const match = new RegExp(`^${source.partitionKey}=([^/]+)/`).exec(object.key.slice(prefix.length));
    if (match?.[1]) found.add(match[1]);
  }
  return [...found].sort();
}

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = { ingest, coverage };

export async function main(argv: string[]): Promise<number> {
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
  try {
    return await run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`eventlog-archive ${command}: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(
      `eventlog-archive ${command}: ${(err as Error)?.name ?? 'Error'}: ${(err as Error)?.message ?? String(err)}\n`,
    );
    return 1;
  }
}
