import { describe, expect, it } from 'vitest';
import { decodeParquet, encodeParquet } from '../../../../lambdas/core/parquet';
import { canonicalJson, normaliseRecord, toWire } from '../../../../lambdas/core/records';
import { CODECATALYST_FIELDS } from '../../../../lambdas/core/sources/codecatalyst/schema';
import { record } from '../fake-source';

describe('Parquet round trip', () => {
  it('returns every field as written: nested structs, null structs, all-null structs and millisecond times', async () => {
    const records = [
      record('a', Date.UTC(2024, 4, 1, 0, 0, 0, 123)),
      record('b', Date.UTC(2024, 4, 1, 1), {
        userIdentity: null,
        errorCode: 'AccessDenied',
        projectInformation: { name: 'p', projectId: null },
      }),
      record('c', Date.UTC(2024, 4, 1, 2), {
        userIdentity: { userType: null, principalId: null, userName: null, awsAccountId: null },
        responsePayload: { contentType: 'application/json', data: '{"ok":true}' },
      }),
    ].map((r) => normaliseRecord(CODECATALYST_FIELDS, r));
    const bytes = encodeParquet(CODECATALYST_FIELDS, records);
    const back = await decodeParquet(CODECATALYST_FIELDS, bytes);
    expect(back.map((r) => canonicalJson(CODECATALYST_FIELDS, r))).toEqual(
      records.map((r) => canonicalJson(CODECATALYST_FIELDS, r)),
    );
    expect((back[0]!.eventTime as Date).toISOString()).toBe('2024-05-01T00:00:00.123Z');
    expect(back[1]?.userIdentity).toBeNull();
  });

  it('renders the wire form without absent values', () => {
    const wire = toWire(
      CODECATALYST_FIELDS,
      normaliseRecord(CODECATALYST_FIELDS, record('a', 0, { userIdentity: { userType: 'USER' } })),
    );
    expect(wire.userIdentity).toEqual({ userType: 'USER' });
    expect(wire).not.toHaveProperty('errorCode');
    expect(wire.eventTime).toBe('1970-01-01T00:00:00.000Z');
  });
});
