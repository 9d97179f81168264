/**
 * Integrity digests, modelled on CloudTrail log file validation. Per source instance the archive keeps
 * an append-only chain of signed digest objects, one per sealed UTC day:
 * `_digests/<table>/<key>=<value>/<sequence, 10 digits>.json`. Each lists the day's data objects with
 * their SHA-256 and event count and carries the SHA-256 of the previous digest's stored bytes, so the
 * chain proves order and absence: a day without events gets a digest with no objects.
 *
 * A day is sealed once every window of it is final in the ledger. When a later run rewrites a sealed
 * day (an explicit re-ingest that found new events), a new digest for that day is appended with
 * `supersedes` naming the earlier one: digests are never rewritten (Object Lock keeps them so), and
 * for each day the newest digest governs which data objects must exist.
 */
import { createHash, type KeyObject, verify as verifySignature } from 'node:crypto';
import { ArchiveError, DAY_MS, dayStart, iso, utcDay } from '@eventlog-archive/shared';
import { parquetMetadata } from 'hyparquet';
import { instanceDataPrefix, type TableLocation } from '../../core/layout';
import {
  type LedgerDay,
  listLedgerDays,
  readLedgerDays,
  WindowStatus,
  windowStatus,
} from '../../core/ledger';
import { type ArchiveStore, isPreconditionFailed } from '../../core/store';
import { DIGEST_SIGNING_ALGORITHM, type DigestSigner, publicKeyFingerprint } from './digest-signer';

export const DIGEST_ROOT = '_digests';
export const DIGEST_FORMAT_VERSION = 1;

export interface DigestObject {
  key: string;
  /** Hex SHA-256 of the object's bytes. */
  sha256: string;
  events: number;
  bytes: number;
}

export interface DigestDocument {
  version: typeof DIGEST_FORMAT_VERSION;
  source: string;
  instance: string;
  table: string;
  partition: { key: string; value: string };
  day: string;
  sequence: number;
  previousSequence: number | null;
  /** Hex SHA-256 of the exact stored bytes of the previous digest object; null for sequence 1. */
  previousDigestSha256: string | null;
  /** Set when this digest re-seals a day: the sequence of the digest it replaces for that day. */
  supersedes?: number;
  createdAt: string;
  objects: DigestObject[];
  events: number;
  signing: { algorithm: typeof DIGEST_SIGNING_ALGORITHM; keyId: string; publicKeyFingerprint: string };
  /** Base64 DER ECDSA P-256 signature over the SHA-256 of the canonical document without this field. */
  signature?: string;
}

/** The folder of an instance's digest chain. */
export function digestPrefix(t: TableLocation): string {
  return `${DIGEST_ROOT}/${t.table}/${t.partitionKey}=${t.partitionValue}/`;
}

export function digestKey(t: TableLocation, sequence: number): string {
  return `${digestPrefix(t)}${String(sequence).padStart(10, '0')}.json`;
}

/** `…/0000000042.json` → 42. */
export function sequenceOfDigestKey(key: string): number | undefined {
  const match = /\/(\d{10})\.json$/.exec(key);
  return match ? Number(match[1]) : undefined;
}

/** `…/dt=2024-05-01/events.parquet` → `2024-05-01`. */
export function dayOfDataKey(key: string): string | undefined {
  return /\/dt=(\d{4}-\d{2}-\d{2})\//.exec(key)?.[1];
}

/**
 * The one serialization that is signed and verified: JSON with object keys sorted at every level, no
 * whitespace, `undefined` members dropped.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, sortKeys(v)]),
    );
  return value;
}

/** The bytes a digest's signature covers: its canonical form without `signature`. */
export function signedBytes(doc: DigestDocument): Uint8Array {
  const { signature: _signature, ...body } = doc;
  return new TextEncoder().encode(canonicalJson(body));
}

