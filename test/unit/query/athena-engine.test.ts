/**
 * The Athena engine's lifecycle against a mocked AthenaClient: start, poll, page, and every way a
 * query can end, mapped to the API's errors without internals.
 */
import {
  AthenaClient,
  GetQueryExecutionCommand,
  type GetQueryExecutionCommandOutput,
  GetQueryResultsCommand,
  InternalServerException,
  InvalidRequestException,
  type QueryExecutionState,
  ResourceNotFoundException,
  type Row,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  TooManyRequestsException,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { type ArchiveRecord, normaliseRecord } from '../../../lambdas/core/records';
import { codecatalyst } from '../../../lambdas/ingest/sources/codecatalyst';
import { ATHENA_MESSAGES, createAthenaEngine, cutoffMessage } from '../../../lambdas/query/athena-engine';
import type { EventQuery } from '../../../lambdas/query/engine';
import { outputColumns } from '../../../lambdas/query/sql';
import { type ApiError, isApiError, toApiError } from '../../../lambdas/shared/src/errors';
import { generateEvents } from '../../support/sample-events';

const athena = mockClient(AthenaClient);
const DATABASE = 'eventlog_archive';
const START = Date.UTC(2024, 4, 1);
const END = Date.UTC(2024, 4, 8);
const INJECTION = "x' OR '1'='1";
const COLUMNS = outputColumns(codecatalyst.fields);

let clock: number;
let sleeps: number[];

beforeEach(() => {
  athena.reset();
  clock = 1_000_000;
  sleeps = [];
});

function engine(options: { timeoutMs?: number; bytesScannedCutoff?: number } = {}) {
  return createAthenaEngine({
    client: new AthenaClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKID', secretAccessKey: 's' },
    }),
    workGroup: 'eventlog-archive-wg',
    database: DATABASE,
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    retry: { baseMs: 1, throttleBaseMs: 1, capMs: 1 },
    ...options,
  });
}

const query = (patch: Partial<EventQuery> = {}): EventQuery => ({
  source: codecatalyst,
  instance: 'acme-space',
  start: START,
  end: END,
  limit: 251,
  ...patch,
});

const records: ArchiveRecord[] = generateEvents({ count: 5, fromMs: START, toMs: END, seed: 5 })
  .map((e) => normaliseRecord(codecatalyst.fields, e as unknown as Record<string, unknown>))
  .sort((a, b) => (a.eventTime as Date).getTime() - (b.eventTime as Date).getTime());
records[1]!.userIdentity = null;
records[2]!.projectInformation = { name: null, projectId: null };
records[3]!.errorCode = '';

const valueAt = (record: ArchiveRecord, path: readonly string[]): unknown =>
  path.reduce<unknown>((v, key) => (v && typeof v === 'object' ? (v as ArchiveRecord)[key] : null), record);

/** A record as Athena returns it for our SELECT: strings, NULL as an empty Datum, timestamps without zone. */
function athenaRow(record: ArchiveRecord): Row {
  return {
    Data: COLUMNS.map((column) => {
      const value = valueAt(record, column.path);
      if (column.kind === 'struct-null') return { VarCharValue: value === null ? 'true' : 'false' };
      if (value === null || value === undefined) return {};
      if (value instanceof Date) return { VarCharValue: value.toISOString().slice(0, -1) };
      return { VarCharValue: String(value) };
    }),
  };
}
const HEADER: Row = { Data: COLUMNS.map((c) => ({ VarCharValue: c.alias })) };

function execution(
  State: QueryExecutionState,
  extra: Record<string, unknown> = {},
): GetQueryExecutionCommandOutput {
  return {
    $metadata: {},
    QueryExecution: {
      QueryExecutionId: 'q-1',
      Status: { State, ...extra },
      Statistics: { DataScannedInBytes: 10_485_760 },
    },
  };
}

/** A query that starts, succeeds at once and returns `rows` in one page. */
function succeeds(rows: Row[] = records.map(athenaRow)): void {
  athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
  athena.on(GetQueryExecutionCommand).resolves(execution('SUCCEEDED'));
  athena.on(GetQueryResultsCommand).resolves({ ResultSet: { Rows: [HEADER, ...rows] } });
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isApiError(err)).toBe(true);
  return err as ApiError;
}

