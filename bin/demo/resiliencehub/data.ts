/** The demo Resilience Hub system's public shapes and its cast: people, user journeys, services. */
import type { SystemEventType } from '@eventlog-archive/shared';

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

export const DEFAULT_SYSTEM_ARN = 'arn:aws:resiliencehub:us-east-1:111122223333:system/checkout';
export const DEFAULT_ACCOUNT = '111122223333';
export const PEOPLE = ['MaryMajor', 'JohnDoe', 'JorgeSouza', 'NikhilJayashankar'];
export const OWNER = 'MaryMajor';
/** The role nobody uses, on the unusual night. */
export const INTRUDER = 'temp-migration-role';
export const JOURNEYS = ['browse-catalog', 'add-to-cart', 'place-order', 'pay', 'track-order', 'refund'];
/** [name, resource]: the first three at set-up, the others shipped during the month. */
export const SERVICES = [
  ['checkout-api', 'ecs/service/checkout/checkout-api'],
  ['orders-table', 'dynamodb/table/orders'],
  ['payments-worker', 'lambda/function/payments-worker'],
  ['payments-queue', 'sqs/queue/payments'],
  ['catalog-cache', 'elasticache/cluster/catalog'],
  ['edge', 'cloudfront/distribution/E2EXAMPLE'],
] as const;
/** Days of the month on which a service is associated, and which. */
export const SERVICE_DAYS: ReadonlyMap<number, number> = new Map([
  [6, 3],
  [13, 4],
  [24, 5],
]);
export const POLICY = { policyName: 'tier-1-critical', rtoInSecs: 900, rpoInSecs: 300 };
