/**
 * A day of an archived instance as one OCSF Parquet object in Amazon Security Lake's layout for a
 * custom source (https://docs.aws.amazon.com/security-lake/latest/userguide/custom-sources.html):
 * `region=<region>/accountId=<account>/eventDay=<YYYYMMDD>/<source>-<instance>.parquet` under
 * `ext/<custom source name>/`, records sorted by time.
 *
 * The object of an instance and day has one name and always holds the whole archived day, so writing
 * it again (a re-run export, a day that grew with late events, a delivery retried after a fault)
 * replaces it: an event is in the lake exactly once, however often its day is written. The day is
 * read through the ledger, which names its data object and that object's SHA-256; an object that
 * does not match is refused, never exported.
 */
import { createHash } from 'node:crypto';
import { ArchiveError } from '@eventlog-archive/shared';
import { type LedgerDay, readLedgerDay } from '../ledger';
import { decodeParquet } from '../parquet';
import type { ArchiveRecord } from '../records';
import { toOcsf as codecatalystToOcsf } from '../sources/codecatalyst/ocsf';
import { parseSystemArn } from '../sources/resiliencehub/arn';
import { toOcsf as resiliencehubToOcsf } from '../sources/resiliencehub/ocsf';
import type { SourceDefinition } from '../sources/types';
import type { ArchiveStore } from '../store';
import { encodeOcsfParquet } from './parquet';
import type { OcsfEvent } from './types';

/** CodeCatalyst runs in one Region (https://docs.aws.amazon.com/codecatalyst/latest/userguide/regions.html). */
export const CODECATALYST_REGION = 'us-west-2';

/** Security Lake's `region` and `accountId` partition values of an instance's objects. */
export interface LakePartition {
  readonly region: string;
  readonly accountId: string;
}

/** What the settings may say about the partition (the CLI's --region/--account-id, the stack's). */
export interface LakeDefaults {
  readonly region?: string;
  readonly accountId?: string;
}

/** How a source's events become OCSF events: the class, the partition of an instance, the mapping. */
export interface OcsfSource {
  /** The OCSF class of every event (one class per Security Lake custom source). */
  readonly className: string;
  /** The class's name as Security Lake's `create-custom-log-source --event-classes` spells it. */
  readonly lakeEventClass: string;
  partition(instance: string, defaults: LakeDefaults): LakePartition;
  toOcsf(
    record: ArchiveRecord,
    context: { instance: string; partition: LakePartition; loggedTime?: number },
  ): OcsfEvent;
}

const ACCOUNT_ID = /^\d{12}$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d$/;

/** The sources with an OCSF mapping, by source name. */
export const OCSF_SOURCES: Readonly<Record<string, OcsfSource>> = {
  codecatalyst: {
    className: 'api_activity',
    lakeEventClass: 'API_ACTIVITY',
    // A space's events carry no Region or billing account of their own: the caller says which.
    partition: (_space, defaults) => {
      if (!defaults.accountId)
        throw new ArchiveError(
          '--account-id: is required for CodeCatalyst (the AWS account the space is billed to: the accountId partition)',
        );
      return checked({ region: defaults.region ?? CODECATALYST_REGION, accountId: defaults.accountId });
    },
    toOcsf: (record, { instance, partition, loggedTime }) =>
      codecatalystToOcsf(record, {
        space: instance,
        region: partition.region,
        accountId: partition.accountId,
        ...(loggedTime !== undefined ? { loggedTime } : {}),
      }),
  },
  resiliencehub: {
    className: 'entity_management',
    lakeEventClass: 'ENTITY_MANAGEMENT',
    // The system's ARN names both.
    partition: (systemArn) => {
      const arn = parseSystemArn(systemArn);
      return checked({ region: arn.region, accountId: arn.accountId });
    },
    toOcsf: (record, { instance, loggedTime }) =>
      resiliencehubToOcsf(record, {
        systemArn: instance,
        ...(loggedTime !== undefined ? { loggedTime } : {}),
      }),
  },
};

