/**
 * The validator catches each kind of problem, named by its attribute path and rule, and accepts a
 * valid event of each class unchanged. Each case breaks one thing in a valid event.
 */
import { describe, expect, it } from 'vitest';
import { toOcsf as codecatalystToOcsf } from '../../../lambdas/core/sources/codecatalyst/ocsf';
import { toOcsf as resiliencehubToOcsf } from '../../../lambdas/core/sources/resiliencehub/ocsf';
import { codecatalystRecords, problemsOf, resiliencehubRecords, wireEntry, wireSystemEvent } from './records';

type Json = Record<string, unknown>;
/** A change to an event: the value at a dotted path, or `undefined` to delete it. */
type Edit = [path: string, value: unknown];

/** A fresh valid API Activity event, as a plain JSON object to break. */
function apiEvent(...edits: Edit[]): Json {
  const [record] = codecatalystRecords([wireEntry()]);
  return edited(
    structuredClone(codecatalystToOcsf(record!, { space: 'demo-space' })) as unknown as Json,
    edits,
  );
}

function entityEvent(...edits: Edit[]): Json {
  const [record] = resiliencehubRecords([wireSystemEvent()]);
  return edited(structuredClone(resiliencehubToOcsf(record!)) as unknown as Json, edits);
}

function edited(event: Json, edits: readonly Edit[]): Json {
  for (const [path, value] of edits) {
    const keys = path.split('.');
    let target = event;
    for (const key of keys.slice(0, -1)) target = target[key] as Json;
    if (value === undefined) delete target[keys.at(-1)!];
    else target[keys.at(-1)!] = value;
  }
  return event;
}

describe('validateOcsf accepts', () => {
  it('a valid event of each class', () => {
    expect(problemsOf(apiEvent())).toEqual([]);
    expect(problemsOf(entityEvent())).toEqual([]);
  });

  it.each<[string, Edit[]]>([
    [
      'anything in unmapped, an open object',
      [['unmapped', { nested: { deep: [1, { x: null }] }, n: 1, t: true }]],
    ],
    [
      'null as absent, as OCSF JSON does',
      [
        ['message', null],
        ['api.version', null],
      ],
    ],
    [
      'Other (99) with the source’s own caption',
      [
        ['activity_id', 99],
        ['activity_name', 'frobnicateThing'],
        ['type_uid', 600399],
        ['type_name', 'API Activity: Other'],
      ],
    ],
    [
      'a profile attribute when its profile is named',
      [
        ['metadata.profiles', ['cloud', 'datetime']],
        ['time_dt', '2026-05-20T09:30:01.234Z'],
        ['metadata.logged_time_dt', '2026-05-20T09:31:00Z'],
      ],
    ],
    [
      'integers as numbers or bigints within their OCSF range',
      [
        ['count', 2 ** 53 - 1],
        ['type_uid', 600301n],
      ],
    ],
  ])('%s', (_, edits) => {
    expect(problemsOf(apiEvent(...edits))).toEqual([]);
  });
});

