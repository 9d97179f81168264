import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import {
  AccessLogField,
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  IdentitySource,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RestApi,
  TokenAuthorizer,
} from 'aws-cdk-lib/aws-apigateway';
import type { ILayerVersion } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { TOKEN_HEADER_PATTERN } from '../../lambdas/authorizer/policy';
import { TOKEN_FOLDER } from '../../lambdas/core/access-tokens';
import { SOURCE_DEFINITIONS } from '../../lambdas/core/sources';
import type { ArchiveConfig } from '../config';
import { ArchiveAccess, bindArchive, bindTokenSecret, ledgerFolderOf } from '../constructs/archive-access';
import type { ArchiveCatalog } from '../constructs/archive-catalog';
import { ArchiveFunction } from '../constructs/archive-function';
import { bindAthena } from '../constructs/athena-access';
import { addAwsShapedGatewayResponses } from '../constructs/gateway-responses';
import type { QueryWorkGroup } from '../constructs/query-workgroup';
import { SharedLayer } from '../constructs/shared-layer';

export const QUERY_ENTRY = fileURLToPath(new URL('../../lambdas/query/index.ts', import.meta.url));
export const AUTHORIZER_ENTRY = fileURLToPath(new URL('../../lambdas/authorizer/index.ts', import.meta.url));

/** One HTTP route of the query API and the table it reads; every route goes to the one handler. */
export interface ApiRoute {
  readonly method: 'GET' | 'POST';
  /** API Gateway resource path, `{name}` for a path parameter. */
  readonly path: string;
  /** The Glue table (and archive folder) the route answers from. */
  readonly table: string;
  /** How the source's own SDK authenticates (bearer routes take tokens with `query.authorization: "token"`). */
  readonly authentication: 'bearer' | 'sigv4';
}

/** The routes of the API: each registered source's route (its definition's), reading its table. */
export function queryRoutes(): ApiRoute[] {
  return Object.values(SOURCE_DEFINITIONS).flatMap((source) =>
    source.route
      ? [
          {
            method: source.route.method,
            path: source.route.path,
            table: source.table,
            authentication: source.route.authentication,
          },
        ]
      : [],
  );
}

/** API Gateway's integration timeout for REST APIs (the default maximum). */
export const API_INTEGRATION_TIMEOUT = Duration.seconds(29);
/**
 * The handler's own deadline for a query (`QUERY_TIMEOUT_MS`): it stops the Athena query and answers
 * with a mapped error while API Gateway still waits, leaving room for a cold start and the response.
 */
export const QUERY_TIMEOUT_MS = 25_000;
/**
 * Above API Gateway's 29 s on purpose: Lambda must never kill the handler while API Gateway still
 * waits (that caller would get a bare 502 instead of our error), and if the handler ever overruns,
 * API Gateway answers 504 on its own while the function still gets to stop its Athena query.
 */
export const QUERY_FUNCTION_TIMEOUT = Duration.seconds(30);
/** The stage the API is deployed to; part of the URL. */
export const API_STAGE_NAME = 'prod';

const ERROR_MESSAGE_SLOT = '<error-message>';

/** The access log line: who called what, how it ended, and how long each part took. */
export const ACCESS_LOG_FIELDS = {
  requestId: AccessLogField.contextRequestId(),
  extendedRequestId: AccessLogField.contextExtendedRequestId(),
  requestTime: AccessLogField.contextRequestTime(),
  httpMethod: AccessLogField.contextHttpMethod(),
  resourcePath: AccessLogField.contextResourcePath(),
  path: AccessLogField.contextPath(),
  protocol: AccessLogField.contextProtocol(),
  status: AccessLogField.contextStatus(),
  responseLength: AccessLogField.contextResponseLength(),
  responseLatency: AccessLogField.contextResponseLatency(),
  integrationStatus: AccessLogField.contextIntegrationStatus(),
  integrationLatency: AccessLogField.contextIntegrationLatency(),
  // Replaced below by $context.error.messageString, which API Gateway writes with its own quotes
  // (the form its documentation gives for JSON access logs).
  errorMessage: ERROR_MESSAGE_SLOT,
  errorResponseType: AccessLogField.contextErrorResponseType(),
  sourceIp: AccessLogField.contextIdentitySourceIp(),
  userAgent: AccessLogField.contextIdentityUserAgent(),
  caller: AccessLogField.contextIdentityCaller(),
  userArn: AccessLogField.contextIdentityUserArn(),
  accountId: AccessLogField.contextIdentityAccountId(),
  // With token authorization, `token/<id>` of the token used (never the token).
  principalId: AccessLogField.contextAuthorizerPrincipalId(),
} as const;

