/**
 * The demo Resilience Hub system: a month of changes to a `checkout` system, as `ListSystemEvents`
 * returns them (`SystemEvent` in wire form, `timestamp` in epoch seconds). Deterministic for a seed.
 *
 * The system was set up before the month (its SYSTEM_CREATED lies on the first day); during the
 * month people add and rework user journeys, associate services as the team ships them, and
 * attach a resilience policy. On the unusual night ({@link DemoSystem.unusualDay}) a role nobody
 * uses detaches the policy and disassociates the payment services.
 */
import { DAY_MS, HOUR_MS, MINUTE_MS, type SystemEventType } from '@eventlog-archive/shared';
import { random } from './random';

export interface SystemEventActorWire {
  accountId?: string;
  principalId?: string;
  type?: string;
  userName?: string;
}

export interface SystemEventWire {
  actor?: SystemEventActorWire;
  eventDetails?: { description?: string; eventMetadata?: unknown; title?: string };
  eventId: string;
  eventType: SystemEventType;
  systemArn: string;
  /** Epoch seconds with a millisecond fraction. */
  timestamp: number;
}

export interface DemoSystemOptions {
  nowMs: number;
  /** Default `arn:aws:resiliencehub:us-east-1:111122223333:system/checkout`. */
  systemArn?: string;
  seed?: number;
}

export interface DemoSystem {
  /** In time order. */
  events: SystemEventWire[];
  unusualDay: { startMs: number; endMs: number; actor: string };
}

const PEOPLE = ['MaryMajor', 'JohnDoe', 'JorgeSouza', 'NikhilJayashankar'];
const JOURNEYS = ['browse-catalog', 'add-to-cart', 'place-order', 'pay', 'track-order', 'refund'];
const SERVICES = [
  ['checkout-api', 'ecs/service/checkout/checkout-api'],
  ['orders-table', 'dynamodb/table/orders'],
  ['payments-worker', 'lambda/function/payments-worker'],
  ['payments-queue', 'sqs/queue/payments'],
  ['catalog-cache', 'elasticache/cluster/catalog'],
  ['edge', 'cloudfront/distribution/E2EXAMPLE'],
] as const;

// SYSTEM_USER_JOURNEY_CREATED → systemUserJourneyCreated: the member of the metadata union.
const member = (type: string): string =>
  type.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

