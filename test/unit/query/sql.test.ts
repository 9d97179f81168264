/**
 * The generated SQL, parsed with node-sql-parser's Trino dialect (the closest it has to Athena
 * engine v3): the only literals are the ones we format ourselves, every caller value is a `?`
 * parameter, and bad partition values or field paths stop the query before any SQL exists.
 */
import nodeSqlParser from 'node-sql-parser';
import { describe, expect, it } from 'vitest';
import type { FieldSpec } from '../../../lambdas/core/records';
import { codecatalyst } from '../../../lambdas/ingest/sources/codecatalyst';
import { resiliencehub } from '../../../lambdas/ingest/sources/resiliencehub';
import type { SourceModule } from '../../../lambdas/ingest/sources/types';
import type { EventQuery } from '../../../lambdas/query/engine';
import {
  athenaExecutionParameters,
  outputColumns,
  planQuery,
  type QueryParam,
  QueryPlanError,
  renderAthena,
  renderDuckDb,
} from '../../../lambdas/query/sql';

const { Parser } = nodeSqlParser;
const parser = new Parser();
const DIALECT = { database: 'trino' } as const;
const DAY = 86_400_000;
const START = Date.UTC(2024, 4, 1, 6);
const END = Date.UTC(2024, 4, 8);
const INJECTION = "x' OR '1'='1";

const query = (patch: Partial<EventQuery> = {}): EventQuery => ({
  source: codecatalyst,
  instance: 'acme-space',
  start: START,
  end: END,
  limit: 251,
  ...patch,
});

/** Every caller value of a query, to look for in the SQL text. */
const hostile: EventQuery = query({
  equals: { eventName: INJECTION, 'userIdentity.userName': 'robert"); DROP TABLE x;--' },
  anyOf: { 'projectInformation.name': ["p' UNION SELECT 1 --", 'plain-project'], errorCode: ["E\\'"] },
  after: { time: START + DAY, id: "id'; --" },
});

type Node = Record<string, unknown>;

/** Every node of an AST, depth first. */
function* nodes(value: unknown): Generator<Node> {
  if (Array.isArray(value)) for (const v of value) yield* nodes(v);
  else if (value && typeof value === 'object') {
    yield value as Node;
    for (const v of Object.values(value)) yield* nodes(v);
  }
}

function astOf(sql: string): Node {
  const ast = parser.astify(sql, DIALECT);
  expect(Array.isArray(ast)).toBe(false);
  return ast as unknown as Node;
}

const hex = (v: string): string => `'${Buffer.from(v, 'utf8').toString('hex').toUpperCase()}'`;
const LITERAL_TYPES = new Set([
  'single_quote_string',
  'string',
  'natural_string',
  'number',
  'bool',
  'hex_string',
]);

