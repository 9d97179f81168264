/**
 * How `serve` (serve-server.ts) reads a request's query string, writes answers, and how long a
 * request may take before it is answered: shared by the API routes and the console's endpoints
 * (console-api.ts).
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from '@eventlog-archive/shared';
import { SAFETY_HEADERS } from './serve-admission';

/** Writes an answer with the safety headers, unless one was written or the client left. */
export function send(
  res: ServerResponse,
  requestId: string,
  statusCode: number,
  headers: Record<string, string>,
  body: string,
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(statusCode, {
    ...SAFETY_HEADERS,
    ...headers,
    'content-length': String(Buffer.byteLength(body, 'utf8')),
    'x-amzn-RequestId': requestId,
  });
  res.end(body);
}

/** An error in the API's shape: the name in `x-amzn-ErrorType`, a JSON body `{"message"}`. */
export function sendError(
  res: ServerResponse,
  requestId: string,
  statusCode: number,
  type: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  send(
    res,
    requestId,
    statusCode,
    { 'content-type': 'application/json', 'x-amzn-ErrorType': type, ...headers },
    JSON.stringify({ message }),
  );
}

export function abortReason(message: string): Error {
  const err = new Error(message);
  err.name = 'AbortError';
  return err;
}

/** Who still wants a request's answer, and until when. */
export interface RequestDeadline {
  /** Aborted when nobody wants the answer any more: the engine drops or interrupts the query. */
  signal: AbortSignal;
  /** The answer is ready: no timeout any more. */
  settle(): void;
}

/**
 * The deadline of a request: its signal aborts when the client closes the connection, or after
 * `timeoutMs` (if given), when a 504 is sent. Without `timeoutMs` only the client's leaving ends it.
 */
export function requestDeadline(
  res: ServerResponse,
  request: { requestId: string; path: string },
  timeoutMs: number | undefined,
  logger: Logger,
): RequestDeadline {
  const { requestId, path } = request;
  const controller = new AbortController();
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          controller.abort(abortReason(`no answer within ${timeoutMs} ms`));
          logger.warn('request timed out', {
            requestId,
            path: path.slice(0, 200),
            queryTimeoutMs: timeoutMs,
          });
          // 504 as API Gateway answers a slow integration; the SDKs retry a 504 as transient.
          sendError(
            res,
            requestId,
            504,
            'InternalServerException',
            `The query did not finish within ${timeoutMs} ms; narrow the time range or filters, or retry later.`,
          );
        }, timeoutMs);
  res.on('close', () => {
    clearTimeout(timer);
    if (!res.writableFinished) controller.abort(abortReason('the client closed the connection'));
  });
  return { signal: controller.signal, settle: () => clearTimeout(timer) };
}

/**
 * A query string as the API takes it: percent-decoded, a repeated parameter as the list of its
 * values. `+` stays a plus sign (as AWS services read query strings; a system ARN may contain `+`),
 * and a malformed escape is kept as sent, for the route's validation to reject.
 */
export function queryParams(search: string): Record<string, string | string[]> {
  const decode = (text: string): string => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  const out: Record<string, string | string[]> = {};
  for (const part of search.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = decode(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : decode(part.slice(eq + 1));
    const seen = Object.hasOwn(out, key) ? out[key] : undefined;
    out[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return out;
}
