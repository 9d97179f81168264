/**
 * The app's three stacks, as `cdk synth` builds them: the storage stack (bucket, catalog, Athena
 * workgroup: the state) and the two compute stacks that receive it, ingest (function, schedules) and
 * query (function, API). bin/app.ts builds it for `cdk`; the synth benchmark and the scale test build
 * the same.
 */
import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { ArchiveConfig } from './config';
import { IngestStack } from './stacks/ingest-stack';
import { QueryStack } from './stacks/query-stack';
import { StorageStack } from './stacks/storage-stack';

export interface ArchiveStacks {
  readonly storage: StorageStack;
  readonly ingest: IngestStack;
  readonly query: QueryStack;
}

/** Adds the stacks for `config` to `app`, with cdk-nag's AwsSolutions pack on every synth. */
export function addArchiveStacks(app: App, config: ArchiveConfig): ArchiveStacks {
  const storage = new StorageStack(app, 'EventlogArchiveStorage', {
    description:
      'eventlog-archive: the archive bucket and its access logs (retained on delete), Glue catalog, Athena workgroup',
    config,
  });
  const ingest = new IngestStack(app, 'EventlogArchiveIngest', {
    description:
      'eventlog-archive: scheduled ingest of CodeCatalyst event logs and Resilience Hub system events',
    config,
    bucket: storage.bucket,
    archivePrefix: storage.archivePrefix,
    digestSigningKey: storage.digestSigningKey,
    ...(storage.encryptionKey ? { encryptionKey: storage.encryptionKey } : {}),
  });
  const query = new QueryStack(app, 'EventlogArchiveQuery', {
    description:
      config.query.authorization === 'token'
        ? 'eventlog-archive: the query API (API Gateway, IAM and token auth) and its function over Athena'
        : 'eventlog-archive: the query API (API Gateway, IAM auth) and its function over Athena',
    config,
    bucket: storage.bucket,
    archivePrefix: storage.archivePrefix,
    catalog: storage.catalog,
    workGroup: storage.workGroup,
  });
  // An unacknowledged finding fails `cdk synth`. Every acknowledgment sits next to the resource it is
  // about, with its reason (docs/security.md#cdk-nag).
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { storage, ingest, query };
}
