/**
 * Delivery of archived days to an Amazon Security Lake custom source: each day of an instance as one
 * OCSF Parquet object (ocsf/export.ts) written to `s3://<bucket>/ext/<source name>/<key>` with the
 * custom source's provider role, assumed with its external id.
 *
 * What was delivered is tracked in a per-day export ledger in the archive,
 * `_exports/securitylake/<table>/<pk>=<value>/dt=<day>.json`, which records the SHA-256 of the archive
 * data object delivered. A day whose ledger names another data object (it grew, or was never
 * delivered) is delivered again, whole: its lake object has one name and is replaced, so an event is
 * in the lake exactly once. Delivery runs after the archive commit, and its errors are returned,
 * never thrown: Security Lake being down never fails the archive; the next run catches up.
 */
import { ArchiveError, errorSummary, iso, type Logger } from '@eventlog-archive/shared';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { endpointFor, signedRequest } from './aws-request';
import type { TableLocation } from './layout';
import { listLedgerDays, readLedgerDays } from './ledger';
import { lakeObjectOf, ocsfSourceOf, readArchivedDay } from './ocsf/export';
import type { SourceDefinition } from './sources/types';
import type { ArchiveStore } from './store';

/** One source kind's custom source: where its objects go and the role that may write them. */
export interface SecurityLakeTarget {
  /** The custom source's name (`ext/<sourceName>/` in the lake bucket). */
  readonly sourceName: string;
  /** The Security Lake bucket (`aws-security-data-lake-<region>-<id>`). */
  readonly bucket: string;
  /** The provider role Security Lake created for the custom source. */
  readonly providerRoleArn: string;
  /** The external id given as `providerIdentity.externalId`. */
  readonly externalId: string;
  /** The `region` partition (CodeCatalyst: us-west-2 unless given; Resilience Hub: the system's). */
  readonly region?: string;
  /** The `accountId` partition (CodeCatalyst: required; the stack fills in its account). */
  readonly accountId?: string;
}

/** The `SECURITY_LAKE` environment variable: targets by source name (`codecatalyst`, `resiliencehub`). */
export type SecurityLakeSettings = Readonly<Record<string, SecurityLakeTarget>>;

export const SECURITY_LAKE_ENV = 'SECURITY_LAKE';
export const EXPORTS_ROOT = '_exports';
/** Days delivered at most per run (oldest first): a long outage catches up over several runs. */
export const DEFAULT_MAX_DAYS_PER_RUN = 10;
/** Assumed-role credentials are renewed this long before they expire. */
const RENEW_BEFORE_MS = 5 * 60_000;

