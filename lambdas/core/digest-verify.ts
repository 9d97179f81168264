/**
 * Verification of digest chains and of the data objects they seal, as `aws cloudtrail validate-logs`
 * does: what `verify` (and any reader that must prove the archive intact) runs. Reads only; the
 * format is digest.ts.
 */
import type { KeyObject } from 'node:crypto';
import { DAY_MS, dayStart, iso, utcDay } from '@eventlog-archive/shared';
import {
  DIGEST_FORMAT_VERSION,
  type DigestDocument,
  dayOfDataKey,
  nextDay,
  type StoredDigest,
  sha256Hex,
  signatureValid,
} from './digest';
import { publicKeyFingerprint } from './digest-signer';
import { instanceDataPrefix, type TableLocation } from './layout';
import { dayFinal, type LedgerDay } from './ledger';
import type { ArchiveStore } from './store';

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