/** `ACCESS_LOG_FIELDS` as one JSON object per request. */
export const ACCESS_LOG_FORMAT = JSON.stringify(ACCESS_LOG_FIELDS).replace(
  JSON.stringify(ERROR_MESSAGE_SLOT),
  AccessLogField.contextErrorMessageString(),
);

export interface QueryStackProps extends StackProps {
  readonly config: ArchiveConfig;
  /** The archive bucket (from the storage stack). */
  readonly bucket: IBucket;
  /** '' or a key prefix ending in '/'. */
  readonly archivePrefix: string;
  /** The Glue database and tables (from the storage stack). */
  readonly catalog: ArchiveCatalog;
  /** The Athena workgroup and its results bucket (from the storage stack). */
  readonly workGroup: QueryWorkGroup;
  /** The shared layer; a new one is built in this stack when absent. */
  readonly sharedLayer?: ILayerVersion;
  /** The routes; `queryRoutes()` by default. */
  readonly routes?: readonly ApiRoute[];
}

/**
 * The compute half of querying: the query function, the key that signs its page tokens, and the REST
 * API in front of it (IAM authorization on every method, stage throttling, JSON access logs).
 */
export class QueryStack extends Stack {
  readonly function: ArchiveFunction;
  readonly api: RestApi;
  /**
   * HMAC key of `nextToken`, retained on stack deletion. Losing or replacing it only invalidates the
   * outstanding tokens, which expire after `TOKEN_TTL_SECONDS` anyway.
   */
  readonly tokenKey: Secret;
  readonly accessLogs: LogGroup;
  /** With `query.authorization: "token"`: the function that checks bearer tokens. */
  readonly authorizerFunction?: ArchiveFunction;