/** The settings in `SECURITY_LAKE`, or undefined when it is unset; a malformed value throws. */
export function securityLakeFromEnv(env: NodeJS.ProcessEnv = process.env): SecurityLakeSettings | undefined {
  const raw = env[SECURITY_LAKE_ENV];
  if (raw === undefined || raw === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ArchiveError(`${SECURITY_LAKE_ENV}: must be JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new ArchiveError(`${SECURITY_LAKE_ENV}: must be a JSON object of targets by source name`);
  for (const [name, target] of Object.entries(parsed as Record<string, Partial<SecurityLakeTarget>>)) {
    for (const field of ['sourceName', 'bucket', 'providerRoleArn', 'externalId'] as const)
      if (typeof target?.[field] !== 'string' || target[field] === '')
        throw new ArchiveError(`${SECURITY_LAKE_ENV}.${name}.${field}: is required`);
  }
  return parsed as SecurityLakeSettings;
}

// ---------------------------------------------------------------------------------------------
// STS AssumeRole (Query API) through the SigV4 helper, with the credentials cached.

export interface AssumeRoleOptions {
  readonly roleArn: string;
  readonly externalId: string;
  readonly sessionName?: string;
  /** `AWS_REGION`, `AWS_ENDPOINT_URL_STS` / `AWS_ENDPOINT_URL`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Who assumes the role; default: the default provider chain (the function's role). */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  readonly timeoutMs?: number;
}

/** The temporary credentials of one AssumeRole call. */
export async function assumeRole(options: AssumeRoleOptions): Promise<AwsCredentialIdentity> {
  const env = options.env ?? process.env;
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const endpoint = endpointFor('STS', `https://sts.${region}.amazonaws.com`, env);
  const body = new URLSearchParams({
    Action: 'AssumeRole',
    Version: '2011-06-15',
    RoleArn: options.roleArn,
    RoleSessionName: options.sessionName ?? 'eventlog-archive-security-lake',
    ExternalId: options.externalId,
    DurationSeconds: '3600',
  }).toString();
  const response = await signedRequest({
    service: 'sts',
    region,
    endpoint,
    method: 'POST',
    path: '/',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body,
    timeoutMs: options.timeoutMs ?? 10_000,
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  if (!response.ok) {
    // The error's code and message only: never the request (it carries the external id).
    const code = xmlValue(response.text, 'Code') ?? `Http${response.status}`;
    const message = xmlValue(response.text, 'Message') ?? `STS answered ${response.status}`;
    const err = new ArchiveError(`sts:AssumeRole ${options.roleArn}: ${code}: ${message}`);
    err.name = 'AssumeRoleError';
    throw err;
  }
  const credentials = xmlValue(response.text, 'Credentials');
  const accessKeyId = credentials && xmlValue(credentials, 'AccessKeyId');
  const secretAccessKey = credentials && xmlValue(credentials, 'SecretAccessKey');
  const sessionToken = credentials && xmlValue(credentials, 'SessionToken');
  const expiration = credentials && xmlValue(credentials, 'Expiration');
  if (
    !accessKeyId ||
    !secretAccessKey ||
    !sessionToken ||
    !expiration ||
    !Number.isFinite(Date.parse(expiration))
  )
    throw new ArchiveError(`sts:AssumeRole ${options.roleArn}: the answer carries no complete Credentials`);
  return { accessKeyId, secretAccessKey, sessionToken, expiration: new Date(expiration) };
}

function xmlValue(xml: string, tag: string): string | undefined {
  const match = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml);
  return match?.[1]
    ?.trim()
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&apos;', "'")
    .replaceAll('&amp;', '&');
}

const cachedCredentials = new Map<string, Promise<AwsCredentialIdentity>>();

/**
 * A credentials provider for the provider role: one AssumeRole per role and external id, reused
 * (across invocations of a warm function) until shortly before it expires; a failed call is not kept.
 */
export function assumedRoleProvider(
  options: AssumeRoleOptions & { now?: () => number },
): AwsCredentialIdentityProvider {
  const cacheKey = `${options.roleArn}\n${options.externalId}\n${endpointFor('STS', '', options.env ?? process.env)}`;
  const now = options.now ?? Date.now;
  return async () => {
    const cached = cachedCredentials.get(cacheKey);
    if (cached) {
      const credentials = await cached.catch(() => undefined);
      if (credentials?.expiration && credentials.expiration.getTime() - RENEW_BEFORE_MS > now())
        return credentials;
    }
    const fresh = assumeRole(options);
    cachedCredentials.set(cacheKey, fresh);
    fresh.catch(() => {
      if (cachedCredentials.get(cacheKey) === fresh) cachedCredentials.delete(cacheKey);
    });
    return fresh;
  };
}

/** Forgets every cached credential (tests). */
export function clearAssumedRoleCache(): void {
  cachedCredentials.clear();
}

// ---------------------------------------------------------------------------------------------
// The sink: the lake bucket, written with the provider role's credentials.

/** Where lake objects are written; `key` is the full key in the lake bucket (`ext/<name>/…`). */
export interface LakeSink {
  put(key: string, body: Uint8Array): Promise<void>;
}

/** The S3 sink of a target: the provider role assumed through STS, then PutObject into its bucket. */
export async function s3LakeSink(
  target: SecurityLakeTarget,
  options: {
    env?: NodeJS.ProcessEnv;
    credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  } = {},
): Promise<LakeSink> {
  const env = options.env ?? process.env;
  const { PutObjectCommand } = await import('@aws-sdk/client-s3');
  const { createS3Client } = await import('./s3-store');
  const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  const client = createS3Client({
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    // The lake bucket may be in another Region than the function.
    followRegionRedirects: true,
    credentials: assumedRoleProvider({
      roleArn: target.providerRoleArn,
      externalId: target.externalId,
      env,
      ...(options.credentials ? { credentials: options.credentials } : {}),
    }),
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
  });
  return {
    async put(key, body) {
      await client.send(
        new PutObjectCommand({
          Bucket: target.bucket,
          Key: key,
          Body: body,
          ContentLength: body.byteLength,
          ContentType: 'application/vnd.apache.parquet',
        }),
      );
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The export ledger and the delivery of an instance's pending days.

/** What the export ledger records of a delivered day. */
export interface ExportRecord {
  version: 1;
  day: string;
  /** The archive data object delivered and its SHA-256 (from the day's ledger). */
  data: { key: string; sha256: string; events: number };
  /** The object written, in the lake bucket. */
  lake: { bucket: string; key: string; events: number; bytes: number };
  deliveredAt: string;
}

/** `_exports/securitylake/<table>/<pk>=<value>/dt=<day>.json`. */
export function exportLedgerKey(t: TableLocation, day: string): string {
  return `${EXPORTS_ROOT}/securitylake/${t.table}/${t.partitionKey}=${t.partitionValue}/dt=${day}.json`;
}

export async function readExportRecord(
  store: ArchiveStore,
  t: TableLocation,
  day: string,
): Promise<ExportRecord | undefined> {
  const object = await store.get(exportLedgerKey(t, day));
  if (!object) return undefined;
  try {
    const doc = JSON.parse(Buffer.from(object.body).toString('utf8')) as ExportRecord;
    return doc.version === 1 && doc.day === day ? doc : undefined;
  } catch {
    // An unreadable record counts as none: the day is delivered again.
    return undefined;
  }
}

export interface DeliveryRequest {
  store: ArchiveStore;
  source: SourceDefinition;
  instance: string;
  target: SecurityLakeTarget;
  sink: LakeSink;
  /** Most days delivered by this call (oldest first). Default {@link DEFAULT_MAX_DAYS_PER_RUN}. */
  maxDays?: number;
  /** Start no day after this time (epoch ms). */
  deadline?: number;
  now?: () => number;
  logger?: Logger;
}

export interface DeliveryResult {
  /** Days written to the lake by this call, and their events. */
  delivered: number;
  events: number;
  /** Days still to deliver after this call (not reached, or failed). */
  pending: number;
  /** 1 when a delivery failed (delivery stops at the first failure), else 0. */
  failures: number;
  /** `<name>: <message>` of the failure. */
  error?: string;
}

/**
 * Delivers every day of the instance whose archive data object differs from the one its export
 * ledger records (or that has none), oldest first, up to `maxDays`. Never throws: a failure stops
 * the call and is returned; the days not delivered stay pending for the next call.
 */
export async function deliverPendingDays(request: DeliveryRequest): Promise<DeliveryResult> {
  const { store, source, instance, target, sink, logger } = request;
  const now = request.now ?? Date.now;
  const maxDays = request.maxDays ?? DEFAULT_MAX_DAYS_PER_RUN;
  const table: TableLocation = {
    table: source.table,
    partitionKey: source.partitionKey,
    partitionValue: source.partitionValue(instance),
  };
  const result: DeliveryResult = { delivered: 0, events: 0, pending: 0, failures: 0 };
  let pending: string[] = [];
  try {
    const partition = ocsfSourceOf(source).partition(instance, {
      ...(target.region ? { region: target.region } : {}),
      ...(target.accountId ? { accountId: target.accountId } : {}),
    });
    const days = await listLedgerDays(store, table);
    const ledger = await readLedgerDays(store, table, days);
    const exported = await readExportRecords(store, table, days);
    pending = days.filter((day) => {
      const data = ledger.get(day)?.data;
      return data !== undefined && exported.get(day)?.data.sha256 !== data.sha256;
    });
    result.pending = pending.length;
    for (const day of pending.slice(0, maxDays)) {
      if (request.deadline !== undefined && now() >= request.deadline) break;
      const archived = await readArchivedDay(store, source, instance, day);
      if (!archived?.ledger.data) continue;
      const object = lakeObjectOf(source, instance, archived, partition);
      const key = `ext/${target.sourceName}/${object.key}`;
      await sink.put(key, object.body);
      const record: ExportRecord = {
        version: 1,
        day,
        data: {
          key: archived.ledger.data.key,
          sha256: archived.ledger.data.sha256,
          events: archived.ledger.data.events,
        },
        lake: { bucket: target.bucket, key, events: object.events, bytes: object.body.byteLength },
        deliveredAt: iso(now()),
      };
      await store.put(
        exportLedgerKey(table, day),
        new TextEncoder().encode(`${JSON.stringify(record, null, 1)}\n`),
        {
          contentType: 'application/json',
        },
      );
      result.delivered += 1;
      result.events += object.events;
      result.pending -= 1;
    }
  } catch (err) {
    result.failures = 1;
    result.error = `${(err as Error)?.name ?? 'Error'}: ${(err as Error)?.message ?? String(err)}`;
    logger?.warn('Security Lake delivery failed; the next run retries', {
      source: source.name,
      instance,
      sourceName: target.sourceName,
      delivered: result.delivered,
      pending: result.pending,
      error: errorSummary(err),
    });
    return result;
  }
  if (result.delivered > 0 || result.pending > 0)
    logger?.info('Security Lake delivery', {
      source: source.name,
      instance,
      sourceName: target.sourceName,
      delivered: result.delivered,
      events: result.events,
      pending: result.pending,
    });
  return result;
}

async function readExportRecords(
  store: ArchiveStore,
  t: TableLocation,
  days: readonly string[],
): Promise<Map<string, ExportRecord>> {
  const out = new Map<string, ExportRecord>();
  const queue = [...days];
  const worker = async (): Promise<void> => {
    for (let day = queue.shift(); day !== undefined; day = queue.shift()) {
      const record = await readExportRecord(store, t, day);
      if (record) out.set(day, record);
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, days.length) }, worker));
  return out;
}
