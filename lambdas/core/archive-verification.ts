/**
 * `verify`'s check of an archive, for the CLI (bin/commands/verify.ts) and the console of `serve`
 * (`GET /console/api/verify`): which instances to check, which key digests must verify with, and
 * for each instance its chain, its data in a range against the chain, and the chain's tail against
 * the ledger and the clock. Reads only. The checks themselves are digest-verify.ts and
 * digest-verify-data.ts.
 */
import type { KeyObject } from 'node:crypto';
import path from 'node:path';
import { DIGEST_ROOT, type DigestDocument, digestPrefix, readStoredDigests, sha256Hex } from './digest';
import { KmsDigestSigner, LOCAL_DIGEST_KEY, readPublicKeyFile } from './digest-signer';
import {
  dueSealFindings,
  type Finding,
  FindingKind,
  tailFindings,
  verifyChain,
  verifyData,
} from './digest-verify';
import { LEDGER_ROOT, type TableLocation } from './layout';
import { listLedgerDays, readLedgerDays } from './ledger';
import type { SourceDefinition } from './sources/types';
import { type ArchiveStore, parseArchiveUri } from './store';
import type { DayRange } from './verification-range';

// The range and grace of a check, apart so that `verify` checks its command line before loading the
// signers (digest-signer.ts, with KMS).
export { type DayRange, DEFAULT_SEAL_GRACE_MS, dayRange } from './verification-range';

/** What `verify --json` reports of one instance. */
export interface InstanceVerification {
  source: string;
  instance: string;
  partition: string;
  digests: number;
  firstSealedDay: string | null;
  lastSealedDay: string | null;
  dataObjectsChecked: number;
  problems: Finding[];
  notes: Finding[];
}

/** The newest digest of a chain (the highest sequence stored), as stored. */
export interface ChainHead {
  sequence: number;
  key: string;
  /** The day it seals and when it was made; null when it does not parse. */
  day: string | null;
  createdAt: string | null;
  /** Hex SHA-256 of its stored bytes: what the next digest will link to. */
  sha256: string;
}

/** What checking instances needs besides the instance. */
export interface VerificationSettings {
  store: ArchiveStore;
  publicKeyFor: (doc: DigestDocument) => Promise<KeyObject>;
  now: number;
  /** The days of data to check (all when absent). */
  range: DayRange;
  sliceMs: number;
  lookbackMs: number;
  graceMs: number;
}

/** One instance to check: its folder, and its name when the caller named it. */
export interface VerificationTarget {
  source: SourceDefinition;
  partitionValue: string;
  instance?: string;
}

/** How a caller follows the check of one instance, and stops it. */
export interface InstanceCheckOptions {
  /** Aborted when the result is no longer wanted: the check stops between two data objects. */
  signal?: AbortSignal;
  /** Called after each data object compared with a digest. */
  onChecked?: (progress: { instance: string; dataObjectsChecked: number }) => void;
}

/**
 * The instances to check, source by source: the one `named` names for its source, else every
 * instance with digests, ledger documents or data.
 */
export async function verificationTargets(
  store: ArchiveStore,
  sources: readonly SourceDefinition[],
  named: (source: SourceDefinition) => string | undefined = () => undefined,
): Promise<VerificationTarget[]> {
  const targets: VerificationTarget[] = [];
  for (const source of sources) {
    const only = named(source);
    if (only !== undefined)
      targets.push({ source, partitionValue: source.partitionValue(only), instance: only });
    else
      for (const partitionValue of await instancePartitions(store, source))
        targets.push({ source, partitionValue });
  }
  return targets;
}

/**
 * One instance: its chain, its data in the range against the chain, and the tail against the
 * ledger. Also the chain's newest digest, which `verify --json` does not print.
 */
