/**
 * A real crash at every commit step: the CLI ingest runs as a child process and SIGKILLs itself at
 * the second occurrence of a step (through the test-only `EVENTLOG_ARCHIVE_TEST_KILL_AT` switch of
 * bin/commands/ingest.ts), into a folder and into S3 (s3rver). Then:
 * - the dead run's lease still blocks a new run, but only until its TTL (5 minutes, fixed for the
 *   CLI): a run whose clock is past the lease's expiry takes it over;
 * - that rerun, continuing from the ledger (no explicit range), completes, and the archive equals
 *   the source: none missing, none twice, every field equal; the ledger has no gap; no lease is left.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestSignerFromEnv } from '../../../lambdas/core/digest-signer';
import { leaseKey } from '../../../lambdas/core/layout';
import { listLedgerDays } from '../../../lambdas/core/ledger';
import { LocalStore } from '../../../lambdas/core/local-store';
import { createS3Client, S3Store } from '../../../lambdas/core/s3-store';
import type { ArchiveStore } from '../../../lambdas/core/store';
import { type CommitStep, ingestInstance } from '../../../lambdas/ingest/ingest-instance';
import { codecatalyst } from '../../../lambdas/ingest/sources/codecatalyst';
import type { SourceClient } from '../../../lambdas/ingest/sources/types';
import { DAY_MS, floorTo, HOUR_MS } from '../../../lambdas/shared/src/time';
import { readCodeCatalystArchive } from '../../helpers/archive-reader';
import { pinnedClock } from '../../helpers/clock';
import { runCli } from '../../helpers/run-process';
import { type CodeCatalystServer, startCodeCatalystServer } from '../../support/codecatalyst-server';
import { type S3TestServer, startS3Server } from '../../support/s3-server';
import { type EventLogEntryWire, generateEvents } from '../../support/sample-events';
import { downloadS3Archive, expectArchiveEqualsSource, expectNoGap } from './archive-checks';

const TOKEN = 'pat-kill-steps-0123456789';
const SPACE = 'kill-space';
const BUCKET = 'kill-bucket';
const BACKFILL_DAYS = 3;
const STEPS: CommitStep[] = ['fetched', 'merged', 'data-written', 'ledger-written'];
// 01:59 UTC: inside the default two-hour lookback after midnight, so the run re-sweeps yesterday's last
// windows while it writes today's first. The CLI runs, the source and the reruns share this clock.
const clock = pinnedClock(Date.UTC(2026, 11, 6, 1, 59));
const TABLE = {
  table: codecatalyst.table,
  partitionKey: codecatalyst.partitionKey,
  partitionValue: codecatalyst.partitionValue(SPACE),
};
let cc: CodeCatalystServer;
let s3: S3TestServer;
let s3Client: S3Client;
let client: SourceClient;
let source: EventLogEntryWire[];
let work: string;

beforeAll(async () => {
  const now = clock();
  source = generateEvents({
    count: 3_000,
    fromMs: now - BACKFILL_DAYS * DAY_MS + 2 * HOUR_MS,
    toMs: now - 3 * HOUR_MS,
    seed: 77,
  });
  cc = await startCodeCatalystServer({ now: clock, tokens: [TOKEN], spaces: { [SPACE]: source } });
  client = await codecatalyst.createClient({
    env: { CODECATALYST_TOKEN: TOKEN, AWS_ENDPOINT_URL_CODECATALYST: cc.url, AWS_REGION: 'us-east-1' },
  });
  s3 = await startS3Server({ buckets: [BUCKET] });
  s3Client = createS3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  work = mkdtempSync(path.join(tmpdir(), 'kill-steps-'));
}, 60_000);
afterAll(async () => {
  s3Client?.destroy();
  await Promise.all([cc?.close(), s3?.close()]);
  rmSync(work, { recursive: true, force: true });
});

const digestKeyFile = (): string => path.join(work, 'digest-signing-key.pem');

interface Target {
  uri: string;
  store: ArchiveStore;
  /** A folder holding the archive's objects (S3: a downloaded copy). */
  folder(): Promise<string>;
}

function target(kind: 'file' | 's3', step: CommitStep): Target {
  if (kind === 'file') {
    const dir = path.join(work, `archive-${step}`);
    return { uri: `file://${dir}`, store: new LocalStore(dir), folder: async () => dir };
  }
  const prefix = `kill-${step}/`;
  return {
    uri: `s3://${BUCKET}/${prefix.slice(0, -1)}`,
    store: new S3Store(BUCKET, prefix, s3Client),
    folder: () => downloadS3Archive(s3Client, BUCKET, prefix),
  };
}

