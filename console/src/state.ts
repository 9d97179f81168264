/**
 * The console's whole state lives in the URL's query string, so a view can be pasted into a ticket
 * and opens the same way: which view, which instance, the time range, the filters and the open event.
 */
import { SYSTEM_EVENT_TYPES } from '../../lambdas/shared/src/validation';

export const VIEWS = ['events', 'coverage', 'integrity'] as const;
export type View = (typeof VIEWS)[number];

/** Relative ranges end at the server's "now"; `custom` names its own bounds. */
export const RANGES = {
  '24h': { label: 'Last 24 hours', ms: 24 * 3_600_000 },
  '7d': { label: 'Last 7 days', ms: 7 * 86_400_000 },
  '30d': { label: 'Last 30 days', ms: 30 * 86_400_000 },
  '1y': { label: 'Last year', ms: 365 * 86_400_000 },
} as const;
export type RangeKey = keyof typeof RANGES | 'custom';

/** A filter of the list API, as the console offers it. */
export interface FilterField {
  /** The API's parameter name (ListEventLogs body field, or an extra filter). */
  name: string;
  label: string;
  /** Allowed values, when the API has a fixed set. */
  options?: readonly string[];
}

/** How the console shows one source: its filters and what an instance is called. */
export interface SourceView {
  instanceLabel: string;
  filters: readonly FilterField[];
  /** Multi-valued filter of event types (Resilience Hub). */
  eventTypes?: readonly string[];
}

export const SOURCE_VIEWS: Record<string, SourceView> = {
  codecatalyst: {
    instanceLabel: 'space',
    filters: [
      { name: 'eventName', label: 'Event name' },
      { name: 'userName', label: 'User' },
      { name: 'projectName', label: 'Project' },
      { name: 'operationType', label: 'Operation', options: ['READONLY', 'MUTATION'] },
      { name: 'eventSource', label: 'Event source' },
      { name: 'errorCode', label: 'Error code' },
      { name: 'requestId', label: 'Request id' },
    ],
  },
  resiliencehub: {
    instanceLabel: 'system',
    filters: [],
    eventTypes: SYSTEM_EVENT_TYPES,
  },
};

export interface ConsoleState {
  view: View;
  source?: string;
  instance?: string;
  range: RangeKey;
  /** Bounds of a custom range, epoch ms. */
  from?: number;
  to?: number;
  filters: Record<string, string>;
  eventTypes: string[];
  /** The open event: its id and time (the time finds it again from a pasted link). */
  event?: { id: string; time: number };
  /** The day opened in the coverage calendar. */
  day?: string;
}

const FILTER_NAMES = new Set(Object.values(SOURCE_VIEWS).flatMap((v) => v.filters.map((f) => f.name)));

function timeParam(value: string | null): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

export function parseState(search: string): ConsoleState {
  const params = new URLSearchParams(search);
  const view = params.get('view');
  const range = params.get('range');
  const from = timeParam(params.get('from'));
  const to = timeParam(params.get('to'));
  const state: ConsoleState = {
    view: (VIEWS as readonly string[]).includes(view ?? '') ? (view as View) : 'events',
    range:
      range === 'custom' && from !== undefined && to !== undefined && from < to
        ? 'custom'
        : range !== null && Object.hasOwn(RANGES, range)
          ? (range as RangeKey)
          : '7d',
    filters: {},
    eventTypes: params.getAll('eventTypes').filter((t) => t !== ''),
  };
  if (state.range === 'custom') {
    state.from = from;
    state.to = to;
  }
  const source = params.get('source');
  const instance = params.get('instance');
  if (source && instance) {
    state.source = source;
    state.instance = instance;
  }
  for (const name of FILTER_NAMES) {
    const value = params.get(name);
    if (value) state.filters[name] = value;
  }
  const event = params.get('event');
  const at = timeParam(params.get('at'));
  if (event && at !== undefined) state.event = { id: event, time: at };
  const day = params.get('day');
  if (day && /^\d{4}-\d{2}-\d{2}$/.test(day)) state.day = day;
  return state;
}

export function stateToSearch(state: ConsoleState): string {
  const params = new URLSearchParams();
  params.set('view', state.view);
  if (state.source && state.instance) {
    params.set('source', state.source);
    params.set('instance', state.instance);
  }
  params.set('range', state.range);
  if (state.range === 'custom' && state.from !== undefined && state.to !== undefined) {
    params.set('from', new Date(state.from).toISOString());
    params.set('to', new Date(state.to).toISOString());
  }
  for (const [name, value] of Object.entries(state.filters)) if (value) params.set(name, value);
  for (const type of state.eventTypes) params.append('eventTypes', type);
  if (state.event) {
    params.set('event', state.event.id);
    params.set('at', new Date(state.event.time).toISOString());
  }
  if (state.day) params.set('day', state.day);
  return `?${params.toString()}`;
}

/** The range of a state as epoch ms, relative ranges ending at the server's `now`. */
export function rangeOf(state: ConsoleState, now: number): { start: number; end: number } {
  if (state.range === 'custom' && state.from !== undefined && state.to !== undefined)
    return { start: state.from, end: state.to };
  const span = RANGES[state.range === 'custom' ? '7d' : state.range].ms;
  return { start: now - span, end: now };
}
