/**
 * Who signs the integrity digests: an asymmetric KMS key in AWS (the private key never leaves KMS),
 * or a local EC P-256 key file on one machine. Both produce ECDSA_SHA_256 signatures (DER), so one
 * verifier checks either.
 *
 * The local key file is a stand-in: whoever can write the archive folder can also read the key and
 * re-sign a forged chain. Only KMS (or a key kept elsewhere) makes the signature mean something
 * against someone who can write the archive.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomUUID,
  sign as signWithKey,
} from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ArchiveError, withRetry } from '@eventlog-archive/shared';
import { endpointFor, signedJsonRequest } from './aws-request';
import {
  ensurePrivateDir,
  KEYS_FOLDER,
  PRIVATE_DIR_MODE,
  PRIVATE_FILE_MODE,
  tightenMode,
} from './local-store';
import { parseArchiveUri } from './store';

export const DIGEST_SIGNING_ALGORITHM = 'ECDSA_SHA_256';
/** Where a folder archive keeps its signing key unless `DIGEST_SIGNING_KEY_FILE` names another file. */
export const LOCAL_DIGEST_KEY = `${KEYS_FOLDER}/digest-signing-key.pem`;

/**
 * Signs digests. `sign` returns the DER ECDSA_SHA_256 signature of `message` (the canonical digest
 * body); the KMS signer hashes it locally and sends only the SHA-256 (`MessageType: DIGEST`), which
 * is the same signature, because node:crypto cannot sign an already computed hash.
 */
export interface DigestSigner {
  /** The KMS key ARN, or `local:<fingerprint prefix>` for a key file. */
  readonly keyId: string;
  sign(message: Uint8Array): Promise<Uint8Array>;
  publicKey(): Promise<KeyObject>;
}

/** No way to sign digests was configured. */
export class DigestSigningConfigError extends ArchiveError {
  constructor(message: string) {
    super(message);
    this.name = 'DigestSigningConfigError';
  }
}

/**
 * SHA-256 of the key's SubjectPublicKeyInfo (DER): names a key independently of where it lives. Hex
 * in digests; base64 for people (`SHA256:…`, as `ssh-keygen -l` shows keys).
 */
export function publicKeyFingerprint(key: KeyObject, encoding: 'hex' | 'base64' = 'hex'): string {
  return createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest(encoding);
}

/** A local EC P-256 private key. */
export class LocalDigestSigner implements DigestSigner {
  readonly keyId: string;
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;

