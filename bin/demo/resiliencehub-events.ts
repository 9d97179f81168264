/**
 * The demo Resilience Hub system: a month of changes to a `checkout` system, as `ListSystemEvents`
 * returns them (`SystemEvent` in wire form, `timestamp` in epoch seconds). Deterministic for a seed.
 *
 * The system was set up before the month (its SYSTEM_CREATED lies on the first day); during the
 * month people add and rework user journeys, associate services as the team ships them, and
 * attach a resilience policy. On the unusual night ({@link DemoSystem.unusualDay}) a role nobody
 * uses detaches the policy and disassociates the payment services.
 *
 * The types and the cast are in resiliencehub/data.ts. The PRNG draws happen in the order
 * {@link demoSystemEvents} runs the scenes; reordering them changes the month.
 */
import { DAY_MS, HOUR_MS, MINUTE_MS, type SystemEventType } from '@eventlog-archive/shared';
import { type Random, random } from './random';
import {
  DEFAULT_ACCOUNT,
  DEFAULT_SYSTEM_ARN,
  type DemoSystem,
  type DemoSystemOptions,
  INTRUDER,
  JOURNEYS,
  OWNER,
  PEOPLE,
  POLICY,
  SERVICE_DAYS,
  SERVICES,
  type SystemEventActorWire,
  type SystemEventWire,
} from './resiliencehub/data';

export type {
  DemoSystem,
  DemoSystemOptions,
  SystemEventActorWire,
  SystemEventWire,
} from './resiliencehub/data';

/** The month being written: the system, the clock's window, the events so far, the roles' ids. */
interface SystemLog {
  rng: Random;
  systemArn: string;
  account: string;
  fromMs: number;
  firstDay: number;
  events: SystemEventWire[];
  roleIds: Map<string, string>;
}

