/**
 * The AWS query engine: Athena over the Glue table of a source, through parameterized queries.
 *
 * One `listEvents` is one query: `StartQueryExecution` (SQL from sql.ts, every caller value in
 * `ExecutionParameters`), `GetQueryExecution` polled with a growing delay (100 ms to 1 s) within a
 * time budget below API Gateway's 29 s, `StopQueryExecution` when the budget runs out, then
 * `GetQueryResults` pages (the first page starts with a header row). Outcomes become the API's
 * errors here, so no Athena message, SQL or bucket name reaches a caller.
 */
import { randomUUID } from 'node:crypto';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  type GetQueryExecutionCommandOutput,
  GetQueryResultsCommand,
  type GetQueryResultsCommandOutput,
  type QueryExecution,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import {
  ApiError,
  classifyError,
  ErrorClass,
  errorSummary,
  type Logger,
  type RetryOptions,
  withRetry,
} from '@eventlog-archive/shared';
import type { ArchiveRecord } from '../core/records';
import type { EventQuery, QueryEngine, QueryStats } from './engine';
import { athenaCells, recordsFromRows } from './records-from-rows';
import { athenaExecutionParameters, planQuery, type RenderedSql, renderAthena } from './sql';

export interface AthenaEngineOptions {
  /** Defaults to a client from the environment's region and credentials, without SDK retries (ours apply). */
  client?: AthenaClient;
  /** The workgroup: it enforces its own result location, engine version and bytes-scanned cutoff. */
  workGroup: string;
  /** The Glue database holding the source tables. */
  database: string;
  /** Budget of one query from start to last result page (default 25 s, below API Gateway's 29 s). */
  timeoutMs?: number;
  /** The workgroup's bytes-scanned cutoff per query, for the message of a query it stopped. */
  bytesScannedCutoff?: number;
  /** Clock and sleep of the polling loop, replaceable in tests. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Retries of each Athena call on throttling and transient faults (tests shorten the backoff). */
  retry?: Pick<RetryOptions, 'maxAttempts' | 'baseMs' | 'throttleBaseMs' | 'capMs' | 'random'>;
  logger?: Logger;
}

export const DEFAULT_ATHENA_TIMEOUT_MS = 25_000;
/** Rows per `GetQueryResults` page: Athena's maximum. */
export const RESULT_PAGE_SIZE = 1000;
const FIRST_POLL_MS = 100;
const MAX_POLL_MS = 1000;
const DEFAULT_RETRY: NonNullable<AthenaEngineOptions['retry']> = {
  maxAttempts: 4,
  baseMs: 100,
  throttleBaseMs: 250,
  capMs: 2_000,
};

/** The workgroup's per-query data usage control cancelled or failed the query. */
const CUTOFF_PATTERN = /bytes[ -]?scanned|scanned[ -]bytes|data usage|scan(?:ned)? limit|BytesScannedCutoff/i;

export const ATHENA_MESSAGES = {
  throttled: 'Rate exceeded; retry with backoff.',
  failed: 'The archive could not answer this request; try again.',
  cancelled: 'The archive query was cancelled before it finished; try again.',
  timeout: 'The archive query did not finish in time; narrow the time range or try again.',
} as const;

/**
 * An engine that answers `EventQuery`s with Athena. Stateless between calls: safe to share across
 * concurrent requests; create it (and its client) once per execution environment.
 *
 * @example
 * const engine = createAthenaEngine({ workGroup: 'eventlog-archive', database: 'eventlog_archive' });
 */
export function createAthenaEngine(options: AthenaEngineOptions): QueryEngine {
  const ownClient = options.client === undefined;
  const ctx: AthenaContext = {
    client: options.client ?? new AthenaClient({ maxAttempts: 1 }),
    workGroup: options.workGroup,
    database: options.database,
    timeoutMs: options.timeoutMs ?? DEFAULT_ATHENA_TIMEOUT_MS,
    bytesScannedCutoff: options.bytesScannedCutoff,
    now: options.now ?? Date.now,
    sleep: options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))),
    retry: { ...DEFAULT_RETRY, ...options.retry },
    logger: options.logger,
  };
  return {
    listEvents: (query: EventQuery) => listEvents(ctx, query),
    async close() {
      if (ownClient) ctx.client.destroy();
    },
  };
}

