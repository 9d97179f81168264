import { generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  canonicalJson,
  type DigestDocument,
  digestKey,
  readStoredDigests,
  serializeDigest,
  sha256Hex,
  signatureValid,
  signDigest,
  signedBytes,
} from '../../../../lambdas/core/digest';
import {
  DigestSigningConfigError,
  digestSignerFromEnv,
  KmsDigestSigner,
  LocalDigestSigner,
  loadOrCreateKeyFile,
  publicKeyFingerprint,
} from '../../../../lambdas/core/digest-signer';
import { FindingKind, tailFindings, verifyChain, verifyData } from '../../../../lambdas/core/digest-verify';
import { dataKey } from '../../../../lambdas/core/layout';
import { listLedgerDays, readLedgerDays } from '../../../../lambdas/core/ledger';
import { LocalStore } from '../../../../lambdas/core/local-store';
import { type IngestRequest, ingestInstance } from '../../../../lambdas/ingest/ingest-instance';
import { codecatalyst } from '../../../../lambdas/ingest/sources/codecatalyst';
import { DAY_MS, HOUR_MS } from '../../../../lambdas/shared/src/time';
import { type KmsServer, startKmsServer } from '../../../support/kms-server';
import { FakeSource, record } from '../fake-source';

const NOW = Date.UTC(2024, 4, 10, 12, 0, 0);
const table = { table: codecatalyst.table, partitionKey: 'space', partitionValue: 'acme' };
let dir: string;
let store: LocalStore;
let source: FakeSource;
let signer: LocalDigestSigner;

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'digest-'));
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
    settings: { backfillDays: 4, maxConcurrency: 8 },
    retry: { baseMs: 1, throttleBaseMs: 1 },
    ...overrides,
  });
}

/** Events every 2 hours over [from, to), skipping the UTC days in `quiet`. */
function events(from: number, to: number, quiet: string[] = [], prefix = 'e') {
  const out = [];
  for (let t = from, i = 0; t < to; t += 2 * HOUR_MS, i++)
    if (!quiet.includes(new Date(t).toISOString().slice(0, 10))) out.push(record(`${prefix}${i}`, t));
  return out;
}

async function check(options: { graceMs?: number } = {}) {
  const chain = await verifyChain(await readStoredDigests(store, table), async () => signer.publicKey());
  const data = await verifyData(store, table, chain);
  const ledger = await readLedgerDays(store, table, await listLedgerDays(store, table));
  const tail = tailFindings(ledger, chain, {
    sliceMs: HOUR_MS,
    lookbackMs: 2 * HOUR_MS,
    graceMs: options.graceMs ?? 60 * 60_000,
    now: NOW + 10 * DAY_MS,
  });
  const findings = [...chain.findings, ...data.findings, ...tail];
  return {
    chain,
    data,
    problems: findings.filter((f) => f.problem),
    notes: findings.filter((f) => !f.problem),
  };
}

async function digest(sequence: number): Promise<DigestDocument> {
  return JSON.parse(Buffer.from((await store.get(digestKey(table, sequence)))!.body).toString('utf8'));
}

