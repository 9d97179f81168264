/**
 * The demo space: a month of a made-up team's Amazon CodeCatalyst activity, as `ListEventLogs`
 * returns it (`EventLogEntry` in wire form: RFC 3339 `eventTime`, payloads as JSON strings).
 * Deterministic: the same `nowMs`, seed and count always give the same events.
 *
 * What is in it: 12 people in three time zones, 5 projects (a 6th created mid-month), their
 * source repository pushes, branches, pull requests (created, commented, approved, merged), the
 * workflow runs that pushes and merges start, manual deploys, dev environments started and stopped
 * around a working day, issues, access tokens, the space admin's own `listEventLogs` calls, a few
 * failed calls with the API's error codes, and the browsing (get/list) that makes up most of a
 * real log. And one unusual night ({@link DemoSpace.unusualDay}): from an address never seen
 * before, an admin's credentials grant the Space administrator role to an unfamiliar user, who then
 * clones and deletes repositories, dev environments and a project; the next morning the other admin
 * looks into it and takes the role back.
 *
 * Event names and sources follow the API's style (`createPullRequest`, source `sourcecode`).
 *
 * The parts live in codecatalyst/: the public shapes (wire.ts), the cast and catalogue (data.ts), the
 * seeded world (world.ts), the storylines (storylines.ts), the failed calls (failures.ts), working
 * time and its activities (working-time.ts, activities.ts), browsing and the final form (events.ts).
 * The PRNG draws happen in the order {@link demoSpaceEvents} runs them; reordering changes the month.
 */
import { STRANGER, STRANGER_IP } from './codecatalyst/data';
import { browse, byTimeThenId, toEvent } from './codecatalyst/events';
import { failedCalls, placeFailures } from './codecatalyst/failures';
import { newProjectScene, unusualNight } from './codecatalyst/storylines';
import type { DemoSpace, DemoSpaceOptions } from './codecatalyst/wire';
import { fillActivities, workingSlots } from './codecatalyst/working-time';
import { createWorld, inWindow } from './codecatalyst/world';

export {
  DEMO_ERROR_CODES,
  type DemoSpace,
  type DemoSpaceOptions,
  type EventLogEntryWire,
  type EventPayloadWire,
  type ProjectInformationWire,
  type UnusualDay,
  type UserIdentityWire,
} from './codecatalyst/wire';

/** The demo space's events and what stands out in them. See the file comment. */
export function demoSpaceEvents(options: DemoSpaceOptions): DemoSpace {
  const { nowMs, space = 'demo-space', seed = 2024, count = 20_000 } = options;
  if (!Number.isInteger(count) || count < 2000) throw new RangeError('count must be an integer >= 2000');
  const w = createWorld(nowMs, space, seed);
  // Fixed storylines first, then the failed calls' ids, then working time: the order of the PRNG draws.
  newProjectScene(w);
  const night = unusualNight(w);
  const failures = failedCalls(w);
  const slots = workingSlots(w);
  placeFailures(w, failures, slots);
  // Activities until they fill ~40% of the count; browsing fills the rest of what lies in the window.
  fillActivities(w, slots, Math.floor(count * 0.4));
  const kept = w.drafts.filter((d) => inWindow(w, d.t));
  browse(w, slots, count - kept.length, night.endMs, kept);
  const events = kept.map((d) => toEvent(d, w.rng));
  events.sort(byTimeThenId);
  return {
    events,
    unusualDay: {
      startMs: night.startMs,
      endMs: night.endMs,
      grantedBy: w.richard.identity.userName,
      grantedTo: STRANGER,
      sourceIp: STRANGER_IP,
    },
    people: w.people.map((p) => p.identity.userName),
    projects: w.projects.map((p) => p.name),
  };
}