  constructor(scope: Construct, id: string, props: QueryStackProps) {
    super(scope, id, props);
    const { config } = props;
    const routes = props.routes ?? queryRoutes();
    if (routes.length === 0) throw new Error('QueryStack: at least one route is required');
    const tables = [...new Set(routes.map((route) => route.table))];

    const sharedLayer = props.sharedLayer ?? new SharedLayer(this, 'SharedLayer').layer;
    this.function = this.createFunction(config, sharedLayer);
    grantTableReads(this.function, props, tables);
    this.tokenKey = this.createTokenKey(this.function);
    this.accessLogs = new LogGroup(this, 'ApiAccessLogs', {
      retention: RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.api = this.createApi(config, this.accessLogs);
    let authorizer: TokenAuthorizer | undefined;
    if (config.query.authorization === 'token') {
      this.authorizerFunction = this.createAuthorizerFunction(props, sharedLayer);
      authorizer = new TokenAuthorizer(this, 'TokenAuthorizer', {
        authorizerName: 'eventlog-archive-tokens',
        handler: this.authorizerFunction,
        identitySource: IdentitySource.header('Authorization'),
        validationRegex: TOKEN_HEADER_PATTERN.source,
        resultsCacheTtl: Duration.seconds(config.query.authorizerCacheSeconds),
      });
    }
    addRoutes(this.api, this.function, routes, authorizer);
    addAwsShapedGatewayResponses(this.api);
    this.acknowledgeApiFindings(config.query.apiCloudWatchRole, authorizer !== undefined);
    this.addOutputs(props, authorizer !== undefined);
  }

  /**
   * The token authorizer's function: reads the token records (`_tokens/`, and nothing else of the
   * archive; no other role of this app may read them) and answers API Gateway with a policy.
   */
  private createAuthorizerFunction(props: QueryStackProps, sharedLayer: ILayerVersion): ArchiveFunction {
    const fn = new ArchiveFunction(this, 'Authorizer', {
      description: 'Checks the bearer tokens of the query API (eventlog-archive token create)',
      entry: AUTHORIZER_ENTRY,
      handler: 'handler',
      sharedLayer,
      serviceName: 'eventlog-archive-authorizer',
      // One small S3 read per token and cache TTL; more memory only buys a faster cold start.
      memorySize: 512,
      timeout: Duration.seconds(10),
    });
    bindArchive(fn, props.bucket, props.archivePrefix, [TOKEN_FOLDER], ArchiveAccess.READ);
    return fn;
  }

  /** The query handler: 1 GB, a timeout just above API Gateway's, its own query deadline below it. */
  private createFunction(config: ArchiveConfig, sharedLayer: ILayerVersion): ArchiveFunction {
    return new ArchiveFunction(this, 'Query', {
      description: 'Answers the query API from the archive through Athena',
      entry: QUERY_ENTRY,
      handler: 'handler',
      sharedLayer,
      serviceName: 'eventlog-archive-query',
      memorySize: 1024,
      timeout: QUERY_FUNCTION_TIMEOUT,
      environment: {
        TOKEN_TTL_SECONDS: String(config.query.tokenTtlSeconds),
        QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS),
        // Named in the 402 of a query the workgroup stopped (the workgroup enforces it).
        BYTES_SCANNED_CUTOFF_MB: String(config.query.bytesScannedCutoffMb),
      },
    });
  }

  /** The retained HMAC key of `nextToken`, readable by the function through `TOKEN_KEY_SECRET_ARN`. */
  private createTokenKey(fn: ArchiveFunction): Secret {
    const tokenKey = new Secret(this, 'TokenKey', {
      description: 'eventlog-archive: HMAC key that signs the nextToken values of the query API',
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    bindTokenSecret(fn, tokenKey, 'TOKEN_KEY_SECRET_ARN');
    Validations.of(tokenKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'An HMAC key for page tokens, not a credential: rotating it only invalidates outstanding nextToken values (they expire after tokenTtlSeconds anyway). Replace it by hand (put a new random value) if it may have leaked.',
    });
    return tokenKey;
  }

  /** The regional REST API (IAM authorization) and its throttled stage with JSON access logs. */
  private createApi(config: ArchiveConfig, accessLogs: LogGroup): RestApi {
    return new RestApi(this, 'Api', {
      restApiName: 'eventlog-archive',
      description: 'eventlog-archive: the archived event logs through the source APIs’ own shapes',
      endpointTypes: [EndpointType.REGIONAL],
      // Access and execution logs need the region's API Gateway CloudWatch Logs role, an account-wide
      // setting (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html).
      // Off by default: AWS::ApiGateway::Account overwrites the role every other API of the region logs
      // through. Only where a region has none (the stage would fail to deploy) does query.apiCloudWatchRole
      // create one; it is retained, because after this stack is gone the setting still points at it.
      cloudWatchRole: config.query.apiCloudWatchRole,
      ...(config.query.apiCloudWatchRole ? { cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN } : {}),
      defaultMethodOptions: { authorizationType: AuthorizationType.IAM },
      deployOptions: {
        stageName: API_STAGE_NAME,
        throttlingRateLimit: config.query.throttling.rateLimit,
        throttlingBurstLimit: config.query.throttling.burstLimit,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.custom(ACCESS_LOG_FORMAT),
        // Errors only, and never request or response bodies (they carry tokens and event data).
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: false,
        tracingEnabled: false,
      },
    });
  }

  /** The stack's outputs: the API's URL, and the workgroup and database to query the archive in. */
  private addOutputs(props: QueryStackProps, tokens: boolean): void {
    // RestApi's own unnamed endpoint output would repeat ApiUrl.
    this.api.node.tryRemoveChild('Endpoint');
    new CfnOutput(this, 'ApiUrl', {
      description: tokens
        ? 'Base URL of the query API (ListEventLogs: Authorization: Bearer <eventlog-archive token create>; ListSystemEvents: SigV4)'
        : 'Base URL of the query API (sign requests with SigV4 for execute-api)',
      value: this.api.url,
    });
    new CfnOutput(this, 'AthenaWorkGroup', {
      description: 'Athena workgroup to query the archive in',
      value: props.workGroup.workGroupName,
    });
    new CfnOutput(this, 'GlueDatabase', {
      description: 'Glue database of the archive tables',
      value: props.catalog.databaseName,
    });
  }

  /** The API's cdk-nag acknowledgments, each with why it is safe here (docs/security.md#cdk-nag). */
  private acknowledgeApiFindings(cloudWatchRole: boolean, tokens: boolean): void {
    Validations.of(this.api).acknowledge(
      {
        id: 'AwsSolutions-APIG2',
        reason:
          'The handler validates every parameter against the source APIs’ own rules (lambdas/shared validation, the same messages the services give); API Gateway models would duplicate those rules in a second, weaker form and answer in a different error shape.',
      },
      {
        id: 'AwsSolutions-COG4',
        reason: tokens
          ? 'Every method is authorized: by AWS_IAM (SigV4) where the source service’s SDK signs, and by a token authorizer where it sends a bearer token (CodeCatalyst), with tokens issued by this app’s CLI; a Cognito user pool would issue tokens the official SDKs do not send.'
          : 'Every method uses AWS_IAM authorization (SigV4): callers are IAM principals of the account, as for the source APIs; there are no end users for a Cognito user pool.',
      },
    );
    Validations.of(this.api.deploymentStage).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'Unsigned requests are rejected by IAM authorization before the integration, and the stage is throttled; a WAF web ACL (a monthly cost per ACL and rule) can be associated with the stage outside this app where an account policy asks for one.',
    });
    const role = this.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole && role) {
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          'The account-level role API Gateway needs to write access and execution logs, trusted by apigateway.amazonaws.com only; AWS documents this managed policy for it. Set query.apiCloudWatchRole to false where a landing zone already manages the setting.',
      });
    }
  }
}

