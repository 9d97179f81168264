/**
 * Filter values against Athena's limit of 1,024 characters per execution parameter. Strings go to
 * Athena as quoted hex of their UTF-8 bytes, so the byte limit is derived from that encoding; the
 * API refuses a longer value with a 400 naming the field, identically with the DuckDB engine (`serve`)
 * and the Athena engine (here its SQL run by DuckDB playing Athena, which refuses an over-long
 * parameter as Athena does), and the CLI applies the same rule.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../../bin/commands/args';
import { queryCommand } from '../../../bin/commands/query';
import { LocalStore } from '../../../lambdas/core/local-store';
import { codecatalystDefinition } from '../../../lambdas/ingest/sources/codecatalyst';
import { type ApiDeps, handleApiRequest } from '../../../lambdas/query/api';
import { createAthenaEngine } from '../../../lambdas/query/athena-engine';
import { storeCatalog } from '../../../lambdas/query/catalog';
import { createDuckDbEngine } from '../../../lambdas/query/duckdb-engine';
import type { QueryEngine } from '../../../lambdas/query/engine';
import {
  EXTRA_FILTERS,
  equalsOf,
  FILTER_MAX_BYTES,
  parseListEventLogs,
} from '../../../lambdas/query/list-event-logs';
import { NextTokenCodec } from '../../../lambdas/query/next-token';
import {
  ATHENA_PARAMETER_MAX_LENGTH,
  athenaExecutionParameters,
  MAX_STRING_PARAMETER_BYTES,
  planQuery,
  renderAthena,
} from '../../../lambdas/query/sql';
import { DAY_MS, HOUR_MS } from '../../../lambdas/shared/src/time';
import { pinnedClock } from '../../helpers/clock';
import { generateEvents } from '../../support/sample-events';
import { type AthenaOnDuckDb, athenaOnDuckDb } from '../../unit/query/athena-on-duckdb';
import { buildArchive } from './api-fixture';

const NOW = Date.UTC(2026, 6, 1, 12);
const clock = pinnedClock(NOW);
const SPACE = 'acme-corp';
const DATABASE = 'eventlog_archive';
const RANGE = { startTime: new Date(NOW - 2 * DAY_MS).toISOString(), endTime: new Date(NOW).toISOString() };
const KEY = new Uint8Array(Buffer.from('parameter-limits-token-key-01234'));
const FIELDS = ['eventName', ...Object.keys(EXTRA_FILTERS)] as const;

/** Exactly `bytes` UTF-8 bytes, mostly 3-byte characters (so well under 256 characters), tagged. */
function ofBytes(bytes: number, tag: string): string {
  const euros = Math.floor((bytes - tag.length) / 3);
  const text = `${tag}${'€'.repeat(euros)}${'a'.repeat(bytes - tag.length - 3 * euros)}`;
  expect(Buffer.byteLength(text, 'utf8')).toBe(bytes);
  return text;
}

/** The largest accepted value of each field; the archive holds one event carrying them all. */
const LARGEST: Record<string, string> = Object.fromEntries(
  FIELDS.map((f) => [f, ofBytes(FILTER_MAX_BYTES, `${f}:`)]),
);
const largest = (field: string): string => LARGEST[field]!;

let dir: string;
let emulator: AthenaOnDuckDb;
const engines: Record<'duckdb' | 'athena', ApiDeps> = {} as Record<'duckdb' | 'athena', ApiDeps>;
const owned: QueryEngine[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'parameter-limits-'));
  const events = generateEvents({ count: 40, fromMs: NOW - 2 * DAY_MS, toMs: NOW - HOUR_MS, seed: 71 });
  const big = structuredClone(events[7]!);
  big.id = 'largest-filter-values';
  big.eventName = largest('eventName');
  big.userIdentity.userName = largest('userName');
  big.projectInformation = { ...big.projectInformation, name: largest('projectName') };
  big.eventSource = largest('eventSource');
  // Typed as the service's two values; the archive stores any string.
  big.operationType = largest('operationType') as typeof big.operationType;
  big.errorCode = largest('errorCode');
  big.requestId = largest('requestId');
  await buildArchive(dir, { [SPACE]: [...events, big] }, NOW);

  const catalog = storeCatalog(new LocalStore(dir));
  const tokens = new NextTokenCodec({ keys: [KEY], now: clock });
  const duck = await createDuckDbEngine(dir);
  emulator = await athenaOnDuckDb(dir, DATABASE);
  const athena = createAthenaEngine({
    client: emulator.client,
    workGroup: 'wg',
    database: DATABASE,
    sleep: async () => {},
    retry: { maxAttempts: 1 },
  });
  owned.push(duck, athena);
  engines.duckdb = { engine: duck, catalog, tokens, now: clock };
  engines.athena = { engine: athena, catalog, tokens, now: clock };
});