export async function verifyInstance(
  check: VerificationSettings,
  target: VerificationTarget,
  options: InstanceCheckOptions = {},
): Promise<{ report: InstanceVerification; chainHead: ChainHead | null }> {
  const { store, range, sliceMs, lookbackMs, graceMs, now } = check;
  const { source, partitionValue } = target;
  const table: TableLocation = { table: source.table, partitionKey: source.partitionKey, partitionValue };
  const stored = await readStoredDigests(store, table);
  const chain = await verifyChain(stored, check.publicKeyFor, {
    table,
    source: source.name,
    partitionValueOf: (instance) => source.partitionValue(instance),
  });
  const ledgerDays = await listLedgerDays(store, table);
  const ledger = await readLedgerDays(store, table, ledgerDays);
  const someDigest = chain.governing.values().next().value as DigestDocument | undefined;
  // The ledger's name first: a digest may have been copied in from another instance's folder.
  const instance =
    target.instance ?? ledger.get(ledgerDays[0] ?? '')?.instance ?? someDigest?.instance ?? partitionValue;
  const data = await verifyData(store, table, chain, range, {
    ...(options.signal ? { signal: options.signal } : {}),
    onChecked: (dataObjectsChecked) => options.onChecked?.({ instance, dataObjectsChecked }),
  });
  const tail = tailFindings(ledger, chain, { sliceMs, lookbackMs, graceMs, now }).filter(
    (f) => f.day === undefined || inRange(f.day, range),
  );
  // Unsealed data of a day the ledger never recorded was not written by an ingest run: added.
  const recorded = data.findings.map((f) =>
    f.kind === FindingKind.NotYetSealed && f.day !== undefined && !ledger.has(f.day)
      ? {
          ...f,
          kind: FindingKind.Added,
          problem: true,
          message: `${f.key}: no digest and no ledger record of its day`,
        }
      : f,
  );
  // The rest is judged by its day alone, never by the (unsigned) ledger: data old enough that a
  // run must have sealed it, and no digest covers, is a problem.
  const dataFindings = dueSealFindings(recorded, chain, {
    now,
    lookbackMs,
    graceMs,
    digestFolder: digestPrefix(table),
  });
  const findings = [...chain.findings, ...dataFindings, ...tail];
  return {
    report: {
      source: source.name,
      instance,
      partition: `${source.partitionKey}=${partitionValue}`,
      digests: chain.digests,
      firstSealedDay: chain.firstSealedDay ?? null,
      lastSealedDay: chain.lastSealedDay ?? null,
      dataObjectsChecked: data.checked,
      problems: findings.filter((f) => f.problem),
      notes: findings.filter((f) => !f.problem),
    },
    chainHead: chainHeadOf(stored.at(-1)),
  };
}

function chainHeadOf(
  newest: { sequence: number; key: string; bytes: Uint8Array } | undefined,
): ChainHead | null {
  if (!newest) return null;
  let doc: Partial<DigestDocument> | undefined;
  try {
    doc = JSON.parse(Buffer.from(newest.bytes).toString('utf8')) as Partial<DigestDocument>;
  } catch {
    doc = undefined;
  }
  return {
    sequence: newest.sequence,
    key: newest.key,
    day: typeof doc?.day === 'string' ? doc.day : null,
    createdAt: typeof doc?.createdAt === 'string' ? doc.createdAt : null,
    sha256: sha256Hex(newest.bytes),
  };
}

function inRange(day: string, range: DayRange): boolean {
  return (
    (range.fromDay === undefined || day >= range.fromDay) && (range.toDay === undefined || day <= range.toDay)
  );
}

/** The key every digest must verify with, and where it comes from. */
export interface DigestKeys {
  publicKeyFor: (doc: DigestDocument) => Promise<KeyObject>;
  /** A key file (`--public-key`, `DIGEST_SIGNING_KEY_FILE`, the archive's own) or KMS. */
  origin: 'file' | 'kms';
  /**
   * False when nothing pins the key and each digest is checked with the KMS key it names: whoever
   * can write the bucket could re-sign a chain with a KMS key of their own.
   */
  pinned: boolean;
  /** The key digests were checked with; null when it cannot be read, or (unpinned) when digests named several. */
  trustedKey(): Promise<KeyObject | null>;
}