/** The tables' files for Athena, and the ledger to tell "never archived" (404) from "no events". */
function grantTableReads(fn: ArchiveFunction, props: QueryStackProps, tables: readonly string[]): void {
  bindArchive(
    fn,
    props.bucket,
    props.archivePrefix,
    tables.flatMap((table) => [table, ledgerFolderOf(table)]),
    ArchiveAccess.READ,
    { forAthena: true },
  );
  bindAthena(fn, props.workGroup, props.catalog, tables);
}

/**
 * Every route as a method on its resource, all through one proxy integration of the function. With
 * a token authorizer, the bearer routes use it; every other method keeps the API's IAM default.
 */
function addRoutes(
  api: RestApi,
  fn: ArchiveFunction,
  routes: readonly ApiRoute[],
  authorizer: TokenAuthorizer | undefined,
): void {
  const integration = new LambdaIntegration(fn, {
    proxy: true,
    timeout: API_INTEGRATION_TIMEOUT,
    // One invoke permission per method for the deployed stage, none for console test calls.
    allowTestInvoke: false,
  });
  for (const route of routes) {
    const withToken = authorizer !== undefined && route.authentication === 'bearer';
    api.root
      .resourceForPath(route.path)
      .addMethod(
        route.method,
        integration,
        withToken ? { authorizationType: AuthorizationType.CUSTOM, authorizer } : undefined,
      );
  }
}
