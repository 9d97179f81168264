/**
 * The benchmark's synthetic Amazon CodeCatalyst events, in wire form (what ListEventLogs returns):
 * 40 event names with a skewed (Zipf-like) distribution, 50 users, 20 projects, payloads of
 * 75–435 bytes, ~60% with a response payload, ~2% with an error code. Deterministic for a seed.
 *
 * This is the generator the benchmark has always measured with (it was test/support/sample-events.ts,
 * which the tests keep): unchanged, so that figures stay comparable across runs. The demo's realistic
 * month is bin/demo/codecatalyst-events.ts.
 *
 * To keep 1,000,000 events memory-reasonable, events share their nested `userIdentity` and
 * `projectInformation` objects and their constant strings: treat them as immutable.
 */
import type {
  EventLogEntryWire,
  ProjectInformationWire,
  UserIdentityWire,
} from '../bin/demo/codecatalyst-events';
import { mulberry32 } from '../bin/demo/random';

export type { EventLogEntryWire };

/** Options of {@link generateEvents}. */
export interface GenerateEventsOptions {
  /** How many events to generate. */
  count: number;
  /** Earliest event time (epoch ms, inclusive). */
  fromMs: number;
  /** Latest event time (epoch ms, exclusive). Must be greater than `fromMs`. */
  toMs: number;
  /** PRNG seed; the same options always give the same events. Default 1. */
  seed?: number;
  /** Prepended to every id (ids are unique within one call and across different seeds). */
  idPrefix?: string;
}

/** The 40 event names, most frequent first (Zipf-like weights). */
export const EVENT_NAMES: readonly string[] = [
  'listEventLogs',
  'getSpace',
  'listProjects',
  'getProject',
  'verifySession',
  'getUserDetails',
  'listSourceRepositories',
  'getSourceRepository',
  'listDevEnvironments',
  'getDevEnvironment',
  'listWorkflowRuns',
  'getWorkflowRun',
  'listWorkflows',
  'getWorkflow',
  'startWorkflowRun',
  'listSourceRepositoryBranches',
  'getSourceRepositoryCloneUrls',
  'startDevEnvironment',
  'stopDevEnvironment',
  'startDevEnvironmentSession',
  'stopDevEnvironmentSession',
  'listDevEnvironmentSessions',
  'listIssues',
  'createIssue',
  'updateIssue',
  'createPullRequest',
  'createSourceRepositoryBranch',
  'createDevEnvironment',
  'updateDevEnvironment',
  'deleteDevEnvironment',
  'listAccessTokens',
  'createAccessToken',
  'deleteAccessToken',
  'getSubscription',
  'listSpaces',
  'createSourceRepository',
  'createProject',
  'updateProject',
  'updateSpace',
  'deleteProject',
];

const CUMULATIVE_WEIGHTS: Float64Array = (() => {
  const cum = new Float64Array(EVENT_NAMES.length);
  let total = 0;
  for (let i = 0; i < EVENT_NAMES.length; i++) {
    total += 1 / (i + 1) ** 1.1;
    cum[i] = total;
  }
  for (let i = 0; i < cum.length; i++) cum[i] = cum[i]! / total;
  return cum;
})();

interface EventNameInfo {
  name: string;
  source: string;
  operationType: 'READONLY' | 'MUTATION';
}

const NAME_INFO: readonly EventNameInfo[] = EVENT_NAMES.map((name) => {
  const source = /DevEnvironment/.test(name)
    ? 'devenvironments'
    : /SourceRepositor|PullRequest/.test(name)
      ? 'sourcecode'
      : /Workflow/.test(name)
        ? 'workflows'
        : /Issue/.test(name)
          ? 'issues'
          : 'manage';
  const readonly = /^(get|list|verify)/.test(name);
  return { name, source, operationType: readonly ? 'READONLY' : 'MUTATION' };
});

const ERROR_CODES = [
  'AccessDeniedException',
  'ValidationException',
  'ResourceNotFoundException',
  'ConflictException',
  'ThrottlingException',
] as const;

const USER_AGENTS = [
  'aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0 exe/x86_64.ubuntu.22 prompt/off command/codecatalyst.list-event-logs',
  'aws-sdk-js/3.693.0 ua/2.1 os/linux#6.1.0 lang/js md/nodejs#20.11.1 api/codecatalyst#3.693.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36',
  'Boto3/1.34.50 md/Botocore#1.34.50 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.12.2',
  'codecatalyst-workflow-runner/1.0',
  'aws-toolkit-vscode/2.15.0',
];

const WORDS = [
  'alpha',
  'build',
  'deploy',
  'main',
  'feature',
  'release',
  'service',
  'frontend',
  'backend',
  'pipeline',
  'stage',
  'review',
  'fix',
  'update',
  'docs',
  'infra',
  'test',
  'lambda',
  'bucket',
  'cache',
];

const PAYLOAD_KEYS = [
  'branchName',
  'repositoryName',
  'workflowId',
  'runId',
  'devEnvironmentId',
  'instanceType',
  'alias',
  'title',
  'state',
  'sessionId',
];

