/**
 * A local stand-in for AWS Resilience Hub (next generation) `ListSystemEvents`
 * (`GET /v2/list-system-events`), following the API reference
 * (https://docs.aws.amazon.com/resilience-hub/v2/APIReference/API_ListSystemEvents.html), for
 * driving the archive's own client in tests and benchmarks. The plumbing (faults, latency, stats,
 * tokens, listen/close) is {@link StandInServer}'s; this file is the API and its SigV4 check:
 *
 * ```ts
 * const server = await startResilienceHubServer({ systems: { [arn]: events } });
 * // AWS_ENDPOINT_URL_RESILIENCEHUBV2=server.url, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY from server.credentials
 * ```
 *
 * Behaviour worth knowing (all of it is deliberate):
 * - Every request must be signed with SigV4, which this server VERIFIES with its own implementation
 *   (node:crypto: canonical request, string to sign, signing key), independent of
 *   `@smithy/signature-v4`. Failures are 403s with the error types AWS uses:
 *   `MissingAuthenticationTokenException` (no Authorization header), `IncompleteSignatureException`
 *   (a malformed one), `UnrecognizedClientException` (unknown access key, wrong or missing session
 *   token), `InvalidSignatureException` (wrong signature, wrong signing name or region in the
 *   credential scope, date more than 15 minutes off the signature clock, payload hash mismatch).
 *   The signature clock ({@link ResilienceHubServerOptions.signatureNow}, default `Date.now`) is
 *   separate from the event clock, so tests can fix the event clock while clients sign with real time.
 * - Check order: faults, route (404 `UnknownOperationException`), signature (403), query parameters
 *   (400 `ValidationException` `{ message, reason, fieldList: [{ name, message }] }`, every bad field
 *   listed), denied system (403 `AccessDeniedException`), unknown system (404
 *   `ResourceNotFoundException` `{ message, resourceId, resourceType }`), nextToken (400).
 * - Results are `startTime <= timestamp < endTime` (either bound optional) and of the given
 *   `eventTypes` (repeat the parameter for several), NOT in time order: a listing is ordered by a
 *   stable hash of the eventId. `maxResults` defaults to {@link DEFAULT_MAX_RESULTS}; the API
 *   reference does not document the service's default.
 * - `startTime`/`endTime` are ISO 8601 date-times (`Z` or `±hh:mm`, any fraction digits truncated to
 *   ms; a bare date means midnight UTC). `timestamp` in responses is epoch seconds with a
 *   millisecond fraction.
 * - `nextToken` is opaque (base64url JSON + HMAC): a cursor (hash/id of the last item returned)
 *   bound to systemArn, startTime, endTime and eventTypes (maxResults may change). A token of another
 *   request, another server, or a forged one is a 400; with `tokenTtlMs`, an old one too. Events
 *   added behind the cursor are not seen by that listing (LATE events).
 * - Events older than `now() - retentionMs` are not returned and not in `events()`: expiry.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, Server } from 'node:http';
import { parseRfc3339 } from './codecatalyst-server';
import { SYSTEM_EVENT_TYPE_VALUES, type SystemEventWire, stringifyWithRaw } from './sample-system-events';
import {
  fnv1a,
  type PageToken,
  StandInError,
  type StandInFaults,
  type StandInOptions,
  type StandInRecord,
  type StandInResponse,
  StandInServer,
  type StandInStats,
  type StoredEvent,
  startStandIn,
} from './stand-in-server';

export { DEFAULT_RETENTION_MS, type FaultKind } from './stand-in-server';

export const DEFAULT_MAX_RESULTS = 50;
/** How far a request's `x-amz-date` may be from the signature clock, as AWS allows. */
export const MAX_SKEW_MS = 15 * 60 * 1000;
export const DEFAULT_SIGNING_NAME = 'resiliencehub';
export const RESOURCE_TYPE = 'System';

/** Key pairs that the default options accept. */
export const TEST_CREDENTIALS: readonly SigningCredentials[] = [
  { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
  {
    accessKeyId: 'ASIAIOSFODNN7SESSION',
    secretAccessKey: 'je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY',
    sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE-session-token-0123456789',
  },
];

export const ERROR_STATUS = {
  ValidationException: 400,
  ServiceQuotaExceededException: 402,
  AccessDeniedException: 403,
  InvalidSignatureException: 403,
  UnrecognizedClientException: 403,
  MissingAuthenticationTokenException: 403,
  IncompleteSignatureException: 403,
  ResourceNotFoundException: 404,
  UnknownOperationException: 404,
  ConflictException: 409,
  ThrottlingException: 429,
  InternalServerException: 500,
} as const;
export type ErrorName = keyof typeof ERROR_STATUS;

export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** When set, requests with this key must carry (and sign) it as `x-amz-security-token`. */
  sessionToken?: string;
}

