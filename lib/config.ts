/**
 * The deployment's settings: `cdk.json` context key `eventlogArchive`, validated at synth so that a
 * bad value fails `cdk synth` with a message naming the field and the rule, never a broken deploy.
 */
import type { Clock } from '../lambdas/shared/src/time';
import { checkSpaceName, checkSystemArn } from '../lambdas/shared/src/validation';

/** The context key the settings live under in `cdk.json` (or `cdk synth -c eventlogArchive=...`). */
export const CONTEXT_KEY = 'eventlogArchive';

export const ObjectLockMode = { GOVERNANCE: 'GOVERNANCE', COMPLIANCE: 'COMPLIANCE' } as const;
export type ObjectLockMode = (typeof ObjectLockMode)[keyof typeof ObjectLockMode];

export interface ArchiveConfig {
  readonly codecatalyst: {
    /** CodeCatalyst spaces to archive; one schedule each. */
    readonly spaces: readonly string[];
    /** Name of the Secrets Manager secret that holds the CodeCatalyst PAT (created outside this app). */
    readonly tokenSecretName: string;
    /**
     * The customer-managed KMS key that encrypts that secret, if any: the ingest function may decrypt
     * with it through Secrets Manager only. Absent for the default `aws/secretsmanager` key.
     */
    readonly tokenSecretKmsKeyArn?: string;
  };
  readonly resiliencehub: {
    /**
     * Resilience Hub (next generation) system ARNs to archive; one schedule each, and the ingest
     * function may call `ListSystemEvents` on exactly these.
     */
    readonly systemArns: readonly string[];
  };
  readonly schedule: {
    /** How often each space or system is pulled, in minutes. */
    readonly rateMinutes: number;
  };
  /** How far back every run re-reads, for events that show up late (minutes, 60 to 10080). */
  readonly lookbackMinutes: number;
  /** How far back the first run backfills (days, 1 to 30: CodeCatalyst keeps 30). */
  readonly backfillDays: number;
  /** Length of the time slices paginated concurrently (minutes, divides a day). */
  readonly sliceMinutes: number;
  /** Most time slices paginated at once per run. */
  readonly maxConcurrency: number;
  readonly retention: {
    /** Days after which a replaced or deleted object version is removed. */
    readonly expireNoncurrentVersionsDays: number;
    /** Days after which current objects move to S3 Standard-IA; no transition when absent. */
    readonly transitionToInfrequentAccessDays?: number;
    /** Days the server access logs are kept. */
    readonly accessLogsExpireDays: number;
  };
  /** S3 key prefix under which the tables live: '' or a path ending in '/'. */
  readonly archivePrefix: string;
  /** Default Object Lock retention of the archive bucket; no Object Lock when absent. */
  readonly objectLock?: { readonly mode: ObjectLockMode; readonly days: number };
  /** Timeout of the ingest function (minutes, 1 to 15). */
  readonly functionTimeoutMinutes: number;
  /** Memory of the ingest function (MB, 128 to 10240); Lambda's CPU share grows with it. */
  readonly functionMemoryMb: number;
  readonly query: QueryConfig;
  /**
   * A customer-managed KMS key for the archive, the query results and the dead-letter queues: absent
   * for S3- and SQS-managed encryption, `{}` for a key this app creates, `{ kmsKeyArn }` for your own.
   */
  readonly encryption?: { readonly kmsKeyArn?: string };
  /** The asymmetric key that signs the digests: this app creates one unless `signingKeyArn` is set. */
  readonly integrity?: { readonly signingKeyArn?: string };
  /** Ingest alarms; see `lagAlarmMinutes` for the lag threshold's default. */
  readonly alarms?: AlarmsConfig;
}

