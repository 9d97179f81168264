/**
 * The demo source of `npm start` (bin/demo/): its made-up month and its ListEventLogs server, driven
 * by the official CodeCatalyst SDK client.
 */
import {
  AccessDeniedException,
  CodeCatalystClient,
  ListEventLogsCommand,
  paginateListEventLogs,
  ResourceNotFoundException,
  ValidationException,
} from '@aws-sdk/client-codecatalyst';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ERROR_CODES, type DemoSpace, demoSpaceEvents } from '../../../bin/demo/codecatalyst-events';
import { type ListEventLogsServer, startListEventLogsServer } from '../../../bin/demo/list-event-logs-server';
import { demoSystemEvents } from '../../../bin/demo/resiliencehub-events';
import { CODECATALYST_FIELDS } from '../../../lambdas/core/sources/codecatalyst/schema';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../../lambdas/shared/src/time';
import { SYSTEM_EVENT_TYPES } from '../../../lambdas/shared/src/validation';
import { pinnedClock } from '../../helpers/clock';

const clock = pinnedClock(Date.UTC(2026, 11, 6, 12, 0));
const NOW = clock();
const SPACE = 'demo-space';
const TOKEN = 'demo-token';
let demo: DemoSpace;
let server: ListEventLogsServer;
let client: CodeCatalystClient;