/**
 * The key every digest must verify with: `publicKeyFile`, else the KMS key pinned by
 * `signingKeyArn` / `DIGEST_SIGNING_KEY_ARN` (a digest naming another key fails), else
 * `DIGEST_SIGNING_KEY_FILE`, else the folder archive's own key file; for an S3 archive without any
 * of them, KMS GetPublicKey of the key the digest names (`pinned: false`). A `publicKeyFile` that
 * cannot be read throws; any other key that cannot be read fails the digests checked with it.
 */
export async function digestKeys(
  archive: string,
  options: {
    publicKeyFile?: string | undefined;
    signingKeyArn?: string | undefined;
    env?: NodeJS.ProcessEnv;
  },
): Promise<DigestKeys> {
  const env = options.env ?? process.env;
  const nullOnFailure = (key: Promise<KeyObject>) => key.catch(() => null);
  if (options.publicKeyFile !== undefined) {
    const key = await readPublicKeyFile(path.resolve(options.publicKeyFile));
    return { publicKeyFor: async () => key, origin: 'file', pinned: true, trustedKey: async () => key };
  }
  const signingKeyArn = options.signingKeyArn ?? env.DIGEST_SIGNING_KEY_ARN;
  if (signingKeyArn !== undefined) {
    const pinned = new KmsDigestSigner(signingKeyArn, env).publicKey();
    pinned.catch(() => undefined);
    return {
      publicKeyFor: async (doc) => {
        const keyId = String(doc.signing?.keyId ?? '');
        if (keyId !== signingKeyArn)
          throw new Error(`it names key ${keyId}, not the pinned key ${signingKeyArn}`);
        return pinned;
      },
      origin: 'kms',
      pinned: true,
      trustedKey: () => nullOnFailure(pinned),
    };
  }
  const location = parseArchiveUri(archive);
  const keyFile =
    env.DIGEST_SIGNING_KEY_FILE ??
    (location.kind === 'file' ? path.join(location.dir, LOCAL_DIGEST_KEY) : undefined);
  if (keyFile !== undefined) {
    const key = readPublicKeyFile(path.resolve(keyFile));
    key.catch(() => undefined);
    return { publicKeyFor: () => key, origin: 'file', pinned: true, trustedKey: () => nullOnFailure(key) };
  }
  const kmsKeys = new Map<string, Promise<KeyObject>>();
  return {
    publicKeyFor: (doc) => {
      const keyId = String(doc.signing?.keyId ?? '');
      let key = kmsKeys.get(keyId);
      if (!key) {
        key = (async () => {
          if (!keyId.startsWith('arn:'))
            throw new Error(
              `it names key ${keyId}, a key file: pass its key with --public-key or DIGEST_SIGNING_KEY_FILE`,
            );
          return new KmsDigestSigner(keyId, env).publicKey();
        })();
        kmsKeys.set(keyId, key);
      }
      return key;
    },
    origin: 'kms',
    pinned: false,
    trustedKey: async () => {
      const keys = await Promise.all([...kmsKeys.values()].map(nullOnFailure));
      return keys.length === 1 ? keys[0]! : null;
    },
  };
}

/** Partition values of a source's instances that have digests, ledger documents or data. */
export async function instancePartitions(store: ArchiveStore, source: SourceDefinition): Promise<string[]> {
  const found = new Set<string>();
  const folder = `${source.partitionKey}=`;
  for (const root of [
    `${DIGEST_ROOT}/${source.table}/`,
    `${LEDGER_ROOT}/${source.table}/`,
    `${source.table}/`,
  ]) {
    for await (const object of store.list(root)) {
      const rest = object.key.slice(root.length);
      const slash = rest.indexOf('/');
      if (slash > folder.length && rest.startsWith(folder)) found.add(rest.slice(folder.length, slash));
    }
  }
  return [...found].sort();
}
