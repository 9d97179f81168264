/**
 * The demo space: a month of a made-up team's Amazon CodeCatalyst activity, as `ListEventLogs`
 * returns it (`EventLogEntry` in wire form: RFC 3339 `eventTime`, payloads as JSON strings).
 * Deterministic: the same `nowMs`, seed and count always give the same events.
 *
 * What is in it: 12 people in three time zones, 5 projects (a 6th created mid-month), their
 * source repository pushes, branches, pull requests (created, commented, approved, merged), the
 * workflow runs that pushes and merges start, manual deploys, dev environments started and stopped
 * around a working day, issues, access tokens, the space admin's own `listEventLogs` calls, a few
 * failed calls with the API's error codes, and the browsing (get/list) that makes up most of a
 * real log. And one unusual night ({@link DemoSpace.unusualDay}): from an address never seen
 * before, an admin's credentials grant the Space administrator role to an unfamiliar user, who then
 * clones and deletes repositories, dev environments and a project; the next morning the other admin
 * looks into it and takes the role back.
 *
 * Event names and sources follow the API's style (`createPullRequest`, source `sourcecode`).
 */
import { DAY_MS, HOUR_MS, MINUTE_MS } from '@eventlog-archive/shared';
import { type Random, random } from './random';

/** `userIdentity` of an event. */
export interface UserIdentityWire {
  userType: 'USER' | 'AWS_ACCOUNT' | 'UNKNOWN';
  principalId: string;
  userName: string;
  /** Present only for `AWS_ACCOUNT` users. */
  awsAccountId?: string;
}

/** `projectInformation` of an event; absent for space-level events. */
export interface ProjectInformationWire {
  name?: string;
  projectId?: string;
}

/** `requestPayload` / `responsePayload` of an event: a JSON document as a string. */
export interface EventPayloadWire {
  contentType?: string;
  data?: string;
}

/** One `EventLogEntry` as the HTTP API returns it. Optional fields are absent, never `null`. */
export interface EventLogEntryWire {
  id: string;
  eventName: string;
  eventType: string;
  eventCategory: string;
  eventSource: string;
  /** RFC 3339 with milliseconds, e.g. `2026-01-02T03:04:05.678Z`. */
  eventTime: string;
  operationType: 'READONLY' | 'MUTATION';
  userIdentity: UserIdentityWire;
  projectInformation?: ProjectInformationWire;
  requestId: string;
  requestPayload?: EventPayloadWire;
  responsePayload?: EventPayloadWire;
  errorCode?: string;
  sourceIpAddress: string;
  userAgent: string;
}

/** The error codes the demo's failed calls carry: errors of the CodeCatalyst API reference. */
export const DEMO_ERROR_CODES = [
  'AccessDeniedException',
  'ConflictException',
  'ResourceNotFoundException',
  'ThrottlingException',
  'ValidationException',
] as const;

export interface DemoSpaceOptions {
  /** The clock: events lie in the 30 days before it. */
  nowMs: number;
  /** Space name in the payloads. Default `demo-space`. */
  space?: string;
  /** Default 2024. */
  seed?: number;
  /** Exactly this many events (at least 2,000). Default 20,000. */
  count?: number;
}

export interface DemoSpace {
  /** In time order. */
  events: EventLogEntryWire[];
  /** The night that stands out: [startMs, endMs) covers it and the next morning's clean-up. */
  unusualDay: { startMs: number; endMs: number; grantedBy: string; grantedTo: string; sourceIp: string };
  people: string[];
  projects: string[];
}

interface Person {
  identity: UserIdentityWire;
  /** Hours east of UTC. */
  utcOffset: number;
  ips: string[];
  browser: string;
  projects: string[];
}

interface Repo {
  name: string;
  project: string;
  createdMs: number;
  deletedMs: number;
}

interface Project {
  name: string;
  key: string;
  projectId: string;
  workflows: string[];
  topics: string[];
  createdMs: number;
  deletedMs: number;
}

const BROWSERS = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.6; rv:133.0) Gecko/20100101 Firefox/133.0',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
];
const CLI_AGENT =
  'aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe prompt/off command/codecatalyst.list-event-logs';
const IDE_AGENT = 'AWS-Toolkit-For-VSCode/3.38.0 Visual-Studio-Code/1.95.3 ClientId/5f6e0b1c';
const SERVICE_AGENT = 'codecatalyst.amazonaws.com';
const ODD_AGENT = 'python-requests/2.32.3';

