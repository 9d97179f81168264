import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { CfnNamedQuery, CfnWorkGroup } from 'aws-cdk-lib/aws-athena';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type IBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { SavedQuery } from '../saved-queries';

export const ATHENA_ENGINE_VERSION = 'Athena engine version 3';
/** Key prefix of the result files in the results bucket. */
export const RESULTS_PREFIX = 'results/';
const MIB = 1024 * 1024;

export interface QueryWorkGroupProps {
  readonly workGroupName: string;
  /** Athena cancels a query that scans more than this many MiB. */
  readonly bytesScannedCutoffMb: number;
  /** Days after which result files are deleted. */
  readonly resultsExpireDays: number;
  /** Encrypt results with this key (SSE-KMS) instead of SSE-S3: pass the archive's key, if any. */
  readonly encryptionKey?: IKey;
  /** Server access logs of the results bucket go here, under `athena-results/`. */
  readonly accessLogsBucket?: IBucket;
}

/**
 * The Athena workgroup the query API runs in, with its own results bucket. The workgroup's settings
 * are enforced, so that no client can point results elsewhere, skip encryption or lift the cutoff.
 */
export class QueryWorkGroup extends Construct {
  readonly workGroup: CfnWorkGroup;
  readonly workGroupName: string;
  /** Query results only; files expire after `resultsExpireDays`. */
  readonly resultsBucket: IBucket;
  /** `s3://<results bucket>/results/`. */
  readonly outputLocation: string;

  constructor(scope: Construct, id: string, props: QueryWorkGroupProps) {
    super(scope, id);
    const key = props.encryptionKey;
    this.workGroupName = props.workGroupName;
    this.resultsBucket = new Bucket(this, 'Results', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      ...(key
        ? { encryption: BucketEncryption.KMS, encryptionKey: key, bucketKeyEnabled: true }
        : { encryption: BucketEncryption.S3_MANAGED }),
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          id: 'expire-query-results',
          expiration: Duration.days(props.resultsExpireDays),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      ...(props.accessLogsBucket
        ? { serverAccessLogsBucket: props.accessLogsBucket, serverAccessLogsPrefix: 'athena-results/' }
        : {}),
      // Retained like every bucket here: CloudFormation cannot delete a bucket that still holds results.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.outputLocation = `s3://${this.resultsBucket.bucketName}/${RESULTS_PREFIX}`;

    this.workGroup = new CfnWorkGroup(this, 'WorkGroup', {
      name: props.workGroupName,
      description: 'eventlog-archive: queries of the archive (API and people)',
      state: 'ENABLED',
      // Query history is not data; without this a workgroup with saved queries blocks stack deletion.
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        engineVersion: { selectedEngineVersion: ATHENA_ENGINE_VERSION },
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffMb * MIB,
        requesterPaysEnabled: false,
        resultConfiguration: {
          outputLocation: this.outputLocation,
          expectedBucketOwner: Stack.of(this).account,
          encryptionConfiguration: key
            ? { encryptionOption: 'SSE_KMS', kmsKey: key.keyArn }
            : { encryptionOption: 'SSE_S3' },
        },
      },
    });
  }

  /** Saves `queries` in the workgroup, over `database`, for people to run from the Athena console. */
  addSavedQueries(database: string, queries: readonly SavedQuery[]): void {
    queries.forEach((query, i) => {
      const named = new CfnNamedQuery(this, `SavedQuery${i + 1}`, {
        name: query.name,
        description: `${query.description} Parameters: ${query.parameters.join(', ')}.`,
        database,
        workGroup: this.workGroupName,
        queryString: query.sql,
      });
      named.addDependency(this.workGroup);
    });
  }
}