// SYSTEM_USER_JOURNEY_CREATED → systemUserJourneyCreated: the member of the metadata union.
function member(type: string): string {
  return type.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The actor for a role session; a role's id is drawn the first time it acts. */
function actor(log: SystemLog, userName: string, type = 'IAMRole'): SystemEventActorWire {
  if (!log.roleIds.has(userName)) log.roleIds.set(userName, `AROA${log.rng.hex(17).toUpperCase()}`);
  return { accountId: log.account, principalId: `${log.roleIds.get(userName)}:${userName}`, type, userName };
}

function add(
  log: SystemLog,
  t: number,
  eventType: SystemEventType,
  who: SystemEventActorWire,
  title: string,
  detail: Record<string, unknown>,
): void {
  log.events.push({
    actor: who,
    eventDetails: {
      description: `${title} (${who.userName ?? who.type})`,
      eventMetadata: { [member(eventType)]: detail },
      title,
    },
    eventId: log.rng.uuid(),
    eventType,
    systemArn: log.systemArn,
    timestamp: Math.floor(t) / 1000,
  });
}

function arn(log: SystemLog, resource: string): string {
  return `arn:aws:${resource.split('/')[0]}:us-east-1:${log.account}:${resource}`;
}

/** A moment of the day's working hours, 09:00–17:00 UTC. */
function workTime(log: SystemLog, day: number): number {
  return log.firstDay + day * DAY_MS + (9 + log.rng.next() * 8) * HOUR_MS;
}

export function demoSystemEvents(options: DemoSystemOptions): DemoSystem {
  const { nowMs, seed = 2024 } = options;
  const systemArn = options.systemArn ?? DEFAULT_SYSTEM_ARN;
  const account = /:(\d{12}):/.exec(systemArn)?.[1] ?? DEFAULT_ACCOUNT;
  const fromMs = nowMs - 30 * DAY_MS + HOUR_MS;
  const firstDay = Math.floor(fromMs / DAY_MS) * DAY_MS;
  const log: SystemLog = {
    rng: random(seed),
    systemArn,
    account,
    fromMs,
    firstDay,
    events: [],
    roleIds: new Map(),
  };
  setUp(log);
  const journeyIds = new Map<string, string>();
  for (let day = 1; day < 30; day++) {
    journeyWork(log, day, journeyIds);
    serviceRollout(log, day);
  }
  const unusualDay = unusualNight(log);
  const toMs = nowMs - HOUR_MS;
  const kept = log.events.filter((e) => e.timestamp * 1000 >= fromMs && e.timestamp * 1000 < toMs);
  kept.sort((a, b) => a.timestamp - b.timestamp || (a.eventId < b.eventId ? -1 : 1));
  return { events: kept, unusualDay };
}

/** The first day: the system created, its first three services associated, the policy attached. */
function setUp(log: SystemLog): void {
  const { rng, fromMs } = log;
  add(log, fromMs + HOUR_MS, 'SYSTEM_CREATED', actor(log, OWNER), 'System checkout created', {
    name: 'checkout',
    tier: 'CRITICAL',
    tags: { team: 'payments', costCenter: 'cc-4410' },
  });
  for (const [name, resource] of SERVICES.slice(0, 3)) {
    add(
      log,
      fromMs + 2 * HOUR_MS + rng.int(1, 50) * MINUTE_MS,
      'SYSTEM_SERVICE_ASSOCIATED',
      actor(log, OWNER),
      `Service ${name} associated`,
      { serviceName: name, resourceArn: arn(log, resource) },
    );
  }
  add(
    log,
    fromMs + 4 * HOUR_MS,
    'SYSTEM_POLICY_ASSOCIATED',
    actor(log, OWNER),
    'Policy tier-1-critical associated',
    {
      ...POLICY,
    },
  );
}

/** A day's user journey changes: 1–5 on weekdays, at most one at weekends. */
function journeyWork(log: SystemLog, day: number, journeyIds: Map<string, string>): void {
  const { rng, firstDay } = log;
  const weekday = ![0, 6].includes(new Date(firstDay + day * DAY_MS).getUTCDay());
  for (let k = weekday ? rng.int(1, 5) : rng.int(0, 1); k > 0; k--) {
    const who = actor(log, rng.pick(PEOPLE));
    const journey = rng.pick(JOURNEYS);
    const id = journeyIds.get(journey);
    if (!id) {
      journeyIds.set(journey, rng.uuid());
      add(log, workTime(log, day), 'SYSTEM_USER_JOURNEY_CREATED', who, `User journey ${journey} created`, {
        journeyId: journeyIds.get(journey),
        name: journey,
        steps: rng.int(2, 7),
      });
    } else if (rng.chance(0.85)) {
      add(log, workTime(log, day), 'SYSTEM_USER_JOURNEY_UPDATED', who, `User journey ${journey} updated`, {
        journeyId: id,
        name: journey,
        steps: rng.int(2, 9),
        sloTarget: rng.pick([99.5, 99.9, 99.95]),
      });
    } else {
      journeyIds.delete(journey);
      add(log, workTime(log, day), 'SYSTEM_USER_JOURNEY_DELETED', who, `User journey ${journey} deleted`, {
        journeyId: id,
        name: journey,
      });
    }
  }
}

/** On its day (see SERVICE_DAYS), a newly shipped service is associated. */
function serviceRollout(log: SystemLog, day: number): void {
  const index = SERVICE_DAYS.get(day);
  if (index === undefined) return;
  const [name, resource] = SERVICES[index]!;
  add(
    log,
    workTime(log, day),
    'SYSTEM_SERVICE_ASSOCIATED',
    actor(log, log.rng.pick(PEOPLE)),
    `Service ${name} associated`,
    { serviceName: name, resourceArn: arn(log, resource) },
  );
}

/** The unusual night: a role nobody uses, at 02:xx UTC, detaches the policy and the payment services. */
function unusualNight(log: SystemLog): DemoSystem['unusualDay'] {
  const { rng, firstDay } = log;
  const startMs = firstDay + rng.int(18, 21) * DAY_MS + 2 * HOUR_MS + rng.int(10, 40) * MINUTE_MS;
  const intruder = actor(log, INTRUDER, 'IAMRole');
  add(log, startMs, 'SYSTEM_POLICY_DISASSOCIATED', intruder, 'Policy tier-1-critical disassociated', {
    policyName: POLICY.policyName,
  });
  for (const [k, [name, resource]] of [SERVICES[2], SERVICES[3]].entries()) {
    add(
      log,
      startMs + (k + 1) * 47_000,
      'SYSTEM_SERVICE_DISASSOCIATED',
      intruder,
      `Service ${name} disassociated`,
      { serviceName: name, resourceArn: arn(log, resource) },
    );
  }
  return { startMs, endMs: startMs + 3 * MINUTE_MS, actor: intruder.userName! };
}
