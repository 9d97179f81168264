/**
 * A local KMS for tests: `Sign` and `GetPublicKey` (awsJson1_1, `X-Amz-Target: TrentService.*`) on a
 * real ECC_NIST_P256 key, refusing requests that are not SigV4-signed for the `kms` service (header
 * shape only, as test/helpers/secrets-manager-stub.ts does). `Sign` with `MessageType: DIGEST` signs
 * the given 32-byte hash as it is, as KMS does; node:crypto cannot sign a precomputed hash, so the
 * ECDSA step is done here with BigInt arithmetic (test code only: random nonce, no side-channel care).
 */
import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface KmsServer {
  url: string;
  /** The key's ARN (its region is us-east-1). */
  keyArn: string;
  publicKey: KeyObject;
  /** Requests by operation (including refused ones). */
  requests: Record<string, number>;
  /** The next this many requests are answered 400 ThrottlingException (then served normally). */
  throttleNext: number;
  close(): Promise<void>;
}

const SIGV4 =
  /^AWS4-HMAC-SHA256 Credential=[A-Za-z0-9]+\/\d{8}\/[a-z0-9-]+\/kms\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/;

// NIST P-256 (FIPS 186-4, D.1.2.3).
const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const A = P - 3n;
const G: Point = {
  x: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
  y: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
};
type Point = { x: bigint; y: bigint } | null;

const mod = (a: bigint, m: bigint): bigint => ((a % m) + m) % m;

function inverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [mod(a, m), m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return mod(oldS, m);
}

function add(p1: Point, p2: Point): Point {
  if (!p1) return p2;
  if (!p2) return p1;
  if (p1.x === p2.x && mod(p1.y + p2.y, P) === 0n) return null;
  const slope =
    p1.x === p2.x && p1.y === p2.y
      ? mod((3n * p1.x * p1.x + A) * inverse(2n * p1.y, P), P)
      : mod((p2.y - p1.y) * inverse(p2.x - p1.x, P), P);
  const x = mod(slope * slope - p1.x - p2.x, P);
  return { x, y: mod(slope * (p1.x - x) - p1.y, P) };
}

function multiply(k: bigint, point: Point): Point {
  let result: Point = null;
  let addend = point;
  for (let e = k; e > 0n; e >>= 1n) {
    if (e & 1n) result = add(result, addend);
    addend = add(addend, addend);
  }
  return result;
}

const toBigInt = (bytes: Uint8Array): bigint => BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);

function derInteger(value: bigint): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
}

/** ECDSA over P-256 of a 32-byte hash, DER-encoded (what KMS returns). */
export function signDigestP256(privateScalar: bigint, digest: Uint8Array): Buffer {
  const z = toBigInt(digest);
  for (;;) {
    const k = mod(toBigInt(randomBytes(40)), N - 1n) + 1n;
    const r = mod(multiply(k, G)!.x, N);
    if (r === 0n) continue;
    const s = mod(inverse(k, N) * (z + r * privateScalar), N);
    if (s === 0n) continue;
    const body = Buffer.concat([derInteger(r), derInteger(s)]);
    return Buffer.concat([Buffer.from([0x30, body.length]), body]);
  }
}

export async function startKmsServer(options: { keyId?: string; account?: string } = {}): Promise<KmsServer> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const scalar = toBigInt(Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url'));
  const keyId = options.keyId ?? '1234abcd-12ab-34cd-56ef-1234567890ab';
  const keyArn = `arn:aws:kms:us-east-1:${options.account ?? '111122223333'}:key/${keyId}`;
  const server: KmsServer = {
    url: '',
    keyArn,
    publicKey,
    requests: {},
    throttleNext: 0,
    close: async () => undefined,
  };
  const http: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    req.on('end', () => {
      const operation = String(req.headers['x-amz-target'] ?? '').replace(/^TrentService\./, '');
      server.requests[operation] = (server.requests[operation] ?? 0) + 1;
      const answer = (status: number, json: Record<string, unknown>): void => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(json));
      };
      const fail = (status: number, type: string, message: string): void =>
        answer(status, { __type: type, message });
      if (!SIGV4.test(String(req.headers.authorization ?? '')))
        return fail(400, 'IncompleteSignatureException', 'the request is not SigV4-signed for kms');
      if (server.throttleNext > 0) {
        server.throttleNext--;
        return fail(400, 'ThrottlingException', 'Rate exceeded');
      }
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(body) as Record<string, unknown>;
      } catch {
        return fail(400, 'SerializationException', 'body is not JSON');
      }
      if (input.KeyId !== keyArn && input.KeyId !== keyId)
        return fail(400, 'NotFoundException', `Key '${String(input.KeyId)}' does not exist`);
      if (operation === 'GetPublicKey') {
        return answer(200, {
          KeyId: keyArn,
          KeySpec: 'ECC_NIST_P256',
          KeyUsage: 'SIGN_VERIFY',
          SigningAlgorithms: ['ECDSA_SHA_256'],
          PublicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
        });
      }
      if (operation === 'Sign') {
        if (input.SigningAlgorithm !== 'ECDSA_SHA_256')
          return fail(400, 'ValidationException', 'SigningAlgorithm: must be ECDSA_SHA_256 for this key');
        if (input.MessageType !== 'DIGEST')
          return fail(400, 'ValidationException', 'this stand-in signs MessageType DIGEST only');
        const digest = Buffer.from(String(input.Message ?? ''), 'base64');
        if (digest.length !== 32)
          return fail(400, 'ValidationException', 'Message: a DIGEST for ECDSA_SHA_256 must be 32 bytes');
        return answer(200, {
          KeyId: keyArn,
          SigningAlgorithm: 'ECDSA_SHA_256',
          Signature: signDigestP256(scalar, digest).toString('base64'),
        });
      }
      return fail(400, 'UnknownOperationException', `unknown operation ${operation}`);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  server.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  server.close = () => new Promise<void>((resolve) => http.close(() => resolve()));
  return server;
}
