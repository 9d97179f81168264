/**
 * `GET /console/api/verify` (docs/console-api.md#verify): `verify` run by `serve` with the CLI's
 * defaults for the archive served, told as a stream of messages: a start, progress at least once an
 * instance and every {@link PROGRESS_EVERY} data objects, then one result with the reports
 * `verify --json` prints (plus each chain's newest digest) and the key the digests were checked with.
 */
import { validationError } from '@eventlog-archive/shared';
import {
  type ChainHead,
  DEFAULT_SEAL_GRACE_MS,
  dayRange,
  digestKeys,
  type InstanceVerification,
  type VerificationSettings,
  verificationTargets,
  verifyInstance,
} from '../../core/archive-verification';
import { publicKeyFingerprint } from '../../core/digest-signer';
import { DEFAULT_WINDOWS } from '../../core/ledger';
import { SOURCE_DEFINITIONS } from '../../core/sources';
import type { SourceDefinition } from '../../core/sources/types';
import type { ArchiveStore } from '../../core/store';
import { single } from '../list-system-events';
import { instanceParam, type QueryParams, rangeParams, sourceParam } from './params';

/** A progress message at least this often, in data objects checked. */
export const PROGRESS_EVERY = 100;

export interface VerifyRequest {
  /** The sources to check (every one unless `source` is given). */
  sources: SourceDefinition[];
  /** The one instance to check, of the one source given. */
  instance?: string;
  /** The data of the days of [from, to) is checked (every day when absent); the chains always whole. */
  from?: number;
  to?: number;
}

export type VerifyResult = {
  type: 'result';
  ok: boolean;
  /** The key the digests were checked with; null when none could be read. */
  signingKey: { fingerprint: string; origin: 'file' | 'kms' } | null;
  reports: (InstanceVerification & { chainHead: ChainHead | null })[];
};

export type VerifyMessage =
  | { type: 'start'; instances: number }
  | {
      type: 'progress';
      /** The instance being checked (or just checked). */
      instance: string;
      source: string;
      /** Instances checked completely so far, of `total`. */
      done: number;
      total: number;
      /** Data objects compared with a digest so far, over all instances. */
      dataObjectsChecked: number;
    }
  | VerifyResult
  | { type: 'error'; message: string };

/** Validates `source`, `instance` (which needs `source`), `from` and `to`. */
export function parseVerifyRequest(query: QueryParams): VerifyRequest {
  const source = sourceParam(query, true);
  let instance: string | undefined;
  if (single(query, 'instance') !== undefined) {
    if (!source) throw validationError('instance', 'needs source (the source of the instance)');
    instance = instanceParam(query, source);
  }
  return {
    sources: source ? [source] : Object.values(SOURCE_DEFINITIONS),
    ...(instance !== undefined ? { instance } : {}),
    ...rangeParams(query),
  };
}

export interface VerificationDeps {
  /** The archive's URI: a folder archive's own key file is the default key. */
  archive: string;
  store: ArchiveStore;
  now: number;
  /** Where `DIGEST_SIGNING_KEY_ARN` and `DIGEST_SIGNING_KEY_FILE` are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Aborted when the result is no longer wanted: the check stops between two data objects. */
  signal?: AbortSignal;
}

/** Runs the check, telling `emit` the start and the progress; returns the result message. */
export async function runVerification(
  request: VerifyRequest,
  deps: VerificationDeps,
  emit: (message: VerifyMessage) => void,
): Promise<VerifyResult> {
  const { store, signal } = deps;
  const keys = await digestKeys(deps.archive, deps.env ? { env: deps.env } : {});
  const settings: VerificationSettings = {
    store,
    publicKeyFor: keys.publicKeyFor,
    now: deps.now,
    range: dayRange(request.from, request.to),
    ...DEFAULT_WINDOWS,
    graceMs: DEFAULT_SEAL_GRACE_MS,
  };
  const targets = await verificationTargets(store, request.sources, () => request.instance);
  const total = targets.length;
  emit({ type: 'start', instances: total });
  const reports: VerifyResult['reports'] = [];
  let checked = 0;
  for (const [done, target] of targets.entries()) {
    signal?.throwIfAborted();
    const progress = (instance: string, inInstance: number, finished: boolean): void =>
      emit({
        type: 'progress',
        instance,
        source: target.source.name,
        done: done + (finished ? 1 : 0),
        total,
        dataObjectsChecked: checked + inInstance,
      });
    const { report, chainHead } = await verifyInstance(settings, target, {
      ...(signal ? { signal } : {}),
      onChecked: ({ instance, dataObjectsChecked }) => {
        if (dataObjectsChecked % PROGRESS_EVERY === 0) progress(instance, dataObjectsChecked, false);
      },
    });
    progress(report.instance, report.dataObjectsChecked, true);
    checked += report.dataObjectsChecked;
    reports.push({ ...report, chainHead });
  }
  const key = await keys.trustedKey();
  return {
    type: 'result',
    ok: reports.every((r) => r.problems.length === 0),
    signingKey: key
      ? { fingerprint: `SHA256:${publicKeyFingerprint(key, 'base64')}`, origin: keys.origin }
      : null,
    reports,
  };
}
