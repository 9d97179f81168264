import { describe, expect, it } from 'vitest';
import type { FieldSpec } from '../../lambdas/core/records';
import { CODECATALYST_FIELDS } from '../../lambdas/core/sources/codecatalyst/schema';
import { glueColumnsOf, glueTypeOf } from '../../lib/glue-columns';

describe('glueTypeOf', () => {
  it.each([
    ['string', { name: 'a', type: 'string' }, 'string'],
    ['json (kept as the source’s text)', { name: 'a', type: 'json' }, 'string'],
    ['timestamp', { name: 'a', type: 'timestamp', required: true }, 'timestamp'],
    [
      'struct',
      {
        name: 'a',
        type: 'struct',
        fields: [
          { name: 'x', type: 'string' },
          { name: 'y', type: 'timestamp' },
        ],
      },
      'struct<x:string,y:timestamp>',
    ],
    [
      'nested struct',
      {
        name: 'a',
        type: 'struct',
        fields: [{ name: 'inner', type: 'struct', fields: [{ name: 'z', type: 'json' }] }],
      },
      'struct<inner:struct<z:string>>',
    ],
  ] as [string, FieldSpec, string][])('maps %s', (_case, field, type) => {
    expect(glueTypeOf(field)).toBe(type);
  });
});

describe('glueColumnsOf', () => {
  it('returns one column per CodeCatalyst field, in order, with structs as structs', () => {
    // Act
    const columns = glueColumnsOf(CODECATALYST_FIELDS);

    // Assess
    expect(columns.map((c) => c.name)).toEqual(CODECATALYST_FIELDS.map((f) => f.name));
    expect(columns).toContainEqual({ name: 'eventTime', type: 'timestamp' });
    expect(columns).toContainEqual({
      name: 'userIdentity',
      type: 'struct<userType:string,principalId:string,userName:string,awsAccountId:string>',
    });
    expect(columns).toContainEqual({
      name: 'projectInformation',
      type: 'struct<name:string,projectId:string>',
    });
    expect(columns).toContainEqual({
      name: 'requestPayload',
      type: 'struct<contentType:string,data:string>',
    });
    expect(columns).toContainEqual({
      name: 'responsePayload',
      type: 'struct<contentType:string,data:string>',
    });
  });

  it('returns no columns for no fields', () => {
    expect(glueColumnsOf([])).toEqual([]);
  });
});
