/** `coverage`: which windows the archive holds completely, which it will sweep again, which are gaps. */
import { type Clock, DAY_MS, floorTo } from '@eventlog-archive/shared';
import { coverageOf, listLedgerDays, readLedgerDays } from '../../lambdas/core/ledger';
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
import { writeLine } from './terminal';

export async function coverageCommand(args: string[], clock: Clock): Promise<number> {
  const values = parse(args, {
    ...selectionOptions(),
    json: { type: 'boolean' },
  });
  const archive = archiveOption(values);
  const sources = values.source === undefined ? Object.values(SOURCE_DEFINITIONS) : [sourceOption(values)];
  const { sliceMs, lookbackMs } = tuning(values);
  const store = await openArchive(archive);
  const now = clock();
  const reports = [];
  for (const source of sources) {
    const only = instanceOption(values, source, false);
    // The ledger's folders are partition values, which are not always the instance (a system ARN is
    // hashed into `<slug>-<hash>`): each folder's ledger documents name their instance.
    const partitionValues = only ? [source.partitionValue(only)] : await archivedInstances(store, source);
    for (const partitionValue of partitionValues) {
      const table = { table: source.table, partitionKey: source.partitionKey, partitionValue };
      const days = await listLedgerDays(store, table);
      const ledger = await readLedgerDays(store, table, days);
      const instance = only ?? ledger.get(days[0] ?? '')?.instance ?? partitionValue;
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
