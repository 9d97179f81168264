/** Browsing (the reads that fill the log up to its count) and the drafts' final form, `EventLogEntryWire`. */
import { MINUTE_MS } from '@eventlog-archive/shared';
import type { Random } from '../random';
import { type Draft, READS, SERVICE_AGENT } from './data';
import type { EventLogEntryWire } from './wire';
import type { Slot } from './working-time';
import { base, inWindow, projectAt, type World } from './world';

/**
 * `n` reads at random slots (moved by up to 20 minutes) appended to `kept`: all inside the window,
 * and none of Richard's during the unusual night ([nightMs, nightEndMs)).
 */
export function browse(w: World, slots: readonly Slot[], n: number, nightEndMs: number, kept: Draft[]): void {
  const { rng, richard, nightMs } = w;
  for (let k = 0; k < n; k++) {
    let slot = rng.pick(slots);
    let t = slot.t + rng.int(-20, 20) * MINUTE_MS;
    while (!inWindow(w, t) || (slot.person === richard && t >= nightMs && t < nightEndMs)) {
      slot = rng.pick(slots);
      t = slot.t;
    }
    const [name, source, needsProject] = rng.pick(READS);
    const p = needsProject ? projectAt(w, slot.person, t) : undefined;
    if (needsProject && !p) {
      k--;
      continue;
    }
    const get = name.startsWith('get');
    const request = { ...base(w, p), ...(name === 'getProject' ? { name: p!.name } : {}) };
    const response = get
      ? {
          ...base(w, p),
          ...(p ? { id: p.projectId } : {}),
          lastUpdatedTime: new Date(t - rng.int(1, 9000) * MINUTE_MS).toISOString(),
        }
      : undefined;
    kept.push({ t, name, source, person: slot.person, project: p, request, response });
  }
}

const READONLY = /^(get|list|verify)/;

/** The draft as the API returns it: ids, time, identity, address and agent filled in. */
export function toEvent(d: Draft, rng: Random): EventLogEntryWire {
  const person = d.person;
  const event: EventLogEntryWire = {
    id: rng.uuid(),
    eventName: d.name,
    eventType: d.service ? 'AwsServiceEvent' : 'AwsApiCall',
    eventCategory: 'MANAGEMENT',
    eventSource: d.source,
    // Storylines step in whole seconds; a real log's times do not.
    eventTime: new Date(Math.floor(d.t) + (d.t % 1000 === 0 ? rng.int(0, 999) : 0)).toISOString(),
    operationType: READONLY.test(d.name) ? 'READONLY' : 'MUTATION',
    userIdentity: person.identity,
    requestId: rng.uuid(),
    sourceIpAddress: d.service
      ? SERVICE_AGENT
      : (d.ip ?? (rng.chance(0.8) ? person.ips[0]! : rng.pick(person.ips))),
    userAgent: d.service ? SERVICE_AGENT : (d.agent ?? person.browser),
  };
  if (d.project) event.projectInformation = { name: d.project.name, projectId: d.project.projectId };
  event.requestPayload = { contentType: 'application/json', data: JSON.stringify(d.request) };
  if (d.errorCode) event.errorCode = d.errorCode;
  else if (d.response)
    event.responsePayload = { contentType: 'application/json', data: JSON.stringify(d.response) };
  return event;
}

/** Time order; ties by id. */
export function byTimeThenId(a: EventLogEntryWire, b: EventLogEntryWire): number {
  return a.eventTime < b.eventTime ? -1 : a.eventTime > b.eventTime ? 1 : a.id < b.id ? -1 : 1;
}