describe('canonical form and signatures', () => {
  it('sorts keys at every level and drops undefined members, so key order never changes the bytes', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[{"y":2,"z":1}]},"b":1}',
    );
    expect(canonicalJson({ x: 1, y: 2 })).toBe(canonicalJson({ y: 2, x: 1 }));
  });

  it('signs the canonical body without the signature; any changed field breaks it', async () => {
    const doc = await signDigest(
      {
        version: 1,
        source: 'codecatalyst',
        instance: 'acme',
        table: table.table,
        partition: { key: 'space', value: 'acme' },
        day: '2024-05-01',
        sequence: 1,
        previousSequence: null,
        previousDigestSha256: null,
        createdAt: '2024-05-02T00:00:00.000Z',
        objects: [{ key: 'k', sha256: 'a'.repeat(64), events: 3, bytes: 10 }],
        events: 3,
      },
      signer,
    );
    const key = await signer.publicKey();
    expect(doc.signing).toEqual({
      algorithm: 'ECDSA_SHA_256',
      keyId: signer.keyId,
      publicKeyFingerprint: publicKeyFingerprint(key),
    });
    expect(new TextDecoder().decode(signedBytes(doc))).not.toContain('signature"');
    expect(signatureValid(doc, key)).toBe(true);
    // The stored (pretty) form parses back to a document that still verifies.
    expect(signatureValid(JSON.parse(new TextDecoder().decode(serializeDigest(doc))), key)).toBe(true);
    expect(signatureValid({ ...doc, events: 4 }, key)).toBe(false);
    expect(signatureValid({ ...doc, objects: [{ ...doc.objects[0]!, sha256: 'b'.repeat(64) }] }, key)).toBe(
      false,
    );
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    expect(signatureValid(doc, other)).toBe(false);
    const { signature: _s, ...unsigned } = doc;
    expect(signatureValid(unsigned, key)).toBe(false);
  });

  it('creates the local key file once, mode 0600, and reads the same key back', async () => {
    const file = path.join(dir, 'keys', 'k.pem');
    const first = await loadOrCreateKeyFile(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = await loadOrCreateKeyFile(file);
    expect(publicKeyFingerprint(await again.publicKey())).toBe(publicKeyFingerprint(await first.publicKey()));
  });

  it('creates the key once when many runs start at once: each gets the same, whole key', async () => {
    // Concurrent runs of a fresh folder archive (the concurrent-run tests do this) used to read the
    // key file between another run's exclusive create and its write: an empty file, not a PEM key.
    // In-process calls race on the thread pool as processes do; many rounds make the window likely.
    for (let round = 0; round < 40; round++) {
      const file = path.join(dir, `race-${round}`, '_keys', 'digest-signing-key.pem');
      const signers = await Promise.all(Array.from({ length: 16 }, () => loadOrCreateKeyFile(file)));
      const prints = await Promise.all(signers.map(async (s) => publicKeyFingerprint(await s.publicKey())));
      expect(new Set(prints).size).toBe(1);
      expect(readdirSync(path.dirname(file))).toEqual(['digest-signing-key.pem']);
    }
  });

  it('refuses to run an S3 archive without a signing key, naming both variables', async () => {
    const err = await digestSignerFromEnv('s3://bucket/prefix', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DigestSigningConfigError);
    expect((err as Error).message).toMatch(/DIGEST_SIGNING_KEY_ARN.*DIGEST_SIGNING_KEY_FILE/);
    await expect(digestSignerFromEnv('s3://bucket', { DIGEST_SIGNING_KEY_ARN: 'alias/x' })).rejects.toThrow(
      /DIGEST_SIGNING_KEY_ARN: must be a KMS key ARN/,
    );
  });

  it('an S3 ingest without a signing key fails before fetching anything', async () => {
    source.add('acme', events(NOW - DAY_MS, NOW));
    const s3Like = Object.assign(Object.create(store), { uri: 's3://bucket/p' });
    const saved = { arn: process.env.DIGEST_SIGNING_KEY_ARN, file: process.env.DIGEST_SIGNING_KEY_FILE };
    delete process.env.DIGEST_SIGNING_KEY_ARN;
    delete process.env.DIGEST_SIGNING_KEY_FILE;
    try {
      await expect(run({ store: s3Like, signer: undefined })).rejects.toThrow(DigestSigningConfigError);
      expect(source.calls).toBe(0);
    } finally {
      if (saved.arn !== undefined) process.env.DIGEST_SIGNING_KEY_ARN = saved.arn;
      if (saved.file !== undefined) process.env.DIGEST_SIGNING_KEY_FILE = saved.file;
    }
  });
});

