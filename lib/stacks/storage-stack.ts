import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
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
import type { ArchiveConfig } from '../config';
import { archiveUri } from '../constructs/archive-access';

export interface StorageStackProps extends StackProps {
  readonly config: ArchiveConfig;
  /** Encrypt the archive with this KMS key (SSE-KMS with an S3 Bucket Key) instead of SSE-S3. */
  readonly encryptionKey?: IKey;
}

/**
 * The stateful half: the archive bucket and its access-log bucket. Both are retained when the stack
 * is deleted; compute stacks receive the bucket as a prop and can come and go.
 */
export class StorageStack extends Stack {
  /** The archive: one folder per table under `archivePrefix`. */
  readonly bucket: IBucket;
  /** '' or a key prefix ending in '/'. */
  readonly archivePrefix: string;
  /** Server access logs of the archive bucket. */
  readonly accessLogsBucket: IBucket;

  constructor(scope: Construct, id: string, props: StorageStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.archivePrefix = config.archivePrefix;

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
      ...(props.encryptionKey
        ? { encryption: BucketEncryption.KMS, encryptionKey: props.encryptionKey, bucketKeyEnabled: true }
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

    new CfnOutput(this, 'ArchiveUri', {
      description: 'Where the tables live; pass it to the CLI as --archive.',
      value: archiveUri(this.bucket, this.archivePrefix),
    });
  }
}
