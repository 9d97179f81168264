/**
 * `verify` as a user runs it: the real CLI ingests from the local CodeCatalyst server into a folder
 * (and into S3 with the local KMS), then `verify` checks the untouched archive and copies of it with
 * one kind of tampering each.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DigestDocument, serializeDigest, signDigest } from '../../../lambdas/core/digest';
import { LocalDigestSigner } from '../../../lambdas/core/digest-signer';
import { DAY_MS, HOUR_MS, MINUTE_MS, utcDay } from '../../../lambdas/shared/src/time';
import { diffArchive, readCodeCatalystArchive } from '../../helpers/archive-reader';
import { clockEnv, pinnedClock } from '../../helpers/clock';
import { type ProcessResult, runCli } from '../../helpers/run-process';
import { type CodeCatalystServer, startCodeCatalystServer } from '../../support/codecatalyst-server';
import { type KmsServer, startKmsServer } from '../../support/kms-server';
import { type S3TestServer, startS3Server } from '../../support/s3-server';
import { generateEvents } from '../../support/sample-events';

const TOKEN = 'pat-verify-test-0123456789';
const SPACE = 'verify-space';
const DIGESTS = `_digests/codecatalyst_event_logs/space=${SPACE}`;
let cc: CodeCatalystServer;
let work: string;
let base: string;
let cases = 0;
// 00:30 UTC on a leap day: yesterday (Feb 28) is not final until 02:00, when its last window is past the
// two-hour lookback, so the chain is sealed through Feb 27.
const clock = pinnedClock(Date.UTC(2028, 1, 29, 0, 30));
const now = clock();
// Six days of events, the newest three hours old.
const day = (daysAgo: number): string => utcDay(now - daysAgo * DAY_MS);
const dataFile = (dir: string, daysAgo: number, name = 'events.parquet'): string =>
  path.join(dir, `codecatalyst_event_logs/space=${SPACE}/dt=${day(daysAgo)}/${name}`);
const digestFile = (dir: string, sequence: number): string =>
  path.join(dir, DIGESTS, `${String(sequence).padStart(10, '0')}.json`);

function cli(args: string[], env: Record<string, string> = {}): Promise<ProcessResult> {
  return runCli(args, {
    cwd: work,
    clock,
    env: {
      AWS_ENDPOINT_URL_CODECATALYST: cc.url,
      CODECATALYST_TOKEN: TOKEN,
      ...env,
    },
  });
}

const ingest = (archive: string, env: Record<string, string> = {}): Promise<ProcessResult> =>
  cli(
    ['ingest', '--source', 'codecatalyst', '--space', SPACE, '--archive', archive, '--backfill-days', '6'],
    env,
  );

/** A fresh copy of the untouched archive. */
function copy(): string {
  const dir = path.join(work, `case-${++cases}`);
  cpSync(base, dir, { recursive: true });
  return dir;
}

beforeAll(async () => {
  cc = await startCodeCatalystServer({
    now: clock,
    tokens: [TOKEN],
    spaces: {
      [SPACE]: generateEvents({ count: 1_500, fromMs: now - 6 * DAY_MS, toMs: now - 3 * HOUR_MS, seed: 11 }),
    },
  });
  work = mkdtempSync(path.join(tmpdir(), 'verify-cli-'));
  base = path.join(work, 'base');
  const run = await ingest(base);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
});
afterAll(async () => {
  await cc.close();
  rmSync(work, { recursive: true, force: true });
});

