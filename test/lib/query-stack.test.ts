import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Key } from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config';
import {
  ACCESS_LOG_FIELDS,
  ACCESS_LOG_FORMAT,
  API_INTEGRATION_TIMEOUT,
  QUERY_FUNCTION_TIMEOUT,
  QUERY_TIMEOUT_MS,
  QueryStack,
  queryRoutes,
} from '../../lib/stacks/query-stack';
import { StorageStack } from '../../lib/stacks/storage-stack';
import {
  actionsOf,
  buildApp,
  featureFlags,
  flat,
  onlyResource,
  resourcesOf,
  roleStatements,
  SKIP_BUNDLING,
  type Statement,
} from './helpers';

const SPACES = { codecatalyst: { spaces: ['my-space'] } };
const ARCHIVE_ARN = /^<Import:Storage:ExportsOutputFnGetAttArchive[0-9A-F]+Arn[0-9A-F]+>$/;
const RESULTS_ARN = /^<Import:Storage:ExportsOutputFnGetAttQueryResults[0-9A-F]+Arn[0-9A-F]+>$/;
const REGION_ACCOUNT = '<AWS::Region>:<AWS::AccountId>';

function queryFunction(template: Template) {
  return onlyResource(template, 'AWS::Lambda::Function');
}

function variablesOf(template: Template): Record<string, unknown> {
  return flat(
    (queryFunction(template).resource.Properties.Environment as { Variables: unknown }).Variables,
  ) as Record<string, unknown>;
}

function queryStatements(settings: unknown = SPACES, options: Parameters<typeof buildApp>[1] = {}) {
  const built = buildApp(settings, options);
  const roleId = built.query.resolve((built.query.function.role as { roleName: string }).roleName)
    .Ref as string;
  return { ...built, roleId, statements: roleStatements(built.queryTemplate, roleId) };
}

function withAction(statements: Statement[], action: string): Statement[] {
  return statements.filter((s) => actionsOf(s).includes(action));
}

/** Every method of the API with its full resource path (`/v1/spaces/{spaceName}/eventLogs`). */
function methodsOf(template: Template) {
  const resources = template.findResources('AWS::ApiGateway::Resource') as Record<
    string,
    { Properties: { ParentId: { Ref?: string; 'Fn::GetAtt'?: string[] }; PathPart: string } }
  >;
  const pathOf = (id: string | undefined): string => {
    const resource = id ? resources[id] : undefined;
    if (!resource) return '';
    return `${pathOf(resource.Properties.ParentId.Ref)}/${resource.Properties.PathPart}`;
  };
  return Object.entries(template.findResources('AWS::ApiGateway::Method')).map(([id, method]) => {
    const props = (method as { Properties: Record<string, unknown> }).Properties;
    return { id, props, path: pathOf((props.ResourceId as { Ref?: string }).Ref) };
  });
}

