/**
 * A SigV4-signed HTTPS request for AWS APIs that need no full SDK client in the bundle (Secrets
 * Manager's GetSecretValue, Resilience Hub's ListSystemEvents, the query side's S3 ListObjectsV2).
 * Credentials are given or come from the default provider chain; endpoints follow the SDKs'
 * `AWS_ENDPOINT_URL_<SERVICE>` convention.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { ArchiveError } from '@eventlog-archive/shared';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

export interface SignedRequest {
  /** SigV4 signing name, e.g. `secretsmanager`. */
  service: string;
  region: string;
  /** Base URL, e.g. `https://secretsmanager.us-east-1.amazonaws.com`. */
  endpoint: string;
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Credentials or a provider; default: the default provider chain (created once per process). */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /**
   * Whether the signer escapes the path a second time (SigV4 for every service but S3); `false` for
   * S3. Default `true`.
   */
  uriEscapePath?: boolean;
}

/** The raw answer of a signed request, whatever its status. */
export interface SignedResponse {
  status: number;
  ok: boolean;
  headers: Headers;
  text: string;
}

/** An AWS API answered with an error; `name` is the error type it sent, `$metadata` as the SDK has it. */
export class AwsRequestError extends ArchiveError {
  readonly $metadata: { httpStatusCode: number };
  readonly body: Record<string, unknown>;
  constructor(name: string, message: string, status: number, body: Record<string, unknown>) {
    super(message);
    this.name = name;
    this.$metadata = { httpStatusCode: status };
    this.body = body;
  }
}

/** SHA-256 for `@smithy/signature-v4`, from node:crypto (HMAC when given a secret). */
export class NodeSha256 {
  readonly #hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#hash.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
}

function toBytes(data: string | ArrayBuffer | ArrayBufferView): Uint8Array | string {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

let defaultCredentials: ReturnType<typeof defaultProvider> | undefined;

/**
 * Signs and sends a request; returns the status and the body as text, whatever the status (the
 * caller decodes errors its own way). Network faults and timeouts throw as `fetch` does.
 */
export async function signedRequest(request: SignedRequest): Promise<SignedResponse> {
  let credentials = request.credentials;
  if (!credentials) {
    defaultCredentials ??= defaultProvider();
    credentials = defaultCredentials;
  }
  const url = new URL(request.path, request.endpoint);
  const signer = new SignatureV4({
    service: request.service,
    region: request.region,
    credentials,
    sha256: NodeSha256,
    uriEscapePath: request.uriEscapePath ?? true,
  });
  const signed = await signer.sign({
    method: request.method,
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    query: request.query ?? {},
    headers: { host: url.host, ...(request.headers ?? {}) },
    ...(request.body !== undefined ? { body: request.body } : {}),
  });
  const qs = queryString(request.query ?? {});
  const signal = request.timeoutMs
    ? AbortSignal.any([AbortSignal.timeout(request.timeoutMs), ...(request.signal ? [request.signal] : [])])
    : request.signal;
  const headers: Record<string, string> = { ...signed.headers };
  // fetch sets Host itself, to the same value.
  delete headers.host;
  const response = await fetch(`${url.origin}${url.pathname}${qs ? `?${qs}` : ''}`, {
    method: request.method,
    headers,
    ...(request.body !== undefined ? { body: request.body } : {}),
    ...(signal ? { signal } : {}),
  });
  return { status: response.status, ok: response.ok, headers: response.headers, text: await response.text() };
}

/** Signs and sends a request; returns the parsed JSON body or throws `AwsRequestError`. */
export async function signedJsonRequest<T>(request: SignedRequest): Promise<T> {
  const response = await signedRequest(request);
  const { text } = response;
  let json: Record<string, unknown> = {};
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    if (response.ok)
      throw new AwsRequestError('SerializationException', 'the response was not JSON', response.status, {});
  }
  if (!response.ok)
    throw restJsonError(request.service, response.status, response.headers.get('x-amzn-errortype'), text);
  return json as T;
}

/**
 * An error answer of a JSON API as the AWS SDKs decode it: the name from `x-amzn-errortype`, else the
 * body's `__type` or `code` (the part after `#`, without a `:…` suffix), else `Http<status>`; the
 * body's `message` (or `Message`), else the status and the start of a body that is not JSON.
 */
export function restJsonError(
  operation: string,
  status: number,
  errorType: string | null | undefined,
  text: string,
): AwsRequestError {
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = text ? JSON.parse(text) : {};
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
      body = parsed as Record<string, unknown>;
  } catch {
    // A load balancer's plain-text page: the status says enough.
  }
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const type = errorType ?? str(body.__type) ?? str(body.code) ?? `Http${status}`;
  const name = type.split(':')[0]!.split('#').pop() || `Http${status}`;
  const message =
    str(body.message) ??
    str(body.Message) ??
    `${operation} answered HTTP ${status}${text && !text.trimStart().startsWith('{') ? `: ${text.trim().slice(0, 200)}` : ''}`;
  return new AwsRequestError(name, message, status, body);
}

/** RFC 3986 encoding, the one SigV4 canonicalises with (also escapes `!'()*`). */
export function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** `a=1&b=x&b=y`, RFC 3986-encoded, in the order given (a list value repeats its key). */
export function queryString(query: Record<string, string | string[]>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query))
    for (const v of Array.isArray(value) ? value : [value]) parts.push(`${rfc3986(key)}=${rfc3986(v)}`);
  return parts.join('&');
}

/** The endpoint of a service: `AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`, then the default. */
export function endpointFor(envName: string, fallback: string, env: NodeJS.ProcessEnv = process.env): string {
  return env[`AWS_ENDPOINT_URL_${envName}`] ?? env.AWS_ENDPOINT_URL ?? fallback;
}
