/**
 * The query parameters the console endpoints of `serve` share (docs/console-api.md): which source,
 * which instance, which times and days. Each rule throws a 400 ValidationException naming the
 * parameter, as the list routes' rules do; an instance the ledger has never recorded is a 404.
 */
import { ApiError, parseRfc3339, validationError } from '@eventlog-archive/shared';
import { SOURCE_DEFINITIONS } from '../../core/sources';
import type { SourceDefinition } from '../../core/sources/types';
import type { ArchiveCatalog } from '../catalog';
import { type QueryParams, single } from '../list-system-events';

export type { QueryParams } from '../list-system-events';

/** `source`: a registered source's name; required unless `optional`. */
export function sourceParam(query: QueryParams, optional: true): SourceDefinition | undefined;
export function sourceParam(query: QueryParams, optional?: false): SourceDefinition;
export function sourceParam(query: QueryParams, optional = false): SourceDefinition | undefined {
  const name = single(query, 'source');
  const names = Object.keys(SOURCE_DEFINITIONS).join(', ');
  if (name === undefined) {
    if (optional) return undefined;
    throw validationError('source', `is required (one of ${names})`);
  }
  const source = Object.hasOwn(SOURCE_DEFINITIONS, name) ? SOURCE_DEFINITIONS[name] : undefined;
  if (!source) throw validationError('source', `must be one of ${names} (got "${clip(name)}")`);
  return source;
}

/** `instance`: a space name or a system ARN, by the source's own rule. */
export function instanceParam(query: QueryParams, source: SourceDefinition): string {
  return source.checkInstance(single(query, 'instance'), 'instance');
}

/** An optional RFC 3339 time parameter, epoch ms. */
export function timeParam(query: QueryParams, name: string): number | undefined {
  const value = single(query, name);
  return value === undefined ? undefined : parseRfc3339(value, name);
}

/** A required UTC day `YYYY-MM-DD`. */
export function dayParam(query: QueryParams, name: string): string {
  const value = single(query, name);
  if (value === undefined || !/^\d{4}-\d{2}-\d{2}$/.test(value))
    throw validationError(
      name,
      `is required and must be a UTC day such as 2024-05-01 (got "${clip(value ?? '')}")`,
    );
  parseRfc3339(value, name); // rejects 2024-02-30
  return value;
}

/** An optional `[from, to)` pair of times; `to` must be later than `from`. */
export function rangeParams(query: QueryParams): { from?: number; to?: number } {
  const from = timeParam(query, 'from');
  const to = timeParam(query, 'to');
  if (from !== undefined && to !== undefined && to <= from)
    throw validationError('to', 'must be later than from');
  return { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
}

/** 404 unless the ledger has recorded the instance (as the list routes answer). */
export async function requireArchived(
  catalog: ArchiveCatalog,
  source: SourceDefinition,
  instance: string,
): Promise<void> {
  if (!(await catalog.hasInstance(source, instance)))
    throw new ApiError(
      'ResourceNotFoundException',
      `instance: ${source.title} of ${instance} have never been archived (no ingest run has recorded it)`,
    );
}

function clip(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}…` : value;
}
