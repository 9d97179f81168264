/** The demo space's public shapes: `EventLogEntry` as the HTTP API returns it, and the demo's options and result. */

/** `userIdentity` of an event. */
export interface UserIdentityWire {
  userType: 'USER' | 'AWS_ACCOUNT' | 'UNKNOWN';
  principalId: string;
  userName: string;
  /** Present only for `AWS_ACCOUNT` users. */
  awsAccountId?: string;
}

/** `projectInformation` of an event; absent for space-level events. */
export interface ProjectInformationWire {
  name?: string;
  projectId?: string;
}

/** `requestPayload` / `responsePayload` of an event: a JSON document as a string. */
export interface EventPayloadWire {
  contentType?: string;
  data?: string;
}

/** One `EventLogEntry` as the HTTP API returns it. Optional fields are absent, never `null`. */
export interface EventLogEntryWire {
  id: string;
  eventName: string;
  eventType: string;
  eventCategory: string;
  eventSource: string;
  /** RFC 3339 with milliseconds, e.g. `2026-01-02T03:04:05.678Z`. */
  eventTime: string;
  operationType: 'READONLY' | 'MUTATION';
  userIdentity: UserIdentityWire;
  projectInformation?: ProjectInformationWire;
  requestId: string;
  requestPayload?: EventPayloadWire;
  responsePayload?: EventPayloadWire;
  errorCode?: string;
  sourceIpAddress: string;
  userAgent: string;
}

/** The error codes the demo's failed calls carry: errors of the CodeCatalyst API reference. */
export const DEMO_ERROR_CODES = [
  'AccessDeniedException',
  'ConflictException',
  'ResourceNotFoundException',
  'ThrottlingException',
  'ValidationException',
] as const;

export interface DemoSpaceOptions {
  /** The clock: events lie in the 30 days before it. */
  nowMs: number;
  /** Space name in the payloads. Default `demo-space`. */
  space?: string;
  /** Default 2024. */
  seed?: number;
  /** Exactly this many events (at least 2,000). Default 20,000. */
  count?: number;
}

/** The unusual night: [startMs, endMs) covers it and the next morning's clean-up. */
export interface UnusualDay {
  startMs: number;
  endMs: number;
  grantedBy: string;
  grantedTo: string;
  sourceIp: string;
}

export interface DemoSpace {
  /** In time order. */
  events: EventLogEntryWire[];
  /** The night that stands out: [startMs, endMs) covers it and the next morning's clean-up. */
  unusualDay: UnusualDay;
  people: string[];
  projects: string[];
}
