/**
 * The Resilience Hub `SystemEvent` (ListSystemEvents API reference:
 * https://docs.aws.amazon.com/resilience-hub/v2/APIReference/API_ListSystemEvents.html) as archived fields.
 */
import type { FieldSpec } from '../../records';

const str = (name: string): FieldSpec => ({ name, type: 'string' });

export const RESILIENCEHUB_FIELDS: readonly FieldSpec[] = [
  {
    name: 'actor',
    type: 'struct',
    fields: [str('accountId'), str('principalId'), str('type'), str('userName')],
  },
  {
    name: 'eventDetails',
    type: 'struct',
    fields: [
      str('description'),
      // A union in the service model whose members grow with the event types: kept as the exact
      // JSON text the service sent (see decodeListSystemEvents), never re-serialised.
      { name: 'eventMetadata', type: 'json' },
      str('title'),
    ],
  },
  { name: 'eventId', type: 'string', required: true },
  str('eventType'),
  str('systemArn'),
  { name: 'timestamp', type: 'timestamp', required: true },
];

export const RESILIENCEHUB_TABLE = 'resiliencehub_system_events';
export const RESILIENCEHUB_PARTITION_KEY = 'system';
