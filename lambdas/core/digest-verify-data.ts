/**
 * Verification of the data objects a digest chain seals, and of the chain's tail against the ledger
 * and the clock: the second half of `verify` (digest-verify.ts checks the chain itself). Reads only.
 */
import { DAY_MS, dayStart, iso, utcDay } from '@eventlog-archive/shared';
import { dayOfDataKey, nextDay, sha256Hex } from './digest';
import { type Finding, FindingKind, finding } from './digest-findings';
import type { ChainReport } from './digest-verify';
import { instanceDataPrefix, type TableLocation } from './layout';
import { dayFinal, type LedgerDay } from './ledger';
import type { ArchiveStore } from './store';

export interface DataReport {
  findings: Finding[];
  /** Data objects compared with a digest. */
  checked: number;
}

/** How a caller follows a long check of data, and stops it. */
export interface DataCheckOptions {
  /** Aborted when the result is no longer wanted: the check stops before the next object. */
  signal?: AbortSignal;
  /** Called after each object compared with a digest, with the count so far. */
  onChecked?: (checked: number) => void;
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
  { signal, onChecked }: DataCheckOptions = {},
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
      signal?.throwIfAborted();
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
      onChecked?.(checked);
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