describe('createAthenaEngine', () => {
  it('returns the records of several result pages, skipping the header row of the first page only', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce(execution('QUEUED'))
      .resolvesOnce(execution('RUNNING'))
      .resolves(execution('SUCCEEDED'));
    const rows = records.map(athenaRow);
    athena
      .on(GetQueryResultsCommand)
      .resolvesOnce({ ResultSet: { Rows: [HEADER, rows[0]!, rows[1]!] }, NextToken: 't-1' })
      .resolvesOnce({ ResultSet: { Rows: [rows[2]!, rows[3]!] }, NextToken: 't-2' })
      .resolvesOnce({ ResultSet: { Rows: [rows[4]!] } });

    const result = await engine().listEvents(query());

    expect(result.records).toStrictEqual(records);
    expect(result.stats).toEqual({ bytesScanned: 10_485_760 });
    expect(athena).toHaveReceivedCommandTimes(GetQueryExecutionCommand, 3);
    expect(sleeps).toEqual([100, 160]);
    const pages = athena.commandCalls(GetQueryResultsCommand).map((c) => c.args[0].input);
    expect(pages).toEqual([
      { QueryExecutionId: 'q-1', MaxResults: 1000 },
      { QueryExecutionId: 'q-1', MaxResults: 1000, NextToken: 't-1' },
      { QueryExecutionId: 'q-1', MaxResults: 1000, NextToken: 't-2' },
    ]);
    expect(athena).toHaveReceivedCommandWith(StartQueryExecutionCommand, {
      WorkGroup: 'eventlog-archive-wg',
      QueryExecutionContext: { Database: DATABASE },
    });
    expect(athena).not.toHaveReceivedCommand(StopQueryExecutionCommand);
  });

  it('polls with a delay growing from 100 ms to 1 s', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    const polls = athena.on(GetQueryExecutionCommand);
    for (let i = 0; i < 9; i++) polls.resolvesOnce(execution(i < 2 ? 'QUEUED' : 'RUNNING'));
    polls.resolves(execution('SUCCEEDED'));
    athena.on(GetQueryResultsCommand).resolves({ ResultSet: { Rows: [HEADER] } });

    const result = await engine().listEvents(query());

    expect(result.records).toEqual([]);
    expect(sleeps).toEqual([100, 160, 256, 410, 656, 1000, 1000, 1000, 1000]);
  });

  it('sends every caller value as an execution parameter and none of them in the query text', async () => {
    succeeds([]);
    const after = { time: START + 5, id: "id' --" };
    await engine().listEvents(
      query({ equals: { 'userIdentity.userName': INJECTION }, anyOf: { eventName: ['a"b', 'c\\d'] }, after }),
    );

    const input = athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input;
    const hex = (v: string): string => `'${Buffer.from(v, 'utf8').toString('hex').toUpperCase()}'`;
    expect(input.ExecutionParameters).toEqual([
      "'2024-05-01T00:00:00.000Z'",
      "'2024-05-08T00:00:00.000Z'",
      hex(INJECTION),
      hex('a"b'),
      hex('c\\d'),
      "'2024-05-01T00:00:00.005Z'",
      "'2024-05-01T00:00:00.005Z'",
      hex("id' --"),
    ]);
    for (const value of [
      INJECTION,
      'a"b',
      'c\\d',
      "id' --",
      '2024-05-01T00:00:00',
      ...input.ExecutionParameters!,
    ])
      expect(input.QueryString).not.toContain(value);
    expect(input.QueryString!.match(/\?/g)).toHaveLength(8);
    expect(input.ClientRequestToken).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('asks Athena nothing for an empty time range', async () => {
    const result = await engine().listEvents(query({ start: END, end: END }));
    expect(result.records).toEqual([]);
    expect(athena).not.toHaveReceivedAnyCommand();
  });

  it('rejects an instance that breaks the source rule before any SQL exists', async () => {
    const err = await rejection(engine().listEvents(query({ instance: "acme' OR '1'='1" })));
    expect(err.errorType).toBe('ValidationException');
    expect(athena).not.toHaveReceivedAnyCommand();
  });

  it('fails with a 500 and no internals when the query FAILED', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena.on(GetQueryExecutionCommand).resolves(
      execution('FAILED', {
        StateChangeReason:
          'SYNTAX_ERROR: line 3:7: Column "eventtime" cannot be resolved; s3://results-bucket/x',
        AthenaError: {
          ErrorCategory: 2,
          ErrorType: 1006,
          Retryable: false,
          ErrorMessage: 'SELECT e."id" FROM',
        },
      }),
    );

    const err = await rejection(engine().listEvents(query({ equals: { eventName: INJECTION } })));

    expect(err.errorType).toBe('InternalServerException');
    expect(err.statusCode).toBe(500);
    expect(err.message).toBe(ATHENA_MESSAGES.failed);
    for (const internal of ['SELECT', 's3://', 'SYNTAX', DATABASE, 'eventtime', INJECTION, 'q-1'])
      expect(JSON.stringify(err.toJSON())).not.toContain(internal);
    expect(toApiError(err)).toBe(err);
    expect(athena).not.toHaveReceivedCommand(GetQueryResultsCommand);
  });

  it('fails with a 500 when the query was CANCELLED', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena
      .on(GetQueryExecutionCommand)
      .resolves(execution('CANCELLED', { StateChangeReason: 'Query cancelled by user' }));

    const err = await rejection(engine().listEvents(query()));

    expect(err).toMatchObject({ errorType: 'InternalServerException', message: ATHENA_MESSAGES.cancelled });
  });

  it.each([
    ['FAILED', { StateChangeReason: 'Query cancelled! : Bytes scanned limit was exceeded' }],
    ['CANCELLED', { StateChangeReason: 'Query cancelled! : Bytes scanned limit was exceeded' }],
    [
      'FAILED',
      { AthenaError: { ErrorCategory: 2, ErrorMessage: 'Query exceeded the data usage control limit' } },
    ],
  ] as const)(
    'maps the bytes-scanned cutoff (%s) to 402 ServiceQuotaExceededException',
    async (state, extra) => {
      athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
      athena.on(GetQueryExecutionCommand).resolves(execution(state, extra));

      const err = await rejection(engine().listEvents(query()));

      expect(err.errorType).toBe('ServiceQuotaExceededException');
      expect(err.statusCode).toBe(402);
      expect(err.message).toMatch(/would scan more than the configured limit of data for one request/);
      expect(err.message).toMatch(/query\.bytesScannedCutoffMb/);
      expect(err.message).toMatch(/Narrow the time range/);
    },
  );

  it('says how much a stopped query had scanned and what the cutoff is', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    const stopped = execution('CANCELLED', {
      StateChangeReason: 'Query cancelled! : Bytes scanned limit was exceeded',
    });
    stopped.QueryExecution!.Statistics = { DataScannedInBytes: 11_010_048 };
    athena.on(GetQueryExecutionCommand).resolves(stopped);
    const err = await rejection(engine({ bytesScannedCutoff: 10 * 2 ** 20 }).listEvents(query()));
    expect(err.errorType).toBe('ServiceQuotaExceededException');
    expect(err.message).toContain(
      'after scanning 10.5 MiB (11010048 bytes): it would scan more than the limit of 10.0 MiB (10485760 bytes)',
    );
  });

  it.each([
    [
      11_010_048,
      10 * 2 ** 20,
      'after scanning 10.5 MiB (11010048 bytes): it would scan more than the limit of 10.0 MiB (10485760 bytes)',
    ],
    [
      undefined,
      2 ** 30,
      'The query was stopped: it would scan more than the limit of 1024.0 MiB (1073741824 bytes)',
    ],
    [0, undefined, 'The query was stopped: it would scan more than the configured limit'],
  ])('words the cutoff message for %s bytes scanned and a cutoff of %s', (scanned, cutoff, text) => {
    expect(cutoffMessage(scanned, cutoff)).toContain(text);
  });

  it('retries a throttled start and keeps one idempotency token', async () => {
    succeeds();
    athena
      .on(StartQueryExecutionCommand)
      .rejectsOnce(new TooManyRequestsException({ message: 'Rate exceeded', $metadata: {} }))
      .rejectsOnce(Object.assign(new Error('slow down'), { name: 'ThrottlingException', $metadata: {} }))
      .resolves({ QueryExecutionId: 'q-1' });

    const result = await engine().listEvents(query());

    expect(result.records).toStrictEqual(records);
    const tokens = athena
      .commandCalls(StartQueryExecutionCommand)
      .map((c) => c.args[0].input.ClientRequestToken);
    expect(tokens).toHaveLength(3);
    expect(new Set(tokens).size).toBe(1);
  });

  it('retries throttled and transient polls and result pages', async () => {
    succeeds();
    athena
      .on(GetQueryExecutionCommand)
      .rejectsOnce(new TooManyRequestsException({ message: 'Rate exceeded', $metadata: {} }))
      .rejectsOnce(new InternalServerException({ message: 'oops', $metadata: {} }))
      .resolves(execution('SUCCEEDED'));
    athena
      .on(GetQueryResultsCommand)
      .rejectsOnce(new TooManyRequestsException({ message: 'Rate exceeded', $metadata: {} }))
      .resolves({ ResultSet: { Rows: [HEADER, ...records.map(athenaRow)] } });

    expect((await engine().listEvents(query())).records).toStrictEqual(records);
  });

  it('answers 429 ThrottlingException when Athena keeps throttling', async () => {
    athena
      .on(StartQueryExecutionCommand)
      .rejects(new TooManyRequestsException({ message: 'Rate exceeded', $metadata: {} }));

    const err = await rejection(engine().listEvents(query()));

    expect(err).toMatchObject({
      errorType: 'ThrottlingException',
      statusCode: 429,
      message: ATHENA_MESSAGES.throttled,
    });
    expect(athena).toHaveReceivedCommandTimes(StartQueryExecutionCommand, 4);
  });

  it.each([
    [
      'InvalidRequestException',
      new InvalidRequestException({ message: 'workgroup is disabled', $metadata: {} }),
    ],
    [
      'ResourceNotFoundException',
      new ResourceNotFoundException({ message: 'no such workgroup wg', $metadata: {} }),
    ],
  ])('answers 500 (not the Athena error name) for %s', async (_name, error) => {
    athena.on(StartQueryExecutionCommand).rejects(error);

    const err = await rejection(engine().listEvents(query()));

    expect(err).toMatchObject({ errorType: 'InternalServerException', message: ATHENA_MESSAGES.failed });
    expect(athena).toHaveReceivedCommandTimes(StartQueryExecutionCommand, 1);
  });

  it('stops a query that outlives the time budget and answers 500', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-slow' });
    athena.on(GetQueryExecutionCommand).resolves(execution('RUNNING'));
    athena.on(StopQueryExecutionCommand).resolves({});

    const err = await rejection(engine({ timeoutMs: 5_000 }).listEvents(query()));

    expect(err).toMatchObject({ errorType: 'InternalServerException', message: ATHENA_MESSAGES.timeout });
    expect(athena).toHaveReceivedCommandWith(StopQueryExecutionCommand, { QueryExecutionId: 'q-slow' });
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(5_000);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeGreaterThan(4_000);
    expect(athena).not.toHaveReceivedCommand(GetQueryResultsCommand);
  });

  it('still answers the timeout when stopping the query fails', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-slow' });
    athena.on(GetQueryExecutionCommand).resolves(execution('QUEUED'));
    athena
      .on(StopQueryExecutionCommand)
      .rejects(new InvalidRequestException({ message: 'done', $metadata: {} }));

    const err = await rejection(engine({ timeoutMs: 1_000 }).listEvents(query()));

    expect(err.message).toBe(ATHENA_MESSAGES.timeout);
  });

  it('defaults the time budget to 25 s, below API Gateway’s 29 s', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-slow' });
    athena.on(GetQueryExecutionCommand).resolves(execution('RUNNING'));

    await rejection(engine().listEvents(query()));

    const waited = sleeps.reduce((a, b) => a + b, 0);
    expect(waited).toBeGreaterThan(24_000);
    expect(waited).toBeLessThanOrEqual(25_000);
  });

  it('answers 500 when the results do not have the shape of the query', async () => {
    succeeds([{ Data: [{ VarCharValue: 'only-one-column' }] }]);
    const err = await rejection(engine().listEvents(query()));
    expect(err).toMatchObject({ errorType: 'InternalServerException', message: ATHENA_MESSAGES.failed });
  });

  it('answers 500 instead of looping when a NextToken repeats', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena.on(GetQueryExecutionCommand).resolves(execution('SUCCEEDED'));
    athena
      .on(GetQueryResultsCommand)
      .resolvesOnce({ ResultSet: { Rows: [HEADER] }, NextToken: 'same' })
      .resolves({ ResultSet: { Rows: [] }, NextToken: 'same' });

    const err = await rejection(engine().listEvents(query()));

    expect(err.errorType).toBe('InternalServerException');
    expect(athena).toHaveReceivedCommandTimes(GetQueryResultsCommand, 2);
  });
});
