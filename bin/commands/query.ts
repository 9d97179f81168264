/**
 * `query`: archived events at a terminal, for any source: `--space` (CodeCatalyst) or `--system-arn`
 * (Resilience Hub) names the instance and so the source. Pages through the local engine (DuckDB over
 * a folder archive, or over the local cache of an S3 archive's day objects) in archive order (event
 * time, then id) with the same filters as the HTTP API, and prints a table, JSON (an array of events
 * exactly as the source's list call returns them: ListEventLogs `items`, ListSystemEvents `events`)
 * or CSV (RFC 4180, nested fields as dotted columns).
 *
 * What differs between sources is a {@link QueryView}: the filter options, the wire form of an event
 * and the table's columns. The rest (arguments, paging, formats) is one piece of code for all.
 */
import { type Clock, checkSystemEventTypes, isApiError } from '@eventlog-archive/shared';
import { type ArchiveRecord, type FieldSpec, toWireJson } from '../../lambdas/core/records';
import { SOURCE_DEFINITIONS } from '../../lambdas/core/sources';
import type { SourceDefinition } from '../../lambdas/core/sources/types';
import { storeCatalog } from '../../lambdas/query/catalog';
import { listInstances } from '../../lambdas/query/console/instances';
import type { EventQuery } from '../../lambdas/query/engine';
import {
  checkFilter,
  checkFilterBytes,
  EXTRA_FILTERS,
  type ExtraFilter,
  eventLogItem,
} from '../../lambdas/query/list-event-logs';
import { systemEventFilters, systemEventJson } from '../../lambdas/query/list-system-events';
import {
  archiveOption,
  instanceOption,
  instanceOptions,
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

/** One column of the table format: its title, its width (0: the rest of the line) and its value. */
interface TableColumn {
  title: string;
  width: number;
  get: (record: ArchiveRecord) => unknown;
}

type FilterOptions = Record<string, { type: 'string'; multiple?: boolean }>;

/** How `query` lists one source's events: what the generic command cannot know from the definition. */
export interface QueryView {
  /** The filter options (beyond the instance option), as parseArgs options. */
  options: FilterOptions;
  /** The filter options given, checked by the API's own rules, as the engine's filters. */
  filters(values: Values): Pick<EventQuery, 'equals' | 'anyOf'>;
  /** One event as the source's list call returns it, as JSON text. */
  json(source: SourceDefinition, record: ArchiveRecord): string;
  columns: readonly TableColumn[];
}

/** The API's own filter rules, so the CLI accepts exactly the values the API does. */
function asUsage<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    throw new UsageError(isApiError(err) ? err.message : String(err));
  }
}

const nested = (record: ArchiveRecord, field: string, name: string): unknown =>
  (record[field] as Record<string, unknown> | null | undefined)?.[name];

/** Command-line filter → the ListEventLogs body field (and so the event field, via EXTRA_FILTERS). */
const EVENT_LOG_FILTERS: Record<string, ExtraFilter> = {
  'user-name': 'userName',
  'project-name': 'projectName',
  'operation-type': 'operationType',
  'event-source': 'eventSource',
  'error-code': 'errorCode',
  'request-id': 'requestId',
};

/** CodeCatalyst event logs: the filters of ListEventLogs and its extra body fields. */
const eventLogView: QueryView = {
  options: Object.fromEntries(
    ['event-name', ...Object.keys(EVENT_LOG_FILTERS)].map((name) => [name, { type: 'string' as const }]),
  ),
  filters(values) {
    const equals: Record<string, string> = {};
    if (values['event-name'] !== undefined) {
      const eventName = required(values, 'event-name');
      equals.eventName = asUsage(() => checkFilterBytes(eventName, '--event-name'));
    }
    for (const [option, field] of Object.entries(EVENT_LOG_FILTERS)) {
      const raw = values[option];
      if (raw === undefined) continue;
      equals[EXTRA_FILTERS[field]] = asUsage(() => checkFilter(raw, `--${option}`));
    }
    return { equals };
  },
  json: (source, record) => JSON.stringify(eventLogItem(source, record)),
  columns: [
    { title: 'eventTime', width: 24, get: (r) => (r.eventTime as Date | null)?.toISOString() },
    { title: 'eventName', width: 28, get: (r) => r.eventName },
    { title: 'userName', width: 18, get: (r) => nested(r, 'userIdentity', 'userName') },
    { title: 'project', width: 18, get: (r) => nested(r, 'projectInformation', 'name') },
    { title: 'operation', width: 9, get: (r) => r.operationType },
    { title: 'source', width: 12, get: (r) => r.eventSource },
    { title: 'errorCode', width: 16, get: (r) => r.errorCode },
    { title: 'id', width: 0, get: (r) => r.id },
  ],
};

