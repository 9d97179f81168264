/**
 * What the archive derives from a system ARN: its parts (the region the system lives in) and its
 * partition value (the `system=` folder of the table).
 */
import { createHash } from 'node:crypto';
import { ArchiveError, checkSystemArn } from '@eventlog-archive/shared';

export interface SystemArnParts {
  /** `aws`, `aws-cn`, `aws-us-gov`, `aws-iso`, `aws-iso-b`, … */
  partition: string;
  service: string;
  region: string;
  accountId: string;
  /** Everything after the account, e.g. `system/checkout:abc123`. */
  resource: string;
}

/**
 * Splits a system ARN (validated first by the rules of the ListSystemEvents API reference,
 * https://docs.aws.amazon.com/resilience-hub/v2/APIReference/API_ListSystemEvents.html;
 * throws a ValidationException naming `field`).
 */
export function parseSystemArn(systemArn: string, field = 'systemArn'): SystemArnParts {
  const arn = checkSystemArn(systemArn, field);
  const [, partition, service, region, accountId, ...rest] = arn.split(':');
  return {
    partition: partition!,
    service: service!,
    region: region!,
    accountId: accountId!,
    resource: rest.join(':'),
  };
}

const PATH_SAFE = /^[A-Za-z0-9._-]{1,128}$/;
const SLUG_MAX = 80;
const DIGEST_HEX = 16;

/**
 * The partition value of a system: `<slug>-<digest>`, e.g.
 * `arn:aws:resiliencehub:us-west-2:123456789012:system/checkout:abc123` → `checkout-abc123-<16 hex>`.
 *
 * - `slug` is the resource after `system/`, each run of characters outside `[A-Za-z0-9_-]` (the ARN
 *   allows `:`, `/`, `+` and `.` there) written as one `-`, cut to 80 characters: readable in a
 *   listing, but not unique on its own.
 * - `digest` is the first 16 hex digits (64 bits) of the SHA-256 of the whole ARN: two systems that
 *   share a name in different accounts, regions or partitions (or whose names differ only in the
 *   characters the slug rewrites) get different folders. Sharing one would share its ledger and its
 *   lease, so a window archived for one system would count as archived for the other: a silent gap.
 *
 * Every ARN the API reference accepts has a value (nothing is refused), and the value is path-safe
 * (`[A-Za-z0-9._-]`, at most 97 characters). A reader that wants one system's folder computes it
 * with this function, or filters on the `systemArn` column, which every row carries.
 */
export function systemPartitionValue(systemArn: string): string {
  const { resource } = parseSystemArn(systemArn);
  const id = resource.startsWith('system/') ? resource.slice('system/'.length) : resource;
  const slug =
    id
      .replace(/[^A-Za-z0-9_-]+/g, '-')
      .slice(0, SLUG_MAX)
      .replace(/^-+|-+$/g, '') || 'system';
  const digest = createHash('sha256').update(systemArn).digest('hex').slice(0, DIGEST_HEX);
  const value = `${slug}-${digest}`;
  // Holds by construction; checked because a partition value becomes a path.
  if (!PATH_SAFE.test(value)) throw new ArchiveError(`system partition value "${value}" is not path-safe`);
  return value;
}

/** DNS suffixes of the AWS partitions, for the default endpoint `https://resiliencehub.<region>.<suffix>`. */
const DNS_SUFFIX: Readonly<Record<string, string>> = {
  aws: 'amazonaws.com',
  'aws-us-gov': 'amazonaws.com',
  'aws-cn': 'amazonaws.com.cn',
  'aws-iso': 'c2s.ic.gov',
  'aws-iso-b': 'sc2s.sgov.gov',
  'aws-iso-e': 'cloud.adc-e.uk',
  'aws-iso-f': 'csp.hci.ic.gov',
};

/** The service's default endpoint for a region of a partition. */
export function defaultEndpoint(partition: string, region: string): string {
  return `https://resiliencehub.${region}.${DNS_SUFFIX[partition] ?? 'amazonaws.com'}`;
}