/** Where alarm and OK notifications go, and when ingestion counts as lagging. */
export interface AlarmsConfig {
  /** Lag (minutes) above which an instance alarms; 3 × schedule.rateMinutes + lookbackMinutes when absent. */
  readonly lagMinutes?: number;
  /** An existing SNS topic for the notifications (its policy must let CloudWatch publish). */
  readonly topicArn?: string;
  /** Creates a KMS-encrypted topic with this email address subscribed. */
  readonly email?: string;
}

/** The catalog, the Athena workgroup and the query API. */
export interface QueryConfig {
  /** Glue database of the archive's tables (Athena: lowercase letters, digits and '_'). */
  readonly databaseName: string;
  /** Name of the Athena workgroup the query API (and people) run queries in. */
  readonly workGroupName: string;
  /** First `dt` partition projection knows about (YYYY-MM-DD); the last is always today (UTC). */
  readonly projectionStartDate: string;
  /** Athena cancels a query that scans more than this (MiB, at least Athena's 10 MB minimum). */
  readonly bytesScannedCutoffMb: number;
  /** Days the workgroup's result files are kept. */
  readonly resultsExpireDays: number;
  /** How long a `nextToken` stays valid (seconds). */
  readonly tokenTtlSeconds: number;
  /** API Gateway stage throttling: steady requests per second and burst. */
  readonly throttling: { readonly rateLimit: number; readonly burstLimit: number };
  /**
   * Whether this app creates a role and makes it the region's API Gateway CloudWatch Logs role (an
   * account-wide setting that access and execution logs need once per region). Off by default: it
   * overwrites whatever role the region has, and outlives the stack. Turn on for a region that has none.
   */
  readonly apiCloudWatchRole: boolean;
}

export const DEFAULT_CONFIG: ArchiveConfig = {
  codecatalyst: { spaces: [], tokenSecretName: 'eventlog-archive/codecatalyst-pat' },
  resiliencehub: { systemArns: [] },
  schedule: { rateMinutes: 15 },
  lookbackMinutes: 120,
  backfillDays: 30,
  sliceMinutes: 60,
  maxConcurrency: 16,
  retention: { expireNoncurrentVersionsDays: 365, accessLogsExpireDays: 365 },
  archivePrefix: '',
  functionTimeoutMinutes: 15,
  // The most every account accepts: new accounts are often capped at 3,008 MB until a quota increase.
  // Lambda gives one vCPU per 1,769 MB, so this is about 1.7 vCPUs, most of the second core the
  // Parquet worker thread encodes on beside the paging main thread
  // (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html).
  functionMemoryMb: 3008,
  query: {
    databaseName: 'eventlog_archive',
    workGroupName: 'eventlog-archive',
    projectionStartDate: '2020-01-01',
    bytesScannedCutoffMb: 1024,
    resultsExpireDays: 7,
    tokenTtlSeconds: 86_400,
    throttling: { rateLimit: 5, burstLimit: 10 },
    // Region-wide and shared with every other API of the account: opt in, never overwrite by default.
    apiCloudWatchRole: false,
  },
};

/** A setting broke a rule. The message is `<path>: <value> <rule>`. */
export class ConfigError extends Error {
  readonly path: string;

  constructor(path: string, value: unknown, rule: string) {
    super(`${path}: ${show(value)}${rule}`);
    this.name = 'ConfigError';
    this.path = path;
  }
}

const MINUTES_PER_DAY = 1440;
/**
 * Schedules per deployment (spaces and systems together): one rule each, and one Lambda permission
 * (~350 bytes of a 20 KB policy) each.
 */
export const MAX_SPACES = 50;
// A KMS key ARN (not an alias: grants and key policies need the key itself).
const KMS_KEY_ARN =
  /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;
