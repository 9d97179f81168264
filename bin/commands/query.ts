/**
 * `query`: archived events at a terminal. Pages through the local engine (DuckDB over a folder
 * archive, or over the local cache of an S3 archive's day objects) in archive order (event time, then id) with the same filters as the HTTP API, and prints
 * a table, JSON (an array of events exactly as ListEventLogs returns them) or CSV (RFC 4180, nested
 * fields as dotted columns).
 */
import { type Clock, isApiError } from '@eventlog-archive/shared';
import { type ArchiveRecord, type FieldSpec, toWire } from '../../lambdas/core/records';
import { codecatalystDefinition } from '../../lambdas/core/sources';
import type { SourceDefinition } from '../../lambdas/core/sources/types';
import { archivedInstances, storeCatalog } from '../../lambdas/query/catalog';
import { createDuckDbEngine } from '../../lambdas/query/duckdb-engine';
import {
  checkFilter,
  checkFilterBytes,
  EXTRA_FILTERS,
  type ExtraFilter,
} from '../../lambdas/query/list-event-logs';
import {
  archiveOption,
  instanceOption,
  intOption,
  parse,
  required,
  timeOption,
  UsageError,
  type Values,
} from './args';
import {
  CACHE_OPTIONS,
  type CacheSettings,
  cacheSettings,
  openQueryArchive,
  type QueryArchive,
} from './query-archive';
import { printable } from './terminal';

export const QUERY_FORMATS = ['table', 'json', 'csv'] as const;
export type QueryFormat = (typeof QUERY_FORMATS)[number];

/** Command-line filter → the API's body field (and so the event field, via EXTRA_FILTERS). */
const FILTER_OPTIONS: Record<string, ExtraFilter> = {
  'user-name': 'userName',
  'project-name': 'projectName',
  'operation-type': 'operationType',
  'event-source': 'eventSource',
  'error-code': 'errorCode',
  'request-id': 'requestId',
};
// Rows asked of the engine at a time.
const PAGE = 1000;

export async function queryCommand(args: string[], clock: Clock): Promise<number> {
  const query = queryArguments(args, clock);
  // A folder is read where it is; an S3 archive through the local cache of its day objects.
  const archive = await openQueryArchive(query.archive, { cache: query.cache, clock });
  try {
    const { store } = archive;
    if (!(await storeCatalog(store).hasInstance(query.source, query.space))) {
      const known = await archivedInstances(store, query.source);
      throw new UsageError(
        `--space: ${query.space} has never been archived in ${query.archive}` +
          // Folder names of the archive, printed by the CLI at a terminal.
          (known.length > 0 ? ` (archived: ${known.map(printable).join(', ')})` : ' (nothing archived yet)'),
      );
    }
    const out = stdoutWriter();
    const count = await printEvents(query, archive, out);
    if (!out.closed()) process.stderr.write(`${count} event${count === 1 ? '' : 's'}\n`);
    return 0;
  } finally {
    await archive.close();
  }
}

/** The command line of `query`, checked: what to list and how to print it. */
interface QueryArguments {
  source: SourceDefinition;
  space: string;
  from: number;
  to: number;
  /** Column → value the events must have, from the filter options. */
  equals: Record<string, string>;
  limit: number;
  format: QueryFormat;
  archive: string;
  /** Where an S3 archive's day objects are cached. */
  cache: CacheSettings;
}

function queryArguments(args: string[], clock: Clock): QueryArguments {
  const values = parse(args, {
    space: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    'event-name': { type: 'string' },
    ...Object.fromEntries(Object.keys(FILTER_OPTIONS).map((name) => [name, { type: 'string' as const }])),
    limit: { type: 'string' },
    format: { type: 'string' },
    archive: { type: 'string' },
    ...CACHE_OPTIONS,
  });
  const source = codecatalystDefinition;
  const space = instanceOption(values, source, true)!;
  required(values, 'from');
  const from = timeOption(values, 'from')!;
  const to = timeOption(values, 'to') ?? clock();
  if (from >= to) throw new UsageError('--to: must be later than --from');
  const equals = filterEquals(values);
  // Default: every matching event.
  const limit = intOption(values, 'limit', Number.POSITIVE_INFINITY, 1, 100_000_000);
  const format = (values.format ?? 'table') as QueryFormat;
  if (!QUERY_FORMATS.includes(format))
    throw new UsageError(
      `--format: must be one of ${QUERY_FORMATS.join(', ')} (got "${String(values.format)}")`,
    );
  const archive = archiveOption(values);
  const cache = cacheSettings(values);
  return { source, space, from, to, equals, limit, format, archive, cache };
}

/** The filter options as the engine's equality filters, checked by the API's own filter rules. */
function filterEquals(values: Values): Record<string, string> {
  const equals: Record<string, string> = {};
  // The API's own filter rules, so the CLI accepts exactly the values the API does.
  const asUsage = (check: () => string): string => {
    try {
      return check();
    } catch (err) {
      throw new UsageError(isApiError(err) ? err.message : String(err));
    }
  };
  if (values['event-name'] !== undefined) {
    const eventName = required(values, 'event-name');
    equals.eventName = asUsage(() => checkFilterBytes(eventName, '--event-name'));
  }
  for (const [option, field] of Object.entries(FILTER_OPTIONS)) {
    const raw = values[option];
    if (raw === undefined) continue;
    equals[EXTRA_FILTERS[field]] = asUsage(() => checkFilter(raw, `--${option}`));
  }
  return equals;
}

