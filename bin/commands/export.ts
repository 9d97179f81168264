/**
 * `export --format ocsf`: archived days as OCSF Parquet objects in Amazon Security Lake's layout for
 * a custom source, to a folder or to `s3://<security lake bucket>/ext/<source name>/`
 * (lambdas/core/ocsf/export.ts). `--out` is one custom source's root, and a custom source takes one
 * OCSF class, so one run exports one source. The range picks days; each day is written whole, under
 * the one name its instance and day have, so a re-run replaces rather than duplicates.
 */
import { type Clock, iso, utcDay } from '@eventlog-archive/shared';
import { listLedgerDays, readLedgerDay } from '../../lambdas/core/ledger';
import {
  type LakeDefaults,
  lakeObjectOf,
  ocsfSourceOf,
  readArchivedDay,
} from '../../lambdas/core/ocsf/export';
import { SOURCE_DEFINITIONS } from '../../lambdas/core/sources';
import type { SourceDefinition } from '../../lambdas/core/sources/types';
import { openArchive, parseArchiveUri } from '../../lambdas/core/store';
import { archivedInstances } from '../../lambdas/query/catalog';
import {
  archiveOption,
  instanceOption,
  parse,
  selectionOptions,
  sourceOption,
  timeOption,
  UsageError,
} from './args';
import { writeLine } from './terminal';

/** One day of one instance, as written. */
export interface ExportedDay {
  source: string;
  instance: string;
  day: string;
  events: number;
  bytes: number;
  /** The object's key under `--out`. */
  key: string;
}

export async function exportCommand(args: string[], clock: Clock): Promise<number> {
  const values = parse(args, {
    ...selectionOptions(),
    format: { type: 'string' },
    out: { type: 'string' },
    region: { type: 'string' },
    'account-id': { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.format === undefined) throw new UsageError('--format: is required (ocsf)');
  if (values.format !== 'ocsf')
    throw new UsageError(`--format: must be ocsf (got "${String(values.format)}")`);
  const archive = archiveOption(values);
  const out = outOption(values.out);
  const from = timeOption(values, 'from');
  const to = timeOption(values, 'to') ?? clock();
  if (from !== undefined && from >= to) throw new UsageError('--to: must be later than --from');
  const defaults: LakeDefaults = {
    ...(typeof values.region === 'string' ? { region: values.region } : {}),
    ...(typeof values['account-id'] === 'string' ? { accountId: values['account-id'] } : {}),
  };

  const store = await openArchive(archive);
  const source = await exportedSource(values, store);
  const only = instanceOption(values, source, false);
  // Checked before anything is written: the source has a mapping, and its partition values are known.
  if (only) partitionOf(source, only, defaults);
  else usage(() => ocsfSourceOf(source));
  const target = await openArchive(out);
  const written: ExportedDay[] = [];
  for (const partitionValue of only
    ? [source.partitionValue(only)]
    : await archivedInstances(store, source)) {
    const table = { table: source.table, partitionKey: source.partitionKey, partitionValue };
    const days = (await listLedgerDays(store, table)).filter(
      (day) => (from === undefined || day >= utcDay(from)) && day <= utcDay(to - 1),
    );
    if (days.length === 0) continue;
    // A ledger document names its instance; a folder name is only its path-safe form (a system ARN is hashed).
    const instance = only ?? (await readLedgerDay(store, table, days[0]!))?.instance;
    if (!instance) continue;
    const partition = partitionOf(source, instance, defaults);
    for (const day of days) {
      const archived = await readArchivedDay(store, source, instance, day);
      if (!archived) continue;
      const object = lakeObjectOf(source, instance, archived, partition);
      await target.put(object.key, object.body, { contentType: 'application/vnd.apache.parquet' });
      const done = {
        source: source.name,
        instance,
        day,
        events: object.events,
        bytes: object.body.length,
        key: object.key,
      };
      written.push(done);
      if (!values.json)
        writeLine(process.stderr, `${day} ${source.name} ${instance}: ${done.events} events → ${object.key}`);
    }
  }
  const events = written.reduce((n, d) => n + d.events, 0);
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ out: target.uri, exportedAt: iso(clock()), events, days: written }, null, 2)}\n`,
    );
  } else {
    writeLine(
      process.stdout,
      written.length === 0
        ? `nothing to export: no archived ${source.title} day in the range`
        : `exported ${events} events in ${written.length} day objects to ${target.uri}`,
    );
  }
  return 0;
}

/** `--out`: a folder or an S3 prefix (the custom source's `ext/<source name>/`). */
function outOption(value: unknown): string {
  if (typeof value !== 'string' || value === '')
    throw new UsageError('--out: is required (a folder, or s3://<security lake bucket>/ext/<source name>/)');
  try {
    return parseArchiveUri(value).uri;
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^--archive/, '--out'));
  }
}

/** The one source to export: `--source`, else the archive's only one. */
async function exportedSource(
  values: ReturnType<typeof parse>,
  store: Awaited<ReturnType<typeof openArchive>>,
): Promise<SourceDefinition> {
  if (values.source !== undefined) return sourceOption(values);
  const present: SourceDefinition[] = [];
  for (const source of Object.values(SOURCE_DEFINITIONS))
    if ((await archivedInstances(store, source)).length > 0) present.push(source);
  if (present.length === 1) return present[0]!;
  throw new UsageError(
    `--source: is required${present.length > 1 ? ' (the archive holds more than one source, and a Security Lake custom source takes one OCSF class)' : ''}: one of ${Object.keys(SOURCE_DEFINITIONS).join(', ')}`,
  );
}

function partitionOf(source: SourceDefinition, instance: string, defaults: LakeDefaults) {
  return usage(() => ocsfSourceOf(source).partition(instance, defaults));
}

/** `run`'s result; its error (a bad option value) as a usage error. */
function usage<T>(run: () => T): T {
  try {
    return run();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