/** The stored form: sorted keys, one member per line, for people who open the file. */
export function serializeDigest(doc: DigestDocument): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(sortKeys(doc), null, 1)}\n`);
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Signs a digest document in place: the signing info first (it is part of what is signed). */
export async function signDigest(
  body: Omit<DigestDocument, 'signing' | 'signature'>,
  signer: DigestSigner,
): Promise<DigestDocument> {
  const doc: DigestDocument = {
    ...body,
    signing: {
      algorithm: DIGEST_SIGNING_ALGORITHM,
      keyId: signer.keyId,
      publicKeyFingerprint: publicKeyFingerprint(await signer.publicKey()),
    },
  };
  const signature = await signer.sign(signedBytes(doc));
  return { ...doc, signature: Buffer.from(signature).toString('base64') };
}

/** True when the signature is a valid ECDSA_SHA_256 signature of the document by `publicKey`. */
export function signatureValid(doc: DigestDocument, publicKey: KeyObject): boolean {
  if (typeof doc.signature !== 'string') return false;
  try {
    return verifySignature(
      'sha256',
      signedBytes(doc),
      { key: publicKey, dsaEncoding: 'der' },
      Buffer.from(doc.signature, 'base64'),
    );
  } catch {
    return false;
  }
}

export function nextDay(day: string): string {
  return utcDay(dayStart(day) + DAY_MS);
}

/**
 * Whether the ledger holds every window of the day as final, from `notBefore` on (the chain's first
 * day starts at the first window ever recorded: a first backfill starts mid-day).
 */
export function dayFinal(
  doc: LedgerDay | undefined,
  day: string,
  options: { sliceMs: number; lookbackMs: number; notBefore?: number },
): boolean {
  if (!doc) return false;
  const start = Math.max(dayStart(day), options.notBefore ?? 0);
  const end = dayStart(day) + DAY_MS;
  if (start >= end) return false;
  for (let t = start; t < end; t += options.sliceMs)
    if (windowStatus(doc.windows[iso(t)], options.lookbackMs) !== WindowStatus.Final) return false;
  return true;
}

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
  const { store, table } = request;
  const sequences: number[] = [];
  for await (const object of store.list(digestPrefix(table))) {
    const sequence = sequenceOfDigestKey(object.key);
    if (sequence !== undefined) sequences.push(sequence);
  }
  sequences.sort((a, b) => a - b);
  const cache = new Map<number, ChainEntry>();
  const read = async (sequence: number): Promise<ChainEntry> => {
    const cached = cache.get(sequence);
    if (cached) return cached;
    const key = digestKey(table, sequence);
    const object = await store.get(key);
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
    cache.set(sequence, entry);
    return entry;
  };

  let head = sequences.length > 0 ? await read(sequences[sequences.length - 1]!) : undefined;
  // The last sealed day: that of the newest digest that seals a new day (superseding ones re-seal old days).
  let lastSealed: string | undefined;
  for (let i = sequences.length - 1; i >= 0; i--) {
    const entry = await read(sequences[i]!);
    if (entry.doc.supersedes === undefined) {
      lastSealed = entry.doc.day;
      break;
    }
  }

  let written = 0;
  const append = async (day: string, objects: DigestObject[], supersedes?: number): Promise<void> => {
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
        ...(supersedes !== undefined ? { supersedes } : {}),
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
    head = { sequence, bytes, doc };
    cache.set(sequence, head);
    written++;
    await request.onDigestWritten?.(day);
  };

  // (1) Sealed days rewritten since their digest: the newest digest of the day governs.
  if (lastSealed !== undefined) {
    const touched = [...new Set(request.touchedDays ?? [])].filter((d) => d <= lastSealed!).sort();
    const governing = new Map<string, ChainEntry>();
    for (let i = sequences.length - 1; i >= 0 && governing.size < touched.length; i--) {
      const entry = await read(sequences[i]!);
      if (touched.includes(entry.doc.day) && !governing.has(entry.doc.day))
        governing.set(entry.doc.day, entry);
    }
    for (const day of touched) {
      const sealed = governing.get(day);
      if (!sealed) continue; // before the chain's first day: never sealed
      const objects = await dayObjects(store, table, day);
      if (!sameObjects(objects, sealed.doc.objects)) await append(day, objects, sealed.sequence);
    }
  }

  // (2) New days, in order, while final.
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
  while (day !== undefined && day <= today) {
    const doc = request.ledger?.get(day) ?? (await readLedgerDays(store, table, [day])).get(day);
    if (!dayFinal(doc, day, { sliceMs: request.sliceMs, lookbackMs: request.lookbackMs, notBefore })) break;
    await append(day, await dayObjects(store, table, day));
    lastSealed = day;
    notBefore = undefined;
    day = nextDay(day);
  }
  return { through: lastSealed ?? null, digests: written };
}

function sameObjects(a: readonly DigestObject[], b: readonly DigestObject[]): boolean {
  const key = (list: readonly DigestObject[]): string =>
    list
      .map((o) => `${o.key} ${o.sha256}`)
      .sort()
      .join('\n');
  return key(a) === key(b);
}

// ---------------------------------------------------------------------------------------------------
// Verification

export const FindingKind = {
  Added: 'added',
  Removed: 'removed',
  Changed: 'changed',
  MissingDigest: 'missing-digest',
  ReorderedDigest: 'reordered-digest',
  UnsignedDigest: 'unsigned-digest',
  BadSignature: 'bad-signature',
  InvalidDigest: 'invalid-digest',
  /** Data of a day that a run must have sealed by now (see {@link lastDayDueSealed}) that no digest covers. */
  UnsealedData: 'unsealed-data',
  /** Informational: data of days the chain does not seal yet, or of a day whose digest is missing. */
  NotYetSealed: 'not-yet-sealed',
  NotCovered: 'not-covered',
} as const;
export type FindingKind = (typeof FindingKind)[keyof typeof FindingKind];

const INFORMATIONAL: ReadonlySet<FindingKind> = new Set([FindingKind.NotYetSealed, FindingKind.NotCovered]);

export interface Finding {
  kind: FindingKind;
  /** Problems fail `verify`; informational findings do not. */
  problem: boolean;
  day?: string;
  key?: string;
  sequence?: number;
  message: string;
}

function finding(
  kind: FindingKind,
  message: string,
  where: Omit<Finding, 'kind' | 'problem' | 'message'> = {},
): Finding {
  return { kind, problem: !INFORMATIONAL.has(kind), ...where, message };
}

export interface StoredDigest {
  /** The sequence its key names. */
  sequence: number;
  key: string;
  bytes: Uint8Array;
}

/**
 * Every digest object of an instance, in sequence order, as stored. Reads the current (latest)
 * version of each key, which is sound because a digest key never gets a second version from the
 * ingest role: its only PUT to `_digests/` requires `If-None-Match: *` (IAM, archive-access.ts), so
 * the latest version is the one first written; a principal with broader rights who adds a version or
 * a delete marker changes what is read here, which breaks the signature, the link of the next digest
 * or the sequence, and with Object Lock the original version stays retained underneath.
 */
export async function readStoredDigests(store: ArchiveStore, table: TableLocation): Promise<StoredDigest[]> {
  const out: StoredDigest[] = [];
  for await (const listed of store.list(digestPrefix(table))) {
    const sequence = sequenceOfDigestKey(listed.key);
    if (sequence === undefined) continue;
    const object = await store.get(listed.key);
    if (object) out.push({ sequence, key: listed.key, bytes: object.body });
  }
  return out.sort((a, b) => a.sequence - b.sequence);
}

export interface ChainReport {
  findings: Finding[];
  digests: number;
  /** For each sealed day, the newest digest of it (it governs which objects must exist). */
  governing: Map<string, DigestDocument>;
  firstSealedDay?: string;
  lastSealedDay?: string;
}

/** Where a chain is stored: every digest in it must name this table, partition and instance. */
export interface ChainLocation {
  table: TableLocation;
  /** The source name digests must carry (`codecatalyst`, `resiliencehub`). */
  source?: string;
  /** The partition value of an instance (a system ARN is hashed into `<slug>-<hash>`). */
  partitionValueOf?: (instance: string) => string;
}

/**
 * What a digest names when that is not the folder it sits in; undefined when it belongs there. The
 * signature covers these fields, so a digest copied into another instance's folder (where it would
 * verify and link as well as at home) is caught here.
 */
function misplacement(doc: DigestDocument, location: ChainLocation): string | undefined {
  const t = location.table;
  let partitionOfInstance: string | undefined = t.partitionValue;
  if (location.partitionValueOf) {
    try {
      partitionOfInstance =
        typeof doc.instance === 'string' ? location.partitionValueOf(doc.instance) : undefined;
    } catch {
      partitionOfInstance = undefined;
    }
  }
  const matches =
    doc.table === t.table &&
    doc.partition?.key === t.partitionKey &&
    doc.partition?.value === t.partitionValue &&
    (location.source === undefined || doc.source === location.source) &&
    partitionOfInstance === t.partitionValue;
  if (matches) return undefined;
  return `${String(doc.source)} ${String(doc.instance)} (${String(doc.table)}/${String(doc.partition?.key)}=${String(doc.partition?.value)})`;
}

/**
 * Checks a chain: each digest parses and sits at the key its sequence names, is signed by the
 * trusted key (the same key for the whole chain), links to the stored bytes of its predecessor,
 * sequences run from 1 without gaps, and days follow each other without gaps (a superseding digest
 * re-seals an earlier day). With `location`, each digest must also name the table, partition and
 * instance of the folder it is in.
 */
export async function verifyChain(
  digests: readonly StoredDigest[],
  publicKeyFor: (doc: DigestDocument) => Promise<KeyObject>,
  location?: ChainLocation,
): Promise<ChainReport> {
  const findings: Finding[] = [];
  const governing = new Map<string, DigestDocument>();
  const sealedAt = new Map<number, string>();
  let expected = 1;
  let previous: StoredDigest | undefined;
  let firstSealedDay: string | undefined;
  let lastSealedDay: string | undefined;
  let chainFingerprint: string | undefined;
  for (const stored of digests) {
    const { sequence, key } = stored;
    if (sequence > expected) {
      const range =
        sequence - 1 > expected ? `digests ${expected} to ${sequence - 1} are` : `digest ${expected} is`;
      findings.push(
        finding(FindingKind.MissingDigest, `${range} missing (deleted?) before ${key}`, {
          sequence: expected,
        }),
      );
    }
    expected = sequence + 1;
    const linked = previous?.sequence === sequence - 1 ? previous : undefined;
    previous = stored;

    let doc: DigestDocument;
    try {
      doc = JSON.parse(Buffer.from(stored.bytes).toString('utf8')) as DigestDocument;
      if (
        doc?.version !== DIGEST_FORMAT_VERSION ||
        typeof doc.day !== 'string' ||
        !Array.isArray(doc.objects)
      )
        throw new Error('not a version 1 digest');
    } catch (err) {
      findings.push(
        finding(FindingKind.InvalidDigest, `${key}: ${(err as Error).message}`, { key, sequence }),
      );
      continue;
    }
    const where = { key, sequence, day: doc.day };
    const elsewhere = location ? misplacement(doc, location) : undefined;
    if (elsewhere)
      findings.push(
        finding(
          FindingKind.ReorderedDigest,
          `${key}: is a digest of ${elsewhere}, not of the folder it is in (copied or moved from another chain)`,
          where,
        ),
      );

    if (typeof doc.signature !== 'string' || doc.signature === '') {
      findings.push(finding(FindingKind.UnsignedDigest, `${key}: has no signature`, where));
    } else {
      let publicKey: KeyObject | undefined;
      try {
        publicKey = await publicKeyFor(doc);
      } catch (err) {
        findings.push(
          finding(
            FindingKind.BadSignature,
            `${key}: no public key to check it with: ${(err as Error).message}`,
            where,
          ),
        );
      }
      if (publicKey) {
        const fingerprint = publicKeyFingerprint(publicKey);
        chainFingerprint ??= fingerprint;
        if (fingerprint !== chainFingerprint)
          findings.push(
            finding(
              FindingKind.BadSignature,
              `${key}: signed with a different key than the rest of the chain`,
              where,
            ),
          );
        else if (doc.signing?.publicKeyFingerprint !== fingerprint)
          findings.push(
            finding(
              FindingKind.BadSignature,
              `${key}: signed with another key (fingerprint ${String(doc.signing?.publicKeyFingerprint).slice(0, 16)}…), not the trusted key (${fingerprint.slice(0, 16)}…)`,
              where,
            ),
          );
        else if (!signatureValid(doc, publicKey))
          findings.push(
            finding(
              FindingKind.BadSignature,
              `${key}: the signature does not match the content and the trusted key`,
              where,
            ),
          );
      }
    }

    if (doc.sequence !== sequence)
      findings.push(
        finding(FindingKind.ReorderedDigest, `${key}: holds digest ${doc.sequence}, not ${sequence}`, where),
      );
    if (sequence === 1) {
      if (doc.previousDigestSha256 !== null || doc.previousSequence !== null)
        findings.push(
          finding(FindingKind.ReorderedDigest, `${key}: the first digest names a predecessor`, where),
        );
    } else if (linked) {
      if (doc.previousSequence !== sequence - 1 || doc.previousDigestSha256 !== sha256Hex(linked.bytes))
        findings.push(
          finding(
            FindingKind.ReorderedDigest,
            `${key}: does not link to digest ${sequence - 1} as stored (previousDigestSha256 differs: reordered, replaced or changed)`,
            where,
          ),
        );
    }

    if (doc.supersedes !== undefined) {
      if (sealedAt.get(doc.supersedes) !== doc.day)
        findings.push(
          finding(
            FindingKind.ReorderedDigest,
            `${key}: supersedes digest ${doc.supersedes}, which does not seal ${doc.day}`,
            where,
          ),
        );
    } else if (lastSealedDay === undefined) {
      firstSealedDay = doc.day;
      lastSealedDay = doc.day;
    } else if (doc.day <= lastSealedDay) {
      findings.push(
        finding(FindingKind.ReorderedDigest, `${key}: seals ${doc.day}, not after ${lastSealedDay}`, where),
      );
    } else {
      if (doc.day !== nextDay(lastSealedDay)) {
        const from = nextDay(lastSealedDay);
        const to = utcDay(dayStart(doc.day) - DAY_MS);
        findings.push(
          finding(
            FindingKind.MissingDigest,
            `no digest seals ${from === to ? from : `${from} to ${to}`} (deleted?)`,
            {
              day: from,
            },
          ),
        );
      }
      lastSealedDay = doc.day;
    }
    sealedAt.set(doc.sequence, doc.day);
    governing.set(doc.day, doc);
  }
  return {
    findings,
    digests: digests.length,
    governing,
    ...(firstSealedDay ? { firstSealedDay } : {}),
    ...(lastSealedDay ? { lastSealedDay } : {}),
  };
}

export interface DataReport {
  findings: Finding[];
  /** Data objects compared with a digest. */
  checked: number;
}

/**
 * Compares the instance's data objects in [fromDay, toDay] with their days' governing digests:
 * added (not in it), removed (in it, gone), changed (SHA-256 differs). Data after the last sealed
 * day is reported as not yet sealed; data of a day whose digest is missing as not covered.
 */
export async function verifyData(
  store: ArchiveStore,
  table: TableLocation,
  chain: ChainReport,
  range: { fromDay?: string; toDay?: string } = {},
): Promise<DataReport> {
  const inRange = (day: string): boolean =>
    (range.fromDay === undefined || day >= range.fromDay) &&
    (range.toDay === undefined || day <= range.toDay);
  const actual = new Map<string, string[]>();
  for await (const listed of store.list(instanceDataPrefix(table))) {
    const day = dayOfDataKey(listed.key);
    if (day === undefined || !inRange(day)) continue;
    actual.set(day, [...(actual.get(day) ?? []), listed.key]);
  }
  const findings: Finding[] = [];
  let checked = 0;
  const days = [...new Set([...actual.keys(), ...[...chain.governing.keys()].filter(inRange)])].sort();
  for (const day of days) {
    const keys = actual.get(day) ?? [];
    const digest = chain.governing.get(day);
    if (!digest) {
      const after = chain.lastSealedDay === undefined || day > chain.lastSealedDay;
      const before = chain.firstSealedDay !== undefined && day < chain.firstSealedDay;
      for (const key of keys)
        findings.push(
          after || before
            ? finding(FindingKind.NotYetSealed, `${key}: its day is not sealed by a digest yet`, { day, key })
            : finding(
                FindingKind.NotCovered,
                `${key}: its day's digest is missing, so it cannot be checked`,
                { day, key },
              ),
        );
      continue;
    }
    const expected = new Map(digest.objects.map((o) => [o.key, o]));
    for (const key of keys) {
      const sealed = expected.get(key);
      if (!sealed) {
        findings.push(
          finding(FindingKind.Added, `${key}: not in digest ${digest.sequence} of ${day}`, { day, key }),
        );
        continue;
      }
      checked++;
      const object = await store.get(key);
      if (!object) {
        findings.push(finding(FindingKind.Removed, `${key}: listed but gone`, { day, key }));
        continue;
      }
      if (sha256Hex(object.body) !== sealed.sha256)
        findings.push(
          finding(FindingKind.Changed, `${key}: SHA-256 differs from digest ${digest.sequence} of ${day}`, {
            day,
            key,
          }),
        );
    }
    for (const key of expected.keys())
      if (!keys.includes(key))
        findings.push(
          finding(FindingKind.Removed, `${key}: in digest ${digest.sequence} of ${day}, but missing`, {
            day,
            key,
          }),
        );
  }
  return { findings, checked };
}

