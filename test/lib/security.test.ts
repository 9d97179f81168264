/**
 * Trust settings against the synthesized templates: signed requests only, the KMS options, the digest
 * signing key and the PAT's own key.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../lib/config';
import {
  ALL_FEATURES,
  actionsOf,
  buildApp,
  flat,
  onlyResource,
  resourcesOf,
  roleStatements,
  type Statement,
} from './helpers';

const SPACES = { codecatalyst: { spaces: ['my-space'] } };
const OWN_KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const SIGNING_KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/5a6b7c8d-9e0f-1a2b-3c4d-5e6f7a8b9c0d';
const PAT_KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const SYMMETRIC = { KeySpec: undefined } as const;

function roleOf(built: ReturnType<typeof buildApp>, which: 'ingest' | 'query'): Statement[] {
  const stack = built[which];
  const roleId = stack.resolve((stack.function.role as { roleName: string }).roleName).Ref as string;
  return roleStatements(which === 'ingest' ? built.ingestTemplate : built.queryTemplate, roleId);
}

function kmsStatements(statements: Statement[]): Statement[] {
  return statements.filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));
}

function symmetricKeys(template: Template) {
  return Object.entries(template.findResources('AWS::KMS::Key')).filter(
    ([, key]) => (key as { Properties: { KeySpec?: string } }).Properties.KeySpec === SYMMETRIC.KeySpec,
  );
}

describe('query API: signed requests only', () => {
  it.each([
    ['one space', SPACES, { GET: 'AWS_IAM', POST: 'AWS_IAM' }],
    // ALL_FEATURES has query.authorization "token": ListEventLogs takes the app's bearer tokens.
    ['every optional feature on', ALL_FEATURES, { GET: 'AWS_IAM', POST: 'CUSTOM' }],
  ])(
    'authorizes every method of every route and verb with %s, and has no other method',
    (_n, settings, expected) => {
      // Act
      const { queryTemplate } = buildApp(settings);
      const methods = Object.values(queryTemplate.findResources('AWS::ApiGateway::Method')).map(
        (m) =>
          (m as { Properties: { AuthorizationType?: string; AuthorizerId?: unknown; HttpMethod: string } })
            .Properties,
      );

      // Assess: the two routes, no ANY, OPTIONS or proxy method that could skip authorization.
      expect(Object.fromEntries(methods.map((m) => [m.HttpMethod, m.AuthorizationType]))).toEqual(expected);
      for (const m of methods.filter((m) => m.AuthorizationType === 'CUSTOM'))
        expect(m.AuthorizerId).toEqual({
          Ref: onlyResource(queryTemplate, 'AWS::ApiGateway::Authorizer').id,
        });
    },
  );

  it.each([
    ['one space', SPACES],
    ['every optional feature on', ALL_FEATURES],
  ])("lets only API Gateway, from this API's ARN, invoke the functions with %s", (_n, settings) => {
    // Act
    const { queryTemplate } = buildApp(settings);
    const api = onlyResource(queryTemplate, 'AWS::ApiGateway::RestApi').id;
    const permissions = Object.values(queryTemplate.findResources('AWS::Lambda::Permission')).map(
      (p) => flat((p as { Properties: unknown }).Properties) as Record<string, string>,
    );

    // Assess
    expect(permissions.length).toBeGreaterThan(0);
    for (const permission of permissions) {
      expect(permission.Principal).toBe('apigateway.amazonaws.com');
      expect(permission.SourceArn).toMatch(
        new RegExp(`^arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${api}>/`),
      );
    }
  });
});

describe('digest signing key', () => {
  it('is an ECC_NIST_P256 SIGN_VERIFY key with an alias, retained, and output for verify', () => {
    // Act
    const { storageTemplate } = buildApp(SPACES);
    const key = onlyResource(storageTemplate, 'AWS::KMS::Key', { KeySpec: 'ECC_NIST_P256' });
    const alias = onlyResource(storageTemplate, 'AWS::KMS::Alias');

    // Assess
    expect(key.resource.Properties.KeyUsage).toBe('SIGN_VERIFY');
    expect(key.resource.DeletionPolicy).toBe('Retain');
    expect(flat(alias.resource.Properties)).toEqual({
      AliasName: 'alias/eventlog-archive-digests',
      TargetKeyId: `<${key.id}.Arn>`,
    });
    expect(flat(storageTemplate.toJSON().Outputs.DigestSigningKeyArn.Value)).toBe(`<${key.id}.Arn>`);
  });

  it('is used by the ingest function for exactly kms:Sign and kms:GetPublicKey, named in DIGEST_SIGNING_KEY_ARN', () => {
    // Act
    const built = buildApp(SPACES);
    const signing = roleOf(built, 'ingest').filter((s) => actionsOf(s).includes('kms:Sign'));
    const fn = onlyResource(built.ingestTemplate, 'AWS::Lambda::Function', { Handler: 'index.handler' });
    const env = flat((fn.resource.Properties.Environment as { Variables: unknown }).Variables) as Record<
      string,
      string
    >;

    // Assess
    expect(signing).toEqual([
      {
        Action: ['kms:GetPublicKey', 'kms:Sign'],
        Effect: 'Allow',
        Resource: expect.stringMatching(/^<Import:Storage:ExportsOutputFnGetAttDigestSigningKey\w+>$/),
      },
    ]);
    expect(env.DIGEST_SIGNING_KEY_ARN).toBe(signing[0]!.Resource);
    // The query function never signs.
    expect(roleOf(built, 'query').flatMap(actionsOf)).not.toContain('kms:Sign');
  });

  it('uses integrity.signingKeyArn instead of creating a key', () => {
    // Act
    const built = buildApp({ ...SPACES, integrity: { signingKeyArn: SIGNING_KEY_ARN } });

    // Assess
    expect(Object.keys(built.storageTemplate.findResources('AWS::KMS::Key'))).toEqual([]);
    expect(roleOf(built, 'ingest').filter((s) => actionsOf(s).includes('kms:Sign'))).toEqual([
      { Action: ['kms:GetPublicKey', 'kms:Sign'], Effect: 'Allow', Resource: SIGNING_KEY_ARN },
    ]);
  });
});

describe('digests are created once: IAM allows no overwrite', () => {
  it.each([
    ['no prefix', SPACES, ''],
    ['a prefix and every option on', ALL_FEATURES, 'archive/'],
  ])(
    'puts into _digests/* only with If-None-Match: * (%s); reading it and the other folders are unconditioned',
    (_name, settings, keyPrefix) => {
      // Act
      const statements = roleOf(buildApp(settings), 'ingest');
      const objectStatements = statements.filter((s) =>
        actionsOf(s).some((a) => ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'].includes(a)),
      );
      const onDigests = (s: Statement): boolean =>
        resourcesOf(s).some((r) => r.endsWith(`/${keyPrefix}_digests/*`));

      // Assess: every grant on the digests is one of these two; a PUT without the header is denied.
      const digests = objectStatements.filter(onDigests);
      expect(digests).toEqual([
        {
          Action: 's3:GetObject',
          Effect: 'Allow',
          Resource: expect.stringMatching(/_digests\/\*$/),
        },
        {
          Action: 's3:PutObject',
          Condition: { Null: { 's3:if-none-match': 'false' }, StringEquals: { 's3:if-none-match': '*' } },
          Effect: 'Allow',
          Resource: expect.stringMatching(/_digests\/\*$/),
        },
      ]);
      for (const s of digests) expect(resourcesOf(s)).toHaveLength(1);
      // The other folders keep their read-write grant, without conditions, and never name the digests.
      const others = objectStatements.filter((s) => !onDigests(s));
      expect(others).toHaveLength(1);
      expect(others[0]).not.toHaveProperty('Condition');
      expect(actionsOf(others[0]!).sort()).toEqual(['s3:DeleteObject', 's3:GetObject', 's3:PutObject']);
      expect(
        resourcesOf(others[0]!)
          .map((r) => r.replace(/^.*?>\//, ''))
          .sort(),
      ).toEqual(
        ['_leases/*', '_ledger/*', 'codecatalyst_event_logs/*', 'resiliencehub_system_events/*'].map(
          (f) => `${keyPrefix}${f}`,
        ),
      );
      // No statement anywhere lets the function delete a digest.
      for (const s of statements.filter(onDigests)) expect(actionsOf(s)).not.toContain('s3:DeleteObject');
    },
  );
});

describe('customer-managed KMS key', () => {
  it('is absent by default: SSE-S3 buckets, SQS-managed queues, SSE_S3 results, no symmetric key', () => {
    // Act
    const built = buildApp(SPACES);
    const buckets = Object.values(built.storageTemplate.findResources('AWS::S3::Bucket')).map(
      (b) => (b as { Properties: { BucketEncryption: unknown } }).Properties.BucketEncryption,
    );

    // Assess
    expect(symmetricKeys(built.storageTemplate)).toEqual([]);
    for (const encryption of buckets) {
      expect(encryption).toEqual({
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      });
    }
    for (const queue of Object.values(built.ingestTemplate.findResources('AWS::SQS::Queue'))) {
      expect((queue as { Properties: Record<string, unknown> }).Properties.SqsManagedSseEnabled).toBe(true);
    }
    expect(kmsStatements(roleOf(built, 'query'))).toEqual([]);
  });

  it('with encryption.kmsKey: a rotated, retained key encrypts the archive, the results and the queues', () => {
    // Act
    const built = buildApp({ ...SPACES, encryption: { kmsKey: true } });
    const [[keyId, key]] = symmetricKeys(built.storageTemplate) as [[string, { Properties: never }]];
    const keyResource = key as unknown as {
      Properties: { EnableKeyRotation: boolean; KeyPolicy: unknown };
      DeletionPolicy: string;
    };
    const archive = onlyResource(built.storageTemplate, 'AWS::S3::Bucket', { VersioningConfiguration: {} });
    const workGroup = onlyResource(built.storageTemplate, 'AWS::Athena::WorkGroup');

    // Assess
    expect(keyResource.Properties.EnableKeyRotation).toBe(true);
    expect(keyResource.DeletionPolicy).toBe('Retain');
    expect(flat(archive.resource.Properties.BucketEncryption)).toEqual({
      ServerSideEncryptionConfiguration: [
        {
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: `<${keyId}.Arn>` },
        },
      ],
    });
    expect(
      flat(
        (workGroup.resource.Properties as { WorkGroupConfiguration: { ResultConfiguration: unknown } })
          .WorkGroupConfiguration.ResultConfiguration,
      ),
    ).toMatchObject({ EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: `<${keyId}.Arn>` } });
    const queues = Object.values(built.ingestTemplate.findResources('AWS::SQS::Queue')).map((q) =>
      flat((q as { Properties: { KmsMasterKeyId: unknown } }).Properties.KmsMasterKeyId),
    );
    expect(queues).toEqual([
      expect.stringMatching(/^<Import:Storage:ExportsOutputFnGetAttArchiveKey\w+>$/),
      expect.stringMatching(/^<Import:Storage:ExportsOutputFnGetAttArchiveKey\w+>$/),
    ]);
    // Scheduler puts undeliverable invocations in the encrypted queue with its role (granted in the
    // ingest stack): no service principal in the key policy.
    const principals = (
      flat(keyResource.Properties.KeyPolicy) as { Statement: { Principal: unknown }[] }
    ).Statement.map((statement) => statement.Principal);
    expect(principals.filter((p) => JSON.stringify(p).includes('Service'))).toEqual([]);
  });

  it.each([
    ['a key this app creates', { encryption: { kmsKey: true } }],
    ['your own key', { encryption: { kmsKeyArn: OWN_KEY_ARN } }],
  ])('with %s: the functions may only Decrypt and GenerateDataKey on that key', (_n, encryption) => {
    // Act
    const built = buildApp({ ...SPACES, ...encryption });
    const ingest = kmsStatements(roleOf(built, 'ingest')).filter((s) => !actionsOf(s).includes('kms:Sign'));
    const query = kmsStatements(roleOf(built, 'query'));
    const keyArn =
      'kmsKeyArn' in encryption.encryption
        ? OWN_KEY_ARN
        : expect.stringMatching(/^<Import:Storage:ExportsOutputFnGetAttArchiveKey\w+>$/);

    // Assess
    for (const statements of [ingest, query]) {
      expect(statements).toEqual([
        { Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Effect: 'Allow', Resource: keyArn },
      ]);
    }
    if ('kmsKeyArn' in encryption.encryption) {
      expect(symmetricKeys(built.storageTemplate)).toEqual([]);
    }
  });

  it('rejects both kmsKey and kmsKeyArn, and an alias for a key ARN', () => {
    expect(() => loadConfig({ encryption: { kmsKey: true, kmsKeyArn: OWN_KEY_ARN } })).toThrow(
      'eventlogArchive.encryption.kmsKey: true must not be true together with kmsKeyArn (set one: kmsKey creates a key, kmsKeyArn uses yours)',
    );
    expect(() =>
      loadConfig({ encryption: { kmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:alias/archive' } }),
    ).toThrow(ConfigError);
    expect(() => loadConfig({ integrity: { signingKeyArn: 'alias/eventlog-archive-digests' } })).toThrow(
      'eventlogArchive.integrity.signingKeyArn: "alias/eventlog-archive-digests" must be a KMS key ARN',
    );
  });
});

describe("the CodeCatalyst PAT's key", () => {
  it('lets the ingest function decrypt with it only through Secrets Manager', () => {
    // Act
    const built = buildApp({ codecatalyst: { spaces: ['my-space'], tokenSecretKmsKeyArn: PAT_KEY_ARN } });
    const statements = kmsStatements(roleOf(built, 'ingest')).filter((s) =>
      resourcesOf(s).includes(PAT_KEY_ARN),
    );

    // Assess
    expect(statements).toEqual([
      {
        Action: 'kms:Decrypt',
        Effect: 'Allow',
        Resource: PAT_KEY_ARN,
        Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.<AWS::Region>.amazonaws.com' } },
      },
    ]);
  });

  it('is not granted when not configured', () => {
    const built = buildApp(SPACES);
    expect(kmsStatements(roleOf(built, 'ingest')).flatMap(actionsOf)).toEqual([
      'kms:GetPublicKey',
      'kms:Sign',
    ]);
  });
});

describe('Object Lock', () => {
  it('rejects a noncurrent-version expiry shorter than the lock', () => {
    expect(() =>
      loadConfig({
        objectLock: { mode: 'GOVERNANCE', days: 400 },
        retention: { expireNoncurrentVersionsDays: 365 },
      }),
    ).toThrow(
      'eventlogArchive.retention.expireNoncurrentVersionsDays: 365 must be at least objectLock.days (400): S3 lifecycle cannot remove a version while Object Lock retains it',
    );
  });

  it('locks a versioned archive bucket by default retention, and keeps noncurrent versions at least as long', () => {
    // Act
    const { storageTemplate } = buildApp(ALL_FEATURES);
    const archive = onlyResource(storageTemplate, 'AWS::S3::Bucket', { ObjectLockEnabled: true });

    // Assess
    expect(archive.resource.Properties).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 30 } },
      },
      LifecycleConfiguration: {
        Rules: [expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 30 } })],
      },
    });
  });
});
