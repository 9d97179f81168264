/**
 * A space's events as the demo server keeps them: sorted by (time, id), each one's JSON serialised
 * once into a few large Buffers, so that a page costs a binary search and a copy.
 */
import type { EventLogEntryWire } from '../codecatalyst/wire';

/** Events serialised into one Buffer (thousands of small Buffers cost more than the JSON). */
const CHUNK_EVENTS = 4096;

/** A space's events in (time, id) order, each one's JSON kept as bytes. */
export interface SpaceLog {
  times: Float64Array;
  ids: string[];
  names: string[];
  chunks: Buffer[];
  /** Event i is `chunks[i / CHUNK_EVENTS]` from `starts[i]` to `ends[i]`. */
  starts: Uint32Array;
  ends: Uint32Array;
}

export function spaceLog(events: readonly EventLogEntryWire[]): SpaceLog {
  const keyed = events.map((event) => {
    const time = Date.parse(event.eventTime);
    if (typeof event.id !== 'string' || Number.isNaN(time)) {
      throw new TypeError(`event ${String(event.id)}: needs a string id and an RFC 3339 eventTime`);
    }
    return { event, time };
  });
  keyed.sort((a, b) => a.time - b.time || (a.event.id < b.event.id ? -1 : a.event.id > b.event.id ? 1 : 0));
  const log: SpaceLog = {
    times: Float64Array.from(keyed, (k) => k.time),
    ids: keyed.map((k) => k.event.id),
    names: keyed.map((k) => k.event.eventName),
    chunks: [],
    starts: new Uint32Array(keyed.length),
    ends: new Uint32Array(keyed.length),
  };
  for (let from = 0; from < keyed.length; from += CHUNK_EVENTS) {
    const texts = keyed.slice(from, from + CHUNK_EVENTS).map((k) => JSON.stringify(k.event));
    let offset = 0;
    for (const [j, text] of texts.entries()) {
      log.starts[from + j] = offset;
      offset += Buffer.byteLength(text);
      log.ends[from + j] = offset;
    }
    log.chunks.push(Buffer.from(texts.join('')));
  }
  return log;
}

/** First index whose (time, id) is after (time, id) — or at it when `inclusive`. */
export function seek(log: SpaceLog, time: number, id: string, inclusive: boolean): number {
  let lo = 0;
  let hi = log.times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const t = log.times[mid]!;
    const before = t < time || (t === time && (inclusive ? log.ids[mid]! < id : log.ids[mid]! <= id));
    if (before) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Where a page starts: after the cursor's event, or at `fromMs`; never before `fromMs`. */
export interface PageQuery {
  /** The later of startTime and the retention limit. */
  fromMs: number;
  endMs: number;
  eventName: string | undefined;
  maxResults: number;
  /** Time and id of the previous page's last event. */
  after?: { t: number; i: string };
}

/** The indexes of a page's events, and whether events of the query remain after them. */
export function selectPage(log: SpaceLog, q: PageQuery): { page: number[]; more: boolean } {
  const { fromMs, eventName } = q;
  let i = q.after ? seek(log, q.after.t, q.after.i, false) : seek(log, fromMs, '', true);
  if (i < log.times.length && log.times[i]! < fromMs) i = seek(log, fromMs, '', true);
  const end = seek(log, q.endMs, '', true);
  const page: number[] = [];
  for (; i < end && page.length < q.maxResults; i++) {
    if (eventName === undefined || log.names[i] === eventName) page.push(i);
  }
  if (eventName !== undefined) while (i < end && log.names[i] !== eventName) i++;
  return { page, more: i < end };
}

const PAGE_START = Buffer.from('{"items":[');

/**
 * The bytes of `JSON.stringify({ items, nextToken })`, copied from the events' cached JSON into a
 * buffer from `allocate` (at least the size asked; the result is the written part of it).
 */
export function pageBytes(
  log: SpaceLog,
  page: readonly number[],
  nextToken: string | undefined,
  allocate: (size: number) => Buffer = Buffer.allocUnsafe,
): Buffer {
  const end = Buffer.from(nextToken === undefined ? ']}' : `],"nextToken":${JSON.stringify(nextToken)}}`);
  let size = PAGE_START.length + Math.max(0, page.length - 1) + end.length;
  for (const i of page) size += log.ends[i]! - log.starts[i]!;
  const out = allocate(size);
  let at = PAGE_START.copy(out, 0);
  for (const [k, i] of page.entries()) {
    if (k > 0) out[at++] = 0x2c; // ,
    at += log.chunks[Math.floor(i / CHUNK_EVENTS)]!.copy(out, at, log.starts[i]!, log.ends[i]!);
  }
  end.copy(out, at);
  return out.length === size ? out : out.subarray(0, size);
}
