/**
 * Sealing: at the end of every ingest run (inside the lease), each day after the chain's last sealed
 * day whose every window is final in the ledger gets its digest, in day order (the format is
 * lambdas/core/digest.ts). A day rewritten after it was sealed gets a superseding digest, and days
 * archived before the chain's first day extend it back.
 */
import { ArchiveError, iso, utcDay } from '@eventlog-archive/shared';
import { parquetMetadata } from 'hyparquet';
import {
  DIGEST_FORMAT_VERSION,
  type DigestDocument,
  type DigestObject,
  digestKey,
  digestPrefix,
  nextDay,
  previousDay,
  sequenceOfDigestKey,
  serializeDigest,
  sha256Hex,
  signDigest,
} from '../../core/digest';
import type { DigestSigner } from '../../core/digest-signer';
import { instanceDataPrefix, type TableLocation } from '../../core/layout';
import { dayFinal, type LedgerDay, listLedgerDays, readLedgerDays } from '../../core/ledger';
import { type ArchiveStore, isPreconditionFailed } from '../../core/store';

/** The data objects of one instance-day as they are now: listed, read, hashed, their rows counted. */
export async function dayObjects(
  store: ArchiveStore,
  table: TableLocation,
  day: string,
): Promise<DigestObject[]> {
  const out: DigestObject[] = [];
  for await (const listed of store.list(`${instanceDataPrefix(table)}dt=${day}/`)) {
    const object = await store.get(listed.key);
    if (!object) continue;
    out.push({
      key: listed.key,
      sha256: sha256Hex(object.body),
      events: parquetRows(object.body),
      bytes: object.body.byteLength,
    });
  }
  return out;
}

function parquetRows(body: Uint8Array): number {
  try {
    return Number(parquetMetadata(body).num_rows);
  } catch {
    // Not a Parquet file (nothing the pipeline wrote): sealed with its hash, counted as no events.
    return 0;
  }
}

interface ChainEntry {
  sequence: number;
  bytes: Uint8Array;
  doc: DigestDocument;
}

export interface SealRequest {
  store: ArchiveStore;
  table: TableLocation;
  source: string;
  instance: string;
  signer: DigestSigner;
  sliceMs: number;
  lookbackMs: number;
  now: () => number;
  /** Ledger documents already read (fresh); other days are read from the store. */
  ledger?: ReadonlyMap<string, LedgerDay>;
  /** Days this run rewrote or may have rewritten: an already sealed one gets a superseding digest if its objects changed. */
  touchedDays?: readonly string[];
  /** Test hook after each digest write (throwing simulates a crash there). */
  onDigestWritten?: (day: string) => void | Promise<void>;
}

export interface SealResult {
  /** The last day the chain seals after this step, null when none. */
  through: string | null;
  /** Digests this step wrote. */
  digests: number;
}

/**
 * Appends digests, strictly one after the other, for (1) sealed days whose objects changed and (2)
 * every day after the chain's last sealed day that is final, up to the first that is not. The chain's
 * head is found by listing, so a crash between two writes leaves a valid, shorter chain.
 */
export async function sealDigests(request: SealRequest): Promise<SealResult> {
  const chain = await DigestChain.open(request);
  const lastSealed = await chain.lastSealedDay();
  if (lastSealed !== undefined) await resealRewrittenDays(chain, lastSealed);
  const through = await sealFinalDays(chain, lastSealed);
  if (through !== undefined) await sealEarlierDays(chain);
  return { through: through ?? null, digests: chain.written };
}

/** One instance's digest chain as this step sees and extends it: listed once, read as needed. */
class DigestChain {
  /** Digests written by this step. */
  written = 0;
  private readonly cache = new Map<number, ChainEntry>();
  private head: ChainEntry | undefined;

  private constructor(
    readonly request: SealRequest,
    /** The sequences listed, ascending (those appended since are not in it). */
    readonly sequences: readonly number[],
  ) {}

  /** Lists the chain and reads its head. */
  static async open(request: SealRequest): Promise<DigestChain> {
    const sequences: number[] = [];
    for await (const object of request.store.list(digestPrefix(request.table))) {
      const sequence = sequenceOfDigestKey(object.key);
      if (sequence !== undefined) sequences.push(sequence);
    }
    sequences.sort((a, b) => a - b);
    const chain = new DigestChain(request, sequences);
    chain.head = sequences.length > 0 ? await chain.read(sequences[sequences.length - 1]!) : undefined;
    return chain;
  }

  /** A digest of the chain, read once. */
  async read(sequence: number): Promise<ChainEntry> {
    const cached = this.cache.get(sequence);
    if (cached) return cached;
    const key = digestKey(this.request.table, sequence);
    const object = await this.request.store.get(key);
    if (!object) throw new ArchiveError(`${key}: listed but missing; the chain cannot be extended`);
    let doc: DigestDocument;
    try {
      doc = JSON.parse(Buffer.from(object.body).toString('utf8')) as DigestDocument;
    } catch {
      throw new ArchiveError(`${key}: is not JSON; the chain cannot be extended (run verify)`);
    }
    if (doc.sequence !== sequence || typeof doc.day !== 'string')
      throw new ArchiveError(
        `${key}: does not hold digest ${sequence}; the chain cannot be extended (run verify)`,
      );
    const entry = { sequence, bytes: object.body, doc };
    this.cache.set(sequence, entry);
    return entry;
  }

  /** The last sealed day: that of the newest digest that seals a new day (superseding ones re-seal old days). */
  async lastSealedDay(): Promise<string | undefined> {
    for (let i = this.sequences.length - 1; i >= 0; i--) {
      const entry = await this.read(this.sequences[i]!);
      if (entry.doc.supersedes === undefined && entry.doc.extendsBack !== true) return entry.doc.day;
    }
    return undefined;
  }

