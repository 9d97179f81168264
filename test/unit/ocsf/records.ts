/**
 * Wire events to archive records as the ingest makes them: CodeCatalyst entries normalised as the
 * client does; Resilience Hub events through the real ListSystemEvents decoder (metadata kept as
 * the exact text a server wrote), then normalised. Also: valid events for the validator's tests.
 */
import type { EventLogEntryWire } from '../../../bin/demo/codecatalyst-events';
import { OCSF_SCHEMA_1_1_0, type OcsfEvent, validateOcsf } from '../../../lambdas/core/ocsf';
import { type ArchiveRecord, normaliseRecord } from '../../../lambdas/core/records';
import { CODECATALYST_FIELDS } from '../../../lambdas/core/sources/codecatalyst/schema';
import { RESILIENCEHUB_FIELDS } from '../../../lambdas/core/sources/resiliencehub/schema';
import { decodeListSystemEvents } from '../../../lambdas/ingest/sources/resiliencehub/wire';
import { stringifyWithRaw } from '../../support/sample-system-events';

export function codecatalystRecords(events: readonly object[]): ArchiveRecord[] {
  return events.map((e) => normaliseRecord(CODECATALYST_FIELDS, e as Record<string, unknown>));
}

export function resiliencehubRecords(events: readonly object[]): ArchiveRecord[] {
  return decodeListSystemEvents(stringifyWithRaw({ events })).events.map((e) =>
    normaliseRecord(RESILIENCEHUB_FIELDS, e as unknown as Record<string, unknown>),
  );
}

/** A complete CodeCatalyst entry in wire form, to vary in edge cases. */
export function wireEntry(
  overrides: Partial<Record<keyof EventLogEntryWire, unknown>> = {},
): Record<string, unknown> {
  return {
    id: '0b6f4c1e-4a36-4c43-9a8e-6b0f3f1d2c11',
    eventName: 'createProject',
    eventType: 'AwsApiCall',
    eventCategory: 'MANAGEMENT',
    eventSource: 'manage',
    eventTime: '2026-05-20T09:30:01.234Z',
    operationType: 'MUTATION',
    userIdentity: {
      userType: 'USER',
      principalId: 'a1b2c3d4-0000-4000-8000-000000000001',
      userName: 'MaryMajor',
    },
    projectInformation: { name: 'checkout-service', projectId: 'c0ffee00-0000-4000-8000-000000000002' },
    requestId: 'd00dfeed-0000-4000-8000-000000000003',
    requestPayload: {
      contentType: 'application/json',
      data: '{"spaceName":"demo-space","displayName":"checkout"}',
    },
    responsePayload: { contentType: 'application/json', data: '{"name":"checkout-service"}' },
    sourceIpAddress: '198.51.100.7',
    userAgent: 'aws-cli/2.22.4',
    ...overrides,
  };
}

/** A complete Resilience Hub system event in wire form, to vary in edge cases. */
export function wireSystemEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    actor: {
      accountId: '111122223333',
      principalId: 'AROAEXAMPLEID:MaryMajor',
      type: 'USER',
      userName: 'MaryMajor',
    },
    eventDetails: {
      description: 'Policy tier-1-critical associated (MaryMajor)',
      eventMetadata: { systemPolicyAssociated: { policyName: 'tier-1-critical', rtoInSecs: 900 } },
      title: 'Policy tier-1-critical associated',
    },
    eventId: '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b',
    eventType: 'SYSTEM_POLICY_ASSOCIATED',
    systemArn: 'arn:aws:resiliencehub:eu-west-1:111122223333:system/checkout',
    timestamp: 1779269401.234,
    ...overrides,
  };
}

/** The problems of an event, for `expect(…).toEqual([])` messages that name them. */
export function problemsOf(event: OcsfEvent | Record<string, unknown>): string[] {
  return validateOcsf(event, OCSF_SCHEMA_1_1_0);
}
