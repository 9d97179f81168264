/**
 * Errors and the one table that maps them to the source APIs' error names and HTTP status codes.
 *
 * Errors cross the layer boundary (a function bundle and the layer each have their own module
 * instances), so everything here matches by `name`, never by `instanceof`.
 */

/**
 * Error names of the API references (CodeCatalyst ListEventLogs and common errors, Resilience Hub
 * ListSystemEvents) and their status codes:
 * - https://docs.aws.amazon.com/codecatalyst/latest/APIReference/API_ListEventLogs.html
 * - https://docs.aws.amazon.com/codecatalyst/latest/APIReference/CommonErrors.html
 * - https://docs.aws.amazon.com/resilience-hub/v2/APIReference/API_ListSystemEvents.html
 */
export const ERROR_STATUS = {
  ValidationException: 400,
  ServiceQuotaExceededException: 402,
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
  ConflictException: 409,
  ThrottlingException: 429,
  InternalServerException: 500,
} as const;

export type ErrorName = keyof typeof ERROR_STATUS;

/** How a failed call should be treated by ingest and query alike. */
export const ErrorClass = {
  /** The source asked us to slow down: retry later and lower concurrency. */
  Throttled: 'throttled',
  /** A transient fault (5xx, timeout, dropped connection): retry with backoff. */
  Transient: 'transient',
  /** Retrying cannot help (bad request, no access, no such resource). */
  Fatal: 'fatal',
} as const;
export type ErrorClass = (typeof ErrorClass)[keyof typeof ErrorClass];

/** Base class of this project's own errors; `cause` keeps the original. */
export class ArchiveError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ArchiveError';
  }
}

/**
 * An error that an HTTP API returns as is: the API reference's error name in `x-amzn-ErrorType`
 * and a JSON body with `message` (plus any extra fields the API reference defines, such as `fieldList`).
 *
 * @example
 * throw new ApiError('ValidationException', 'maxResults: must be an integer from 1 to 250');
 */
export class ApiError extends Error {
  readonly errorType: ErrorName;
  readonly statusCode: number;
  readonly extra: Record<string, unknown>;

  constructor(errorType: ErrorName, message: string, extra: Record<string, unknown> = {}, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ApiError';
    this.errorType = errorType;
    this.statusCode = ERROR_STATUS[errorType];
    this.extra = extra;
  }

  toJSON(): Record<string, unknown> {
    return { ...this.extra, message: this.message };
  }
}

/** A request field broke a rule of the API reference: always a 400 ValidationException naming the field. */
export function validationError(field: string, rule: string, extra: Record<string, unknown> = {}): ApiError {
  return new ApiError('ValidationException', `${field}: ${rule}`, extra);
}

/** True when `err` is an ApiError, also when it was created by another copy of this module. */
export function isApiError(err: unknown): err is ApiError {
  return (
    err instanceof Error &&
    err.name === 'ApiError' &&
    typeof (err as Partial<ApiError>).errorType === 'string' &&
    typeof (err as Partial<ApiError>).statusCode === 'number'
  );
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

const THROTTLE_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'SlowDown',
  'TooManyRequests',
]);

const TRANSIENT_NAMES = new Set([
  'InternalServerException',
  'InternalFailure',
  'InternalError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'NetworkingError',
]);

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  errno?: unknown;
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number };
  statusCode?: unknown;
  cause?: unknown;
}

/** The HTTP status an error came with, if any (AWS SDK v3 errors carry it in `$metadata`). */
export function httpStatusOf(err: unknown): number | undefined {
  const e = err as ErrorLike | undefined;
  if (!e || typeof e !== 'object') return undefined;
  if (typeof e.$metadata?.httpStatusCode === 'number') return e.$metadata.httpStatusCode;
  if (typeof e.$response?.statusCode === 'number') return e.$response.statusCode;
  if (typeof e.statusCode === 'number') return e.statusCode;
  return undefined;
}

/**
 * Classifies any error (AWS SDK, our own source clients, Node network errors) as throttled,
 * transient or fatal. Ingest and query both retry by this one rule.
 */
export function classifyError(err: unknown): ErrorClass {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const { name, code } = e as ErrorLike;
    if (typeof name === 'string') {
      if (THROTTLE_NAMES.has(name)) return ErrorClass.Throttled;
      if (TRANSIENT_NAMES.has(name)) return ErrorClass.Transient;
    }
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return ErrorClass.Transient;
    const status = httpStatusOf(e);
    if (status === 429) return ErrorClass.Throttled;
    if (status !== undefined && (status >= 500 || status === 408)) return ErrorClass.Transient;
    if (status !== undefined && status >= 400) return ErrorClass.Fatal;
    e = (e as ErrorLike).cause;
  }
  // No status and no known code: a socket hang-up or a cut-off body surfaces as a plain Error.
  const message = err instanceof Error ? err.message : String(err);
  if (/socket hang up|ECONNRESET|premature close|aborted|terminated|timed? ?out/i.test(message)) {
    return ErrorClass.Transient;
  }
  return ErrorClass.Fatal;
}

/**
 * Maps any error to what an API caller may see: errors of the API references keep their name and status,
 * throttling becomes 429, and everything else becomes a 500 whose message says nothing internal.
 */
export function toApiError(err: unknown): ApiError {
  if (isApiError(err)) return err;
  const name = (err as ErrorLike | undefined)?.name;
  if (typeof name === 'string' && name in ERROR_STATUS && name !== 'InternalServerException') {
    const message = err instanceof Error && err.message ? err.message : name;
    return new ApiError(name as ErrorName, message, {}, err);
  }
  if (classifyError(err) === ErrorClass.Throttled) {
    return new ApiError('ThrottlingException', 'Rate exceeded; retry with backoff.', {}, err);
  }
  return new ApiError(
    'InternalServerException',
    'The archive could not answer this request; try again.',
    {},
    err,
  );
}

/** `{ name, message, code? }` of any thrown value: what log lines carry (no stack: logs are read by people). */
export function errorSummary(err: unknown): { name: string; message: string; code?: string } {
  if (err instanceof Error) {
    const code = (err as ErrorLike).code;
    return { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'Error', message: String(err) };
}
