/**
 * A CodeCatalyst event log entry as an OCSF 1.1.0 API Activity event (class 6003,
 * https://schema.ocsf.io/1.1.0/classes/api_activity). The field-by-field table and the rules are in
 * docs/ocsf.md.
 *
 * Input: the archive record (`ArchiveRecord` of CODECATALYST_FIELDS, as `normaliseRecord` shapes it:
 * every field present, `null` where the source sent nothing, `eventTime` a `Date`). Both sides have
 * it for free: the ingest's client normalises each wire entry into it before the day is committed,
 * and a reader of the archive's Parquet (`readParquet`, or the query engines' `recordsFromRows`) gets
 * exactly it. The space is not in the record (it is the partition), so it comes in the context.
 *
 * Pure: no I/O, no clock; the archive's own times come in the context.
 */
import {
  ACTIVITY,
  type ActivityId,
  API_ACTIVITY,
  AWS_ACCOUNT,
  classify,
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
import type { OcsfApi, OcsfApiActivity, OcsfResourceDetails, OcsfUser } from '../../ocsf/types';
import { defined, ipAddress, jsonDocument, structOf, textOf, timeOf, Unmapped } from '../../ocsf/values';
import type { ArchiveRecord } from '../../records';
import { CODECATALYST_TABLE } from './schema';

export interface CodeCatalystOcsfContext {
  /** The space the event belongs to: the record's partition value. */
  space: string;
  /** When the archive logged the event (epoch ms), e.g. its window's first sweep; left out when unknown. */
  loggedTime?: number;
  /** The AWS Region of the space, when known: `cloud.region`. */
  region?: string;
  /** The AWS account the space is billed to, when known: `cloud.account`. */
  accountId?: string;
}

/** The profiles the events use: `cloud` carries the AWS account and Region. */
const PROFILES = ['cloud'];

/**
 * Activity by the verb that starts the event name (`createProject`, `DeleteDevEnvironment`,
 * `listProjects`, `batchGetX` by `get`). Starting or stopping a dev environment or a workflow run,
 * merging or approving a pull request and pushing change something that exists: Update.
 */
const VERB_ACTIVITY: Readonly<Record<string, ActivityId>> = {
  create: ACTIVITY.Create,
  add: ACTIVITY.Create,
  invite: ACTIVITY.Create,
  import: ACTIVITY.Create,
  get: ACTIVITY.Read,
  list: ACTIVITY.Read,
  describe: ACTIVITY.Read,
  search: ACTIVITY.Read,
  query: ACTIVITY.Read,
  verify: ACTIVITY.Read,
  check: ACTIVITY.Read,
  view: ACTIVITY.Read,
  download: ACTIVITY.Read,
  update: ACTIVITY.Update,
  put: ACTIVITY.Update,
  set: ACTIVITY.Update,
  start: ACTIVITY.Update,
  stop: ACTIVITY.Update,
  merge: ACTIVITY.Update,
  approve: ACTIVITY.Update,
  push: ACTIVITY.Update,
  sync: ACTIVITY.Update,
  associate: ACTIVITY.Update,
  disassociate: ACTIVITY.Update,
  enable: ACTIVITY.Update,
  disable: ACTIVITY.Update,
  tag: ACTIVITY.Update,
  untag: ACTIVITY.Update,
  cancel: ACTIVITY.Update,
  close: ACTIVITY.Update,
  reopen: ACTIVITY.Update,
  restore: ACTIVITY.Update,
  delete: ACTIVITY.Delete,
  remove: ACTIVITY.Delete,
  revoke: ACTIVITY.Delete,
};

/** The verb of an event name: its first word, lower case, past a `batch` prefix. */
function verbOf(eventName: string): string {
  const words = eventName.match(/[A-Z]?[a-z]+/g) ?? [];
  const [first, second] = words.map((w) => w.toLowerCase());
  return first === 'batch' && second ? second : (first ?? '');
}

/**
 * The activity of an event. `operationType` is the service's own word on whether anything changed,
 * so READONLY is Read whatever the name says; a MUTATION is what its verb says, unless the verb reads
 * (then it is Other, as is an unknown verb); without an operation type the verb decides alone.
 */
export function codecatalystActivity(
  eventName: string | undefined,
  operationType: string | undefined,
): ActivityId {
  if (operationType === 'READONLY') return ACTIVITY.Read;
  if (eventName === undefined) return operationType === 'MUTATION' ? ACTIVITY.Other : ACTIVITY.Unknown;
  const verb = verbOf(eventName);
  const activity = Object.hasOwn(VERB_ACTIVITY, verb) ? VERB_ACTIVITY[verb]! : ACTIVITY.Other;
  return operationType === 'MUTATION' && activity === ACTIVITY.Read ? ACTIVITY.Other : activity;
}

/** CodeCatalyst `userType` (USER, AWS_ACCOUNT, UNKNOWN) to `user.type_id`; AWS_ACCOUNT is Other. */
const USER_TYPES: Readonly<Record<string, number>> = { USER: USER_TYPE.User, UNKNOWN: USER_TYPE.Unknown };

function user(identity: ArchiveRecord | undefined, unmapped: Unmapped): OcsfUser {
  const accountId = textOf(identity, 'awsAccountId');
  const out: OcsfUser = defined({
    uid: unmapped.fit(textOf(identity, 'principalId'), 'userIdentity.principalId'),
    name: unmapped.fit(textOf(identity, 'userName'), 'userIdentity.userName'),
    ...userType(unmapped.fit(textOf(identity, 'userType'), 'userIdentity.userType'), USER_TYPES),
    account: accountId
      ? { uid: unmapped.fit(accountId, 'userIdentity.awsAccountId'), ...AWS_ACCOUNT }
      : undefined,
  });
  // The user object needs a name, uid or account; the API always sends them, a damaged record may not.
  if (!out.uid && !out.name && !out.account) {
    out.name = UNKNOWN;
    out.type_id ??= USER_TYPE.Unknown;
    out.type ??= UNKNOWN;
  }
  return out;
}

/** A payload's document for `api.request.data` / `api.response.data`; its text and content type kept when needed. */
function payload(
  record: ArchiveRecord,
  field: 'requestPayload' | 'responsePayload',
  placed: boolean,
  unmapped: Unmapped,
): unknown {
  const struct = structOf(record, field);
  unmapped.set(`${field}.contentType`, textOf(struct, 'contentType'));
  const data = textOf(struct, 'data');
  if (data === undefined) return undefined;
  const json = placed ? jsonDocument(data) : undefined;
  if (!json?.exact) unmapped.set(`${field}.data`, data);
  return json?.document;
}

/** The event's `api`: operation, service, request and response. */
function api(record: ArchiveRecord, errorCode: string | undefined, unmapped: Unmapped): OcsfApi {
  const requestId = unmapped.fit(textOf(record, 'requestId'), 'requestId');
  // request.uid is required in a request object: without a request id the payload stays unmapped.
  const requestData = payload(record, 'requestPayload', requestId !== undefined, unmapped);
  const responseData = payload(record, 'responsePayload', true, unmapped);
  const eventSource = unmapped.fit(textOf(record, 'eventSource'), 'eventSource');
  const response = defined({ error: errorCode, data: responseData });
  return defined({
    operation: unmapped.fit(textOf(record, 'eventName'), 'eventName') ?? UNKNOWN,
    service: eventSource ? { name: eventSource } : undefined,
    request: requestId ? defined({ uid: requestId, data: requestData }) : undefined,
    response: Object.keys(response).length > 0 ? response : undefined,
  });
}

/** The space, and the project when the event has one. */
function resources(record: ArchiveRecord, space: string, unmapped: Unmapped): OcsfResourceDetails[] {
  const out: OcsfResourceDetails[] = [{ type: 'CodeCatalyst space', name: unmapped.fit(space, 'space') }];
  const project = structOf(record, 'projectInformation');
  const name = unmapped.fit(textOf(project, 'name'), 'projectInformation.name');
  const uid = unmapped.fit(textOf(project, 'projectId'), 'projectInformation.projectId');
  if (name || uid) out.push(defined({ type: 'CodeCatalyst project', name, uid }));
  return out;
}

/**
 * The OCSF API Activity event of a CodeCatalyst event log entry. Throws only when the record has no
 * id or event time, which an archive record always has.
 */
export function toOcsf(record: ArchiveRecord, context: CodeCatalystOcsfContext): OcsfApiActivity {
  const id = textOf(record, 'id');
  const time = timeOf(record, 'eventTime');
  if (id === undefined || time === undefined)
    throw new Error('a CodeCatalyst record has an id and an eventTime');
  const unmapped = new Unmapped();
  const eventName = textOf(record, 'eventName');
  const operationType = textOf(record, 'operationType');
  const errorCode = unmapped.fit(textOf(record, 'errorCode'), 'errorCode');
  const activityId = codecatalystActivity(eventName, operationType);
  // No OCSF attribute for these: the activity is derived from operationType, not equal to it.
  unmapped.set('eventType', textOf(record, 'eventType'));
  unmapped.set('eventCategory', textOf(record, 'eventCategory'));
  unmapped.set('operationType', operationType);

  const sourceAddress = textOf(record, 'sourceIpAddress');
  const ip = ipAddress(sourceAddress);
  const userAgent = unmapped.fit(textOf(record, 'userAgent'), 'userAgent');
  const event: OcsfApiActivity = {
    ...classify(API_ACTIVITY, activityId, unmapped.fit(eventName, 'eventName')),
    // A failed call is worth a look but is routine (throttling, validation): Low, not more.
    ...severity(errorCode ? SEVERITY.Low : SEVERITY.Informational),
    ...status(errorCode ? STATUS.Failure : STATUS.Success),
    ...(errorCode ? { status_code: errorCode } : {}),
    time,
    metadata: defined({
      version: OCSF_VERSION,
      product: { name: 'Amazon CodeCatalyst', vendor_name: 'AWS' },
      uid: unmapped.fit(id, 'id'),
      original_time: new Date(time).toISOString(),
      logged_time: context.loggedTime,
      log_name: CODECATALYST_TABLE,
      log_provider: LOG_PROVIDER,
      profiles: [...PROFILES],
    }),
    cloud: defined({
      provider: 'AWS',
      region: context.region,
      account: context.accountId ? { uid: context.accountId, ...AWS_ACCOUNT } : undefined,
    }),
    actor: { user: user(structOf(record, 'userIdentity'), unmapped) },
    api: api(record, errorCode, unmapped),
    // An AWS service calling on a user's behalf sends its service name where the address goes
    // (`codecatalyst.amazonaws.com`): that is `svc_name`. The endpoint needs one of them.
    src_endpoint: ip ? { ip } : { svc_name: unmapped.fit(sourceAddress, 'sourceIpAddress') ?? UNKNOWN },
    ...(userAgent ? { http_request: { user_agent: userAgent } } : {}),
    resources: resources(record, context.space, unmapped),
  };
  return Object.assign(event, unmapped.toAttribute());
}
