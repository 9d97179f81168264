/**
 * OCSF 1.1.0 constants the mappings share: the two classes, the activity, status and severity
 * enums (https://schema.ocsf.io/1.1.0/dictionary: `activity_id`, `status_id`, `severity_id`), the
 * user and account types, and the classification attributes of an event.
 */

export const OCSF_VERSION = '1.1.0';

/** Written as `metadata.log_provider`: the archive logged the event; the source service produced it. */
export const LOG_PROVIDER = 'eventlog-archive';

/**
 * What a mapping writes where OCSF requires a value the source did not send: the caption OCSF itself
 * uses for an unknown value (every `*_id` enum's 0).
 */
export const UNKNOWN = 'Unknown';

export interface OcsfClass {
  class_uid: number;
  class_name: string;
  category_uid: number;
  category_name: string;
}

/** https://schema.ocsf.io/1.1.0/classes/api_activity */
export const API_ACTIVITY: OcsfClass = {
  class_uid: 6003,
  class_name: 'API Activity',
  category_uid: 6,
  category_name: 'Application Activity',
};

/** https://schema.ocsf.io/1.1.0/classes/entity_management */
export const ENTITY_MANAGEMENT: OcsfClass = {
  class_uid: 3004,
  class_name: 'Entity Management',
  category_uid: 3,
  category_name: 'Identity & Access Management',
};

/** `activity_id` of both classes: the same CRUD values. */
export const ACTIVITY = { Unknown: 0, Create: 1, Read: 2, Update: 3, Delete: 4, Other: 99 } as const;
export type ActivityId = (typeof ACTIVITY)[keyof typeof ACTIVITY];

export const STATUS = { Unknown: 0, Success: 1, Failure: 2, Other: 99 } as const;
export type StatusId = (typeof STATUS)[keyof typeof STATUS];

export const SEVERITY = {
  Unknown: 0,
  Informational: 1,
  Low: 2,
  Medium: 3,
  High: 4,
  Critical: 5,
  Fatal: 6,
  Other: 99,
} as const;
export type SeverityId = (typeof SEVERITY)[keyof typeof SEVERITY];

/** `user.type_id`, https://schema.ocsf.io/1.1.0/objects/user */
export const USER_TYPE = { Unknown: 0, User: 1, Admin: 2, System: 3, Other: 99 } as const;

/** `account.type_id` 10, https://schema.ocsf.io/1.1.0/objects/account */
export const AWS_ACCOUNT = { type_id: 10, type: 'AWS Account' } as const;

const captionOf = <T extends Record<string, number>>(enumeration: T, id: number): string =>
  Object.entries(enumeration).find(([, value]) => value === id)?.[0] ?? UNKNOWN;

/**
 * The classification attributes of an event of `eventClass`: `activity_name` is the activity's
 * caption, or for Other (99) the source's own word (`otherName`), as OCSF asks of a sibling; `type_name`
 * is always the `type_uid` caption, `<class>: <activity>`.
 */
export function classify(
  eventClass: OcsfClass,
  activityId: ActivityId,
  otherName?: string,
): OcsfClass & { activity_id: number; activity_name: string; type_uid: number; type_name: string } {
  const caption = captionOf(ACTIVITY, activityId);
  return {
    ...eventClass,
    activity_id: activityId,
    activity_name: activityId === ACTIVITY.Other && otherName ? otherName : caption,
    type_uid: eventClass.class_uid * 100 + activityId,
    type_name: `${eventClass.class_name}: ${caption}`,
  };
}

/** `status_id` with its caption `status`. */
export function status(statusId: StatusId): { status_id: number; status: string } {
  return { status_id: statusId, status: captionOf(STATUS, statusId) };
}

/** `severity_id` with its caption `severity`. */
export function severity(severityId: SeverityId): { severity_id: number; severity: string } {
  return { severity_id: severityId, severity: captionOf(SEVERITY, severityId) };
}

/**
 * `user.type_id` and `user.type` from a source's user type: the OCSF caption for the values that
 * map, or Other (99) with the source's own word, so the source value can always be read back.
 */
export function userType(
  sourceType: string | undefined,
  known: Readonly<Record<string, number>>,
): { type_id: number; type: string } | undefined {
  if (sourceType === undefined) return undefined;
  const id = Object.hasOwn(known, sourceType) ? known[sourceType] : undefined;
  if (id === undefined || id === USER_TYPE.Other) return { type_id: USER_TYPE.Other, type: sourceType };
  return { type_id: id, type: captionOf(USER_TYPE, id) };
}
