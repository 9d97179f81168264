/**
 * The integrity digest format, modelled on CloudTrail log file validation: per source instance an
 * append-only chain of signed digest objects, one per sealed UTC day,
 * `_digests/<table>/<key>=<value>/<sequence, 10 digits>.json`. Each lists the day's data objects with
 * their SHA-256 and event count and carries the SHA-256 of the previous digest's stored bytes, so the
 * chain proves order and absence: a day without events gets a digest with no objects. A rewrite of a
 * sealed day appends a digest with `supersedes`; digests are never rewritten.
 *
 * The ingest seals days (lambdas/ingest/archive/seal.ts); `verify` checks chains (digest-verify.ts).
 */
import { createHash, type KeyObject, verify as verifySignature } from 'node:crypto';
import { DAY_MS, dayStart, utcDay } from '@eventlog-archive/shared';
import { DIGEST_SIGNING_ALGORITHM, type DigestSigner, publicKeyFingerprint } from './digest-signer';
import type { TableLocation } from './layout';
import type { ArchiveStore } from './store';

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
  /**
   * Set when this digest seals the day before the chain's first day: a later run archived days older
   * than the chain's start (an explicit range before the first backfill), and the chain grows back.
   */
  extendsBack?: true;
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

export function previousDay(day: string): string {
  return utcDay(dayStart(day) - DAY_MS);
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
