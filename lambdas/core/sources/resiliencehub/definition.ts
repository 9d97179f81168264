/**
 * AWS Resilience Hub (next generation) system events (`ListSystemEvents`, API reference:
 * https://docs.aws.amazon.com/resilience-hub/v2/APIReference/API_ListSystemEvents.html) as an
 * archive source, without its client: what the query side and the CDK app import.
 */
import { checkSystemArn } from '@eventlog-archive/shared';
import type { SourceDefinition } from '../types';
import { systemPartitionValue } from './arn';
import { RESILIENCEHUB_FIELDS, RESILIENCEHUB_PARTITION_KEY, RESILIENCEHUB_TABLE } from './schema';

/**
 * The default backfill of a first run. The service does not document how long it keeps system
 * events, so this errs long: asking for days the service has already forgotten costs one empty
 * page per window, once, whereas asking for too few loses what it still had. A deployment that
 * knows better sets BACKFILL_DAYS (Lambda) or `--backfill-days` (CLI).
 */
export const RESILIENCEHUB_RETENTION_DAYS = 90;

export const resiliencehubDefinition: SourceDefinition = {
  name: 'resiliencehub',
  title: 'Resilience Hub system events',
  description:
    'AWS Resilience Hub system events (ListSystemEvents), one partition per system (<slug>-<hash of the ARN>) and UTC day; eventMetadata is the JSON text the service sent',
  route: { method: 'GET', path: '/v2/list-system-events', authentication: 'sigv4' },
  table: RESILIENCEHUB_TABLE,
  partitionKey: RESILIENCEHUB_PARTITION_KEY,
  instanceOption: 'system-arn',
  fields: RESILIENCEHUB_FIELDS,
  idField: 'eventId',
  timeField: 'timestamp',
  pageSize: 100,
  pageSizeLimits: { min: 1, max: 100 },
  retentionDays: RESILIENCEHUB_RETENTION_DAYS,
  checkInstance: (value, field) => checkSystemArn(value, field),
  partitionValue: systemPartitionValue,
};
