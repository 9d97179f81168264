/**
 * An archived event as the table shows it, read from the wire JSON of its source's list route.
 * Every field is archive text (attacker-controlled): it is only ever rendered as text.
 */

export interface EventRow {
  id: string;
  /** Epoch ms. */
  time: number;
  name: string;
  user: string;
  project: string;
  operation: string;
  source: string;
  error: string;
  requestId: string;
  /** The event exactly as the API returned it. */
  raw: unknown;
}

function field(value: unknown, ...path: string[]): string {
  let at: unknown = value;
  for (const key of path) {
    if (at === null || typeof at !== 'object') return '';
    at = (at as Record<string, unknown>)[key];
  }
  return typeof at === 'string' ? at : typeof at === 'number' ? String(at) : '';
}

/** A CodeCatalyst `EventLogEntry` or a Resilience Hub `SystemEvent` as a table row. */
export function eventRow(source: string, raw: unknown): EventRow {
  if (source === 'resiliencehub') {
    const seconds = Number((raw as { timestamp?: unknown }).timestamp);
    return {
      id: field(raw, 'eventId'),
      time: Math.round(seconds * 1000),
      name: field(raw, 'eventType'),
      user: field(raw, 'actor', 'userName') || field(raw, 'actor', 'principalId'),
      project: field(raw, 'eventDetails', 'title'),
      operation: '',
      source: field(raw, 'actor', 'type'),
      error: '',
      requestId: '',
      raw,
    };
  }
  return {
    id: field(raw, 'id'),
    time: Date.parse(field(raw, 'eventTime')),
    name: field(raw, 'eventName'),
    user: field(raw, 'userIdentity', 'userName'),
    project: field(raw, 'projectInformation', 'name'),
    operation: field(raw, 'operationType'),
    source: field(raw, 'eventSource'),
    error: field(raw, 'errorCode'),
    requestId: field(raw, 'requestId'),
    raw,
  };
}

/** The columns of a source's table: header and the row's field. */
export function columnsOf(source: string): { title: string; key: keyof EventRow }[] {
  if (source === 'resiliencehub')
    return [
      { title: 'Event type', key: 'name' },
      { title: 'Actor', key: 'user' },
      { title: 'Title', key: 'project' },
      { title: 'Actor type', key: 'source' },
    ];
  return [
    { title: 'Event', key: 'name' },
    { title: 'User', key: 'user' },
    { title: 'Project', key: 'project' },
    { title: 'Operation', key: 'operation' },
    { title: 'Source', key: 'source' },
    { title: 'Error', key: 'error' },
  ];
}

/**
 * A CodeCatalyst payload's `data` decoded when it is JSON (the API carries request and response
 * bodies as strings); undefined when absent or not JSON.
 */
export function decodedPayload(raw: unknown, which: 'requestPayload' | 'responsePayload'): unknown {
  const data = field(raw, which, 'data');
  if (!data) return undefined;
  try {
    return JSON.parse(data) as unknown;
  } catch {
    return undefined;
  }
}
