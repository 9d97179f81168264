import { Stack } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { acknowledgeWildcardResources } from '../nag';
import type { ArchiveCatalog } from './archive-catalog';
import { type QueryWorkGroup, RESULTS_PREFIX } from './query-workgroup';

/** Run a query, wait for it, read its rows, cancel it: nothing that changes the workgroup. */
export const ATHENA_QUERY_ACTIONS = [
  'athena:StartQueryExecution',
  'athena:GetQueryExecution',
  'athena:GetQueryResults',
  'athena:StopQueryExecution',
] as const;

/**
 * What Athena asks of Glue for a query, with the caller's credentials. No `glue:GetPartitions`:
 * with partition projection Athena computes partitions from the table properties and does not call
 * it (and the tables have no registered partitions to return).
 */
export const GLUE_READ_ACTIONS = ['glue:GetDatabase', 'glue:GetTable'] as const;

/** Athena writes results and reads them back with the caller's credentials. */
export const RESULTS_OBJECT_ACTIONS = [
  's3:GetObject',
  's3:PutObject',
  's3:AbortMultipartUpload',
  's3:ListMultipartUploadParts',
] as const;
export const RESULTS_BUCKET_ACTIONS = ['s3:ListBucket', 's3:GetBucketLocation'] as const;

/**
 * Lets a function query the archive through Athena: sets `ATHENA_WORKGROUP` and `GLUE_DATABASE`, and
 * grants the query actions on that workgroup only, Glue reads on the catalog, the database and the
 * given tables only, and result reads and writes in the workgroup's results bucket. S3 access to the
 * tables' own files is `bindArchive(..., { forAthena: true })`'s.
 *
 * @example
 * bindAthena(fn, workGroup, catalog, ['codecatalyst_event_logs']);
 */
export function bindAthena(
  fn: LambdaFunction,
  workGroup: QueryWorkGroup,
  catalog: ArchiveCatalog,
  tableNames: readonly string[],
): void {
  if (tableNames.length === 0) throw new Error('bindAthena: at least one table is required');
  const known = new Set(catalog.tables.map((t) => t.tableName));
  for (const name of tableNames) {
    if (!known.has(name)) throw new Error(`bindAthena: ${name} is not a table of the catalog`);
  }
  const stack = Stack.of(fn);
  fn.addEnvironment('ATHENA_WORKGROUP', workGroup.workGroupName);
  fn.addEnvironment('GLUE_DATABASE', catalog.databaseName);

  fn.addToRolePolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: [...ATHENA_QUERY_ACTIONS],
      resources: [
        stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: workGroup.workGroupName }),
      ],
    }),
  );
  const glue = (resource: string, resourceName?: string): string =>
    stack.formatArn({ service: 'glue', resource, ...(resourceName ? { resourceName } : {}) });
  fn.addToRolePolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: [...GLUE_READ_ACTIONS],
      resources: [
        glue('catalog'),
        glue('database', catalog.databaseName),
        ...tableNames.map((name) => glue('table', `${catalog.databaseName}/${name}`)),
      ],
    }),
  );

  const results = workGroup.resultsBucket;
  const resultObjects = results.arnForObjects(`${RESULTS_PREFIX}*`);
  fn.addToRolePolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: [...RESULTS_OBJECT_ACTIONS],
      resources: [resultObjects],
    }),
  );
  if (fn.role) {
    acknowledgeWildcardResources(
      fn.role,
      [resultObjects],
      'Athena names each result file after its query id, so the grant covers the results/ folder of the workgroup’s own results bucket and nothing else.',
    );
  }
  fn.addToRolePolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: [...RESULTS_BUCKET_ACTIONS],
      resources: [results.bucketArn],
    }),
  );
  results.encryptionKey?.grant(fn, 'kms:Decrypt', 'kms:GenerateDataKey');
}
