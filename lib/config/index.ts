/**
 * The deployment's settings: `cdk.json` context key `eventlogArchive`, validated at synth so that a
 * bad value fails `cdk synth` with a message naming the field and the rule, never a broken deploy.
 *
 * Hand-written rather than a schema library's: the first broken rule wins, in the order the settings
 * are read (unknown keys of an object before its fields), with messages of the form
 * `<path>: <value> <rule>` and cross-field rules (Object Lock against lifecycle, the lag alarm against
 * the schedule, systems against the spaces' share of the schedules) between the field checks.
 */
import type { Clock } from '../../lambdas/shared/src/time';
import { alarmsSettings } from './alarms';
import { compact, fromCommandLine, Section } from './checks';
import { CONTEXT_KEY } from './defaults';
import { encryptionSettings, integritySettings } from './encryption';
import { functionSettings, runSettings } from './ingest';
import { querySettings } from './query';
import { securityLakeSettings } from './security-lake';
import { sourcesSettings } from './sources';
import { storageSettings } from './storage';
import type { ArchiveConfig } from './types';

export { lagAlarmMinutes } from './alarms';
export { ConfigError } from './checks';
export {
  CONTEXT_KEY,
  DEFAULT_CONFIG,
  MAX_FUNCTION_MEMORY_MB,
  MAX_INSTANCES,
  MAX_SYSTEM_ARN_CHARACTERS,
  MIN_BYTES_SCANNED_CUTOFF_MB,
  MIN_FUNCTION_MEMORY_MB,
} from './defaults';
export {
  type AlarmsConfig,
  type ArchiveConfig,
  ObjectLockMode,
  type QueryConfig,
  type SecurityLakeConfig,
  type SecurityLakeTargetConfig,
} from './types';

const ROOT_KEYS = [
  'codecatalyst',
  'resiliencehub',
  'schedule',
  'lookbackMinutes',
  'backfillDays',
  'sliceMinutes',
  'maxConcurrency',
  'retention',
  'archivePrefix',
  'objectLock',
  'functionTimeoutMinutes',
  'functionMemoryMb',
  'query',
  'encryption',
  'integrity',
  'alarms',
  'securityLake',
];

/**
 * Reads and validates the `eventlogArchive` context value, filling in the defaults.
 *
 * @example
 * const config = loadConfig(app.node.tryGetContext(CONTEXT_KEY));
 */
export function loadConfig(context: unknown, clock: Clock = Date.now): ArchiveConfig {
  const value = context === undefined || context === null ? {} : fromCommandLine(context, CONTEXT_KEY);
  const root = Section.of(value, CONTEXT_KEY, ROOT_KEYS);
  const sources = sourcesSettings(root);
  const run = runSettings(root);
  const storage = storageSettings(root);
  const lambda = functionSettings(root);
  const query = querySettings(root, clock);
  return {
    ...sources,
    ...run,
    ...storage,
    ...lambda,
    query,
    ...compact({
      encryption: encryptionSettings(root),
      integrity: integritySettings(root),
      alarms: alarmsSettings(root, run.schedule.rateMinutes),
      securityLake: securityLakeSettings(root),
    }),
  };
}