afterAll(async () => {
  for (const engine of owned) await engine.close();
  await emulator?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function post(
  deps: ApiDeps,
  body: Record<string, unknown>,
): Promise<{ status: number; type: string | undefined; json: Record<string, unknown> }> {
  const response = await handleApiRequest(
    {
      method: 'POST',
      path: `/v1/spaces/${SPACE}/eventLogs`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    },
    deps,
  );
  return {
    status: response.statusCode,
    type: response.headers['x-amzn-ErrorType'],
    json: JSON.parse(response.body) as Record<string, unknown>,
  };
}

describe('the byte limit of a filter value', () => {
  it('is derived from the quoted-hex encoding: 511 bytes are 1,024 characters, 512 would be 1,026', () => {
    expect(ATHENA_PARAMETER_MAX_LENGTH).toBe(1024);
    expect(MAX_STRING_PARAMETER_BYTES).toBe(511);
    expect(FILTER_MAX_BYTES).toBe(MAX_STRING_PARAMETER_BYTES);
    expect(() => athenaExecutionParameters([{ type: 'string', value: ofBytes(512, 'x') }])).toThrow(
      /1026 characters/,
    );
  });

  it('lets the largest accepted value of every field through the real Athena SQL rendering within 1,024 characters', () => {
    // Act: the request path of the Lambda: validation, the engine query, the plan, the Athena SQL.
    const input = parseListEventLogs(SPACE, { ...RANGE, ...LARGEST });
    const plan = planQuery({
      source: codecatalystDefinition,
      instance: SPACE,
      start: input.startTime,
      end: input.endTime,
      equals: equalsOf(input),
      limit: input.maxResults + 1,
      after: { time: NOW - DAY_MS, id: 'some-event-id' },
    });
    const { params } = renderAthena(plan, DATABASE);
    const parameters = athenaExecutionParameters(params);

    // Assess: every filter is one parameter of exactly the limit; nothing is over it.
    for (const field of FIELDS) {
      const hex = `'${Buffer.from(largest(field), 'utf8').toString('hex').toUpperCase()}'`;
      expect(parameters).toContain(hex);
      expect(hex).toHaveLength(ATHENA_PARAMETER_MAX_LENGTH);
    }
    for (const p of parameters) expect(p.length).toBeLessThanOrEqual(ATHENA_PARAMETER_MAX_LENGTH);
  });

  it('refuses one byte more in every field, naming the field and the rule', () => {
    for (const field of FIELDS) {
      expect(() => parseListEventLogs(SPACE, { ...RANGE, [field]: ofBytes(512, 'x') })).toThrow(
        `${field}: must be at most 511 bytes in UTF-8 (got 512)`,
      );
    }
  });
});

describe.each(['duckdb', 'athena'] as const)('POST eventLogs with the %s engine', (name) => {
  it.each(FIELDS)('finds the event by the largest accepted %s', async (field) => {
    // Act
    const { status, json } = await post(engines[name], { ...RANGE, [field]: largest(field) });

    // Assess
    expect(status).toBe(200);
    expect((json.items as { id: string }[]).map((item) => item.id)).toEqual(['largest-filter-values']);
  });

  it.each(FIELDS)('answers 400 ValidationException to one byte more of %s', async (field) => {
    // Act
    const { status, type, json } = await post(engines[name], { ...RANGE, [field]: ofBytes(512, 'x') });

    // Assess
    expect({ status, type, json }).toEqual({
      status: 400,
      type: 'ValidationException',
      json: { message: `${field}: must be at most 511 bytes in UTF-8 (got 512)` },
    });
  });

  it('answers 400 to 256 non-ASCII characters of userName (within 256 characters, over 511 bytes)', async () => {
    // Act
    const { status, type, json } = await post(engines[name], { ...RANGE, userName: '€'.repeat(256) });

    // Assess
    expect({ status, type, json }).toEqual({
      status: 400,
      type: 'ValidationException',
      json: { message: 'userName: must be at most 511 bytes in UTF-8 (got 768)' },
    });
  });
});

describe('the CLI query command', () => {
  it.each([
    ['--user-name', 'userName'],
    ['--event-name', 'eventName'],
  ])('refuses %s over the byte limit with the API’s rule', async (option) => {
    // Act
    const run = queryCommand(
      ['--space', SPACE, '--from', RANGE.startTime, '--archive', dir, option, ofBytes(512, 'x')],
      clock,
    );

    // Assess
    await expect(run).rejects.toThrow(UsageError);
    await expect(run).rejects.toThrow(`${option}: must be at most 511 bytes in UTF-8 (got 512)`);
  });
});
