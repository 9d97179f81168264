/**
 * `GET /v2/list-system-events` in unit: the API Gateway adapter (repeated `eventTypes` as
 * `multiValueQueryStringParameters`), parsing, the engine query it makes, the wire JSON (epoch
 * seconds, metadata spliced verbatim), and the 404/400 bodies with the extra fields of the
 * ListSystemEvents API reference:
 * https://docs.aws.amazon.com/resilience-hub/v2/APIReference/API_ListSystemEvents.html.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { epochSecondsJson, normaliseRecord, toWireJson } from '../../../lambdas/core/records';
import { resiliencehubDefinition } from '../../../lambdas/core/sources/resiliencehub/definition';
import { RESILIENCEHUB_FIELDS } from '../../../lambdas/core/sources/resiliencehub/schema';
import type { ApiDeps } from '../../../lambdas/query/api';
import { createHandler } from '../../../lambdas/query/index';
import {
  DEFAULT_SYSTEM_EVENTS_MAX_RESULTS,
  parseListSystemEvents,
} from '../../../lambdas/query/list-system-events';
import { NextTokenCodec } from '../../../lambdas/query/next-token';
import { MemoryEngine, memoryCatalog } from './api-memory-engine';

const ARN = 'arn:aws:resiliencehub:us-west-2:123456789012:system/checkout:abc123';
const BIG = '{"policy":{"version":9007199254740993,"2":"b","1":"a","x":1.0}}';

function systemEvent(id: string, ms: number, eventType: string, metadata?: string) {
  return normaliseRecord(RESILIENCEHUB_FIELDS, {
    actor: { accountId: '123456789012', type: 'IAMUser', userName: 'ana' },
    eventDetails: { title: 't', description: 'd', ...(metadata ? { eventMetadata: metadata } : {}) },
    eventId: id,
    eventType,
    systemArn: ARN,
    timestamp: new Date(ms),
  });
}

function deps(): ApiDeps & { engine: MemoryEngine } {
  const engine = new MemoryEngine();
  engine.add(ARN, [
    systemEvent('e1', Date.UTC(2026, 4, 1, 5, 0, 0, 123), 'SYSTEM_CREATED', BIG),
    systemEvent('e2', Date.UTC(2026, 4, 1, 6), 'SYSTEM_DELETED'),
    systemEvent('e3', Date.UTC(2026, 4, 1, 7, 0, 0, 500), 'SYSTEM_POLICY_ASSOCIATED', '{"a":[]}'),
  ]);
  return {
    engine,
    catalog: memoryCatalog([ARN]),
    tokens: new NextTokenCodec({ keys: [new Uint8Array(32).fill(7)] }),
    now: () => Date.UTC(2026, 4, 2),
  };
}

function event(overrides: Partial<APIGatewayProxyEvent> = {}): APIGatewayProxyEvent {
  return {
    resource: '/v2/list-system-events',
    path: '/v2/list-system-events',
    httpMethod: 'GET',
    headers: {},
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: { requestId: 'req-1' } as APIGatewayProxyEvent['requestContext'],
    body: null,
    isBase64Encoded: false,
    ...overrides,
  };
}

describe('GET /v2/list-system-events through the Lambda adapter', () => {
  it('reads repeated eventTypes from multiValueQueryStringParameters and filters with anyOf', async () => {
    // Prepare: API Gateway keeps the last value in queryStringParameters and all in the multi-value map.
    const d = deps();
    const handler = createHandler(() => d);

    // Act
    const result = await handler(
      event({
        queryStringParameters: { systemArn: ARN, eventTypes: 'SYSTEM_POLICY_ASSOCIATED' },
        multiValueQueryStringParameters: {
          systemArn: [ARN],
          eventTypes: ['SYSTEM_CREATED', 'SYSTEM_POLICY_ASSOCIATED'],
        },
      }),
    );

    // Assess
    expect(result.statusCode).toBe(200);
    expect(d.engine.queries.at(-1)).toMatchObject({
      source: resiliencehubDefinition,
      instance: ARN,
      anyOf: { eventType: ['SYSTEM_CREATED', 'SYSTEM_POLICY_ASSOCIATED'] },
      limit: DEFAULT_SYSTEM_EVENTS_MAX_RESULTS + 1,
    });
    expect('createClient' in d.engine.queries.at(-1)!.source).toBe(false);
    const body = JSON.parse(result.body) as { events: { eventId: string; timestamp: number }[] };
    expect(body.events.map((e) => e.eventId)).toEqual(['e1', 'e3']);
    expect(body.events[0]!.timestamp).toBe(1777611600.123);
    // The metadata document as archived: big integer, key order and `1.0` intact.
    expect(result.body).toContain(`"eventMetadata":${BIG}`);
    expect(result.body).toContain('"timestamp":1777618800.5}');
  });

  it('answers 404 with resourceId and resourceType for a system never archived', async () => {
    const other = ARN.replace('abc123', 'zzz');
    const result = await createHandler(deps)(event({ queryStringParameters: { systemArn: other } }));
    expect(result.statusCode).toBe(404);
    expect(result.headers?.['x-amzn-ErrorType']).toBe('ResourceNotFoundException');
    expect(JSON.parse(result.body)).toEqual({
      resourceId: other,
      resourceType: 'System',
      message: `systemArn: the system ${other} has never been archived (no ingest run has recorded it)`,
    });
  });

  it('answers 400 with reason and fieldList, and never calls the engine', async () => {
    const d = deps();
    const result = await createHandler(() => d)(event({ queryStringParameters: { maxResults: '0' } }));
    expect(result.statusCode).toBe(400);
    expect(result.headers?.['x-amzn-ErrorType']).toBe('ValidationException');
    expect(JSON.parse(result.body)).toEqual({
      reason: 'MISSING_REQUIRED_FIELD',
      fieldList: [{ name: 'systemArn', message: 'is required and must be a string' }],
      message: 'systemArn: is required and must be a string',
    });
    expect(d.engine.queries).toEqual([]);
  });

  it('pages with a nextToken bound to the request', async () => {
    const d = deps();
    const handler = createHandler(() => d);
    const first = await handler(event({ queryStringParameters: { systemArn: ARN, maxResults: '2' } }));
    const { nextToken, events } = JSON.parse(first.body) as { nextToken: string; events: unknown[] };
    expect(events).toHaveLength(2);
    const second = await handler(
      event({ queryStringParameters: { systemArn: ARN, maxResults: '2', nextToken } }),
    );
    expect(JSON.parse(second.body)).toMatchObject({ events: [{ eventId: 'e3' }] });
    expect(JSON.parse(second.body).nextToken).toBeUndefined();
    const moved = await handler(
      event({ queryStringParameters: { systemArn: ARN, eventTypes: 'SYSTEM_CREATED', nextToken } }),
    );
    expect(moved.statusCode).toBe(400);
    expect(JSON.parse(moved.body).fieldList).toEqual([{ name: 'nextToken', message: expect.any(String) }]);
  });

  it('is GET only', async () => {
    const result = await createHandler(deps)(event({ httpMethod: 'POST' }));
    expect(result.statusCode).toBe(405);
    expect(result.headers?.allow).toBe('GET');
  });
});

describe('parseListSystemEvents', () => {
  it('defaults maxResults to 100 and leaves the times unbounded', () => {
    expect(parseListSystemEvents({ systemArn: ARN })).toEqual({
      systemArn: ARN,
      eventTypes: [],
      maxResults: 100,
    });
  });

  it('keeps eventTypes distinct, in the order of the API reference', () => {
    expect(
      parseListSystemEvents({
        systemArn: ARN,
        eventTypes: ['SYSTEM_DELETED', 'SYSTEM_CREATED', 'SYSTEM_DELETED'],
      }).eventTypes,
    ).toEqual(['SYSTEM_CREATED', 'SYSTEM_DELETED']);
  });

  it('takes a one-element list as the value (API Gateway multi-value form)', () => {
    expect(parseListSystemEvents({ systemArn: [ARN], maxResults: ['7'] })).toMatchObject({
      systemArn: ARN,
      maxResults: 7,
    });
  });
});

describe('wire JSON of archived records', () => {
  it('writes epoch seconds from integer milliseconds, without float noise', () => {
    expect(epochSecondsJson(new Date(1763640000123))).toBe('1763640000.123');
    expect(epochSecondsJson(new Date(1763640000100))).toBe('1763640000.1');
    expect(epochSecondsJson(new Date(1763640000000))).toBe('1763640000');
    expect(epochSecondsJson(new Date(1))).toBe('0.001');
    expect(epochSecondsJson(new Date(-1500))).toBe('-1.5');
    for (const ms of [1, 7, 999, 1763640000001, 1763640000999, 4102444799999])
      expect(JSON.parse(epochSecondsJson(new Date(ms)))).toBe(ms / 1000);
  });

  it('splices json fields verbatim and omits absent ones', () => {
    const record = systemEvent('x', 1000, 'SYSTEM_CREATED', ` ${BIG}\n`);
    const text = toWireJson(RESILIENCEHUB_FIELDS, record, epochSecondsJson);
    expect(text).toBe(
      `{"actor":{"accountId":"123456789012","type":"IAMUser","userName":"ana"},"eventDetails":{"description":"d","eventMetadata":${BIG},"title":"t"},"eventId":"x","eventType":"SYSTEM_CREATED","systemArn":"${ARN}","timestamp":1}`,
    );
    expect(() =>
      toWireJson(RESILIENCEHUB_FIELDS, { ...record, eventDetails: { eventMetadata: '{' } }),
    ).toThrow(/eventMetadata is not valid JSON/);
  });
});
