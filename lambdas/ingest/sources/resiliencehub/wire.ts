/**
 * ListSystemEvents on the wire (restJson1): the query string it takes, the JSON it answers with and
 * its errors, as in the API reference:
 * https://docs.aws.amazon.com/resilience-hub/v2/APIReference/API_ListSystemEvents.html.
 * Pure functions, no I/O, so every rule is unit-testable.
 */
import type { SystemEventType } from '@eventlog-archive/shared';
import { AwsRequestError, restJsonError } from '../../../core/aws-request';

// The query-string encoding lives with the signer, which canonicalises with the same one.
export { queryString, rfc3986 } from '../../../core/aws-request';

/** A decoded `SystemEvent`. Absent members stay absent. */
export interface SystemEvent {
  actor?: { accountId?: string; principalId?: string; type?: string; userName?: string };
  eventDetails?: {
    description?: string;
    /** The exact JSON text the service sent for this member (a union document), not re-serialised. */
    eventMetadata?: string;
    title?: string;
  };
  eventId: string;
  eventType?: string;
  systemArn?: string;
  /** Sent as epoch seconds with a fraction; decoded to whole milliseconds (truncated). */
  timestamp: Date;
}

export interface ListSystemEventsInput {
  systemArn: string;
  /** Sent as ISO 8601 (`2026-05-01T00:00:00Z`, milliseconds when not zero). */
  startTime?: Date | number;
  endTime?: Date | number;
  eventTypes?: readonly SystemEventType[];
  maxResults?: number;
  nextToken?: string;
}

export interface ListSystemEventsOutput {
  events: SystemEvent[];
  nextToken?: string;
}

/** ISO 8601 as the AWS SDKs write a query-string timestamp: `…:05Z`, or `…:05.123Z` with milliseconds. */
export function isoQueryTime(value: Date | number): string {
  return new Date(value).toISOString().replace('.000Z', 'Z');
}

/** The query parameters of a request, `eventTypes` repeated once per value. */
export function listSystemEventsQuery(input: ListSystemEventsInput): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = { systemArn: input.systemArn };
  if (input.startTime !== undefined) query.startTime = isoQueryTime(input.startTime);
  if (input.endTime !== undefined) query.endTime = isoQueryTime(input.endTime);
  if (input.eventTypes && input.eventTypes.length > 0) query.eventTypes = [...input.eventTypes];
  if (input.maxResults !== undefined) query.maxResults = String(input.maxResults);
  if (input.nextToken !== undefined) query.nextToken = input.nextToken;
  return query;
}

/**
 * Epoch seconds (a JSON number, possibly with a fraction) to epoch milliseconds, exactly: the
 * decimal digits are read from the number's shortest round-trip text, so `1763640000.123` is
 * `1763640000123` (multiplying the double by 1000 can give `…122.99998`). Digits below the
 * millisecond are truncated, which keeps an event inside the half-open window that returned it.
 */
export function epochSecondsToMs(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) {
    const m = /^(\d+)(?:\.(\d+))?$/.exec(String(value));
    if (m) return Number(m[1]) * 1000 + Number((m[2] ?? '').slice(0, 3).padEnd(3, '0'));
    return Math.floor(value * 1000);
  }
  // Not what the protocol sends, but unambiguous: an ISO 8601 string.
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value)) {
    const ms = Date.parse(value);
    return Number.isFinite(ms) ? ms : undefined;
  }
  return undefined;
}