describe('KMS signer against the local KMS stand-in', () => {
  let kms: KmsServer;
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  beforeAll(async () => {
    kms = await startKmsServer();
    // Signed requests take credentials from the default chain, which reads the process environment.
    process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'secret';
  });
  afterAll(async () => {
    await kms.close();
    for (const [name, value] of [
      ['AWS_ACCESS_KEY_ID', saved.id],
      ['AWS_SECRET_ACCESS_KEY', saved.secret],
    ] as const)
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
  });
  const env = (): NodeJS.ProcessEnv => ({ AWS_ENDPOINT_URL_KMS: kms.url });

  it('signs with MessageType DIGEST; the signature verifies as ECDSA_SHA_256 of the message', async () => {
    const kmsSigner = await digestSignerFromEnv('s3://bucket', {
      ...env(),
      DIGEST_SIGNING_KEY_ARN: kms.keyArn,
    });
    expect(kmsSigner).toBeInstanceOf(KmsDigestSigner);
    const message = new TextEncoder().encode('{"day":"2024-05-01"}');
    const signature = await kmsSigner.sign(message);
    expect(verify('sha256', message, { key: kms.publicKey, dsaEncoding: 'der' }, signature)).toBe(true);
    expect(publicKeyFingerprint(await kmsSigner.publicKey())).toBe(publicKeyFingerprint(kms.publicKey));
  });

  it('retries throttling', async () => {
    const kmsSigner = new KmsDigestSigner(kms.keyArn, env());
    const before = kms.requests.Sign ?? 0;
    kms.throttleNext = 2;
    await kmsSigner.sign(new Uint8Array([1, 2, 3]));
    expect((kms.requests.Sign ?? 0) - before).toBe(3);
  });

  it('surfaces an unknown key as the KMS error', async () => {
    const wrong = new KmsDigestSigner(kms.keyArn.replace(/key\/.*/, 'key/0000'), env());
    await expect(wrong.sign(new Uint8Array([1]))).rejects.toMatchObject({ name: 'NotFoundException' });
  });
});

describe('sealing', () => {
  it('seals every final day in order, empty days with no objects, and stops at the first unfinished day', async () => {
    // 2024-05-08 has no events; 05-10 is still inside the lookback at NOW.
    source.add('acme', events(NOW - 4 * DAY_MS, NOW - HOUR_MS, ['2024-05-08']));
    const result = await run();
    expect(result.sealed).toEqual({ through: '2024-05-09', digests: 4 });
    const docs = await Promise.all([1, 2, 3, 4].map(digest));
    expect(docs.map((d) => d.day)).toEqual(['2024-05-06', '2024-05-07', '2024-05-08', '2024-05-09']);
    expect(docs[2]).toMatchObject({ objects: [], events: 0 });
    expect(docs[1]!.objects).toEqual([
      expect.objectContaining({ key: dataKey(table, '2024-05-07'), events: 12 }),
    ]);
    expect(docs[0]!.previousDigestSha256).toBeNull();
    expect((await check()).problems).toEqual([]);

    // A day later the lookback of 05-10 has passed: the next run appends its digest.
    const next = await run({ now: () => NOW + DAY_MS });
    expect(next.sealed).toEqual({ through: '2024-05-10', digests: 1 });
    expect(await digest(5)).toMatchObject({ day: '2024-05-10', sequence: 5, previousSequence: 4 });
  });

  it('does not seal past a day with a gap, and seals it once the gap is filled', async () => {
    source.add('acme', events(NOW - 4 * DAY_MS, NOW - HOUR_MS));
    const gap = Date.UTC(2024, 4, 7, 5);
    const serverError = Object.assign(new Error('internal error'), { $metadata: { httpStatusCode: 500 } });
    source.failWhen = (r) => (r.start === gap ? serverError : undefined);
    const first = await run({ retry: { maxAttempts: 1 } });
    expect(first.failures.length).toBeGreaterThan(0);
    expect(first.sealed).toEqual({ through: '2024-05-06', digests: 1 });
    source.failWhen = () => undefined;
    const second = await run({ now: () => NOW + HOUR_MS });
    expect(second.sealed).toEqual({ through: '2024-05-09', digests: 3 });
    expect((await check()).problems).toEqual([]);
  });

  it('appends a superseding digest when a re-ingest rewrites a sealed day, and verify follows the newest', async () => {
    source.add('acme', events(NOW - 4 * DAY_MS, NOW - HOUR_MS));
    await run();
    source.add('acme', [record('late-arrival', Date.UTC(2024, 4, 7, 3, 30))]);
    const again = await run({
      from: Date.UTC(2024, 4, 7),
      to: Date.UTC(2024, 4, 8),
      now: () => NOW + 60_000,
    });
    expect(again.newEvents).toBe(1);
    expect(again.sealed).toEqual({ through: '2024-05-09', digests: 1 });
    expect(await digest(5)).toMatchObject({ day: '2024-05-07', supersedes: 2, sequence: 5, events: 13 });
    const { problems } = await check();
    expect(problems).toEqual([]);
    // A rerun that finds nothing new writes nothing.
    const idle = await run({
      from: Date.UTC(2024, 4, 7),
      to: Date.UTC(2024, 4, 8),
      now: () => NOW + 120_000,
    });
    expect(idle.sealed?.digests).toBe(0);
  });
});

