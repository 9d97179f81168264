import { fileURLToPath } from 'node:url';
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, type ILayerVersion, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, type NodejsFunctionProps, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { FUNCTION_ALIASES, FUNCTION_BUNDLE } from '../../lambdas/build';

/** The repository root: NodejsFunction bundles from here with the root lockfile. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const LOCK_FILE = fileURLToPath(new URL('../../package-lock.json', import.meta.url));
export const LogLevel = { DEBUG: 'DEBUG', INFO: 'INFO', WARN: 'WARN', ERROR: 'ERROR' } as const;
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel];

export interface ArchiveFunctionProps
  extends Omit<NodejsFunctionProps, 'runtime' | 'architecture' | 'bundling' | 'logGroup' | 'logRetention'> {
  /** The handler's source file, e.g. `lambdas/ingest/index.ts`. */
  readonly entry: string;
  /** The `@eventlog-archive/shared` layer the bundle requires at run time. */
  readonly sharedLayer: ILayerVersion;
  /** `POWERTOOLS_SERVICE_NAME`. */
  readonly serviceName: string;
  /** `POWERTOOLS_LOG_LEVEL`; INFO by default. */
  readonly logLevel?: LogLevel;
  /** Retention of the function's log group; three months by default. */
  readonly logRetention?: RetentionDays;
  /** Node.js and V8 options added to NODE_OPTIONS (after `--enable-source-maps`). */
  readonly nodeOptions?: readonly string[];
}

/**
 * A function with the project's defaults: Node.js 24 on arm64, an explicit log group with retention,
 * source maps, the AWS SDK bundled, and `@eventlog-archive/shared` taken from the shared layer.
 */
export class ArchiveFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: ArchiveFunctionProps) {
    const { sharedLayer, serviceName, logLevel, logRetention, environment, layers, nodeOptions, ...rest } =
      props;
    const logGroup = new LogGroup(scope, `${id}LogGroup`, {
      retention: logRetention ?? RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Own role instead of AWSLambdaBasicExecutionRole (logs on every log group): this log group only.
    const role =
      props.role ??
      new Role(scope, `${id}Role`, {
        assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
        description: `Execution role of ${serviceName}`,
      });
    logGroup.grantWrite(role);
    super(scope, id, {
      tracing: Tracing.DISABLED,
      ...rest,
      role,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      projectRoot: props.projectRoot ?? REPO_ROOT,
      depsLockFilePath: props.depsLockFilePath ?? LOCK_FILE,
      logGroup,
      layers: [sharedLayer, ...(layers ?? [])],
      // The esbuild settings are lambdas/build.ts's, shared with bundleFunction (benchmarks): what is
      // measured is what is deployed, which test/lib/bundling.test.ts checks byte for byte.
      bundling: {
        // CJS because the shared package is resolved at run time from /opt/nodejs/node_modules via NODE_PATH, which only CJS `require` honours.
        format: FUNCTION_BUNDLE.format === 'cjs' ? OutputFormat.CJS : OutputFormat.ESM,
        minify: FUNCTION_BUNDLE.minify,
        target: FUNCTION_BUNDLE.target,
        mainFields: [...FUNCTION_BUNDLE.mainFields],
        // Only the layer package: the AWS SDK v3 clients are bundled, not taken from the runtime.
        externalModules: [...FUNCTION_BUNDLE.external],
        esbuildArgs: {
          '--legal-comments': 'none',
          '--alias': Object.entries(FUNCTION_ALIASES).map(
            ([module, replacement]) => `${module}=${replacement}`,
          ),
        },
        sourceMap: true,
        sourcesContent: false,
      },
      environment: {
        NODE_OPTIONS: ['--enable-source-maps', ...(nodeOptions ?? [])].join(' '),
        POWERTOOLS_SERVICE_NAME: serviceName,
        POWERTOOLS_LOG_LEVEL: logLevel ?? LogLevel.INFO,
        ...environment,
      },
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Pinned to nodejs24.x, the newest LTS runtime, on purpose: the bundle targets node24 (lambdas/build.ts) and the shared layer lists nodejs24.x; moving to a newer runtime is a tested upgrade of all three, not a synth-time default.',
    });
  }
}