function serializationError(message: string, status = 200): AwsRequestError {
  return new AwsRequestError('SerializationException', `ListSystemEvents: ${message}`, status, {});
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const optionalString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function dropUndefined<T extends Record<string, unknown>>(value: T): T {
  for (const key of Object.keys(value)) if (value[key] === undefined) delete value[key];
  return value;
}

/**
 * Decodes a 200 body. `eventDetails.eventMetadata` is taken from the body's text as is, so big
 * integers, `1.0`, key order (integer-like keys included) and duplicate keys survive exactly; every
 * event must have an `eventId` and a `timestamp`, since without them it can be neither deduplicated
 * nor placed in a day (a malformed page fails loudly rather than leaving a silent gap).
 */
export function decodeListSystemEvents(text: string): ListSystemEventsOutput {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw serializationError(`the response is not JSON (${text.length} characters)`);
  }
  if (!isObject(body)) throw serializationError('the response is not a JSON object');
  const rawEvents = body.events ?? [];
  if (!Array.isArray(rawEvents)) throw serializationError('events: is not an array');
  const nextToken = body.nextToken;
  if (nextToken !== undefined && nextToken !== null && typeof nextToken !== 'string')
    throw serializationError('nextToken: is not a string');

  const withMetadata = rawEvents.some(
    (e) => isObject(e) && isObject(e.eventDetails) && e.eventDetails.eventMetadata != null,
  );
  const metadataTexts = withMetadata ? eventMetadataTexts(text) : new Map<number, string>();
  const events = rawEvents.map((raw, index): SystemEvent => {
    if (!isObject(raw)) throw serializationError(`events[${index}]: is not an object`);
    if (typeof raw.eventId !== 'string' || raw.eventId === '')
      throw serializationError(`events[${index}].eventId: is missing`);
    const ms = epochSecondsToMs(raw.timestamp);
    if (ms === undefined)
      throw serializationError(
        `events[${index}].timestamp: is not epoch seconds (event ${raw.eventId}, got ${JSON.stringify(raw.timestamp)})`,
      );
    const event: SystemEvent = { eventId: raw.eventId, timestamp: new Date(ms) };
    if (isObject(raw.actor)) {
      event.actor = dropUndefined({
        accountId: optionalString(raw.actor.accountId),
        principalId: optionalString(raw.actor.principalId),
        type: optionalString(raw.actor.type),
        userName: optionalString(raw.actor.userName),
      });
    }
    if (isObject(raw.eventDetails)) {
      const metadata = raw.eventDetails.eventMetadata == null ? undefined : metadataTexts.get(index);
      event.eventDetails = dropUndefined({
        description: optionalString(raw.eventDetails.description),
        eventMetadata: metadata,
        title: optionalString(raw.eventDetails.title),
      });
    }
    const eventType = optionalString(raw.eventType);
    if (eventType !== undefined) event.eventType = eventType;
    const systemArn = optionalString(raw.systemArn);
    if (systemArn !== undefined) event.systemArn = systemArn;
    return event;
  });
  return typeof nextToken === 'string' && nextToken !== '' ? { events, nextToken } : { events };
}

/**
 * The raw JSON text of `events[i].eventDetails.eventMetadata` by event index, read from a body that
 * `JSON.parse` has accepted (so the scan needs no error handling). Where a key repeats, the last one
 * wins, as in `JSON.parse`.
 */
export function eventMetadataTexts(text: string): Map<number, string> {
  const out = new Map<number, string>();
  const scan = new JsonScanner(text);
  scan.ws();
  if (!scan.at('{')) return out;
  scan.members((name) => {
    if (name !== 'events' || !scan.at('[')) return scan.skip();
    out.clear();
    scan.items((index) => {
      if (!scan.at('{')) return scan.skip();
      scan.members((field) => {
        if (field !== 'eventDetails') return scan.skip();
        out.delete(index);
        if (!scan.at('{')) return scan.skip();
        scan.members((detail) => {
          if (detail !== 'eventMetadata') return scan.skip();
          const raw = scan.rawValue();
          if (raw === 'null') out.delete(index);
          else out.set(index, raw);
        });
      });
    });
  });
  return out;
}

/**
 * A cursor over JSON text that `JSON.parse` has accepted: it moves past whitespace, strings and
 * whole values without building them, so a value's raw text can be cut out byte for byte.
 */
class JsonScanner {
  /** The position in the text. */
  private i = 0;

  constructor(private readonly text: string) {}

  at(c: string): boolean {
    return this.text[this.i] === c;
  }