/** The settings every step of a query uses, defaults applied. */
interface AthenaContext {
  client: AthenaClient;
  workGroup: string;
  database: string;
  timeoutMs: number;
  bytesScannedCutoff: number | undefined;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  retry: RetryOptions;
  logger: Logger | undefined;
}

/** One query: start, wait within the budget, read every result page, decode the rows. */
async function listEvents(
  ctx: AthenaContext,
  query: EventQuery,
): Promise<{ records: ArchiveRecord[]; stats: QueryStats }> {
  const plan = planQuery(query);
  if (!plan.firstDay) return { records: [], stats: { bytesScanned: 0 } };
  const rendered = renderAthena(plan, ctx.database);
  const started = ctx.now();
  const deadline = started + ctx.timeoutMs;

  const id = await startQuery(ctx, rendered);
  const execution = await waitForQuery(ctx, id, deadline);
  const stats: QueryStats = { bytesScanned: execution.Statistics?.DataScannedInBytes ?? 0 };
  const rows = await readResults(ctx, id, deadline);

  ctx.logger?.debug('Athena query done', {
    queryExecutionId: id,
    rows: rows.length,
    bytesScanned: stats.bytesScanned,
    elapsedMs: ctx.now() - started,
  });
  let records: ArchiveRecord[];
  try {
    records = recordsFromRows(query.source.fields, plan.columns, rows, athenaCells);
  } catch (err) {
    throw new ApiError('InternalServerException', ATHENA_MESSAGES.failed, {}, err);
  }
  return { records, stats };
}

/** One Athena call with retries; what still fails becomes the API's error. */
async function call<T>(ctx: AthenaContext, operation: string, send: () => Promise<T>): Promise<T> {
  try {
    return await withRetry(send, {
      ...ctx.retry,
      onRetry: ({ attempt, errorClass, delayMs }) =>
        ctx.logger?.debug('retrying Athena call', { operation, attempt, errorClass, delayMs }),
    });
  } catch (err) {
    throw apiErrorOf(operation, err, ctx.logger);
  }
}

/** Starts the query; returns its execution id. */
async function startQuery(ctx: AthenaContext, { sql, params }: RenderedSql): Promise<string> {
  // One token for every retry of the start: a retried request never starts a second query.
  const token = randomUUID();
  const start = await call(ctx, 'StartQueryExecution', () =>
    ctx.client.send(
      new StartQueryExecutionCommand({
        QueryString: sql,
        ExecutionParameters: athenaExecutionParameters(params),
        WorkGroup: ctx.workGroup,
        QueryExecutionContext: { Database: ctx.database },
        ClientRequestToken: token,
      }),
    ),
  );
  const id = start.QueryExecutionId;
  if (!id) throw new ApiError('InternalServerException', ATHENA_MESSAGES.failed);
  return id;
}

/** Polls until the query ends; stops it and throws when the budget runs out. */
async function waitForQuery(ctx: AthenaContext, id: string, deadline: number): Promise<QueryExecution> {
  let delay = FIRST_POLL_MS;
  for (;;) {
    const out: GetQueryExecutionCommandOutput = await call(ctx, 'GetQueryExecution', () =>
      ctx.client.send(new GetQueryExecutionCommand({ QueryExecutionId: id })),
    );
    const execution = out.QueryExecution ?? {};
    const status = execution.Status ?? {};
    switch (status.State) {
      case 'SUCCEEDED':
        return execution;
      case 'FAILED':
      case 'CANCELLED':
        throw outcomeError(ctx, id, execution);
    }
    // QUEUED or RUNNING (Athena may move a retried query from FAILED back to QUEUED).
    if (ctx.now() + delay > deadline) {
      await stopQuery(ctx, id);
      throw timeoutError(ctx, id);
    }
    await ctx.sleep(delay);
    delay = Math.min(MAX_POLL_MS, Math.round(delay * 1.6));
  }
}

