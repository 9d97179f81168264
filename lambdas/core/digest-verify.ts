/**
 * Verification of digest chains and of the data objects they seal, as `aws cloudtrail validate-logs`
 * does: what `verify` (and any reader that must prove the archive intact) runs. Reads only; the
 * format is digest.ts. This file checks a chain; digest-verify-data.ts checks the data it seals.
 */
import type { KeyObject } from 'node:crypto';
import { DAY_MS, dayStart, utcDay } from '@eventlog-archive/shared';
import {
  DIGEST_FORMAT_VERSION,
  type DigestDocument,
  nextDay,
  previousDay,
  type StoredDigest,
  sha256Hex,
  signatureValid,
} from './digest';
import { type Finding, FindingKind, finding } from './digest-findings';
import { publicKeyFingerprint } from './digest-signer';
import type { TableLocation } from './layout';

export { type Finding, FindingKind } from './digest-findings';
export {
  type DataCheckOptions,
  type DataReport,
  dueSealFindings,
  lastDayDueSealed,
  tailFindings,
  verifyData,
} from './digest-verify-data';

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

/** What the checks of a chain carry from one digest to the next. */
interface ChainWalk {
  findings: Finding[];
  governing: Map<string, DigestDocument>;
  /** The day each digest (by sequence) seals. */
  sealedAt: Map<number, string>;
  /** The sequence the next digest should have. */
  expected: number;
  previous?: StoredDigest;
  firstSealedDay?: string;
  lastSealedDay?: string;
  /** The fingerprint of the key the chain's first checkable digest is signed with. */
  chainFingerprint?: string;
}

/** Where a finding about one parsed digest is. */
interface DigestPlace {
  key: string;
  sequence: number;
  day: string;
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
  const walk: ChainWalk = { findings: [], governing: new Map(), sealedAt: new Map(), expected: 1 };
  for (const stored of digests) {
    const linked = sequenceGap(stored, walk);
    const doc = parseDigest(stored, walk.findings);
    if (!doc) continue;
    const where: DigestPlace = { key: stored.key, sequence: stored.sequence, day: doc.day };
    if (location) placementFindings(doc, location, where, walk.findings);
    await signatureFindings(doc, where, publicKeyFor, walk);
    linkFindings(doc, linked, where, walk.findings);
    dayFindings(doc, where, walk);
    walk.sealedAt.set(doc.sequence, doc.day);
    walk.governing.set(doc.day, doc);
  }
  const { findings, governing, firstSealedDay, lastSealedDay } = walk;
  return {
    findings,
    digests: digests.length,
    governing,
    ...(firstSealedDay ? { firstSealedDay } : {}),
    ...(lastSealedDay ? { lastSealedDay } : {}),
  };
}

/**
 * Reports the digests missing before `stored` (a gap in the sequences) and moves the walk past it.
 * Returns the stored digest it must link to, when that is the one just before it.
 */
function sequenceGap(stored: StoredDigest, walk: ChainWalk): StoredDigest | undefined {
  const { sequence, key } = stored;
  const expected = walk.expected;
  if (sequence > expected) {
    const range =
      sequence - 1 > expected ? `digests ${expected} to ${sequence - 1} are` : `digest ${expected} is`;
    walk.findings.push(
      finding(FindingKind.MissingDigest, `${range} missing (deleted?) before ${key}`, {
        sequence: expected,
      }),
    );
  }
  walk.expected = sequence + 1;
  const linked = walk.previous?.sequence === sequence - 1 ? walk.previous : undefined;
  walk.previous = stored;
  return linked;
}

/** The digest's document, or undefined (and an invalid-digest finding) when it is not one. */
function parseDigest(stored: StoredDigest, findings: Finding[]): DigestDocument | undefined {
  const { sequence, key } = stored;
  try {
    const doc = JSON.parse(Buffer.from(stored.bytes).toString('utf8')) as DigestDocument;
    if (doc?.version !== DIGEST_FORMAT_VERSION || typeof doc.day !== 'string' || !Array.isArray(doc.objects))
      throw new Error('not a version 1 digest');
    return doc;
  } catch (err) {
    findings.push(finding(FindingKind.InvalidDigest, `${key}: ${(err as Error).message}`, { key, sequence }));
    return undefined;
  }
}