/** Resilience Hub system events: ListSystemEvents' one filter, `eventTypes`, as `--event-type` (repeatable). */
const systemEventView: QueryView = {
  options: { 'event-type': { type: 'string', multiple: true } },
  filters(values) {
    const given = values['event-type'] as string[] | undefined;
    const eventTypes = asUsage(() => checkSystemEventTypes(given ?? [], '--event-type'));
    return systemEventFilters({ eventTypes: [...new Set(eventTypes)] });
  },
  json: systemEventJson,
  columns: [
    { title: 'timestamp', width: 24, get: (r) => (r.timestamp as Date | null)?.toISOString() },
    { title: 'eventType', width: 28, get: (r) => r.eventType },
    {
      title: 'actor',
      width: 22,
      get: (r) => nested(r, 'actor', 'userName') ?? nested(r, 'actor', 'principalId'),
    },
    { title: 'account', width: 12, get: (r) => nested(r, 'actor', 'accountId') },
    { title: 'title', width: 32, get: (r) => nested(r, 'eventDetails', 'title') },
    { title: 'eventId', width: 0, get: (r) => r.eventId },
  ],
};

/** The views of the built-in sources; a source without one is listed by {@link genericView}. */
const QUERY_VIEWS: Readonly<Record<string, QueryView>> = {
  codecatalyst: eventLogView,
  resiliencehub: systemEventView,
};

/** Any other registered source: no filters, its wire form with RFC 3339 times, time and id columns. */
function genericView(source: SourceDefinition): QueryView {
  return {
    options: {},
    filters: () => ({}),
    json: (s, record) => toWireJson(s.fields, record),
    columns: [
      { title: source.timeField, width: 24, get: (r) => (r[source.timeField] as Date | null)?.toISOString() },
      { title: source.idField, width: 0, get: (r) => r[source.idField] },
    ],
  };
}

export function queryView(source: SourceDefinition): QueryView {
  return Object.hasOwn(QUERY_VIEWS, source.name) ? QUERY_VIEWS[source.name]! : genericView(source);
}

// Rows asked of the engine at a time.
const PAGE = 1000;

