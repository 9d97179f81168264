/** The ingest Lambda's event contract: a bad event fails before any I/O, naming the field and the rule. */
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { SOURCE_DEFINITIONS } from '../../../lambdas/core/sources';
import { handler } from '../../../lambdas/ingest/index';
import { SOURCES } from '../../../lambdas/ingest/sources';

const context = {
  awsRequestId: 'req-1',
  functionName: 'ingest',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:ingest',
  memoryLimitInMB: '1024',
  getRemainingTimeInMillis: () => 900_000,
} as unknown as Context;

describe('ingest handler event', () => {
  it('lists every registered source when the source is unknown', async () => {
    await expect(handler({ source: 'jira' }, context)).rejects.toThrow(
      `event.source: must be one of ${Object.keys(SOURCES).join(', ')} (got "jira")`,
    );
    expect(Object.keys(SOURCES)).toEqual(['codecatalyst', 'resiliencehub']);
  });

  // The systemArn rule of the ListSystemEvents API reference:
  // https://docs.aws.amazon.com/resilience-hub/v2/APIReference/API_ListSystemEvents.html
  it('validates a Resilience Hub instance with the rule of the API reference', async () => {
    await expect(handler({ source: 'resiliencehub', instance: 'arn:aws:nope' }, context)).rejects.toThrow(
      /^event\.instance: must be at least 31 characters long/,
    );
  });
});

describe('source registries', () => {
  it('lists the same sources with and without clients, equal but for createClient', () => {
    expect(Object.keys(SOURCE_DEFINITIONS)).toEqual(Object.keys(SOURCES));
    for (const [name, module] of Object.entries(SOURCES)) {
      const { createClient, ...definition } = module;
      expect(typeof createClient).toBe('function');
      expect(definition).toEqual(SOURCE_DEFINITIONS[name]);
      expect('createClient' in SOURCE_DEFINITIONS[name]!).toBe(false);
    }
  });
});
