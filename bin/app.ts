#!/usr/bin/env node
/**
 * The CDK app (lib/archive-app.ts) over the settings in cdk.json's context. Environment-agnostic:
 * no account or region lookups, so `cdk synth` runs offline.
 */
import { App } from 'aws-cdk-lib';
import { clockFromEnv } from '../lambdas/shared/src/time';
import { addArchiveStacks } from '../lib/archive-app';
import { type ArchiveConfig, CONTEXT_KEY, ConfigError, loadConfig } from '../lib/config';

const app = new App();
let config: ArchiveConfig;
try {
  config = loadConfig(app.node.tryGetContext(CONTEXT_KEY), clockFromEnv(process.env));
} catch (err) {
  // A settings mistake is the user's to fix: say which field and rule, without a stack trace.
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`Invalid eventlogArchive setting (cdk.json context or -c): ${err.message}\n`);
  process.exit(1);
}
addArchiveStacks(app, config);