async function archivedEventCount(archive: Target): Promise<number> {
  const folder = await archive.folder();
  try {
    return (await readCodeCatalystArchive(folder)).length;
  } finally {
    if (!archive.uri.startsWith('file://')) rmSync(folder, { recursive: true, force: true });
  }
}

describe.each(['file', 's3'] as const)(
  'a CLI ingest into a %s archive killed (SIGKILL) at a commit step',
  (kind) => {
    it.each(STEPS)(
      'at the second "%s": a rerun after the lease TTL completes, equal to the source',
      async (step) => {
        const archive = target(kind, step);
        const killed = await runCli(
          [
            'ingest',
            '--source',
            'codecatalyst',
            '--space',
            SPACE,
            '--archive',
            archive.uri,
            '--backfill-days',
            String(BACKFILL_DAYS),
          ],
          {
            cwd: work,
            clock,
            env: {
              AWS_ENDPOINT_URL_CODECATALYST: cc.url,
              AWS_ENDPOINT_URL_S3: s3.endpoint,
              AWS_ACCESS_KEY_ID: 'S3RVER',
              AWS_SECRET_ACCESS_KEY: 'S3RVER',
              CODECATALYST_TOKEN: TOKEN,
              EVENTLOG_ARCHIVE_TEST_KILL_AT: `${step}:2`,
              // An S3 archive signs its digests; the key file is created on first use.
              DIGEST_SIGNING_KEY_FILE: digestKeyFile(),
            },
          },
        );
        // Killed by the signal: no exit code, no summary line.
        expect(killed.code, killed.stderr).toBeNull();
        expect(killed.stdout).toBe('');

        // The crash left work undone: not every planned day is in the ledger yet. Except that a PUT
        // already sent to S3 completes there after the process died, so another day's ledger write in
        // flight at the kill may land: for S3 the lease the dead run never released is the proof (below).
        const recorded = await listLedgerDays(archive.store, TABLE);
        if (kind === 'file') expect(recorded.length).toBeLessThan(BACKFILL_DAYS + 1);
        else expect(recorded.length).toBeLessThanOrEqual(BACKFILL_DAYS + 1);
        if (step === 'ledger-written') expect(recorded.length).toBeGreaterThanOrEqual(2);

        // The dead run's lease is still there, and holds a run on the same clock off …
        const lease = await archive.store.get(leaseKey(TABLE));
        expect(lease, 'the killed run left its lease').toBeDefined();
        const expiresAt = Date.parse(JSON.parse(Buffer.from(lease!.body).toString('utf8')).expiresAt);
        expect(expiresAt - clock()).toBeLessThanOrEqual(5 * 60_000);
        const to = floorTo(clock(), HOUR_MS);
        // The digest key the CLI run signed with.
        const signer = await digestSignerFromEnv(archive.uri, { DIGEST_SIGNING_KEY_FILE: digestKeyFile() });
        const rerun = (now: () => number) =>
          ingestInstance({
            source: codecatalyst,
            instance: SPACE,
            store: archive.store,
            client,
            now,
            to,
            settings: { backfillDays: BACKFILL_DAYS },
            signer,
          });
        expect((await rerun(clock)).status).toBe('busy');
        // The events the killed run left in data files (how many depends on how far its concurrent day
        // writes got before the kill, so it is counted, not assumed).
        const leftBehind = await archivedEventCount(archive);

        // … but not beyond its TTL: a run whose clock is past the expiry takes it over and completes.
        const shift = expiresAt - clock() + 1_000;
        const result = await rerun(() => clock() + shift);
        expect(result.status).toBe('complete');
        expect(result.failures).toEqual([]);
        // Days whose data the killed run had written are unioned, not duplicated: exactly the rest is new.
        expect(result.newEvents).toBe(source.length - leftBehind);
        if (step === 'data-written' || step === 'ledger-written') expect(leftBehind).toBeGreaterThan(0);
        expect(await archive.store.get(leaseKey(TABLE)), 'lease released').toBeUndefined();

        const folder = await archive.folder();
        try {
          await expectArchiveEqualsSource(folder, source);
          await expectNoGap(archive.store, SPACE, Date.parse(result.from), Date.parse(result.to));
          // The day files are whole Parquet objects: no temp file of the killed run is mistaken for data.
          const days = readdirSync(path.join(folder, TABLE.table, `space=${SPACE}`));
          expect(days.length).toBeGreaterThanOrEqual(BACKFILL_DAYS);
        } finally {
          if (kind === 's3') rmSync(folder, { recursive: true, force: true });
        }
      },
      60_000,
    );
  },
);
