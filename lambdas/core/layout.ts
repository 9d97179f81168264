/**
 * Where things live in the archive. Tables are Hive-style folders that Glue partition projection
 * describes; state (ledger, leases) lives beside them under `_`-prefixed folders Athena never reads.
 */
export interface TableLocation {
  /** Table folder, e.g. `codecatalyst_event_logs`. */
  table: string;
  /** Partition column of the source instance, e.g. `space`. */
  partitionKey: string;
  /** Partition value, already validated to be path-safe. */
  partitionValue: string;
}

export const LEDGER_ROOT = '_ledger';
export const LEASE_ROOT = '_leases';

const instanceFolder = (t: TableLocation): string => `${t.partitionKey}=${t.partitionValue}`;

/** The one data object of a source instance and UTC day. */
export function dataKey(t: TableLocation, day: string): string {
  return `${t.table}/${instanceFolder(t)}/dt=${day}/events.parquet`;
}

/** The folder of a source instance's data, for listings. */
export function instanceDataPrefix(t: TableLocation): string {
  return `${t.table}/${instanceFolder(t)}/`;
}

/** The coverage ledger document of a source instance and UTC day. */
export function ledgerKey(t: TableLocation, day: string): string {
  return `${LEDGER_ROOT}/${t.table}/${instanceFolder(t)}/dt=${day}.json`;
}

export function ledgerPrefix(t: TableLocation): string {
  return `${LEDGER_ROOT}/${t.table}/${instanceFolder(t)}/`;
}

/** Prefix under which every instance of a table has ledger documents. */
export function tableLedgerPrefix(table: string): string {
  return `${LEDGER_ROOT}/${table}/`;
}

/** The single-writer lease of a source instance. */
export function leaseKey(t: TableLocation): string {
  return `${LEASE_ROOT}/${t.table}/${instanceFolder(t)}.json`;
}

/** `dt=2024-05-01.json` → `2024-05-01`. */
export function dayOfLedgerKey(key: string): string | undefined {
  return /dt=(\d{4}-\d{2}-\d{2})\.json$/.exec(key)?.[1];
}
