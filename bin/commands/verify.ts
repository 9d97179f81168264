/**
 * `verify`: checks the archive against its signed digest chains, as `aws cloudtrail validate-logs`
 * does for CloudTrail. For every source instance it checks the chain (signatures, sequence, links,
 * days) and then the data objects in [--from, --to] against their days' digests. Exit 0 when
 * clean, 1 when anything was added, removed, changed, or a digest is missing, reordered or unsigned.
 */
import type { KeyObject } from 'node:crypto';
import path from 'node:path';
import { type Clock, MINUTE_MS, utcDay } from '@eventlog-archive/shared';
import { DIGEST_ROOT, type DigestDocument, digestPrefix, readStoredDigests } from '../../lambdas/core/digest';
import { KmsDigestSigner, LOCAL_DIGEST_KEY, readPublicKeyFile } from '../../lambdas/core/digest-signer';
import {
  dueSealFindings,
  type Finding,
  FindingKind,
  tailFindings,
  verifyChain,
  verifyData,
} from '../../lambdas/core/digest-verify';
import { LEDGER_ROOT, type TableLocation } from '../../lambdas/core/layout';
import { listLedgerDays, readLedgerDays } from '../../lambdas/core/ledger';
import { SOURCE_DEFINITIONS } from '../../lambdas/core/sources';
import type { SourceDefinition } from '../../lambdas/core/sources/types';
import { type ArchiveStore, openArchive, parseArchiveUri } from '../../lambdas/core/store';
import {
  archiveOption,
  instanceOption,
  intOption,
  parse,
  selectionOptions,
  sourceOption,
  timeOption,
  tuning,
  UsageError,
  type Values,
} from './args';
import { writeLine } from './terminal';

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

export async function verifyCommand(args: string[], clock: Clock): Promise<number> {
  const options = verifyArguments(args);
  const { values, archive } = options;
  const publicKeyFor = await publicKeyResolver(archive, options.publicKeyFile, options.signingKeyArn);
  const store = await openArchive(archive);
  const check: InstanceCheck = { ...options, store, publicKeyFor, now: clock() };

  const reports: InstanceVerification[] = [];
  for (const source of options.sources) {
    const only = instanceOption(values, source, false);
    const partitions = only ? [source.partitionValue(only)] : await instancePartitions(store, source);
    for (const partitionValue of partitions)
      reports.push(await verifyInstance(check, source, partitionValue, only));
  }
  return printReports(archive, reports, Boolean(values.json));
}

/** The command line of `verify`, checked. */
interface VerifyArguments {
  values: Values;
  archive: string;
  sources: SourceDefinition[];
  /** The days of data to check, from `--from` and `--to`. */
  range: { fromDay?: string; toDay?: string };
  sliceMs: number;
  lookbackMs: number;
  graceMs: number;
  publicKeyFile: string | undefined;
  signingKeyArn: string | undefined;
}

function verifyArguments(args: string[]): VerifyArguments {
  const values = parse(args, {
    ...selectionOptions(),
    'public-key': { type: 'string' },
    'signing-key-arn': { type: 'string' },
    'seal-grace-minutes': { type: 'string' },
    json: { type: 'boolean' },
  });
  const archive = archiveOption(values);
  const sources = values.source === undefined ? Object.values(SOURCE_DEFINITIONS) : [sourceOption(values)];
  const from = timeOption(values, 'from');
  const to = timeOption(values, 'to');
  if (from !== undefined && to !== undefined && from >= to)
    throw new UsageError('--to: must be later than --from');
  const { sliceMs, lookbackMs } = tuning(values);
  const graceMs = intOption(values, 'seal-grace-minutes', 60, 0, 10080) * MINUTE_MS;
  const range = {
    ...(from !== undefined ? { fromDay: utcDay(from) } : {}),
    // `--to` is exclusive, as everywhere in the CLI.
    ...(to !== undefined ? { toDay: utcDay(to - 1) } : {}),
  };
  const signingKeyArn =
    (values['signing-key-arn'] as string | undefined) ?? process.env.DIGEST_SIGNING_KEY_ARN;
  if (signingKeyArn !== undefined && !/^arn:aws[\w-]*:kms:[\w-]+:\d{12}:key\/[\w-]+$/.test(signingKeyArn))
    throw new UsageError(
      `--signing-key-arn: must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), got "${signingKeyArn}"`,
    );
  const publicKeyFile = values['public-key'] as string | undefined;
  return { values, archive, sources, range, sliceMs, lookbackMs, graceMs, publicKeyFile, signingKeyArn };
}

/** What checking one instance needs besides the instance. */
interface InstanceCheck extends VerifyArguments {
  store: ArchiveStore;
  publicKeyFor: (doc: DigestDocument) => Promise<KeyObject>;
  now: number;
}

/**
 * One instance: its chain, its data in the range against the chain, and the tail against the ledger.
 * `only` is the instance named on the command line, if any.
 */