describe('eventlog-archive verify on a folder archive', () => {
  it('passes the untouched archive', async () => {
    const { code, stdout } = await cli(['verify', '--archive', base]);
    expect(stdout).toMatch(
      new RegExp(
        `codecatalyst ${SPACE}: \\d+ digests, sealed ${day(6)} to ${day(2)}, \\d+ data objects checked.*: ok`,
      ),
    );
    expect(stdout).toMatch(/^verified: 1 instances, \d+ digests, \d+ data objects checked, 0 problems$/m);
    expect(code).toBe(0);
    const json = await cli(['verify', '--archive', base, '--json']);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ ok: true, problems: 0 });
    expect(report.instances[0].digests).toBeGreaterThanOrEqual(5);
  });

  it.each<[string, (dir: string) => void, RegExp]>([
    [
      'a modified data file',
      (dir) =>
        writeFileSync(dataFile(dir, 3), Buffer.concat([readFileSync(dataFile(dir, 3)), Buffer.from([0])])),
      /^CHANGED codecatalyst verify-space \S+: .*events\.parquet: SHA-256 differs from digest \d+/m,
    ],
    [
      'a deleted data file',
      (dir) => unlinkSync(dataFile(dir, 3)),
      /^REMOVED .*events\.parquet: in digest \d+ of .*, but missing/m,
    ],
    [
      'an added data file',
      (dir) => cpSync(dataFile(dir, 3), dataFile(dir, 3, 'extra.parquet')),
      /^ADDED .*extra\.parquet: not in digest/m,
    ],
    [
      'a data file of an instance that was never ingested',
      (dir) => {
        const fake = dataFile(dir, 3).replace(`space=${SPACE}`, 'space=planted');
        mkdirSync(path.dirname(fake), { recursive: true });
        cpSync(dataFile(dir, 3), fake);
      },
      /^ADDED codecatalyst planted \S+: .*space=planted\/.*: no digest and no ledger record of its day/m,
    ],
    ['a deleted digest', (dir) => unlinkSync(digestFile(dir, 3)), /^MISSING-DIGEST .*digest 3 is missing/m],
    [
      'two consecutive deleted digests',
      (dir) => {
        unlinkSync(digestFile(dir, 2));
        unlinkSync(digestFile(dir, 3));
      },
      /^MISSING-DIGEST .*digests 2 to 3 are missing/m,
    ],
    [
      'two swapped digests',
      (dir) => {
        const [a, b] = [readFileSync(digestFile(dir, 2)), readFileSync(digestFile(dir, 3))];
        writeFileSync(digestFile(dir, 2), b);
        writeFileSync(digestFile(dir, 3), a);
      },
      /^REORDERED-DIGEST .*holds digest 3, not 2/m,
    ],
    [
      'a digest without its signature',
      (dir) => {
        const doc = JSON.parse(readFileSync(digestFile(dir, 2), 'utf8')) as DigestDocument;
        delete doc.signature;
        writeFileSync(digestFile(dir, 2), serializeDigest(doc));
      },
      /^UNSIGNED-DIGEST .*0000000002\.json: has no signature/m,
    ],
  ])('finds %s and exits 1', async (_name, tamper, message) => {
    const dir = copy();
    tamper(dir);
    const { code, stdout, stderr } = await cli(['verify', '--archive', dir]);
    expect(stderr).toBe('');
    expect(stdout).toMatch(message);
    expect(stdout).toMatch(/^FAILED: /m);
    expect(code).toBe(1);
  });

  it('finds a digest re-signed with another key', async () => {
    const dir = copy();
    const doc = JSON.parse(readFileSync(digestFile(dir, 2), 'utf8')) as DigestDocument;
    const { signature: _s, signing: _k, ...body } = doc;
    const { generateKeyPairSync } = await import('node:crypto');
    const forger = new LocalDigestSigner(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    writeFileSync(
      digestFile(dir, 2),
      serializeDigest(await signDigest({ ...body, events: body.events + 1 }, forger)),
    );
    const { code, stdout } = await cli(['verify', '--archive', dir]);
    expect(stdout).toMatch(
      /^BAD-SIGNATURE .*0000000002\.json: signed with another key \(fingerprint [0-9a-f]{16}…\), not the trusted key/m,
    );
    expect(code).toBe(1);
  });

  it('limits the data check to --from/--to', async () => {
    const dir = copy();
    unlinkSync(dataFile(dir, 3));
    const outside = await cli([
      'verify',
      '--archive',
      dir,
      '--from',
      new Date(now - 2 * DAY_MS).toISOString(),
    ]);
    expect(outside.code).toBe(0);
    const inside = await cli(['verify', '--archive', dir, '--to', new Date(now - 2 * DAY_MS).toISOString()]);
    expect(inside.code).toBe(1);
  });

  it.each([
    [['verify'], /--archive: is required/],
    [['verify', '--archive', 'x', '--from', 'monday'], /--from: must be an RFC 3339 timestamp/],
    [
      ['verify', '--archive', 'x', '--public-key', 'no-such.pem'],
      /--public-key: must name a readable PEM file/,
    ],
    [['verify', '--archive', 'x', '--source', 'nope'], /--source: must be one of/],
  ])('exits 2 with one line for %j', async (args, message) => {
    const { code, stderr } = await cli(args);
    expect(stderr).toMatch(message);
    expect(code).toBe(2);
  });

  it('a run killed after a digest write, then rerun: the chain is valid and the archive equals the source', async () => {
    const dir = path.join(work, 'killed');
    const killed = await ingest(dir, { EVENTLOG_ARCHIVE_TEST_KILL_AT: 'digest-written:2' });
    expect(killed.code).toBeNull();
    // The killed run's lease holds for five minutes: the rerun (and verify) run six minutes later.
    const later = clockEnv(() => clock() + 6 * MINUTE_MS);
    const rerun = await ingest(dir, later);
    expect(rerun.stdout).toMatch(/^complete: /);
    expect(rerun.code).toBe(0);
    const verify = await cli(['verify', '--archive', dir], later);
    expect(verify.stdout).toMatch(/^verified: /m);
    expect(verify.code).toBe(0);
    const diff = diffArchive(await readCodeCatalystArchive(dir), cc.events(SPACE) as never);
    expect([diff.missing.length, diff.duplicates.length, diff.different.length, diff.extra.length]).toEqual([
      0, 0, 0, 0,
    ]);
  });
});