/** Per-request fault probabilities, drawn in order from a PRNG seeded by `seed`: see {@link StandInFaults}. */
export type ResilienceHubFaults = StandInFaults;

export interface ResilienceHubServerOptions extends StandInOptions {
  /** Initial events by system ARN; a system exists once given events (an empty array is fine). */
  systems?: Record<string, SystemEventWire[]>;
  /** Accepted key pairs. Default {@link TEST_CREDENTIALS}. */
  credentials?: readonly SigningCredentials[];
  /** The signing name the credential scope must name. Default `resiliencehub`. */
  signingName?: string;
  /** The region the credential scope must name; default: any region. */
  region?: string;
  /** Systems answering 403 AccessDeniedException. */
  deniedSystems?: string[];
  /** Signature clock (x-amz-date skew). Default `Date.now`. */
  signatureNow?: () => number;
  /** Tokens older than this (event clock) are rejected. Default: never. */
  tokenTtlMs?: number;
  faults?: ResilienceHubFaults;
}

export interface ResilienceHubServerStats extends StandInStats {
  /** Requests whose signature was verified. */
  signaturesVerified: number;
}

export interface RecordedRequest extends StandInRecord {
  /** Error type of an error response. */
  errorType?: string;
}

interface Stored extends StoredEvent {
  readonly event: SystemEventWire;
}

interface FieldProblem {
  name: string;
  message: string;
}

class HttpError extends StandInError<ErrorName> {}

const ROUTE = '/v2/list-system-events';
const SYSTEM_ARN =
  /^arn:(aws|aws-cn|aws-iso|aws-iso-[a-z]{1}|aws-us-gov):[A-Za-z0-9][A-Za-z0-9_/.-]{0,62}:([a-z]{2}-((iso[a-z]{0,1}-)|(gov-)){0,1}[a-z]+-[0-9]):[0-9]{12}:[A-Za-z0-9/][A-Za-z0-9:_/+.-]{0,1023}$/;
const NEXT_TOKEN = /^\S{1,2000}$/u;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const EVENT_TYPES: ReadonlySet<string> = new Set(SYSTEM_EVENT_TYPE_VALUES);

const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding as SigV4 canonicalisation requires. */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** `YYYYMMDDTHHMMSSZ` to epoch ms, or undefined. */
function parseAmzDate(value: string): number | undefined {
  const m = AMZ_DATE.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const ms = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
  return Number.isFinite(ms) ? ms : undefined;
}

const amzDateOf = (ms: number): string =>
  new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

/** Query parameters of a raw query string, percent-decoded, in order. Throws on bad encoding. */
function parseQuery(raw: string): Array<[string, string]> {
  if (raw === '') return [];
  return raw.split('&').map((part) => {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    return [decodeURIComponent(key), decodeURIComponent(value)];
  });
}

/**
 * The SigV4 canonical request of an HTTP request as received (exported for the self-tests).
 * The path is the raw (encoded) path, normalised and encoded once more, as for every service but S3.
 */
export function canonicalRequest(
  method: string,
  rawPath: string,
  query: Array<[string, string]>,
  headers: IncomingHttpHeaders,
  signedHeaders: string[],
  payloadHash: string,
): string {
  const segments: string[] = [];
  for (const segment of rawPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalised = `/${segments.join('/')}${segments.length > 0 && rawPath.endsWith('/') ? '/' : ''}`;
  const uri = uriEncode(normalised).replace(/%2F/g, '/');
  const encoded = query
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0));
  const canonicalQuery = encoded.map(([k, v]) => `${k}=${v}`).join('&');
  const canonicalHeaders = signedHeaders
    .map((name) => {
      const raw = headers[name];
      const value = Array.isArray(raw) ? raw.join(',') : (raw ?? '');
      return `${name}:${value.replace(/\s+/g, ' ').trim()}\n`;
    })
    .join('');
  return [method, uri, canonicalQuery, canonicalHeaders, signedHeaders.join(';'), payloadHash].join('\n');
}

/** The SigV4 signing key of a secret for a date, region and service. */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

/**
 * The running fake service. Settable at run time, besides {@link StandInServer}'s: `tokenTtlMs`,
 * `credentials`, `deniedSystems`; the signature clock via {@link setSignatureNow}.
 */
