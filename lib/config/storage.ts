/** The archive bucket: lifecycle, key prefix and Object Lock. */
import { ConfigError, compact, integer, type Reader, type Section } from './checks';
import { DEFAULT_CONFIG } from './defaults';
import { type ArchiveConfig, ObjectLockMode } from './types';

// One prefix segment: S3's "safe" key characters, not '.' or '..'.
const PREFIX_SEGMENT = /^[A-Za-z0-9!_.*'()-]+$/;

/** `retention`, `archivePrefix` and `objectLock`. */
export function storageSettings(
  root: Section,
): Pick<ArchiveConfig, 'retention' | 'archivePrefix' | 'objectLock'> {
  const defaults = DEFAULT_CONFIG.retention;
  const retention = root.section('retention', [
    'expireNoncurrentVersionsDays',
    'transitionToInfrequentAccessDays',
    'accessLogsExpireDays',
  ]);
  const expireNoncurrentVersionsDays = retention.read(
    'expireNoncurrentVersionsDays',
    integer(1, 36_500),
    defaults.expireNoncurrentVersionsDays,
  );
  // S3 refuses a transition to Standard-IA earlier than 30 days after creation.
  const transitionToInfrequentAccessDays = retention.optional(
    'transitionToInfrequentAccessDays',
    integer(30, 36_500),
  );
  const accessLogsExpireDays = retention.read(
    'accessLogsExpireDays',
    integer(1, 36_500),
    defaults.accessLogsExpireDays,
  );
  const archivePrefix = root.read('archivePrefix', prefix, DEFAULT_CONFIG.archivePrefix);
  const objectLock = objectLockSettings(root);
  // Each version is locked from its creation; a noncurrent version that lifecycle should expire while
  // it is still locked stays anyway, so the shorter setting would never hold.
  if (objectLock && expireNoncurrentVersionsDays < objectLock.days) {
    throw new ConfigError(
      retention.at('expireNoncurrentVersionsDays'),
      expireNoncurrentVersionsDays,
      `must be at least objectLock.days (${objectLock.days}): S3 lifecycle cannot remove a version while Object Lock retains it`,
    );
  }
  return compact({
    retention: compact({
      expireNoncurrentVersionsDays,
      transitionToInfrequentAccessDays,
      accessLogsExpireDays,
    }),
    archivePrefix,
    objectLock,
  });
}

function objectLockSettings(root: Section): ArchiveConfig['objectLock'] {
  const lock = root.optionalSection('objectLock', ['mode', 'days']);
  if (!lock) return undefined;
  return { mode: lock.require('mode', objectLockMode), days: lock.require('days', integer(1, 36_500)) };
}

const objectLockMode: Reader<ObjectLockMode> = (value, path) => {
  if (value !== ObjectLockMode.GOVERNANCE && value !== ObjectLockMode.COMPLIANCE) {
    throw new ConfigError(path, value, 'must be "GOVERNANCE" or "COMPLIANCE"');
  }
  return value;
};

const prefix: Reader<string> = (value, path) => {
  if (typeof value !== 'string') throw new ConfigError(path, value, 'must be a string');
  if (value === '') return '';
  const rule =
    "must be '' or a key prefix such as 'archive/' (segments of A-Z a-z 0-9 !_.*'()- without a leading '/')";
  const trimmed = value.endsWith('/') ? value.slice(0, -1) : value;
  const segments = trimmed.split('/');
  if (value.length > 512 || segments.some((s) => !PREFIX_SEGMENT.test(s) || s === '.' || s === '..')) {
    throw new ConfigError(path, value, rule);
  }
  return `${trimmed}/`;
};
