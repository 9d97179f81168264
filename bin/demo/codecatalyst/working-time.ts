/** Working time: when each person does something, and the activities that fill those moments. */
import { DAY_MS, HOUR_MS, MINUTE_MS } from '@eventlog-archive/shared';
import { activity } from './activities';
import type { Person } from './data';
import type { World } from './world';

/** A moment at which a person does something. */
export interface Slot {
  person: Person;
  t: number;
}

/** Each person's days, local 08:30–18:00 on weekdays, now and then a weekend. */
export function workingSlots(w: World): Slot[] {
  const { rng } = w;
  const slots: Slot[] = [];
  for (let d = 0; d < w.days; d++) {
    const dayMs = w.firstDay + d * DAY_MS;
    const weekend = [0, 6].includes(new Date(dayMs).getUTCDay());
    for (const person of w.people) {
      if (!rng.chance(weekend ? 0.08 : 0.93)) continue;
      const start = dayMs + (8.5 - person.utcOffset) * HOUR_MS + rng.int(-30, 45) * MINUTE_MS;
      const activities = weekend ? rng.int(1, 4) : rng.int(8, 16);
      for (let k = 0; k < activities; k++) slots.push({ person, t: start + rng.next() * 9.5 * HOUR_MS });
    }
  }
  return slots;
}

/** Activities at the slots, in random order, until the drafts exceed `budget`; the one that does is undone. */
export function fillActivities(w: World, slots: readonly Slot[], budget: number): void {
  const order = slots.map((s) => ({ s, key: w.rng.next() })).sort((a, b) => a.key - b.key);
  for (const { s } of order) {
    const before = w.drafts.length;
    activity(w, s.person, s.t);
    if (w.drafts.length > budget) {
      w.drafts.length = before;
      break;
    }
  }
}