const KMS_KEY_ARN_RULE =
  'must be a KMS key ARN: arn:<partition>:kms:<region>:<account>:key/<key id> (a key id, not an alias)';
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;
// Deliberately loose: SNS checks the address when it sends the confirmation.
const EMAIL = /^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$/;
// Secrets Manager secret names: 1 to 512 of these characters.
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
// One prefix segment: S3's "safe" key characters, not '.' or '..'.
const PREFIX_SEGMENT = /^[A-Za-z0-9!_.*'()-]+$/;
// Athena reads database names in lowercase only; Glue allows 255 characters.
const DATABASE_NAME = /^[a-z0-9_]{1,255}$/;
// Athena workgroup names: 1 to 128 of these characters.
const WORKGROUP_NAME = /^[A-Za-z0-9._-]{1,128}$/;
/** Lambda's memory range (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html). */
export const MIN_FUNCTION_MEMORY_MB = 128;
export const MAX_FUNCTION_MEMORY_MB = 10_240;
/** Athena refuses a bytes-scanned cutoff under 10 MB. */
export const MIN_BYTES_SCANNED_CUTOFF_MB = 10;

/**
 * Reads and validates the `eventlogArchive` context value, filling in the defaults.
 *
 * @example
 * const config = loadConfig(app.node.tryGetContext(CONTEXT_KEY));
 */
export function loadConfig(context: unknown, clock: Clock = Date.now): ArchiveConfig {
  const root = CONTEXT_KEY;
  const raw = context === undefined || context === null ? {} : object(fromCommandLine(context, root), root);
  known(raw, root, [
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
  ]);

  const cc = optionalObject(raw['codecatalyst'], `${root}.codecatalyst`);
  known(cc, `${root}.codecatalyst`, ['spaces', 'tokenSecretName', 'tokenSecretKmsKeyArn']);
  const spaces = spaceList(cc['spaces'] ?? DEFAULT_CONFIG.codecatalyst.spaces, `${root}.codecatalyst.spaces`);
  const tokenSecretName = secretName(
    cc['tokenSecretName'] ?? DEFAULT_CONFIG.codecatalyst.tokenSecretName,
    `${root}.codecatalyst.tokenSecretName`,
  );
  const tokenSecretKmsKeyArn =
    cc['tokenSecretKmsKeyArn'] === undefined
      ? undefined
      : matching(
          cc['tokenSecretKmsKeyArn'],
          `${root}.codecatalyst.tokenSecretKmsKeyArn`,
          KMS_KEY_ARN,
          KMS_KEY_ARN_RULE,
        );

  const rh = optionalObject(raw['resiliencehub'], `${root}.resiliencehub`);
  known(rh, `${root}.resiliencehub`, ['systemArns']);
  const systemArns = systemArnList(
    rh['systemArns'] ?? DEFAULT_CONFIG.resiliencehub.systemArns,
    `${root}.resiliencehub.systemArns`,
    MAX_SPACES - spaces.length,
  );

  const schedule = optionalObject(raw['schedule'], `${root}.schedule`);
  known(schedule, `${root}.schedule`, ['rateMinutes']);
  const rateMinutes = int(
    schedule['rateMinutes'] ?? DEFAULT_CONFIG.schedule.rateMinutes,
    `${root}.schedule.rateMinutes`,
    1,
    MINUTES_PER_DAY,
  );

  const lookbackMinutes = int(
    raw['lookbackMinutes'] ?? DEFAULT_CONFIG.lookbackMinutes,
    `${root}.lookbackMinutes`,
    60,
    7 * MINUTES_PER_DAY,
  );
  const backfillDays = int(raw['backfillDays'] ?? DEFAULT_CONFIG.backfillDays, `${root}.backfillDays`, 1, 30);
  const sliceMinutes = int(
    raw['sliceMinutes'] ?? DEFAULT_CONFIG.sliceMinutes,
    `${root}.sliceMinutes`,
    1,
    MINUTES_PER_DAY,
  );
  // Slices are aligned to UTC midnight, so a slice never straddles two dt= partitions.
  if (MINUTES_PER_DAY % sliceMinutes !== 0) {
    throw new ConfigError(`${root}.sliceMinutes`, sliceMinutes, 'must divide 1440 (the minutes of a day)');
  }
  const maxConcurrency = int(
    raw['maxConcurrency'] ?? DEFAULT_CONFIG.maxConcurrency,
    `${root}.maxConcurrency`,
    1,
    64,
  );

  const retention = optionalObject(raw['retention'], `${root}.retention`);
  known(retention, `${root}.retention`, [
    'expireNoncurrentVersionsDays',
    'transitionToInfrequentAccessDays',
    'accessLogsExpireDays',
  ]);
  const expireNoncurrentVersionsDays = int(
    retention['expireNoncurrentVersionsDays'] ?? DEFAULT_CONFIG.retention.expireNoncurrentVersionsDays,
    `${root}.retention.expireNoncurrentVersionsDays`,
    1,
    36_500,
  );
  const transitionToInfrequentAccessDays =
    retention['transitionToInfrequentAccessDays'] === undefined
      ? undefined
      : // S3 refuses a transition to Standard-IA earlier than 30 days after creation.
        int(
          retention['transitionToInfrequentAccessDays'],
          `${root}.retention.transitionToInfrequentAccessDays`,
          30,
          36_500,
        );
  const accessLogsExpireDays = int(
    retention['accessLogsExpireDays'] ?? DEFAULT_CONFIG.retention.accessLogsExpireDays,
    `${root}.retention.accessLogsExpireDays`,
    1,
    36_500,
  );

  const archivePrefix = prefix(raw['archivePrefix'] ?? DEFAULT_CONFIG.archivePrefix, `${root}.archivePrefix`);

  let objectLock: ArchiveConfig['objectLock'];
  if (raw['objectLock'] !== undefined) {
    const lock = object(raw['objectLock'], `${root}.objectLock`);
    known(lock, `${root}.objectLock`, ['mode', 'days']);
    const mode = lock['mode'];
    if (mode !== ObjectLockMode.GOVERNANCE && mode !== ObjectLockMode.COMPLIANCE) {
      throw new ConfigError(`${root}.objectLock.mode`, mode, 'must be "GOVERNANCE" or "COMPLIANCE"');
    }
    objectLock = { mode, days: int(lock['days'], `${root}.objectLock.days`, 1, 36_500) };
    // Each version is locked from its creation; a noncurrent version that lifecycle should expire while
    // it is still locked stays anyway, so the shorter setting would never hold.
    if (expireNoncurrentVersionsDays < objectLock.days) {
      throw new ConfigError(
        `${root}.retention.expireNoncurrentVersionsDays`,
        expireNoncurrentVersionsDays,
        `must be at least objectLock.days (${objectLock.days}): S3 lifecycle cannot remove a version while Object Lock retains it`,
      );
    }
  }

  const functionTimeoutMinutes = int(
    raw['functionTimeoutMinutes'] ?? DEFAULT_CONFIG.functionTimeoutMinutes,
    `${root}.functionTimeoutMinutes`,
    1,
    15,
  );

  // Lambda's own range for a function's memory.
  const functionMemoryMb = int(
    raw['functionMemoryMb'] ?? DEFAULT_CONFIG.functionMemoryMb,
    `${root}.functionMemoryMb`,
    MIN_FUNCTION_MEMORY_MB,
    MAX_FUNCTION_MEMORY_MB,
  );

  const query = queryConfig(raw['query'], `${root}.query`, clock);
  const encryption = encryptionConfig(raw['encryption'], `${root}.encryption`);
  const integrity = integrityConfig(raw['integrity'], `${root}.integrity`);
  const alarms = alarmsConfig(raw['alarms'], `${root}.alarms`, rateMinutes);

  return {
    codecatalyst: { spaces, tokenSecretName, ...(tokenSecretKmsKeyArn ? { tokenSecretKmsKeyArn } : {}) },
    resiliencehub: { systemArns },
    schedule: { rateMinutes },
    lookbackMinutes,
    backfillDays,
    sliceMinutes,
    maxConcurrency,
    retention: {
      expireNoncurrentVersionsDays,
      ...(transitionToInfrequentAccessDays === undefined ? {} : { transitionToInfrequentAccessDays }),
      accessLogsExpireDays,
    },
    archivePrefix,
    ...(objectLock ? { objectLock } : {}),
    functionTimeoutMinutes,
    functionMemoryMb,
    query,
    ...(encryption ? { encryption } : {}),
    ...(integrity ? { integrity } : {}),
    ...(alarms ? { alarms } : {}),
  };
}

/**
 * The lag (minutes) above which an instance's lag alarm fires: `alarms.lagMinutes`, or three missed
 * schedules on top of the look-back every run re-reads.
 */
export function lagAlarmMinutes(config: ArchiveConfig): number {
  return config.alarms?.lagMinutes ?? 3 * config.schedule.rateMinutes + config.lookbackMinutes;
}

function encryptionConfig(value: unknown, path: string): ArchiveConfig['encryption'] {
  if (value === undefined) return undefined;
  const raw = object(value, path);
  known(raw, path, ['kmsKey', 'kmsKeyArn']);
  const create = raw['kmsKey'];
  if (create !== undefined && typeof create !== 'boolean') {
    throw new ConfigError(`${path}.kmsKey`, create, 'must be true or false');
  }
  if (raw['kmsKeyArn'] !== undefined) {
    if (create === true) {
      throw new ConfigError(
        `${path}.kmsKey`,
        create,
        'must not be true together with kmsKeyArn (set one: kmsKey creates a key, kmsKeyArn uses yours)',
      );
    }
    return { kmsKeyArn: matching(raw['kmsKeyArn'], `${path}.kmsKeyArn`, KMS_KEY_ARN, KMS_KEY_ARN_RULE) };
  }
  return create === true ? {} : undefined;
}

function integrityConfig(value: unknown, path: string): ArchiveConfig['integrity'] {
  if (value === undefined) return undefined;
  const raw = object(value, path);
  known(raw, path, ['signingKeyArn']);
  if (raw['signingKeyArn'] === undefined) return {};
  return {
    signingKeyArn: matching(raw['signingKeyArn'], `${path}.signingKeyArn`, KMS_KEY_ARN, KMS_KEY_ARN_RULE),
  };
}

function alarmsConfig(value: unknown, path: string, rateMinutes: number): AlarmsConfig | undefined {
  if (value === undefined) return undefined;
  const raw = object(value, path);
  known(raw, path, ['lagMinutes', 'topicArn', 'email']);
  // A run reports once per rate and the lag alarm needs every report over a threshold-long window to
  // be above it: under two rates that window is a single run, which alone would decide the alarm.
  const lagMinutes =
    raw['lagMinutes'] === undefined ? undefined : int(raw['lagMinutes'], `${path}.lagMinutes`, 1, 43_200);
  if (lagMinutes !== undefined && lagMinutes < 2 * rateMinutes) {
    throw new ConfigError(
      `${path}.lagMinutes`,
      lagMinutes,
      `must be at least twice schedule.rateMinutes (${2 * rateMinutes}): every run reports its lag once, and the alarm needs at least two reports above the threshold`,
    );
  }
  if (raw['topicArn'] !== undefined && raw['email'] !== undefined) {
    throw new ConfigError(
      `${path}.email`,
      raw['email'],
      'must not be set together with topicArn (set one: topicArn uses your topic, email creates one)',
    );
  }
  const topicArn =
    raw['topicArn'] === undefined
      ? undefined
      : matching(
          raw['topicArn'],
          `${path}.topicArn`,
          SNS_TOPIC_ARN,
          'must be an SNS topic ARN: arn:<partition>:sns:<region>:<account>:<topic name>',
        );
  const email =
    raw['email'] === undefined
      ? undefined
      : matching(raw['email'], `${path}.email`, EMAIL, 'must be an email address such as ops@example.com');
  return {
    ...(lagMinutes === undefined ? {} : { lagMinutes }),
    ...(topicArn === undefined ? {} : { topicArn }),
    ...(email === undefined ? {} : { email }),
  };
}

function queryConfig(value: unknown, path: string, clock: Clock): QueryConfig {
  const defaults = DEFAULT_CONFIG.query;
  const raw = optionalObject(value, path);
  known(raw, path, [
    'databaseName',
    'workGroupName',
    'projectionStartDate',
    'bytesScannedCutoffMb',
    'resultsExpireDays',
    'tokenTtlSeconds',
    'throttling',
    'apiCloudWatchRole',
  ]);
  const databaseName = matching(
    raw['databaseName'] ?? defaults.databaseName,
    `${path}.databaseName`,
    DATABASE_NAME,
    'must be 1 to 255 of a-z 0-9 _ (Athena reads database names in lowercase)',
  );
  const workGroupName = matching(
    raw['workGroupName'] ?? defaults.workGroupName,
    `${path}.workGroupName`,
    WORKGROUP_NAME,
    'must be 1 to 128 of A-Z a-z 0-9 . _ -',
  );
  const projectionStartDate = pastDate(
    raw['projectionStartDate'] ?? defaults.projectionStartDate,
    `${path}.projectionStartDate`,
    clock(),
  );
  const bytesScannedCutoffMb = int(
    raw['bytesScannedCutoffMb'] ?? defaults.bytesScannedCutoffMb,
    `${path}.bytesScannedCutoffMb`,
    MIN_BYTES_SCANNED_CUTOFF_MB,
    // 1 PiB: far above any sensible per-query limit, and still an exact integer in bytes.
    1_073_741_824,
  );
  const resultsExpireDays = int(
    raw['resultsExpireDays'] ?? defaults.resultsExpireDays,
    `${path}.resultsExpireDays`,
    1,
    365,
  );
  const tokenTtlSeconds = int(
    raw['tokenTtlSeconds'] ?? defaults.tokenTtlSeconds,
    `${path}.tokenTtlSeconds`,
    60,
    30 * 86_400,
  );
  const throttlingRaw = optionalObject(raw['throttling'], `${path}.throttling`);
  known(throttlingRaw, `${path}.throttling`, ['rateLimit', 'burstLimit']);
  // API Gateway's default account quota: 10,000 requests per second, burst 5,000.
  const rateLimit = int(
    throttlingRaw['rateLimit'] ?? defaults.throttling.rateLimit,
    `${path}.throttling.rateLimit`,
    1,
    10_000,
  );
  const burstLimit = int(
    throttlingRaw['burstLimit'] ?? defaults.throttling.burstLimit,
    `${path}.throttling.burstLimit`,
    1,
    5_000,
  );
  const apiCloudWatchRole = raw['apiCloudWatchRole'] ?? defaults.apiCloudWatchRole;
  if (typeof apiCloudWatchRole !== 'boolean') {
    throw new ConfigError(`${path}.apiCloudWatchRole`, apiCloudWatchRole, 'must be true or false');
  }
  return {
    databaseName,
    workGroupName,
    projectionStartDate,
    bytesScannedCutoffMb,
    resultsExpireDays,
    tokenTtlSeconds,
    throttling: { rateLimit, burstLimit },
    apiCloudWatchRole,
  };
}

function matching(value: unknown, path: string, pattern: RegExp, rule: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) throw new ConfigError(path, value, rule);
  return value;
}

