/** How ingestion runs: its schedule, look-back, backfill and slicing, and the ingest function's size. */
import { ConfigError, integer, type Section } from './checks';
import { DEFAULT_CONFIG, MAX_FUNCTION_MEMORY_MB, MIN_FUNCTION_MEMORY_MB, MINUTES_PER_DAY } from './defaults';
import type { ArchiveConfig } from './types';

type RunSettings = Pick<
  ArchiveConfig,
  'schedule' | 'lookbackMinutes' | 'backfillDays' | 'sliceMinutes' | 'maxConcurrency'
>;

/** `schedule`, `lookbackMinutes`, `backfillDays`, `sliceMinutes` and `maxConcurrency`. */
export function runSettings(root: Section): RunSettings {
  const defaults = DEFAULT_CONFIG;
  const schedule = root.section('schedule', ['rateMinutes']);
  const rateMinutes = schedule.read(
    'rateMinutes',
    integer(1, MINUTES_PER_DAY),
    defaults.schedule.rateMinutes,
  );
  const lookbackMinutes = root.read(
    'lookbackMinutes',
    integer(60, 7 * MINUTES_PER_DAY),
    defaults.lookbackMinutes,
  );
  const backfillDays = root.read('backfillDays', integer(1, 30), defaults.backfillDays);
  const sliceMinutes = root.read('sliceMinutes', integer(1, MINUTES_PER_DAY), defaults.sliceMinutes);
  // Slices are aligned to UTC midnight, so a slice never straddles two dt= partitions.
  if (MINUTES_PER_DAY % sliceMinutes !== 0) {
    throw new ConfigError(root.at('sliceMinutes'), sliceMinutes, 'must divide 1440 (the minutes of a day)');
  }
  const maxConcurrency = root.read('maxConcurrency', integer(1, 64), defaults.maxConcurrency);
  return { schedule: { rateMinutes }, lookbackMinutes, backfillDays, sliceMinutes, maxConcurrency };
}

/** `functionTimeoutMinutes` and `functionMemoryMb`. */
export function functionSettings(
  root: Section,
): Pick<ArchiveConfig, 'functionTimeoutMinutes' | 'functionMemoryMb'> {
  const functionTimeoutMinutes = root.read(
    'functionTimeoutMinutes',
    integer(1, 15),
    DEFAULT_CONFIG.functionTimeoutMinutes,
  );
  // Lambda's own range for a function's memory.
  const functionMemoryMb = root.read(
    'functionMemoryMb',
    integer(MIN_FUNCTION_MEMORY_MB, MAX_FUNCTION_MEMORY_MB),
    DEFAULT_CONFIG.functionMemoryMb,
  );
  return { functionTimeoutMinutes, functionMemoryMb };
}