describe("days before the chain's first day", () => {
  it('a later run that archives them extends the chain back, and verify then requires them sealed', async () => {
    source.add('acme', events(NOW - 7 * DAY_MS, NOW - HOUR_MS));
    await run();
    // An explicit range older than the first backfill (which started at 2024-05-06 12:00).
    const earlier = await run({
      from: Date.UTC(2024, 4, 4),
      to: Date.UTC(2024, 4, 6, 12),
      now: () => NOW + 60_000,
    });
    expect(earlier.status).toBe('complete');
    // 05-06 got its morning: a superseding digest; 05-05 and 05-04 extend the chain back, newest first.
    expect(earlier.sealed).toEqual({ through: '2024-05-09', digests: 3 });
    expect(await digest(5)).toMatchObject({ day: '2024-05-06', supersedes: 1 });
    expect(await digest(6)).toMatchObject({ day: '2024-05-05', extendsBack: true, events: 12 });
    expect(await digest(7)).toMatchObject({ day: '2024-05-04', extendsBack: true, events: 12 });
    const { problems, chain } = await check();
    expect(problems).toEqual([]);
    expect(chain.firstSealedDay).toBe('2024-05-04');
    // The forward chain goes on from its last day, not from the days added before its start.
    const next = await run({ now: () => NOW + DAY_MS });
    expect(next.sealed).toEqual({ through: '2024-05-10', digests: 1 });
    expect(await digest(8)).toMatchObject({ day: '2024-05-10' });
    expect((await check()).problems).toEqual([]);
  });

  it('a digest that claims to extend the chain back to a day that is not the one before its first', async () => {
    source.add('acme', events(NOW - 4 * DAY_MS, NOW - HOUR_MS));
    await run();
    const head = await digest(4);
    const { signature: _s, signing: _k, ...body } = head;
    const forged = await signDigest(
      {
        ...body,
        sequence: 5,
        previousSequence: 4,
        previousDigestSha256: sha256Hex((await store.get(digestKey(table, 4)))!.body),
        day: '2024-05-02',
        extendsBack: true,
      },
      signer,
    );
    await store.put(digestKey(table, 5), serializeDigest(forged), { ifNoneMatch: true });
    expect((await check()).problems.map((p) => p.kind)).toContain(FindingKind.ReorderedDigest);
  });
});