describe('eventlog-archive verify on S3 with KMS-signed digests', () => {
  let s3: S3TestServer;
  let kms: KmsServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    [s3, kms] = await Promise.all([startS3Server({ buckets: ['verify-bucket'] }), startKmsServer()]);
    env = {
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ENDPOINT_URL_KMS: kms.url,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    };
  });
  afterAll(async () => {
    await Promise.all([s3?.close(), kms?.close()]);
  });

  it('refuses to ingest into S3 without a signing key, naming both variables', async () => {
    const { code, stderr } = await ingest('s3://verify-bucket/unsigned', env);
    expect(stderr).toMatch(/DIGEST_SIGNING_KEY_ARN .*DIGEST_SIGNING_KEY_FILE/);
    expect(code).toBe(1);
  });

  it('signs with KMS; verify checks with KMS GetPublicKey or a pinned key, and finds a deleted object', async () => {
    const archive = 's3://verify-bucket/a';
    const run = await ingest(archive, { ...env, DIGEST_SIGNING_KEY_ARN: kms.keyArn });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(kms.requests.Sign).toBeGreaterThanOrEqual(5);

    const ok = await cli(['verify', '--archive', archive], env);
    expect(ok.stdout).toMatch(/^verified: 1 instances/m);
    expect(ok.stderr).toMatch(/warning: the signing key is not pinned/);
    expect(ok.code).toBe(0);
    expect(kms.requests.GetPublicKey).toBeGreaterThanOrEqual(2);

    // Pinned by ARN (the stack output): clean, and no warning.
    const byArn = await cli(['verify', '--archive', archive, '--signing-key-arn', kms.keyArn], env);
    expect(byArn.stderr).toBe('');
    expect(byArn.code).toBe(0);
    // A chain that names another KMS key fails against the pinned one, even though that key's
    // signatures are valid: whoever re-signs with a key of their own is caught.
    const other = await startKmsServer({
      keyId: '99999999-aaaa-bbbb-cccc-dddddddddddd',
      account: '444455556666',
    });
    try {
      const resigned = 's3://verify-bucket/resigned';
      const otherRun = await ingest(resigned, {
        ...env,
        DIGEST_SIGNING_KEY_ARN: other.keyArn,
        AWS_ENDPOINT_URL_KMS: other.url,
      });
      expect(otherRun.code).toBe(0);
      const unpinned = await cli(['verify', '--archive', resigned], {
        ...env,
        AWS_ENDPOINT_URL_KMS: other.url,
      });
      expect(unpinned.code).toBe(0);
      const caught = await cli(['verify', '--archive', resigned, '--signing-key-arn', kms.keyArn], env);
      expect(caught.stdout).toContain(`not the pinned key ${kms.keyArn}`);
      expect(caught.code).toBe(1);
    } finally {
      await other.close();
    }
    const badArn = await cli(['verify', '--archive', archive, '--signing-key-arn', 'alias/x'], env);
    expect(badArn.stderr).toMatch(/^eventlog-archive verify: --signing-key-arn: must be a KMS key ARN/);
    expect(badArn.code).toBe(2);

    const pem = path.join(work, 'kms-public.pem');
    writeFileSync(pem, kms.publicKey.export({ type: 'spki', format: 'pem' }));
    const pinned = await cli(['verify', '--archive', archive, '--public-key', pem], env);
    expect(pinned.code).toBe(0);

    await s3.client().send(
      new DeleteObjectCommand({
        Bucket: 'verify-bucket',
        Key: `a/codecatalyst_event_logs/space=${SPACE}/dt=${day(2)}/events.parquet`,
      }),
    );
    const removed = await cli(['verify', '--archive', archive, '--public-key', pem], env);
    expect(removed.stdout).toMatch(/^REMOVED /m);
    expect(removed.code).toBe(1);
  });
});
