/**
 * A small ListSystemEvents client: no JavaScript SDK client exists for Resilience Hub (next
 * generation), and the call is one SigV4-signed GET (restJson1).
 *
 * - Endpoint: `AWS_ENDPOINT_URL_RESILIENCEHUBV2`, then `AWS_ENDPOINT_URL`, then
 *   `https://resiliencehub.<region>.amazonaws.com` (`.amazonaws.com.cn` etc. in other partitions).
 * - Region: the system ARN's own (a system is listed where it lives, whatever AWS_REGION says).
 * - Signing name: `RESILIENCEHUB_SIGNING_NAME`, default `resiliencehub`.
 * - Credentials: given explicitly, else `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`
 *   of the given environment (the chain's first link, read from `env` so that tests and callers can
 *   pass their own), else the default provider chain (in Lambda bundles: the function's role).
 * - Retries are not done here: the pipeline's `withRetry` classifies and retries every error.
 */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import {
  checkIntRange,
  checkSystemEventsNextToken,
  checkSystemEventTypes,
  registerSecret,
  SYSTEM_EVENTS_MAX_RESULTS,
  validationError,
} from '@eventlog-archive/shared';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { endpointFor, signedRequest } from '../../../core/aws-request';
import { normaliseRecord } from '../../../core/records';
import { defaultEndpoint, parseSystemArn } from '../../../core/sources/resiliencehub/arn';
import { RESILIENCEHUB_FIELDS } from '../../../core/sources/resiliencehub/schema';
import type { SourceClient, SourceClientOptions } from '../types';
import {
  decodeError,
  decodeListSystemEvents,
  type ListSystemEventsInput,
  type ListSystemEventsOutput,
  listSystemEventsQuery,
} from './wire';

export const DEFAULT_SIGNING_NAME = 'resiliencehub';
export const LIST_SYSTEM_EVENTS_PATH = '/v2/list-system-events';
const DEFAULT_TIMEOUT_MS = 30_000;
/**
 * Each window is asked from 1 ms before its start: the ListSystemEvents API reference
 * (https://docs.aws.amazon.com/resilience-hub/v2/APIReference/API_ListSystemEvents.html) does not say
 * whether `startTime` is inclusive, and an event exactly at a window's start must not fall between
 * two windows. What the widening brings in is outside the window, and the pipeline drops it (its
 * neighbour archives it).
 */
export const START_SLACK_MS = 1;

export interface ResilienceHubClientOptions extends SourceClientOptions {
  /** Credentials or a provider; default: keys in `env`, else the default provider chain. */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** SigV4 signing name; default `RESILIENCEHUB_SIGNING_NAME`, then `resiliencehub`. */
  signingName?: string;
  /** Base URL; default from `AWS_ENDPOINT_URL_RESILIENCEHUBV2` or the system's region. */
  endpoint?: string;
}

/** The source client, plus the call itself for callers that want the API reference's shapes. */
export interface ResilienceHubClient extends SourceClient {
  listSystemEvents(input: ListSystemEventsInput, signal?: AbortSignal): Promise<ListSystemEventsOutput>;
}

/** Credentials as described in the module comment; secrets are registered for log redaction. */
export function resolveCredentials(
  env: NodeJS.ProcessEnv,
  explicit?: AwsCredentialIdentity | AwsCredentialIdentityProvider,
): AwsCredentialIdentity | AwsCredentialIdentityProvider {
  const register = (c: AwsCredentialIdentity): AwsCredentialIdentity => {
    registerSecret(c.secretAccessKey);
    registerSecret(c.sessionToken);
    return c;
  };
  if (explicit)
    return typeof explicit === 'function' ? async () => register(await explicit()) : register(explicit);
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (accessKeyId && secretAccessKey) {
    return register({
      accessKeyId,
      secretAccessKey,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    });
  }
  const chain = defaultProvider();
  return async () => register(await chain());
}

export async function createResilienceHubClient(
  options: ResilienceHubClientOptions = {},
): Promise<ResilienceHubClient> {
  const env = options.env ?? process.env;
  const service = options.signingName ?? env.RESILIENCEHUB_SIGNING_NAME ?? DEFAULT_SIGNING_NAME;
  const credentials = resolveCredentials(env, options.credentials);
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;

  const listSystemEvents = async (
    input: ListSystemEventsInput,
    signal?: AbortSignal,
  ): Promise<ListSystemEventsOutput> => {
    const { partition, region } = parseSystemArn(input.systemArn, 'systemArn');
    checkSystemEventTypes(input.eventTypes, 'eventTypes');
    if (input.maxResults !== undefined)
      checkIntRange(
        input.maxResults,
        'maxResults',
        SYSTEM_EVENTS_MAX_RESULTS.min,
        SYSTEM_EVENTS_MAX_RESULTS.max,
      );
    if (input.nextToken !== undefined) checkSystemEventsNextToken(input.nextToken, 'nextToken');
    for (const name of ['startTime', 'endTime'] as const) {
      const value = input[name];
      if (value !== undefined && !Number.isFinite(new Date(value).getTime()))
        throw validationError(name, 'must be a valid time');
    }
    if (
      input.startTime !== undefined &&
      input.endTime !== undefined &&
      new Date(input.endTime).getTime() < new Date(input.startTime).getTime()
    )
      throw validationError('endTime', 'must not be before startTime');

    const base = new URL(
      options.endpoint ?? endpointFor('RESILIENCEHUBV2', defaultEndpoint(partition, region), env),
    );
    const path = `${base.pathname.replace(/\/+$/, '')}${LIST_SYSTEM_EVENTS_PATH}`;
    const response = await signedRequest({
      service,
      region,
      credentials,
      endpoint: base.origin,
      method: 'GET',
      path,
      query: listSystemEventsQuery(input),
      headers: { accept: 'application/json' },
      timeoutMs,
      ...(signal ? { signal } : {}),
    });
    const { text } = response;
    if (!response.ok) throw decodeError(response.status, response.headers.get('x-amzn-errortype'), text);
    return decodeListSystemEvents(text);
  };

  return {
    listSystemEvents,
    async listPage({ instance, start, end, nextToken, pageSize, signal }) {
      const out = await listSystemEvents(
        {
          systemArn: instance,
          startTime: start - START_SLACK_MS,
          endTime: end,
          maxResults: pageSize,
          ...(nextToken !== undefined ? { nextToken } : {}),
        },
        signal,
      );
      return {
        items: out.events.map((event) =>
          normaliseRecord(RESILIENCEHUB_FIELDS, event as unknown as Record<string, unknown>),
        ),
        nextToken: out.nextToken,
      };
    },
  };
}
