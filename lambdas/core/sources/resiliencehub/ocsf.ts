/**
 * A Resilience Hub system event as an OCSF 1.1.0 Entity Management event (class 3004,
 * https://schema.ocsf.io/1.1.0/classes/entity_management): each system event records a change an
 * actor made to a managed entity, the system (its creation, deletion, user journeys, associated
 * services and policy). Why this class and not API Activity, and the field-by-field table, are in
 * docs/ocsf.md.
 *
 * Input: the archive record (`ArchiveRecord` of RESILIENCEHUB_FIELDS, as `normaliseRecord` shapes
 * it: every field present, `null` where the source sent nothing, `timestamp` a `Date`,
 * `eventDetails.eventMetadata` the exact JSON text the service sent). The ingest's client
 * normalises each wire event into it, and a reader of the archive's Parquet gets exactly it.
 *
 * Pure: no I/O, no clock; the archive's own times come in the context.
 */

import {
  ACTIVITY,
  type ActivityId,
  AWS_ACCOUNT,
  classify,
  ENTITY_MANAGEMENT,
  LOG_PROVIDER,
  OCSF_VERSION,
  SEVERITY,
  STATUS,
  severity,
  status,
  UNKNOWN,
  USER_TYPE,
  userType,
} from '../../ocsf/classification';
import type { OcsfActor, OcsfCloud, OcsfEntityManagement } from '../../ocsf/types';
import { defined, structOf, textOf, timeOf, Unmapped } from '../../ocsf/values';
import type { ArchiveRecord } from '../../records';
import { epochSecondsJson } from '../../records';
import { RESILIENCEHUB_TABLE } from './schema';

export interface ResilienceHubOcsfContext {
  /** When the archive logged the event (epoch ms), e.g. its window's first sweep; left out when unknown. */
  loggedTime?: number;
  /** The instance's system ARN, for a record without `systemArn` (every archived row has it). */
  systemArn?: string;
}

/**
 * `host`: in OCSF 1.1.0 Entity Management's `actor` comes from the Host profile (through the IAM
 * category's base class), so an event that says who acted names it; `cloud` carries the account and
 * Region of the system.
 */
const PROFILES = ['cloud', 'host'];

/**
 * The system is the managed entity of every event: its creation and deletion are Create and
 * Delete; a user journey created, updated or deleted in it, and a service or policy associated or
 * disassociated, change its definition: Update
 * (event types: https://docs.aws.amazon.com/resilience-hub/v2/APIReference/API_SystemEvent.html).
 */
const EVENT_ACTIVITY: Readonly<Record<string, ActivityId>> = {
  SYSTEM_CREATED: ACTIVITY.Create,
  SYSTEM_DELETED: ACTIVITY.Delete,
  SYSTEM_USER_JOURNEY_CREATED: ACTIVITY.Update,
  SYSTEM_USER_JOURNEY_UPDATED: ACTIVITY.Update,
  SYSTEM_USER_JOURNEY_DELETED: ACTIVITY.Update,
  SYSTEM_SERVICE_ASSOCIATED: ACTIVITY.Update,
  SYSTEM_SERVICE_DISASSOCIATED: ACTIVITY.Update,
  SYSTEM_POLICY_ASSOCIATED: ACTIVITY.Update,
  SYSTEM_POLICY_DISASSOCIATED: ACTIVITY.Update,
};

/** The activity of an event type; a type the service adds later is Other (its name the activity_name). */
export function resiliencehubActivity(eventType: string | undefined): ActivityId {
  if (eventType === undefined) return ACTIVITY.Unknown;
  return Object.hasOwn(EVENT_ACTIVITY, eventType) ? EVENT_ACTIVITY[eventType]! : ACTIVITY.Other;
}

/** EventActor `type` (USER, SYSTEM: https://docs.aws.amazon.com/resilience-hub/v2/APIReference/API_EventActor.html). */
const USER_TYPES: Readonly<Record<string, number>> = { USER: USER_TYPE.User, SYSTEM: USER_TYPE.System };

