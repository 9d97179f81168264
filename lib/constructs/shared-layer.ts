import { fileURLToPath } from 'node:url';
import { DockerImage, RemovalPolicy } from 'aws-cdk-lib';
import { Architecture, Code, LayerVersion, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { buildSharedLayer } from '../../lambdas/shared/build';

const SHARED_PACKAGE_DIR = fileURLToPath(new URL('../../lambdas/shared/', import.meta.url));

export interface SharedLayerProps {
  /** Kept on a stack deletion or replacement? Old versions are still used by old function versions. */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The `@eventlog-archive/shared` layer, built locally with esbuild (no Docker). Bundling goes through
 * the asset's local bundler, so `aws:cdk:bundling-stacks` skips it exactly like function bundling.
 */
export class SharedLayer extends Construct {
  readonly layer: LayerVersion;

  constructor(scope: Construct, id: string, props: SharedLayerProps = {}) {
    super(scope, id);
    this.layer = new LayerVersion(this, 'Layer', {
      description: 'eventlog-archive shared code: pagination, retry, error mapping, logging',
      license: 'Apache-2.0',
      compatibleRuntimes: [Runtime.NODEJS_24_X],
      compatibleArchitectures: [Architecture.ARM_64],
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      code: Code.fromAsset(SHARED_PACKAGE_DIR, {
        bundling: {
          // Never pulled: local bundling always succeeds or throws.
          image: DockerImage.fromRegistry('dummy'),
          local: {
            tryBundle(outputDir: string): boolean {
              buildSharedLayer(outputDir);
              return true;
            },
          },
        },
      }),
    });
  }
}