/** Every result row of a finished query, as Athena's strings (absent for NULL), header row dropped. */
async function readResults(
  ctx: AthenaContext,
  id: string,
  deadline: number,
): Promise<(string | undefined)[][]> {
  const rows: (string | undefined)[][] = [];
  let nextToken: string | undefined;
  let first = true;
  do {
    if (ctx.now() > deadline) throw timeoutError(ctx, id);
    const page: GetQueryResultsCommandOutput = await call(ctx, 'GetQueryResults', () =>
      ctx.client.send(
        new GetQueryResultsCommand({
          QueryExecutionId: id,
          MaxResults: RESULT_PAGE_SIZE,
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      ),
    );
    const pageRows = page.ResultSet?.Rows ?? [];
    // The first page of a SELECT starts with the column names.
    for (const row of first ? pageRows.slice(1) : pageRows)
      rows.push((row.Data ?? []).map((datum) => datum.VarCharValue));
    first = false;
    if (page.NextToken !== undefined && page.NextToken === nextToken)
      throw new ApiError('InternalServerException', ATHENA_MESSAGES.failed, {}, 'repeated NextToken');
    nextToken = page.NextToken;
  } while (nextToken);
  return rows;
}

async function stopQuery(ctx: AthenaContext, id: string): Promise<void> {
  try {
    await ctx.client.send(new StopQueryExecutionCommand({ QueryExecutionId: id }));
  } catch (err) {
    // The query may have ended meanwhile; the timeout is reported either way.
    ctx.logger?.warn('could not stop a timed-out Athena query', {
      queryExecutionId: id,
      error: errorSummary(err),
    });
  }
}

function timeoutError(ctx: AthenaContext, id: string): ApiError {
  ctx.logger?.warn('Athena query timed out', { queryExecutionId: id, timeoutMs: ctx.timeoutMs });
  return new ApiError('InternalServerException', ATHENA_MESSAGES.timeout, {}, `query ${id} timed out`);
}

/** A query that ended FAILED or CANCELLED: the workgroup's bytes-scanned cutoff is a quota error, the rest a 500. */
function outcomeError(ctx: AthenaContext, id: string, execution: QueryExecution): ApiError {
  const status = execution.Status ?? {};
  const reason = [status.StateChangeReason, status.AthenaError?.ErrorMessage].filter(Boolean).join(' | ');
  const detail = {
    queryExecutionId: id,
    state: status.State,
    reason,
    errorCategory: status.AthenaError?.ErrorCategory,
    errorType: status.AthenaError?.ErrorType,
    bytesScanned: execution.Statistics?.DataScannedInBytes,
  };
  if (CUTOFF_PATTERN.test(reason)) {
    ctx.logger?.warn('Athena query exceeded the bytes-scanned cutoff', detail);
    return new ApiError(
      'ServiceQuotaExceededException',
      cutoffMessage(execution.Statistics?.DataScannedInBytes, ctx.bytesScannedCutoff),
      {},
      detail,
    );
  }
  ctx.logger?.warn('Athena query did not succeed', detail);
  return new ApiError(
    'InternalServerException',
    status.State === 'CANCELLED' ? ATHENA_MESSAGES.cancelled : ATHENA_MESSAGES.failed,
    {},
    detail,
  );
}

/**
 * What a query stopped by the workgroup's bytes-scanned cutoff is told: how much it had scanned when
 * it was stopped (its whole scan would have been more), the cutoff, and what to do.
 */
export function cutoffMessage(bytesScanned: number | undefined, cutoff: number | undefined): string {
  const amount = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB (${bytes} bytes)`;
  const scanned =
    bytesScanned !== undefined && bytesScanned > 0 ? ` after scanning ${amount(bytesScanned)}` : '';
  const limit = cutoff !== undefined ? `the limit of ${amount(cutoff)}` : 'the configured limit';
  return (
    `The query was stopped${scanned}: it would scan more than ${limit} of data for one request ` +
    "(the Athena workgroup's bytes-scanned cutoff, query.bytesScannedCutoffMb). Narrow the time range " +
    '(startTime/endTime) or add filters.'
  );
}

/**
 * An Athena call that failed after retries. Throttling (`TooManyRequestsException`, `ThrottlingException`)
 * is a 429 the caller may retry; anything else (including Athena's own `InvalidRequestException` or
 * `ResourceNotFoundException`, which describe our configuration, not the request) is a 500.
 */
function apiErrorOf(operation: string, err: unknown, logger: Logger | undefined): ApiError {
  const throttled = classifyError(err) === ErrorClass.Throttled;
  logger?.warn('Athena call failed', { operation, throttled, error: errorSummary(err) });
  return throttled
    ? new ApiError('ThrottlingException', ATHENA_MESSAGES.throttled, {}, err)
    : new ApiError('InternalServerException', ATHENA_MESSAGES.failed, {}, err);
}
