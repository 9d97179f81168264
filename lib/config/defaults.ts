/** The context key, the defaults every absent setting falls back to, and the limits shared with tests. */
import { DEFAULT_AUTHORIZER_CACHE_SECONDS } from '../../lambdas/authorizer/policy';
import type { ArchiveConfig } from './types';

/** The context key the settings live under in `cdk.json` (or `cdk synth -c eventlogArchive=...`). */
export const CONTEXT_KEY = 'eventlogArchive';

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
    authorization: 'iam',
    authorizerCacheSeconds: DEFAULT_AUTHORIZER_CACHE_SECONDS,
  },
};

export const MINUTES_PER_DAY = 1440;
/**
 * Spaces and systems together. Each has a schedule and three alarms in one of the ingest stack's
 * nested stacks (lib/stacks/ingest-stack.ts), so CloudFormation's 500 resources per stack no longer
 * bind; the dashboard does: its per-instance graphs are CloudWatch searches, which return at most 500
 * time series (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-search-expressions.html).
 * test/lib/scale.test.ts synthesizes this many with cdk-nag within every CloudFormation limit.
 */
export const MAX_INSTANCES = 500;
/**
 * Characters of all system ARNs together. The ingest role lists every ARN in its
 * `resiliencehub:ListSystemEvents` grant, and IAM allows a role 10,240 characters of inline policy
 * and 10 managed policies of 6,144 (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html);
 * CDK moves what does not fit inline into managed policies. This leaves room for the role's other
 * statements and keeps to 10 managed policies (test/lib/scale.test.ts): 500 ARNs of 90 characters.
 */
export const MAX_SYSTEM_ARN_CHARACTERS = 45_000;
/** Lambda's memory range (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html). */
export const MIN_FUNCTION_MEMORY_MB = 128;
export const MAX_FUNCTION_MEMORY_MB = 10_240;
/** Athena refuses a bytes-scanned cutoff under 10 MB. */
export const MIN_BYTES_SCANNED_CUTOFF_MB = 10;