describe('QueryStack', () => {
  describe('function', () => {
    it('runs index.handler on nodejs24.x, arm64, with 1024 MB and a timeout just above API Gateway’s', () => {
      // Act
      const { queryTemplate } = buildApp(SPACES);

      // Assess
      expect(queryFunction(queryTemplate).resource.Properties).toMatchObject({
        Handler: 'index.handler',
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        MemorySize: 1024,
        Timeout: 30,
      });
    });

    it('gives up on a query before API Gateway does, and outlives API Gateway’s wait', () => {
      expect(QUERY_TIMEOUT_MS).toBe(25_000);
      expect(QUERY_TIMEOUT_MS).toBeLessThan(API_INTEGRATION_TIMEOUT.toMilliseconds());
      expect(API_INTEGRATION_TIMEOUT.toSeconds()).toBe(29);
      expect(QUERY_FUNCTION_TIMEOUT.toSeconds()).toBeGreaterThan(API_INTEGRATION_TIMEOUT.toSeconds());
    });

    it('attaches the shared layer built for nodejs24.x on arm64', () => {
      // Act
      const { queryTemplate } = buildApp(SPACES);
      const layer = onlyResource(queryTemplate, 'AWS::Lambda::LayerVersion');

      // Assess
      expect(queryFunction(queryTemplate).resource.Properties.Layers).toEqual([{ Ref: layer.id }]);
      expect(layer.resource.Properties).toMatchObject({
        CompatibleRuntimes: ['nodejs24.x'],
        CompatibleArchitectures: ['arm64'],
      });
    });

    it('sets exactly the environment the handler reads', () => {
      // Act
      const { queryTemplate } = buildApp({
        ...SPACES,
        query: { tokenTtlSeconds: 3600, workGroupName: 'audit', databaseName: 'audit_db' },
      });
      const secret = onlyResource(queryTemplate, 'AWS::SecretsManager::Secret');

      // Assess
      expect(variablesOf(queryTemplate)).toEqual({
        ARCHIVE_URI: expect.stringMatching(/^s3:\/\/<Import:Storage:ExportsOutputRefArchive[0-9A-F]+>$/),
        ATHENA_WORKGROUP: 'audit',
        GLUE_DATABASE: 'audit_db',
        TOKEN_KEY_SECRET_ARN: `<${secret.id}>`,
        TOKEN_TTL_SECONDS: '3600',
        QUERY_TIMEOUT_MS: '25000',
        BYTES_SCANNED_CUTOFF_MB: '1024',
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'eventlog-archive-query',
        POWERTOOLS_LOG_LEVEL: 'INFO',
      });
    });

    it('defaults TOKEN_TTL_SECONDS to a day and appends the archive prefix to ARCHIVE_URI', () => {
      // Act
      const { queryTemplate } = buildApp({ ...SPACES, archivePrefix: 'tables/v1/' });
      const variables = variablesOf(queryTemplate);

      // Assess
      expect(variables.TOKEN_TTL_SECONDS).toBe('86400');
      expect(variables.ARCHIVE_URI).toMatch(
        /^s3:\/\/<Import:Storage:ExportsOutputRefArchive[0-9A-F]+>\/tables\/v1$/,
      );
    });

    it('logs to its own log group kept for three months', () => {
      // Act
      const { queryTemplate } = buildApp(SPACES);
      const fn = queryFunction(queryTemplate);
      const logGroup = (fn.resource.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;

      // Assess
      expect(queryTemplate.toJSON().Resources[logGroup].Properties.RetentionInDays).toBe(90);
    });
  });

  describe('token key', () => {
    it('generates a retained 64-character key', () => {
      // Act
      const { queryTemplate } = buildApp(SPACES);
      const secret = onlyResource(queryTemplate, 'AWS::SecretsManager::Secret');

      // Assess
      expect(secret.resource.Properties.GenerateSecretString).toEqual({
        PasswordLength: 64,
        ExcludePunctuation: true,
        IncludeSpace: false,
      });
      expect(secret.resource.DeletionPolicy).toBe('Retain');
      expect(secret.resource.UpdateReplacePolicy).toBe('Retain');
    });
  });

  describe('API', () => {
    it('is one regional REST API without API keys or usage plans', () => {
      // Act
      const { queryTemplate } = buildApp(SPACES);
      const api = onlyResource(queryTemplate, 'AWS::ApiGateway::RestApi');

      // Assess
      expect(api.resource.Properties.EndpointConfiguration).toEqual({ Types: ['REGIONAL'] });
      expect(api.resource.Properties.ApiKeySourceType).toBeUndefined();
      queryTemplate.resourceCountIs('AWS::ApiGateway::ApiKey', 0);
      queryTemplate.resourceCountIs('AWS::ApiGateway::UsagePlan', 0);
      queryTemplate.resourceCountIs('AWS::ApiGateway::Authorizer', 0);
    });

    it('routes POST /v1/spaces/{spaceName}/eventLogs and GET /v2/list-system-events to the function through a Lambda proxy integration', () => {
      // Act
      const { queryTemplate } = buildApp(SPACES);
      const fnId = queryFunction(queryTemplate).id;
      const methods = methodsOf(queryTemplate);

      // Assess
      expect(methods.map((m) => `${m.props.HttpMethod} ${m.path}`).sort()).toEqual([
        'GET /v2/list-system-events',
        'POST /v1/spaces/{spaceName}/eventLogs',
      ]);
      for (const method of methods) {
        expect(flat(method.props.Integration)).toEqual({
          Type: 'AWS_PROXY',
          IntegrationHttpMethod: 'POST',
          TimeoutInMillis: 29_000,
          Uri: `arn:<AWS::Partition>:apigateway:<AWS::Region>:lambda:path/2015-03-31/functions/<${fnId}.Arn>/invocations`,
        });
      }
    });

    it('requires IAM (SigV4) on GET /v2/list-system-events and passes its query string through', () => {
      const { queryTemplate } = buildApp(SPACES);
      const method = methodsOf(queryTemplate).find((m) => m.path === '/v2/list-system-events');
      expect(method?.props.HttpMethod).toBe('GET');
      expect(method?.props.AuthorizationType).toBe('AWS_IAM');
      // A proxy integration forwards every query parameter (repeated ones as multiValueQueryStringParameters).
      expect(method?.props.RequestParameters).toBeUndefined();
      expect(queryRoutes()).toContainEqual({
        method: 'GET',
        path: '/v2/list-system-events',
        table: 'resiliencehub_system_events',
        authentication: 'sigv4',
      });
    });

    it('requires IAM authorization on every method, and has no OPTIONS method', () => {
      // Act
      const { queryTemplate } = buildApp(SPACES);
      const methods = methodsOf(queryTemplate);

      // Assess
      expect(methods.length).toBeGreaterThan(0);
      expect(methods.filter((m) => m.props.HttpMethod === 'OPTIONS')).toEqual([]);
      for (const method of methods) {
        expect(method.props.AuthorizationType, `${method.props.HttpMethod} ${method.path}`).toBe('AWS_IAM');
        expect(method.props.ApiKeyRequired).not.toBe(true);
      }
    });

    it('adds a route, IAM-authorized like the others, from one more route spec', () => {
      // Prepare
      const app = new App({ context: { ...featureFlags(), ...SKIP_BUNDLING } });
      const config = loadConfig(SPACES);
      const storage = new StorageStack(app, 'Storage', { config });
      const routes = [
        ...queryRoutes(),
        {
          method: 'GET' as const,
          path: '/v1/spaces/{spaceName}/other',
          table: 'codecatalyst_event_logs',
          authentication: 'sigv4' as const,
        },
      ];

      // Act
      const query = new QueryStack(app, 'Query', {
        config,
        bucket: storage.bucket,
        archivePrefix: storage.archivePrefix,
        catalog: storage.catalog,
        workGroup: storage.workGroup,
        routes,
      });
      const template = Template.fromStack(query);
      const methods = methodsOf(template);

      // Assess
      expect(methods.map((m) => `${m.props.HttpMethod} ${m.path}`).sort()).toEqual([
        'GET /v1/spaces/{spaceName}/other',
        'GET /v2/list-system-events',
        'POST /v1/spaces/{spaceName}/eventLogs',
      ]);
      expect(methods.every((m) => m.props.AuthorizationType === 'AWS_IAM')).toBe(true);
      template.resourceCountIs('AWS::Lambda::Permission', 3);
    });

    it('refuses a route over a table the catalog does not have', () => {
      // Prepare
      const app = new App({ context: { ...featureFlags(), ...SKIP_BUNDLING } });
      const config = loadConfig(SPACES);
      const storage = new StorageStack(app, 'Storage', { config });

      // Act + Assess
      expect(
        () =>
          new QueryStack(app, 'Query', {
            config,
            bucket: storage.bucket,
            archivePrefix: storage.archivePrefix,
            catalog: storage.catalog,
            workGroup: storage.workGroup,
            routes: [{ method: 'GET', path: '/v9/unknown', table: 'unknown_table', authentication: 'sigv4' }],
          }),
      ).toThrow('bindAthena: unknown_table is not a table of the catalog');
    });

    it('lets only the deployed stage of API Gateway invoke the function, per method', () => {
      // Act
      const { queryTemplate } = buildApp(SPACES);
      const permissions = Object.values(queryTemplate.findResources('AWS::Lambda::Permission')).map(
        (p) => flat((p as { Properties: unknown }).Properties) as Record<string, string>,
      );
      const api = onlyResource(queryTemplate, 'AWS::ApiGateway::RestApi').id;
      const stage = onlyResource(queryTemplate, 'AWS::ApiGateway::Stage').id;
      const fnId = queryFunction(queryTemplate).id;

      // Assess: no test-invoke permission (`test-invoke-stage`) either.
      expect(permissions.sort((a, b) => (a.SourceArn! < b.SourceArn! ? -1 : 1))).toEqual([
        {
          Action: 'lambda:InvokeFunction',
          FunctionName: `<${fnId}.Arn>`,
          Principal: 'apigateway.amazonaws.com',
          SourceArn: `arn:<AWS::Partition>:execute-api:${REGION_ACCOUNT}:<${api}>/<${stage}>/GET/v2/list-system-events`,
        },
        {
          Action: 'lambda:InvokeFunction',
          FunctionName: `<${fnId}.Arn>`,
          Principal: 'apigateway.amazonaws.com',
          SourceArn: `arn:<AWS::Partition>:execute-api:${REGION_ACCOUNT}:<${api}>/<${stage}>/POST/v1/spaces/*/eventLogs`,
        },
      ]);
    });

    it('throttles the stage with the configured rate and burst, and logs errors without bodies', () => {
      // Act
      const { queryTemplate } = buildApp({
        ...SPACES,
        query: { throttling: { rateLimit: 20, burstLimit: 40 } },
      });
      const stage = onlyResource(queryTemplate, 'AWS::ApiGateway::Stage');

      // Assess
      expect(stage.resource.Properties.StageName).toBe('prod');
      expect(stage.resource.Properties.MethodSettings).toEqual([
        {
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 20,
          ThrottlingBurstLimit: 40,
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
          MetricsEnabled: false,
        },
      ]);
    });

    it('uses the default throttling of 5 requests per second, burst 10', () => {
      const { queryTemplate } = buildApp(SPACES);
      const stage = onlyResource(queryTemplate, 'AWS::ApiGateway::Stage');
      expect(stage.resource.Properties.MethodSettings).toEqual([
        expect.objectContaining({ ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 }),
      ]);
    });

    it('writes one JSON access log line per request to a log group kept three months', () => {
      // Act
      const { queryTemplate } = buildApp(SPACES);
      const stage = onlyResource(queryTemplate, 'AWS::ApiGateway::Stage');
      const settings = flat(stage.resource.Properties.AccessLogSetting) as {
        DestinationArn: string;
        Format: string;
      };
      const logGroupId = /log-group:<([^>]+)>$/.exec(settings.DestinationArn)?.[1];

      // Assess
      expect(settings.DestinationArn).toBe(
        `arn:<AWS::Partition>:logs:${REGION_ACCOUNT}:log-group:<${logGroupId}>`,
      );
      const logGroup = queryTemplate.toJSON().Resources[logGroupId!];
      expect(logGroup.Properties.RetentionInDays).toBe(90);
      expect(logGroup.DeletionPolicy).toBe('Retain');
      expect(settings.Format).toBe(ACCESS_LOG_FORMAT);
      // What API Gateway writes: every $context variable replaced, messageString with its own quotes.
      const line = settings.Format.replace(
        '$context.error.messageString',
        '"Missing Authentication Token"',
      ).replace(/\$context\.[A-Za-z.]+/g, 'x');
      expect(Object.keys(JSON.parse(line))).toEqual(Object.keys(ACCESS_LOG_FIELDS));
      expect(JSON.parse(line).errorMessage).toBe('Missing Authentication Token');
      expect(settings.Format).toContain('"requestId":"$context.requestId"');
      expect(settings.Format).toContain('"status":"$context.status"');
      expect(settings.Format).toContain('"userArn":"$context.identity.userArn"');
    });

    it('leaves the region’s API Gateway account setting alone by default, and still writes access logs', () => {
      // Act
      const { queryTemplate } = buildApp(SPACES);

      // Assess
      queryTemplate.resourceCountIs('AWS::ApiGateway::Account', 0);
      queryTemplate.resourceCountIs('AWS::IAM::Role', 1);
      queryTemplate.hasResourceProperties('AWS::ApiGateway::Stage', {
        StageName: 'prod',
        AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue(), Format: ACCESS_LOG_FORMAT }),
      });
    });

    it('sets the region’s API Gateway CloudWatch role when apiCloudWatchRole is true, and retains it', () => {
      // Act
      const { queryTemplate } = buildApp({ ...SPACES, query: { apiCloudWatchRole: true } });
      const account = onlyResource(queryTemplate, 'AWS::ApiGateway::Account');
      const roleId = (account.resource.Properties.CloudWatchRoleArn as { 'Fn::GetAtt': string[] })[
        'Fn::GetAtt'
      ][0]!;
      const role = queryTemplate.toJSON().Resources[roleId];

      // Assess
      expect(account.resource.DeletionPolicy).toBe('Retain');
      expect(role.DeletionPolicy).toBe('Retain');
      expect(flat(role.Properties.ManagedPolicyArns)).toEqual([
        'arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs',
      ]);
      expect(onlyResource(queryTemplate, 'AWS::ApiGateway::Stage').resource.DependsOn).toContain(account.id);
    });

    it('leaves the account’s CloudWatch role alone when apiCloudWatchRole is false', () => {
      const { queryTemplate } = buildApp({ ...SPACES, query: { apiCloudWatchRole: false } });
      queryTemplate.resourceCountIs('AWS::ApiGateway::Account', 0);
      queryTemplate.resourceCountIs('AWS::IAM::Role', 1);
    });

    it('outputs the API URL, the workgroup and the database, and nothing else', () => {
      // Act
      const { queryTemplate } = buildApp(SPACES);
      const outputs = flat(queryTemplate.toJSON().Outputs) as Record<string, { Value: string }>;
      const api = onlyResource(queryTemplate, 'AWS::ApiGateway::RestApi').id;
      const stage = onlyResource(queryTemplate, 'AWS::ApiGateway::Stage').id;

      // Assess
      expect(Object.keys(outputs).sort()).toEqual(['ApiUrl', 'AthenaWorkGroup', 'GlueDatabase']);
      expect(outputs.ApiUrl?.Value).toBe(
        `https://<${api}>.execute-api.<AWS::Region>.<AWS::URLSuffix>/<${stage}>/`,
      );
      expect(outputs.AthenaWorkGroup?.Value).toBe('eventlog-archive');
      expect(outputs.GlueDatabase?.Value).toBe('eventlog_archive');
    });
  });

  describe('permissions', () => {
    it('grants exactly the logs, archive, Athena, Glue, results and secret actions, none with a wildcard', () => {
      // Act
      const { statements } = queryStatements();
      const actions = [...new Set(statements.flatMap(actionsOf))].sort();

      // Assess
      expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
      expect(actions).toEqual(
        [
          'athena:GetQueryExecution',
          'athena:GetQueryResults',
          'athena:StartQueryExecution',
          'athena:StopQueryExecution',
          'glue:GetDatabase',
          'glue:GetTable',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
          's3:AbortMultipartUpload',
          's3:GetBucketLocation',
          's3:GetObject',
          's3:ListBucket',
          's3:ListMultipartUploadParts',
          's3:PutObject',
          'secretsmanager:GetSecretValue',
        ].sort(),
      );
      expect(actions.filter((a) => a.includes('*'))).toEqual([]);
      expect(statements.flatMap(resourcesOf)).not.toContain('*');
    });

    it('runs queries in the workgroup only', () => {
      const { statements } = queryStatements({ ...SPACES, query: { workGroupName: 'audit' } });
      expect(withAction(statements, 'athena:StartQueryExecution')).toEqual([
        {
          Action: [
            'athena:GetQueryExecution',
            'athena:GetQueryResults',
            'athena:StartQueryExecution',
            'athena:StopQueryExecution',
          ],
          Effect: 'Allow',
          Resource: `arn:<AWS::Partition>:athena:${REGION_ACCOUNT}:workgroup/audit`,
        },
      ]);
    });

    it('reads the catalog, the database and the two source tables only', () => {
      const { statements } = queryStatements({ ...SPACES, query: { databaseName: 'audit_db' } });
      const glue = `arn:<AWS::Partition>:glue:${REGION_ACCOUNT}`;
      expect(withAction(statements, 'glue:GetTable')).toEqual([
        {
          Action: ['glue:GetDatabase', 'glue:GetTable'],
          Effect: 'Allow',
          Resource: [
            `${glue}:catalog`,
            `${glue}:database/audit_db`,
            `${glue}:table/audit_db/codecatalyst_event_logs`,
            `${glue}:table/audit_db/resiliencehub_system_events`,
          ],
        },
      ]);
    });

    it.each([
      ['no prefix', '', ''],
      ['a prefix', 'tables/v1', 'tables/v1/'],
    ])(
      'reads the table folders and their ledgers, and lists only them, with %s',
      (_case, archivePrefix, keyPrefix) => {
        // Act
        const { statements } = queryStatements({ ...SPACES, archivePrefix });
        const archiveStatements = statements
          .filter((s) => ARCHIVE_ARN.test(resourcesOf(s)[0]!.split('/')[0]!))
          .map((s) =>
            Array.isArray(s.Resource) ? { ...s, Resource: [...(s.Resource as string[])].sort() } : s,
          );
        const bucketArn = withAction(archiveStatements, 's3:ListBucket')[0]?.Resource as string;
        const folders = [
          `${keyPrefix}codecatalyst_event_logs/*`,
          `${keyPrefix}_ledger/codecatalyst_event_logs/*`,
          `${keyPrefix}resiliencehub_system_events/*`,
          `${keyPrefix}_ledger/resiliencehub_system_events/*`,
        ];

        // Assess
        expect(bucketArn).toMatch(ARCHIVE_ARN);
        expect(archiveStatements).toEqual([
          {
            Action: 's3:GetObject',
            Effect: 'Allow',
            Resource: folders.map((f) => `${bucketArn}/${f}`).sort(),
          },
          {
            Action: 's3:ListBucket',
            Condition: { StringLikeIfExists: { 's3:prefix': folders } },
            Effect: 'Allow',
            Resource: bucketArn,
          },
          { Action: 's3:GetBucketLocation', Effect: 'Allow', Resource: bucketArn },
        ]);
      },
    );

    it('reads and writes query results under results/ in the results bucket only', () => {
      // Act
      const { statements } = queryStatements();
      const resultsStatements = statements.filter((s) => RESULTS_ARN.test(resourcesOf(s)[0]!.split('/')[0]!));
      const bucketArn = withAction(resultsStatements, 's3:ListBucket')[0]?.Resource as string;

      // Assess
      expect(resultsStatements).toEqual([
        {
          Action: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:PutObject'],
          Effect: 'Allow',
          Resource: `${bucketArn}/results/*`,
        },
        { Action: ['s3:GetBucketLocation', 's3:ListBucket'], Effect: 'Allow', Resource: bucketArn },
      ]);
    });

    it('reads the token key secret only', () => {
      // Act
      const { statements, queryTemplate } = queryStatements();
      const secret = onlyResource(queryTemplate, 'AWS::SecretsManager::Secret');

      // Assess
      expect(withAction(statements, 'secretsmanager:GetSecretValue')).toEqual([
        { Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: `<${secret.id}>` },
      ]);
    });

    it('writes to its own log group only and uses no managed policy', () => {
      // Act
      const { statements, queryTemplate, roleId } = queryStatements();
      const logGroup = (
        queryFunction(queryTemplate).resource.Properties.LoggingConfig as {
          LogGroup: { Ref: string };
        }
      ).LogGroup.Ref;

      // Assess
      expect(withAction(statements, 'logs:PutLogEvents')).toEqual([
        {
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Effect: 'Allow',
          Resource: `<${logGroup}.Arn>`,
        },
      ]);
      expect(queryTemplate.toJSON().Resources[roleId].Properties.ManagedPolicyArns).toBeUndefined();
    });

    it('adds only Decrypt and GenerateDataKey on the key when the archive and results use SSE-KMS', () => {
      // Act
      const { statements } = queryStatements(SPACES, {
        encryptionKey: (app) => new Key(new Stack(app, 'Keys'), 'ArchiveKey'),
      });
      const kms = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));

      // Assess
      const keyArn = /^<Import:Keys:ExportsOutputFnGetAttArchiveKey[0-9A-F]+Arn[0-9A-F]+>$/;
      expect(kms.flatMap(actionsOf).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
      for (const statement of kms) {
        for (const resource of resourcesOf(statement)) expect(resource).toMatch(keyArn);
      }
    });
  });
});
