/** The shape of the validated settings; `loadConfig` (./index.ts) produces it from the raw context. */

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
  /** Delivery of each source's archived days to an Amazon Security Lake custom source; none when absent. */
  readonly securityLake?: SecurityLakeConfig;
}

/** One Security Lake custom source per source kind. */
export interface SecurityLakeConfig {
  readonly codecatalyst?: SecurityLakeTargetConfig;
  readonly resiliencehub?: SecurityLakeTargetConfig;
}

/** A custom source: where the objects go and the provider role that may write them. */
export interface SecurityLakeTargetConfig {
  /** The custom source's name: objects go under `ext/<sourceName>/`. */
  readonly sourceName: string;
  /** The Security Lake bucket (`aws-security-data-lake-<region>-<id>`). */
  readonly bucket: string;
  /** The provider role Security Lake created for the custom source; the ingest role may assume it. */
  readonly providerRoleArn: string;
  /** The external id given at `create-custom-log-source` (`providerIdentity.externalId`). */
  readonly externalId: string;
  /** The `region` partition: CodeCatalyst's us-west-2 unless given; Resilience Hub: the system's own. */
  readonly region?: string;
  /** The `accountId` partition: the deploying account unless given (Resilience Hub: the system's own). */
  readonly accountId?: string;
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
  /**
   * How callers authenticate: `iam` (SigV4 on every route), or `token` (a Lambda authorizer takes
   * `Authorization: Bearer <token>` from `eventlog-archive token create` on the routes whose service
   * SDK sends bearer tokens, CodeCatalyst's; the SigV4 routes keep IAM).
   */
  readonly authorization: 'iam' | 'token';
  /** How long API Gateway reuses an authorizer result per token (seconds, 0 to 3600): a revoked token works at most this long. */
  readonly authorizerCacheSeconds: number;
}
