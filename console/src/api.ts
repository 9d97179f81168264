/**
 * The console's requests: the two wire-compatible list routes (the same calls the AWS SDKs make)
 * and the read-only console endpoints of `serve` (docs/console-api.md). Every answer is data to be
 * shown as text, never markup.
 */

// The answers' types are the server's own (type-only imports: nothing of the server is bundled).
import type { CoverageHours, CoverageView } from '../../lambdas/query/console/coverage-view';
import type { HistogramAnswer } from '../../lambdas/query/console/histogram';
import type { InstanceSummary } from '../../lambdas/query/console/instances';
import type { VerifyMessage } from '../../lambdas/query/console/verification';

export type { CoverageHours, CoverageView, HistogramAnswer, InstanceSummary, VerifyMessage };
export type InstanceVerification = Extract<VerifyMessage, { type: 'result' }>['reports'][number];

/** A failed request, with the API's error name and message. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiFailure';
  }
}

async function failure(response: Response): Promise<ApiFailure> {
  const type = response.headers.get('x-amzn-errortype') ?? `HTTP ${response.status}`;
  let message = response.statusText;
  try {
    const body = (await response.json()) as { message?: unknown };
    if (typeof body.message === 'string') message = body.message;
  } catch {
    // Not JSON: keep the status text.
  }
  return new ApiFailure(response.status, type.split(':', 1)[0]!, message);
}

async function getJson<T>(
  path: string,
  params: URLSearchParams | undefined,
  signal?: AbortSignal,
): Promise<T> {
  const query = params && [...params.keys()].length > 0 ? `?${params.toString()}` : '';
  const response = await fetch(`${path}${query}`, { headers: { accept: 'application/json' }, signal });
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

export interface InstancesAnswer {
  /** The server's clock: ranges such as "last 24 hours" end here. */
  now: string;
  instances: InstanceSummary[];
}

export function fetchInstances(signal?: AbortSignal): Promise<InstancesAnswer> {
  return getJson('/console/api/instances', undefined, signal);
}

/** What the events of a view are: one instance, a half-open range, the API's filters. */
export interface EventSelection {
  source: string;
  instance: string;
  /** Epoch ms, [start, end). */
  start: number;
  end: number;
  /** Body filters of ListEventLogs and its extras (name → exact value). */
  filters: Readonly<Record<string, string>>;
  /** Resilience Hub event types (any of). */
  eventTypes: readonly string[];
}

export const iso = (ms: number): string => new Date(ms).toISOString();

function selectionParams(selection: EventSelection): URLSearchParams {
  const params = new URLSearchParams({
    source: selection.source,
    instance: selection.instance,
    startTime: iso(selection.start),
    endTime: iso(selection.end),
  });
  for (const [name, value] of Object.entries(selection.filters)) params.set(name, value);
  for (const type of selection.eventTypes) params.append('eventTypes', type);
  return params;
}

export function fetchHistogram(selection: EventSelection, signal?: AbortSignal): Promise<HistogramAnswer> {
  return getJson('/console/api/histogram', selectionParams(selection), signal);
}

/** One page of events as the source's list route returns them (wire JSON). */
export interface EventPage {
  events: unknown[];
  nextToken?: string;
}

/** Events per page of the table: the largest page Resilience Hub allows, well within CodeCatalyst's. */
export const PAGE_SIZE = 100;

/**
 * One page through the source's own route: `POST /v1/spaces/{spaceName}/eventLogs` (CodeCatalyst
 * ListEventLogs) or `GET /v2/list-system-events` (Resilience Hub ListSystemEvents).
 */
export async function fetchEventPage(
  selection: EventSelection,
  nextToken: string | undefined,
  signal?: AbortSignal,
  maxResults = PAGE_SIZE,
): Promise<EventPage> {
  if (selection.source === 'resiliencehub') {
    const params = new URLSearchParams({
      systemArn: selection.instance,
      startTime: iso(selection.start),
      endTime: iso(selection.end),
      maxResults: String(maxResults),
    });
    for (const type of selection.eventTypes) params.append('eventTypes', type);
    if (nextToken) params.set('nextToken', nextToken);
    const page = await getJson<{ events?: unknown[]; nextToken?: string }>(
      '/v2/list-system-events',
      params,
      signal,
    );
    return { events: page.events ?? [], ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
  }
  const body = {
    startTime: iso(selection.start),
    endTime: iso(selection.end),
    maxResults,
    ...selection.filters,
    ...(nextToken ? { nextToken } : {}),
  };
  const response = await fetch(`/v1/spaces/${encodeURIComponent(selection.instance)}/eventLogs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
    signal,
  });
  if (!response.ok) throw await failure(response);
  const page = (await response.json()) as { items?: unknown[]; nextToken?: string };
  return { events: page.items ?? [], ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
}

export function fetchCoverage(source: string, instance: string, signal?: AbortSignal): Promise<CoverageView> {
  return getJson('/console/api/coverage', new URLSearchParams({ source, instance }), signal);
}

export function fetchCoverageHours(
  source: string,
  instance: string,
  day: string,
  signal?: AbortSignal,
): Promise<CoverageHours> {
  return getJson('/console/api/coverage/hours', new URLSearchParams({ source, instance, day }), signal);
}

/** Runs `verify` on the server and yields its messages as they arrive (NDJSON). */
export async function* verifyArchive(signal?: AbortSignal): AsyncGenerator<VerifyMessage> {
  const response = await fetch('/console/api/verify', {
    headers: { accept: 'application/x-ndjson' },
    signal,
  });
  if (!response.ok || !response.body) throw await failure(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (value) buffered += value;
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) yield JSON.parse(line) as VerifyMessage;
      newline = buffered.indexOf('\n');
    }
    if (done) break;
  }
  if (buffered.trim()) yield JSON.parse(buffered) as VerifyMessage;
}
