/**
 * `GET /console/api/instances` (docs/console-api.md#instances): every instance the archive's ledger
 * knows, with the name its ledger documents give it and its first and last ledger day.
 */
import { listLedgerDays, readLedgerDays } from '../../core/ledger';
import { SOURCE_DEFINITIONS } from '../../core/sources';
import type { ArchiveStore } from '../../core/store';
import { archivedInstances } from '../catalog';

export interface InstanceSummary {
  source: string;
  sourceTitle: string;
  /** A space name or a system ARN, as the ledger documents name it. */
  instance: string;
  /** The instance's folder, `<partition key>=<partition value>` (as `verify --json` names it). */
  partition: string;
  firstDay: string | null;
  lastDay: string | null;
}

/** Every instance of every source, sorted by source, then instance. */
export async function listInstances(store: ArchiveStore): Promise<InstanceSummary[]> {
  const out: InstanceSummary[] = [];
  for (const source of Object.values(SOURCE_DEFINITIONS)) {
    for (const partitionValue of await archivedInstances(store, source)) {
      const table = { table: source.table, partitionKey: source.partitionKey, partitionValue };
      const days = await listLedgerDays(store, table);
      // Any document names the instance; the first one is read.
      const first = await readLedgerDays(store, table, days.slice(0, 1));
      out.push({
        source: source.name,
        sourceTitle: source.title,
        instance: first.get(days[0] ?? '')?.instance ?? partitionValue,
        partition: `${source.partitionKey}=${partitionValue}`,
        firstDay: days[0] ?? null,
        lastDay: days.at(-1) ?? null,
      });
    }
  }
  const order = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return out.sort((a, b) => order(a.source, b.source) || order(a.instance, b.instance));
}
