import {
  CodeCatalystClient,
  type CodeCatalystServiceException,
  type EventLogEntry,
  ListEventLogsCommand,
  type ListEventLogsCommandInput,
  paginateListEventLogs,
} from '@aws-sdk/client-codecatalyst';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type CodeCatalystServer,
  type CodeCatalystServerOptions,
  DEFAULT_MAX_RESULTS,
  parseRfc3339,
  startCodeCatalystServer,
} from './codecatalyst-server';
import { type EventLogEntryWire, generateEvents } from './sample-events';

const TOKEN = 'tkn';
const DAY = 86_400_000;
const FROM = Date.UTC(2026, 0, 1);
const NOW = FROM + 10 * DAY;

const servers: CodeCatalystServer[] = [];
const clients: CodeCatalystClient[] = [];

async function start(options: CodeCatalystServerOptions = {}): Promise<CodeCatalystServer> {
  const server = await startCodeCatalystServer({ tokens: [TOKEN], now: () => NOW, ...options });
  servers.push(server);
  return server;
}

function clientFor(server: CodeCatalystServer, extra: { maxAttempts?: number; token?: string } = {}) {
  const client = new CodeCatalystClient({
    region: 'us-east-1',
    endpoint: server.url,
    token: { token: extra.token ?? TOKEN },
    ...(extra.maxAttempts === undefined ? {} : { maxAttempts: extra.maxAttempts }),
  });
  clients.push(client);
  return client;
}

async function rejection(promise: Promise<unknown>): Promise<CodeCatalystServiceException> {
  try {
    await promise;
  } catch (err) {
    return err as CodeCatalystServiceException;
  }
  throw new Error('expected the call to fail');
}

async function listAll(
  client: CodeCatalystClient,
  input: ListEventLogsCommandInput,
): Promise<{ items: EventLogEntry[]; pages: number }> {
  const items: EventLogEntry[] = [];
  let pages = 0;
  for await (const page of paginateListEventLogs({ client }, { ...input })) {
    pages++;
    items.push(...(page.items ?? []));
  }
  return { items, pages };
}

function window(events: EventLogEntryWire[], startMs: number, endMs: number): EventLogEntryWire[] {
  return events.filter((e) => {
    const t = Date.parse(e.eventTime);
    return t >= startMs && t < endMs;
  });
}

afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe('sample-events', () => {
  const opts = { count: 20_000, fromMs: FROM, toMs: FROM + DAY, seed: 3 };
  const sample = generateEvents(opts);

  it('returns the same events when called twice with the same options', () => {
    expect(generateEvents({ ...opts, count: 50 })).toEqual(sample.slice(0, 50));
  });

  it('returns unique ids within a call and across seeds and prefixes', () => {
    const other = generateEvents({ ...opts, seed: 4 });
    const prefixed = generateEvents({ ...opts, idPrefix: 'p-' });
    const ids = new Set([...sample, ...other, ...prefixed].map((e) => e.id));
    expect(ids.size).toBe(3 * opts.count);
    expect(sample[0]!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('returns wire-shaped events within [fromMs, toMs) with absent, never empty, optional structs', () => {
    const share = (f: (e: EventLogEntryWire) => boolean) => sample.filter(f).length / sample.length;
    // Plain checks per event and one expect at the end: 20,000 × expect() would take seconds.
    const problems: string[] = [];
    for (const e of sample) {
      const t = Date.parse(e.eventTime);
      if (!(t >= opts.fromMs && t < opts.toMs)) problems.push(`${e.id}: eventTime out of range`);
      if (e.eventTime !== new Date(t).toISOString()) problems.push(`${e.id}: eventTime format`);
      for (const struct of [e.projectInformation, e.requestPayload, e.responsePayload]) {
        if (struct !== undefined && Object.keys(struct).length === 0) problems.push(`${e.id}: empty struct`);
      }
      if (Object.values(e).includes(null)) problems.push(`${e.id}: null field`);
      if ((e.userIdentity.awsAccountId !== undefined) !== (e.userIdentity.userType === 'AWS_ACCOUNT')) {
        problems.push(`${e.id}: awsAccountId`);
      }
      for (const payload of [e.requestPayload, e.responsePayload]) {
        const data = payload?.data;
        if (data === undefined) continue;
        if (data.length < 75 || data.length > 435) problems.push(`${e.id}: payload length ${data.length}`);
        try {
          JSON.parse(data);
        } catch {
          problems.push(`${e.id}: payload is not JSON`);
        }
      }
    }
    expect(problems.slice(0, 10)).toEqual([]);
    expect(share((e) => e.projectInformation === undefined)).toBeCloseTo(0.1, 1);
    expect(share((e) => e.responsePayload !== undefined)).toBeCloseTo(0.6, 1);
    expect(share((e) => e.errorCode !== undefined)).toBeCloseTo(0.02, 2);
    expect(new Set(sample.map((e) => e.eventName)).size).toBe(40);
    expect(new Set(sample.map((e) => e.userIdentity.principalId)).size).toBe(50);
    expect(new Set(sample.map((e) => e.projectInformation?.projectId).filter(Boolean)).size).toBe(20);
  });
});

describe('codecatalyst-server', () => {
  const events = generateEvents({ count: 1500, fromMs: FROM, toMs: FROM + 3 * DAY, seed: 11 });

  describe('listing', () => {
    let server: CodeCatalystServer;
    let client: CodeCatalystClient;

    beforeAll(async () => {
      server = await start({ spaces: { 'my.space_x-1': events } });
    });

    it('returns every event of the window exactly once across pages when paginated', async () => {
      const startMs = FROM + DAY / 2;
      const endMs = FROM + 2 * DAY;
      client = clientFor(server);
      const { items, pages } = await listAll(client, {
        spaceName: 'my.space_x-1',
        startTime: new Date(startMs),
        endTime: new Date(endMs),
        maxResults: 100,
      });
      const expected = window(events, startMs, endMs);
      expect(items).toHaveLength(expected.length);
      expect(new Set(items.map((i) => i.id)).size).toBe(expected.length);
      expect(new Set(items.map((i) => i.id))).toEqual(new Set(expected.map((e) => e.id)));
      expect(pages).toBe(Math.ceil(expected.length / 100));
      for (const item of items) {
        expect(item.eventTime!.getTime()).toBeGreaterThanOrEqual(startMs);
        expect(item.eventTime!.getTime()).toBeLessThan(endMs);
      }
    });

    it('returns items in a stable non-chronological order when the same window is listed twice', async () => {
      client = clientFor(server);
      const input = { spaceName: 'my.space_x-1', startTime: new Date(FROM), endTime: new Date(FROM + DAY) };
      const first = (await listAll(client, { ...input, maxResults: 250 })).items.map((i) => i.id);
      const second = (await listAll(client, { ...input, maxResults: 37 })).items.map((i) => i.id);
      expect(second).toEqual(first);
      const times = (await listAll(client, input)).items.map((i) => i.eventTime!.getTime());
      const sorted = [...times].sort((a, b) => a - b);
      expect(times).not.toEqual(sorted);
    });

    it('returns SDK-shaped items with absent optional fields omitted and eventTime as a Date', async () => {
      client = clientFor(server);
      const { items } = await listAll(client, {
        spaceName: 'my.space_x-1',
        startTime: new Date(FROM),
        endTime: new Date(FROM + 3 * DAY),
        maxResults: 250,
      });
      const byId = new Map(events.map((e) => [e.id, e]));
      for (const item of items.slice(0, 300)) {
        const wire = byId.get(item.id!)!;
        expect(item.eventTime).toBeInstanceOf(Date);
        expect(item.eventTime!.toISOString()).toBe(wire.eventTime);
        expect({ ...item, eventTime: wire.eventTime }).toEqual(wire);
      }
      expect(items.some((i) => i.projectInformation === undefined)).toBe(true);
      expect(items.some((i) => i.userIdentity?.awsAccountId !== undefined)).toBe(true);
    });

    it('returns DEFAULT_MAX_RESULTS items when maxResults is absent', async () => {
      client = clientFor(server);
      const out = await client.send(
        new ListEventLogsCommand({
          spaceName: 'my.space_x-1',
          startTime: new Date(FROM),
          endTime: new Date(NOW),
        }),
      );
      expect(out.items).toHaveLength(DEFAULT_MAX_RESULTS);
      expect(out.nextToken).toBeTruthy();
    });

    it('returns only events of that name when eventName is given', async () => {
      client = clientFor(server);
      const name = events[0]!.eventName;
      const { items } = await listAll(client, {
        spaceName: 'my.space_x-1',
        startTime: new Date(FROM),
        endTime: new Date(NOW),
        eventName: name,
        maxResults: 50,
      });
      expect(items.length).toBe(events.filter((e) => e.eventName === name).length);
      expect(items.every((i) => i.eventName === name)).toBe(true);
    });

    it('returns no items and no token when startTime equals endTime', async () => {
      client = clientFor(server);
      const out = await client.send(
        new ListEventLogsCommand({
          spaceName: 'my.space_x-1',
          startTime: new Date(FROM),
          endTime: new Date(FROM),
        }),
      );
      expect(out.items).toEqual([]);
      expect(out.nextToken).toBeUndefined();
    });

    it('accepts a page size change between pages when the rest of the request is unchanged', async () => {
      client = clientFor(server);
      const input = { spaceName: 'my.space_x-1', startTime: new Date(FROM), endTime: new Date(FROM + DAY) };
      const first = await client.send(new ListEventLogsCommand({ ...input, maxResults: 10 }));
      const second = await client.send(
        new ListEventLogsCommand({ ...input, maxResults: 250, nextToken: first.nextToken }),
      );
      const all = (await listAll(client, { ...input, maxResults: 250 })).items.map((i) => i.id);
      expect([...first.items!, ...second.items!].map((i) => i.id)).toEqual(all.slice(0, 260));
    });

    it('sends the space percent-encoded, times as ISO strings and the token only as a bearer header', async () => {
      server.resetStats();
      client = clientFor(server);
      await client.send(
        new ListEventLogsCommand({
          spaceName: 'my.space_x-1',
          startTime: new Date(FROM),
          endTime: new Date(FROM + 123),
          maxResults: 5,
        }),
      );
      const err = await rejection(
        client.send(
          new ListEventLogsCommand({
            spaceName: 'a b/c',
            startTime: new Date(FROM),
            endTime: new Date(FROM + 1),
          }),
        ),
      );
      expect(err.name).toBe('ValidationException');

      const [ok, bad] = server.requests;
      expect(ok!.method).toBe('POST');
      expect(ok!.url).toBe('/v1/spaces/my.space_x-1/eventLogs');
      expect(JSON.parse(ok!.body)).toEqual({
        startTime: '2026-01-01T00:00:00Z',
        endTime: '2026-01-01T00:00:00.123Z',
        maxResults: 5,
      });
      expect(bad!.url).toBe('/v1/spaces/a%20b%2Fc/eventLogs');
      for (const request of server.requests) {
        expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
        const { authorization: _, ...otherHeaders } = request.headers;
        expect(JSON.stringify([request.url, request.body, otherHeaders])).not.toContain(TOKEN);
      }
    });
  });

  describe('validation and access', () => {
    let server: CodeCatalystServer;

    beforeAll(async () => {
      server = await start({
        spaces: { myspace: events.slice(0, 10), secret: [] },
        deniedSpaces: ['secret'],
      });
    });

    const base = { spaceName: 'myspace', startTime: new Date(FROM), endTime: new Date(FROM + DAY) };
    const invalid: [string, Partial<ListEventLogsCommandInput> & Record<string, unknown>, string][] = [
      ['maxResults is 0', { maxResults: 0 }, 'maxResults'],
      ['maxResults is 251', { maxResults: 251 }, 'maxResults'],
      ['maxResults is not an integer', { maxResults: 2.5 }, 'maxResults'],
      ['spaceName is too short', { spaceName: 'ab' }, 'spaceName'],
      ['spaceName is too long', { spaceName: 'a'.repeat(64) }, 'spaceName'],
      ['spaceName has a space', { spaceName: 'my space' }, 'spaceName'],
      ['spaceName has two separators in a row', { spaceName: 'my..space' }, 'spaceName'],
      ['spaceName starts with a separator', { spaceName: '-myspace' }, 'spaceName'],
      ['endTime is before startTime', { endTime: new Date(FROM - 1) }, 'endTime'],
      ['startTime is missing', { startTime: undefined }, 'startTime'],
      ['endTime is missing', { endTime: undefined }, 'endTime'],
      ['nextToken is empty', { nextToken: '' }, 'nextToken'],
      ['nextToken is longer than 10000', { nextToken: 'x'.repeat(10001) }, 'nextToken'],
      ['nextToken was never issued', { nextToken: 'eyJ2IjoxfQ.AAAA' }, 'nextToken'],
    ];

    it.each(invalid)('returns ValidationException naming the field when %s', async (_, patch, field) => {
      const client = clientFor(server, { maxAttempts: 1 });
      const err = await rejection(
        client.send(new ListEventLogsCommand({ ...base, ...patch } as ListEventLogsCommandInput)),
      );
      expect(err.name).toBe('ValidationException');
      expect(err.$metadata.httpStatusCode).toBe(400);
      expect(err.message).toContain(field);
    });

    it('accepts the longest and shortest valid space names when they exist', async () => {
      const long = `a${'-b'.repeat(31)}`;
      server.addEvents(long, []);
      server.addEvents('a_b', []);
      const client = clientFor(server);
      for (const spaceName of [long, 'a_b']) {
        const out = await client.send(new ListEventLogsCommand({ ...base, spaceName }));
        expect(out.items).toEqual([]);
      }
    });

    it('returns AccessDeniedException when the bearer token is wrong', async () => {
      const client = clientFor(server, { token: 'nope', maxAttempts: 1 });
      const err = await rejection(client.send(new ListEventLogsCommand(base)));
      expect(err.name).toBe('AccessDeniedException');
      expect(err.$metadata.httpStatusCode).toBe(403);
      expect(err.message).toContain('authorization');
    });

    it('returns AccessDeniedException when the space is denied', async () => {
      const err = await rejection(
        clientFor(server).send(new ListEventLogsCommand({ ...base, spaceName: 'secret' })),
      );
      expect(err.name).toBe('AccessDeniedException');
      expect(err.$metadata.httpStatusCode).toBe(403);
    });

    it('returns ResourceNotFoundException when the space does not exist', async () => {
      const err = await rejection(
        clientFor(server).send(new ListEventLogsCommand({ ...base, spaceName: 'nothere' })),
      );
      expect(err.name).toBe('ResourceNotFoundException');
      expect(err.$metadata.httpStatusCode).toBe(404);
    });

    it('returns ValidationException when a nextToken of another request is used', async () => {
      server.addEvents('myspace', events);
      const client = clientFor(server);
      const first = await client.send(new ListEventLogsCommand({ ...base, maxResults: 5 }));
      expect(first.nextToken).toBeTruthy();
      for (const patch of [
        { endTime: new Date(FROM + 2 * DAY) },
        { startTime: new Date(FROM + 1) },
        { eventName: 'getSpace' },
      ]) {
        const err = await rejection(
          client.send(new ListEventLogsCommand({ ...base, ...patch, nextToken: first.nextToken })),
        );
        expect(err.name).toBe('ValidationException');
        expect(err.message).toContain('nextToken');
      }
      const other = await start({ spaces: { myspace: events } });
      const err = await rejection(
        clientFor(other).send(new ListEventLogsCommand({ ...base, nextToken: first.nextToken })),
      );
      expect(err.name).toBe('ValidationException');
    });

    it('parses the RFC 3339 forms the SDK and the reference use', () => {
      expect(parseRfc3339('2026-01-02T03:04:05Z')).toBe(Date.UTC(2026, 0, 2, 3, 4, 5));
      expect(parseRfc3339('2026-01-02T03:04:05.678Z')).toBe(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
      expect(parseRfc3339('2022-12-01T22:47:24.605000+00:00')).toBe(Date.UTC(2022, 11, 1, 22, 47, 24, 605));
      expect(parseRfc3339('2026-01-02T05:04:05+02:00')).toBe(Date.UTC(2026, 0, 2, 3, 4, 5));
      expect(parseRfc3339('2022-11-30')).toBe(Date.UTC(2022, 10, 30));
      expect(parseRfc3339('0099-01-01T00:00:00Z')).toBe(Date.parse('0099-01-01T00:00:00Z'));
      for (const bad of [
        '2026-02-30T00:00:00Z',
        '2026-01-02T03:04:05',
        '2026-1-2T03:04:05Z',
        '1767225600',
        '',
      ]) {
        expect(parseRfc3339(bad)).toBeUndefined();
      }
    });
  });

  describe('expiry and late events', () => {
    it('returns only events younger than the retention when the clock moves', async () => {
      const evs = generateEvents({ count: 400, fromMs: FROM, toMs: FROM + 4 * DAY, seed: 5 });
      const server = await start({
        spaces: { myspace: evs },
        retentionMs: 2 * DAY,
        now: () => FROM + 4 * DAY,
      });
      const client = clientFor(server);
      const input = { spaceName: 'myspace', startTime: new Date(FROM), endTime: new Date(FROM + 4 * DAY) };

      const { items } = await listAll(client, input);
      expect(new Set(items.map((i) => i.id))).toEqual(
        new Set(window(evs, FROM + 2 * DAY, FROM + 4 * DAY).map((e) => e.id)),
      );
      expect(server.events('myspace')).toHaveLength(items.length);

      server.setNow(FROM + 5 * DAY);
      const later = await listAll(client, input);
      expect(later.items).toHaveLength(window(evs, FROM + 3 * DAY, FROM + 4 * DAY).length);
    });

    it('returns late events in a new listing when they are added after an earlier listing', async () => {
      const evs = generateEvents({ count: 200, fromMs: FROM, toMs: FROM + DAY, seed: 6 });
      const server = await start({ spaces: { myspace: evs } });
      const client = clientFor(server);
      const input = { spaceName: 'myspace', startTime: new Date(FROM), endTime: new Date(FROM + DAY) };
      expect((await listAll(client, input)).items).toHaveLength(200);

      const late = generateEvents({ count: 30, fromMs: FROM, toMs: FROM + DAY, seed: 6, idPrefix: 'late-' });
      server.addEvents('myspace', late);
      const again = (await listAll(client, input)).items.map((i) => i.id!);
      expect(again).toHaveLength(230);
      expect(again.filter((id) => id.startsWith('late-'))).toHaveLength(30);

      expect(server.removeEvents('myspace', late.map((e) => e.id).slice(0, 10))).toBe(10);
      expect((await listAll(client, input)).items).toHaveLength(220);
    });

    it('returns every remaining event once when events are added and removed mid-pagination', async () => {
      const evs = generateEvents({ count: 300, fromMs: FROM, toMs: FROM + DAY, seed: 7 });
      const server = await start({ spaces: { myspace: evs } });
      const client = clientFor(server);
      const input = {
        spaceName: 'myspace',
        startTime: new Date(FROM),
        endTime: new Date(FROM + DAY),
        maxResults: 50,
      };
      const first = await client.send(new ListEventLogsCommand(input));
      const firstIds = first.items!.map((i) => i.id!);
      const remove = evs
        .map((e) => e.id)
        .filter((id) => !firstIds.includes(id))
        .slice(0, 20);
      server.removeEvents('myspace', remove);
      server.addEvents(
        'myspace',
        generateEvents({ count: 40, fromMs: FROM, toMs: FROM + DAY, seed: 8, idPrefix: 'x-' }),
      );

      const rest: string[] = [];
      let token = first.nextToken;
      while (token) {
        const page = await client.send(new ListEventLogsCommand({ ...input, nextToken: token }));
        rest.push(...page.items!.map((i) => i.id!));
        token = page.nextToken;
      }
      const all = [...firstIds, ...rest];
      expect(new Set(all).size).toBe(all.length);
      const original = evs.map((e) => e.id).filter((id) => !remove.includes(id));
      expect(all.filter((id) => !id.startsWith('x-')).sort()).toEqual(original.sort());
    });
  });

  describe('paging quirks', () => {
    it('repeats the last item of a page as the first of the next when repeatAcrossPages is on', async () => {
      const server = await start({ spaces: { myspace: events }, repeatAcrossPages: true });
      const client = clientFor(server);
      const pages: string[][] = [];
      for await (const page of paginateListEventLogs(
        { client },
        { spaceName: 'myspace', startTime: new Date(FROM), endTime: new Date(FROM + DAY), maxResults: 40 },
      )) {
        pages.push(page.items!.map((i) => i.id!));
      }
      const expected = window(events, FROM, FROM + DAY).length;
      expect(pages.length).toBeGreaterThan(2);
      for (let p = 1; p < pages.length; p++) expect(pages[p]![0]).toBe(pages[p - 1]!.at(-1));
      const flat = pages.flat();
      expect(new Set(flat).size).toBe(expected);
      expect(flat).toHaveLength(expected + pages.length - 1);
    });

    it('returns empty pages with a token that the paginator follows when emptyPages is on', async () => {
      const server = await start({
        spaces: { myspace: events },
        emptyPages: true,
        emptyPageProbability: 0.5,
      });
      const client = clientFor(server);
      const { items, pages } = await listAll(client, {
        spaceName: 'myspace',
        startTime: new Date(FROM),
        endTime: new Date(FROM + 3 * DAY),
        maxResults: 100,
      });
      expect(server.stats.emptyPages).toBeGreaterThan(0);
      expect(pages).toBe(server.stats.pages);
      expect(items).toHaveLength(events.length);
      expect(new Set(items.map((i) => i.id)).size).toBe(events.length);
    });
  });

  describe('faults, latency and stats', () => {
    const input = {
      spaceName: 'myspace',
      startTime: new Date(FROM),
      endTime: new Date(FROM + DAY),
      maxResults: 10,
    };

    it.each([
      ['serverError', 1],
      ['reset', 1],
      ['truncate', 1],
      ['throttle', 1],
    ] as const)('returns the page after SDK retries when %s is injected', async (kind, count) => {
      const server = await start({ spaces: { myspace: events } });
      server.failNext(kind, count);
      const out = await clientFor(server).send(new ListEventLogsCommand(input));
      expect(out.items).toHaveLength(10);
      expect(out.$metadata.attempts).toBe(count + 1);
      expect(server.stats.faults[kind]).toBe(count);
      expect(server.stats.pages).toBe(1);
    });

    it('surfaces ThrottlingException and server errors when the client makes one attempt', async () => {
      const server = await start({ spaces: { myspace: events } });
      const client = clientFor(server, { maxAttempts: 1 });
      server.failNext('throttle');
      const throttled = await rejection(client.send(new ListEventLogsCommand(input)));
      expect(throttled.name).toBe('ThrottlingException');
      expect(throttled.$metadata.httpStatusCode).toBe(429);

      server.failNext('serverError');
      const internal = await rejection(client.send(new ListEventLogsCommand(input)));
      expect(internal.name).toBe('InternalServerException');
      expect(internal.$metadata.httpStatusCode).toBe(500);
    });

    it.each([
      ['ServiceQuotaExceededException', 402],
      ['ConflictException', 409],
      ['ValidationException', 400],
    ] as const)('returns %s without a retry when it is scripted', async (name, status) => {
      const server = await start({ spaces: { myspace: events } });
      server.failNextWith(name);
      const err = await rejection(clientFor(server).send(new ListEventLogsCommand(input)));
      expect(err.name).toBe(name);
      expect(err.$metadata.httpStatusCode).toBe(status);
      expect(err.$metadata.attempts).toBe(1);
    });

    it('throws a SyntaxError that the SDK does not retry when a plain-text 503 arrives', async () => {
      const server = await start({ spaces: { myspace: events } });
      server.failNext('unavailable');
      const err = await rejection(clientFor(server).send(new ListEventLogsCommand(input)));
      expect(err.name).toBe('SyntaxError');
      expect((err as unknown as { $response: { statusCode: number } }).$response.statusCode).toBe(503);
      expect(server.stats.requests).toBe(1);
      expect(server.stats.byError).toEqual({ ServiceUnavailable: 1 });
    });

    it('gives up after three attempts when every attempt is throttled', async () => {
      const server = await start({ spaces: { myspace: events }, faults: { throttle: 1 } });
      const err = await rejection(clientFor(server).send(new ListEventLogsCommand(input)));
      expect(err.name).toBe('ThrottlingException');
      expect(err.$metadata.attempts).toBe(3);
      expect(server.stats.requests).toBe(3);
    });

    it('injects the same fault sequence when two servers have the same seed', async () => {
      const sequences: (string | undefined)[][] = [];
      for (let n = 0; n < 2; n++) {
        const server = await start({
          spaces: { myspace: events },
          seed: 99,
          faults: { serverError: 0.3, reset: 0.2, truncate: 0.2 },
        });
        const client = clientFor(server, { maxAttempts: 1 });
        for (let i = 0; i < 15; i++)
          await client.send(new ListEventLogsCommand(input)).catch(() => undefined);
        sequences.push(server.requests.map((r) => r.fault));
        await server.close();
      }
      expect(sequences[0]).toEqual(sequences[1]);
      expect(new Set(sequences[0])).toEqual(new Set([undefined, 'serverError', 'reset', 'truncate']));
    });

    it('rejects requests beyond maxConcurrent with ThrottlingException', async () => {
      const server = await start({
        spaces: { myspace: events },
        latencyMs: 300,
        faults: { maxConcurrent: 2 },
      });
      const client = clientFor(server, { maxAttempts: 1 });
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, () => client.send(new ListEventLogsCommand(input))),
      );
      const rejected = results.filter((r) => r.status === 'rejected');
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
      expect(rejected).toHaveLength(4);
      for (const r of rejected) expect((r.reason as Error).name).toBe('ThrottlingException');
      expect(server.stats.faults.maxConcurrent).toBe(4);
      expect(server.stats.maxInFlight).toBeGreaterThanOrEqual(3);
    });

    it('serves concurrent requests in parallel when latency is set', async () => {
      const server = await start({ spaces: { myspace: events }, latencyMs: 100 });
      const client = clientFor(server);
      const started = performance.now();
      await Promise.all(Array.from({ length: 8 }, () => client.send(new ListEventLogsCommand(input))));
      const elapsed = performance.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(95);
      expect(elapsed).toBeLessThan(4 * 100); // sequential would take 8 × 100 ms
      expect(server.stats.maxInFlight).toBe(8);
      expect(server.stats).toMatchObject({ requests: 8, pages: 8, items: 80, byStatus: { '200': 8 } });

      server.resetStats();
      expect(server.stats.requests).toBe(0);
      expect(server.requests).toEqual([]);
    });

    it('closes promptly when a keep-alive connection is open', async () => {
      const server = await startCodeCatalystServer({ tokens: [TOKEN], spaces: { myspace: events } });
      const client = clientFor(server);
      await client.send(new ListEventLogsCommand(input));
      const started = performance.now();
      await server.close();
      expect(performance.now() - started).toBeLessThan(1000);
    });
  });
});
