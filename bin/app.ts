#!/usr/bin/env node
/**
 * The CDK app: the storage stack (bucket, catalog, Athena workgroup: the state) and the two compute
 * stacks that receive it, ingest (function, schedules) and query (function, API). Environment-agnostic:
 * no account or region lookups, so `cdk synth` runs offline.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { clockFromEnv } from '../lambdas/shared/src/time';
import { type ArchiveConfig, CONTEXT_KEY, ConfigError, loadConfig } from '../lib/config';
import { IngestStack } from '../lib/stacks/ingest-stack';
import { QueryStack } from '../lib/stacks/query-stack';
import { StorageStack } from '../lib/stacks/storage-stack';

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

const storage = new StorageStack(app, 'EventlogArchiveStorage', {
  description:
    'eventlog-archive: the archive bucket and its access logs (retained on delete), Glue catalog, Athena workgroup',
  config,
});

new IngestStack(app, 'EventlogArchiveIngest', {
  description:
    'eventlog-archive: scheduled ingest of CodeCatalyst event logs and Resilience Hub system events',
  config,
  bucket: storage.bucket,
  archivePrefix: storage.archivePrefix,
  digestSigningKey: storage.digestSigningKey,
  ...(storage.encryptionKey ? { encryptionKey: storage.encryptionKey } : {}),
});

new QueryStack(app, 'EventlogArchiveQuery', {
  description: 'eventlog-archive: the query API (API Gateway, IAM auth) and its function over Athena',
  config,
  bucket: storage.bucket,
  archivePrefix: storage.archivePrefix,
  catalog: storage.catalog,
  workGroup: storage.workGroup,
});

// cdk-nag's AwsSolutions pack on every synth: an unacknowledged finding fails `cdk synth`. Every
// acknowledgment sits next to the resource it is about, with its reason (docs/security.md#cdk-nag).
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