export async function queryCommand(args: string[], clock: Clock): Promise<number> {
  const query = queryArguments(args, clock);
  // A folder is read where it is; an S3 archive through the local cache of its day objects.
  const archive = await openQueryArchive(query.archive, { cache: query.cache, clock });
  try {
    const { store } = archive;
    const { source, instance } = query;
    if (!(await storeCatalog(store).hasInstance(source, instance))) {
      // The names the ledger documents give (a system ARN's folder is only its hashed form).
      const known = (await listInstances(store))
        .filter((i) => i.source === source.name)
        .map((i) => i.instance);
      throw new UsageError(
        `--${source.instanceOption}: ${instance} has never been archived in ${query.archive}` +
          // Instance names of the archive, printed by the CLI at a terminal.
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
  view: QueryView;
  /** The instance (a space name, a system ARN), valid by the source's rule. */
  instance: string;
  from: number;
  to: number;
  /** The engine's filters, from the filter options. */
  filters: Pick<EventQuery, 'equals' | 'anyOf'>;
  limit: number;
  format: QueryFormat;
  archive: string;
  /** Where an S3 archive's day objects are cached. */
  cache: CacheSettings;
}

function queryArguments(args: string[], clock: Clock): QueryArguments {
  const sources = Object.values(SOURCE_DEFINITIONS);
  // Every source's filter options are known to the parser, so one given with another source's
  // instance is refused by name below rather than as an unknown option.
  const filterOptions: FilterOptions = Object.assign({}, ...sources.map((s) => queryView(s).options));
  const values = parse(args, {
    ...instanceOptions(),
    from: { type: 'string' },
    to: { type: 'string' },
    ...filterOptions,
    limit: { type: 'string' },
    format: { type: 'string' },
    json: { type: 'boolean' },
    archive: { type: 'string' },
    ...CACHE_OPTIONS,
  });
  const given = sources.filter((s) => values[s.instanceOption] !== undefined);
  const flags = sources.map((s) => `--${s.instanceOption}`).join(' or ');
  if (given.length !== 1)
    throw new UsageError(
      `${given.length === 0 ? flags : given.map((s) => `--${s.instanceOption}`).join(' and ')}: ` +
        `${given.length === 0 ? 'one is required' : 'give only one'} (it names the instance, and so the source)`,
    );
  const source = given[0]!;
  const view = queryView(source);
  const instance = instanceOption(values, source, true)!;
  for (const option of Object.keys(filterOptions)) {
    if (values[option] !== undefined && !Object.hasOwn(view.options, option))
      throw new UsageError(
        `--${option}: filters another source's events, not ${source.title} (--${source.instanceOption})`,
      );
  }
  required(values, 'from');
  const from = timeOption(values, 'from')!;
  const to = timeOption(values, 'to') ?? clock();
  if (from >= to) throw new UsageError('--to: must be later than --from');
  const filters = view.filters(values);
  // Default: every matching event.
  const limit = intOption(values, 'limit', Number.POSITIVE_INFINITY, 1, 100_000_000);
  const format = formatOption(values);
  const archive = archiveOption(values);
  const cache = cacheSettings(values);
  return { source, view, instance, from, to, filters, limit, format, archive, cache };
}

/** `--format`, or `--json` (the flag every read command takes) for `--format json`. */
function formatOption(values: Values): QueryFormat {
  const format = (values.format ?? (values.json ? 'json' : 'table')) as QueryFormat;
  if (!QUERY_FORMATS.includes(format))
    throw new UsageError(
      `--format: must be one of ${QUERY_FORMATS.join(', ')} (got "${String(values.format)}")`,
    );
  if (values.json && format !== 'json')
    throw new UsageError(`--json: means --format json, so not with --format ${format}`);
  return format;
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
  const { source, instance, from, to, filters, limit } = query;
  const printer = printerFor(query.format, source, query.view);
  // Loaded here, not at the top: listing the command's arguments never loads DuckDB's native module.
  const { createDuckDbEngine } = await import('../../lambdas/query/duckdb-engine');
  const engine = await createDuckDbEngine(archive.dir, archive.engine);
  let count = 0;
  try {
    await out.write(printer.head());
    let after: { time: number; id: string } | undefined;
    while (count < limit && !out.closed()) {
      const want = Math.min(PAGE, limit - count);
      const { records } = await engine.listEvents({
        source,
        instance,
        start: from,
        end: to,
        ...filters,
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

function printerFor(format: QueryFormat, source: SourceDefinition, view: QueryView): Printer {
  switch (format) {
    case 'json':
      return {
        head: () => '[',
        row: (record, first) => `${first ? '\n' : ',\n'}  ${view.json(source, record)}`,
        tail: (count) => (count > 0 ? '\n]\n' : ']\n'),
      };
    case 'csv': {
      const columns = flatColumns(source.fields);
      return {
        head: () => `${columns.map((c) => csvField(c.name)).join(',')}\r\n`,
        row: (record) => `${columns.map((c) => csvField(c.get(record))).join(',')}\r\n`,
        tail: () => '',
      };
    }
    default:
      return tablePrinter(view.columns);
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

function tablePrinter(columns: readonly TableColumn[]): Printer {
  const line = (values: unknown[]): string =>
    `${values.map((v, i) => cell(v, columns[i]!.width)).join('  ')}\n`;
  return {
    head: () => line(columns.map((c) => c.title)) + line(columns.map((c) => '-'.repeat(c.width || 36))),
    row: (record) => line(columns.map((c) => c.get(record))),
    tail: () => '',
  };
}
