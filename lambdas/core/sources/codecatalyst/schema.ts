/**
 * The CodeCatalyst `EventLogEntry` as archived fields (EventLogEntry and ListEventLogs API references:
 * https://docs.aws.amazon.com/codecatalyst/latest/APIReference/API_EventLogEntry.html,
 * https://docs.aws.amazon.com/codecatalyst/latest/APIReference/API_ListEventLogs.html).
 */
import type { FieldSpec } from '../../records';

const str = (name: string): FieldSpec => ({ name, type: 'string' });
const payload = (name: string): FieldSpec => ({
  name,
  type: 'struct',
  fields: [str('contentType'), str('data')],
});

export const CODECATALYST_FIELDS: readonly FieldSpec[] = [
  { name: 'id', type: 'string', required: true },
  str('eventName'),
  str('eventType'),
  str('eventCategory'),
  str('eventSource'),
  { name: 'eventTime', type: 'timestamp', required: true },
  str('operationType'),
  {
    name: 'userIdentity',
    type: 'struct',
    fields: [str('userType'), str('principalId'), str('userName'), str('awsAccountId')],
  },
  { name: 'projectInformation', type: 'struct', fields: [str('name'), str('projectId')] },
  str('requestId'),
  payload('requestPayload'),
  payload('responsePayload'),
  str('errorCode'),
  str('sourceIpAddress'),
  str('userAgent'),
];

export const CODECATALYST_TABLE = 'codecatalyst_event_logs';
export const CODECATALYST_PARTITION_KEY = 'space';