function checked(partition: LakePartition): LakePartition {
  if (!REGION.test(partition.region))
    throw new ArchiveError(`--region: "${partition.region}" is not an AWS Region name (e.g. us-west-2)`);
  if (!ACCOUNT_ID.test(partition.accountId))
    throw new ArchiveError(`--account-id: must be 12 digits (got "${partition.accountId}")`);
  return partition;
}

/** The OCSF mapping of a source; an error naming the source when it has none. */
export function ocsfSourceOf(source: SourceDefinition): OcsfSource {
  const ocsf = Object.hasOwn(OCSF_SOURCES, source.name) ? OCSF_SOURCES[source.name] : undefined;
  if (!ocsf) throw new ArchiveError(`--source: ${source.name} has no OCSF mapping`);
  return ocsf;
}

/** The key of an instance's day under the custom source's root (`ext/<source name>/`). */
export function lakeObjectKey(
  source: SourceDefinition,
  instance: string,
  day: string,
  partition: LakePartition,
): string {
  return [
    `region=${partition.region}`,
    `accountId=${partition.accountId}`,
    `eventDay=${day.replaceAll('-', '')}`,
    `${source.name}-${source.partitionValue(instance)}.parquet`,
  ].join('/');
}

/** An archived day, read through its ledger document and checked against the SHA-256 it records. */
export interface ArchivedDay {
  readonly ledger: LedgerDay;
  readonly records: ArchiveRecord[];
}

/** The archived day of an instance; `undefined` when the ledger records no data object for it. */
export async function readArchivedDay(
  store: ArchiveStore,
  source: SourceDefinition,
  instance: string,
  day: string,
): Promise<ArchivedDay | undefined> {
  const table = {
    table: source.table,
    partitionKey: source.partitionKey,
    partitionValue: source.partitionValue(instance),
  };
  const ledger = await readLedgerDay(store, table, day);
  if (!ledger?.data) return undefined;
  const object = await store.get(ledger.data.key);
  if (!object)
    throw new ArchiveError(`${ledger.data.key}: the ledger names it, but the archive has no such object`);
  const sha256 = createHash('sha256').update(object.body).digest('hex');
  if (sha256 !== ledger.data.sha256)
    throw new ArchiveError(
      `${ledger.data.key}: SHA-256 ${sha256} is not the ${ledger.data.sha256} the ledger records; run verify`,
    );
  return { ledger, records: await decodeParquet(source.fields, object.body) };
}

/**
 * When the archive logged each event: the first complete sweep of its window (the ledger's
 * `firstSweptAt`), the nearest the archive knows.
 */
function loggedTimes(ledger: LedgerDay): (time: number) => number | undefined {
  const windows = Object.values(ledger.windows)
    .map((w) => ({ start: Date.parse(w.start), end: Date.parse(w.end), at: Date.parse(w.firstSweptAt) }))
    .sort((a, b) => a.start - b.start);
  return (time) => {
    const w = windows.find((x) => time >= x.start && time < x.end);
    return w && Number.isFinite(w.at) ? w.at : undefined;
  };
}

/** An instance's day as its Security Lake object: the key under `ext/<source name>/` and the file. */
export interface LakeObject {
  readonly key: string;
  readonly body: Uint8Array;
  readonly events: number;
}

/** Maps an archived day to OCSF and encodes it as the day's lake object. */
export function lakeObjectOf(
  source: SourceDefinition,
  instance: string,
  day: ArchivedDay,
  partition: LakePartition,
): LakeObject {
  const ocsf = ocsfSourceOf(source);
  const logged = loggedTimes(day.ledger);
  const timeField = source.timeField;
  const events = day.records.map((record) => {
    const time = (record[timeField] as Date | null)?.getTime();
    const loggedTime = time === undefined ? undefined : logged(time);
    return ocsf.toOcsf(record, { instance, partition, ...(loggedTime !== undefined ? { loggedTime } : {}) });
  });
  return {
    key: lakeObjectKey(source, instance, day.ledger.day, partition),
    body: encodeOcsfParquet(ocsf.className, events),
    events: events.length,
  };
}
