/**
 * Resilience Hub system events as OCSF Entity Management events: every event of the demo month and
 * of the sample generator (unicode, raw JSON metadata, actors with only a type) is valid OCSF 1.1.0;
 * each mapping rule of docs/ocsf.md holds; edge cases still map to valid events that keep every
 * source value (the metadata as the exact text the service sent).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { demoSystemEvents } from '../../../bin/demo/resiliencehub-events';
import { ACTIVITY, type OcsfEntityManagement } from '../../../lambdas/core/ocsf';
import { decodeParquet, encodeParquet } from '../../../lambdas/core/parquet';
import { sortRecords } from '../../../lambdas/core/records';
import { resiliencehubDefinition } from '../../../lambdas/core/sources/resiliencehub/definition';
import { resiliencehubActivity, toOcsf } from '../../../lambdas/core/sources/resiliencehub/ocsf';
import { RESILIENCEHUB_FIELDS } from '../../../lambdas/core/sources/resiliencehub/schema';
import { generateSystemEvents, RawJson, SYSTEM_EVENT_TYPE_VALUES } from '../../support/sample-system-events';
import { problemsOf, resiliencehubRecords, wireSystemEvent } from './records';

const NOW = Date.UTC(2026, 4, 20, 9, 30);
const SYSTEM_ARN = 'arn:aws:resiliencehub:eu-west-1:111122223333:system/checkout';

function mapped(
  event: Record<string, unknown>,
  context?: Parameters<typeof toOcsf>[1],
): OcsfEntityManagement {
  return toOcsf(resiliencehubRecords([event])[0]!, context);
}

function problemsOfAll(events: readonly OcsfEntityManagement[]): string[] {
  return events.flatMap((e) => problemsOf(e).map((p) => `${e.metadata.uid}: ${p}`));
}

describe('the demo month', () => {
  const demo = demoSystemEvents({ nowMs: NOW, seed: 2024 });
  const records = resiliencehubRecords(demo.events);
  const events = records.map((r) => toOcsf(r));

  it('maps every event to a valid Entity Management event', () => {
    expect(events.length).toBeGreaterThan(50);
    expect(problemsOfAll(events)).toEqual([]);
  });

  it('has the system created, its definition updated, and each event’s type as its code', () => {
    expect(events[0]).toMatchObject({ activity_name: 'Create', metadata: { event_code: 'SYSTEM_CREATED' } });
    expect(new Set(events.map((e) => e.activity_name))).toEqual(new Set(['Create', 'Update']));
    expect(events.every((e) => e.entity.uid === demo.events[0]!.systemArn)).toBe(true);
    expect(events.map((e) => e.metadata.event_code)).toEqual(demo.events.map((e) => e.eventType));
  });

  it('maps what an exporter reads back from the archive’s Parquet exactly as what the ingest holds', async () => {
    const day = sortRecords(resiliencehubDefinition, [...records]);
    const read = await decodeParquet(RESILIENCEHUB_FIELDS, encodeParquet(RESILIENCEHUB_FIELDS, day));
    expect(read.map((r) => toOcsf(r))).toEqual(day.map((r) => toOcsf(r)));
  });
});

describe('the sample generator’s events', () => {
  const wire = generateSystemEvents({
    count: 3000,
    fromMs: NOW - 86_400_000,
    toMs: NOW,
    systemArn: SYSTEM_ARN,
    seed: 5,
    rawShare: 0.1,
  });
  const events = resiliencehubRecords(wire).map((r) => toOcsf(r));

  it('map to valid events, actors with only a type included', () => {
    expect(problemsOfAll(events)).toEqual([]);
    expect(events.some((e) => e.actor === undefined && e.unmapped?.['actor.type'] === 'AWSService')).toBe(
      true,
    );
  });

  it('keep each event’s metadata as the exact JSON text the service sent', () => {
    const byId = new Map(events.map((e) => [e.metadata.uid, e]));
    let raw = 0;
    for (const w of wire) {
      const metadata = w.eventDetails?.eventMetadata;
      const kept = byId.get(w.eventId)!.unmapped?.['eventDetails.eventMetadata'];
      if (metadata instanceof RawJson) {
        raw++;
        expect(kept).toBe(metadata.text);
      } else if (metadata === undefined) expect(kept).toBeUndefined();
      else expect(JSON.parse(kept!)).toEqual(metadata);
    }
    expect(raw).toBeGreaterThan(0);
  });
});

describe('toOcsf (Resilience Hub)', () => {
  it('maps each field where docs/ocsf.md says', () => {
    const event = mapped(wireSystemEvent(), { loggedTime: Date.parse('2026-05-20T09:45:00Z') });
    expect(event).toEqual({
      class_uid: 3004,
      class_name: 'Entity Management',
      category_uid: 3,
      category_name: 'Identity & Access Management',
      activity_id: 3,
      activity_name: 'Update',
      type_uid: 300403,
      type_name: 'Entity Management: Update',
      severity_id: 1,
      severity: 'Informational',
      status_id: 1,
      status: 'Success',
      time: 1779269401234,
      message: 'Policy tier-1-critical associated (MaryMajor)',
      metadata: {
        version: '1.1.0',
        product: { name: 'AWS Resilience Hub', vendor_name: 'AWS' },
        uid: '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b',
        original_time: '1779269401.234',
        logged_time: Date.parse('2026-05-20T09:45:00Z'),
        log_name: 'resiliencehub_system_events',
        log_provider: 'eventlog-archive',
        event_code: 'SYSTEM_POLICY_ASSOCIATED',
        profiles: ['cloud', 'host'],
      },
      cloud: {
        provider: 'AWS',
        region: 'eu-west-1',
        account: { uid: '111122223333', type_id: 10, type: 'AWS Account' },
      },
      actor: {
        user: {
          uid: 'AROAEXAMPLEID:MaryMajor',
          name: 'MaryMajor',
          type_id: 1,
          type: 'User',
          account: { uid: '111122223333', type_id: 10, type: 'AWS Account' },
        },
      },
      entity: { uid: SYSTEM_ARN, type: 'Resilience Hub system' },
      unmapped: {
        'eventDetails.title': 'Policy tier-1-critical associated',
        'eventDetails.eventMetadata':
          '{"systemPolicyAssociated":{"policyName":"tier-1-critical","rtoInSecs":900}}',
      },
    });
    expect(problemsOf(event)).toEqual([]);
  });

  it.each([
    ['SYSTEM_CREATED', ACTIVITY.Create],
    ['SYSTEM_DELETED', ACTIVITY.Delete],
    ['SYSTEM_USER_JOURNEY_CREATED', ACTIVITY.Update],
    ['SYSTEM_USER_JOURNEY_UPDATED', ACTIVITY.Update],
    ['SYSTEM_USER_JOURNEY_DELETED', ACTIVITY.Update],
    ['SYSTEM_SERVICE_ASSOCIATED', ACTIVITY.Update],
    ['SYSTEM_SERVICE_DISASSOCIATED', ACTIVITY.Update],
    ['SYSTEM_POLICY_ASSOCIATED', ACTIVITY.Update],
    ['SYSTEM_POLICY_DISASSOCIATED', ACTIVITY.Update],
    ['SYSTEM_RENAMED', ACTIVITY.Other],
    ['toString', ACTIVITY.Other],
    [undefined, ACTIVITY.Unknown],
  ] as const)('activity of %s is %s', (eventType, activity) => {
    expect(resiliencehubActivity(eventType)).toBe(activity);
  });

  it('knows every event type of the API reference', () => {
    for (const type of SYSTEM_EVENT_TYPE_VALUES) expect(resiliencehubActivity(type)).not.toBe(ACTIVITY.Other);
  });

  it('names an unknown event type’s activity by the type', () => {
    const event = mapped(wireSystemEvent({ eventType: 'SYSTEM_RENAMED' }));
    expect(event).toMatchObject({
      activity_id: 99,
      activity_name: 'SYSTEM_RENAMED',
      type_uid: 300499,
      type_name: 'Entity Management: Other',
      metadata: { event_code: 'SYSTEM_RENAMED' },
    });
    expect(problemsOf(event)).toEqual([]);
  });

  it('maps actor types: SYSTEM to System, others to Other with their own word', () => {
    const system = mapped(wireSystemEvent({ actor: { principalId: 'resiliencehub', type: 'SYSTEM' } }));
    expect(system.actor).toEqual({ user: { uid: 'resiliencehub', type_id: 3, type: 'System' } });
    const role = mapped(
      wireSystemEvent({ actor: { principalId: 'AROA1:x', type: 'IAMRole', userName: 'x' } }),
    );
    expect(role.actor?.user).toMatchObject({ type_id: 99, type: 'IAMRole' });
    expect(problemsOfAll([system, role])).toEqual([]);
  });

  it('leaves out an actor that names no one, and keeps its type', () => {
    const bare = mapped(wireSystemEvent({ actor: { type: 'AWSService' } }));
    expect(bare.actor).toBeUndefined();
    expect(bare.unmapped?.['actor.type']).toBe('AWSService');
    const none = mapped(wireSystemEvent({ actor: undefined }));
    expect(none.actor).toBeUndefined();
    expect(problemsOfAll([bare, none])).toEqual([]);
  });

  it('takes the system from the context when the record has none, else names it Unknown', () => {
    const fromContext = mapped(wireSystemEvent({ systemArn: undefined }), { systemArn: SYSTEM_ARN });
    expect(fromContext.entity).toEqual({ uid: SYSTEM_ARN, type: 'Resilience Hub system' });
    expect(fromContext.cloud).toMatchObject({ region: 'eu-west-1', account: { uid: '111122223333' } });
    const unknown = mapped(wireSystemEvent({ systemArn: undefined }));
    expect(unknown.entity).toEqual({ name: 'Unknown', type: 'Resilience Hub system' });
    expect(unknown.cloud).toEqual({ provider: 'AWS' });
    expect(problemsOfAll([fromContext, unknown])).toEqual([]);
  });

  it('maps an event with only its required fields', () => {
    const event = mapped({ eventId: 'e-1', timestamp: 1779269401 });
    expect(event).toMatchObject({
      activity_id: 0,
      activity_name: 'Unknown',
      time: 1779269401000,
      metadata: { uid: 'e-1', original_time: '1779269401' },
      entity: { name: 'Unknown' },
    });
    expect(event.message).toBeUndefined();
    expect(event.unmapped).toBeUndefined();
    expect(problemsOf(event)).toEqual([]);
  });

  it('keeps control characters and unicode, and cuts only what string_t cannot hold', () => {
    const weird = 'Zoë \u0000\u0007\u001b[31m\t\u2028 🚀 支付服务 e\u0301 "q" \\';
    const long = `${weird}${'é'.repeat(70_000)}`;
    const event = mapped(
      wireSystemEvent({
        actor: { principalId: weird, type: weird, userName: weird, accountId: weird },
        eventDetails: { description: long, title: weird, eventMetadata: { x: weird } },
      }),
    );
    expect(problemsOf(event)).toEqual([]);
    expect(event.actor?.user).toMatchObject({
      uid: weird,
      name: weird,
      type_id: 99,
      type: weird,
      account: { uid: weird },
    });
    expect(Array.from(event.message!)).toHaveLength(65_535);
    expect(event.unmapped?.['eventDetails.description']).toBe(long);
    expect(event.unmapped?.['eventDetails.title']).toBe(weird);
  });

  it('is pure: the record is untouched and the same record maps the same way', () => {
    const [record] = resiliencehubRecords([wireSystemEvent()]);
    const before = structuredClone(record);
    const first = toOcsf(record!);
    expect(toOcsf(record!)).toEqual(first);
    expect(record).toEqual(before);
  });

  it('maps any event, whatever its values, to a valid event', () => {
    const text = fc.option(
      fc.oneof(
        fc.string({ unit: 'binary', maxLength: 40 }),
        fc.constantFrom(...SYSTEM_EVENT_TYPE_VALUES, 'USER', 'SYSTEM', ''),
      ),
      { nil: undefined },
    );
    const event = fc.record({
      eventId: fc.uuid(),
      timestamp: fc.integer({ min: 1_577_836_800_000, max: 2_208_988_800_000 }).map((ms) => ms / 1000),
      eventType: text,
      systemArn: fc.option(fc.oneof(fc.constant(SYSTEM_ARN), fc.string({ unit: 'binary', maxLength: 60 })), {
        nil: undefined,
      }),
      actor: fc.option(fc.record({ accountId: text, principalId: text, type: text, userName: text }), {
        nil: undefined,
      }),
      eventDetails: fc.option(
        fc.record({
          description: text,
          title: text,
          eventMetadata: fc.option(fc.jsonValue(), { nil: undefined }),
        }),
        { nil: undefined },
      ),
    });
    fc.assert(
      fc.property(event, (e) => {
        const out = mapped(e);
        expect(problemsOf(out)).toEqual([]);
        if (e.eventType) expect(out.metadata.event_code).toBe(e.eventType);
      }),
      { seed: 2026, numRuns: 400 },
    );
  });
});