export function demoSystemEvents(options: DemoSystemOptions): DemoSystem {
  const { nowMs, seed = 2024 } = options;
  const systemArn = options.systemArn ?? 'arn:aws:resiliencehub:us-east-1:111122223333:system/checkout';
  const account = /:(\d{12}):/.exec(systemArn)?.[1] ?? '111122223333';
  const rng = random(seed);
  const fromMs = nowMs - 30 * DAY_MS + HOUR_MS;
  const firstDay = Math.floor(fromMs / DAY_MS) * DAY_MS;
  const events: SystemEventWire[] = [];
  const roleIds = new Map<string, string>();
  const actor = (userName: string, type = 'IAMRole'): SystemEventActorWire => {
    if (!roleIds.has(userName)) roleIds.set(userName, `AROA${rng.hex(17).toUpperCase()}`);
    return { accountId: account, principalId: `${roleIds.get(userName)}:${userName}`, type, userName };
  };
  const add = (
    t: number,
    eventType: SystemEventType,
    who: SystemEventActorWire,
    title: string,
    detail: Record<string, unknown>,
  ) => {
    events.push({
      actor: who,
      eventDetails: {
        description: `${title} (${who.userName ?? who.type})`,
        eventMetadata: { [member(eventType)]: detail },
        title,
      },
      eventId: rng.uuid(),
      eventType,
      systemArn,
      timestamp: Math.floor(t) / 1000,
    });
  };
  const arn = (resource: string) => `arn:aws:${resource.split('/')[0]}:us-east-1:${account}:${resource}`;
  const workTime = (day: number) => firstDay + day * DAY_MS + (9 + rng.next() * 8) * HOUR_MS;

  add(fromMs + HOUR_MS, 'SYSTEM_CREATED', actor('MaryMajor'), 'System checkout created', {
    name: 'checkout',
    tier: 'CRITICAL',
    tags: { team: 'payments', costCenter: 'cc-4410' },
  });
  for (const [name, resource] of SERVICES.slice(0, 3)) {
    add(
      fromMs + 2 * HOUR_MS + rng.int(1, 50) * MINUTE_MS,
      'SYSTEM_SERVICE_ASSOCIATED',
      actor('MaryMajor'),
      `Service ${name} associated`,
      { serviceName: name, resourceArn: arn(resource) },
    );
  }
  add(
    fromMs + 4 * HOUR_MS,
    'SYSTEM_POLICY_ASSOCIATED',
    actor('MaryMajor'),
    'Policy tier-1-critical associated',
    {
      policyName: 'tier-1-critical',
      rtoInSecs: 900,
      rpoInSecs: 300,
    },
  );
  const journeyIds = new Map<string, string>();
  for (let day = 1; day < 30; day++) {
    const weekday = ![0, 6].includes(new Date(firstDay + day * DAY_MS).getUTCDay());
    for (let k = weekday ? rng.int(1, 5) : rng.int(0, 1); k > 0; k--) {
      const who = actor(rng.pick(PEOPLE));
      const journey = rng.pick(JOURNEYS);
      const id = journeyIds.get(journey);
      if (!id) {
        journeyIds.set(journey, rng.uuid());
        add(workTime(day), 'SYSTEM_USER_JOURNEY_CREATED', who, `User journey ${journey} created`, {
          journeyId: journeyIds.get(journey),
          name: journey,
          steps: rng.int(2, 7),
        });
      } else if (rng.chance(0.85)) {
        add(workTime(day), 'SYSTEM_USER_JOURNEY_UPDATED', who, `User journey ${journey} updated`, {
          journeyId: id,
          name: journey,
          steps: rng.int(2, 9),
          sloTarget: rng.pick([99.5, 99.9, 99.95]),
        });
      } else {
        journeyIds.delete(journey);
        add(workTime(day), 'SYSTEM_USER_JOURNEY_DELETED', who, `User journey ${journey} deleted`, {
          journeyId: id,
          name: journey,
        });
      }
    }
    if (day === 6 || day === 13 || day === 24) {
      const [name, resource] = SERVICES[day === 6 ? 3 : day === 13 ? 4 : 5]!;
      add(workTime(day), 'SYSTEM_SERVICE_ASSOCIATED', actor(rng.pick(PEOPLE)), `Service ${name} associated`, {
        serviceName: name,
        resourceArn: arn(resource),
      });
    }
  }
  // The unusual night: a role nobody uses, at 02:xx UTC.
  const startMs = firstDay + rng.int(18, 21) * DAY_MS + 2 * HOUR_MS + rng.int(10, 40) * MINUTE_MS;
  const intruder = actor('temp-migration-role', 'IAMRole');
  add(startMs, 'SYSTEM_POLICY_DISASSOCIATED', intruder, 'Policy tier-1-critical disassociated', {
    policyName: 'tier-1-critical',
  });
  for (const [k, [name, resource]] of [SERVICES[2], SERVICES[3]].entries()) {
    add(
      startMs + (k + 1) * 47_000,
      'SYSTEM_SERVICE_DISASSOCIATED',
      intruder,
      `Service ${name} disassociated`,
      { serviceName: name, resourceArn: arn(resource) },
    );
  }
  const endMs = startMs + 3 * MINUTE_MS;

  const toMs = nowMs - HOUR_MS;
  const kept = events.filter((e) => e.timestamp * 1000 >= fromMs && e.timestamp * 1000 < toMs);
  kept.sort((a, b) => a.timestamp - b.timestamp || (a.eventId < b.eventId ? -1 : 1));
  return { events: kept, unusualDay: { startMs, endMs, actor: intruder.userName! } };
}
