/**
 * Which source instances the archive knows: a space "exists" for the API once the coverage ledger
 * has a document for it (`_ledger/<table>/<key>=<instance>/`), i.e. once an ingest run has recorded
 * a window of it, even a window without events. A space never archived is a 404
 * ResourceNotFoundException, as CodeCatalyst answers for a space that does not exist.
 *
 * Locally the ledger is read through the archive store; in Lambda through one signed S3
 * `ListObjectsV2` request (`max-keys=1`, s3-catalog.ts), so the query bundle carries no S3 client.
 * This file signs nothing: the CLI's commands over a folder load no AWS request code through it.
 */
import { ArchiveError } from '@eventlog-archive/shared';
import { ledgerPrefix, tableLedgerPrefix } from '../core/layout';
import type { SourceDefinition } from '../core/sources/types';

export interface ArchiveCatalog {
  /** True when the archive has recorded at least one window of this instance. */
  hasInstance(source: SourceDefinition, instance: string): Promise<boolean>;
}

/** The ledger folder of an instance. The instance must already be validated by the source's rule. */
export function instanceLedgerPrefix(source: SourceDefinition, instance: string): string {
  return ledgerPrefix({
    table: source.table,
    partitionKey: source.partitionKey,
    partitionValue: source.partitionValue(instance),
  });
}

/**
 * Caches positive answers: the archive never forgets an instance (a rewrite is a union), so once
 * seen it stays. Negative answers are asked again each time: a first ingest run makes a space appear.
 */
export function cached(lookup: (prefix: string) => Promise<boolean>): ArchiveCatalog {
  const known = new Set<string>();
  return {
    async hasInstance(source, instance) {
      const prefix = instanceLedgerPrefix(source, instance);
      if (known.has(prefix)) return true;
      let found: boolean;
      try {
        found = await lookup(prefix);
      } catch (err) {
        // Storage faults are ours, never the caller's: wrapped so they map to a 500 (or 429 when throttled).
        throw new ArchiveError('the archive ledger could not be listed', { cause: err });
      }
      if (found) known.add(prefix);
      return found;
    },
  };
}

/** Every instance of a source that the archive's ledger knows, sorted (for listings and messages). */
export async function archivedInstances(
  store: { list(prefix: string): AsyncIterable<{ key: string }> },
  source: SourceDefinition,
): Promise<string[]> {
  const found = new Set<string>();
  const prefix = tableLedgerPrefix(source.table);
  const folder = `${source.partitionKey}=`;
  for await (const object of store.list(prefix)) {
    const rest = object.key.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash > folder.length && rest.startsWith(folder)) found.add(rest.slice(folder.length, slash));
  }
  return [...found].sort();
}

/** A catalog over an archive store (a folder locally). */
export function storeCatalog(store: {
  list(prefix: string): AsyncIterable<{ key: string }>;
}): ArchiveCatalog {
  return cached(async (prefix) => {
    for await (const _object of store.list(prefix)) return true;
    return false;
  });
}
