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
import {
  CODECATALYST_FIELDS,
  CODECATALYST_PARTITION_KEY,
  CODECATALYST_TABLE,
} from '../../lambdas/ingest/sources/codecatalyst/schema';
import {
  RESILIENCEHUB_FIELDS,
  RESILIENCEHUB_PARTITION_KEY,
  RESILIENCEHUB_TABLE,
} from '../../lambdas/ingest/sources/resiliencehub/schema';
import type { ArchiveConfig } from '../config';
import { archiveUri } from '../constructs/archive-access';
import { ArchiveCatalog } from '../constructs/archive-catalog';
import { QueryWorkGroup } from '../constructs/query-workgroup';

export interface StorageStackProps extends StackProps {
  readonly config: ArchiveConfig;
  /** Encrypt the archive with this KMS key (SSE-KMS with an S3 Bucket Key) instead of SSE-S3. */
  readonly encryptionKey?: IKey;
}

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

    this.catalog = new ArchiveCatalog(this, 'Catalog', {
      bucket: this.bucket,
      archivePrefix: this.archivePrefix,
      databaseName: config.query.databaseName,
      projectionStartDate: config.query.projectionStartDate,
    });
    this.catalog.addTable({
      tableName: CODECATALYST_TABLE,
      partitionKey: CODECATALYST_PARTITION_KEY,
      fields: CODECATALYST_FIELDS,
      description: 'Amazon CodeCatalyst event logs (ListEventLogs), one partition per space and UTC day',
    });
    this.catalog.addTable({
      tableName: RESILIENCEHUB_TABLE,
      partitionKey: RESILIENCEHUB_PARTITION_KEY,
      fields: RESILIENCEHUB_FIELDS,
      description:
        'AWS Resilience Hub system events (ListSystemEvents), one partition per system (<slug>-<hash of the ARN>) and UTC day; eventMetadata is the JSON text the service sent',
    });

    this.workGroup = new QueryWorkGroup(this, 'Query', {
      workGroupName: config.query.workGroupName,
      bytesScannedCutoffMb: config.query.bytesScannedCutoffMb,
      resultsExpireDays: config.query.resultsExpireDays,
      // Results hold archive data: with a key for the archive, they are encrypted with it as well.
      ...(props.encryptionKey ? { encryptionKey: props.encryptionKey } : {}),
      accessLogsBucket: this.accessLogsBucket,
    });

    new CfnOutput(this, 'ArchiveUri', {
      description: 'Where the tables live; pass it to the CLI as --archive.',
      value: archiveUri(this.bucket, this.archivePrefix),
    });
  }
}