describe('renderAthena', () => {
  it('parses as Trino SQL whose only literals are the partition value, the dates and the limit', () => {
    const { sql, params } = renderAthena(planQuery(hostile), 'eventlog_archive');
    const ast = astOf(sql);
    const literals = [...nodes(ast)].filter((n) => LITERAL_TYPES.has(String(n.type))).map((n) => n.value);
    expect(literals.sort()).toEqual(['2024-05-02', '2024-05-07', 'acme-space', 251].sort());
    const placeholders = [...nodes(ast)].filter((n) => n.type === 'origin' && n.value === '?');
    expect(placeholders).toHaveLength(params.length);
    // Text level too: the three quoted literals are the only single quotes.
    expect(sql.match(/'/g)).toHaveLength(6);
  });

  it('binds every caller value as a parameter and puts none into the SQL text', () => {
    const { sql, params } = renderAthena(planQuery(hostile), 'eventlog_archive');
    for (const value of [
      INJECTION,
      'robert"); DROP TABLE x;--',
      "p' UNION SELECT 1 --",
      'plain-project',
      "E\\'",
      "id'; --",
      '2024-05-01T06:00:00.000Z',
    ])
      expect(sql).not.toContain(value);
    expect(params).toEqual<QueryParam[]>([
      { type: 'timestamp', value: START },
      { type: 'timestamp', value: END },
      { type: 'string', value: INJECTION },
      { type: 'string', value: 'robert"); DROP TABLE x;--' },
      { type: 'string', value: "E\\'" },
      { type: 'string', value: "p' UNION SELECT 1 --" },
      { type: 'string', value: 'plain-project' },
      { type: 'timestamp', value: START + DAY },
      { type: 'timestamp', value: START + DAY },
      { type: 'string', value: "id'; --" },
    ]);
    const executionParameters = athenaExecutionParameters(params);
    expect(executionParameters).toEqual([
      "'2024-05-01T06:00:00.000Z'",
      "'2024-05-08T00:00:00.000Z'",
      hex(INJECTION),
      hex('robert"); DROP TABLE x;--'),
      hex("E\\'"),
      hex("p' UNION SELECT 1 --"),
      hex('plain-project'),
      "'2024-05-02T06:00:00.000Z'",
      "'2024-05-02T06:00:00.000Z'",
      hex("id'; --"),
    ]);
    expect(executionParameters[2]).toBe("'7827204F52202731273D2731'");
    for (const p of executionParameters) expect(sql).not.toContain(p.slice(1, -1));
  });

  it('makes each execution parameter one literal of hex digits or of our own ISO time', () => {
    const strange = "\\'\u0000\n\u2028'' ü 🙂";
    const { params } = renderAthena(
      planQuery(query({ equals: { eventName: strange, errorCode: '' } })),
      'eventlog_archive',
    );
    const executionParameters = athenaExecutionParameters(params);
    for (const literal of executionParameters) {
      expect(literal).toMatch(/^'(?:[0-9A-F]*|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)'$/);
      // As Athena substitutes it: one expression in a SELECT list parses to a single string node.
      const ast = astOf(`SELECT ${literal} AS v`);
      const columns = ast.columns as Node[];
      expect(columns).toHaveLength(1);
      expect((columns[0]!.expr as Node).type).toBe('single_quote_string');
    }
    const decoded = executionParameters
      .slice(2)
      .map((p) => Buffer.from(p.slice(1, -1), 'hex').toString('utf8'));
    expect(decoded).toEqual(['', strange]);
  });

  it('places every parameter in the WHERE clause: times in from_iso8601_timestamp, strings in from_utf8(from_hex)', () => {
    const { sql } = renderAthena(planQuery(hostile), 'eventlog_archive');
    const ast = astOf(sql);
    const inWhere = [...nodes(ast.where)].filter((n) => n.type === 'origin' && n.value === '?');
    expect(inWhere).toHaveLength([...nodes(ast)].filter((n) => n.type === 'origin').length);
    const calls = (name: string): Node[] =>
      [...nodes(ast.where)].filter(
        (n) => n.type === 'function' && JSON.stringify(n.name).includes(`"${name}"`),
      );
    expect(calls('from_iso8601_timestamp')).toHaveLength(4);
    expect(calls('from_hex')).toHaveLength(6);
    expect(calls('from_utf8')).toHaveLength(6);
    expect(inWhere).toHaveLength(10);
  });

  it('selects struct leaves as columns, a null flag per struct, timestamps through to_iso8601', () => {
    const { sql } = renderAthena(planQuery(query()), 'eventlog_archive');
    const ast = astOf(sql);
    const aliases = (ast.columns as Node[]).map((c) => c.as);
    expect(aliases).toEqual(outputColumns(codecatalyst.fields).map((c) => c.alias));
    expect(aliases).toContain('userIdentity.$null');
    expect(aliases).toContain('requestPayload.data');
    expect(sql).toContain('to_iso8601(e."eventTime") AS "eventTime"');
    expect(sql).toContain('e."userIdentity" IS NULL AS "userIdentity.$null"');
    expect(sql).toContain('FROM "eventlog_archive"."codecatalyst_event_logs" AS e');
    expect(sql).toMatch(/ORDER BY e\."eventTime" ASC, e\."id" ASC\nLIMIT 251$/);
  });

  it('prunes partitions with the instance and the UTC days of [start, end)', () => {
    const where = (q: EventQuery): string =>
      /WHERE (.*?) AND e\."eventTime" >=/.exec(renderAthena(planQuery(q), 'db').sql)![1]!;
    expect(where(query())).toBe(`e."space" = 'acme-space' AND e."dt" BETWEEN '2024-05-01' AND '2024-05-07'`);
    // The end is exclusive: a range ending at midnight does not read the next day.
    expect(where(query({ start: END - DAY, end: END }))).toContain(`BETWEEN '2024-05-07' AND '2024-05-07'`);
    expect(where(query({ start: END - 1, end: END + 1 }))).toContain(`BETWEEN '2024-05-07' AND '2024-05-08'`);
    // A cursor later than start narrows the days read.
    expect(where(query({ after: { time: END - DAY - 1, id: 'x' } }))).toContain(
      `BETWEEN '2024-05-06' AND '2024-05-07'`,
    );
  });

  it('refuses to render an empty range (there is nothing to ask Athena)', () => {
    const plan = planQuery(query({ start: END, end: END }));
    expect(plan.firstDay).toBeUndefined();
    expect(() => renderAthena(plan, 'db')).toThrow(QueryPlanError);
    expect(planQuery(query({ after: { time: END, id: '' } })).firstDay).toBeUndefined();
  });

  it('renders a second source (Resilience Hub: ARN instances, a JSON leaf in a struct) without changes', () => {
    const arn = 'arn:aws:resiliencehub:us-west-2:123456789012:app/checkout:abc123';
    const { sql, params } = renderAthena(
      planQuery({
        source: resiliencehub,
        instance: arn,
        start: START,
        end: END,
        equals: { 'actor.userName': INJECTION },
        after: { time: START, id: 'event-1' },
        limit: 51,
      }),
      'eventlog_archive',
    );
    const literals = [...nodes(astOf(sql))]
      .filter((n) => LITERAL_TYPES.has(String(n.type)))
      .map((n) => n.value);
    expect(literals.sort()).toEqual(
      ['2024-05-01', '2024-05-07', resiliencehub.partitionValue(arn), 51].sort(),
    );
    expect(sql).toContain('e."eventDetails"."eventMetadata" AS "eventDetails.eventMetadata"');
    expect(sql).toContain('ORDER BY e."timestamp" ASC, e."eventId" ASC');
    expect(sql).not.toContain(arn);
    expect(params.map((p) => p.value)).toEqual([START, END, INJECTION, START, START, 'event-1']);
  });

  it('rejects a database name that is not a plain identifier', () => {
    expect(() => renderAthena(planQuery(query()), 'db"; DROP')).toThrow(QueryPlanError);
  });
});

describe('planQuery', () => {
  it.each(["x' OR '1'='1", 'ab', 'a'.repeat(64), 'has space', '-leading', 'a/b', ''])(
    'rejects the instance %j with the source rule before any SQL exists',
    (instance) => {
      expect(() => planQuery(query({ instance }))).toThrow(
        expect.objectContaining({ name: 'ApiError', errorType: 'ValidationException' }),
      );
    },
  );

  it('rejects a partition value that breaks the generic rule even when the source accepts it', () => {
    const lenient = (partitionValue: (s: string) => string): SourceModule => ({
      ...codecatalyst,
      checkInstance: (v) => String(v),
      partitionValue,
    });
    for (const bad of ["a'b", 'a b', 'x'.repeat(129), '', 'a/b', 'a"b', 'a\nb'])
      expect(() => planQuery(query({ source: lenient(() => bad) })), bad).toThrow(QueryPlanError);
    expect(planQuery(query({ source: lenient(() => 'arn:aws:x:1') })).partitionValue).toBe('arn:aws:x:1');
  });

  it.each([
    ['a field the source does not have', { equals: { nope: 'x' } }],
    ['a timestamp field', { equals: { eventTime: 'x' } }],
    ['a struct', { equals: { userIdentity: 'x' } }],
    ['a missing struct member', { equals: { 'userIdentity.nope': 'x' } }],
    ['a path through a string', { equals: { 'eventName.x': 'x' } }],
    ['an empty path', { equals: { '': 'x' } }],
    ['a prototype key', { equals: { __proto__: 'x', constructor: 'x' } as Record<string, string> }],
    ['an unknown anyOf path', { anyOf: { 'projectInformation.nope': ['x'] } }],
    ['an empty anyOf list', { anyOf: { eventName: [] } }],
    ['a non-string value', { equals: { eventName: 1 as unknown as string } }],
    ['a non-string anyOf value', { anyOf: { eventName: [null as unknown as string] } }],
    ['a non-string cursor id', { after: { time: START, id: 5 as unknown as string } }],
    ['a fractional time', { start: START + 0.5 }],
    ['a NaN time', { end: Number.NaN }],
    ['a zero limit', { limit: 0 }],
    ['a huge limit', { limit: 10_001 }],
    ['a fractional limit', { limit: 2.5 }],
  ] as [string, Partial<EventQuery>][])('rejects %s as a programming error', (_label, patch) => {
    expect(() => planQuery(query(patch))).toThrow(QueryPlanError);
  });

  it('accepts every string field path of the source, nested ones included', () => {
    const plan = planQuery(
      query({
        equals: { 'requestPayload.contentType': 'application/json', operationType: 'MUTATION' },
        anyOf: { 'userIdentity.userType': ['USER'], sourceIpAddress: ['192.0.2.1'] },
      }),
    );
    expect(plan.where).toHaveLength(6);
  });

  it('rejects a source whose field names would need quoting', () => {
    const fields: FieldSpec[] = [...codecatalyst.fields, { name: 'bad"name', type: 'string' }];
    expect(() => planQuery(query({ source: { ...codecatalyst, fields } }))).toThrow(QueryPlanError);
  });

  it('clamps times outside 1970..9999 instead of printing unparseable moments', () => {
    const plan = planQuery(query({ start: -8e15, end: 8e15 }));
    expect(plan.firstDay).toBe('1970-01-01');
    expect(plan.lastDay).toBe('9999-12-31');
  });

  it('orders filters by path so one request always gives one SQL text', () => {
    const a = renderAthena(planQuery(query({ equals: { eventName: 'a', errorCode: 'b' } })), 'db');
    const b = renderAthena(planQuery(query({ equals: { errorCode: 'b', eventName: 'a' } })), 'db');
    expect(a).toEqual(b);
  });
});

describe('one plan, two dialects', () => {
  it('renders the same predicates, parameters, order and limit for DuckDB and Athena', () => {
    const plan = planQuery(hostile);
    const athena = renderAthena(plan, 'eventlog_archive');
    const duck = renderDuckDb(plan, {
      files: ['/archive/codecatalyst_event_logs/space=acme-space/dt=2024-05-02/events.parquet'],
    });
    expect(duck.params).toEqual(athena.params);
    const section = (sql: string, from: string, to: string): string =>
      sql.slice(sql.indexOf(from), sql.indexOf(to));
    // The WHERE clauses differ only in Athena's partition literals and its parameter wrappers.
    const athenaWhere = section(athena.sql, 'e."eventTime" >=', '\nORDER BY')
      .replaceAll('from_iso8601_timestamp(?)', '?')
      .replaceAll('from_utf8(from_hex(?))', '?');
    expect(section(duck.sql, 'e."eventTime" >=', '\nORDER BY')).toBe(athenaWhere);
    expect(duck.sql.slice(duck.sql.indexOf('\nORDER BY'))).toBe(
      athena.sql.slice(athena.sql.indexOf('\nORDER BY')),
    );
    expect(duck.sql.match(/ AS "[^"]+"/g)).toEqual(athena.sql.match(/ AS "[^"]+"/g));
  });

  it('reads the DuckDB files as quoted literals and nothing from the caller', () => {
    const { sql } = renderDuckDb(planQuery(hostile), { files: ["/tmp/it's/a.parquet", '/tmp/b.parquet'] });
    expect(sql).toContain(
      `read_parquet(['/tmp/it''s/a.parquet', '/tmp/b.parquet'], hive_partitioning = false)`,
    );
    for (const value of [INJECTION, "id'; --", 'plain-project']) expect(sql).not.toContain(value);
    expect(() => renderDuckDb(planQuery(query()), { files: [] })).toThrow(QueryPlanError);
  });

  it('unions cached day tables with the files still to read', () => {
    const { sql } = renderDuckDb(planQuery(query()), { files: ['/tmp/c.parquet'], tables: ['day_cache_1'] });
    expect(sql).toContain(
      `FROM (SELECT * FROM "day_cache_1" UNION ALL BY NAME SELECT * FROM read_parquet(['/tmp/c.parquet'], hive_partitioning = false)) AS e`,
    );
    expect(() => renderDuckDb(planQuery(query()), { files: [], tables: ['bad"name'] })).toThrow(
      QueryPlanError,
    );
  });
});
