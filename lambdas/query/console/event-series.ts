/**
 * What the console's histogram series mean for each source: every event is exactly one of failed,
 * read or write (failed first, then read, the rest are writes). Decided from the sources' fields
 * (docs/console-api.md#series):
 * - CodeCatalyst `EventLogEntry` (https://docs.aws.amazon.com/codecatalyst/latest/APIReference/API_EventLogEntry.html):
 *   `errorCode` is set on a call that failed; `operationType` is `READONLY` or `MUTATION`.
 * - Resilience Hub `SystemEvent` (https://docs.aws.amazon.com/resilience-hub/v2/APIReference/API_SystemEvent.html):
 *   every event type records a change to the system (created, deleted, updated, associated,
 *   disassociated), and no field says a call failed or only read: every event is a write.
 */
import type { SourceDefinition } from '../../core/sources/types';
import type { EventSeries } from '../sql';

const EVENT_SERIES: Readonly<Record<string, EventSeries>> = {
  codecatalyst: { failedWhenSet: 'errorCode', readWhen: { field: 'operationType', value: 'READONLY' } },
  resiliencehub: {},
};

/** The series of a source's events; a source without a rule here counts every event as a write. */
export function eventSeriesOf(source: SourceDefinition): EventSeries {
  return Object.hasOwn(EVENT_SERIES, source.name) ? EVENT_SERIES[source.name]! : {};
}
