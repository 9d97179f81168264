/** The catalog, the Athena workgroup and the query API. */
import { MAX_AUTHORIZER_CACHE_SECONDS } from '../../lambdas/authorizer/policy';
import type { Clock } from '../../lambdas/shared/src/time';
import { boolean, ConfigError, integer, matching, type Reader, type Section } from './checks';
import { DEFAULT_CONFIG, MIN_BYTES_SCANNED_CUTOFF_MB } from './defaults';
import type { QueryConfig } from './types';

// Athena reads database names in lowercase only; Glue allows 255 characters.
const DATABASE_NAME = /^[a-z0-9_]{1,255}$/;
// Athena workgroup names: 1 to 128 of these characters.
const WORKGROUP_NAME = /^[A-Za-z0-9._-]{1,128}$/;

/** `query`, its defaults filled in field by field. */
export function querySettings(root: Section, clock: Clock): QueryConfig {
  const defaults = DEFAULT_CONFIG.query;
  const query = root.section('query', [
    'databaseName',
    'workGroupName',
    'projectionStartDate',
    'bytesScannedCutoffMb',
    'resultsExpireDays',
    'tokenTtlSeconds',
    'throttling',
    'apiCloudWatchRole',
    'authorization',
    'authorizerCacheSeconds',
  ]);
  const databaseName = query.read(
    'databaseName',
    matching(DATABASE_NAME, 'must be 1 to 255 of a-z 0-9 _ (Athena reads database names in lowercase)'),
    defaults.databaseName,
  );
  const workGroupName = query.read(
    'workGroupName',
    matching(WORKGROUP_NAME, 'must be 1 to 128 of A-Z a-z 0-9 . _ -'),
    defaults.workGroupName,
  );
  const projectionStartDate = query.read(
    'projectionStartDate',
    pastDate(clock()),
    defaults.projectionStartDate,
  );
  const bytesScannedCutoffMb = query.read(
    'bytesScannedCutoffMb',
    // 1 PiB: far above any sensible per-query limit, and still an exact integer in bytes.
    integer(MIN_BYTES_SCANNED_CUTOFF_MB, 1_073_741_824),
    defaults.bytesScannedCutoffMb,
  );
  const resultsExpireDays = query.read('resultsExpireDays', integer(1, 365), defaults.resultsExpireDays);
  const tokenTtlSeconds = query.read('tokenTtlSeconds', integer(60, 30 * 86_400), defaults.tokenTtlSeconds);
  const throttling = query.section('throttling', ['rateLimit', 'burstLimit']);
  // API Gateway's default account quota: 10,000 requests per second, burst 5,000.
  const rateLimit = throttling.read('rateLimit', integer(1, 10_000), defaults.throttling.rateLimit);
  const burstLimit = throttling.read('burstLimit', integer(1, 5_000), defaults.throttling.burstLimit);
  const apiCloudWatchRole = query.read('apiCloudWatchRole', boolean, defaults.apiCloudWatchRole);
  const authorization = query.read(
    'authorization',
    matching(/^(?:iam|token)$/, 'must be "iam" or "token"'),
    defaults.authorization,
  ) as QueryConfig['authorization'];
  const authorizerCacheSeconds = query.read(
    'authorizerCacheSeconds',
    integer(0, MAX_AUTHORIZER_CACHE_SECONDS),
    defaults.authorizerCacheSeconds,
  );
  return {
    databaseName,
    workGroupName,
    projectionStartDate,
    bytesScannedCutoffMb,
    resultsExpireDays,
    tokenTtlSeconds,
    throttling: { rateLimit, burstLimit },
    apiCloudWatchRole,
    authorization,
    authorizerCacheSeconds,
  };
}

// A calendar date in the past: projection's range runs from it to NOW, and Athena rejects a range
// whose start lies after its end.
function pastDate(nowMs: number): Reader<string> {
  const rule = 'must be a date YYYY-MM-DD from 1970-01-01 to today (UTC)';
  return (value, path) => {
    if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) {
      throw new ConfigError(path, value, rule);
    }
    const ms = Date.parse(`${value}T00:00:00Z`);
    if (!Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 10) !== value || ms < 0 || ms > nowMs) {
      throw new ConfigError(path, value, rule);
    }
    return value;
  };
}