const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const HEX1: readonly string[] = Array.from({ length: 16 }, (_, i) => i.toString(16));

/** murmur3 fmix32: a bijection on 32-bit integers (distinct seeds give distinct id stems). */
function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hex32(x: number): string {
  return HEX[(x >>> 24) & 255]! + HEX[(x >>> 16) & 255]! + HEX[(x >>> 8) & 255]! + HEX[x & 255]!;
}

function hex16(x: number): string {
  return HEX[(x >>> 8) & 255]! + HEX[x & 255]!;
}

const PAD2: readonly string[] = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const PAD3: readonly string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
const DAY_MS = 86_400_000;

/** `new Date(ms).toISOString()`, about 4x faster, by caching the `YYYY-MM-DDT` prefix per day. */
function makeTimeFormatter(): (ms: number) => string {
  const days = new Map<number, string>();
  return (ms) => {
    const day = Math.floor(ms / DAY_MS);
    let prefix = days.get(day);
    if (prefix === undefined) {
      prefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
      if (prefix.length !== 11) return new Date(ms).toISOString(); // years outside 0000-9999
      days.set(day, prefix);
    }
    let rest = ms - day * DAY_MS;
    const milli = rest % 1000;
    rest = (rest - milli) / 1000;
    const sec = rest % 60;
    rest = (rest - sec) / 60;
    const min = rest % 60;
    const hour = (rest - min) / 60;
    return [prefix, PAD2[hour], ':', PAD2[min], ':', PAD2[sec], '.', PAD3[milli], 'Z'].join('');
  };
}

function randU32(rng: () => number): number {
  return (rng() * 4294967296) >>> 0;
}

interface Project {
  info: ProjectInformationWire;
  name: string;
}

function makeUsers(rng: () => number): { identity: UserIdentityWire; ips: string[] }[] {
  const users: { identity: UserIdentityWire; ips: string[] }[] = [];
  for (let u = 0; u < 50; u++) {
    const principalId = `${hex32(randU32(rng))}-${hex16(randU32(rng))}-${hex16(randU32(rng))}-${hex32(randU32(rng))}`;
    const ips = [`198.51.100.${1 + u * 5}`];
    if (u % 3 === 0) ips.push(`10.${u}.${(u * 7) % 256}.${(u * 13) % 256}`);
    if (u < 45) {
      users.push({
        identity: { userType: 'USER', principalId, userName: `user${String(u).padStart(2, '0')}` },
        ips,
      });
    } else if (u < 49) {
      const awsAccountId = String(100000000000 + Math.floor(rng() * 899999999999));
      users.push({
        identity: { userType: 'AWS_ACCOUNT', principalId, userName: `service-role-${u - 44}`, awsAccountId },
        ips: [`192.0.2.${u}`],
      });
    } else {
      users.push({
        identity: { userType: 'UNKNOWN', principalId, userName: 'unknown' },
        ips: ['192.0.2.250'],
      });
    }
  }
  return users;
}

function makeProjects(rng: () => number): { full: Project[]; nameOnly: ProjectInformationWire[] } {
  const full: Project[] = [];
  const nameOnly: ProjectInformationWire[] = [];
  for (let p = 0; p < 20; p++) {
    const name = `project-${WORDS[p % WORDS.length]}-${p}`;
    const projectId = `${hex32(randU32(rng))}-${hex16(randU32(rng))}-${hex16(randU32(rng))}-${hex16(randU32(rng))}-${hex32(randU32(rng))}${hex16(randU32(rng))}`;
    full.push({ info: { name, projectId }, name });
    nameOnly.push({ name });
  }
  return { full, nameOnly };
}