// A calendar date in the past: projection's range runs from it to NOW, and Athena rejects a range
// whose start lies after its end.
function pastDate(value: unknown, path: string, nowMs: number): string {
  const rule = 'must be a date YYYY-MM-DD from 1970-01-01 to today (UTC)';
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value))
    throw new ConfigError(path, value, rule);
  const ms = Date.parse(`${value}T00:00:00Z`);
  if (!Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 10) !== value || ms < 0 || ms > nowMs) {
    throw new ConfigError(path, value, rule);
  }
  return value;
}

// `cdk synth -c eventlogArchive='{...}'` passes the value as a JSON string.
function fromCommandLine(value: unknown, path: string): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    throw new ConfigError(path, value, 'must be an object (or its JSON text)');
  }
}

function show(value: unknown): string {
  if (value === undefined) return '';
  const text = JSON.stringify(value) ?? String(value);
  return `${text.length > 60 ? `${text.slice(0, 60)}…` : text} `;
}

function object(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(path, value, 'must be an object');
  }
  return value as Record<string, unknown>;
}

function optionalObject(value: unknown, path: string): Record<string, unknown> {
  return value === undefined ? {} : object(value, path);
}

// A misspelt key would otherwise fall back to its default without a word.
function known(value: Record<string, unknown>, path: string, keys: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) {
      throw new ConfigError(
        `${path}.${key}`,
        undefined,
        `is not a known setting (known: ${keys.join(', ')})`,
      );
    }
  }
}