// name, UTC offset, projects (by key)
const TEAM: readonly [string, number, string[]][] = [
  ['MaryMajor', 1, ['CHK', 'INFRA']],
  ['RichardRoe', -5, ['INFRA', 'WEB']],
  ['JohnDoe', -5, ['CHK', 'WEB']],
  ['JaneDoe', -5, ['WEB']],
  ['SaanviSarkar', 5.5, ['DATA']],
  ['ArnavDesai', 5.5, ['DATA', 'SRCH']],
  ['JorgeSouza', 1, ['CHK']],
  ['MartaRivera', 1, ['MOB']],
  ['PauloSantos', -3, ['MOB', 'WEB']],
  ['ShirleyRodriguez', -5, ['MOB']],
  ['WangXiulan', 1, ['DATA', 'SRCH']],
  ['NikhilJayashankar', 5.5, ['INFRA', 'CHK']],
];

// key, name, repositories, workflows, topics of branches and pull requests
const PROJECTS: readonly [string, string, string[], string[], string[]][] = [
  [
    'CHK',
    'checkout-service',
    ['checkout-service', 'checkout-infra'],
    ['build-and-test', 'deploy-staging', 'deploy-production'],
    ['apple-pay', 'retry-declined-cards', 'tax-rounding', 'idempotency-keys', 'cart-timeout', 'refund-api'],
  ],
  [
    'MOB',
    'mobile-app',
    ['mobile-app'],
    ['build-and-test', 'build-ios', 'build-android'],
    ['dark-mode', 'push-opt-in', 'offline-cart', 'crash-on-login', 'deep-links', 'a11y-labels'],
  ],
  [
    'DATA',
    'data-platform',
    ['ingest-jobs', 'warehouse-models'],
    ['build-and-test', 'nightly-etl'],
    ['late-events', 'partition-pruning', 'orders-model', 'dedupe-clicks', 'gdpr-erasure', 'backfill-q3'],
  ],
  [
    'WEB',
    'web-storefront',
    ['storefront'],
    ['build-and-test', 'deploy-production'],
    ['search-box', 'image-cdn', 'checkout-button', 'cookie-banner', 'price-format', 'lazy-load'],
  ],
  [
    'INFRA',
    'platform-infra',
    ['infra-live', 'terraform-modules'],
    ['plan', 'apply'],
    ['vpc-endpoints', 'rds-upgrade', 'waf-rules', 'budget-alarms', 'eks-1-31', 'log-retention'],
  ],
];
// Created mid-month; deleted on the unusual night.
const NEW_PROJECT: [string, string, string[], string[], string[]] = [
  'SRCH',
  'search-prototype',
  ['search-service'],
  ['build-and-test'],
  ['opensearch-index', 'synonyms', 'ranking-v2', 'typeahead'],
];
const STRANGER = 'ops-support-ext';
const STRANGER_IP = '192.0.2.146';
/** Browsing: the reads that make up most of a log, [name, source, needs a project]. */
const READS: readonly [string, string, boolean][] = [
  ['verifySession', 'manage', false],
  ['getUserDetails', 'manage', false],
  ['getSpace', 'manage', false],
  ['listProjects', 'manage', false],
  ['getProject', 'manage', true],
  ['listSourceRepositories', 'sourcecode', true],
  ['getSourceRepository', 'sourcecode', true],
  ['listSourceRepositoryBranches', 'sourcecode', true],
  ['listPullRequests', 'sourcecode', true],
  ['getPullRequest', 'sourcecode', true],
  ['listWorkflows', 'workflows', true],
  ['listWorkflowRuns', 'workflows', true],
  ['getWorkflowRun', 'workflows', true],
  ['listDevEnvironments', 'devenvironments', true],
  ['getDevEnvironment', 'devenvironments', true],
  ['listIssues', 'issues', true],
];

/** One event before its ids and identity fields are filled in. */
interface Draft {
  t: number;
  name: string;
  source: string;
  person: Person;
  project?: Project;
  request: Record<string, unknown>;
  response?: Record<string, unknown>;
  errorCode?: string;
  service?: boolean;
  agent?: string;
  ip?: string;
}