function pickEventName(r: number): number {
  let lo = 0;
  let hi = CUMULATIVE_WEIGHTS.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (CUMULATIVE_WEIGHTS[mid]! > r) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Words joined by spaces, sliced for payload description text (long enough for any slice). */
const TEXT: string = (() => {
  const rng = mulberry32(0x5eed);
  const words: string[] = [];
  for (let n = 0; n < 2000; n++) words.push(WORDS[Math.floor(rng() * WORDS.length)]!);
  return words.join(' ');
})();

/**
 * A JSON document string of exactly `length` bytes (ASCII), built from realistic-looking fields.
 * Built with `Array#join`, which yields a flat string: `+`/template concatenation leaves V8 rope
 * nodes behind that cost several times the string's own size when a million of them are kept.
 */
function payloadData(
  rng: () => number,
  length: number,
  space: string,
  projectName: string | undefined,
): string {
  const parts: string[] = ['{"spaceName":"', space, '"'];
  let size = 15 + space.length;
  if (projectName !== undefined && size + projectName.length + 16 + 20 <= length) {
    parts.push(',"projectName":"', projectName, '"');
    size += projectName.length + 17;
  }
  // Add id-like fields while they fit, leaving room for the closing description field.
  for (let k = 0; k < 8; k++) {
    const r = randU32(rng);
    const key = PAYLOAD_KEYS[r % PAYLOAD_KEYS.length]!;
    const value = r & 0x80000000 ? hex32(randU32(rng)) + hex32(r) : WORDS[(r >>> 8) % WORDS.length]!;
    const fieldSize = key.length + value.length + 6; // ,"key":"value"
    if (size + fieldSize + 20 > length) break;
    parts.push(',"', key, '":"', value, '"');
    size += fieldSize;
  }
  // Fill the remaining bytes with a text field: `,"description":"` + text + `"}` is 18 + text.
  const room = Math.max(0, length - size - 18);
  const offset = Math.floor(rng() * (TEXT.length - 512));
  parts.push(',"description":"', TEXT.slice(offset, offset + room), '"}');
  return parts.join('');
}

/**
 * Generates `count` deterministic synthetic events with eventTime uniform in [fromMs, toMs), in
 * generation (not time) order. 40 event names with a skewed distribution, 50 users (45 USER,
 * 4 AWS_ACCOUNT with awsAccountId, 1 UNKNOWN), 20 projects; ~10% without projectInformation
 * (~1% with a name only), ~85% with a requestPayload, ~60% with a responsePayload, ~2% with an
 * errorCode. Ids are UUID-like: `idPrefix` + a seed-derived stem + the index, so they are unique.
 */
export function generateEvents(opts: GenerateEventsOptions): EventLogEntryWire[] {
  const { count, fromMs, toMs, seed = 1, idPrefix = '' } = opts;
  if (!Number.isInteger(count) || count < 0 || count > 2 ** 32) {
    throw new RangeError('count must be an integer from 0 to 2^32');
  }
  if (!(toMs > fromMs)) throw new RangeError('toMs must be greater than fromMs');
  const rng = mulberry32(seed);
  const users = makeUsers(rng);
  const { full: projects, nameOnly } = makeProjects(rng);
  const space = `space-${hex16(fmix32(seed))}`;
  const stem = hex32(fmix32(seed));
  const mask = randU32(rng);
  const span = toMs - fromMs;
  const out = new Array<EventLogEntryWire>(count);
  const formatTime = makeTimeFormatter();

  for (let i = 0; i < count; i++) {
    const info = NAME_INFO[pickEventName(rng())]!;
    const user = users[Math.floor(rng() * users.length)]!;
    const t = fromMs + Math.floor(rng() * span);
    const lo = (i ^ mask) >>> 0;
    const r1 = randU32(rng);
    const r2 = randU32(rng);
    const id = [
      idPrefix,
      stem,
      '-',
      hex16(r1 >>> 16),
      '-4',
      HEX1[r1 & 15]!,
      HEX[(r1 >>> 4) & 255]!,
      '-',
      hex16((r2 & 0x3fff) | 0x8000),
      '-',
      hex16(r2 >>> 16),
      hex32(lo),
    ].join('');
    const r3 = randU32(rng);
    const r4 = randU32(rng);
    const requestId = [
      hex32(r3),
      '-',
      hex16(r4 >>> 16),
      '-4',
      HEX1[r4 & 15]!,
      HEX[(r4 >>> 4) & 255]!,
      '-a',
      HEX1[(r4 >>> 12) & 15]!,
      HEX[(r3 >>> 8) & 255]!,
      '-',
      hex32((lo ^ 0x5bd1e995) >>> 0),
      hex16(randU32(rng)),
    ].join('');

    const event: EventLogEntryWire = {
      id,
      eventName: info.name,
      eventType: rng() < 0.97 ? 'AwsApiCall' : 'AwsServiceEvent',
      eventCategory: 'MANAGEMENT',
      eventSource: info.source,
      eventTime: formatTime(t),
      operationType: info.operationType,
      userIdentity: user.identity,
      requestId,
      sourceIpAddress: user.ips[Math.floor(rng() * user.ips.length)]!,
      userAgent: USER_AGENTS[Math.floor(rng() * USER_AGENTS.length)]!,
    };

    // ~10% without projectInformation, ~1% with a name only (a struct is never empty).
    const pr = rng();
    const p = Math.floor(rng() * projects.length);
    let projectName: string | undefined;
    if (pr < 0.9) {
      event.projectInformation = pr < 0.01 ? nameOnly[p]! : projects[p]!.info;
      projectName = projects[p]!.name;
    }

    if (rng() < 0.85) {
      event.requestPayload = {
        contentType: 'application/json',
        data: payloadData(rng, 75 + Math.floor(rng() * 361), space, projectName),
      };
    }
    const failed = rng() < 0.02;
    if (failed) {
      event.errorCode = ERROR_CODES[Math.floor(rng() * ERROR_CODES.length)]!;
    } else if (rng() < 0.612) {
      // 0.98 * 0.612 ≈ 60% of all events carry a responsePayload.
      event.responsePayload = {
        contentType: 'application/json',
        data: payloadData(rng, 75 + Math.floor(rng() * 361), space, projectName),
      };
    }
    out[i] = event;
  }
  return out;
}
