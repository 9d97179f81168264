/**
 * Deterministic synthetic Resilience Hub `SystemEvent`s in WIRE form: exactly what
 * `GET /v2/list-system-events` returns as JSON
 * (https://docs.aws.amazon.com/resilience-hub/v2/APIReference/API_ListSystemEvents.html and
 * https://docs.aws.amazon.com/resilience-hub/v2/APIReference/API_SystemEvent.html), `timestamp`
 * as epoch seconds with a millisecond fraction. `eventDetails.eventMetadata` is the service model's union (one member named
 * after the event type) filled with varied documents: nested objects, arrays, integers, negative
 * and fractional numbers, exponents, booleans, nulls, empty containers, and unicode (emoji, CJK,
 * right-to-left, combining marks, quotes, backslashes, control characters, U+2028). A few events
 * carry a {@link RawJson} document whose exact text a JS object cannot hold (integers beyond 2^53,
 * `1.0`, `-0`, `1E+2`, integer-like keys out of order, odd white space): the archive must keep it
 * byte for byte.
 */
import type { SystemEventActorWire } from '../../bin/demo/resiliencehub-events';
import { mulberry32 } from './sample-events';

/** A JSON document kept as text; a server writes it into a response verbatim. */
export class RawJson {
  constructor(readonly text: string) {
    JSON.parse(text); // must be valid JSON
  }
}

// The actor's wire shape is the demo's; events here take any eventType string (tests send invalid ones).
export type { SystemEventActorWire } from '../../bin/demo/resiliencehub-events';

export interface SystemEventWire {
  actor?: SystemEventActorWire;
  eventDetails?: {
    description?: string;
    /** A JSON document (the union `SystemEventMetadata`), or its exact text as {@link RawJson}. */
    eventMetadata?: unknown;
    title?: string;
  };
  eventId: string;
  eventType: string;
  systemArn: string;
  /** Epoch seconds, e.g. `1763640000.123`. */
  timestamp: number;
}

export interface GenerateSystemEventsOptions {
  count: number;
  /** Earliest event time (epoch ms, inclusive). */
  fromMs: number;
  /** Latest event time (epoch ms, exclusive). */
  toMs: number;
  systemArn: string;
  /** PRNG seed; the same options give the same events. Default 1. */
  seed?: number;
  /** Prepended to every eventId. */
  idPrefix?: string;
  /** Share of events with a {@link RawJson} metadata document. Default 0.03. */
  rawShare?: number;
}

export const SYSTEM_EVENT_TYPE_VALUES = [
  'SYSTEM_CREATED',
  'SYSTEM_DELETED',
  'SYSTEM_USER_JOURNEY_CREATED',
  'SYSTEM_USER_JOURNEY_UPDATED',
  'SYSTEM_USER_JOURNEY_DELETED',
  'SYSTEM_SERVICE_ASSOCIATED',
  'SYSTEM_SERVICE_DISASSOCIATED',
  'SYSTEM_POLICY_ASSOCIATED',
  'SYSTEM_POLICY_DISASSOCIATED',
] as const;

// SYSTEM_USER_JOURNEY_CREATED → systemUserJourneyCreated
const unionMember = (type: string): string =>
  type.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

const TEXTS = [
  'checkout',
  'Zahlungsabwicklung für Kundinnen',
  '支付服务',
  'خدمة الدفع',
  'café ☕ — naïve façade',
  'e\u0301 combining',
  'emoji 🚀🔥👩🏽‍💻',
  'quote " and backslash \\ and slash /',
  'line\nbreak\ttab',
  'separator\u2028here',
  '',
  '<script>alert(1)</script>',
  "O'Reilly; DROP TABLE events; --",
];
const NUMBERS = [0, 1, -1, 42, 2.71, -0.5, 1e-7, 6.02e23, 2 ** 53 - 1, -(2 ** 31), 0.1, 100];
const ACTOR_TYPES = ['IAMRole', 'IAMUser', 'AWSService', 'Root'];
const USER_NAMES = ['MaryMajor', 'JohnDoe', 'Ана', '山田太郎', 'ops-bot', 'admin+ci@example.com'];