/** Writes to stdout, waiting for it to drain. */
interface Output {
  write(text: string): Promise<void>;
  /** Whether the reader went away (`| head`): nothing more is written. */
  closed(): boolean;
}

function stdoutWriter(): Output {
  // `| head` closes stdout early: stop quietly instead of failing with EPIPE.
  let closed = false;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') closed = true;
    else throw err;
  });
  const write = async (text: string): Promise<void> => {
    if (closed || process.stdout.write(text)) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        process.stdout.off('drain', done);
        process.stdout.off('error', done);
        resolve();
      };
      process.stdout.once('drain', done);
      process.stdout.once('error', done);
    });
  };
  return { write, closed: () => closed };
}

/** Pages through the engine in archive order and prints each event; returns how many were printed. */
async function printEvents(query: QueryArguments, archive: QueryArchive, out: Output): Promise<number> {
  const { source, space, from, to, equals, limit } = query;
  const printer = printerFor(query.format, source.fields);
  const engine = await createDuckDbEngine(archive.dir, archive.engine);
  let count = 0;
  try {
    await out.write(printer.head());
    let after: { time: number; id: string } | undefined;
    while (count < limit && !out.closed()) {
      const want = Math.min(PAGE, limit - count);
      const { records } = await engine.listEvents({
        source,
        instance: space,
        start: from,
        end: to,
        equals,
        limit: want,
        ...(after ? { after } : {}),
      });
      for (const record of records) {
        await out.write(printer.row(record, count === 0));
        count++;
      }
      const last = records.at(-1);
      if (!last || records.length < want) break;
      after = { time: (last[source.timeField] as Date).getTime(), id: String(last[source.idField]) };
    }
    await out.write(printer.tail(count));
  } finally {
    await engine.close();
  }
  return count;
}

interface Printer {
  head(): string;
  row(record: ArchiveRecord, first: boolean): string;
  tail(count: number): string;
}

function printerFor(format: QueryFormat, fields: readonly FieldSpec[]): Printer {
  switch (format) {
    case 'json':
      return {
        head: () => '[',
        row: (record, first) => `${first ? '\n' : ',\n'}  ${JSON.stringify(toWire(fields, record))}`,
        tail: (count) => (count > 0 ? '\n]\n' : ']\n'),
      };
    case 'csv': {
      const columns = flatColumns(fields);
      return {
        head: () => `${columns.map((c) => csvField(c.name)).join(',')}\r\n`,
        row: (record) => `${columns.map((c) => csvField(c.get(record))).join(',')}\r\n`,
        tail: () => '',
      };
    }
    default:
      return tablePrinter();
  }
}

/** Every leaf field as a dotted column name and a getter (timestamps as RFC 3339, absent as ''). */
export function flatColumns(
  fields: readonly FieldSpec[],
): { name: string; get: (record: ArchiveRecord) => string }[] {
  const out: { name: string; get: (record: ArchiveRecord) => string }[] = [];
  const walk = (specs: readonly FieldSpec[], prefix: string, pick: (r: ArchiveRecord) => unknown): void => {
    for (const spec of specs) {
      const get = (r: ArchiveRecord): unknown => {
        const parent = pick(r) as Record<string, unknown> | null | undefined;
        return parent ? parent[spec.name] : undefined;
      };
      if (spec.type === 'struct') walk(spec.fields, `${prefix}${spec.name}.`, get);
      else
        out.push({
          name: `${prefix}${spec.name}`,
          get: (r) => {
            const v = get(r);
            return v === null || v === undefined ? '' : v instanceof Date ? v.toISOString() : String(v);
          },
        });
    }
  };
  walk(fields, '', (r) => r);
  return out;
}

/** RFC 4180: quoted when it holds a comma, a quote, CR or LF; quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

const TABLE_COLUMNS: { title: string; width: number; get: (r: ArchiveRecord) => unknown }[] = [
  { title: 'eventTime', width: 24, get: (r) => (r.eventTime as Date | null)?.toISOString() },
  { title: 'eventName', width: 28, get: (r) => r.eventName },
  { title: 'userName', width: 18, get: (r) => (r.userIdentity as Record<string, unknown> | null)?.userName },
  {
    title: 'project',
    width: 18,
    get: (r) => (r.projectInformation as Record<string, unknown> | null)?.name,
  },
  { title: 'operation', width: 9, get: (r) => r.operationType },
  { title: 'source', width: 12, get: (r) => r.eventSource },
  { title: 'errorCode', width: 16, get: (r) => r.errorCode },
  { title: 'id', width: 0, get: (r) => r.id },
];

/**
 * One table cell: line breaks and tabs as spaces (the row stays one line), every other control or
 * bidi character as a visible escape (event fields are archive text). CSV and JSON stay byte-exact.
 */
function cell(value: unknown, width: number): string {
  const text =
    value === null || value === undefined ? '-' : printable(String(value).replace(/[\r\n\t]/g, ' '));
  if (width === 0) return text;
  return text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);
}

function tablePrinter(): Printer {
  const line = (values: unknown[]): string =>
    `${values.map((v, i) => cell(v, TABLE_COLUMNS[i]!.width)).join('  ')}\n`;
  return {
    head: () =>
      line(TABLE_COLUMNS.map((c) => c.title)) + line(TABLE_COLUMNS.map((c) => '-'.repeat(c.width || 36))),
    row: (record) => line(TABLE_COLUMNS.map((c) => c.get(record))),
    tail: () => '',
  };
}