beforeAll(async () => {
  demo = demoSpaceEvents({ nowMs: NOW, space: SPACE, seed: 2024 });
  server = await startListEventLogsServer({ spaces: { [SPACE]: demo.events }, tokens: [TOKEN], now: clock });
  client = new CodeCatalystClient({
    endpoint: server.url,
    region: 'us-east-1',
    token: { token: TOKEN },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client?.destroy();
  await server?.close();
});

describe('demo space data', () => {
  it('is exactly 20,000 events over the 30 days before the clock, with unique ids', () => {
    expect(demo.events).toHaveLength(20_000);
    expect(new Set(demo.events.map((e) => e.id)).size).toBe(20_000);
    for (const e of demo.events) {
      const t = Date.parse(e.eventTime);
      expect(t).toBeGreaterThanOrEqual(NOW - 30 * DAY_MS);
      expect(t).toBeLessThan(NOW);
    }
    const days = new Set(demo.events.map((e) => e.eventTime.slice(0, 10)));
    expect(days.size).toBeGreaterThanOrEqual(25);
  });

  it('is the same for the same seed and clock, and different for another seed', () => {
    expect(demoSpaceEvents({ nowMs: NOW, space: SPACE, seed: 2024 })).toEqual(demo);
    const other = demoSpaceEvents({ nowMs: NOW, space: SPACE, seed: 7 });
    expect(other.events).toHaveLength(20_000);
    expect(other.events.map((e) => e.id)).not.toEqual(demo.events.map((e) => e.id));
    expect(demoSpaceEvents({ nowMs: NOW, space: SPACE, seed: 7, count: 5000 }).events).toHaveLength(5000);
  });

  it("looks like a team's month: a dozen people, a handful of projects, the everyday work", () => {
    expect(demo.people).toHaveLength(12);
    expect(demo.projects.length).toBeGreaterThanOrEqual(4);
    expect(demo.projects.length).toBeLessThanOrEqual(6);
    const users = new Set(demo.events.map((e) => e.userIdentity.userName));
    for (const person of demo.people) expect(users).toContain(person);
    const names = new Set(demo.events.map((e) => e.eventName));
    for (const name of [
      'pushSourceRepository',
      'createSourceRepositoryBranch',
      'createPullRequest',
      'createPullRequestComment',
      'mergePullRequestByFastForward',
      'startWorkflowRun',
      'getWorkflowRun',
      'startDevEnvironment',
      'stopDevEnvironment',
      'createProject',
      'createAccessToken',
      'listEventLogs',
    ]) {
      expect(names).toContain(name);
    }
    // Reads make up most of a log.
    const reads = demo.events.filter((e) => e.operationType === 'READONLY').length;
    expect(reads / demo.events.length).toBeGreaterThan(0.5);
  });

  it('has only fields of the archived EventLogEntry, valid JSON payloads and documented error codes', () => {
    const allowed = new Set(CODECATALYST_FIELDS.map((f) => f.name));
    const errors = new Set<string>();
    const problems: string[] = []; // one expect at the end: 20,000 × a dozen expects is slow
    const check = (ok: boolean, what: string, id: string) => {
      if (!ok) problems.push(`${id}: ${what}`);
    };
    for (const e of demo.events) {
      for (const key of Object.keys(e)) check(allowed.has(key), `field ${key}`, e.id);
      check(['READONLY', 'MUTATION'].includes(e.operationType), 'operationType', e.id);
      check(['USER', 'AWS_ACCOUNT', 'UNKNOWN'].includes(e.userIdentity.userType), 'userType', e.id);
      check(
        (e.userIdentity.awsAccountId !== undefined) === (e.userIdentity.userType === 'AWS_ACCOUNT'),
        'awsAccountId',
        e.id,
      );
      check(e.sourceIpAddress !== '' && e.userAgent !== '', 'sourceIpAddress/userAgent', e.id);
      for (const payload of [e.requestPayload, e.responsePayload]) {
        if (!payload) continue;
        check(payload.contentType === 'application/json', 'contentType', e.id);
        try {
          const data = JSON.parse(payload.data!) as unknown;
          check(typeof data === 'object' && data !== null, 'payload is an object', e.id);
        } catch {
          check(false, 'payload is JSON', e.id);
        }
      }
      if (e.errorCode) {
        errors.add(e.errorCode);
        check(e.responsePayload === undefined, 'no response payload with an error', e.id);
      }
    }
    expect(problems.slice(0, 10)).toEqual([]);
    expect([...errors].sort()).toEqual([...DEMO_ERROR_CODES].sort());
    const failed = demo.events.filter((e) => e.errorCode).length;
    expect(failed).toBeGreaterThan(5);
    expect(failed).toBeLessThan(100);
  });

  it('has the unusual night: a role granted to an unfamiliar user from a new address, then deletions', () => {
    const { startMs, endMs, grantedBy, grantedTo, sourceIp } = demo.unusualDay;
    expect(new Date(startMs).getUTCHours()).toBeLessThan(5);
    const before = demo.events.filter((e) => Date.parse(e.eventTime) < startMs);
    expect(before.some((e) => e.userIdentity.userName === grantedTo)).toBe(false);
    expect(before.some((e) => e.sourceIpAddress === sourceIp)).toBe(false);
    const night = demo.events.filter((e) => {
      const t = Date.parse(e.eventTime);
      return t >= startMs && t < endMs;
    });
    const grant = night.find(
      (e) =>
        e.eventName === 'updateSpaceMembership' &&
        e.userIdentity.userName === grantedBy &&
        JSON.parse(e.requestPayload!.data!).role === 'Space administrator',
    );
    expect(grant).toBeDefined();
    expect(grant!.sourceIpAddress).toBe(sourceIp);
    expect(JSON.parse(grant!.requestPayload!.data!).userName).toBe(grantedTo);
    const afterGrant = night.filter(
      (e) => e.eventTime > grant!.eventTime && e.userIdentity.userName === grantedTo && !e.errorCode,
    );
    const deletions = afterGrant.filter((e) => e.eventName.startsWith('delete'));
    expect(deletions.length).toBeGreaterThanOrEqual(4);
    expect(new Set(deletions.map((e) => e.eventName))).toEqual(
      new Set(['deleteDevEnvironment', 'deleteSourceRepository', 'deleteProject']),
    );
    // Failed attempts before the grant, and the role taken back the next morning.
    expect(
      night.some((e) => e.userIdentity.userName === grantedTo && e.errorCode === 'AccessDeniedException'),
    ).toBe(true);
    expect(
      night.some(
        (e) =>
          e.eventName === 'updateSpaceMembership' &&
          e.userIdentity.userName !== grantedBy &&
          JSON.parse(e.requestPayload!.data!).userName === grantedTo,
      ),
    ).toBe(true);
    // Nothing touches what was deleted afterwards.
    const deletedProject = JSON.parse(
      deletions.find((e) => e.eventName === 'deleteProject')!.requestPayload!.data!,
    ).name as string;
    const deletedRepos = deletions
      .filter((e) => e.eventName === 'deleteSourceRepository')
      .map((e) => JSON.parse(e.requestPayload!.data!).name as string);
    const later = demo.events.filter((e) => Date.parse(e.eventTime) >= endMs);
    expect(later.some((e) => e.projectInformation?.name === deletedProject)).toBe(false);
    expect(
      later.filter((e) => deletedRepos.includes(JSON.parse(e.requestPayload!.data!).sourceRepositoryName)),
    ).toEqual([]);
  });
});

describe('demo Resilience Hub system', () => {
  it('is deterministic, in the month, with the types of the API and an unusual night', () => {
    const system = demoSystemEvents({ nowMs: NOW });
    expect(demoSystemEvents({ nowMs: NOW })).toEqual(system);
    expect(system.events.length).toBeGreaterThan(40);
    expect(new Set(system.events.map((e) => e.eventId)).size).toBe(system.events.length);
    for (const e of system.events) {
      expect(e.timestamp * 1000).toBeGreaterThanOrEqual(NOW - 30 * DAY_MS);
      expect(e.timestamp * 1000).toBeLessThan(NOW);
      expect(SYSTEM_EVENT_TYPES).toContain(e.eventType);
      expect(JSON.parse(JSON.stringify(e.eventDetails?.eventMetadata))).toBeTypeOf('object');
    }
    const night = system.events.filter(
      (e) => e.timestamp * 1000 >= system.unusualDay.startMs && e.timestamp * 1000 < system.unusualDay.endMs,
    );
    expect(night.map((e) => e.eventType)).toContain('SYSTEM_POLICY_DISASSOCIATED');
    expect(night.every((e) => e.actor?.userName === system.unusualDay.actor)).toBe(true);
  });
});

describe('demo ListEventLogs server with the official SDK client', () => {
  it('pages every event of the month exactly once', async () => {
    const seen = new Map<string, number>();
    let pages = 0;
    for await (const page of paginateListEventLogs(
      { client, pageSize: 250 },
      { spaceName: SPACE, startTime: new Date(NOW - 30 * DAY_MS), endTime: new Date(NOW) },
    )) {
      pages++;
      expect(page.items!.length).toBeLessThanOrEqual(250);
      for (const item of page.items!) {
        expect(item.eventTime).toBeInstanceOf(Date);
        seen.set(item.id!, (seen.get(item.id!) ?? 0) + 1);
      }
    }
    expect(pages).toBe(80);
    expect(seen.size).toBe(20_000);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
  });

  it('keeps to [startTime, endTime), eventName, and the default page size of 50', async () => {
    const startMs = NOW - 10 * DAY_MS + 17 * MINUTE_MS;
    const endMs = startMs + 2 * DAY_MS;
    const expected = demo.events
      .filter((e) => Date.parse(e.eventTime) >= startMs && Date.parse(e.eventTime) < endMs)
      .map((e) => e.id);
    const got: string[] = [];
    let first = true;
    for await (const page of paginateListEventLogs(
      { client },
      { spaceName: SPACE, startTime: new Date(startMs), endTime: new Date(endMs) },
    )) {
      if (first) expect(page.items).toHaveLength(50);
      first = false;
      got.push(...page.items!.map((i) => i.id!));
    }
    expect(got).toEqual(expected);

    const pushes = demo.events.filter((e) => e.eventName === 'pushSourceRepository').length;
    let count = 0;
    for await (const page of paginateListEventLogs(
      { client, pageSize: 100 },
      {
        spaceName: SPACE,
        startTime: new Date(NOW - 30 * DAY_MS),
        endTime: new Date(NOW),
        eventName: 'pushSourceRepository',
      },
    )) {
      for (const item of page.items!) expect(item.eventName).toBe('pushSourceRepository');
      count += page.items!.length;
    }
    expect(count).toBe(pushes);
  });

  it('answers bad requests with the API errors the SDK knows', async () => {
    const window = { startTime: new Date(NOW - HOUR_MS), endTime: new Date(NOW) };
    const bad = new CodeCatalystClient({
      endpoint: server.url,
      region: 'us-east-1',
      token: { token: 'wrong' },
      maxAttempts: 1,
    });
    await expect(bad.send(new ListEventLogsCommand({ spaceName: SPACE, ...window }))).rejects.toBeInstanceOf(
      AccessDeniedException,
    );
    bad.destroy();
    await expect(
      client.send(new ListEventLogsCommand({ spaceName: 'no-such-space', ...window })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(
      client.send(new ListEventLogsCommand({ spaceName: SPACE, ...window, maxResults: 251 })),
    ).rejects.toBeInstanceOf(ValidationException);
    await expect(
      client.send(new ListEventLogsCommand({ spaceName: SPACE, ...window, nextToken: 'forged.token' })),
    ).rejects.toBeInstanceOf(ValidationException);
    // A token is good only for the request that got it.
    const first = await client.send(
      new ListEventLogsCommand({
        spaceName: SPACE,
        startTime: new Date(NOW - 3 * DAY_MS),
        endTime: window.endTime,
        maxResults: 5,
      }),
    );
    expect(first.nextToken).toBeDefined();
    await expect(
      client.send(new ListEventLogsCommand({ spaceName: SPACE, ...window, nextToken: first.nextToken })),
    ).rejects.toBeInstanceOf(ValidationException);
    expect(server.stats.byStatus['403']).toBe(1);
  });

  it('forgets events older than its retention, by its clock', async () => {
    const later = await startListEventLogsServer({
      spaces: { [SPACE]: demo.events },
      tokens: [TOKEN],
      now: () => NOW + 10 * DAY_MS,
    });
    try {
      const c = new CodeCatalystClient({ endpoint: later.url, region: 'us-east-1', token: { token: TOKEN } });
      let count = 0;
      for await (const page of paginateListEventLogs(
        { client: c, pageSize: 250 },
        { spaceName: SPACE, startTime: new Date(NOW - 30 * DAY_MS), endTime: new Date(NOW) },
      )) {
        count += page.items!.length;
      }
      c.destroy();
      expect(count).toBe(demo.events.filter((e) => Date.parse(e.eventTime) >= NOW - 20 * DAY_MS).length);
    } finally {
      await later.close();
    }
  });
});