/** The demo space's events and what stands out in them. See the file comment. */
export function demoSpaceEvents(options: DemoSpaceOptions): DemoSpace {
  const { nowMs, space = 'demo-space', seed = 2024, count = 20_000 } = options;
  if (!Number.isInteger(count) || count < 2000) throw new RangeError('count must be an integer >= 2000');
  const rng = random(seed);
  // The last event an hour before the clock: a first ingest (which ends on the last whole hour) gets all.
  const toMs = nowMs - HOUR_MS;
  // An hour inside the 30 days ListEventLogs keeps, so nothing expires while the demo pulls it.
  const fromMs = nowMs - 30 * DAY_MS + HOUR_MS;
  const firstDay = Math.floor(fromMs / DAY_MS) * DAY_MS;
  const days = Math.floor(toMs / DAY_MS) - firstDay / DAY_MS + 1;

  const people: Person[] = TEAM.map(([userName, utcOffset, projects], i) => ({
    identity: { userType: 'USER', principalId: rng.uuid(), userName },
    utcOffset,
    ips: [`${utcOffset > 0 ? '198.51.100' : '203.0.113'}.${10 + i}`, `198.51.100.${120 + i * 7}`],
    browser: BROWSERS[i % BROWSERS.length]!,
    projects: projects.map((key) => PROJECTS.find((p) => p[0] === key)?.[1] ?? NEW_PROJECT[1]),
  }));
  const automation: Person = {
    identity: {
      userType: 'AWS_ACCOUNT',
      principalId: `AROA${rng.hex(17).toUpperCase()}`,
      userName: 'release-automation',
      awsAccountId: '111122223333',
    },
    utcOffset: 0,
    ips: ['198.51.100.250'],
    browser: 'aws-sdk-js/3.693.0 ua/2.1 os/linux#5.10.227 lang/js md/nodejs#20.18.0 api/codecatalyst#3.693.0',
    projects: ['platform-infra'],
  };
  const stranger: Person = {
    identity: { userType: 'USER', principalId: rng.uuid(), userName: STRANGER },
    utcOffset: 0,
    ips: [STRANGER_IP],
    browser: ODD_AGENT,
    projects: [],
  };
  const [mary, richard] = [people[0]!, people[1]!];

  // The timeline: a new project around day 8–11, the unusual night around day 18–21 (UTC ~02:30).
  const newProjectMs = firstDay + rng.int(8, 11) * DAY_MS + 10 * HOUR_MS + rng.int(0, 50) * MINUTE_MS;
  const nightMs = firstDay + rng.int(18, 21) * DAY_MS + 2 * HOUR_MS + rng.int(20, 50) * MINUTE_MS;
  const projects: Project[] = [...PROJECTS, NEW_PROJECT].map(([key, name, , workflows, topics]) => ({
    key,
    name,
    projectId: rng.uuid(),
    workflows,
    topics,
    createdMs: key === 'SRCH' ? newProjectMs : Number.NEGATIVE_INFINITY,
    deletedMs: Number.POSITIVE_INFINITY,
  }));
  const repos: Repo[] = [...PROJECTS, NEW_PROJECT].flatMap(([key, project, names]) =>
    names.map((name) => ({
      name,
      project,
      createdMs: key === 'SRCH' ? newProjectMs + 4 * MINUTE_MS : Number.NEGATIVE_INFINITY,
      deletedMs: Number.POSITIVE_INFINITY,
    })),
  );
  const projectNamed = (name: string): Project => projects.find((p) => p.name === name)!;
  const repoNamed = (name: string): Repo => repos.find((r) => r.name === name)!;

  const drafts: Draft[] = [];
  const base = (project?: Project): Record<string, unknown> =>
    project ? { spaceName: space, projectName: project.name } : { spaceName: space };
  const commitId = (): string => rng.hex(40);

  // --- Fixed storylines: the new project, the unusual night and its morning after.
  {
    const p = projectNamed('search-prototype');
    const lead = people[5]!; // ArnavDesai
    let t = newProjectMs;
    const add = (dt: number, d: Omit<Draft, 't' | 'person'> & { person?: Person }) => {
      t += dt;
      drafts.push({ person: lead, ...d, t });
    };
    add(0, {
      name: 'createProject',
      source: 'manage',
      project: p,
      request: {
        spaceName: space,
        displayName: p.name,
        description: 'Spike: OpenSearch-backed product search',
      },
      response: { spaceName: space, name: p.name, displayName: p.name, id: p.projectId },
    });
    add(4 * MINUTE_MS, {
      name: 'createSourceRepository',
      source: 'sourcecode',
      project: p,
      request: { ...base(p), name: 'search-service', description: 'Search API prototype' },
      response: { ...base(p), name: 'search-service' },
    });
    add(3 * MINUTE_MS, {
      name: 'createDevEnvironment',
      source: 'devenvironments',
      project: p,
      request: {
        ...base(p),
        alias: 'arnav-search',
        instanceType: 'dev.standard1.large',
        inactivityTimeoutMinutes: 30,
        persistentStorage: { sizeInGiB: 32 },
        repositories: [{ repositoryName: 'search-service', branchName: 'main' }],
        ides: [{ name: 'VSCode' }],
      },
      response: { ...base(p), id: rng.uuid(), vpcConnectionName: 'default' },
    });
  }
  const unusualDay = {
    startMs: nightMs,
    endMs: nightMs,
    grantedBy: richard.identity.userName,
    grantedTo: STRANGER,
  };
  {
    let t = nightMs;
    const add = (dt: number, d: Omit<Draft, 't'>) => {
      t += dt;
      drafts.push({ ip: STRANGER_IP, agent: ODD_AGENT, ...d, t });
    };
    const s = (dt: number, name: string, source: string, extra: Partial<Draft> = {}) =>
      add(dt, { name, source, person: stranger, request: base(extra.project), ...extra });
    s(0, 'verifySession', 'manage');
    s(9_000, 'listSourceRepositories', 'sourcecode', {
      project: projectNamed('platform-infra'),
      errorCode: 'AccessDeniedException',
    });
    s(14_000, 'createAccessToken', 'manage', {
      request: { name: 'sync', expiresTime: new Date(nightMs + 365 * DAY_MS).toISOString() },
      errorCode: 'AccessDeniedException',
    });
    // Richard's credentials, same address, same odd client.
    add(4 * MINUTE_MS, { name: 'verifySession', source: 'manage', person: richard, request: base() });
    add(20_000, { name: 'listSpaces', source: 'manage', person: richard, request: {} });
    add(35_000, {
      name: 'updateSpaceMembership',
      source: 'manage',
      person: richard,
      request: { spaceName: space, userName: STRANGER, role: 'Space administrator' },
      response: {
        spaceName: space,
        userName: STRANGER,
        role: 'Space administrator',
        previousRole: 'Limited access',
      },
    });
    s(2 * MINUTE_MS, 'verifySession', 'manage');
    s(6_000, 'listProjects', 'manage');
    const targets = ['platform-infra', 'data-platform', 'checkout-service', 'search-prototype'].map(
      projectNamed,
    );
    for (const p of targets) {
      s(rng.int(3, 9) * 1000, 'listSourceRepositories', 'sourcecode', { project: p });
      for (const r of repos.filter((r) => r.project === p.name)) {
        s(rng.int(2, 6) * 1000, 'getSourceRepositoryCloneUrls', 'sourcecode', {
          project: p,
          request: { ...base(p), sourceRepositoryName: r.name },
          response: { https: `https://git.us-west-2.codecatalyst.aws/v1/${space}/${p.name}/${r.name}` },
        });
      }
    }
    s(3 * MINUTE_MS, 'createAccessToken', 'manage', {
      request: { name: 'sync', expiresTime: new Date(nightMs + 365 * DAY_MS).toISOString() },
      response: {
        name: 'sync',
        accessTokenId: rng.uuid(),
        expiresTime: new Date(nightMs + 365 * DAY_MS).toISOString(),
      },
    });
    s(11 * MINUTE_MS, 'listDevEnvironments', 'devenvironments', { project: projectNamed('data-platform') });
    for (const alias of ['saanvi-etl', 'wang-models']) {
      const p = projectNamed('data-platform');
      s(rng.int(5, 15) * 1000, 'deleteDevEnvironment', 'devenvironments', {
        project: p,
        request: { ...base(p), id: rng.uuid() },
        response: { ...base(p), alias },
      });
    }
    for (const name of ['terraform-modules', 'warehouse-models', 'search-service']) {
      const r = repoNamed(name);
      const p = projectNamed(r.project);
      s(rng.int(20, 60) * 1000, 'deleteSourceRepository', 'sourcecode', {
        project: p,
        request: { ...base(p), name },
        response: { ...base(p), name },
      });
      r.deletedMs = t;
    }
    const gone = projectNamed('search-prototype');
    s(40_000, 'deleteProject', 'manage', {
      project: gone,
      request: { spaceName: space, name: gone.name },
      response: { spaceName: space, name: gone.name, displayName: gone.name },
    });
    gone.deletedMs = t;
    s(90_000, 'deleteProject', 'manage', {
      project: projectNamed('platform-infra'),
      request: { spaceName: space, name: 'platform-infra' },
      errorCode: 'ConflictException',
    });
    // The morning after (Mary's 08:xx local): she looks, revokes, and checks the log.
    t = Math.floor(nightMs / DAY_MS) * DAY_MS + 7 * HOUR_MS + rng.int(5, 40) * MINUTE_MS;
    const m = (dt: number, d: Omit<Draft, 't' | 'person'>) => {
      t += dt;
      drafts.push({ person: mary, ip: mary.ips[0], ...d, t });
    };
    m(0, {
      name: 'getProject',
      source: 'manage',
      project: gone,
      request: { spaceName: space, name: gone.name },
      errorCode: 'ResourceNotFoundException',
    });
    for (let k = 0; k < 3; k++) {
      const start = new Date(nightMs - DAY_MS).toISOString();
      m(rng.int(20, 90) * 1000, {
        name: 'listEventLogs',
        source: 'manage',
        agent: CLI_AGENT,
        request: { spaceName: space, startTime: start, endTime: new Date(t).toISOString(), maxResults: 250 },
      });
    }
    m(4 * MINUTE_MS, {
      name: 'updateSpaceMembership',
      source: 'manage',
      request: { spaceName: space, userName: STRANGER, role: 'No access' },
      response: {
        spaceName: space,
        userName: STRANGER,
        role: 'No access',
        previousRole: 'Space administrator',
      },
    });
    m(2 * MINUTE_MS, {
      name: 'updateSpaceMembership',
      source: 'manage',
      request: { spaceName: space, userName: richard.identity.userName, role: 'Limited access' },
      response: {
        spaceName: space,
        userName: richard.identity.userName,
        role: 'Limited access',
        previousRole: 'Space administrator',
      },
    });
    unusualDay.endMs = t + MINUTE_MS;
  }

  // --- A few failed calls besides the night's.
  const failures: [Person, string, string, string, Project | undefined, Record<string, unknown>][] = [
    [
      people[6]!,
      'startDevEnvironment',
      'devenvironments',
      'ConflictException',
      projectNamed('checkout-service'),
      { id: rng.uuid() },
    ],
    [
      people[7]!,
      'createSourceRepositoryBranch',
      'sourcecode',
      'ConflictException',
      projectNamed('mobile-app'),
      { sourceRepositoryName: 'mobile-app', name: 'feature/MOB-88-dark-mode', headCommitId: commitId() },
    ],
    [
      people[3]!,
      'startWorkflowRun',
      'workflows',
      'ValidationException',
      projectNamed('web-storefront'),
      { workflowId: rng.uuid(), clientToken: rng.uuid() },
    ],
    [
      people[4]!,
      'getWorkflowRun',
      'workflows',
      'ResourceNotFoundException',
      projectNamed('data-platform'),
      { id: rng.uuid() },
    ],
    [
      people[9]!,
      'updateSpace',
      'manage',
      'AccessDeniedException',
      undefined,
      { name: space, description: 'Mobile team space' },
    ],
    [
      mary,
      'listEventLogs',
      'manage',
      'ThrottlingException',
      undefined,
      { startTime: new Date(fromMs).toISOString(), endTime: new Date(toMs).toISOString() },
    ],
  ];

  // --- Working time: each person's days, local 08:30–18:00 on weekdays, now and then a weekend.
  const slots: { person: Person; t: number }[] = [];
  for (let d = 0; d < days; d++) {
    const dayMs = firstDay + d * DAY_MS;
    const weekend = [0, 6].includes(new Date(dayMs).getUTCDay());
    for (const person of people) {
      if (!rng.chance(weekend ? 0.08 : 0.93)) continue;
      const start = dayMs + (8.5 - person.utcOffset) * HOUR_MS + rng.int(-30, 45) * MINUTE_MS;
      const activities = weekend ? rng.int(1, 4) : rng.int(8, 16);
      for (let k = 0; k < activities; k++) slots.push({ person, t: start + rng.next() * 9.5 * HOUR_MS });
    }
  }
  const inWindow = (t: number) => t >= fromMs && t < toMs;
  const alive = (x: { createdMs: number; deletedMs: number }, t: number) =>
    x.createdMs <= t && t < x.deletedMs;
  const projectAt = (person: Person, t: number): Project | undefined => {
    const open = person.projects.map(projectNamed).filter((p) => alive(p, t));
    return open.length === 0 ? undefined : rng.pick(open);
  };
  const repoAt = (p: Project, t: number): Repo | undefined => {
    const open = repos.filter((r) => r.project === p.name && alive(r, t));
    return open.length === 0 ? undefined : rng.pick(open);
  };
  // Each failure at one of its person's slots, spread over the month.
  for (const [k, [person, name, source, errorCode, project, request]] of failures.entries()) {
    const slot = slots.filter((s) => s.person === person)[7 + k * 13];
    if (slot)
      drafts.push({
        t: slot.t,
        person,
        name,
        source,
        errorCode,
        project,
        request: { ...base(project), ...request },
      });
  }

  // --- Activities, in random order, until they fill ~40% of the count; browsing fills the rest.
  const budget = Math.floor(count * 0.4);
  const order = slots.map((s) => ({ s, key: rng.next() })).sort((a, b) => a.key - b.key);
  for (const { s } of order) {
    const before = drafts.length;
    activity(s.person, s.t);
    if (drafts.length > budget) {
      drafts.length = before;
      break;
    }
  }

  function activity(person: Person, t0: number): void {
    const p = projectAt(person, t0);
    const r = p && repoAt(p, t0);
    if (!p || !r) return;
    let t = t0;
    const add = (dt: number, d: Omit<Draft, 't' | 'person' | 'project'> & { person?: Person }) => {
      t += dt;
      // A storyline ends where its repository or project is deleted.
      if (t < r.deletedMs && t < p.deletedMs) drafts.push({ person, project: p, ...d, t });
    };
    const repo = { ...base(p), sourceRepositoryName: r.name };
    const topic = rng.pick(p.topics);
    const branch = `feature/${p.key}-${rng.int(40, 420)}-${topic}`;
    const runFor = (
      dt: number,
      workflow: string,
      trigger: 'PUSH' | 'PULLREQUEST' | 'MANUAL',
      by = person,
    ) => {
      const id = rng.uuid();
      add(dt, {
        person: by,
        name: 'startWorkflowRun',
        source: 'workflows',
        service: trigger !== 'MANUAL',
        request: {
          ...base(p),
          workflowId: `${workflow}-${p.projectId.slice(0, 8)}`,
          clientToken: rng.uuid(),
        },
        response: {
          ...base(p),
          id,
          workflowId: `${workflow}-${p.projectId.slice(0, 8)}`,
          trigger,
          status: 'InProgress',
        },
      });
      if (rng.chance(0.4))
        add(rng.int(4, 25) * MINUTE_MS, {
          person: by,
          name: 'getWorkflowRun',
          source: 'workflows',
          request: { ...base(p), id },
          response: { ...base(p), id, status: rng.chance(0.85) ? 'Succeeded' : 'Failed' },
        });
    };
    const kind = rng.next();
    if (kind < 0.3) {
      // A push (1–4 commits), which starts the build.
      const head = commitId();
      add(0, {
        name: 'pushSourceRepository',
        source: 'sourcecode',
        agent: rng.chance(0.7) ? 'git/2.47.1' : IDE_AGENT,
        request: {
          ...repo,
          branchName: rng.chance(0.3) ? 'main' : branch,
          commitCount: rng.int(1, 4),
          headCommitId: head,
        },
        response: { ...repo, headCommitId: head, previousHeadCommitId: commitId() },
      });
      runFor(rng.int(2, 20) * 1000, p.workflows[0]!, 'PUSH');
    } else if (kind < 0.45) {
      // A branch, then a pull request that colleagues comment on and someone merges.
      const head = commitId();
      add(0, {
        name: 'createSourceRepositoryBranch',
        source: 'sourcecode',
        request: { ...repo, name: branch, headCommitId: head },
        response: {
          ref: `refs/heads/${branch}`,
          name: branch,
          headCommitId: head,
          lastUpdatedTime: new Date(t0).toISOString(),
        },
      });
      const prId = String(rng.int(12, 480));
      add(rng.int(30, 240) * MINUTE_MS, {
        name: 'createPullRequest',
        source: 'sourcecode',
        request: {
          ...repo,
          title: `${p.key}: ${topic.replaceAll('-', ' ')}`,
          sourceBranchName: branch,
          destinationBranchName: 'main',
        },
        response: { ...repo, pullRequestId: prId, status: 'OPEN' },
      });
      const colleagues = people.filter((o) => o !== person && o.projects.includes(p.name));
      const reviewer = colleagues.length > 0 ? rng.pick(colleagues) : person;
      for (let c = rng.int(0, 3); c > 0; c--) {
        add(rng.int(10, 180) * MINUTE_MS, {
          person: rng.chance(0.6) ? reviewer : person,
          name: 'createPullRequestComment',
          source: 'sourcecode',
          request: { ...repo, pullRequestId: prId, content: { length: rng.int(20, 600) } },
          response: { ...repo, pullRequestId: prId, commentId: rng.uuid() },
        });
      }
      if (rng.chance(0.8)) {
        add(rng.int(20, 600) * MINUTE_MS, {
          person: reviewer,
          name: 'approvePullRequest',
          source: 'sourcecode',
          request: { ...repo, pullRequestId: prId },
          response: { ...repo, pullRequestId: prId, approvalState: 'APPROVE' },
        });
        add(rng.int(5, 120) * MINUTE_MS, {
          name: rng.chance(0.7) ? 'mergePullRequestByFastForward' : 'mergePullRequestBySquash',
          source: 'sourcecode',
          request: { ...repo, pullRequestId: prId },
          response: { ...repo, pullRequestId: prId, status: 'MERGED', mergeCommitId: commitId() },
        });
        runFor(rng.int(3, 30) * 1000, p.workflows.at(-1)!, 'PULLREQUEST');
      }
    } else if (kind < 0.65) {
      // A day in a dev environment.
      const id = rng.uuid();
      const alias = `${person.identity.userName.toLowerCase()}-${p.key.toLowerCase()}`;
      add(0, {
        name: 'startDevEnvironment',
        source: 'devenvironments',
        request: { ...base(p), id, instanceType: rng.pick(['dev.standard1.medium', 'dev.standard1.large']) },
        response: { ...base(p), id, alias, status: 'STARTING' },
      });
      const sessionId = rng.uuid();
      add(rng.int(40, 120) * 1000, {
        name: 'startDevEnvironmentSession',
        source: 'devenvironments',
        agent: IDE_AGENT,
        request: { ...base(p), id, sessionConfiguration: { sessionType: 'VSCode' } },
        response: { ...base(p), id, sessionId },
      });
      add(rng.int(60, 300) * MINUTE_MS, {
        name: 'stopDevEnvironmentSession',
        source: 'devenvironments',
        agent: IDE_AGENT,
        request: { ...base(p), id, sessionId },
        response: { ...base(p), id, sessionId },
      });
      if (rng.chance(0.55))
        add(rng.int(1, 20) * MINUTE_MS, {
          name: 'stopDevEnvironment',
          source: 'devenvironments',
          request: { ...base(p), id },
          response: { ...base(p), id, status: 'STOPPING' },
        });
      else
        add(30 * MINUTE_MS, {
          name: 'stopDevEnvironment',
          source: 'devenvironments',
          service: true,
          request: { ...base(p), id, reason: 'INACTIVITY_TIMEOUT' },
          response: { ...base(p), id, status: 'STOPPING' },
        });
    } else if (kind < 0.75) {
      // A manual deploy, watched.
      const workflow = p.workflows.at(-1)!;
      add(0, {
        name: 'listWorkflows',
        source: 'workflows',
        request: { ...base(p), sourceRepositoryName: r.name },
      });
      add(rng.int(5, 40) * 1000, {
        name: 'getWorkflow',
        source: 'workflows',
        request: { ...base(p), id: `${workflow}-${p.projectId.slice(0, 8)}` },
        response: { ...base(p), name: workflow, status: 'ACTIVE', sourceBranchName: 'main' },
      });
      runFor(rng.int(5, 40) * 1000, workflow, 'MANUAL');
      add(rng.int(1, 10) * MINUTE_MS, {
        name: 'listWorkflowRuns',
        source: 'workflows',
        request: { ...base(p), workflowId: `${workflow}-${p.projectId.slice(0, 8)}`, maxResults: 20 },
      });
    } else if (kind < 0.9) {
      const issue = `${p.key}-${rng.int(100, 900)}`;
      if (rng.chance(0.5))
        add(0, {
          name: 'createIssue',
          source: 'issues',
          request: {
            ...base(p),
            title: `${topic.replaceAll('-', ' ')}: follow-up`,
            priority: rng.pick(['LOW', 'MEDIUM', 'HIGH']),
          },
          response: { ...base(p), issueId: issue, status: 'BACKLOG' },
        });
      else
        add(0, {
          name: 'updateIssue',
          source: 'issues',
          request: { ...base(p), issueId: issue, status: rng.pick(['IN_PROGRESS', 'IN_REVIEW', 'DONE']) },
          response: { ...base(p), issueId: issue },
        });
    } else if (kind < 0.93) {
      add(0, { name: 'listAccessTokens', source: 'manage', request: {} });
      const expires = new Date(t0 + rng.pick([30, 90, 180]) * DAY_MS).toISOString();
      add(rng.int(10, 60) * 1000, {
        name: 'createAccessToken',
        source: 'manage',
        request: { name: `${person.identity.userName.toLowerCase()}-cli`, expiresTime: expires },
        response: {
          name: `${person.identity.userName.toLowerCase()}-cli`,
          accessTokenId: rng.uuid(),
          expiresTime: expires,
        },
      });
    } else {
      // The release automation applies infrastructure; the admin reads the event log now and then.
      if (person === mary && rng.chance(0.5)) {
        add(0, {
          name: 'listEventLogs',
          source: 'manage',
          agent: CLI_AGENT,
          request: {
            spaceName: space,
            startTime: new Date(t0 - 7 * DAY_MS).toISOString(),
            endTime: new Date(t0).toISOString(),
            maxResults: 250,
          },
        });
      } else {
        const infra = projectNamed('platform-infra');
        add(0, {
          person: automation,
          name: 'startWorkflowRun',
          source: 'workflows',
          request: {
            spaceName: space,
            projectName: infra.name,
            workflowId: `apply-${infra.projectId.slice(0, 8)}`,
            clientToken: rng.uuid(),
          },
          response: {
            spaceName: space,
            projectName: infra.name,
            id: rng.uuid(),
            status: 'InProgress',
            trigger: 'MANUAL',
          },
        });
      }
    }
  }

  // Keep what lies in the window, then browse up to exactly `count`.
  const kept = drafts.filter((d) => inWindow(d.t));
  const browsing = count - kept.length;
  for (let k = 0; k < browsing; k++) {
    let slot = rng.pick(slots);
    let t = slot.t + rng.int(-20, 20) * MINUTE_MS;
    while (!inWindow(t) || (slot.person === richard && t >= nightMs && t < unusualDay.endMs)) {
      slot = rng.pick(slots);
      t = slot.t;
    }
    const [name, source, needsProject] = rng.pick(READS);
    const p = needsProject ? projectAt(slot.person, t) : undefined;
    if (needsProject && !p) {
      k--;
      continue;
    }
    const get = name.startsWith('get');
    const request = { ...base(p), ...(name === 'getProject' ? { name: p!.name } : {}) };
    const response = get
      ? {
          ...base(p),
          ...(p ? { id: p.projectId } : {}),
          lastUpdatedTime: new Date(t - rng.int(1, 9000) * MINUTE_MS).toISOString(),
        }
      : undefined;
    kept.push({ t, name, source, person: slot.person, project: p, request, response });
  }

  const events = kept.map((d) => toEvent(d, rng));
  events.sort((a, b) =>
    a.eventTime < b.eventTime ? -1 : a.eventTime > b.eventTime ? 1 : a.id < b.id ? -1 : 1,
  );
  return {
    events,
    unusualDay: { ...unusualDay, sourceIp: STRANGER_IP },
    people: people.map((p) => p.identity.userName),
    projects: projects.map((p) => p.name),
  };
}

