import { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { Key } from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import { resiliencehubDefinition } from '../../lambdas/core/sources';
import { CODECATALYST_FIELDS } from '../../lambdas/core/sources/codecatalyst/schema';
import { RESILIENCEHUB_FIELDS } from '../../lambdas/core/sources/resiliencehub/schema';
import { PARQUET_FORMAT } from '../../lib/constructs/archive-catalog';
import { glueColumnsOf } from '../../lib/glue-columns';
import { SAVED_QUERIES } from '../../lib/saved-queries';
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
  const { storage, storageTemplate } = buildApp({ ...SPACE, ...settings });
  const archive = onlyResource(storageTemplate, 'AWS::S3::Bucket', {
    VersioningConfiguration: Match.anyValue(),
  });
  const logs = onlyResource(storageTemplate, 'AWS::S3::Bucket', {
    VersioningConfiguration: Match.absent(),
    LoggingConfiguration: Match.absent(),
  });
  const results = onlyResource(storageTemplate, 'AWS::S3::Bucket', {
    LifecycleConfiguration: { Rules: [Match.objectLike({ Id: 'expire-query-results' })] },
  });
  return { storage, storageTemplate, archive, logs, results };
}

describe('StorageStack', () => {
  it('creates exactly the archive bucket, its access-log bucket and the query results bucket', () => {
    const { storageTemplate } = buildApp(SPACE);
    storageTemplate.resourceCountIs('AWS::S3::Bucket', 3);
  });

  it('blocks all public access, encrypts with SSE-S3 and retains every bucket', () => {
    // Act
    const { archive, logs, results } = bucketIds();

    // Assess
    for (const bucket of [archive, logs, results]) {
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

  it('denies every request without TLS on every bucket', () => {
    // Prepare
    const { storageTemplate, archive, logs, results } = bucketIds();

    // Act + Assess
    for (const bucket of [archive, logs, results]) {
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
    // Lifecycle keeps noncurrent versions at least as long as they are locked (checked by loadConfig).
    const { archive } = bucketIds({
      objectLock: { mode, days },
      retention: { expireNoncurrentVersionsDays: days },
    });

    // Assess
    expect(archive.resource.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
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

describe('StorageStack catalog', () => {
  function catalogOf(settings: Record<string, unknown> = {}, tableName = 'codecatalyst_event_logs') {
    const built = bucketIds(settings);
    const database = onlyResource(built.storageTemplate, 'AWS::Glue::Database');
    const table = onlyResource(built.storageTemplate, 'AWS::Glue::Table', {
      TableInput: Match.objectLike({ Name: tableName }),
    });
    const input = flat(table.resource.Properties.TableInput) as {
      Name: string;
      TableType: string;
      Parameters: Record<string, string>;
      PartitionKeys: unknown;
      StorageDescriptor: Record<string, unknown>;
    };
    return { ...built, database, table, input };
  }

  it('creates the Glue database in this account under the configured name', () => {
    // Act
    const { database } = catalogOf({ query: { databaseName: 'audit_events' } });

    // Assess
    expect(database.resource.Properties).toEqual({
      CatalogId: { Ref: 'AWS::AccountId' },
      DatabaseInput: { Name: 'audit_events', Description: expect.any(String) },
    });
  });

  it('creates the CodeCatalyst table in that database, after it', () => {
    // Act
    const { database, table, input } = catalogOf();

    // Assess
    expect(table.resource.Properties.DatabaseName).toBe('eventlog_archive');
    expect(table.resource.Properties.CatalogId).toEqual({ Ref: 'AWS::AccountId' });
    expect(table.resource.DependsOn).toEqual([database.id]);
    expect(input.Name).toBe('codecatalyst_event_logs');
    expect(input.TableType).toBe('EXTERNAL_TABLE');
  });

  it('sets exactly the partition projection properties, for space (an enum of the spaces) and dt (date)', () => {
    // Act
    const { archive, input } = catalogOf();

    // Assess
    expect(input.Parameters).toEqual({
      classification: 'parquet',
      EXTERNAL: 'TRUE',
      'projection.enabled': 'true',
      'projection.space.type': 'enum',
      'projection.space.values': SPACE.codecatalyst.spaces.join(','),
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.range': '2020-01-01,NOW',
      'projection.dt.interval': '1',
      'projection.dt.interval.unit': 'DAYS',
      'storage.location.template': `s3://<${archive.id}>/codecatalyst_event_logs/space=\${space}/dt=\${dt}/`,
    });
    expect(input.PartitionKeys).toEqual([
      { Name: 'space', Type: 'string' },
      { Name: 'dt', Type: 'string' },
    ]);
  });

  it('enumerates two spaces and a system by the folder names the ingest writes, so Athena needs no instance predicate', () => {
    // Act
    const arn = 'arn:aws:resiliencehub:us-west-2:123456789012:system/checkout+payments';
    const settings = {
      codecatalyst: { spaces: ['zeta-space', 'alpha-space'] },
      resiliencehub: { systemArns: [arn] },
    };
    const spaces = catalogOf(settings).input.Parameters;
    const systems = catalogOf(settings, 'resiliencehub_system_events').input.Parameters;

    // Assess
    expect(spaces['projection.space.type']).toBe('enum');
    expect(spaces['projection.space.values']).toBe('alpha-space,zeta-space');
    expect(systems['projection.system.type']).toBe('enum');
    expect(systems['projection.system.values']).toBe(resiliencehubDefinition.partitionValue(arn));
    expect(systems['projection.system.values']).not.toContain(',');
  });

  it('puts the table and its location template under the archive prefix, from the configured start date', () => {
    // Act
    const { archive, input } = catalogOf({
      archivePrefix: 'tables/v1',
      query: { projectionStartDate: '2024-03-01' },
    });

    // Assess
    expect(input.StorageDescriptor.Location).toBe(`s3://<${archive.id}>/tables/v1/codecatalyst_event_logs/`);
    expect(input.Parameters['storage.location.template']).toBe(
      `s3://<${archive.id}>/tables/v1/codecatalyst_event_logs/space=\${space}/dt=\${dt}/`,
    );
    expect(input.Parameters['projection.dt.range']).toBe('2024-03-01,NOW');
  });

  it('reads Parquet with every declared field as a column (glueColumnsOf the CodeCatalyst fields)', () => {
    // Act
    const { archive, input } = catalogOf();

    // Assess
    const columns = (input.StorageDescriptor.Columns as { Name: string; Type: string }[]).map((c) => ({
      name: c.Name,
      type: c.Type,
    }));
    expect(columns).toEqual(glueColumnsOf(CODECATALYST_FIELDS));
    expect(columns).toContainEqual({ name: 'eventTime', type: 'timestamp' });
    expect(input.StorageDescriptor).toEqual({
      Location: `s3://<${archive.id}>/codecatalyst_event_logs/`,
      InputFormat: PARQUET_FORMAT.inputFormat,
      OutputFormat: PARQUET_FORMAT.outputFormat,
      SerdeInfo: {
        SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
        Parameters: { 'serialization.format': '1' },
      },
      Columns: expect.any(Array),
      Compressed: false,
      StoredAsSubDirectories: false,
    });
    expect(PARQUET_FORMAT.inputFormat).toBe('org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat');
    expect(PARQUET_FORMAT.outputFormat).toBe(
      'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
    );
  });

  it('exposes the database and its tables to compute stacks', () => {
    const { storage } = catalogOf();
    expect(storage.catalog.databaseName).toBe('eventlog_archive');
    expect(storage.catalog.tables).toEqual([
      { tableName: 'codecatalyst_event_logs', partitionKey: 'space' },
      { tableName: 'resiliencehub_system_events', partitionKey: 'system' },
    ]);
  });

  it('saves the auditors’ questions in the workgroup, over the database', () => {
    // Act
    const { storageTemplate } = catalogOf();
    const workGroup = onlyResource(storageTemplate, 'AWS::Athena::WorkGroup');
    const saved = Object.entries(storageTemplate.findResources('AWS::Athena::NamedQuery'));

    // Assess
    expect(saved.map(([, r]) => r.Properties.Name)).toEqual(SAVED_QUERIES.map((q) => q.name));
    for (const [, resource] of saved) {
      expect(resource.Properties).toMatchObject({
        Database: 'eventlog_archive',
        WorkGroup: 'eventlog-archive',
        QueryString: expect.stringContaining('dt BETWEEN ? AND ?'),
      });
      expect(resource.DependsOn).toEqual([workGroup.id]);
    }
  });

  it('creates exactly one table per source', () => {
    const { storageTemplate } = catalogOf();
    storageTemplate.resourceCountIs('AWS::Glue::Table', 2);
  });

  it('adds the Resilience Hub table: system (injected: no system configured) and dt (date) projection, columns from its fields', () => {
    // Act
    const { database, table, archive, input } = catalogOf(
      { archivePrefix: 'tables/v1' },
      'resiliencehub_system_events',
    );

    // Assess
    expect(table.resource.Properties.DatabaseName).toBe('eventlog_archive');
    expect(table.resource.DependsOn).toEqual([database.id]);
    expect(input.TableType).toBe('EXTERNAL_TABLE');
    expect(input.Parameters).toEqual({
      classification: 'parquet',
      EXTERNAL: 'TRUE',
      'projection.enabled': 'true',
      'projection.system.type': 'injected',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.range': '2020-01-01,NOW',
      'projection.dt.interval': '1',
      'projection.dt.interval.unit': 'DAYS',
      'storage.location.template': `s3://<${archive.id}>/tables/v1/resiliencehub_system_events/system=\${system}/dt=\${dt}/`,
    });
    expect(input.PartitionKeys).toEqual([
      { Name: 'system', Type: 'string' },
      { Name: 'dt', Type: 'string' },
    ]);
    expect(input.StorageDescriptor.Location).toBe(
      `s3://<${archive.id}>/tables/v1/resiliencehub_system_events/`,
    );
    const columns = (input.StorageDescriptor.Columns as { Name: string; Type: string }[]).map((c) => ({
      name: c.Name,
      type: c.Type,
    }));
    expect(columns).toEqual(glueColumnsOf(RESILIENCEHUB_FIELDS));
    expect(columns).toContainEqual({ name: 'timestamp', type: 'timestamp' });
    // eventMetadata is JSON text inside the eventDetails struct.
    expect(columns).toContainEqual({
      name: 'eventDetails',
      type: 'struct<description:string,eventMetadata:string,title:string>',
    });
  });

  it('refuses the same table twice', () => {
    const { storage } = catalogOf();
    expect(() =>
      storage.catalog.addTable({ tableName: 'codecatalyst_event_logs', partitionKey: 'space', fields: [] }),
    ).toThrow('ArchiveCatalog: table codecatalyst_event_logs twice');
  });
});

describe('StorageStack Athena workgroup', () => {
  function workGroupOf(settings: Record<string, unknown> = {}) {
    const built = bucketIds(settings);
    const workGroup = onlyResource(built.storageTemplate, 'AWS::Athena::WorkGroup');
    return {
      ...built,
      workGroup,
      properties: flat(workGroup.resource.Properties) as Record<string, unknown>,
    };
  }

  it('runs engine v3 with enforced settings, metrics, the default cutoff and SSE-S3 results in its own bucket', () => {
    // Act
    const { properties, results } = workGroupOf();

    // Assess
    expect(properties).toEqual({
      Name: 'eventlog-archive',
      Description: expect.any(String),
      State: 'ENABLED',
      RecursiveDeleteOption: true,
      WorkGroupConfiguration: {
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        EnforceWorkGroupConfiguration: true,
        PublishCloudWatchMetricsEnabled: true,
        BytesScannedCutoffPerQuery: 1024 * 1024 * 1024,
        RequesterPaysEnabled: false,
        ResultConfiguration: {
          OutputLocation: `s3://<${results.id}>/results/`,
          ExpectedBucketOwner: '<AWS::AccountId>',
          EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
        },
      },
    });
  });

  it('takes the name and the bytes-scanned cutoff (MiB) from the settings', () => {
    // Act
    const { properties } = workGroupOf({ query: { workGroupName: 'audit', bytesScannedCutoffMb: 10 } });

    // Assess
    expect(properties).toMatchObject({
      Name: 'audit',
      WorkGroupConfiguration: { BytesScannedCutoffPerQuery: 10 * 1024 * 1024 },
    });
    // Athena's minimum is 10,000,000 bytes.
    expect(10 * 1024 * 1024).toBeGreaterThanOrEqual(10_000_000);
  });

  it('expires results after the configured days and logs access to the access-log bucket', () => {
    // Act
    const { results, logs } = workGroupOf({ query: { resultsExpireDays: 3 } });

    // Assess
    expect(results.resource.Properties.LifecycleConfiguration).toEqual({
      Rules: [
        {
          Id: 'expire-query-results',
          Status: 'Enabled',
          ExpirationInDays: 3,
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        },
      ],
    });
    expect(results.resource.Properties.VersioningConfiguration).toBeUndefined();
    expect(results.resource.Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: logs.id },
      LogFilePrefix: 'athena-results/',
    });
  });

  it('encrypts results with the archive key (SSE-KMS) when the archive has one', () => {
    // Act
    const { storageTemplate } = buildApp(SPACE, {
      encryptionKey: (app) => new Key(new Stack(app, 'Keys'), 'ArchiveKey'),
    });
    const workGroup = flat(onlyResource(storageTemplate, 'AWS::Athena::WorkGroup').resource.Properties) as {
      WorkGroupConfiguration: { ResultConfiguration: { EncryptionConfiguration: unknown } };
    };
    const results = onlyResource(storageTemplate, 'AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [Match.objectLike({ Id: 'expire-query-results' })] },
    });

    // Assess
    const keyArn = expect.stringMatching(
      /^<Import:Keys:ExportsOutputFnGetAttArchiveKey[0-9A-F]+Arn[0-9A-F]+>$/,
    );
    expect(workGroup.WorkGroupConfiguration.ResultConfiguration.EncryptionConfiguration).toEqual({
      EncryptionOption: 'SSE_KMS',
      KmsKey: keyArn,
    });
    expect(flat(results.resource.Properties.BucketEncryption)).toEqual({
      ServerSideEncryptionConfiguration: [
        {
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn },
        },
      ],
    });
  });
});
