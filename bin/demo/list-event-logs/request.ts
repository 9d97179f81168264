/**
 * A `ListEventLogs` request to the demo server: route, bearer token, path and body checked in the
 * API's order, and the opaque `nextToken` (an HMAC-signed cursor bound to the request's fields).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  ApiError,
  checkIntRange,
  checkLength,
  checkSpaceName,
  isApiError,
  parseRfc3339,
} from '@eventlog-archive/shared';

export const DEFAULT_MAX_RESULTS = 50;
const ROUTE = /^\/v1\/spaces\/([^/?]*)\/eventLogs(?:\?.*)?$/;

/** Any route but `POST /v1/spaces/{spaceName}/eventLogs`: 404 UnknownOperationException. */
export class UnknownOperation extends Error {}

export interface ListEventLogsInput {
  spaceName: string;
  startMs: number;
  endMs: number;
  eventName: string | undefined;
  maxResults: number;
  nextToken: string | undefined;
}

/** The request's fields; throws `ApiError` (or {@link UnknownOperation}) for the first thing wrong. */
export function parseListEventLogs(
  req: IncomingMessage,
  body: string,
  tokens: ReadonlySet<string>,
): ListEventLogsInput {
  const route = ROUTE.exec(req.url ?? '');
  if (!route || req.method !== 'POST') throw new UnknownOperation(`${req.method} ${req.url}`);
  const auth = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  if (!auth || !tokens.has(auth[1]!)) {
    throw new ApiError('AccessDeniedException', 'authorization: a valid bearer token is required');
  }
  let spaceName: string;
  try {
    spaceName = checkSpaceName(decodeURIComponent(route[1]!));
  } catch (err) {
    if (isApiError(err)) throw err;
    throw new ApiError('ValidationException', 'spaceName: is not valid percent-encoding');
  }
  return { spaceName, ...parseBody(body) };
}

function parseBody(body: string): Omit<ListEventLogsInput, 'spaceName'> {
  let input: Record<string, unknown>;
  try {
    input = JSON.parse(body || '{}') as Record<string, unknown>;
  } catch {
    throw new ApiError('ValidationException', 'body: must be a JSON object');
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ApiError('ValidationException', 'body: must be a JSON object');
  }
  const startMs = parseRfc3339(input.startTime, 'startTime');
  const endMs = parseRfc3339(input.endTime, 'endTime');
  if (endMs < startMs) throw new ApiError('ValidationException', 'endTime: must not be before startTime');
  const eventName =
    input.eventName === undefined || input.eventName === null
      ? undefined
      : checkLength(input.eventName, 'eventName', 1, 1024);
  const maxResults = checkIntRange(input.maxResults ?? DEFAULT_MAX_RESULTS, 'maxResults', 1, 250);
  const nextToken =
    input.nextToken === undefined || input.nextToken === null
      ? undefined
      : checkLength(input.nextToken, 'nextToken', 1, 10000);
  return { startMs, endMs, eventName, maxResults, nextToken };
}

/** What a `nextToken` carries. */
export interface Cursor {
  /** Fingerprint of the request fields the token is bound to. */
  f: string;
  /** Time and id of the last event returned. */
  t: number;
  i: string;
}

/** The fields a `nextToken` is bound to, hashed. */
export function fingerprint(input: ListEventLogsInput): string {
  const { spaceName, startMs, endMs, eventName } = input;
  return createHash('sha256')
    .update(JSON.stringify([spaceName, startMs, endMs, eventName ?? null]))
    .digest('base64url')
    .slice(0, 16);
}

/** Signs cursors into tokens with a key of its own, and reads back only tokens it signed. */
export class CursorSigner {
  private readonly key = randomBytes(32);

  sign(cursor: Cursor): string {
    const body = Buffer.from(JSON.stringify(cursor)).toString('base64url');
    return `${body}.${this.mac(body)}`;
  }

  /** The cursor of a token for the request with `fingerprint`; a ValidationException otherwise. */
  unsign(token: string, fingerprint: string): Cursor {
    const [body = '', mac = ''] = token.split('.');
    const expected = this.mac(body);
    if (mac.length !== expected.length || !timingSafeEqual(Buffer.from(mac), Buffer.from(expected))) {
      throw new ApiError('ValidationException', 'nextToken: is not a token issued by this service');
    }
    const cursor = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Cursor;
    if (cursor.f !== fingerprint) {
      throw new ApiError(
        'ValidationException',
        'nextToken: belongs to a different request (spaceName, startTime, endTime and eventName must not change)',
      );
    }
    return cursor;
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url').slice(0, 22);
  }
}

/** [x-amzn-ErrorType, status, message] of a failed request. */
export function errorReply(err: unknown): [string, number, string] {
  return err instanceof UnknownOperation
    ? ['UnknownOperationException', 404, `${err.message}: no such operation`]
    : isApiError(err)
      ? [err.errorType, err.statusCode, err.message]
      : ['InternalServerException', 500, `unexpected: ${String(err)}`];
}
