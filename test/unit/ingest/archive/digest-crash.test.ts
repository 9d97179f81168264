/** Crashes at every commit step, the digest writes included: the rerun leaves a valid chain and the archive equal to the source. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readStoredDigests } from '../../../../lambdas/core/digest';
import { type LocalDigestSigner, loadOrCreateKeyFile } from '../../../../lambdas/core/digest-signer';
import { verifyChain, verifyData } from '../../../../lambdas/core/digest-verify';
import { instanceDataPrefix } from '../../../../lambdas/core/layout';
import { LocalStore } from '../../../../lambdas/core/local-store';
import { decodeParquet } from '../../../../lambdas/core/parquet';
import { type ArchiveRecord, canonicalJson } from '../../../../lambdas/core/records';
import {
  type CommitStep,
  type IngestRequest,
  ingestInstance,
} from '../../../../lambdas/ingest/ingest-instance';
import { codecatalyst } from '../../../../lambdas/ingest/sources/codecatalyst';
import { DAY_MS, HOUR_MS } from '../../../../lambdas/shared/src/time';
import { FakeSource, record } from '../fake-source';

const NOW = Date.UTC(2024, 4, 10, 12, 0, 0);
const table = { table: codecatalyst.table, partitionKey: 'space', partitionValue: 'acme' };
let dir: string;
let store: LocalStore;
let source: FakeSource;
let signer: LocalDigestSigner;

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'digest-crash-'));
  store = new LocalStore(dir);
  source = new FakeSource();
  signer = await loadOrCreateKeyFile(path.join(dir, '_keys/digest-signing-key.pem'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function run(overrides: Partial<IngestRequest> = {}): ReturnType<typeof ingestInstance> {
  return ingestInstance({
    source: codecatalyst,
    instance: 'acme',
    store,
    client: source,
    signer,
    now: () => NOW,
    settings: { backfillDays: 4, maxConcurrency: 4 },
    retry: { baseMs: 1, throttleBaseMs: 1 },
    ...overrides,
  });
}

function events(count: number, from: number, to: number, prefix = 'e'): ArchiveRecord[] {
  return Array.from({ length: count }, (_, i) =>
    record(`${prefix}${String(i).padStart(5, '0')}`, from + Math.floor(((to - from) * i) / count)),
  );
}

async function expectArchiveEquals(expected: ArchiveRecord[]): Promise<void> {
  const actual: ArchiveRecord[] = [];
  for await (const object of store.list(instanceDataPrefix(table)))
    actual.push(...(await decodeParquet(codecatalyst.fields, (await store.get(object.key))!.body)));
  const canon = (rs: ArchiveRecord[]): string[] =>
    rs.map((r) => canonicalJson(codecatalyst.fields, r)).sort();
  expect(canon(actual)).toEqual(canon(expected));
}

async function expectValidChain(lastSealedDay: string): Promise<void> {
  const chain = await verifyChain(await readStoredDigests(store, table), async () => signer.publicKey());
  const data = await verifyData(store, table, chain);
  expect([...chain.findings, ...data.findings].filter((f) => f.problem)).toEqual([]);
  expect(chain.lastSealedDay).toBe(lastSealedDay);
}

function crashAt(step: CommitStep, nth: number): { onStep: IngestRequest['onStep']; crashed: () => boolean } {
  let seen = 0;
  let crashed = false;
  return {
    crashed: () => crashed,
    onStep: (s) => {
      if (s === step && ++seen === nth) {
        crashed = true;
        throw new Error(`crash after ${s}`);
      }
    },
  };
}

describe('crash and rerun', () => {
  it.each<[CommitStep, number]>([
    ['fetched', 2],
    ['merged', 2],
    ['data-written', 3],
    ['ledger-written', 3],
    ['digest-written', 1],
    ['digest-written', 2],
    ['digest-written', 4],
  ])('after %s (#%i): the rerun completes the chain; the archive equals the source', async (step, nth) => {
    const all = events(600, NOW - 4 * DAY_MS, NOW - HOUR_MS);
    source.add('acme', all);
    const crash = crashAt(step, nth);
    const first = await run({ onStep: crash.onStep, settings: { backfillDays: 4, maxConcurrency: 1 } });
    expect(crash.crashed()).toBe(true);
    expect(first.status).toBe('partial');
    const rerun = await run({ now: () => NOW + 5 * 60_000 });
    expect(rerun.status).toBe('complete');
    await expectValidChain('2024-05-09');
    await expectArchiveEquals(all);
  });

  it('a crash between rewriting a sealed day and its new digest: rerunning the same re-ingest seals it', async () => {
    const all = events(400, NOW - 4 * DAY_MS, NOW - HOUR_MS);
    source.add('acme', all);
    await run();
    const late = [record('late-1', Date.UTC(2024, 4, 8, 7, 15))];
    source.add('acme', late);
    const range = { from: Date.UTC(2024, 4, 8), to: Date.UTC(2024, 4, 9) };
    const crash = crashAt('data-written', 1);
    // The process dies before its seal step: here the step fails (KMS unreachable) instead.
    const unreachable = {
      keyId: signer.keyId,
      publicKey: () => signer.publicKey(),
      sign: () => Promise.reject(new Error('KMS unreachable')),
    };
    const crashed = await run({
      ...range,
      onStep: crash.onStep,
      signer: unreachable,
      now: () => NOW + 60_000,
    });
    expect(crash.crashed()).toBe(true);
    expect(crashed.failures).toContainEqual(expect.stringMatching(/^seal: Error: KMS unreachable/));
    // The data object changed without a digest: verify would call it changed until the rerun.
    const rerun = await run({ ...range, now: () => NOW + 120_000 });
    expect(rerun.sealed).toEqual({ through: '2024-05-09', digests: 1 });
    await expectValidChain('2024-05-09');
    await expectArchiveEquals([...all, ...late]);
  });
});
