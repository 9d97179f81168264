import { describe, expect, it } from 'vitest';
import {
  ApiError,
  classifyError,
  ErrorClass,
  isApiError,
  toApiError,
  validationError,
} from '../../../lambdas/shared/src/errors';

const sdkError = (name: string, status: number): Error =>
  Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });

describe('classifyError', () => {
  it.each([
    ['ThrottlingException', 429, ErrorClass.Throttled],
    ['SlowDown', 503, ErrorClass.Throttled],
    ['InternalServerException', 500, ErrorClass.Transient],
    ['ServiceUnavailable', 503, ErrorClass.Transient],
    ['Unknown', 502, ErrorClass.Transient],
    ['ValidationException', 400, ErrorClass.Fatal],
    ['AccessDeniedException', 403, ErrorClass.Fatal],
    ['ResourceNotFoundException', 404, ErrorClass.Fatal],
  ])('returns the class of %s (%i)', (name, status, expected) => {
    expect(classifyError(sdkError(name, status))).toBe(expected);
  });

  it('returns transient for dropped connections and timeouts', () => {
    expect(classifyError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(
      ErrorClass.Transient,
    );
    expect(classifyError(new Error('socket hang up'))).toBe(ErrorClass.Transient);
    expect(classifyError(Object.assign(new Error('x'), { name: 'TimeoutError' }))).toBe(ErrorClass.Transient);
  });

  it('looks through causes', () => {
    expect(classifyError(new Error('wrapped', { cause: sdkError('ThrottlingException', 429) }))).toBe(
      ErrorClass.Throttled,
    );
  });

  it('returns fatal for plain programming errors', () => {
    expect(classifyError(new TypeError('x is not a function'))).toBe(ErrorClass.Fatal);
  });
});

describe('toApiError', () => {
  // Error names of the API references:
  // https://docs.aws.amazon.com/codecatalyst/latest/APIReference/API_ListEventLogs.html,
  // https://docs.aws.amazon.com/codecatalyst/latest/APIReference/CommonErrors.html,
  // https://docs.aws.amazon.com/resilience-hub/v2/APIReference/API_ListSystemEvents.html
  it('keeps the error names and status codes of the API references', () => {
    const mapped = toApiError(sdkError('ResourceNotFoundException', 404));
    expect(mapped.errorType).toBe('ResourceNotFoundException');
    expect(mapped.statusCode).toBe(404);
  });

  it('maps throttling of any service to 429 ThrottlingException', () => {
    expect(toApiError(sdkError('TooManyRequestsException', 429)).statusCode).toBe(429);
  });

  it('hides internals of unexpected errors behind a 500', () => {
    const mapped = toApiError(new Error('SELECT * FROM secret_table failed at /var/task/index.js'));
    expect(mapped.statusCode).toBe(500);
    expect(mapped.message).not.toMatch(/secret_table|var\/task/);
  });

  it('recognises an ApiError made by another copy of the module by name', () => {
    const foreign = Object.assign(new Error('m'), {
      name: 'ApiError',
      errorType: 'ConflictException',
      statusCode: 409,
    });
    expect(isApiError(foreign)).toBe(true);
    expect(toApiError(foreign)).toBe(foreign);
  });
});

describe('validationError', () => {
  it('names the field and the rule in a 400 ValidationException', () => {
    const err = validationError('maxResults', 'must be an integer from 1 to 250');
    expect(err).toBeInstanceOf(ApiError);
    expect(err.statusCode).toBe(400);
    expect(err.toJSON()).toEqual({ message: 'maxResults: must be an integer from 1 to 250' });
  });
});