  constructor(privateKeyPem: string | KeyObject) {
    this.#privateKey = typeof privateKeyPem === 'string' ? createPrivateKey(privateKeyPem) : privateKeyPem;
    const details = this.#privateKey.asymmetricKeyDetails;
    if (this.#privateKey.asymmetricKeyType !== 'ec' || details?.namedCurve !== 'prime256v1')
      throw new DigestSigningConfigError('digest signing key: must be an EC P-256 (prime256v1) private key');
    this.#publicKey = createPublicKey(this.#privateKey);
    this.keyId = `local:${publicKeyFingerprint(this.#publicKey).slice(0, 16)}`;
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    return new Uint8Array(signWithKey('sha256', message, { key: this.#privateKey, dsaEncoding: 'der' }));
  }

  async publicKey(): Promise<KeyObject> {
    return this.#publicKey;
  }
}

/**
 * Reads the PEM key file, or creates it (EC P-256, mode 0600, its folder 0700 when created) when
 * absent. Created atomically and exclusively, so runs starting at once all end up with the key of
 * whichever linked it first. `archiveKeysFolder`: the file is the archive's own `_keys/` file, so an
 * existing `_keys/` and key file are tightened to 0700 / 0600 too (the same rules as LocalStore's).
 */
export async function loadOrCreateKeyFile(
  file: string,
  options: { archiveKeysFolder?: boolean } = {},
): Promise<LocalDigestSigner> {
  const tighten = options.archiveKeysFolder === true;
  try {
    const pem = await fs.readFile(file, 'utf8');
    if (tighten) {
      await ensurePrivateDir(path.dirname(file), { tightenExisting: true });
      await tightenMode(file, PRIVATE_FILE_MODE);
    }
    return new LocalDigestSigner(pem);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw keyFileError(file, err);
  }
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  if (tighten) await ensurePrivateDir(path.dirname(file), { tightenExisting: true });
  else await fs.mkdir(path.dirname(file), { recursive: true, mode: PRIVATE_DIR_MODE });
  // Written whole to a file of its own, then linked into place: link() fails if the key exists, and
  // the key never exists half written (an exclusive open of the key itself would let a concurrent
  // run read it between the open and the write).
  const staged = `${file}.${randomUUID()}.tmp`;
  await fs.writeFile(staged, pem, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
  try {
    await fs.link(staged, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await fs.rm(staged, { force: true });
  }
  try {
    return new LocalDigestSigner(await fs.readFile(file, 'utf8'));
  } catch (err) {
    throw keyFileError(file, err);
  }
}

function keyFileError(file: string, cause: unknown): Error {
  if (cause instanceof DigestSigningConfigError) return cause;
  return new DigestSigningConfigError(
    `digest signing key file ${file}: could not be read as a PEM EC P-256 private key (${(cause as Error)?.message ?? cause})`,
  );
}

/** The public key of a local key file (for `verify`), without creating the file when absent. */
export async function readPublicKeyFile(file: string): Promise<KeyObject> {
  const pem = await fs.readFile(file, 'utf8');
  const key = pem.includes('PRIVATE KEY') ? createPublicKey(createPrivateKey(pem)) : createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    throw new DigestSigningConfigError(`${file}: must hold an EC P-256 key`);
  return key;
}

const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:key\/[A-Za-z0-9-]{1,128}$/;

/** An asymmetric KMS key (KeySpec ECC_NIST_P256, KeyUsage SIGN_VERIFY) through signed JSON requests. */
export class KmsDigestSigner implements DigestSigner {
  readonly keyId: string;
  readonly #region: string;
  readonly #endpoint: string;
  #publicKey?: Promise<KeyObject>;

  constructor(keyArn: string, env: NodeJS.ProcessEnv = process.env) {
    const match = KMS_KEY_ARN.exec(keyArn);
    if (!match)
      throw new DigestSigningConfigError(
        `DIGEST_SIGNING_KEY_ARN: must be a KMS key ARN arn:<partition>:kms:<region>:<account>:key/<key id> (got "${keyArn}")`,
      );
    this.keyId = keyArn;
    this.#region = match[1]!;
    const suffix = keyArn.startsWith('arn:aws-cn:') ? 'amazonaws.com.cn' : 'amazonaws.com';
    this.#endpoint = endpointFor('KMS', `https://kms.${this.#region}.${suffix}`, env);
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    const digest = createHash('sha256').update(message).digest();
    const out = await this.#call<{ Signature?: string }>('Sign', {
      KeyId: this.keyId,
      Message: digest.toString('base64'),
      MessageType: 'DIGEST',
      SigningAlgorithm: DIGEST_SIGNING_ALGORITHM,
    });
    if (!out.Signature) throw new ArchiveError('KMS Sign: the answer has no Signature');
    return new Uint8Array(Buffer.from(out.Signature, 'base64'));
  }

  publicKey(): Promise<KeyObject> {
    this.#publicKey ??= kmsPublicKey(this.keyId, this.#call.bind(this));
    // A failed lookup is asked again next time.
    this.#publicKey.catch(() => {
      this.#publicKey = undefined;
    });
    return this.#publicKey;
  }

  #call<T>(operation: 'Sign' | 'GetPublicKey', body: Record<string, unknown>): Promise<T> {
    return withRetry(
      () =>
        signedJsonRequest<T>({
          service: 'kms',
          region: this.#region,
          endpoint: this.#endpoint,
          method: 'POST',
          path: '/',
          headers: {
            'content-type': 'application/x-amz-json-1.1',
            'x-amz-target': `TrentService.${operation}`,
          },
          body: JSON.stringify(body),
          timeoutMs: 10_000,
        }),
      { maxAttempts: 5 },
    );
  }
}

async function kmsPublicKey(
  keyId: string,
  call: <T>(operation: 'GetPublicKey', body: Record<string, unknown>) => Promise<T>,
): Promise<KeyObject> {
  const out = await call<{ PublicKey?: string; KeySpec?: string }>('GetPublicKey', { KeyId: keyId });
  if (!out.PublicKey) throw new ArchiveError(`KMS GetPublicKey ${keyId}: the answer has no PublicKey`);
  if (out.KeySpec && out.KeySpec !== 'ECC_NIST_P256')
    throw new DigestSigningConfigError(`${keyId}: must be an ECC_NIST_P256 key (it is ${out.KeySpec})`);
  return createPublicKey({ key: Buffer.from(out.PublicKey, 'base64'), format: 'der', type: 'spki' });
}

/**
 * The signer the environment configures for an archive: `DIGEST_SIGNING_KEY_ARN` (KMS), else
 * `DIGEST_SIGNING_KEY_FILE`, else for a folder archive its own `_keys/digest-signing-key.pem`
 * (created on first use). An S3 archive with neither fails: digests are never written unsigned.
 */
export async function digestSignerFromEnv(
  archiveUri: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<DigestSigner> {
  if (env.DIGEST_SIGNING_KEY_ARN) return new KmsDigestSigner(env.DIGEST_SIGNING_KEY_ARN, env);
  if (env.DIGEST_SIGNING_KEY_FILE) return loadOrCreateKeyFile(path.resolve(env.DIGEST_SIGNING_KEY_FILE));
  const location = parseArchiveUri(archiveUri);
  if (location.kind === 'file')
    return loadOrCreateKeyFile(path.join(location.dir, LOCAL_DIGEST_KEY), { archiveKeysFolder: true });
  throw new DigestSigningConfigError(
    `${archiveUri}: digests must be signed: set DIGEST_SIGNING_KEY_ARN (an ECC_NIST_P256 SIGN_VERIFY KMS key) or DIGEST_SIGNING_KEY_FILE (a PEM EC P-256 key file)`,
  );
}