function int(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(path, value, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

function spaceList(value: unknown, path: string): string[] {
  if (!Array.isArray(value)) throw new ConfigError(path, value, 'must be an array of space names');
  if (value.length > MAX_SPACES) {
    throw new ConfigError(
      path,
      undefined,
      `must list at most ${MAX_SPACES} spaces (got ${value.length}): each has a schedule whose permission counts against the function's 20 KB resource policy`,
    );
  }
  const seen = new Map<string, number>();
  return value.map((item, i) => {
    const field = `${path}[${i}]`;
    const name = viaFieldCheck(item, field, checkSpaceName);
    const first = seen.get(name);
    if (first !== undefined) throw new ConfigError(field, name, `is listed twice (also at [${first}])`);
    seen.set(name, i);
    return name;
  });
}

/**
 * Runs one of the shared field checks (they throw `<field>: <rule>`) and rethrows its rule as a
 * ConfigError that also shows the value, so that the rule keeps a single implementation.
 */
function systemArnList(value: unknown, path: string, room: number): string[] {
  if (!Array.isArray(value)) throw new ConfigError(path, value, 'must be an array of system ARNs');
  if (value.length > room) {
    throw new ConfigError(
      path,
      undefined,
      `must list at most ${room} systems (got ${value.length}): spaces and systems together are at most ${MAX_SPACES}, each has a schedule whose permission counts against the function's 20 KB resource policy`,
    );
  }
  const seen = new Map<string, number>();
  return value.map((item, i) => {
    const field = `${path}[${i}]`;
    const arn = viaFieldCheck(item, field, checkSystemArn);
    const first = seen.get(arn);
    if (first !== undefined) throw new ConfigError(field, arn, `is listed twice (also at [${first}])`);
    seen.set(arn, i);
    return arn;
  });
}

function viaFieldCheck<T>(value: unknown, field: string, check: (value: unknown, field: string) => T): T {
  try {
    return check(value, field);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const rule = message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message;
    throw new ConfigError(field, value, rule);
  }
}

function secretName(value: unknown, path: string): string {
  if (typeof value !== 'string' || !SECRET_NAME.test(value)) {
    throw new ConfigError(
      path,
      value,
      'must be a Secrets Manager secret name: 1 to 512 of A-Z a-z 0-9 /_+=.@-',
    );
  }
  // The function gets the secret as a partial ARN (imported by name); Secrets Manager reads a name
  // ending in '-' and six characters as a complete ARN's random suffix and would not find it.
  if (/-[A-Za-z0-9]{6}$/.test(value)) {
    throw new ConfigError(
      path,
      value,
      'must not end with a hyphen and six characters (Secrets Manager would take them for the ARN suffix)',
    );
  }
  return value;
}

function prefix(value: unknown, path: string): string {
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
}