export class ResilienceHubServer extends StandInServer<
  ErrorName,
  ResilienceHubServerStats,
  RecordedRequest,
  Stored
> {
  tokenTtlMs: number | undefined;
  /** Accepted key pairs by access key id. */
  readonly credentials: Map<string, SigningCredentials>;
  readonly deniedSystems: Set<string>;
  readonly signingName: string;
  readonly region: string | undefined;

  private signatureClock: () => number;

  /** @internal Use {@link startResilienceHubServer}. */
  constructor(server: Server, url: string, options: ResilienceHubServerOptions) {
    super(server, url, options, {
      // Ties in time are ordered by id, so every listing of the same events is the same.
      timeOrder: (a, b) => a.time - b.time || (a.id < b.id ? -1 : 1),
      errorStatus: ERROR_STATUS,
      extraStats: { signaturesVerified: 0 },
      serverErrorMessage: 'Internal service error.',
      pageSeedMix: 0x5bd1e995,
      recordErrorType: true,
    });
    this.tokenTtlMs = options.tokenTtlMs;
    this.credentials = new Map((options.credentials ?? TEST_CREDENTIALS).map((c) => [c.accessKeyId, c]));
    this.deniedSystems = new Set(options.deniedSystems ?? []);
    this.signingName = options.signingName ?? DEFAULT_SIGNING_NAME;
    this.region = options.region;
    this.signatureClock = options.signatureNow ?? Date.now;
    for (const [arn, events] of Object.entries(options.systems ?? {})) this.addEvents(arn, events);
  }

  /**
   * Adds events to a system (creating it) at any time: past timestamps model LATE events. An event
   * with an eventId already present replaces it. Events are kept by reference: do not mutate them.
   */
  addEvents(systemArn: string, events: readonly SystemEventWire[]): void {
    this.books.add(
      systemArn,
      (function* () {
        for (const event of events) {
          if (typeof event.eventId !== 'string') throw new TypeError('event.eventId must be a string');
          if (typeof event.timestamp !== 'number' || !Number.isFinite(event.timestamp))
            throw new TypeError(`event ${event.eventId}: timestamp must be epoch seconds`);
          const time = Math.round(event.timestamp * 1000);
          yield { event, id: event.eventId, time, hash: fnv1a(event.eventId) };
        }
      })(),
    );
  }

  systemArns(): string[] {
    return [...this.books.keys()];
  }

  /** Fixes the signature clock at `ms`, or installs a clock function. */
  setSignatureNow(now: number | (() => number)): void {
    this.signatureClock = typeof now === 'number' ? () => now : now;
  }

  // ---------------------------------------------------------------------------------------------
  // The API

  protected route(req: IncomingMessage, body: Buffer): StandInResponse {
    return this.listSystemEvents(req, body);
  }

  /** Verifies the request's SigV4 Authorization header; throws a 403 HttpError when it fails. */
  private verifySignature(
    req: IncomingMessage,
    rawPath: string,
    query: Array<[string, string]>,
    body: Buffer,
  ): void {
    const auth = req.headers.authorization;
    if (!auth) throw new HttpError('MissingAuthenticationTokenException', 'Missing Authentication Token');
    const m = /^AWS4-HMAC-SHA256\s+(.*)$/s.exec(auth);
    if (!m)
      throw new HttpError(
        'IncompleteSignatureException',
        'Authorization header requires the AWS4-HMAC-SHA256 algorithm.',
      );
    const parts = new Map<string, string>();
    for (const piece of m[1]!.split(/,\s*/)) {
      const eq = piece.indexOf('=');
      if (eq > 0) parts.set(piece.slice(0, eq).trim(), piece.slice(eq + 1).trim());
    }
    for (const name of ['Credential', 'SignedHeaders', 'Signature']) {
      if (!parts.get(name))
        throw new HttpError(
          'IncompleteSignatureException',
          `Authorization header requires '${name}' parameter.`,
        );
    }
    const scope = parts.get('Credential')!.split('/');
    if (scope.length !== 5 || scope[4] !== 'aws4_request')
      throw new HttpError(
        'IncompleteSignatureException',
        'Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/aws4_request.',
      );
    const [accessKeyId, date, region, service] = scope as [string, string, string, string];
    const key = this.credentials.get(accessKeyId);
    if (!key)
      throw new HttpError(
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      );

    const signedHeaders = parts.get('SignedHeaders')!.split(';');
    if (!signedHeaders.includes('host'))
      throw new HttpError(
        'InvalidSignatureException',
        "'Host' must be a 'SignedHeader' in the AWS Authorization.",
      );
    const amzDate = req.headers['x-amz-date'];
    const signedAt = typeof amzDate === 'string' ? parseAmzDate(amzDate) : undefined;
    if (signedAt === undefined || !signedHeaders.includes('x-amz-date'))
      throw new HttpError(
        'IncompleteSignatureException',
        'Authorization header requires a signed x-amz-date header in the ISO 8601 basic format (YYYYMMDDTHHMMSSZ).',
      );
    if (date !== (amzDate as string).slice(0, 8))
      throw new HttpError(
        'InvalidSignatureException',
        `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${date}' != '${(amzDate as string).slice(0, 8)}', from '${amzDate}'.`,
      );
    if (service !== this.signingName)
      throw new HttpError(
        'InvalidSignatureException',
        `Credential should be scoped to correct service: '${this.signingName}'.`,
      );
    if (this.region !== undefined && region !== this.region)
      throw new HttpError(
        'InvalidSignatureException',
        `Credential should be scoped to a valid region, not '${region}'. This endpoint is '${this.region}'.`,
      );
    const now = this.signatureClock();
    if (signedAt < now - MAX_SKEW_MS)
      throw new HttpError(
        'InvalidSignatureException',
        `Signature expired: ${amzDate} is now earlier than ${amzDateOf(now - MAX_SKEW_MS)} (${amzDateOf(now)} - 15 min.)`,
      );
    if (signedAt > now + MAX_SKEW_MS)
      throw new HttpError(
        'InvalidSignatureException',
        `Signature not yet current: ${amzDate} is still later than ${amzDateOf(now + MAX_SKEW_MS)} (${amzDateOf(now)} + 15 min.)`,
      );

    const token = req.headers['x-amz-security-token'];
    if (key.sessionToken !== undefined || token !== undefined) {
      if (token !== key.sessionToken)
        throw new HttpError(
          'UnrecognizedClientException',
          'The security token included in the request is invalid.',
        );
      if (!signedHeaders.includes('x-amz-security-token'))
        throw new HttpError(
          'InvalidSignatureException',
          "'x-amz-security-token' must be a 'SignedHeader' in the AWS Authorization.",
        );
    }
    const bodyHash = sha256Hex(body);
    const declared = req.headers['x-amz-content-sha256'];
    if (declared !== undefined && declared !== bodyHash)
      throw new HttpError(
        'InvalidSignatureException',
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
      );

    const canonical = canonicalRequest(
      req.method ?? 'GET',
      rawPath,
      query,
      req.headers,
      signedHeaders,
      bodyHash,
    );
    const stringToSign = [
      'AWS4-HMAC-SHA256',
      amzDate,
      `${date}/${region}/${service}/aws4_request`,
      sha256Hex(canonical),
    ].join('\n');
    const expected = createHmac('sha256', signingKey(key.secretAccessKey, date, region, service))
      .update(stringToSign)
      .digest();
    const given = Buffer.from(parts.get('Signature')!, 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      throw new HttpError(
        'InvalidSignatureException',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      );
    this.stats.signaturesVerified++;
  }

  private listSystemEvents(req: IncomingMessage, body: Buffer): StandInResponse {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    if (rawPath !== ROUTE || req.method !== 'GET')
      throw new HttpError('UnknownOperationException', `${req.method} ${rawPath}: no such operation`);
    let query: Array<[string, string]>;
    try {
      query = parseQuery(q < 0 ? '' : url.slice(q + 1));
    } catch {
      throw new HttpError('ValidationException', 'the query string is not valid percent-encoding', {
        reason: 'OTHER',
        fieldList: [],
      });
    }
    this.verifySignature(req, rawPath, query, body);

    const params = new Map<string, string[]>();
    for (const [k, v] of query) params.set(k, [...(params.get(k) ?? []), v]);
    const problems: FieldProblem[] = [];
    let missing = false;
    const single = (name: string): string | undefined => {
      const values = params.get(name);
      if (values && values.length > 1) problems.push({ name, message: 'must be given once' });
      return values?.[0];
    };

    const systemArn = single('systemArn');
    if (systemArn === undefined || systemArn === '') {
      missing = true;
      problems.push({ name: 'systemArn', message: 'is required' });
    } else if (systemArn.length < 31)
      problems.push({ name: 'systemArn', message: 'must have a minimum length of 31' });
    else if (!SYSTEM_ARN.test(systemArn))
      problems.push({
        name: 'systemArn',
        message: `must match the pattern ${SYSTEM_ARN.source.slice(1, -1)}`,
      });

    const eventTypes = params.get('eventTypes') ?? [];
    for (const value of eventTypes)
      if (!EVENT_TYPES.has(value))
        problems.push({
          name: 'eventTypes',
          message: `value '${value}' is not one of ${[...EVENT_TYPES].join(' | ')}`,
        });

    const maxRaw = single('maxResults');
    let maxResults = DEFAULT_MAX_RESULTS;
    if (maxRaw !== undefined) {
      maxResults = /^\d{1,4}$/.test(maxRaw) ? Number(maxRaw) : Number.NaN;
      if (!(maxResults >= 1 && maxResults <= 100))
        problems.push({ name: 'maxResults', message: 'must be an integer from 1 to 100' });
    }
    const nextToken = single('nextToken');
    if (nextToken !== undefined && !NEXT_TOKEN.test(nextToken))
      problems.push({ name: 'nextToken', message: 'must match the pattern \\S{1,2000}' });

    const time = (name: 'startTime' | 'endTime'): number | undefined => {
      const raw = single(name);
      if (raw === undefined) return undefined;
      const ms = parseRfc3339(raw);
      if (ms === undefined)
        problems.push({ name, message: 'must be an ISO 8601 date-time, e.g. 2026-05-01T00:00:00Z' });
      return ms;
    };
    const startMs = time('startTime');
    const endMs = time('endTime');
    if (startMs !== undefined && endMs !== undefined && endMs < startMs)
      problems.push({ name: 'endTime', message: 'must not be before startTime' });

    if (problems.length > 0)
      throw validation(problems, missing ? 'MISSING_REQUIRED_FIELD' : 'INVALID_FIELD_VALUE');
    const arn = systemArn!;
    if (this.deniedSystems.has(arn))
      throw new HttpError(
        'AccessDeniedException',
        `User is not authorized to perform resiliencehub:ListSystemEvents on resource ${arn}`,
      );
    const data = this.books.get(arn);
    if (!data)
      throw new HttpError('ResourceNotFoundException', `System ${arn} was not found`, {
        resourceId: arn,
        resourceType: RESOURCE_TYPE,
      });

    const types = [...new Set(eventTypes)].sort();
    const fingerprint = this.fingerprint([arn, startMs ?? null, endMs ?? null, types]);
    const cursor = nextToken === undefined ? undefined : this.verifyToken(nextToken, fingerprint);
    const wanted = new Set(types);
    const page = this.listPage({
      book: data,
      fingerprint,
      cursor,
      maxResults,
      startMs,
      endMs,
      keep: wanted.size === 0 ? undefined : (s) => wanted.has(s.event.eventType),
      stamp: () => ({ t: this.clock() }),
    });
    return pageResponse(
      page.items.map((s) => s.event),
      page.next,
    );
  }

  private verifyToken(token: string, fingerprint: string): PageToken {
    const payload = this.readToken(token, fingerprint, (problem) =>
      problem === 'invalid'
        ? validation([{ name: 'nextToken', message: 'is not a token issued by this service' }])
        : validation([
            {
              name: 'nextToken',
              message:
                'belongs to a different request (systemArn, startTime, endTime and eventTypes must not change between pages)',
            },
          ]),
    );
    if (this.tokenTtlMs !== undefined && this.clock() - (payload.t ?? 0) > this.tokenTtlMs)
      throw validation([{ name: 'nextToken', message: 'has expired; start the listing again' }]);
    return payload;
  }
}

function validation(problems: FieldProblem[], reason = 'INVALID_FIELD_VALUE'): HttpError {
  const message =
    problems.length === 1
      ? `${problems[0]!.name}: ${problems[0]!.message}`
      : `${problems.length} validation errors detected: ${problems.map((p) => `${p.name}: ${p.message}`).join('; ')}`;
  return new HttpError('ValidationException', message, { reason, fieldList: problems });
}

function pageResponse(events: SystemEventWire[], nextToken: string | undefined): StandInResponse {
  return {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: stringifyWithRaw(nextToken === undefined ? { events } : { events, nextToken }),
    items: events.length,
  };
}

/** Starts a {@link ResilienceHubServer} on 127.0.0.1 with an ephemeral port. */
export function startResilienceHubServer(
  options: ResilienceHubServerOptions = {},
): Promise<ResilienceHubServer> {
  return startStandIn((server, url) => new ResilienceHubServer(server, url, options));
}