/**
 * The tail: deleting the newest digests leaves a valid, shorter chain. The ledger tells which days
 * are final; a final day after the last sealed one that has been final for longer than `graceMs`
 * (a later run would have sealed it) is reported as a missing digest. Editing the ledger as well
 * defeats this, as deleting CloudTrail's newest digest files does; Object Lock prevents both.
 */
export function tailFindings(
  ledger: ReadonlyMap<string, LedgerDay>,
  chain: Pick<ChainReport, 'lastSealedDay'>,
  options: { sliceMs: number; lookbackMs: number; graceMs: number; now: number },
): Finding[] {
  const days = [...ledger.keys()].sort();
  let day = chain.lastSealedDay !== undefined ? nextDay(chain.lastSealedDay) : days[0];
  let notBefore: number | undefined;
  if (chain.lastSealedDay === undefined && day !== undefined) {
    const first = Object.keys(ledger.get(day)?.windows ?? {}).sort()[0];
    notBefore = first ? Date.parse(first) : undefined;
  }
  const findings: Finding[] = [];
  while (day !== undefined && dayFinal(ledger.get(day), day, { ...options, notBefore })) {
    const sweeps = Object.values(ledger.get(day)!.windows).map((w) => Date.parse(w.sweptAt));
    const finalSince = Math.max(...sweeps);
    if (finalSince + options.graceMs <= options.now)
      findings.push(
        finding(
          FindingKind.MissingDigest,
          `no digest seals ${day}, final in the ledger since ${iso(finalSince)} (newest digests deleted, or no run has sealed since)`,
          { day },
        ),
      );
    day = nextDay(day);
    notBefore = undefined;
  }
  return findings;
}

