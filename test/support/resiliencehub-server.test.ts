/**
 * The ListSystemEvents stand-in checked on its own: its SigV4 verifier against AWS's published
 * vectors and against requests signed by `@smithy/signature-v4` (and tampered with), the API reference's
 * validation, errors and paging, tokens, faults, late events and expiry. Raw HTTP throughout, so
 * nothing of the archive's client is assumed here.
 */
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, describe, expect, it } from 'vitest';
import {
  canonicalRequest,
  DEFAULT_MAX_RESULTS,
  type ResilienceHubServer,
  type ResilienceHubServerOptions,
  type SigningCredentials,
  signingKey,
  startResilienceHubServer,
  TEST_CREDENTIALS,
  uriEncode,
} from './resiliencehub-server';
import { generateSystemEvents, RawJson, type SystemEventWire } from './sample-system-events';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 20, 12);
const ARN = 'arn:aws:resiliencehub:us-west-2:123456789012:system/checkout:abc123';
const OTHER = 'arn:aws:resiliencehub:us-west-2:123456789012:system/payments:def456';
const KEY = TEST_CREDENTIALS[0]!;
const SESSION_KEY = TEST_CREDENTIALS[1]!;

const servers: ResilienceHubServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function start(options: ResilienceHubServerOptions = {}): Promise<ResilienceHubServer> {
  // Both clocks pinned: requests are signed at NOW too (see call), so no answer depends on the hour.
  const server = await startResilienceHubServer({ now: () => NOW, signatureNow: () => NOW, ...options });
  servers.push(server);
  return server;
}

type Query = Record<string, string | string[]>;

interface CallOptions {
  credentials?: SigningCredentials;
  service?: string;
  region?: string;
  signingDate?: Date;
  /** Changes the URL after signing. */
  tamper?: (url: string) => string;
  unsigned?: boolean;
  headers?: Record<string, string>;
  /** Header values sent instead of the signed ones. */
  sendHeaders?: Record<string, string>;
  method?: 'GET' | 'POST';
  path?: string;
}

interface Answer {
  status: number;
  errorType: string | null;
  body: Record<string, unknown>;
  text: string;
}

