/**
 * CodeCatalyst event log entries as OCSF API Activity events: every event of the demo month and of
 * the benchmark's generator is valid OCSF 1.1.0; each mapping rule of docs/ocsf.md holds; and
 * entries the demo never has (no identity, unknown names and operation types, control characters,
 * 200 KB payloads, only the required fields, arbitrary values) still map to valid events that
 * keep every source value.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { demoSpaceEvents } from '../../../bin/demo/codecatalyst-events';
import { ACTIVITY, type OcsfApiActivity } from '../../../lambdas/core/ocsf';
import { decodeParquet, encodeParquet } from '../../../lambdas/core/parquet';
import { sortRecords } from '../../../lambdas/core/records';
import { codecatalystDefinition } from '../../../lambdas/core/sources/codecatalyst/definition';
import { codecatalystActivity, toOcsf } from '../../../lambdas/core/sources/codecatalyst/ocsf';
import { CODECATALYST_FIELDS } from '../../../lambdas/core/sources/codecatalyst/schema';
import { generateEvents } from '../../support/sample-events';
import { codecatalystRecords, problemsOf, wireEntry } from './records';

// A fixed instant and seed: the demo's month is the same at every run.
const NOW = Date.UTC(2026, 4, 20, 9, 30);
const CONTEXT = { space: 'demo-space' };

/** The OCSF event of one wire entry. */
function mapped(
  entry: Record<string, unknown>,
  context: Parameters<typeof toOcsf>[1] = CONTEXT,
): OcsfApiActivity {
  return toOcsf(codecatalystRecords([entry])[0]!, context);
}

/** Every problem of every event, prefixed with the event's id (empty when all are valid). */
function problemsOfAll(events: readonly OcsfApiActivity[]): string[] {
  return events.flatMap((e) => problemsOf(e).map((p) => `${e.metadata.uid}: ${p}`));
}

describe('the demo month', () => {
  const demo = demoSpaceEvents({ nowMs: NOW, seed: 2024 });
  const records = codecatalystRecords(demo.events);
  const events = records.map((r) => toOcsf(r, CONTEXT));

  it('maps every event to a valid API Activity event', () => {
    expect(events).toHaveLength(20_000);
    expect(problemsOfAll(events)).toEqual([]);
  });

  it('has every CRUD activity, failures as Failure/Low, and service calls by service name', () => {
    const activities = new Set(events.map((e) => e.activity_name));
    expect([...activities].sort()).toEqual(['Create', 'Delete', 'Read', 'Update']);
    const failures = events.filter((e) => e.status_id === 2);
    expect(failures.length).toBe(demo.events.filter((e) => e.errorCode).length);
    expect(failures.every((f) => f.severity === 'Low' && f.api.response?.error === f.status_code)).toBe(true);
    const serviceCalls = events.filter((e) => e.src_endpoint.svc_name === 'codecatalyst.amazonaws.com');
    expect(serviceCalls.length).toBeGreaterThan(0);
    expect(events.every((e) => e.src_endpoint.ip ?? e.src_endpoint.svc_name)).toBe(true);
  });

  it('keeps each payload as the exact JSON document it was', () => {
    for (const [i, entry] of demo.events.entries()) {
      const api = events[i]!.api;
      if (entry.requestPayload?.data)
        expect(JSON.stringify(api.request?.data)).toBe(entry.requestPayload.data);
      if (entry.responsePayload?.data)
        expect(JSON.stringify(api.response?.data)).toBe(entry.responsePayload.data);
    }
    expect(events.some((e) => e.unmapped?.['requestPayload.data'] !== undefined)).toBe(false);
  });

  it('maps what an exporter reads back from the archive’s Parquet exactly as what the ingest holds', async () => {
    const day = sortRecords(codecatalystDefinition, records.slice(0, 3000));
    const read = await decodeParquet(CODECATALYST_FIELDS, encodeParquet(CODECATALYST_FIELDS, day));
    expect(read.map((r) => toOcsf(r, CONTEXT))).toEqual(day.map((r) => toOcsf(r, CONTEXT)));
  });

  it('maps another seed’s month and the benchmark’s events too', () => {
    const other = demoSpaceEvents({ nowMs: NOW + 86_400_000 * 40, seed: 7, count: 3000 }).events;
    const bench = generateEvents({ count: 5000, fromMs: NOW - 86_400_000, toMs: NOW, seed: 11 });
    const all = codecatalystRecords([...other, ...bench]).map((r) => toOcsf(r, CONTEXT));
    expect(problemsOfAll(all)).toEqual([]);
  });
});

