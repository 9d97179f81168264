/**
 * A third source, defined here in test code only, registered through the public registration calls
 * (the ingest's `registerSource`, the CDK app's `registerDeploySource`, the query API's
 * `registerRouteHandler`) and nothing else: it gets its Glue table, archive grants, schedules, API
 * route, ingest, coverage and verify without any other file naming it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { coverageCommand } from '../../bin/commands/coverage';
import { type RunningServer, startServer } from '../../bin/commands/serve';
import { verifyCommand } from '../../bin/commands/verify';
import { LocalStore } from '../../lambdas/core/local-store';
import type { ArchiveRecord } from '../../lambdas/core/records';
import { ingestInstance } from '../../lambdas/ingest/ingest-instance';
import { registerSource } from '../../lambdas/ingest/sources';
import type { SourceModule } from '../../lambdas/ingest/sources/types';
import { registerRouteHandler, routeDeps } from '../../lambdas/query/api';
import { createLogger } from '../../lambdas/shared/src';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../lambdas/shared/src/time';
import { registerDeploySource } from '../../lib/sources';
import { pinnedClock } from '../helpers/clock';
import { buildApp } from '../lib/helpers';
import { ingestResources } from '../lib/ingest-templates';

const NOW = Date.UTC(2026, 11, 6, 12);
const clock = pinnedClock(NOW);
const INSTANCES = ['alpha', 'beta'];

/** Two days of toy events per instance, one every 7 minutes. */
const EVENTS: ArchiveRecord[] = INSTANCES.flatMap((instance) =>
  Array.from({ length: Math.floor((2 * DAY_MS) / (7 * MINUTE_MS)) }, (_, i) => ({
    instance,
    id: `${instance}-${String(i).padStart(4, '0')}`,
    eventTime: new Date(NOW - 2 * DAY_MS - HOUR_MS + i * 7 * MINUTE_MS),
    message: `toy event ${i} of ${instance}`,
  })),
);

const toy: SourceModule = {
  name: 'toy',
  title: 'Toy events',
  description: 'Toy events of a test source, one partition per toy and UTC day',
  route: { method: 'GET', path: '/toy/{toyName}/events', authentication: 'sigv4' },
  table: 'toy_events',
  partitionKey: 'toy',
  instanceOption: 'toy-name',
  fields: [
    { name: 'id', type: 'string', required: true },
    { name: 'eventTime', type: 'timestamp', required: true },
    { name: 'message', type: 'string' },
  ],
  idField: 'id',
  timeField: 'eventTime',
  pageSize: 25,
  pageSizeLimits: { min: 1, max: 25 },
  retentionDays: 3,
  checkInstance: (value, field) => {
    if (typeof value !== 'string' || !/^[a-z]{3,20}$/.test(value))
      throw new TypeError(`${field}: must be 3 to 20 lowercase letters`);
    return value;
  },
  partitionValue: (name) => name,
  createClient: async () => ({
    listPage: async ({ instance, start, end, nextToken, pageSize }) => {
      const all = EVENTS.filter((e) => {
        const t = (e.eventTime as Date).getTime();
        return e.instance === instance && t >= start && t < end;
      }).map(({ instance: _instance, ...record }) => record);
      const from = Number(nextToken ?? 0);
      const items = all.slice(from, from + pageSize);
      return { items, nextToken: from + pageSize < all.length ? String(from + pageSize) : undefined };
    },
  }),
};

registerSource(toy);
registerDeploySource({
  name: 'toy',
  instances: () => INSTANCES,
  idSuffix: (name) => `toy-${name}`,
  describe: (name) => `toy ${name}`,
  label: (name) => name,
});
registerRouteHandler('toy', {
  shape: { query: 'startTime&endTime' },
  handle: async (request, deps, [toyName]) => {
    const { engine } = await routeDeps(deps);
    const query = request.query ?? {};
    const { records } = await engine.listEvents({
      source: toy,
      instance: String(toyName),
      start: Date.parse(String(query.startTime)),
      end: Date.parse(String(query.endTime)),
      limit: 1_000,
    });
    const items = records.map((r) => ({ ...r, eventTime: (r.eventTime as Date).toISOString() }));
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ items }),
    };
  },
});