/**
 * The last UTC day a run must have sealed by `now`. A day's windows are all final once its last one
 * is past the lookback (the day's end plus `lookbackMs`), and the next run seals it; `graceMs` is the
 * time allowed for that run. Derived from the clock alone: the ledger is unsigned, so whoever can
 * rewrite it (mark windows incomplete) must not be able to decide which days need a digest.
 */
export function lastDayDueSealed(now: number, options: { lookbackMs: number; graceMs: number }): string {
  return utcDay(now - options.lookbackMs - options.graceMs - DAY_MS);
}

/**
 * Data no digest covers, judged by its day alone: an object of a day up to {@link lastDayDueSealed}
 * that is not sealed (after the chain's last day, before its first, or in a gap of it) is a problem,
 * `UNSEALED-DATA`, whatever the ledger says; newer unsealed data stays a note. An instance with such
 * data and no digest at all (its digest folder empty or deleted) gets one `MISSING-DIGEST` finding
 * for the whole chain. `findings` are {@link verifyData}'s; the others pass through unchanged.
 */
export function dueSealFindings(
  findings: readonly Finding[],
  chain: Pick<ChainReport, 'digests'>,
  options: { now: number; lookbackMs: number; graceMs: number; digestFolder: string },
): Finding[] {
  const due = lastDayDueSealed(options.now, options);
  const out: Finding[] = [];
  const dueDays = new Set<string>();
  for (const f of findings) {
    const unsealed = f.kind === FindingKind.NotYetSealed || f.kind === FindingKind.NotCovered;
    if (!unsealed || f.day === undefined || f.day > due) {
      out.push(f);
      continue;
    }
    dueDays.add(f.day);
    out.push(
      finding(
        FindingKind.UnsealedData,
        `${f.key}: no digest covers its day ${f.day}, which was due to be sealed by ${iso(dayStart(f.day) + DAY_MS + options.lookbackMs + options.graceMs)} (digests deleted, or no run has sealed since)`,
        { day: f.day, ...(f.key !== undefined ? { key: f.key } : {}) },
      ),
    );
  }
  if (chain.digests === 0 && dueDays.size > 0) {
    const days = [...dueDays].sort();
    out.unshift(
      finding(
        FindingKind.MissingDigest,
        `no digest chain: ${options.digestFolder} holds no digest, but the instance has data of ${days.length} day${days.length === 1 ? '' : 's'} (${days[0]}${days.length > 1 ? ` to ${days.at(-1)}` : ''}) that must be sealed by now`,
        { day: days[0]! },
      ),
    );
  }
  return out;
}