/** Varied documents: depth-limited nesting of every JSON kind. */
function document(rng: () => number, depth: number): unknown {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rng() * list.length)]!;
  const roll = rng();
  if (depth <= 0 || roll < 0.35) {
    const kind = Math.floor(rng() * 4);
    if (kind === 0) return pick(TEXTS);
    if (kind === 1) return pick(NUMBERS);
    if (kind === 2) return rng() < 0.5;
    return rng() < 0.2 ? null : pick(TEXTS);
  }
  if (roll < 0.6) {
    const length = Math.floor(rng() * 4);
    return Array.from({ length }, () => document(rng, depth - 1));
  }
  const out: Record<string, unknown> = {};
  const keys = Math.floor(rng() * 4);
  for (let k = 0; k < keys; k++)
    out[pick(['name', 'arn', 'tags', 'ratio', 'enabled', 'ünïcödé', '键', 'nested'])] = document(
      rng,
      depth - 1,
    );
  return out;
}

const RAW_DOCUMENTS = [
  '{"systemCreated":{"revision":12345678901234567890123,"ratio":1.0,"delta":-0,"scale":1E+2}}',
  '{"systemServiceAssociated":{"2":"second","1":"first","b":true,"a":[1.50,2.000,  3]}}',
  '{ "systemPolicyAssociated" : { "policyVersion" : 9007199254740993 , "nested" : { "10": null, "9": [] } } }',
  '{"systemUserJourneyUpdated":{"label":"\\u00e9t\\u00e9 \\ud83d\\ude80","escaped":"a\\/b"}}',
];

/** Synthetic events, in time order, ids unique within one call (and across seeds with distinct prefixes). */
export function generateSystemEvents(options: GenerateSystemEventsOptions): SystemEventWire[] {
  const { count, fromMs, toMs, systemArn } = options;
  if (!(toMs > fromMs)) throw new RangeError('toMs must be greater than fromMs');
  const seed = options.seed ?? 1;
  const rng = mulberry32(seed);
  const rawShare = options.rawShare ?? 0.03;
  const prefix = options.idPrefix ?? '';
  const account = /:(\d{12}):/.exec(systemArn)?.[1] ?? '123456789012';
  const hex = (n: number): string =>
    Array.from({ length: n }, () => Math.floor(rng() * 16).toString(16)).join('');
  const events: SystemEventWire[] = [];
  for (let i = 0; i < count; i++) {
    const ms = fromMs + Math.floor(rng() * (toMs - fromMs));
    const eventType = SYSTEM_EVENT_TYPE_VALUES[Math.floor(rng() * SYSTEM_EVENT_TYPE_VALUES.length)]!;
    const event: SystemEventWire = {
      eventId: `${prefix}${hex(8)}-${hex(4)}-${hex(4)}-${(seed >>> 0).toString(16).padStart(4, '0').slice(-4)}-${i.toString(16).padStart(12, '0')}`,
      eventType,
      systemArn,
      timestamp: ms / 1000,
    };
    const actorRoll = rng();
    if (actorRoll < 0.9) {
      const type = ACTOR_TYPES[Math.floor(rng() * ACTOR_TYPES.length)]!;
      event.actor = {
        accountId: account,
        principalId: `AROA${hex(16).toUpperCase()}:session-${i}`,
        type,
        ...(type === 'AWSService' ? {} : { userName: USER_NAMES[Math.floor(rng() * USER_NAMES.length)]! }),
      };
    } else if (actorRoll < 0.95) {
      event.actor = { type: 'AWSService' };
    }
    if (rng() < 0.97) {
      const title = `${eventType.replaceAll('_', ' ').toLowerCase()} · ${TEXTS[Math.floor(rng() * TEXTS.length)]}`;
      const metadataRoll = rng();
      const eventMetadata =
        metadataRoll < rawShare
          ? new RawJson(RAW_DOCUMENTS[Math.floor(rng() * RAW_DOCUMENTS.length)]!)
          : metadataRoll < 0.9
            ? { [unionMember(eventType)]: { id: `${hex(6)}`, count: i, detail: document(rng, 4) } }
            : undefined;
      event.eventDetails = {
        description: `${TEXTS[Math.floor(rng() * TEXTS.length)]} (${i})`,
        ...(eventMetadata === undefined ? {} : { eventMetadata }),
        title,
      };
    }
    events.push(event);
  }
  return events.sort((a, b) => a.timestamp - b.timestamp);
}

/** The JSON text of an event as a server writes it ({@link RawJson} documents verbatim). */
export function stringifyWithRaw(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof RawJson) {
      raws.push(v.text);
      return `\u0000raw${raws.length - 1}\u0000`;
    }
    return v;
  });
  return raws.length === 0
    ? text
    : text.replace(/"\\u0000raw(\d+)\\u0000"/g, (_, n: string) => raws[Number(n)]!);
}

/** An event's metadata as a JS value ({@link RawJson} parsed), for comparisons. */
export function metadataValue(metadata: unknown): unknown {
  return metadata instanceof RawJson ? JSON.parse(metadata.text) : metadata;
}
