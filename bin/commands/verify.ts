/**
 * `verify`: checks the archive against its signed digest chains, as `aws cloudtrail validate-logs`
 * does for CloudTrail. For every source instance it checks the chain (signatures, sequence, links,
 * days) and then the data objects in [--from, --to] against their days' digests. Exit 0 when
 * clean, 1 when anything was added, removed, changed, or a digest is missing, reordered or unsigned.
 */
import { type Clock, MINUTE_MS } from '@eventlog-archive/shared';
import type {
  DigestKeys,
  InstanceVerification,
  VerificationSettings,
} from '../../lambdas/core/archive-verification';
import { SOURCE_DEFINITIONS } from '../../lambdas/core/sources';
import type { SourceDefinition } from '../../lambdas/core/sources/types';
import { openArchive } from '../../lambdas/core/store';
import { DEFAULT_SEAL_GRACE_MS, dayRange } from '../../lambdas/core/verification-range';
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

export async function verifyCommand(args: string[], clock: Clock): Promise<number> {
  const options = verifyArguments(args);
  const { values, archive } = options;
  // The checks (and the signers they verify with, KMS among them) load once the command line is good.
  const { verificationTargets, verifyInstance } = await import('../../lambdas/core/archive-verification');
  const keys = await publicKeys(archive, options.publicKeyFile, options.signingKeyArn);
  const store = await openArchive(archive);
  const check: VerificationSettings = { ...options, store, publicKeyFor: keys.publicKeyFor, now: clock() };

  const reports: InstanceVerification[] = [];
  const targets = await verificationTargets(store, options.sources, (source) =>
    instanceOption(values, source, false),
  );
  for (const target of targets) reports.push((await verifyInstance(check, target)).report);
  return printReports(archive, reports, Boolean(values.json));
}

/** The command line of `verify`, checked. */
interface VerifyArguments {
  values: Values;
  archive: string;
  sources: SourceDefinition[];
  /** The days of data to check, from `--from` and `--to`. */
  range: VerificationSettings['range'];
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
  const graceMs =
    intOption(values, 'seal-grace-minutes', DEFAULT_SEAL_GRACE_MS / MINUTE_MS, 0, 10080) * MINUTE_MS;
  const range = dayRange(from, to);
  const signingKeyArn =
    (values['signing-key-arn'] as string | undefined) ?? process.env.DIGEST_SIGNING_KEY_ARN;
  if (signingKeyArn !== undefined && !/^arn:aws[\w-]*:kms:[\w-]+:\d{12}:key\/[\w-]+$/.test(signingKeyArn))
    throw new UsageError(
      `--signing-key-arn: must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), got "${signingKeyArn}"`,
    );
  const publicKeyFile = values['public-key'] as string | undefined;
  return { values, archive, sources, range, sliceMs, lookbackMs, graceMs, publicKeyFile, signingKeyArn };
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

/**
 * The key every digest must verify with (`digestKeys`): an unreadable `--public-key` is a usage
 * error, and a key that nothing pins gets a warning.
 */
async function publicKeys(
  archive: string,
  publicKeyFile: string | undefined,
  signingKeyArn: string | undefined,
): Promise<DigestKeys> {
  const { digestKeys } = await import('../../lambdas/core/archive-verification');
  let keys: DigestKeys;
  try {
    keys = await digestKeys(archive, { publicKeyFile, signingKeyArn });
  } catch (err) {
    if (publicKeyFile === undefined) throw err;
    throw new UsageError(
      `--public-key: must name a readable PEM file with an EC P-256 key (${(err as Error).message})`,
    );
  }
  if (!keys.pinned)
    process.stderr.write(
      'warning: the signing key is not pinned; digests are checked with the KMS key each one names. Pass --signing-key-arn (the DigestSigningKeyArn stack output) or --public-key.\n',
    );
  return keys;
}
