/**
 * An in-memory `QueryEngine` for API unit tests: the engine contract (time range, equality and
 * membership filters on dotted paths, keyset cursor, archive order, limit) in a few lines of JS, so
 * the HTTP layer is tested without DuckDB or Athena. Also a catalog over a set of names.
 */
import type { ArchiveRecord } from '../../../lambdas/core/records';
import type { SourceDefinition } from '../../../lambdas/core/sources/types';
import type { ArchiveCatalog } from '../../../lambdas/query/catalog';
import type { EventQuery, QueryEngine } from '../../../lambdas/query/engine';

function at(record: ArchiveRecord, path: string): unknown {
  let value: unknown = record;
  for (const part of path.split('.')) value = (value as Record<string, unknown> | null)?.[part];
  return value;
}

export class MemoryEngine implements QueryEngine {
  readonly records = new Map<string, ArchiveRecord[]>();
  readonly queries: EventQuery[] = [];
  /** Thrown by the next listEvents, once. */
  failNext: unknown;

  add(instance: string, records: ArchiveRecord[]): void {
    this.records.set(instance, [...(this.records.get(instance) ?? []), ...records]);
  }

  async listEvents(query: EventQuery): Promise<{ records: ArchiveRecord[]; stats: { filesRead: number } }> {
    this.queries.push(query);
    if (this.failNext !== undefined) {
      const err = this.failNext;
      this.failNext = undefined;
      throw err;
    }
    const time = (r: ArchiveRecord): number => (r[query.source.timeField] as Date).getTime();
    const id = (r: ArchiveRecord): string => String(r[query.source.idField]);
    const rows = (this.records.get(query.instance) ?? [])
      .filter((r) => time(r) >= query.start && time(r) < query.end)
      .filter((r) => Object.entries(query.equals ?? {}).every(([path, value]) => at(r, path) === value))
      .filter((r) =>
        Object.entries(query.anyOf ?? {}).every(([path, values]) => values.includes(at(r, path) as string)),
      )
      .filter(
        (r) =>
          !query.after ||
          time(r) > query.after.time ||
          (time(r) === query.after.time && id(r) > query.after.id),
      )
      .sort((a, b) => time(a) - time(b) || (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0));
    return { records: rows.slice(0, query.limit), stats: { filesRead: 0 } };
  }

  async close(): Promise<void> {}
}

/** A catalog that knows exactly `names`. */
export function memoryCatalog(names: Iterable<string>): ArchiveCatalog & { asked: string[] } {
  const known = new Set(names);
  const asked: string[] = [];
  return {
    asked,
    async hasInstance(_source: SourceDefinition, instance: string) {
      asked.push(instance);
      return known.has(instance);
    },
  };
}
