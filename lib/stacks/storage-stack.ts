import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { type IKey, Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type IBucket,
  type LifecycleRule,
  ObjectLockRetention,
  ObjectOwnership,
  PartitionDateSource,
  StorageClass,
  TargetObjectKeyFormat,
} from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { SOURCE_DEFINITIONS } from '../../lambdas/core/sources';
import type { ArchiveConfig } from '../config';
import { archiveUri } from '../constructs/archive-access';
import { ArchiveCatalog } from '../constructs/archive-catalog';
import { QueryWorkGroup } from '../constructs/query-workgroup';

export interface StorageStackProps extends StackProps {
  readonly config: ArchiveConfig;
  /**
   * Encrypt the archive with this KMS key (SSE-KMS with an S3 Bucket Key) instead of SSE-S3; overrides
   * `config.encryption`.
   */
  readonly encryptionKey?: IKey;
}

/** Alias of the key this app creates for `encryption: { kmsKey: true }`. */
export const ARCHIVE_KEY_ALIAS = 'alias/eventlog-archive';
/** Alias of the digest signing key this app creates unless `integrity.signingKeyArn` is set. */
export const DIGEST_SIGNING_KEY_ALIAS = 'alias/eventlog-archive-digests';

/**
 * The stateful half: the archive bucket and its access-log bucket (both retained when the stack is
 * deleted), the Glue catalog over the archive, and the Athena workgroup with its results bucket.
 * Compute stacks receive these as props and can come and go.
 */
export class StorageStack extends Stack {
  /** The archive: one folder per table under `archivePrefix`. */
  readonly bucket: IBucket;
  /** '' or a key prefix ending in '/'. */
  readonly archivePrefix: string;
  /** Server access logs of the archive bucket and the results bucket. */
  readonly accessLogsBucket: IBucket;
  /** The Glue database and one table per source. */
  readonly catalog: ArchiveCatalog;
  /** The Athena workgroup and its results bucket. */
  readonly workGroup: QueryWorkGroup;
  /** The customer-managed key of the archive, results and queues; absent for AWS-managed encryption. */
  readonly encryptionKey?: IKey;
  /** The asymmetric key (ECC_NIST_P256, SIGN_VERIFY) the ingest function signs digests with. */
  readonly digestSigningKey: IKey;

  constructor(scope: Construct, id: string, props: StorageStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.archivePrefix = config.archivePrefix;
    this.encryptionKey = props.encryptionKey ?? archiveKey(this, config);
    const encryptionKey = this.encryptionKey;
    this.digestSigningKey = config.integrity?.signingKeyArn
      ? Key.fromKeyArn(this, 'DigestSigningKey', config.integrity.signingKeyArn)
      : new Key(this, 'DigestSigningKey', {
          description:
            'eventlog-archive: signs the integrity digests of the archive (verify with its public key)',
          keySpec: KeySpec.ECC_NIST_P256,
          keyUsage: KeyUsage.SIGN_VERIFY,
          alias: DIGEST_SIGNING_KEY_ALIAS,
          // Old digests stay verifiable only while the key exists.
          removalPolicy: RemovalPolicy.RETAIN,
        });

    // Server access logs can only be delivered to an SSE-S3 bucket, whatever the archive uses.
    this.accessLogsBucket = new Bucket(this, 'AccessLogs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          id: 'expire-access-logs',
          expiration: Duration.days(config.retention.accessLogsExpireDays),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const retention: LifecycleRule = {
      id: 'archive-retention',
      noncurrentVersionExpiration: Duration.days(config.retention.expireNoncurrentVersionsDays),
      abortIncompleteMultipartUploadAfter: Duration.days(7),
      // Delete markers left alone once their older versions have expired.
      expiredObjectDeleteMarker: true,
      ...(config.retention.transitionToInfrequentAccessDays === undefined
        ? {}
        : {
            // S3 skips objects under 128 KB by default, so small ledger files stay in Standard.
            transitions: [
              {
                storageClass: StorageClass.INFREQUENT_ACCESS,
                transitionAfter: Duration.days(config.retention.transitionToInfrequentAccessDays),
              },
            ],
          }),
    };

    const lock = config.objectLock;
    this.bucket = new Bucket(this, 'Archive', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      ...(encryptionKey
        ? { encryption: BucketEncryption.KMS, encryptionKey, bucketKeyEnabled: true }
        : { encryption: BucketEncryption.S3_MANAGED }),
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      lifecycleRules: [retention],
      ...(lock
        ? {
            objectLockEnabled: true,
            objectLockDefaultRetention:
              lock.mode === 'COMPLIANCE'
                ? ObjectLockRetention.compliance(Duration.days(lock.days))
                : ObjectLockRetention.governance(Duration.days(lock.days)),
          }
        : {}),
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'archive/',
      targetObjectKeyFormat: TargetObjectKeyFormat.partitionedPrefix(PartitionDateSource.EVENT_TIME),
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.catalog = new ArchiveCatalog(this, 'Catalog', {
      bucket: this.bucket,
      archivePrefix: this.archivePrefix,
      databaseName: config.query.databaseName,
      projectionStartDate: config.query.projectionStartDate,
    });
    // One table per registered source; its id (Table-<table>) depends on the table name only.
    for (const source of Object.values(SOURCE_DEFINITIONS))
      this.catalog.addTable({
        tableName: source.table,
        partitionKey: source.partitionKey,
        fields: source.fields,
        description: source.description,
      });

    this.workGroup = new QueryWorkGroup(this, 'Query', {
      workGroupName: config.query.workGroupName,
      bytesScannedCutoffMb: config.query.bytesScannedCutoffMb,
      resultsExpireDays: config.query.resultsExpireDays,
      // Results hold archive data: with a key for the archive, they are encrypted with it as well.
      ...(encryptionKey ? { encryptionKey } : {}),
      accessLogsBucket: this.accessLogsBucket,
    });

    new CfnOutput(this, 'ArchiveUri', {
      description: 'Where the tables live; pass it to the CLI as --archive.',
      value: archiveUri(this.bucket, this.archivePrefix),
    });
    new CfnOutput(this, 'DigestSigningKeyArn', {
      description: 'KMS key that signs the digests; pass it to the CLI verify command.',
      value: this.digestSigningKey.keyArn,
    });
  }
}

/**
 * The key of `encryption`: none (SSE-S3, SQS-managed), the given ARN, or a new symmetric key with yearly
 * rotation that EventBridge may also use, to put undeliverable scheduled events in the encrypted queue.
 */
function archiveKey(scope: Construct, config: ArchiveConfig): IKey | undefined {
  if (!config.encryption) return undefined;
  if (config.encryption.kmsKeyArn) return Key.fromKeyArn(scope, 'ArchiveKey', config.encryption.kmsKeyArn);
  const key = new Key(scope, 'ArchiveKey', {
    description: 'eventlog-archive: encrypts the archive, the query results and the dead-letter queues',
    alias: ARCHIVE_KEY_ALIAS,
    enableKeyRotation: true,
    // Without the key the archive is unreadable.
    removalPolicy: RemovalPolicy.RETAIN,
  });
  key.addToResourcePolicy(
    new PolicyStatement({
      sid: 'AllowEventBridgeDeadLetters',
      effect: Effect.ALLOW,
      principals: [new ServicePrincipal('events.amazonaws.com')],
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
    }),
  );
  return key;
}
