/**
 * Amazon CodeCatalyst event logs (`ListEventLogs`) as an archive source, without its client: what
 * the query side and the CDK app import (the client, with its HTTP and page reading, is the ingest's).
 */
import { checkSpaceName } from '@eventlog-archive/shared';
import type { SourceDefinition } from '../types';
import { CODECATALYST_FIELDS, CODECATALYST_PARTITION_KEY, CODECATALYST_TABLE } from './schema';

export const codecatalystDefinition: SourceDefinition = {
  name: 'codecatalyst',
  title: 'CodeCatalyst event logs',
  description: 'Amazon CodeCatalyst event logs (ListEventLogs), one partition per space and UTC day',
  // The CodeCatalyst SDK sends a personal access token (https://docs.aws.amazon.com/codecatalyst/latest/userguide/ipa-tokens-keys.html).
  route: { method: 'POST', path: '/v1/spaces/{spaceName}/eventLogs', authentication: 'bearer' },
  table: CODECATALYST_TABLE,
  partitionKey: CODECATALYST_PARTITION_KEY,
  instanceOption: 'space',
  fields: CODECATALYST_FIELDS,
  idField: 'id',
  timeField: 'eventTime',
  pageSize: 250,
  pageSizeLimits: { min: 1, max: 250 },
  retentionDays: 30,
  checkInstance: (value, field) => checkSpaceName(value, field),
  // The spaceName pattern of the ListEventLogs API reference
  // (https://docs.aws.amazon.com/codecatalyst/latest/APIReference/API_ListEventLogs.html)
  // admits only [A-Za-z0-9._-]: already safe as a path segment and a partition value.
  partitionValue: (space) => space,
};