const READONLY = /^(get|list|verify)/;

function toEvent(d: Draft, rng: Random): EventLogEntryWire {
  const person = d.person;
  const event: EventLogEntryWire = {
    id: rng.uuid(),
    eventName: d.name,
    eventType: d.service ? 'AwsServiceEvent' : 'AwsApiCall',
    eventCategory: 'MANAGEMENT',
    eventSource: d.source,
    // Storylines step in whole seconds; a real log's times do not.
    eventTime: new Date(Math.floor(d.t) + (d.t % 1000 === 0 ? rng.int(0, 999) : 0)).toISOString(),
    operationType: READONLY.test(d.name) ? 'READONLY' : 'MUTATION',
    userIdentity: person.identity,
    requestId: rng.uuid(),
    sourceIpAddress: d.service
      ? SERVICE_AGENT
      : (d.ip ?? (rng.chance(0.8) ? person.ips[0]! : rng.pick(person.ips))),
    userAgent: d.service ? SERVICE_AGENT : (d.agent ?? person.browser),
  };
  if (d.project) event.projectInformation = { name: d.project.name, projectId: d.project.projectId };
  event.requestPayload = { contentType: 'application/json', data: JSON.stringify(d.request) };
  if (d.errorCode) event.errorCode = d.errorCode;
  else if (d.response)
    event.responsePayload = { contentType: 'application/json', data: JSON.stringify(d.response) };
  return event;
}