describe('verification finds each kind of tampering', () => {
  beforeEach(async () => {
    source.add('acme', events(NOW - 4 * DAY_MS, NOW - HOUR_MS, ['2024-05-08']));
    await run();
    await run({ now: () => NOW + DAY_MS });
  });

  const kinds = async (options?: { graceMs?: number }) => (await check(options)).problems.map((p) => p.kind);

  it('passes an untouched archive', async () => {
    const { problems, data, chain } = await check();
    expect(problems).toEqual([]);
    expect(chain.digests).toBe(5);
    expect(data.checked).toBe(4);
  });

  it('changed, removed and added data objects', async () => {
    const key = dataKey(table, '2024-05-07');
    const body = (await store.get(key))!.body;
    await store.put(key, Buffer.concat([body, Buffer.from('x')]));
    expect(await kinds()).toEqual([FindingKind.Changed]);
    await store.delete(key);
    expect(await kinds()).toEqual([FindingKind.Removed]);
    await store.put(key, body);
    await store.put(dataKey(table, '2024-05-08'), body);
    await store.put('codecatalyst_event_logs/space=acme/dt=2024-05-09/more.parquet', body);
    expect(await kinds()).toEqual([FindingKind.Added, FindingKind.Added]);
  });

  it('a deleted digest, two consecutive deleted, the first deleted', async () => {
    await store.delete(digestKey(table, 3));
    expect(await kinds()).toContain(FindingKind.MissingDigest);
    await store.delete(digestKey(table, 2));
    const { problems, notes } = await check();
    expect(problems.map((p) => p.kind)).toEqual([FindingKind.MissingDigest, FindingKind.MissingDigest]);
    expect(problems[0]!.message).toMatch(/digests 2 to 3 are missing/);
    expect(problems[1]!.message).toMatch(/no digest seals 2024-05-07 to 2024-05-08/);
    expect(notes.map((n) => n.kind)).toEqual([FindingKind.NotCovered]);
    await store.delete(digestKey(table, 1));
    expect((await check()).problems[0]!.message).toMatch(/digests 1 to 3 are missing/);
  });

  it('deleted newest digests: found through the ledger once the grace period has passed', async () => {
    await store.delete(digestKey(table, 5));
    await store.delete(digestKey(table, 4));
    expect(await kinds({ graceMs: 30 * DAY_MS })).toEqual([]);
    expect(await kinds()).toEqual([FindingKind.MissingDigest, FindingKind.MissingDigest]);
  });

  it('swapped digests', async () => {
    const [a, b] = [
      (await store.get(digestKey(table, 2)))!.body,
      (await store.get(digestKey(table, 3)))!.body,
    ];
    await store.put(digestKey(table, 2), b);
    await store.put(digestKey(table, 3), a);
    expect(new Set(await kinds())).toContain(FindingKind.ReorderedDigest);
  });

  it('a changed digest body (even re-signed by the rightful key) breaks the link of its successor', async () => {
    const doc = await digest(2);
    const { signature: _s, signing: _k, ...body } = doc;
    const forged = await signDigest({ ...body, objects: [] }, signer);
    await store.put(digestKey(table, 2), serializeDigest(forged));
    const problems = await kinds();
    expect(problems).toContain(FindingKind.ReorderedDigest);
    expect(problems).toContain(FindingKind.Added);
  });

  it('an unsigned digest and one re-signed with another key', async () => {
    const doc = await digest(2);
    const { signature: _s, ...unsigned } = doc;
    await store.put(digestKey(table, 2), serializeDigest(unsigned as DigestDocument));
    expect(await kinds()).toContain(FindingKind.UnsignedDigest);
    const otherSigner = new LocalDigestSigner(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    const { signing: _k, ...body } = unsigned;
    await store.put(digestKey(table, 2), serializeDigest(await signDigest(body, otherSigner)));
    const problems = await kinds();
    expect(problems).toContain(FindingKind.BadSignature);
    expect(problems).not.toContain(FindingKind.UnsignedDigest);
  });

  it('a chain whose digests verify with different keys (a KMS key id swapped in one of them)', async () => {
    const otherSigner = new LocalDigestSigner(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    const doc = await digest(3);
    const { signature: _s, signing: _k, ...body } = doc;
    await store.put(
      digestKey(table, 3),
      serializeDigest(await signDigest({ ...body, objects: [] }, otherSigner)),
    );
    // A resolver that trusts whatever key a digest names, as KMS GetPublicKey of its keyId would.
    const keyOf = async (d: DigestDocument) =>
      d.signing.keyId === otherSigner.keyId ? otherSigner.publicKey() : signer.publicKey();
    const chain = await verifyChain(await readStoredDigests(store, table), keyOf);
    expect(chain.findings.map((f) => [f.kind, f.sequence])).toContainEqual([FindingKind.BadSignature, 3]);
    expect(chain.findings.find((f) => f.kind === FindingKind.BadSignature)?.message).toMatch(
      /different key than the rest of the chain/,
    );
  });

  it('a digest that is not JSON', async () => {
    await store.put(digestKey(table, 4), new TextEncoder().encode('garbage'));
    expect(await kinds()).toContain(FindingKind.InvalidDigest);
  });

  it('a superseding digest that names a digest of another day', async () => {
    const head = await digest(5);
    const { signature: _s, signing: _k, ...body } = head;
    const six = await signDigest(
      {
        ...body,
        sequence: 6,
        previousSequence: 5,
        previousDigestSha256: sha256Hex((await store.get(digestKey(table, 5)))!.body),
        day: '2024-05-07',
        supersedes: 1,
      },
      signer,
    );
    await store.put(digestKey(table, 6), serializeDigest(six), { ifNoneMatch: true });
    expect(await kinds()).toContain(FindingKind.ReorderedDigest);
  });
});
