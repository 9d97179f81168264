import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { acknowledgeWildcardResources } from '../nag';

/** Top-level folders under the archive prefix: one per table, plus the run bookkeeping. */
export const ArchiveFolder = {
  CODECATALYST_EVENT_LOGS: 'codecatalyst_event_logs',
  RESILIENCEHUB_SYSTEM_EVENTS: 'resiliencehub_system_events',
  LEDGER: '_ledger',
  LEASES: '_leases',
  /** Signed integrity digests: `_digests/<table>/<pk>=<val>/<seq>.json`, written once, never deleted. */
  DIGESTS: '_digests',
  /**
   * What was delivered outside the archive (Security Lake): `_exports/securitylake/<table>/<pk>=<val>/dt=<day>.json`,
   * rewritten whenever a day is delivered again. Only with the `securityLake` option.
   */
  EXPORTS: '_exports',
} as const;
export type ArchiveFolder = (typeof ArchiveFolder)[keyof typeof ArchiveFolder];

/** A table's folder in the coverage ledger, e.g. `_ledger/codecatalyst_event_logs`. */
export function ledgerFolderOf(table: string): string {
  return `${ArchiveFolder.LEDGER}/${table}`;
}

export const ArchiveAccess = { READ: 'read', READ_WRITE: 'readWrite' } as const;
export type ArchiveAccess = (typeof ArchiveAccess)[keyof typeof ArchiveAccess];

export const S3_READ_ACTIONS = ['s3:GetObject'] as const;
export const S3_READ_WRITE_ACTIONS = ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'] as const;
/** Objects written once and kept (the digests): no s3:DeleteObject. */
export const S3_WRITE_ONCE_ACTIONS = ['s3:GetObject', 's3:PutObject'] as const;
/**
 * The condition on `s3:PutObject` into a write-once folder: the request must carry
 * `If-None-Match: *`, so S3 creates the object only where none exists and refuses to overwrite one
 * (412). `Null: false` requires the header; `StringEquals: *` its only create-only value.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes-enforce.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
 * Only PutObject is granted (no multipart upload actions): digests are small single PUTs, and
 * CreateMultipartUpload / UploadPart cannot carry the header.
 */
export const CREATE_ONLY_CONDITION = {
  Null: { 's3:if-none-match': 'false' },
  StringEquals: { 's3:if-none-match': '*' },
} as const;
const FOLDER_GRANT_REASON =
  'Object keys are written per partition and day at run time, so the grant names a folder (<prefix><folder>/*) of the one archive bucket, never the whole bucket; the actions are listed one by one.';

/** `s3://bucket` or `s3://bucket/prefix` (no trailing slash), as the handlers parse it. */
export function archiveUri(bucket: IBucket, prefix: string): string {
  const trimmed = prefix.replace(/\/+$/, '');
  return trimmed ? `s3://${bucket.bucketName}/${trimmed}` : `s3://${bucket.bucketName}`;
}

export interface BindArchiveOptions {
  /**
   * The function also queries these folders through Athena, which reads S3 with the caller's
   * credentials: adds `s3:GetBucketLocation` on the bucket, which Athena checks first. The object and
   * listing grants stay the same.
   */
  readonly forAthena?: boolean;
  /**
   * More folders the function reads and creates objects in, but never overwrites or deletes in
   * (`S3_WRITE_ONCE_ACTIONS`, the PUT under {@link CREATE_ONLY_CONDITION}); they share the one
   * `s3:ListBucket` grant.
   */
  readonly writeOnceFolders?: readonly string[];
}

/**
 * Points a function at the archive: sets `ARCHIVE_URI` and grants object access on exactly the given
 * folders under `prefix`, plus `s3:ListBucket` limited to those folders by an `s3:prefix` condition
 * (a listing that names another prefix is denied; see below for requests without one).
 *
 * @example
 * bindArchive(fn, bucket, 'archive/', [ArchiveFolder.CODECATALYST_EVENT_LOGS, ArchiveFolder.LEDGER]);
 * bindArchive(fn, bucket, '', ['codecatalyst_event_logs'], ArchiveAccess.READ, { forAthena: true });
 */
export function bindArchive(
  fn: LambdaFunction,
  bucket: IBucket,
  prefix: string,
  folders: readonly string[],
  access: ArchiveAccess = ArchiveAccess.READ_WRITE,
  options: BindArchiveOptions = {},
): void {
  if (folders.length === 0) throw new Error('bindArchive: at least one folder is required');
  const keyPrefixOf = (folder: string): string => `${prefix}${folder}/*`;
  const writeOnce = options.writeOnceFolders ?? [];
  const keyPrefixes = [...folders, ...writeOnce].map(keyPrefixOf);
  fn.addEnvironment('ARCHIVE_URI', archiveUri(bucket, prefix));
  const objectArns = folders.map((folder) => bucket.arnForObjects(keyPrefixOf(folder)));
  fn.addToRolePolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: [...(access === ArchiveAccess.READ ? S3_READ_ACTIONS : S3_READ_WRITE_ACTIONS)],
      resources: objectArns,
    }),
  );
  const writeOnceArns = writeOnce.map((folder) => bucket.arnForObjects(keyPrefixOf(folder)));
  if (writeOnceArns.length > 0) {
    // Read and create-only write, in two statements: the condition key is absent from a GET, so one
    // statement with the condition would deny reading the chain.
    fn.addToRolePolicy(
      new PolicyStatement({ effect: Effect.ALLOW, actions: ['s3:GetObject'], resources: writeOnceArns }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['s3:PutObject'],
        resources: writeOnceArns,
        conditions: CREATE_ONLY_CONDITION,
      }),
    );
  }
  if (fn.role) acknowledgeWildcardResources(fn.role, [...objectArns, ...writeOnceArns], FOLDER_GRANT_REASON);
  fn.addToRolePolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      // IfExists: S3 answers a GET of a missing key with 404 only when s3:ListBucket is allowed in that
      // request's context, which has no s3:prefix; with plain StringLike it would answer 403, and the
      // handlers read not-yet-written ledger and lease keys. Listings with any other prefix stay denied.
      conditions: { StringLikeIfExists: { 's3:prefix': keyPrefixes } },
    }),
  );
  if (options.forAthena) {
    fn.addToRolePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['s3:GetBucketLocation'],
        resources: [bucket.bucketArn],
      }),
    );
  }
  // With SSE-KMS, reading needs Decrypt and writing GenerateDataKey; named actions, no wildcards.
  bucket.encryptionKey?.grant(
    fn,
    ...(access === ArchiveAccess.READ && writeOnce.length === 0
      ? ['kms:Decrypt']
      : ['kms:Decrypt', 'kms:GenerateDataKey']),
  );
}

/**
 * Gives a function its CodeCatalyst token: sets `CODECATALYST_TOKEN_SECRET_ARN` and grants
 * `secretsmanager:GetSecretValue` on that secret only.
 */
export function bindTokenSecret(
  fn: LambdaFunction,
  secret: ISecret,
  envName = 'CODECATALYST_TOKEN_SECRET_ARN',
): void {
  fn.addEnvironment(envName, secret.secretArn);
  fn.addToRolePolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['secretsmanager:GetSecretValue'],
      resources: [secretArnForPolicies(secret)],
    }),
  );
  secret.encryptionKey?.grantDecrypt(fn);
}

// An ARN built from a name lacks the 6-character suffix Secrets Manager appends; match any suffix.
function secretArnForPolicies(secret: ISecret): string {
  return secret.secretFullArn ? secret.secretArn : `${secret.secretArn}-??????`;
}
