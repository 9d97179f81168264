import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { canonicalJson } from '../../../../lambdas/core/records';
import { CODECATALYST_FIELDS } from '../../../../lambdas/core/sources/codecatalyst/schema';
import { codecatalyst } from '../../../../lambdas/ingest/sources/codecatalyst';
import {
  readEventLogPage,
  readUtcTimestamp,
} from '../../../../lambdas/ingest/sources/codecatalyst/page-reader';
import type { SourceClient } from '../../../../lambdas/ingest/sources/types';
import { generateEvents } from '../../../support/sample-events';

describe('readUtcTimestamp', () => {
  it.each([
    ['2026-11-22T05:00:00Z', '2026-11-22T05:00:00.000Z'],
    ['2026-11-22T05:00:00.1Z', '2026-11-22T05:00:00.100Z'],
    ['2026-11-22T05:00:00.12Z', '2026-11-22T05:00:00.120Z'],
    ['2026-11-22T05:00:00.123Z', '2026-11-22T05:00:00.123Z'],
    ['2024-02-29T23:59:59.999Z', '2024-02-29T23:59:59.999Z'],
    ['2000-02-29T00:00:00Z', '2000-02-29T00:00:00.000Z'],
  ])('reads %s', (text, iso) => {
    expect(readUtcTimestamp(text)?.toISOString()).toBe(iso);
  });

  it.each([
    '2026-02-29T00:00:00Z', // not a leap year
    '1900-02-29T00:00:00Z',
    '2026-04-31T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-00-10T00:00:00Z',
    '2026-11-00T00:00:00Z',
    '2026-11-22T24:00:00Z',
    '2026-11-22T23:60:00Z',
    '2026-11-22T23:59:60Z', // a leap second: the SDK decides
    '2026-11-22t05:00:00Z',
    '2026-11-22T05:00:00z',
    '2026-11-22T05:00:00+01:00',
    '2026-11-22T05:00:00.1234Z',
    '2026-11-22T05:00:00',
    '0099-01-01T00:00:00Z',
    ' 2026-11-22T05:00:00Z',
    '2026-11-22T05:00:00.Z',
    '2026-11-22T05:00:00,1Z',
    '2026-11-22T05:00:0aZ',
    '2026-11-22T05:00:00.1aZ',
    '2026-1a-22T05:00:00Z',
    '2026-11-22T05:00:00.12 Z',
    '2026-11-22 05:00:00Z',
    '20261122T050000Z',
  ])('leaves %s to the SDK', (text) => {
    expect(readUtcTimestamp(text)).toBeUndefined();
  });
});

/** A server that answers every ListEventLogs request with the body the test set. */
let server: Server;
let body = '{}';
let fastClient: SourceClient;
let sdkClient: SourceClient;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const env = {
    CODECATALYST_TOKEN: 'page-reader-test-token',
    AWS_ENDPOINT_URL_CODECATALYST: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  };
  fastClient = await codecatalyst.createClient({ env });
  sdkClient = await codecatalyst.createClient({ env, fastPageReader: false });
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

type Outcome = { ok: true; items: string[]; nextToken: string | undefined } | { ok: false; name: string };

async function page(client: SourceClient, text: string): Promise<Outcome> {
  body = text;
  try {
    const out = await client.listPage({
      instance: 'space',
      start: 0,
      end: 3_600_000,
      nextToken: undefined,
      pageSize: 250,
    });
    return {
      ok: true,
      items: out.items.map((r) => canonicalJson(CODECATALYST_FIELDS, r)),
      nextToken: out.nextToken,
    };
  } catch (err) {
    return { ok: false, name: (err as Error).name };
  }
}

// Values of every kind a field could carry, ordinary and not.
const timestampText = fc.oneof(
  fc
    .date({
      min: new Date('1000-01-01T00:00:00Z'),
      max: new Date('2999-12-31T23:59:59Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString()),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString().replace('.000Z', 'Z')),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString().replace(/\.\d+Z$/, '.5Z')),
  fc.constantFrom(
    '2026-02-29T00:00:00Z',
    '2026-11-22T05:00:00+02:00',
    '2026-11-22t05:00:00z',
    '2026-11-22T05:00:00.123456Z',
    '2026-11-22T23:59:60Z',
    'yesterday',
  ),
);
const oddValue = fc.oneof(
  fc.constant(null),
  fc.integer(),
  fc.boolean(),
  fc.constant([]),
  fc.constant({}),
  fc.constant(1.5),
);
const stringValue = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'grapheme' }) },
  { weight: 1, arbitrary: oddValue },
);
const structOf = (members: string[]) =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record(Object.fromEntries(members.map((m) => [m, stringValue])), { requiredKeys: [] }),
    },
    { weight: 1, arbitrary: oddValue },
  );
