/** `coverage`: which windows the archive holds completely, which it will sweep again, which are gaps. */
import type { Clock } from '@eventlog-archive/shared';
import { coverageRange, instanceCoverage, readInstanceLedger } from '../../lambdas/core/instance-coverage';
import { SOURCE_DEFINITIONS } from '../../lambdas/core/sources';
import { openArchive } from '../../lambdas/core/store';
import { archivedInstances } from '../../lambdas/query/catalog';
import {
  archiveOption,
  instanceOption,
  parse,
  selectionOptions,
  sourceOption,
  timeOption,
  tuning,
  UsageError,
} from './args';
import { CACHE_OPTIONS, cacheSettings } from './query-archive';
import { writeLine } from './terminal';

export async function coverageCommand(args: string[], clock: Clock): Promise<number> {
  const values = parse(args, {
    ...selectionOptions(),
    json: { type: 'boolean' },
    // Accepted like serve's and query's (checked, then unused): coverage reads only the ledger,
    // which is small and always read from the archive itself, S3 or folder.
    ...CACHE_OPTIONS,
  });
  const archive = archiveOption(values);
  cacheSettings(values);
  const sources = values.source === undefined ? Object.values(SOURCE_DEFINITIONS) : [sourceOption(values)];
  const { sliceMs, lookbackMs } = tuning(values);
  // Checked here, not only per instance below: an archive with nothing in it still refuses a bad time.
  const from = timeOption(values, 'from');
  const to = timeOption(values, 'to');
  if (from !== undefined && to !== undefined && from >= to)
    throw new UsageError('--to: must be later than --from');
  const store = await openArchive(archive);
  const now = clock();
  const reports = [];
  for (const source of sources) {
    const only = instanceOption(values, source, false);
    // The ledger's folders are partition values, which are not always the instance (a system ARN is
    // hashed into `<slug>-<hash>`): each folder's ledger documents name their instance.
    const partitionValues = only ? [source.partitionValue(only)] : await archivedInstances(store, source);
    for (const partitionValue of partitionValues) {
      const ledger = await readInstanceLedger(store, source, partitionValue, only);
      // By default the report spans what the archive has: from its first recorded window.
      const range = coverageRange(ledger, { from, to, now, sliceMs });
      if (range.from >= range.to) throw new UsageError('--to: must be later than --from');
      reports.push(instanceCoverage(ledger, range, { sliceMs, lookbackMs }));
    }
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
    return 0;
  }
  if (reports.length === 0) {
    writeLine(process.stdout, `nothing archived yet in ${archive}`);
    return 0;
  }
  const label = {
    final: 'covered',
    provisional: 're-sweep pending (inside lookback)',
    missing: 'GAP',
  } as const;
  // The instance name is the ledger's (archive text): printable, never raw.
  for (const r of reports) {
    writeLine(
      process.stdout,
      `${r.source} ${r.instance}: ${r.from} → ${r.to} in ${r.sliceMinutes}-minute windows: ` +
        `${r.windows.final} covered, ${r.windows.provisional} to re-sweep, ${r.windows.missing} gaps; ${r.events} events`,
    );
    for (const run of r.runs) {
      writeLine(
        process.stdout,
        `  ${run.start} → ${run.end}  ${label[run.status].padEnd(36)} ${String(run.windows).padStart(5)} windows ${String(run.events).padStart(9)} events`,
      );
    }
  }
  return 0;
}
