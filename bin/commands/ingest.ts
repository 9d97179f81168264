/** `ingest`: exactly the code the ingest Lambda runs, with progress at a terminal. */
import { type Clock, createLogger } from '@eventlog-archive/shared';
import { openArchive } from '../../lambdas/core/store';
import {
  type CommitStep,
  DEFAULT_SETTINGS,
  type IngestProgress,
  type IngestSettings,
} from '../../lambdas/ingest/ingest-instance';
import {
  allSucceeded,
  type InstanceOutcome,
  ingestionLagSeconds,
  runIngest,
} from '../../lambdas/ingest/ingest-run';
import { SOURCES } from '../../lambdas/ingest/sources';
import type { SourceModule } from '../../lambdas/ingest/sources/types';
import {
  archiveOption,
  instanceOption,
  intOption,
  parse,
  selectionOptions,
  sourceOption,
  timeOption,
  tuning,
  UsageError,
} from './args';
import { writeLine } from './terminal';

export interface ArchiveInstanceOptions {
  /** The source, or its name in the registry. */
  source: SourceModule | string;
  instance: string;
  archive: string;
  from?: number;
  to?: number;
  settings: Partial<IngestSettings>;
  /** Environment the source client reads (tokens, endpoints); process.env by default. */
  env?: NodeJS.ProcessEnv;
  json?: boolean;
  /** The run's clock: windows, leases, deadlines and the printed lag all read it. */
  clock: Clock;
}

export async function ingestCommand(args: string[], clock: Clock): Promise<number> {
  const values = parse(args, {
    ...selectionOptions(),
    'backfill-days': { type: 'string' },
    concurrency: { type: 'string' },
    json: { type: 'boolean' },
  });
  const source = sourceOption(values, SOURCES);
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

  return archiveInstance({
    source,
    instance,
    archive,
    settings,
    json: values.json === true,
    clock,
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
  });
}

/** Runs the ingest of one instance and reports it; returns the exit code (0 done, 1 failed). */
export async function archiveInstance(options: ArchiveInstanceOptions): Promise<number> {
  const { instance, archive, settings, from, to } = options;
  const source = typeof options.source === 'string' ? SOURCES[options.source] : options.source;
  if (!source) throw new TypeError(`source: must be one of ${Object.keys(SOURCES).join(', ')}`);
  const logger = createLogger({ serviceName: 'eventlog-archive-cli' });
  const store = await openArchive(archive);
  let client: Awaited<ReturnType<SourceModule['createClient']>>;
  try {
    client = await source.createClient(options.env ? { env: options.env } : {});
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
  const [outcome]: InstanceOutcome[] = await runIngest({
    source,
    instances: [instance],
    store,
    client,
    settings,
    logger,
    now: options.clock,
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
    ...(tty ? { onProgress: show } : {}),
    ...testKillHook(process.env.EVENTLOG_ARCHIVE_TEST_KILL_AT),
  });
  if (tty) process.stderr.write('\n');
  if (options.json) {
    process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
  } else if (outcome?.error) {
    // Human-readable lines below carry archive and source text (lease contents, error messages).
    writeLine(
      process.stderr,
      `eventlog-archive: ${source.instanceOption} ${instance} failed: ${outcome.error.name}: ${outcome.error.message}`,
    );
  } else if (outcome?.result) {
    const r = outcome.result;
    if (r.status === 'busy') {
      writeLine(
        process.stdout,
        `another run is ingesting ${source.instanceOption} ${instance} (lease held until ${r.busy?.expiresAt}); nothing done`,
      );
    } else {
      writeLine(
        process.stdout,
        `${r.status}: ${source.title} of ${source.instanceOption} ${instance}, ${r.from} → ${r.to}: ` +
          `${r.windowsDone}/${r.windowsTotal} windows, ${r.daysDone} days, ${r.events} events fetched (${r.newEvents} new), ` +
          `${r.pages} pages, ${r.throttles} throttles, ${r.retries} retries, ${(r.elapsedMs / 1000).toFixed(1)} s; ` +
          // The figures the Lambda publishes as metrics (docs/operations.md#metrics); the CLI prints no EMF.
          `${r.windowsReswept} windows re-swept, lag ${ingestionLagSeconds(r, options.clock()).toLocaleString('en-US')} s ` +
          `(complete through ${r.coveredThrough ?? 'no window yet'})`,
      );
      for (const failure of r.failures) writeLine(process.stderr, `  failed: ${failure}`);
      if (r.windowsRemaining > 0)
        writeLine(process.stderr, `  ${r.windowsRemaining} windows left for the next run`);
    }
  }
  return outcome && allSucceeded([outcome]) ? 0 : 1;
}

/**
 * Test-only crash switch, never set in normal use: `EVENTLOG_ARCHIVE_TEST_KILL_AT=<step>:<n>` makes
 * the process SIGKILL itself at the n-th (default first) commit step `<step>` of the pipeline, so the
 * fault tests (test/integration/faults) can crash a real CLI run between its writes and rerun it.
 */
function testKillHook(spec: string | undefined): { onStep?: (step: CommitStep) => void } {
  if (!spec) return {};
  const [step, nth = '1'] = spec.split(':');
  let seen = 0;
  return {
    onStep: (current) => {
      if (current === step && ++seen === Number(nth)) process.kill(process.pid, 'SIGKILL');
    },
  };
}