const item = fc.record(
  {
    id: fc.oneof({ weight: 10, arbitrary: fc.uuid() }, { weight: 1, arbitrary: oddValue }),
    eventName: stringValue,
    eventType: stringValue,
    eventCategory: stringValue,
    eventSource: stringValue,
    eventTime: fc.oneof({ weight: 10, arbitrary: timestampText }, { weight: 1, arbitrary: oddValue }),
    operationType: stringValue,
    userIdentity: structOf(['userType', 'principalId', 'userName', 'awsAccountId']),
    projectInformation: structOf(['name', 'projectId']),
    requestId: stringValue,
    requestPayload: structOf(['contentType', 'data']),
    responsePayload: structOf(['contentType', 'data']),
    errorCode: stringValue,
    sourceIpAddress: stringValue,
    userAgent: stringValue,
    somethingNew: fc.anything(),
  },
  { requiredKeys: ['id', 'eventTime'] },
);
const pageBody = fc.oneof(
  {
    weight: 20,
    arbitrary: fc.record({ items: fc.array(item, { maxLength: 4 }), nextToken: fc.option(fc.string()) }),
  },
  { weight: 1, arbitrary: fc.record({ items: fc.constantFrom(null, {}, 'x', [null]) }) },
  { weight: 1, arbitrary: fc.constant('[]') },
);

describe('the fast page reader in the CodeCatalyst client', () => {
  it('gives exactly what the SDK deserializer and normalisation give, for 1,000 generated pages', async () => {
    let ordinary = 0;
    // The SDK warns on stderr for each number it coerces into a string; the outcome is compared instead.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    await fc.assert(
      fc.asyncProperty(pageBody, async (generated) => {
        const text = typeof generated === 'string' ? generated : JSON.stringify(generated);
        if (readEventLogPage(CODECATALYST_FIELDS, text)) ordinary++;
        expect(await page(fastClient, text)).toEqual(await page(sdkClient, text));
      }),
      { numRuns: 1000, seed: 20261122 },
    );
    warn.mockRestore();
    // Both paths are exercised: most pages take the fast path, the odd ones fall back.
    expect(ordinary).toBeGreaterThan(100);
    expect(ordinary).toBeLessThan(1000);
  });

  it('reads the sample source pages on the fast path with every field as the SDK reads it', async () => {
    const events = generateEvents({
      count: 250,
      fromMs: Date.parse('2026-11-01T00:00:00Z'),
      toMs: Date.parse('2026-11-01T01:00:00Z'),
      seed: 7,
    });
    const text = JSON.stringify({ items: events, nextToken: 'next-page' });
    expect(readEventLogPage(CODECATALYST_FIELDS, text)?.items).toHaveLength(250);
    const fast = await page(fastClient, text);
    expect(fast).toEqual(await page(sdkClient, text));
    expect(fast).toMatchObject({ ok: true, nextToken: 'next-page' });
  });

  it('leaves error responses to the SDK: their names and retry classes are unchanged', async () => {
    const errorServer = createServer((req, res) => {
      req.resume();
      res.writeHead(429, { 'content-type': 'application/json', 'x-amzn-ErrorType': 'ThrottlingException' });
      res.end(JSON.stringify({ message: 'slow down' }));
    });
    await new Promise<void>((resolve) => errorServer.listen(0, '127.0.0.1', resolve));
    try {
      const client = await codecatalyst.createClient({
        env: {
          CODECATALYST_TOKEN: 't',
          AWS_ENDPOINT_URL_CODECATALYST: `http://127.0.0.1:${(errorServer.address() as AddressInfo).port}`,
        },
      });
      await expect(
        client.listPage({ instance: 's', start: 0, end: 1000, nextToken: undefined, pageSize: 250 }),
      ).rejects.toMatchObject({
        name: 'ThrottlingException',
      });
    } finally {
      await new Promise<void>((resolve) => errorServer.close(() => resolve()));
    }
  });
});