const encodeQuery = (query: Query): string =>
  Object.entries(query)
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${uriEncode(k)}=${uriEncode(x)}`))
    .join('&');

/** A request signed by @smithy/signature-v4, as an AWS SDK would send it. */
async function call(server: ResilienceHubServer, query: Query, options: CallOptions = {}): Promise<Answer> {
  const url = new URL(server.url);
  const path = options.path ?? '/v2/list-system-events';
  const credentials = options.credentials ?? KEY;
  let headers: Record<string, string> = { host: url.host, ...options.headers };
  if (!options.unsigned) {
    const signer = new SignatureV4({
      service: options.service ?? 'resiliencehub',
      region: options.region ?? 'us-west-2',
      credentials,
      sha256: class {
        readonly hash;
        constructor(secret?: string | Uint8Array) {
          this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', secret);
        }
        update(data: string | Uint8Array): void {
          this.hash.update(data);
        }
        async digest(): Promise<Uint8Array> {
          return new Uint8Array(this.hash.digest());
        }
      } as never,
    });
    const signed = await signer.sign(
      {
        method: options.method ?? 'GET',
        protocol: url.protocol,
        hostname: url.hostname,
        port: Number(url.port),
        path,
        query,
        headers,
      },
      { signingDate: options.signingDate ?? new Date(NOW) },
    );
    headers = signed.headers as Record<string, string>;
  }
  const { host: _host, ...sent } = headers;
  let target = `${server.url}${path}?${encodeQuery(query)}`;
  if (options.tamper) target = options.tamper(target);
  const response = await fetch(target, {
    method: options.method ?? 'GET',
    headers: { ...sent, ...options.sendHeaders },
  });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // plain-text fault
  }
  return { status: response.status, errorType: response.headers.get('x-amzn-errortype'), body, text };
}

async function listAll(
  server: ResilienceHubServer,
  query: Query,
): Promise<{ events: SystemEventWire[]; pages: number }> {
  const events: SystemEventWire[] = [];
  let pages = 0;
  let nextToken: string | undefined;
  do {
    const answer = await call(server, nextToken ? { ...query, nextToken } : query);
    expect(answer.status).toBe(200);
    pages++;
    events.push(...(answer.body.events as SystemEventWire[]));
    nextToken = answer.body.nextToken as string | undefined;
  } while (nextToken);
  return { events, pages };
}

const iso = (ms: number): string => new Date(ms).toISOString();
const ids = (events: SystemEventWire[]): string[] => events.map((e) => e.eventId).sort();

describe('SigV4 verification', () => {
  it('derives the signing key and signature of the published AWS examples', () => {
    // IAM User Guide, "Examples of how to derive a signing key for Signature Version 4".
    expect(
      signingKey('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20120215', 'us-east-1', 'iam').toString('hex'),
    ).toBe('f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d');
    // AWS SigV4 test suite: get-vanilla and get-vanilla-query-order-key-case.
    const sign = (query: Array<[string, string]>): string => {
      const canonical = canonicalRequest(
        'GET',
        '/',
        query,
        { host: 'example.amazonaws.com', 'x-amz-date': '20150830T123600Z' },
        ['host', 'x-amz-date'],
        createHash('sha256').update('').digest('hex'),
      );
      const stringToSign = [
        'AWS4-HMAC-SHA256',
        '20150830T123600Z',
        '20150830/us-east-1/service/aws4_request',
        createHash('sha256').update(canonical).digest('hex'),
      ].join('\n');
      return createHmac(
        'sha256',
        signingKey('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20150830', 'us-east-1', 'service'),
      )
        .update(stringToSign)
        .digest('hex');
    };
    expect(sign([])).toBe('5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
    expect(
      sign([
        ['Param2', 'value2'],
        ['Param1', 'value1'],
      ]),
    ).toBe('b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500');
  });

  it('accepts requests signed by @smithy/signature-v4, with and without a session token, and odd characters in values', async () => {
    const server = await start({ systems: { [ARN]: [] } });
    expect((await call(server, { systemArn: ARN })).status).toBe(200);
    expect((await call(server, { systemArn: ARN }, { credentials: SESSION_KEY })).status).toBe(200);
    // A token with characters that percent-encoding and canonicalisation must agree on: reaches validation.
    const odd = await call(server, { systemArn: ARN, nextToken: "a+b/c=d~e!f'g(h)*i%j" });
    expect(odd.errorType).toBe('ValidationException');
    expect(odd.body.fieldList).toEqual([
      { name: 'nextToken', message: 'is not a token issued by this service' },
    ]);
    expect(server.stats.signaturesVerified).toBe(3);
  });

  it.each<[string, CallOptions, string, RegExp]>([
    [
      'no Authorization header',
      { unsigned: true },
      'MissingAuthenticationTokenException',
      /Missing Authentication Token/,
    ],
    [
      'a wrong secret key',
      { credentials: { ...KEY, secretAccessKey: 'wrong-secret' } },
      'InvalidSignatureException',
      /signature we calculated does not match/,
    ],
    [
      'an unknown access key',
      { credentials: { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' } },
      'UnrecognizedClientException',
      /security token included in the request is invalid/,
    ],
    [
      'a wrong signing name',
      { service: 'resiliencehubv2' },
      'InvalidSignatureException',
      /scoped to correct service: 'resiliencehub'/,
    ],
    [
      'a date 20 minutes old',
      { signingDate: new Date(NOW - 20 * 60_000) },
      'InvalidSignatureException',
      /Signature expired/,
    ],
    [
      'a date 20 minutes ahead',
      { signingDate: new Date(NOW + 20 * 60_000) },
      'InvalidSignatureException',
      /Signature not yet current/,
    ],
    [
      'a session key without its token',
      { credentials: { ...SESSION_KEY, sessionToken: undefined } },
      'UnrecognizedClientException',
      /security token/,
    ],
    [
      'a wrong session token',
      { credentials: { ...SESSION_KEY, sessionToken: 'forged-token-0123456789' } },
      'UnrecognizedClientException',
      /security token/,
    ],
    [
      'a query changed after signing',
      { tamper: (u) => u.replace('maxResults=10', 'maxResults=11') },
      'InvalidSignatureException',
      /does not match/,
    ],
    [
      'a signed header changed after signing',
      { headers: { 'x-trace': 'a' }, sendHeaders: { 'x-trace': 'b' } },
      'InvalidSignatureException',
      /does not match/,
    ],
  ])('rejects %s with 403 %s', async (_case, options, errorType, message) => {
    const server = await start({ systems: { [ARN]: [] } });
    const answer = await call(server, { systemArn: ARN, maxResults: '10' }, options);
    expect(answer.status).toBe(403);
    expect(answer.errorType).toBe(errorType);
    expect(answer.body.message).toMatch(message);
    expect(server.stats.signaturesVerified).toBe(0);
  });

  it('checks the region of the credential scope when the server has one', async () => {
    const server = await start({ systems: { [ARN]: [] }, region: 'us-west-2' });
    expect((await call(server, { systemArn: ARN })).status).toBe(200);
    const wrong = await call(server, { systemArn: ARN }, { region: 'eu-west-1' });
    expect([wrong.status, wrong.errorType]).toEqual([403, 'InvalidSignatureException']);
    expect(wrong.body.message).toMatch(/scoped to a valid region/);
  });

  it('uses its own signature clock, separate from the event clock', async () => {
    const server = await start({ systems: { [ARN]: [] } });
    server.setSignatureNow(NOW + 30 * 60_000);
    expect((await call(server, { systemArn: ARN })).body.message).toMatch(/Signature expired/);
    server.setSignatureNow(NOW);
    expect((await call(server, { systemArn: ARN })).status).toBe(200);
  });
});

describe('validation and errors', () => {
  it.each<[string, Query, string, RegExp, string?]>([
    ['systemArn missing', {}, 'systemArn', /is required/, 'MISSING_REQUIRED_FIELD'],
    ['systemArn too short', { systemArn: 'arn:aws:x:us-east-1:1:s' }, 'systemArn', /minimum length of 31/],
    [
      'systemArn off pattern',
      { systemArn: 'arn:aws:resiliencehub:us-west-2:12345678901:system/x' },
      'systemArn',
      /pattern/,
    ],
    [
      'systemArn with a bad partition',
      { systemArn: 'arn:azure:resiliencehub:us-west-2:123456789012:system/x' },
      'systemArn',
      /pattern/,
    ],
    ['systemArn twice', { systemArn: [ARN, ARN] }, 'systemArn', /once/],
    [
      'an unknown eventTypes value',
      { systemArn: ARN, eventTypes: ['SYSTEM_CREATED', 'SYSTEM_EXPLODED'] },
      'eventTypes',
      /SYSTEM_EXPLODED/,
    ],
    ['maxResults 0', { systemArn: ARN, maxResults: '0' }, 'maxResults', /1 to 100/],
    ['maxResults 101', { systemArn: ARN, maxResults: '101' }, 'maxResults', /1 to 100/],
    ['maxResults not a number', { systemArn: ARN, maxResults: 'ten' }, 'maxResults', /1 to 100/],
    ['nextToken with a space', { systemArn: ARN, nextToken: 'a b' }, 'nextToken', /\\S\{1,2000\}/],
    [
      'nextToken of 2001 characters',
      { systemArn: ARN, nextToken: 'x'.repeat(2001) },
      'nextToken',
      /\\S\{1,2000\}/,
    ],
    ['nextToken empty', { systemArn: ARN, nextToken: '' }, 'nextToken', /\\S\{1,2000\}/],
    ['startTime not ISO 8601', { systemArn: ARN, startTime: 'yesterday' }, 'startTime', /ISO 8601/],
    ['endTime as epoch seconds', { systemArn: ARN, endTime: '1763640000' }, 'endTime', /ISO 8601/],
    [
      'endTime before startTime',
      { systemArn: ARN, startTime: iso(NOW), endTime: iso(NOW - 1) },
      'endTime',
      /before startTime/,
    ],
  ])(
    'answers 400 ValidationException for %s, naming the field in fieldList',
    async (_case, query, field, rule, reason) => {
      const server = await start({ systems: { [ARN]: [] } });
      const answer = await call(server, query);
      expect([answer.status, answer.errorType]).toEqual([400, 'ValidationException']);
      expect(answer.body.reason).toBe(reason ?? 'INVALID_FIELD_VALUE');
      const fieldList = answer.body.fieldList as Array<{ name: string; message: string }>;
      expect(fieldList).toHaveLength(1);
      expect(fieldList[0]!.name).toBe(field);
      expect(fieldList[0]!.message).toMatch(rule);
      expect(answer.body.message).toMatch(new RegExp(`^${field}: `));
    },
  );

  it('lists every bad field of one request', async () => {
    const server = await start({ systems: { [ARN]: [] } });
    const answer = await call(server, { systemArn: 'short', maxResults: '500', eventTypes: 'NOPE' });
    expect(answer.status).toBe(400);
    expect((answer.body.fieldList as Array<{ name: string }>).map((f) => f.name)).toEqual([
      'systemArn',
      'eventTypes',
      'maxResults',
    ]);
    expect(answer.body.message).toMatch(/^3 validation errors detected/);
  });

  it('answers 404 with resourceId and resourceType for an unknown system, 403 for a denied one, 404 for other routes', async () => {
    const server = await start({ systems: { [ARN]: [] }, deniedSystems: [OTHER] });
    const missing = ARN.replace('checkout', 'nothing');
    const notFound = await call(server, { systemArn: missing });
    expect([notFound.status, notFound.errorType]).toEqual([404, 'ResourceNotFoundException']);
    expect(notFound.body).toMatchObject({ resourceId: missing, resourceType: 'System' });
    const denied = await call(server, { systemArn: OTHER });
    expect([denied.status, denied.errorType]).toEqual([403, 'AccessDeniedException']);
    const route = await call(server, { systemArn: ARN }, { path: '/v2/list-systems' });
    expect([route.status, route.errorType]).toEqual([404, 'UnknownOperationException']);
  });
});

describe('paging', () => {
  const events = generateSystemEvents({
    count: 700,
    fromMs: NOW - 3 * DAY,
    toMs: NOW,
    systemArn: ARN,
    seed: 5,
  });

  it('returns the half-open window in stable, non-chronological pages with epoch-second timestamps', async () => {
    const server = await start({ systems: { [ARN]: events } });
    const from = NOW - 2 * DAY;
    const to = NOW - DAY;
    const expected = events.filter((e) => e.timestamp * 1000 >= from && e.timestamp * 1000 < to);
    const { events: got, pages } = await listAll(server, {
      systemArn: ARN,
      startTime: iso(from),
      endTime: iso(to),
      maxResults: '37',
    });
    expect(ids(got)).toEqual(ids(expected));
    expect(pages).toBe(Math.ceil(expected.length / 37));
    const times = got.map((e) => e.timestamp);
    expect(times).not.toEqual([...times].sort((a, b) => a - b));
    const first = await call(server, {
      systemArn: ARN,
      startTime: iso(from),
      endTime: iso(to),
      maxResults: '37',
    });
    const raw = /"timestamp":(\d+(?:\.\d+)?)/.exec(first.text)![1]!;
    expect(raw).toMatch(/^\d{10}(\.\d{1,3})?$/);
  });

  it('defaults maxResults, filters by several eventTypes and accepts offsets and bare dates', async () => {
    const server = await start({ systems: { [ARN]: events } });
    const first = await call(server, { systemArn: ARN });
    expect((first.body.events as unknown[]).length).toBe(DEFAULT_MAX_RESULTS);
    const types = ['SYSTEM_CREATED', 'SYSTEM_POLICY_ASSOCIATED'];
    const { events: filtered } = await listAll(server, {
      systemArn: ARN,
      eventTypes: types,
      maxResults: '100',
    });
    expect(ids(filtered)).toEqual(ids(events.filter((e) => types.includes(e.eventType))));
    const offset = await listAll(server, {
      systemArn: ARN,
      startTime: '2026-11-19T14:00:00+02:00',
      endTime: '2026-11-20',
      maxResults: '100',
    });
    expect(ids(offset.events)).toEqual(
      ids(
        events.filter(
          (e) =>
            e.timestamp * 1000 >= Date.UTC(2026, 10, 19, 12) && e.timestamp * 1000 < Date.UTC(2026, 10, 20),
        ),
      ),
    );
  });

  it("binds tokens to the request, rejects forged ones, other servers' ones and expired ones", async () => {
    const server = await start({ systems: { [ARN]: events, [OTHER]: events }, tokenTtlMs: 60_000 });
    const other = await start({ systems: { [ARN]: events } });
    const first = await call(server, { systemArn: ARN, maxResults: '10' });
    const token = first.body.nextToken as string;
    expect(token).toMatch(/^\S{1,2000}$/);
    const moved = await call(server, { systemArn: OTHER, maxResults: '10', nextToken: token });
    expect(moved.body.message).toMatch(/^nextToken: belongs to a different request/);
    const types = await call(server, { systemArn: ARN, eventTypes: 'SYSTEM_DELETED', nextToken: token });
    expect(types.status).toBe(400);
    expect((await call(server, { systemArn: ARN, maxResults: '20', nextToken: token })).status).toBe(200);
    const forged = `${token.slice(0, -3)}AAA`;
    expect((await call(server, { systemArn: ARN, nextToken: forged })).body.message).toMatch(
      /not a token issued/,
    );
    expect((await call(other, { systemArn: ARN, nextToken: token })).body.message).toMatch(
      /not a token issued/,
    );
    server.setNow(NOW + 61_000);
    expect((await call(server, { systemArn: ARN, nextToken: token })).body.message).toMatch(/expired/);
  });

  it('does not repeat or skip events added behind the cursor (late events), and forgets expired ones', async () => {
    const server = await start({ systems: { [ARN]: events }, retentionMs: 2 * DAY });
    expect(server.events(ARN).length).toBe(events.filter((e) => e.timestamp * 1000 >= NOW - 2 * DAY).length);
    const firstPage = await call(server, { systemArn: ARN, maxResults: '100' });
    const late = generateSystemEvents({
      count: 50,
      fromMs: NOW - DAY,
      toMs: NOW,
      systemArn: ARN,
      seed: 77,
      idPrefix: 'late-',
    });
    server.addEvents(ARN, late);
    const seen = [...(firstPage.body.events as SystemEventWire[])];
    let nextToken = firstPage.body.nextToken as string | undefined;
    while (nextToken) {
      const page = await call(server, { systemArn: ARN, maxResults: '100', nextToken });
      seen.push(...(page.body.events as SystemEventWire[]));
      nextToken = page.body.nextToken as string | undefined;
    }
    expect(new Set(ids(seen)).size).toBe(seen.length);
    expect(seen.every((e) => e.timestamp * 1000 >= NOW - 2 * DAY)).toBe(true);
    const again = await listAll(server, { systemArn: ARN, maxResults: '100' });
    expect(ids(again.events)).toEqual(ids(server.events(ARN)));
  });

  it('repeats items across pages and returns empty pages when asked to', async () => {
    const server = await start({
      systems: { [ARN]: events },
      repeatAcrossPages: true,
      emptyPages: true,
      seed: 3,
    });
    const { events: got } = await listAll(server, { systemArn: ARN, maxResults: '50' });
    expect(new Set(ids(got))).toEqual(new Set(ids(events)));
    expect(got.length).toBeGreaterThan(events.length);
    expect(server.stats.emptyPages).toBeGreaterThan(0);
  });

  it('writes RawJson metadata verbatim', async () => {
    const text = '{"systemCreated":{"big":12345678901234567890123,"2":1,"1":2,"f":1.0}}';
    const event: SystemEventWire = {
      eventId: 'raw-1',
      eventType: 'SYSTEM_CREATED',
      systemArn: ARN,
      timestamp: (NOW - 1000) / 1000,
      eventDetails: { title: 't', description: 'd', eventMetadata: new RawJson(text) },
    };
    const server = await start({ systems: { [ARN]: [event] } });
    expect((await call(server, { systemArn: ARN })).text).toContain(`"eventMetadata":${text}`);
  });
});

describe('faults', () => {
  it('injects scripted faults in order, then answers normally', async () => {
    const server = await start({ systems: { [ARN]: [] } });
    server.failNext('throttle');
    server.failNext('serverError');
    server.failNext('unavailable');
    server.failNextWith('ConflictException');
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await call(server, { systemArn: ARN }));
    expect(answers.map((a) => [a.status, a.errorType])).toEqual([
      [429, 'ThrottlingException'],
      [500, 'InternalServerException'],
      [503, null],
      [409, 'ConflictException'],
      [200, null],
    ]);
    server.failNext('reset');
    await expect(call(server, { systemArn: ARN })).rejects.toThrow();
    server.failNext('truncate');
    await expect(call(server, { systemArn: ARN })).rejects.toThrow();
    expect(server.stats.faults).toMatchObject({
      throttle: 1,
      serverError: 1,
      unavailable: 1,
      reset: 1,
      truncate: 1,
    });
    expect(server.requests.map((r) => r.fault).filter(Boolean)).toEqual([
      'throttle',
      'serverError',
      'unavailable',
      'reset',
      'truncate',
    ]);
  });

  it('draws probabilistic faults from its seed and throttles beyond maxConcurrent', async () => {
    const server = await start({ systems: { [ARN]: [] }, faults: { throttle: 0.5 }, seed: 9 });
    const statuses = [];
    for (let i = 0; i < 40; i++) statuses.push((await call(server, { systemArn: ARN })).status);
    expect(statuses.filter((s) => s === 429).length).toBe(server.stats.faults.throttle);
    expect(server.stats.faults.throttle).toBeGreaterThan(5);

    const busy = await start({ systems: { [ARN]: [] }, faults: { maxConcurrent: 2 }, latencyMs: 100 });
    const results = await Promise.all(Array.from({ length: 6 }, () => call(busy, { systemArn: ARN })));
    expect(results.filter((r) => r.status === 429).length).toBe(4);
    expect(busy.stats.faults.maxConcurrent).toBe(4);
  });
});
