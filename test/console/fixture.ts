/**
 * Archives for the console's browser tests, built the production way (the local ListEventLogs
 * server, the real SDK client and ingest pipeline, see api-fixture.ts), at a pinned instant:
 * - `clean`: two spaces of generated events plus one hostile event whose text is HTML and script,
 *   and a Resilience Hub system;
 * - `damaged`: a copy of it with one window cut out of a ledger day (a gap) and one data file
 *   changed after it was sealed (tampering).
 */
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DAY_MS, HOUR_MS, utcDay } from '../../lambdas/shared/src/time';
import { buildArchive, buildSystemArchive } from '../integration/query/api-fixture';
import { type EventLogEntryWire, generateEvents } from '../support/sample-events';
import { generateSystemEvents } from '../support/sample-system-events';

/** The instant the tests run at: a Friday afternoon, far from midnight and from any real clock. */
export const NOW = Date.UTC(2026, 10, 20, 14, 30);
export const SPACE = 'console-space';
export const OTHER = 'gappy-space';
/** A Resilience Hub system archived beside the spaces. */
export const SYSTEM_ARN = 'arn:aws:resiliencehub:us-west-2:123456789012:system/console-checkout';
/** The ledger day cut and the data file changed in `damaged`. */
export const GAP_DAY = utcDay(NOW - 6 * DAY_MS);
export const TAMPERED_DAY = utcDay(NOW - 8 * DAY_MS);

/** Text that would run script or inject markup if the page ever treated archive text as HTML. */
export const HOSTILE = {
  id: 'hostile-0001',
  eventName: '<img src=x onerror="window.__pwned=1">',
  userName: '<script>window.__pwned=2</script>',
  projectName: '<b onmouseover="window.__pwned=3">proj</b>',
  payload: '{"note":"</pre><script>window.__pwned=4</script>","html":"<iframe src=javascript:alert(1)>"}',
};

function hostileEvent(): EventLogEntryWire {
  return {
    id: HOSTILE.id,
    eventName: HOSTILE.eventName,
    eventType: 'AwsApiCall',
    eventCategory: 'MANAGEMENT',
    eventSource: 'codecatalyst.amazonaws.com',
    eventTime: new Date(NOW - 2 * DAY_MS - 3 * HOUR_MS).toISOString(),
    operationType: 'MUTATION',
    userIdentity: { userType: 'USER', principalId: 'p-hostile', userName: HOSTILE.userName },
    projectInformation: { name: HOSTILE.projectName, projectId: 'proj-hostile' },
    requestId: 'req-<svg onload=alert(1)>',
    requestPayload: { contentType: 'application/json', data: HOSTILE.payload },
    sourceIpAddress: '203.0.113.9',
    userAgent: '<marquee>agent</marquee>',
  };
}

export function spaceEvents(): Record<string, EventLogEntryWire[]> {
  const from = NOW - 29 * DAY_MS;
  // The ingest stops at the end of the last whole hour.
  const to = NOW - 2 * HOUR_MS;
  return {
    [SPACE]: [
      ...generateEvents({ count: 2400, fromMs: from, toMs: to, seed: 12, idPrefix: 'c-' }),
      hostileEvent(),
    ],
    [OTHER]: generateEvents({ count: 600, fromMs: from, toMs: to, seed: 13, idPrefix: 'g-' }),
  };
}

export async function buildConsoleArchives(work: string): Promise<{ clean: string; damaged: string }> {
  const clean = path.join(work, 'clean');
  await buildArchive(clean, spaceEvents(), NOW);
  const system = generateSystemEvents({
    count: 500,
    fromMs: NOW - 29 * DAY_MS,
    toMs: NOW - 2 * HOUR_MS,
    systemArn: SYSTEM_ARN,
    seed: 21,
  });
  await buildSystemArchive(clean, { [SYSTEM_ARN]: system }, NOW);
  const damaged = path.join(work, 'damaged');
  cpSync(clean, damaged, { recursive: true });
  cutWindow(damaged, OTHER, GAP_DAY);
  tamper(damaged, OTHER, TAMPERED_DAY);
  return { clean, damaged };
}

/** Removes one recorded window (10:00 UTC) from a ledger day: the archive no longer claims it. */
function cutWindow(dir: string, space: string, day: string): void {
  const folder = path.join(dir, '_ledger', 'codecatalyst_event_logs', `space=${space}`);
  const file = readdirSync(folder).find((name) => name === `dt=${day}.json`);
  if (!file) throw new Error(`no ledger document for ${day} in ${folder}`);
  const document = JSON.parse(readFileSync(path.join(folder, file), 'utf8')) as {
    windows: Record<string, unknown>;
  };
  const key = Object.keys(document.windows).find((start) => start.startsWith(`${day}T10:00`));
  if (!key) throw new Error(`no 10:00 window on ${day}`);
  delete document.windows[key];
  writeFileSync(path.join(folder, file), JSON.stringify(document));
}

/** Changes bytes in the middle of a sealed day's data file. */
function tamper(dir: string, space: string, day: string): void {
  const file = path.join(dir, 'codecatalyst_event_logs', `space=${space}`, `dt=${day}`, 'events.parquet');
  const bytes = readFileSync(file);
  const at = Math.floor(bytes.length / 2);
  bytes[at] = bytes[at]! ^ 0xff;
  writeFileSync(file, bytes);
}
