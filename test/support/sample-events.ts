/**
 * Synthetic Amazon CodeCatalyst events in wire form for the tests: the benchmark's generator
 * (bench/events.ts: 40 event names, skewed; 50 users; 20 projects; payloads 75–435 B; ~60% with a
 * response payload; ~2% with an error code; deterministic for a seed), so tests and benchmark figures
 * see the same data. The wire types are the demo's (bin/demo/codecatalyst-events.ts).
 */
export { EVENT_NAMES, type GenerateEventsOptions, generateEvents } from '../../bench/events';
export type {
  EventLogEntryWire,
  EventPayloadWire,
  ProjectInformationWire,
  UserIdentityWire,
} from '../../bin/demo/codecatalyst-events';
export { mulberry32 } from '../../bin/demo/random';
