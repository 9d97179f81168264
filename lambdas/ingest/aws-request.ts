/**
 * A SigV4-signed HTTPS request for AWS APIs that need no full SDK client in the bundle (Secrets
 * Manager's GetSecretValue here; a small source client later). Credentials come from the default
 * provider chain; endpoints follow the SDKs' `AWS_ENDPOINT_URL_<SERVICE>` convention.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { ArchiveError } from '@eventlog-archive/shared';
import { SignatureV4 } from '@smithy/signature-v4';

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

/** SHA-256 for the signer, from node:crypto (HMAC when given a secret). */
class NodeSha256 {
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

let credentials: ReturnType<typeof defaultProvider> | undefined;

/** Signs and sends a request; returns the parsed JSON body or throws `AwsRequestError`. */
export async function signedJsonRequest<T>(request: SignedRequest): Promise<T> {
  credentials ??= defaultProvider();
  const url = new URL(request.path, request.endpoint);
  const signer = new SignatureV4({
    service: request.service,
    region: request.region,
    credentials,
    sha256: NodeSha256,
  });
  const signed = await signer.sign({
    method: request.method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: url.pathname,
    query: request.query ?? {},
    headers: { host: url.host, ...(request.headers ?? {}) },
    body: request.body,
  });
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(request.query ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) search.append(key, v);
  }
  const qs = search.toString();
  const signal = request.timeoutMs
    ? AbortSignal.any([AbortSignal.timeout(request.timeoutMs), ...(request.signal ? [request.signal] : [])])
    : request.signal;
  const headers = { ...signed.headers };
  delete headers.host;
  const response = await fetch(`${url.origin}${url.pathname}${qs ? `?${qs}` : ''}`, {
    method: request.method,
    headers,
    ...(request.body !== undefined ? { body: request.body } : {}),
    ...(signal ? { signal } : {}),
  });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    if (response.ok)
      throw new AwsRequestError('SerializationException', 'the response was not JSON', response.status, {});
  }
  if (!response.ok) {
    const type =
      response.headers.get('x-amzn-errortype') ??
      (json.__type as string | undefined) ??
      `Http${response.status}`;
    const name = type.split(':')[0]!.split('#').pop()!;
    const message = (json.message ??
      json.Message ??
      `${request.service} answered ${response.status}`) as string;
    throw new AwsRequestError(name, message, response.status, json);
  }
  return json as T;
}

/** The endpoint of a service: `AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`, then the default. */
export function endpointFor(envName: string, fallback: string, env: NodeJS.ProcessEnv = process.env): string {
  return env[`AWS_ENDPOINT_URL_${envName}`] ?? env.AWS_ENDPOINT_URL ?? fallback;
}