  /** Signs and writes the next digest, create-only (a retry that meets its own earlier write is fine). */
  async append(
    day: string,
    objects: DigestObject[],
    link: { supersedes?: number; extendsBack?: true } = {},
  ): Promise<void> {
    const { request, head } = this;
    const { store, table } = request;
    const sequence = (head?.sequence ?? 0) + 1;
    const doc = await signDigest(
      {
        version: DIGEST_FORMAT_VERSION,
        source: request.source,
        instance: request.instance,
        table: table.table,
        partition: { key: table.partitionKey, value: table.partitionValue },
        day,
        sequence,
        previousSequence: head?.sequence ?? null,
        previousDigestSha256: head ? sha256Hex(head.bytes) : null,
        ...(link.supersedes !== undefined ? { supersedes: link.supersedes } : {}),
        ...(link.extendsBack ? { extendsBack: true as const } : {}),
        createdAt: iso(request.now()),
        objects,
        events: objects.reduce((sum, o) => sum + o.events, 0),
      },
      request.signer,
    );
    const bytes = serializeDigest(doc);
    const key = digestKey(table, sequence);
    try {
      await store.put(key, bytes, { ifNoneMatch: true, contentType: 'application/json' });
    } catch (err) {
      // A retried write whose first attempt took effect meets itself; anything else is another writer.
      const existing = isPreconditionFailed(err) ? await store.get(key) : undefined;
      if (!existing || Buffer.compare(Buffer.from(existing.body), Buffer.from(bytes)) !== 0) throw err;
    }
    this.head = { sequence, bytes, doc };
    this.cache.set(sequence, this.head);
    this.written++;
    await request.onDigestWritten?.(day);
  }
}

/** (1) Sealed days rewritten since their digest get a superseding one: the newest digest of the day governs. */
async function resealRewrittenDays(chain: DigestChain, lastSealed: string): Promise<void> {
  const { request, sequences } = chain;
  const touched = [...new Set(request.touchedDays ?? [])].filter((d) => d <= lastSealed).sort();
  const governing = new Map<string, ChainEntry>();
  for (let i = sequences.length - 1; i >= 0 && governing.size < touched.length; i--) {
    const entry = await chain.read(sequences[i]!);
    if (touched.includes(entry.doc.day) && !governing.has(entry.doc.day)) governing.set(entry.doc.day, entry);
  }
  for (const day of touched) {
    const sealed = governing.get(day);
    if (!sealed) continue; // before the chain's first day: never sealed
    const objects = await dayObjects(request.store, request.table, day);
    if (!sameObjects(objects, sealed.doc.objects))
      await chain.append(day, objects, { supersedes: sealed.sequence });
  }
}

/** (2) New days, in order, while final. Returns the chain's last sealed day after them. */
async function sealFinalDays(
  chain: DigestChain,
  lastSealed: string | undefined,
): Promise<string | undefined> {
  const { request } = chain;
  const { store, table } = request;
  let day: string | undefined;
  let notBefore: number | undefined;
  if (lastSealed !== undefined) day = nextDay(lastSealed);
  else {
    const days = await listLedgerDays(store, table);
    day = days[0];
    if (day !== undefined) {
      const first = (request.ledger?.get(day) ?? (await readLedgerDays(store, table, [day])).get(day))
        ?.windows;
      const firstWindow = Object.keys(first ?? {}).sort()[0];
      notBefore = firstWindow ? Date.parse(firstWindow) : undefined;
    }
  }
  const today = utcDay(request.now());
  let through = lastSealed;
  while (day !== undefined && day <= today) {
    const doc = request.ledger?.get(day) ?? (await readLedgerDays(store, table, [day])).get(day);
    if (!dayFinal(doc, day, { sliceMs: request.sliceMs, lookbackMs: request.lookbackMs, notBefore })) break;
    await chain.append(day, await dayObjects(store, table, day));
    through = day;
    notBefore = undefined;
    day = nextDay(day);
  }
  return through;
}

/**
 * (3) Days before the chain's first day, newest first, while the ledger holds them final: a later run
 * archived an explicit range older than the first backfill. Their digests extend the chain back
 * (`extendsBack`), so verify can require every old enough day with data to be sealed.
 */
async function sealEarlierDays(chain: DigestChain): Promise<void> {
  const { request, sequences } = chain;
  const { store, table } = request;
  const ledgerDays = await listLedgerDays(store, table);
  const earliest = ledgerDays[0];
  const start = sequences[0] !== undefined ? (await chain.read(sequences[0])).doc.day : undefined;
  if (earliest === undefined || start === undefined || earliest >= start) return;
  let first = start;
  for (const sequence of sequences) {
    const { doc } = await chain.read(sequence);
    if (doc.extendsBack === true && doc.day < first) first = doc.day;
  }
  for (let day = previousDay(first); day >= earliest; day = previousDay(day)) {
    const doc = request.ledger?.get(day) ?? (await readLedgerDays(store, table, [day])).get(day);
    const firstWindow = day === earliest ? Object.keys(doc?.windows ?? {}).sort()[0] : undefined;
    const notBefore = firstWindow ? Date.parse(firstWindow) : undefined;
    if (!dayFinal(doc, day, { sliceMs: request.sliceMs, lookbackMs: request.lookbackMs, notBefore })) return;
    await chain.append(day, await dayObjects(store, table, day), { extendsBack: true });
  }
}

function sameObjects(a: readonly DigestObject[], b: readonly DigestObject[]): boolean {
  const key = (list: readonly DigestObject[]): string =>
    list
      .map((o) => `${o.key} ${o.sha256}`)
      .sort()
      .join('\n');
  return key(a) === key(b);
}