  /** Moves past whitespace. */
  ws(): void {
    for (;;) {
      const c = this.text.charCodeAt(this.i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.i++;
      else return;
    }
  }

  /** At an opening quote: moves past the string and returns its raw text (quotes included). */
  rawString(): string {
    const { text } = this;
    const start = this.i;
    let from = this.i + 1;
    for (;;) {
      const quote = text.indexOf('"', from);
      let backslashes = 0;
      for (let k = quote - 1; text.charCodeAt(k) === 0x5c; k--) backslashes++;
      from = quote + 1;
      if (backslashes % 2 === 0) break;
    }
    this.i = from;
    return text.slice(start, this.i);
  }

  /** At a member's name: moves past it and returns it decoded. */
  private key(): string {
    const raw = this.rawString();
    return raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
  }

  /** Moves past one value of any kind (iterative: document depth cannot overflow the stack). */
  skip(): void {
    const { text } = this;
    this.ws();
    const c = text[this.i];
    if (c === '"') {
      this.rawString();
      return;
    }
    if (c !== '{' && c !== '[') {
      while (this.i < text.length && !',}] \t\r\n'.includes(text[this.i]!)) this.i++;
      return;
    }
    let depth = 0;
    do {
      const ch = text[this.i];
      if (ch === '"') {
        this.rawString();
        continue;
      }
      if (ch === '{' || ch === '[') depth++;
      else if (ch === '}' || ch === ']') depth--;
      this.i++;
    } while (depth > 0);
  }

  /** Moves past one value and returns its raw text (from where the cursor was). */
  rawValue(): string {
    const start = this.i;
    this.skip();
    return this.text.slice(start, this.i);
  }

  /** At `{`: calls `member` with each key, positioned at its value, which `member` must consume. */
  members(member: (name: string) => void): void {
    this.i++;
    for (;;) {
      this.ws();
      if (this.at('}')) {
        this.i++;
        return;
      }
      const name = this.key();
      this.ws();
      this.i++; // ':'
      this.ws();
      member(name);
      this.ws();
      if (this.at(',')) this.i++;
    }
  }

  /** At `[`: calls `item` with each index, positioned at its value, which `item` must consume. */
  items(item: (index: number) => void): void {
    this.i++;
    for (let index = 0; ; index++) {
      this.ws();
      if (this.at(']')) {
        this.i++;
        return;
      }
      item(index);
      this.ws();
      if (this.at(',')) this.i++;
    }
  }
}

/** The extra members of the API reference's errors. */
export interface SystemEventsErrorBody {
  message?: string;
  /** ValidationException */
  reason?: string;
  fieldList?: Array<{ name?: string; message?: string }>;
  /** ResourceNotFoundException */
  resourceId?: string;
  resourceType?: string;
}

/**
 * An error response as `AwsRequestError`: `name` from `x-amzn-ErrorType` (or `__type`), the status,
 * the parsed body (so `reason`, `fieldList`, `resourceId` and `resourceType` stay available), and a
 * message that carries those details, since an operator often sees only the message.
 */
export function decodeError(status: number, errorTypeHeader: string | null, text: string): AwsRequestError {
  const error = restJsonError('ListSystemEvents', status, errorTypeHeader, text);
  const e = error.body as SystemEventsErrorBody;
  const details: string[] = [];
  if (typeof e.reason === 'string') details.push(`reason ${e.reason}`);
  if (Array.isArray(e.fieldList) && e.fieldList.length > 0) {
    const fields = e.fieldList
      .filter(isObject)
      .map((f) => `${String(f.name ?? '?')}: ${String(f.message ?? '')}`.trim());
    details.push(`fields ${fields.join('; ')}`);
  }
  if (typeof e.resourceType === 'string' || typeof e.resourceId === 'string')
    details.push(`resource ${e.resourceType ?? '?'} ${e.resourceId ?? '?'}`);
  if (details.length > 0) error.message = `${error.message} (${details.join('; ')})`;
  return error;
}