/** A digest that names another table, partition or instance than the folder it is in. */
function placementFindings(
  doc: DigestDocument,
  location: ChainLocation,
  where: DigestPlace,
  findings: Finding[],
): void {
  const elsewhere = misplacement(doc, location);
  if (elsewhere)
    findings.push(
      finding(
        FindingKind.ReorderedDigest,
        `${where.key}: is a digest of ${elsewhere}, not of the folder it is in (copied or moved from another chain)`,
        where,
      ),
    );
}

/**
 * The digest is signed, by the trusted key, with a valid signature; and by the same key as the rest
 * of the chain (the first key seen pins it).
 */
async function signatureFindings(
  doc: DigestDocument,
  where: DigestPlace,
  publicKeyFor: (doc: DigestDocument) => Promise<KeyObject>,
  walk: ChainWalk,
): Promise<void> {
  const { key } = where;
  if (typeof doc.signature !== 'string' || doc.signature === '') {
    walk.findings.push(finding(FindingKind.UnsignedDigest, `${key}: has no signature`, where));
    return;
  }
  let publicKey: KeyObject;
  try {
    publicKey = await publicKeyFor(doc);
  } catch (err) {
    walk.findings.push(
      finding(
        FindingKind.BadSignature,
        `${key}: no public key to check it with: ${(err as Error).message}`,
        where,
      ),
    );
    return;
  }
  const problem = signatureProblem(doc, publicKey, walk);
  if (problem) walk.findings.push(finding(FindingKind.BadSignature, `${key}: ${problem}`, where));
}

/** What is wrong with the signature of a digest checked with `publicKey`, or undefined. */
function signatureProblem(doc: DigestDocument, publicKey: KeyObject, walk: ChainWalk): string | undefined {
  const fingerprint = publicKeyFingerprint(publicKey);
  walk.chainFingerprint ??= fingerprint;
  if (fingerprint !== walk.chainFingerprint) return 'signed with a different key than the rest of the chain';
  if (doc.signing?.publicKeyFingerprint !== fingerprint)
    return `signed with another key (fingerprint ${String(doc.signing?.publicKeyFingerprint).slice(0, 16)}…), not the trusted key (${fingerprint.slice(0, 16)}…)`;
  if (!signatureValid(doc, publicKey)) return 'the signature does not match the content and the trusted key';
  return undefined;
}

/**
 * The digest holds the sequence of the key it is at, and links to the stored bytes of its
 * predecessor (`linked`, when that is stored); the first one names none.
 */
function linkFindings(
  doc: DigestDocument,
  linked: StoredDigest | undefined,
  where: DigestPlace,
  findings: Finding[],
): void {
  const { key, sequence } = where;
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
}

/**
 * A superseding digest re-seals a day an earlier digest sealed; any other seals the day after the
 * last sealed one (a later day leaves a gap: missing digests). Moves the walk's sealed days on.
 */
function dayFindings(doc: DigestDocument, where: DigestPlace, walk: ChainWalk): void {
  const { key } = where;
  const last = walk.lastSealedDay;
  if (doc.supersedes !== undefined) {
    if (walk.sealedAt.get(doc.supersedes) !== doc.day)
      walk.findings.push(
        finding(
          FindingKind.ReorderedDigest,
          `${key}: supersedes digest ${doc.supersedes}, which does not seal ${doc.day}`,
          where,
        ),
      );
  } else if (doc.extendsBack === true) {
    const first = walk.firstSealedDay;
    if (first === undefined || doc.day !== previousDay(first))
      walk.findings.push(
        finding(
          FindingKind.ReorderedDigest,
          `${key}: extends the chain back to ${doc.day}, which is not the day before its first (${first ?? 'none'})`,
          where,
        ),
      );
    else walk.firstSealedDay = doc.day;
  } else if (last === undefined) {
    walk.firstSealedDay = doc.day;
    walk.lastSealedDay = doc.day;
  } else if (doc.day <= last) {
    walk.findings.push(
      finding(FindingKind.ReorderedDigest, `${key}: seals ${doc.day}, not after ${last}`, where),
    );
  } else {
    if (doc.day !== nextDay(last)) {
      const from = nextDay(last);
      const to = utcDay(dayStart(doc.day) - DAY_MS);
      walk.findings.push(
        finding(
          FindingKind.MissingDigest,
          `no digest seals ${from === to ? from : `${from} to ${to}`} (deleted?)`,
          {
            day: from,
          },
        ),
      );
    }
    walk.lastSealedDay = doc.day;
  }
}
