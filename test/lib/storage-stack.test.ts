import { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { Key } from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import { buildApp, flat, onlyResource } from './helpers';

const BLOCK_ALL = {
  BlockPublicAcls: true,
  BlockPublicPolicy: true,
  IgnorePublicAcls: true,
  RestrictPublicBuckets: true,
};

// A space keeps the ingest stack's "no space configured" warning out of these tests' output.
const SPACE = { codecatalyst: { spaces: ['my-space'] } };

function bucketIds(settings: Record<string, unknown> = {}) {
  const built = buildApp({ ...SPACE, ...settings });
  const archive = onlyResource(built.storageTemplate, 'AWS::S3::Bucket', {
    VersioningConfiguration: Match.anyValue(),
  });
  const logs = onlyResource(built.storageTemplate, 'AWS::S3::Bucket', {
    VersioningConfiguration: Match.absent(),
  });
  return { ...built, archive, logs };
}

describe('StorageStack', () => {
  it('creates exactly the archive bucket and its access-log bucket', () => {
    const { storageTemplate } = buildApp(SPACE);
    storageTemplate.resourceCountIs('AWS::S3::Bucket', 2);
  });

  it('blocks all public access, encrypts with SSE-S3 and retains both buckets', () => {
    // Act
    const { archive, logs } = bucketIds();

    // Assess
    for (const bucket of [archive, logs]) {
      expect(bucket.resource.Properties.PublicAccessBlockConfiguration).toEqual(BLOCK_ALL);
      expect(bucket.resource.Properties.BucketEncryption).toEqual({
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      });
      expect(bucket.resource.Properties.OwnershipControls).toEqual({
        Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }],
      });
      expect(bucket.resource.DeletionPolicy).toBe('Retain');
      expect(bucket.resource.UpdateReplacePolicy).toBe('Retain');
    }
  });

  it('denies every request without TLS on both buckets', () => {
    // Prepare
    const { storageTemplate, archive, logs } = bucketIds();

    // Act + Assess
    for (const bucket of [archive, logs]) {
      const policy = onlyResource(storageTemplate, 'AWS::S3::BucketPolicy', { Bucket: { Ref: bucket.id } });
      const statements = flat(
        (policy.resource.Properties.PolicyDocument as { Statement: unknown[] }).Statement,
      );
      expect(statements).toContainEqual({
        Action: 's3:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Resource: [`<${bucket.id}.Arn>`, `<${bucket.id}.Arn>/*`],
      });
    }
  });

  it('versions the archive and applies the default lifecycle rule', () => {
    // Act
    const { archive } = bucketIds();

    // Assess
    expect(archive.resource.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(archive.resource.Properties.LifecycleConfiguration).toEqual({
      Rules: [
        {
          Id: 'archive-retention',
          Status: 'Enabled',
          NoncurrentVersionExpiration: { NoncurrentDays: 365 },
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
          ExpiredObjectDeleteMarker: true,
        },
      ],
    });
    expect(archive.resource.Properties.ObjectLockEnabled).toBeUndefined();
    expect(archive.resource.Properties.ObjectLockConfiguration).toBeUndefined();
  });

  it('adds the Infrequent Access transition and the noncurrent expiry from the settings', () => {
    // Act
    const { archive } = bucketIds({
      retention: { expireNoncurrentVersionsDays: 90, transitionToInfrequentAccessDays: 60 },
    });

    // Assess
    expect(archive.resource.Properties.LifecycleConfiguration).toEqual({
      Rules: [
        {
          Id: 'archive-retention',
          Status: 'Enabled',
          NoncurrentVersionExpiration: { NoncurrentDays: 90 },
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
          ExpiredObjectDeleteMarker: true,
          Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 60 }],
        },
      ],
    });
  });

  it.each([
    ['COMPLIANCE', 3650],
    ['GOVERNANCE', 30],
  ])('enables Object Lock with a %s default retention of %i days when configured', (mode, days) => {
    // Act
    const { archive } = bucketIds({ objectLock: { mode, days } });

    // Assess
    expect(archive.resource.Properties.ObjectLockEnabled).toBe(true);
    expect(archive.resource.Properties.ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: mode, Days: days } },
    });
  });

  it('delivers server access logs to the log bucket, which expires them', () => {
    // Act
    const { storageTemplate, archive, logs } = bucketIds({ retention: { accessLogsExpireDays: 400 } });

    // Assess
    expect(archive.resource.Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: logs.id },
      LogFilePrefix: 'archive/',
      TargetObjectKeyFormat: { PartitionedPrefix: { PartitionDateSource: 'EventTime' } },
    });
    expect(logs.resource.Properties.LifecycleConfiguration).toEqual({
      Rules: [
        {
          Id: 'expire-access-logs',
          Status: 'Enabled',
          ExpirationInDays: 400,
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
        },
      ],
    });
    const policy = onlyResource(storageTemplate, 'AWS::S3::BucketPolicy', { Bucket: { Ref: logs.id } });
    expect(
      flat((policy.resource.Properties.PolicyDocument as { Statement: unknown[] }).Statement),
    ).toContainEqual({
      Action: 's3:PutObject',
      Condition: {
        ArnLike: { 'aws:SourceArn': `<${archive.id}.Arn>` },
        StringEquals: { 'aws:SourceAccount': '<AWS::AccountId>' },
      },
      Effect: 'Allow',
      Principal: { Service: 'logging.s3.amazonaws.com' },
      Resource: `<${logs.id}.Arn>/archive/*`,
    });
  });

  it('encrypts the archive with the given KMS key and an S3 Bucket Key', () => {
    // Act
    const { storageTemplate } = buildApp(SPACE, {
      encryptionKey: (app) => new Key(new Stack(app, 'Keys'), 'ArchiveKey'),
    });
    const archive = onlyResource(storageTemplate, 'AWS::S3::Bucket', {
      VersioningConfiguration: Match.anyValue(),
    });

    // Assess
    expect(flat(archive.resource.Properties.BucketEncryption)).toEqual({
      ServerSideEncryptionConfiguration: [
        {
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: {
            SSEAlgorithm: 'aws:kms',
            KMSMasterKeyID: expect.stringMatching(
              /^<Import:Keys:ExportsOutputFnGetAttArchiveKey[0-9A-F]+Arn[0-9A-F]+>$/,
            ),
          },
        },
      ],
    });
  });

  it('exposes the bucket and the normalised archive prefix', () => {
    // Act
    const { storage, storageTemplate, archive } = bucketIds({ archivePrefix: 'tables' });

    // Assess
    expect(storage.archivePrefix).toBe('tables/');
    expect(storage.resolve(storage.bucket.bucketName)).toEqual({ Ref: archive.id });
    const outputs = storageTemplate.findOutputs('ArchiveUri');
    expect(flat(Object.values(outputs)[0]?.Value)).toBe(`s3://<${archive.id}>/tables`);
  });
});
