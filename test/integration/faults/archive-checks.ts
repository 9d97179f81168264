/**
 * Checks shared by the fault tests: an S3 archive copied to a folder (so the DuckDB read-back of
 * test/helpers reads it), the archive compared with the source, and the ledger's coverage of a range.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { expect } from 'vitest';
import { coverageOf, readLedgerDays } from '../../../lambdas/core/ledger';
import type { ArchiveStore } from '../../../lambdas/core/store';
import { codecatalyst } from '../../../lambdas/ingest/sources/codecatalyst';
import { DAY_MS, HOUR_MS, utcDay } from '../../../lambdas/shared/src/time';
import { diffArchive, readCodeCatalystArchive } from '../../helpers/archive-reader';
import type { EventLogEntryWire } from '../../support/sample-events';

/** Copies every object under `prefix` of `bucket` into a fresh folder (keys relative to the prefix). */
export async function downloadS3Archive(client: S3Client, bucket: string, prefix: string): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 's3-archive-copy-'));
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key }));
      const file = path.join(dir, object.Key!.slice(prefix.length));
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, await out.Body!.transformToByteArray());
    }
    token = page.NextContinuationToken;
  } while (token);
  return dir;
}

/** The CodeCatalyst archive in folder `dir` holds exactly `source`: none missing, none twice, every field equal. */
export async function expectArchiveEqualsSource(
  dir: string,
  source: readonly EventLogEntryWire[],
): Promise<void> {
  const archived = await readCodeCatalystArchive(dir);
  const diff = diffArchive(archived, source as unknown as Array<Record<string, unknown>>);
  expect({
    archived: archived.length,
    missing: diff.missing.length,
    duplicates: diff.duplicates.length,
    different: diff.different.slice(0, 3),
    extra: diff.extra.length,
  }).toEqual({ archived: source.length, missing: 0, duplicates: 0, different: [], extra: 0 });
}

/** The ledger of a space records every window of [from, to) as swept completely (no gap). */
export async function expectNoGap(
  store: ArchiveStore,
  space: string,
  from: number,
  to: number,
): Promise<void> {
  const table = {
    table: codecatalyst.table,
    partitionKey: codecatalyst.partitionKey,
    partitionValue: codecatalyst.partitionValue(space),
  };
  const days: string[] = [];
  for (let t = Math.floor(from / DAY_MS) * DAY_MS; t < to; t += DAY_MS) days.push(utcDay(t));
  const ledger = await readLedgerDays(store, table, days);
  const report = coverageOf(ledger, {
    source: codecatalyst.name,
    instance: space,
    from,
    to,
    sliceMs: HOUR_MS,
    lookbackMs: 2 * HOUR_MS,
  });
  expect(report.windows.missing, JSON.stringify(report.runs.filter((r) => r.status === 'missing'))).toBe(0);
}
