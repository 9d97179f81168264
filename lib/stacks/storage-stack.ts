import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { type IKey, Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type BucketProps,
  type IBucket,
  type LifecycleRule,
  ObjectLockRetention,
  ObjectOwnership,
  PartitionDateSource,
  StorageClass,
  TargetObjectKeyFormat,
} from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { ArchiveConfig } from '../config';
import { archiveUri } from '../constructs/archive-access';
import { ArchiveCatalog } from '../constructs/archive-catalog';
import { QueryWorkGroup } from '../constructs/query-workgroup';
import { SAVED_QUERIES } from '../saved-queries';
import { deploySources } from '../sources';

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
    this.digestSigningKey = this.createDigestSigningKey(config);
    this.accessLogsBucket = this.createAccessLogsBucket(config);
    this.bucket = this.createArchiveBucket(config, this.accessLogsBucket, this.encryptionKey);
    this.catalog = this.createCatalog(config, this.bucket);
    this.workGroup = this.createWorkGroup(config, this.accessLogsBucket, this.encryptionKey);
    this.workGroup.addSavedQueries(this.catalog.databaseName, SAVED_QUERIES);
    this.addOutputs();
  }

  /** `integrity.signingKeyArn`, or a new retained ECC_NIST_P256 SIGN_VERIFY key. */
  private createDigestSigningKey(config: ArchiveConfig): IKey {
    if (config.integrity?.signingKeyArn) {
      return Key.fromKeyArn(this, 'DigestSigningKey', config.integrity.signingKeyArn);
    }
    return new Key(this, 'DigestSigningKey', {
      description:
        'eventlog-archive: signs the integrity digests of the archive (verify with its public key)',
      keySpec: KeySpec.ECC_NIST_P256,
      keyUsage: KeyUsage.SIGN_VERIFY,
      alias: DIGEST_SIGNING_KEY_ALIAS,
      // Old digests stay verifiable only while the key exists.
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** The retained bucket for the server access logs of the archive and results buckets. */
  private createAccessLogsBucket(config: ArchiveConfig): IBucket {
    // Server access logs can only be delivered to an SSE-S3 bucket, whatever the archive uses.
    return new Bucket(this, 'AccessLogs', {
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
  }

  /** The retained, versioned archive bucket: encryption, retention lifecycle, Object Lock, access logs. */
  private createArchiveBucket(
    config: ArchiveConfig,
    accessLogsBucket: IBucket,
    encryptionKey: IKey | undefined,
  ): IBucket {
    return new Bucket(this, 'Archive', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      ...(encryptionKey
        ? { encryption: BucketEncryption.KMS, encryptionKey, bucketKeyEnabled: true }
        : { encryption: BucketEncryption.S3_MANAGED }),
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      lifecycleRules: [archiveRetentionRule(config.retention)],
      ...objectLockProps(config.objectLock),
      serverAccessLogsBucket: accessLogsBucket,
      serverAccessLogsPrefix: 'archive/',
      targetObjectKeyFormat: TargetObjectKeyFormat.partitionedPrefix(PartitionDateSource.EVENT_TIME),
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** The Glue database over the archive, with one table per registered source. */
  private createCatalog(config: ArchiveConfig, bucket: IBucket): ArchiveCatalog {
    const catalog = new ArchiveCatalog(this, 'Catalog', {
      bucket,
      archivePrefix: config.archivePrefix,
      databaseName: config.query.databaseName,
      projectionStartDate: config.query.projectionStartDate,
    });
    // One table per registered source; its id (Table-<table>) depends on the table name only. Its
    // instance partition enumerates the configured instances, named as the ingest names their folders.
    for (const { definition: source, deploy } of deploySources())
      catalog.addTable({
        tableName: source.table,
        partitionKey: source.partitionKey,
        fields: source.fields,
        description: source.description,
        partitionValues: deploy.instances(config).map((instance) => source.partitionValue(instance)),
      });
    return catalog;
  }

  /** The Athena workgroup and its results bucket. */
  private createWorkGroup(
    config: ArchiveConfig,
    accessLogsBucket: IBucket,
    encryptionKey: IKey | undefined,
  ): QueryWorkGroup {
    return new QueryWorkGroup(this, 'Query', {
      workGroupName: config.query.workGroupName,
      bytesScannedCutoffMb: config.query.bytesScannedCutoffMb,
      resultsExpireDays: config.query.resultsExpireDays,
      // Results hold archive data: with a key for the archive, they are encrypted with it as well.
      ...(encryptionKey ? { encryptionKey } : {}),
      accessLogsBucket,
    });
  }

  /** What the CLI needs: the archive's URI and the digest signing key. */
  private addOutputs(): void {
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
 * The archive's lifecycle rule: expire noncurrent versions, abort stale uploads, drop orphaned delete
 * markers, and optionally move objects to Standard-IA.
 */
function archiveRetentionRule(retention: ArchiveConfig['retention']): LifecycleRule {
  return {
    id: 'archive-retention',
    noncurrentVersionExpiration: Duration.days(retention.expireNoncurrentVersionsDays),
    abortIncompleteMultipartUploadAfter: Duration.days(7),
    // Delete markers left alone once their older versions have expired.
    expiredObjectDeleteMarker: true,
    ...(retention.transitionToInfrequentAccessDays === undefined
      ? {}
      : {
          // S3 skips objects under 128 KB by default, so small ledger files stay in Standard.
          transitions: [
            {
              storageClass: StorageClass.INFREQUENT_ACCESS,
              transitionAfter: Duration.days(retention.transitionToInfrequentAccessDays),
            },
          ],
        }),
  };
}

/** The bucket props of `objectLock`: none, or Object Lock with its default retention. */
function objectLockProps(
  lock: ArchiveConfig['objectLock'],
): Pick<BucketProps, 'objectLockEnabled' | 'objectLockDefaultRetention'> {
  if (!lock) return {};
  return {
    objectLockEnabled: true,
    objectLockDefaultRetention:
      lock.mode === 'COMPLIANCE'
        ? ObjectLockRetention.compliance(Duration.days(lock.days))
        : ObjectLockRetention.governance(Duration.days(lock.days)),
  };
}

/**
 * The key of `encryption`: none (SSE-S3, SQS-managed), the given ARN, or a new symmetric key with yearly
 * rotation. EventBridge Scheduler puts undeliverable invocations in the encrypted queue with the
 * schedules' role, which the ingest stack grants the key; the key policy needs no service statement.
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
  return key;
}