describe('validateOcsf reports', () => {
  it.each<[string, Edit[], string]>([
    [
      'a missing required attribute',
      [['time', undefined]],
      'time: required attribute of class api_activity is missing',
    ],
    [
      'a missing required attribute of an object',
      [['api.operation', undefined]],
      'api.operation: required attribute of object api is missing',
    ],
    [
      'a missing required attribute of a nested object',
      [['metadata.product', { name: 'x' }]],
      'metadata.product.vendor_name: required attribute of object product is missing',
    ],
    [
      'a wrong type',
      [['time', '2026-05-20T09:30:01Z']],
      'time: expected timestamp_t (long_t), got "2026-05-20T09:30:01Z"',
    ],
    ['a fractional integer', [['severity_id', 1.5]], 'severity_id: expected integer_t, got 1.5'],
    [
      'an object where a string goes',
      [['message', { text: 'x' }]],
      'message: expected string_t, got {"text":"x"}',
    ],
    [
      'a string where an object goes',
      [['api', 'createProject']],
      'api: expected a api object, got "createProject"',
    ],
    [
      'a value where an array goes',
      [['resources', { type: 'CodeCatalyst space', name: 'demo-space' }]],
      'resources: expected an array of resource_details, got {"type":"CodeCatalyst space","name":"demo-space"}',
    ],
    [
      'a string that breaks its type’s pattern',
      [['src_endpoint.ip', '300.1.2.3']],
      'src_endpoint.ip: "300.1.2.3" is not a valid ip_t (does not match its pattern)',
    ],
    [
      'a string beyond its type’s length',
      [['src_endpoint.ip', `::${'0'.repeat(40)}`]],
      'src_endpoint.ip: ip_t is at most 40 characters long, got 42',
    ],
    [
      'a number outside its type’s range',
      [['src_endpoint.port', 70_000]],
      'src_endpoint.port: port_t is within 0..65535, got 70000',
    ],
    [
      'a wrong type in an array',
      [['api.request.flags', [true]]],
      'api.request.flags[0]: expected string_t, got true',
    ],
    [
      'an unknown attribute',
      [['nickname', 'Mary']],
      'nickname: unknown attribute: class api_activity does not define "nickname"',
    ],
    [
      'an unknown attribute named like an Object.prototype member',
      [['constructor', 'x']],
      'constructor: unknown attribute: class api_activity does not define "constructor"',
    ],
    [
      'an enum value named like an Object.prototype member',
      [['http_request.http_method', 'toString']],
      'http_request.http_method: "toString" is not a defined value (CONNECT Connect, DELETE Delete, GET Get, HEAD Head, OPTIONS Options, POST Post, PUT Put, TRACE Trace)',
    ],
    [
      'an unknown attribute of an object',
      [['actor.user.nickname', 'Mary']],
      'actor.user.nickname: unknown attribute: object user does not define "nickname"',
    ],
    [
      'a bad enum value',
      [['severity_id', 42]],
      'severity_id: 42 is not a defined value (0 Unknown, 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical, 6 Fatal, 99 Other)',
    ],
    [
      'a bad enum value of an object',
      [['actor.user.type_id', 7]],
      'actor.user.type_id: 7 is not a defined value (0 Unknown, 1 User, 2 Admin, 3 System, 99 Other)',
    ],
    [
      'a caption that does not match its enum value',
      [['status', 'OK']],
      'status: must be the caption of status_id 1, "Success", got "OK"',
    ],
    [
      'an activity caption that does not match',
      [['activity_name', 'Delete']],
      'activity_name: must be the caption of activity_id 1, "Create", got "Delete"',
    ],
    [
      'an inconsistent type_uid',
      [
        ['type_uid', 600302],
        ['type_name', 'API Activity: Read'],
      ],
      'type_uid: must be class_uid × 100 + activity_id = 600301, got 600302',
    ],
    [
      'a type_uid of another class',
      [['type_uid', 300401]],
      'type_uid: 300401 is not a defined value (600300 API Activity: Unknown, 600301 API Activity: Create, 600302 API Activity: Read, 600303 API Activity: Update, 600304 API Activity: Delete, 600399 API Activity: Other)',
    ],
    [
      'a category that is not the class’s',
      [['category_uid', 3]],
      'category_uid: 3 is not a defined value (6 Application Activity)',
    ],
    [
      'a class name that is not the class’s',
      [['class_name', 'Entity Management']],
      'class_name: must be the caption of class_uid 6003, "API Activity", got "Entity Management"',
    ],
    [
      'a profile attribute without its profile',
      [['metadata.profiles', []]],
      'cloud: attribute of the "cloud" profile, which metadata.profiles does not name',
    ],
    [
      'a generated Date/Time attribute without the datetime profile',
      [['time_dt', '2026-05-20T09:30:01Z']],
      'time_dt: attribute of the "datetime" profile, which metadata.profiles does not name',
    ],
    [
      'a profile the schema does not define',
      [['metadata.profiles', ['cloud', 'mainframe']]],
      'metadata.profiles[1]: "mainframe" is not a profile of OCSF 1.1.0',
    ],
    [
      'an object that breaks an at_least_one constraint',
      [['actor.user', { type_id: 1, type: 'User' }]],
      'actor.user: object user needs at least one of account, name, uid',
    ],
    [
      'an empty actor',
      [['actor', {}]],
      'actor: object actor needs at least one of process, user, invoked_by, session',
    ],
    [
      'another OCSF version',
      [['metadata.version', '1.3.0']],
      'metadata.version: must be the schema version "1.1.0", got "1.3.0"',
    ],
    [
      'an integer beyond integer_t',
      [['count', 2n ** 63n]],
      'count: expected integer_t, got 9223372036854775808',
    ],
  ])('%s', (_, edits, problem) => {
    expect(problemsOf(apiEvent(...edits))).toContain(problem);
  });

  it('only the problem that was made', () => {
    expect(problemsOf(apiEvent(['actor.user.nickname', 'Mary']))).toEqual([
      'actor.user.nickname: unknown attribute: object user does not define "nickname"',
    ]);
  });

  it('every problem of an event, each once', () => {
    const event = apiEvent(['api', undefined], ['severity_id', 9], ['extra', true]);
    expect(problemsOf(event).sort()).toEqual([
      'api: required attribute of class api_activity is missing',
      'extra: unknown attribute: class api_activity does not define "extra"',
      'severity_id: 9 is not a defined value (0 Unknown, 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical, 6 Fatal, 99 Other)',
    ]);
  });

  it('Entity Management’s actor without the host profile it belongs to in OCSF 1.1.0', () => {
    expect(problemsOf(entityEvent(['metadata.profiles', ['cloud']]))).toEqual([
      'actor: attribute of the "host" profile, which metadata.profiles does not name',
    ]);
  });

  it('a missing required entity', () => {
    expect(problemsOf(entityEvent(['entity', undefined]))).toEqual([
      'entity: required attribute of class entity_management is missing',
    ]);
  });

  it('an event that is not an object, or of no class the schema has', () => {
    expect(problemsOf([] as unknown as Json)).toEqual(['(event): expected an object, got []']);
    expect(problemsOf({})).toEqual(['class_uid: required attribute is missing']);
    expect(problemsOf({ class_uid: 4001 })).toEqual([
      'class_uid: 4001 is not a class of the schema (6003 api_activity, 3004 entity_management)',
    ]);
  });
});