async function verifyInstance(
  check: InstanceCheck,
  source: SourceDefinition,
  partitionValue: string,
  only: string | undefined,
): Promise<InstanceVerification> {
  const { store, range, sliceMs, lookbackMs, graceMs, now } = check;
  const table: TableLocation = { table: source.table, partitionKey: source.partitionKey, partitionValue };
  const chain = await verifyChain(await readStoredDigests(store, table), check.publicKeyFor, {
    table,
    source: source.name,
    partitionValueOf: (instance) => source.partitionValue(instance),
  });
  const data = await verifyData(store, table, chain, range);
  const ledgerDays = await listLedgerDays(store, table);
  const ledger = await readLedgerDays(store, table, ledgerDays);
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
  const someDigest = chain.governing.values().next().value as DigestDocument | undefined;
  return {
    source: source.name,
    // The ledger's name first: a digest may have been copied in from another instance's folder.
    instance: only ?? ledger.get(ledgerDays[0] ?? '')?.instance ?? someDigest?.instance ?? partitionValue,
    partition: `${source.partitionKey}=${partitionValue}`,
    digests: chain.digests,
    firstSealedDay: chain.firstSealedDay ?? null,
    lastSealedDay: chain.lastSealedDay ?? null,
    dataObjectsChecked: data.checked,
    problems: findings.filter((f) => f.problem),
    notes: findings.filter((f) => !f.problem),
  };
}

/** Prints the reports (as JSON with `json`) and returns the exit code: 0 when no problem was found. */
function printReports(archive: string, reports: readonly InstanceVerification[], json: boolean): number {
  const problems = reports.reduce((n, r) => n + r.problems.length, 0);
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ archive, ok: problems === 0, problems, instances: reports }, null, 2)}\n`,
    );
    return problems === 0 ? 0 : 1;
  }
  // Instance names, days, keys and messages come from the archive: printable, never raw.
  for (const r of reports) {
    for (const p of r.problems)
      writeLine(
        process.stdout,
        `${p.kind.toUpperCase()} ${r.source} ${r.instance} ${p.day ?? '-'}: ${p.message}`,
      );
    const sealed = r.lastSealedDay ? `sealed ${r.firstSealedDay} to ${r.lastSealedDay}` : 'nothing sealed';
    const unsealed = r.notes.length > 0 ? `, ${r.notes.length} data objects not covered by a digest yet` : '';
    writeLine(
      process.stdout,
      `${r.source} ${r.instance}: ${r.digests} digests, ${sealed}, ${r.dataObjectsChecked} data objects checked${unsealed}: ` +
        `${r.problems.length === 0 ? 'ok' : `${r.problems.length} problems`}`,
    );
  }
  const checked = reports.reduce((n, r) => n + r.dataObjectsChecked, 0);
  const digests = reports.reduce((n, r) => n + r.digests, 0);
  process.stdout.write(
    `${problems === 0 ? 'verified' : 'FAILED'}: ${reports.length} instances, ${digests} digests, ${checked} data objects checked, ${problems} problems\n`,
  );
  return problems === 0 ? 0 : 1;
}

function inRange(day: string, range: { fromDay?: string; toDay?: string }): boolean {
  return (
    (range.fromDay === undefined || day >= range.fromDay) && (range.toDay === undefined || day <= range.toDay)
  );
}

/**
 * The key every digest must verify with: `--public-key`, else the KMS key pinned by
 * `--signing-key-arn` / `DIGEST_SIGNING_KEY_ARN` (a digest naming another key fails), else
 * `DIGEST_SIGNING_KEY_FILE`, else the folder archive's own key file; for an S3 archive without any
 * of them, KMS GetPublicKey of the key the digest names, with a warning: whoever can write the
 * bucket could re-sign a chain with a KMS key of their own, so pin the key.
 */
async function publicKeyResolver(
  archive: string,
  publicKeyFile: string | undefined,
  signingKeyArn?: string,
): Promise<(doc: DigestDocument) => Promise<KeyObject>> {
  if (publicKeyFile !== undefined) {
    let key: KeyObject;
    try {
      key = await readPublicKeyFile(path.resolve(publicKeyFile));
    } catch (err) {
      throw new UsageError(
        `--public-key: must name a readable PEM file with an EC P-256 key (${(err as Error).message})`,
      );
    }
    return async () => key;
  }
  if (signingKeyArn !== undefined) {
    const pinned = new KmsDigestSigner(signingKeyArn).publicKey();
    pinned.catch(() => undefined);
    return async (doc) => {
      const keyId = String(doc.signing?.keyId ?? '');
      if (keyId !== signingKeyArn)
        throw new Error(`it names key ${keyId}, not the pinned key ${signingKeyArn}`);
      return pinned;
    };
  }
  const location = parseArchiveUri(archive);
  const keyFile =
    process.env.DIGEST_SIGNING_KEY_FILE ??
    (location.kind === 'file' ? path.join(location.dir, LOCAL_DIGEST_KEY) : undefined);
  if (keyFile !== undefined) {
    const key = readPublicKeyFile(path.resolve(keyFile));
    key.catch(() => undefined);
    return () => key;
  }
  process.stderr.write(
    'warning: the signing key is not pinned; digests are checked with the KMS key each one names. Pass --signing-key-arn (the DigestSigningKeyArn stack output) or --public-key.\n',
  );
  const kmsKeys = new Map<string, Promise<KeyObject>>();
  return (doc) => {
    const keyId = String(doc.signing?.keyId ?? '');
    let key = kmsKeys.get(keyId);
    if (!key) {
      key = (async () => {
        if (!keyId.startsWith('arn:'))
          throw new Error(
            `it names key ${keyId}, a key file: pass its key with --public-key or DIGEST_SIGNING_KEY_FILE`,
          );
        return new KmsDigestSigner(keyId).publicKey();
      })();
      kmsKeys.set(keyId, key);
    }
    return key;
  };
}

/** Partition values of a source's instances that have digests, ledger documents or data. */
async function instancePartitions(store: ArchiveStore, source: SourceDefinition): Promise<string[]> {
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