let dir: string;
let server: RunningServer;

/** Runs a CLI command in process and returns its exit code and what it printed. */
async function captured(run: () => Promise<number>): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  try {
    return { code: await run(), stdout };
  } finally {
    write.mockRestore();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'toy-source-'));
  for (const instance of INSTANCES) {
    const result = await ingestInstance({
      source: toy,
      instance,
      store: new LocalStore(dir),
      client: await toy.createClient({}),
      now: clock,
    });
    if (result.status !== 'complete') throw new Error(`toy ingest of ${instance}: ${result.status}`);
  }
  server = await startServer({
    archive: dir,
    port: 0,
    logger: createLogger({ logLevel: 'CRITICAL' }),
    clock,
  });
}, 60_000);
afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a source registered from test code', () => {
  it('gets its Glue table, with its fields and partition key, from the storage stack', () => {
    const { storageTemplate } = buildApp();
    storageTemplate.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'toy_events',
        Description: toy.description,
        PartitionKeys: [
          { Name: 'toy', Type: 'string' },
          { Name: 'dt', Type: 'string' },
        ],
        StorageDescriptor: Match.objectLike({
          Columns: [
            { Name: 'id', Type: 'string' },
            { Name: 'eventTime', Type: 'timestamp' },
            { Name: 'message', Type: 'string' },
          ],
        }),
      }),
    });
  });

  it('gets one schedule per instance and object access to its table folder in the ingest stack', () => {
    const built = buildApp();
    const schedules = ingestResources(built, 'AWS::Scheduler::Schedule').map(([, s]) => s.Properties);
    for (const instance of INSTANCES)
      expect(schedules).toContainEqual(
        expect.objectContaining({
          Description: `eventlog-archive: ingest toy ${instance}`,
          Target: expect.objectContaining({ Input: JSON.stringify({ source: 'toy', instance }) }),
        }),
      );
    const policies = JSON.stringify(built.ingestTemplate.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('/toy_events/*');
  });

  it('gets its API route in the query stack', () => {
    const { queryTemplate } = buildApp();
    queryTemplate.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'toy' });
    queryTemplate.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: '{toyName}' });
    queryTemplate.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      AuthorizationType: 'AWS_IAM',
    });
  });

  it('is archived, and coverage and verify report it through --source and its own instance option', async () => {
    const coverage = await captured(() =>
      coverageCommand(['--archive', dir, '--source', 'toy', '--toy-name', 'alpha', '--json'], clock),
    );
    expect(coverage.code).toBe(0);
    const [report] = JSON.parse(coverage.stdout) as { source: string; instance: string; events: number }[];
    const alpha = EVENTS.filter((e) => e.instance === 'alpha').length;
    expect(report).toMatchObject({ source: 'toy', instance: 'alpha', events: alpha });

    const verify = await captured(() =>
      verifyCommand(['--archive', dir, '--source', 'toy', '--json'], clock),
    );
    expect(verify.code).toBe(0);
    const reports = JSON.parse(verify.stdout).instances as { instance: string; digests: number }[];
    expect(reports.map((r) => r.instance).sort()).toEqual(INSTANCES);
    for (const r of reports) expect(r.digests).toBeGreaterThan(0);
  });

  it('is answered on its route by serve, and listed by GET /', async () => {
    const range = `startTime=${new Date(NOW - 3 * DAY_MS).toISOString()}&endTime=${new Date(NOW).toISOString()}`;
    const response = await fetch(`${server.url}/toy/beta/events?${range}`);
    expect(response.status).toBe(200);
    const { items } = (await response.json()) as { items: { id: string }[] };
    expect(items.map((i) => i.id)).toEqual(EVENTS.filter((e) => e.instance === 'beta').map((e) => e.id));
    const wrongMethod = await fetch(`${server.url}/toy/beta/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(wrongMethod.status).toBe(405);
    const health = (await (
      await fetch(`${server.url}/`, { headers: { accept: 'application/json' } })
    ).json()) as {
      routes: { method: string; path: string }[];
    };
    expect(health.routes).toContainEqual(
      expect.objectContaining({ method: 'GET', path: '/toy/{toyName}/events' }),
    );
  });
});