describe('toOcsf (CodeCatalyst)', () => {
  it('maps each field where docs/ocsf.md says', () => {
    const event = mapped(wireEntry(), {
      space: 'demo-space',
      region: 'us-west-2',
      accountId: '123456789012',
      loggedTime: Date.parse('2026-05-20T09:45:00Z'),
    });
    expect(event).toEqual({
      class_uid: 6003,
      class_name: 'API Activity',
      category_uid: 6,
      category_name: 'Application Activity',
      activity_id: 1,
      activity_name: 'Create',
      type_uid: 600301,
      type_name: 'API Activity: Create',
      severity_id: 1,
      severity: 'Informational',
      status_id: 1,
      status: 'Success',
      time: Date.parse('2026-05-20T09:30:01.234Z'),
      metadata: {
        version: '1.1.0',
        product: { name: 'Amazon CodeCatalyst', vendor_name: 'AWS' },
        uid: '0b6f4c1e-4a36-4c43-9a8e-6b0f3f1d2c11',
        original_time: '2026-05-20T09:30:01.234Z',
        logged_time: Date.parse('2026-05-20T09:45:00Z'),
        log_name: 'codecatalyst_event_logs',
        log_provider: 'eventlog-archive',
        profiles: ['cloud'],
      },
      cloud: {
        provider: 'AWS',
        region: 'us-west-2',
        account: { uid: '123456789012', type_id: 10, type: 'AWS Account' },
      },
      actor: {
        user: { uid: 'a1b2c3d4-0000-4000-8000-000000000001', name: 'MaryMajor', type_id: 1, type: 'User' },
      },
      api: {
        operation: 'createProject',
        service: { name: 'manage' },
        request: {
          uid: 'd00dfeed-0000-4000-8000-000000000003',
          data: { spaceName: 'demo-space', displayName: 'checkout' },
        },
        response: { data: { name: 'checkout-service' } },
      },
      src_endpoint: { ip: '198.51.100.7' },
      http_request: { user_agent: 'aws-cli/2.22.4' },
      resources: [
        { type: 'CodeCatalyst space', name: 'demo-space' },
        {
          type: 'CodeCatalyst project',
          name: 'checkout-service',
          uid: 'c0ffee00-0000-4000-8000-000000000002',
        },
      ],
      unmapped: {
        eventType: 'AwsApiCall',
        eventCategory: 'MANAGEMENT',
        operationType: 'MUTATION',
        'requestPayload.contentType': 'application/json',
        'responsePayload.contentType': 'application/json',
      },
    });
    expect(problemsOf(event)).toEqual([]);
  });

  it.each([
    ['createProject', 'MUTATION', ACTIVITY.Create],
    ['CreateProject', 'MUTATION', ACTIVITY.Create],
    ['DeleteDevEnvironment', 'MUTATION', ACTIVITY.Delete],
    ['revokeAccessToken', 'MUTATION', ACTIVITY.Delete],
    ['updateSpaceMembership', 'MUTATION', ACTIVITY.Update],
    ['startDevEnvironment', 'MUTATION', ACTIVITY.Update],
    ['mergePullRequestBySquash', 'MUTATION', ACTIVITY.Update],
    ['listProjects', 'READONLY', ACTIVITY.Read],
    ['GetSpace', 'READONLY', ACTIVITY.Read],
    ['batchGetProjects', undefined, ACTIVITY.Read],
    // READONLY is the service's word that nothing changed, whatever the name says.
    ['createAccessTokenPreview', 'READONLY', ACTIVITY.Read],
    // A mutation named like a read is not a Read.
    ['getOrCreateThing', 'MUTATION', ACTIVITY.Other],
    ['frobnicateWidget', 'MUTATION', ACTIVITY.Other],
    ['frobnicateWidget', undefined, ACTIVITY.Other],
    ['deleteProject', 'SOMETHING_NEW', ACTIVITY.Delete],
    ['日本語', 'MUTATION', ACTIVITY.Other],
    // Names of Object.prototype members are verbs like any other.
    ['constructorThing', 'MUTATION', ACTIVITY.Other],
    ['toString', undefined, ACTIVITY.Other],
    [undefined, 'MUTATION', ACTIVITY.Other],
    [undefined, 'READONLY', ACTIVITY.Read],
    [undefined, undefined, ACTIVITY.Unknown],
  ] as const)('activity of %s (%s) is %s', (eventName, operationType, activity) => {
    expect(codecatalystActivity(eventName, operationType)).toBe(activity);
  });

  it('names an Other activity by the event name, and a type_name by the caption', () => {
    const event = mapped(wireEntry({ eventName: 'frobnicateWidget' }));
    expect(event).toMatchObject({
      activity_id: 99,
      activity_name: 'frobnicateWidget',
      type_uid: 600399,
      type_name: 'API Activity: Other',
    });
    expect(problemsOf(event)).toEqual([]);
  });

  it('maps an error call to Failure, Low, with its error code', () => {
    const event = mapped(wireEntry({ errorCode: 'AccessDeniedException', responsePayload: undefined }));
    expect(event).toMatchObject({
      status_id: 2,
      status: 'Failure',
      status_code: 'AccessDeniedException',
      severity_id: 2,
      severity: 'Low',
    });
    expect(event.api.response).toEqual({ error: 'AccessDeniedException' });
    expect(problemsOf(event)).toEqual([]);
  });

  it('maps an entry without a user identity to an Unknown user', () => {
    const event = mapped(wireEntry({ userIdentity: undefined }));
    expect(event.actor).toEqual({ user: { name: 'Unknown', type_id: 0, type: 'Unknown' } });
    expect(problemsOf(event)).toEqual([]);
  });

  it('maps an AWS account identity as Other with its account', () => {
    const event = mapped(
      wireEntry({
        userIdentity: {
          userType: 'AWS_ACCOUNT',
          principalId: 'p-1',
          userName: 'billing',
          awsAccountId: '123456789012',
        },
      }),
    );
    expect(event.actor.user).toEqual({
      uid: 'p-1',
      name: 'billing',
      type_id: 99,
      type: 'AWS_ACCOUNT',
      account: { uid: '123456789012', type_id: 10, type: 'AWS Account' },
    });
    expect(problemsOf(event)).toEqual([]);
  });

  it('maps an entry with only its required fields, filling what OCSF requires with Unknown', () => {
    const event = mapped({ id: 'only-id', eventTime: '2026-05-20T00:00:00Z' });
    expect(event).toEqual({
      class_uid: 6003,
      class_name: 'API Activity',
      category_uid: 6,
      category_name: 'Application Activity',
      activity_id: 0,
      activity_name: 'Unknown',
      type_uid: 600300,
      type_name: 'API Activity: Unknown',
      severity_id: 1,
      severity: 'Informational',
      status_id: 1,
      status: 'Success',
      time: Date.parse('2026-05-20T00:00:00Z'),
      metadata: {
        version: '1.1.0',
        product: { name: 'Amazon CodeCatalyst', vendor_name: 'AWS' },
        uid: 'only-id',
        original_time: '2026-05-20T00:00:00.000Z',
        log_name: 'codecatalyst_event_logs',
        log_provider: 'eventlog-archive',
        profiles: ['cloud'],
      },
      cloud: { provider: 'AWS' },
      actor: { user: { name: 'Unknown', type_id: 0, type: 'Unknown' } },
      api: { operation: 'Unknown' },
      src_endpoint: { svc_name: 'Unknown' },
      resources: [{ type: 'CodeCatalyst space', name: 'demo-space' }],
    });
    expect(problemsOf(event)).toEqual([]);
  });

  it('keeps addresses that are not IP addresses as the calling service’s name, and IPv6 as an address', () => {
    expect(mapped(wireEntry({ sourceIpAddress: 'codecatalyst.amazonaws.com' })).src_endpoint).toEqual({
      svc_name: 'codecatalyst.amazonaws.com',
    });
    expect(mapped(wireEntry({ sourceIpAddress: '2001:db8::7' })).src_endpoint).toEqual({ ip: '2001:db8::7' });
    const odd = mapped(wireEntry({ sourceIpAddress: '198.51.100.7, 10.0.0.1' }));
    expect(odd.src_endpoint).toEqual({ svc_name: '198.51.100.7, 10.0.0.1' });
    expect(problemsOf(odd)).toEqual([]);
  });

  it('keeps control characters and unicode exactly, in every field', () => {
    const weird = 'Zoë \u0000\u0007\u001b[31m\t\n\u2028 🚀 مرحبا e\u0301 "quoted" \\ back';
    const event = mapped(
      wireEntry({
        eventName: `create${weird}`,
        eventSource: weird,
        userIdentity: { userType: weird, principalId: weird, userName: weird },
        projectInformation: { name: weird, projectId: weird },
        requestId: weird,
        errorCode: weird,
        sourceIpAddress: weird,
        userAgent: weird,
        eventType: weird,
      }),
      { space: weird },
    );
    expect(problemsOf(event)).toEqual([]);
    expect(event.api.operation).toBe(`create${weird}`);
    expect(event.actor.user).toEqual({ uid: weird, name: weird, type_id: 99, type: weird });
    expect(event.src_endpoint).toEqual({ svc_name: weird });
    expect(event.status_code).toBe(weird);
    expect(event.unmapped?.eventType).toBe(weird);
  });

  it('keeps a 200 KB JSON payload as its document', () => {
    const data = JSON.stringify({
      files: Array.from({ length: 2000 }, (_, i) => ({ path: `src/${i}.ts`, body: 'x'.repeat(80) })),
    });
    expect(data.length).toBeGreaterThan(200_000);
    const event = mapped(wireEntry({ requestPayload: { contentType: 'application/json', data } }));
    expect(JSON.stringify(event.api.request?.data)).toBe(data);
    expect(event.unmapped?.['requestPayload.data']).toBeUndefined();
    expect(problemsOf(event)).toEqual([]);
  });

  it('keeps a payload that is not JSON, or not compact JSON, as its text in unmapped', () => {
    const text = `binary-ish \u0000 ${'y'.repeat(200_000)}`;
    const notJson = mapped(
      wireEntry({ requestPayload: { contentType: 'application/octet-stream', data: text } }),
    );
    expect(notJson.api.request).toEqual({ uid: 'd00dfeed-0000-4000-8000-000000000003' });
    expect(notJson.unmapped?.['requestPayload.data']).toBe(text);
    expect(notJson.unmapped?.['requestPayload.contentType']).toBe('application/octet-stream');
    expect(problemsOf(notJson)).toEqual([]);

    const pretty = '{\n  "n": 12345678901234567890\n}';
    const loose = mapped(wireEntry({ responsePayload: { data: pretty } }));
    expect(loose.api.response?.data).toEqual(JSON.parse(pretty));
    expect(loose.unmapped?.['responsePayload.data']).toBe(pretty);
    expect(problemsOf(loose)).toEqual([]);
  });

  it('keeps a request payload without a request id in unmapped (a request object needs its uid)', () => {
    const event = mapped(wireEntry({ requestId: undefined }));
    expect(event.api.request).toBeUndefined();
    expect(event.unmapped?.['requestPayload.data']).toBe(
      '{"spaceName":"demo-space","displayName":"checkout"}',
    );
    expect(problemsOf(event)).toEqual([]);
  });

  it('cuts a string longer than string_t allows and keeps it whole in unmapped', () => {
    const agent = `agent/${'🚀'.repeat(70_000)}`;
    const event = mapped(wireEntry({ userAgent: agent }));
    expect(Array.from(event.http_request!.user_agent!)).toHaveLength(65_535);
    expect(event.unmapped?.userAgent).toBe(agent);
    expect(problemsOf(event)).toEqual([]);
  });

  it('is pure: the record is untouched and the same record maps the same way', () => {
    const [record] = codecatalystRecords([wireEntry()]);
    const before = structuredClone(record);
    const first = toOcsf(record!, CONTEXT);
    expect(toOcsf(record!, CONTEXT)).toEqual(first);
    expect(record).toEqual(before);
  });

  it('maps any entry, whatever its values, to a valid event that keeps them', () => {
    const text = fc.option(
      fc.oneof(
        fc.string({ unit: 'binary', maxLength: 40 }),
        fc.constantFrom('READONLY', 'MUTATION', 'USER', 'AWS_ACCOUNT', 'UNKNOWN', '203.0.113.9', '::1', ''),
      ),
      { nil: undefined },
    );
    const entry = fc.record({
      id: fc.uuid(),
      eventTime: fc.date({ min: new Date('2020-01-01'), max: new Date('2040-01-01'), noInvalidDate: true }),
      eventName: text,
      eventType: text,
      eventCategory: text,
      eventSource: text,
      operationType: text,
      userIdentity: fc.option(
        fc.record({ userType: text, principalId: text, userName: text, awsAccountId: text }),
        { nil: undefined },
      ),
      projectInformation: fc.option(fc.record({ name: text, projectId: text }), { nil: undefined }),
      requestId: text,
      requestPayload: fc.option(
        fc.record({ contentType: text, data: fc.option(fc.json(), { nil: undefined }) }),
        {
          nil: undefined,
        },
      ),
      responsePayload: fc.option(fc.record({ contentType: text, data: text }), { nil: undefined }),
      errorCode: text,
      sourceIpAddress: text,
      userAgent: text,
    });
    fc.assert(
      fc.property(entry, (e) => {
        const event = mapped(e);
        expect(problemsOf(event)).toEqual([]);
        for (const value of Object.values(event.unmapped ?? {})) expect(typeof value).toBe('string');
        if (e.errorCode) expect(event.status_code).toBe(e.errorCode);
        if (e.userAgent) expect(event.http_request?.user_agent).toBe(e.userAgent);
      }),
      { seed: 2026, numRuns: 400 },
    );
  });
});
