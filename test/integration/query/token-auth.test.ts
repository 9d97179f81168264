/**
 * Token authorization end to end on one machine: `serve --auth token` runs the authorizer's own
 * handler in front of the query handler as API Gateway does (validation expression, result cache,
 * policy evaluation), over an archive built by the real ingest. The official CodeCatalyst SDK, given
 * a token from `token create` (`token: { token }`), pages through its spaces unchanged, and raises
 * the typed AccessDeniedException for a revoked, expired, out-of-scope or malformed token.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  AccessDeniedException,
  CodeCatalystClient,
  type EventLogEntry,
  paginateListEventLogs,
} from '@aws-sdk/client-codecatalyst';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../../bin/commands/serve';
import { GATEWAY_MESSAGES } from '../../../bin/commands/serve-authorizer';
import { createAccessToken, revokeAccessToken } from '../../../lambdas/core/access-tokens';
import { LocalStore } from '../../../lambdas/core/local-store';
import { createLogger } from '../../../lambdas/shared/src';
import { DAY_MS, HOUR_MS } from '../../../lambdas/shared/src/time';
import { type EventLogEntryWire, generateEvents } from '../../support/sample-events';
import { buildArchive, inArchiveOrder } from './api-fixture';

const NOW = Date.UTC(2026, 5, 15, 12);
const SPACE = 'acme-corp';
const OTHER = 'other-space';
const CACHE_SECONDS = 60;
let dir: string;
let store: LocalStore;
let server: RunningServer;
let events: EventLogEntryWire[];
// serve's clock: moved by the tests (expiry, the authorizer cache), never read from the wall clock.
let now = NOW;
const clock = (): number => now;
const clients: CodeCatalystClient[] = [];

function client(token: string): CodeCatalystClient {
  const c = new CodeCatalystClient({
    endpoint: server.url,
    region: 'us-east-1',
    token: { token },
    maxAttempts: 1,
  });
  clients.push(c);
  return c;
}

const RANGE = { startTime: new Date(NOW - 3 * DAY_MS), endTime: new Date(NOW) };

async function listAll(token: string, spaceName: string, pageSize = 100): Promise<EventLogEntry[]> {
  const items: EventLogEntry[] = [];
  for await (const page of paginateListEventLogs(
    { client: client(token), pageSize },
    { spaceName, ...RANGE },
  ))
    items.push(...(page.items ?? []));
  return items;
}

async function denied(token: string, spaceName: string): Promise<AccessDeniedException> {
  const err = await listAll(token, spaceName).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AccessDeniedException);
  return err as AccessDeniedException;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'token-auth-'));
  events = generateEvents({ count: 450, fromMs: NOW - 3 * DAY_MS, toMs: NOW - HOUR_MS, seed: 41 });
  const other = generateEvents({
    count: 50,
    fromMs: NOW - 3 * DAY_MS,
    toMs: NOW - HOUR_MS,
    seed: 42,
    idPrefix: 'o-',
  });
  await buildArchive(dir, { [SPACE]: events, [OTHER]: other }, NOW);
  store = new LocalStore(dir);
  server = await startServer({
    archive: dir,
    port: 0,
    logger: createLogger({ logLevel: 'ERROR' }),
    clock,
    auth: { mode: 'token', cacheSeconds: CACHE_SECONDS },
  });
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('serve --auth token with the official CodeCatalyst SDK', () => {
  it('pages through exactly the archived events with a token scoped to the space', async () => {
    const { token } = await createAccessToken(store, { name: 'acme reader', spaces: [SPACE] }, clock);
    const items = await listAll(token, SPACE);
    expect(items.map((e) => e.id)).toEqual(inArchiveOrder(events).map((e) => e.id));
  });

  it('reads any space with a token for every space', async () => {
    const { token } = await createAccessToken(store, { name: 'everything' }, clock);
    expect((await listAll(token, OTHER)).length).toBe(50);
    expect((await listAll(token, SPACE)).length).toBe(events.length);
  });

  it('raises AccessDeniedException for another space than the token’s', async () => {
    const { token } = await createAccessToken(store, { name: 'other only', spaces: [OTHER] }, clock);
    const err = await denied(token, SPACE);
    expect(err.$metadata.httpStatusCode).toBe(403);
    expect(err.message).toBe(GATEWAY_MESSAGES.implicitDeny);
  });

  it('raises AccessDeniedException for a token that is not one (401, never reaching the authorizer)', async () => {
    const err = await denied('local', SPACE);
    expect(err.$metadata.httpStatusCode).toBe(401);
    expect(err.message).toBe(GATEWAY_MESSAGES.unauthorized);
    const wrong = await denied(`ela_0123456789abcdef_${'A'.repeat(43)}`, SPACE);
    expect(wrong.$metadata.httpStatusCode).toBe(403);
    expect(wrong.message).toBe(GATEWAY_MESSAGES.explicitDeny);
  });

  it('keeps accepting a revoked token for the cache TTL, then raises AccessDeniedException', async () => {
    const { token, record } = await createAccessToken(store, { name: 'to revoke', spaces: [OTHER] }, clock);
    expect((await listAll(token, OTHER)).length).toBe(50);
    await revokeAccessToken(store, { id: record.id }, clock);
    // As on API Gateway: the cached Allow stands until the TTL runs out.
    now += (CACHE_SECONDS - 1) * 1000;
    expect((await listAll(token, OTHER)).length).toBe(50);
    now += 1000;
    const err = await denied(token, OTHER);
    expect(err.$metadata.httpStatusCode).toBe(403);
    expect(err.message).toBe(GATEWAY_MESSAGES.explicitDeny);
  });

  it('raises AccessDeniedException once the token has expired', async () => {
    const { token } = await createAccessToken(store, { name: 'one day', expiresDays: 1 }, clock);
    expect((await listAll(token, OTHER)).length).toBe(50);
    now += DAY_MS + CACHE_SECONDS * 1000;
    await denied(token, OTHER);
  });

  it('answers a request without Authorization 401 in the API’s error shape', async () => {
    const res = await fetch(`${server.url}/v1/spaces/${SPACE}/eventLogs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        startTime: RANGE.startTime.toISOString(),
        endTime: RANGE.endTime.toISOString(),
      }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('x-amzn-errortype')).toBe('AccessDeniedException');
    expect(await res.json()).toEqual({ message: 'Unauthorized' });
  });

  it('leaves the SigV4 route (IAM in AWS) and the health answer as without --auth', async () => {
    const systems = await fetch(
      `${server.url}/v2/list-system-events?systemArn=${encodeURIComponent('arn:aws:resiliencehub:us-east-1:123456789012:system/none')}`,
    );
    // Not archived here: the route's own 404, not a 401.
    expect(systems.status).toBe(404);
    expect(systems.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });
});
