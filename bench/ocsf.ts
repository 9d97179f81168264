/**
 * The OCSF section: what delivering to Amazon Security Lake costs on top of archiving, per event,
 * measured side by side in one run on the same 100k generated CodeCatalyst events of one day: the
 * archive's own Parquet encode (lambdas/core/parquet.ts), the OCSF mapping (toOcsf), and the OCSF
 * Parquet encode (lambdas/core/ocsf/parquet.ts): CPU µs per event and bytes per event.
 */

import type { OcsfEvent } from '../lambdas/core/ocsf';
import { encodeOcsfParquet } from '../lambdas/core/ocsf/parquet';
import { encodeParquet } from '../lambdas/core/parquet';
import { type ArchiveRecord, normaliseRecord, sortRecords } from '../lambdas/core/records';
import { codecatalystDefinition } from '../lambdas/core/sources/codecatalyst/definition';
import { toOcsf } from '../lambdas/core/sources/codecatalyst/ocsf';
import { CODECATALYST_FIELDS } from '../lambdas/core/sources/codecatalyst/schema';
import { generateEvents } from './events';
import { type Check, collectGarbage, fmt, heading, median, printTable } from './util';

const EVENTS = 100_000;
const RUNS = 3;

export interface OcsfFigures {
  events: number;
  archive: { usPerEvent: number; bytesPerEvent: number };
  mapping: { usPerEvent: number };
  ocsfEncode: { usPerEvent: number; bytesPerEvent: number };
  costRatio: number;
  bytesRatio: number;
}

/** Median CPU time (user + system) of `fn` over RUNS runs, in µs, and its last result. */
function cpu<T>(fn: () => T): { us: number; value: T } {
  const times: number[] = [];
  let value!: T;
  for (let i = 0; i < RUNS; i++) {
    collectGarbage();
    const start = process.cpuUsage();
    value = fn();
    const used = process.cpuUsage(start);
    times.push(used.user + used.system);
  }
  return { us: median(times), value };
}

export function ocsfSection(): { figures: OcsfFigures; checks: Check[] } {
  heading(`OCSF: ${EVENTS.toLocaleString('en-US')} CodeCatalyst events of one day, archive vs Security Lake`);
  const day = Date.UTC(2026, 4, 1);
  const wire = generateEvents({ count: EVENTS, fromMs: day, toMs: day + 86_400_000, seed: 7 });
  const records: ArchiveRecord[] = sortRecords(
    codecatalystDefinition,
    wire.map((e) => normaliseRecord(CODECATALYST_FIELDS, e as unknown as Record<string, unknown>)),
  );
  const archive = cpu(() =>
    encodeParquet(CODECATALYST_FIELDS, records, { statisticsFor: ['id', 'eventTime'] }),
  );
  const context = {
    space: 'bench-space',
    region: 'us-west-2',
    accountId: '123456789012',
    loggedTime: day + 86_400_000,
  };
  const mapping = cpu(() => records.map((r) => toOcsf(r, context)) as OcsfEvent[]);
  const ocsf = cpu(() => encodeOcsfParquet('api_activity', mapping.value));

  const per = (us: number): number => us / EVENTS;
  const figures: OcsfFigures = {
    events: EVENTS,
    archive: { usPerEvent: per(archive.us), bytesPerEvent: archive.value.length / EVENTS },
    mapping: { usPerEvent: per(mapping.us) },
    ocsfEncode: { usPerEvent: per(ocsf.us), bytesPerEvent: ocsf.value.length / EVENTS },
    costRatio: (mapping.us + ocsf.us) / archive.us,
    bytesRatio: ocsf.value.length / archive.value.length,
  };
  printTable(
    ['step', 'CPU µs/event', 'bytes/event'],
    [
      [
        'archive Parquet encode (the day object)',
        figures.archive.usPerEvent.toFixed(1),
        figures.archive.bytesPerEvent.toFixed(1),
      ],
      ['OCSF mapping (toOcsf)', figures.mapping.usPerEvent.toFixed(1), ''],
      [
        'OCSF Parquet encode (the lake object)',
        figures.ocsfEncode.usPerEvent.toFixed(1),
        figures.ocsfEncode.bytesPerEvent.toFixed(1),
      ],
    ],
  );
  console.log(
    `\ndelivery (mapping + encode) costs ${fmt.x(figures.costRatio)} the archive's encode; the lake object is ${fmt.x(figures.bytesRatio)} the day object's bytes`,
  );
  // Figures only: the issue that asked for them set no target; the ingest's CPU budget is the ingest section's.
  return { figures, checks: [] };
}
