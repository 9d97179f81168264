import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CodeCatalystClient, ListEventLogsCommand } from '@aws-sdk/client-codecatalyst';
import { classifyError, type ErrorClass, httpStatusOf } from '@eventlog-archive/shared';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { canonicalJson, normaliseRecord } from '../../../../lambdas/core/records';
import { CODECATALYST_FIELDS } from '../../../../lambdas/core/sources/codecatalyst/schema';
import { codecatalyst } from '../../../../lambdas/ingest/sources/codecatalyst';
import { guessNextToken } from '../../../../lambdas/ingest/sources/codecatalyst/client';
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

/** A request as the server saw it. */
interface SeenRequest {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A server that answers every ListEventLogs request with the status, headers and body the test set. */
let server: Server;
let answer: { status: number; headers: Record<string, string>; body: string } = {
  status: 200,
  headers: { 'content-type': 'application/json' },
  body: '{}',
};
let body = '{}';
const seen: SeenRequest[] = [];
let fastClient: SourceClient;
let slowClient: SourceClient;
let officialClient: SourceClient;

const TOKEN = 'page-reader-test-token';

/** The official client, with the normalisation the archive applies to what it returns. */
function official(endpoint: string): SourceClient {
  const client = new CodeCatalystClient({
    region: 'us-west-2',
    endpoint,
    token: { token: TOKEN },
    maxAttempts: 1,
  });
  return {
    async listPage({ instance, start, end, nextToken, pageSize }) {
      const out = await client.send(
        new ListEventLogsCommand({
          spaceName: instance,
          startTime: new Date(start),
          endTime: new Date(end),
          maxResults: pageSize,
          ...(nextToken ? { nextToken } : {}),
        }),
      );
      return {
        items: (out.items ?? []).map((item) =>
          normaliseRecord(CODECATALYST_FIELDS, item as unknown as Record<string, unknown>),
        ),
        nextToken: out.nextToken,
      };
    },
  };
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen.push({
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      if (answer.status === 200) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(body);
        return;
      }
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const env = { CODECATALYST_TOKEN: TOKEN, AWS_ENDPOINT_URL_CODECATALYST: endpoint };
  fastClient = await codecatalyst.createClient({ env });
  slowClient = await codecatalyst.createClient({ env, fastPageReader: false });
  officialClient = official(endpoint);
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

type Outcome =
  | { ok: true; items: string[]; nextToken: string | undefined }
  | { ok: false; name: string; retry: ErrorClass; status?: number };

async function page(
  client: SourceClient,
  text: string,
  request: { instance?: string; nextToken?: string; start?: number } = {},
): Promise<Outcome> {
  body = text;
  try {
    const out = await client.listPage({
      instance: request.instance ?? 'space',
      start: request.start ?? 0,
      end: 3_600_000,
      nextToken: request.nextToken,
      pageSize: 250,
    });
    return {
      ok: true,
      items: out.items.map((r) => canonicalJson(CODECATALYST_FIELDS, r)),
      nextToken: out.nextToken,
    };
  } catch (err) {
    const status = httpStatusOf(err);
    return {
      ok: false,
      name: (err as Error).name,
      retry: classifyError(err),
      ...(status && status >= 300 ? { status } : {}),
    };
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

describe('the CodeCatalyst client against the official one', () => {
  it('gives exactly what the official client and normalisation give, on both paths, for 1,000 generated pages', async () => {
    let ordinary = 0;
    // The SDK warns on stderr for each number it coerces into a string; the outcome is compared instead.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    await fc.assert(
      fc.asyncProperty(pageBody, async (generated) => {
        const text = typeof generated === 'string' ? generated : JSON.stringify(generated);
        if (readEventLogPage(CODECATALYST_FIELDS, text)) ordinary++;
        const expected = await page(officialClient, text);
        expect(await page(fastClient, text)).toEqual(expected);
        expect(await page(slowClient, text)).toEqual(expected);
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
    expect(fast).toEqual(await page(officialClient, text));
    expect(fast).toMatchObject({ ok: true, nextToken: 'next-page' });
  });

  it('sends the request the official client sends', async () => {
    const requests = [
      { instance: 'space', start: 0 },
      { instance: 'my space/ü+*', start: 1_700_000_000_123, nextToken: 'a+b/c==' },
    ];
    for (const request of requests) {
      seen.length = 0;
      await page(officialClient, '{}', request);
      await page(fastClient, '{}', request);
      expect(seen).toHaveLength(2);
      const [theirs, ours] = seen as [SeenRequest, SeenRequest];
      expect(ours.method).toBe(theirs.method);
      expect(ours.url).toBe(theirs.url);
      expect(ours.body).toBe(theirs.body);
      for (const header of ['content-type', 'authorization', 'content-length'])
        expect(ours.headers[header], header).toBe(theirs.headers[header]);
    }
    expect(JSON.parse(seen[1]!.body)).toEqual({
      endTime: '1970-01-01T01:00:00Z',
      maxResults: 250,
      nextToken: 'a+b/c==',
      startTime: '2023-11-14T22:13:20.123Z',
    });
  });

  it.each([
    [429, { 'x-amzn-ErrorType': 'ThrottlingException' }, '{"message":"slow down"}'],
    [400, {}, '{"__type":"com.amazonaws.codecatalyst#ValidationException","message":"bad"}'],
    [403, {}, '{"code":"AccessDeniedException","message":"no"}'],
    [500, { 'x-amzn-ErrorType': 'InternalServerException:http://internal' }, '{}'],
    [503, { 'content-type': 'text/plain' }, 'Service Unavailable'],
    [404, { 'x-amzn-ErrorType': 'ResourceNotFoundException' }, 'not json'],
  ])(
    'decodes a %i error as the official client does: name, status and retry class',
    async (status, headers, text) => {
      answer = { status, headers, body: text };
      try {
        const theirs = await page(officialClient, '');
        const ours = await page(fastClient, '');
        expect(ours).toMatchObject({ ok: false, status });
        if (theirs.ok || ours.ok) throw new Error('expected errors');
        expect(theirs).toMatchObject({ status });
        expect(ours.retry).toBe(theirs.retry);
        // A body that is not JSON: the official client throws its parser's SyntaxError; ours is named
        // after the type header, else the status.
        const header = (headers as Record<string, string>)['x-amzn-ErrorType'];
        expect(ours.name).toBe(theirs.name === 'SyntaxError' ? (header ?? `Http${status}`) : theirs.name);
      } finally {
        answer = { status: 200, headers: {}, body: '' };
      }
    },
  );

  it('answers a throttle with the error the pipeline backs off on', async () => {
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

describe('the CodeCatalyst client on a source that does not answer', () => {
  it('gives up after the request timeout with an error the pipeline retries, and stops when aborted', async () => {
    const silent = createServer((req) => req.resume());
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const env = {
        CODECATALYST_TOKEN: 't',
        AWS_ENDPOINT_URL_CODECATALYST: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
      };
      const client = await codecatalyst.createClient({ env, requestTimeoutMs: 50 });
      const request = { instance: 's', start: 0, end: 1000, nextToken: undefined, pageSize: 250 };
      const timedOut = await client.listPage(request).catch((err: unknown) => err);
      expect(timedOut).toMatchObject({
        name: 'TimeoutError',
        message: 'ListEventLogs: no answer within 50 ms',
      });
      expect(classifyError(timedOut)).toBe('transient');

      const patient = await codecatalyst.createClient({ env });
      const abort = new AbortController();
      const pending = patient.listPage({ ...request, signal: abort.signal }).catch((err: unknown) => err);
      abort.abort();
      expect(await pending).toMatchObject({ name: 'AbortError' });
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe('guessNextToken', () => {
  it.each([
    ['{"items":[],"nextToken":"abc=="}', 'abc=='],
    ['{"nextToken":"first","items":[{"id":"x"}]}', 'first'],
    // An item's own field of the name comes last: the guess is wrong, and the paginator checks it.
    ['{"nextToken":"page","items":[{"nextToken":"item"}]}', 'item'],
    // In a string value the quotes are escaped: never a key.
    ['{"items":[{"data":"{\\"nextToken\\":\\"x\\"}"}]}', undefined],
    ['{"items":[]}', undefined],
    ['{"items":[],"nextToken":"a\\u0041b"}', undefined],
    ['{"items":[],"nextToken" : "spaced"}', undefined],
  ])('in %s finds %s', (text, expected) => {
    expect(guessNextToken(Buffer.from(text))).toBe(expected);
  });
});