/** Who acted; absent when the record names no one (the class does not require an actor). */
function actor(record: ArchiveRecord, unmapped: Unmapped): OcsfActor | undefined {
  const source = structOf(record, 'actor');
  const accountId = unmapped.fit(textOf(source, 'accountId'), 'actor.accountId');
  // The principal ID is the only unique identifier of the actor the event carries.
  const uid = unmapped.fit(textOf(source, 'principalId'), 'actor.principalId');
  const name = unmapped.fit(textOf(source, 'userName'), 'actor.userName');
  const type = userType(unmapped.fit(textOf(source, 'type'), 'actor.type'), USER_TYPES);
  if (!accountId && !uid && !name) {
    // The user object needs a uid, name or account: a bare type is kept unmapped instead.
    unmapped.set('actor.type', textOf(source, 'type'));
    return undefined;
  }
  return {
    user: defined({
      uid,
      name,
      ...type,
      account: accountId ? { uid: accountId, ...AWS_ACCOUNT } : undefined,
    }),
  };
}

/** Region and account of an ARN, `arn:<partition>:<service>:<region>:<account>:<resource>`, read leniently. */
function arnParts(arn: string | undefined): { region?: string; accountId?: string } {
  const match = arn ? /^arn:[^:]*:[^:]*:([^:]*):(\d{12}):/.exec(arn) : null;
  return { region: match?.[1] || undefined, accountId: match?.[2] };
}

/**
 * The OCSF Entity Management event of a Resilience Hub system event. Throws only when the record
 * has no event id or timestamp, which an archive record always has.
 */
export function toOcsf(record: ArchiveRecord, context: ResilienceHubOcsfContext = {}): OcsfEntityManagement {
  const id = textOf(record, 'eventId');
  const time = timeOf(record, 'timestamp');
  if (id === undefined || time === undefined)
    throw new Error('a Resilience Hub record has an eventId and a timestamp');
  const unmapped = new Unmapped();
  const eventType = unmapped.fit(textOf(record, 'eventType'), 'eventType');
  const systemArn = unmapped.fit(textOf(record, 'systemArn') ?? context.systemArn, 'systemArn');
  const details = structOf(record, 'eventDetails');
  // No OCSF attribute for these: the title is the short form of the message (the description), the
  // metadata a document whose shape depends on the event type, kept as the exact text archived.
  unmapped.set('eventDetails.title', textOf(details, 'title'));
  unmapped.set('eventDetails.eventMetadata', textOf(details, 'eventMetadata'));
  const { region, accountId } = arnParts(systemArn);
  const cloud: OcsfCloud = defined({
    provider: 'AWS',
    region,
    account: accountId ? { uid: accountId, ...AWS_ACCOUNT } : undefined,
  });
  const who = actor(record, unmapped);

  const event: OcsfEntityManagement = {
    ...classify(ENTITY_MANAGEMENT, resiliencehubActivity(eventType), eventType),
    // A system event records a change the service made; a refused request changes nothing and has
    // no system event. A record of a change is information, not a finding.
    ...severity(SEVERITY.Informational),
    ...status(STATUS.Success),
    time,
    ...defined({ message: unmapped.fit(textOf(details, 'description'), 'eventDetails.description') }),
    metadata: defined({
      version: OCSF_VERSION,
      product: { name: 'AWS Resilience Hub', vendor_name: 'AWS' },
      uid: unmapped.fit(id, 'eventId'),
      original_time: epochSecondsJson(new Date(time)),
      logged_time: context.loggedTime,
      log_name: RESILIENCEHUB_TABLE,
      log_provider: LOG_PROVIDER,
      event_code: eventType,
      profiles: [...PROFILES],
    }),
    cloud,
    ...(who ? { actor: who } : {}),
    entity: systemArn
      ? { uid: systemArn, type: 'Resilience Hub system' }
      : { name: UNKNOWN, type: 'Resilience Hub system' },
  };
  return Object.assign(event, unmapped.toAttribute());
}
