/**
 * Partition pruning before DuckDB sees a query: the instance's `dt=` folders are listed and only
 * the files of the days in range are handed to `read_parquet`, so a one-day query opens one file
 * and a query over days with no data runs no SQL at all.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { dataKey } from '../../core/layout';
import type { QueryPlan } from '../sql';

const DAY_FOLDER = /^dt=(\d{4}-\d{2}-\d{2})$/;

export interface DayFile {
  file: string;
  /** Changes whenever the ingest replaces the file (write-then-rename gives a new inode). */
  version: string;
  /**
   * Called once by the engine when the query no longer needs the file: a resolver that keeps files
   * in a bounded cache (an S3 archive's) pins each file it hands out until then.
   */
  release?: () => void;
}

/** The data files of the plan's days that exist under the archive folder `root`, oldest first. */
export async function dayFilesOf(root: string, plan: QueryPlan): Promise<DayFile[]> {
  const { firstDay, lastDay } = plan;
  if (!firstDay || !lastDay) return [];
  const location = {
    table: plan.table,
    partitionKey: plan.partitionKey,
    partitionValue: plan.partitionValue,
  };
  const instanceDir = path.join(root, plan.table, `${plan.partitionKey}=${plan.partitionValue}`);
  let entries: string[];
  try {
    entries = await fs.readdir(instanceDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const days = entries
    .map((name) => DAY_FOLDER.exec(name)?.[1])
    .filter((day): day is string => day !== undefined && day >= firstDay && day <= lastDay)
    .sort();
  const files = await Promise.all(
    days.map(async (day): Promise<DayFile | undefined> => {
      const file = path.join(root, dataKey(location, day));
      try {
        const stat = await fs.stat(file);
        return stat.isFile() ? { file, version: `${stat.ino}:${stat.size}:${stat.mtimeMs}` } : undefined;
      } catch {
        return undefined;
      }
    }),
  );
  return files.filter((f): f is DayFile => f !== undefined);
}
