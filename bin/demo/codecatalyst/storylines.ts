/**
 * The fixed storylines of the demo month: a new project mid-month, and the unusual night (a stranger
 * made Space administrator with an admin's credentials, who clones and deletes) with the morning after.
 */
import { DAY_MS, HOUR_MS, MINUTE_MS } from '@eventlog-archive/shared';
import { CLI_AGENT, type Draft, ODD_AGENT, type Project, STRANGER, STRANGER_IP } from './data';
import { base, projectNamed, repoNamed, Storyline, type World } from './world';

/** ArnavDesai creates the search prototype: the project, its repository, a dev environment. */
export function newProjectScene(w: World): void {
  const { rng, space } = w;
  const p = projectNamed(w, 'search-prototype');
  const line = new Storyline(w, w.newProjectMs, { person: w.people[5]! });
  line.add(0, {
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
  line.add(4 * MINUTE_MS, {
    name: 'createSourceRepository',
    source: 'sourcecode',
    project: p,
    request: { ...base(w, p), name: 'search-service', description: 'Search API prototype' },
    response: { ...base(w, p), name: 'search-service' },
  });
  line.add(3 * MINUTE_MS, {
    name: 'createDevEnvironment',
    source: 'devenvironments',
    project: p,
    request: {
      ...base(w, p),
      alias: 'arnav-search',
      instanceType: 'dev.standard1.large',
      inactivityTimeoutMinutes: 30,
      persistentStorage: { sizeInGiB: 32 },
      repositories: [{ repositoryName: 'search-service', branchName: 'main' }],
      ides: [{ name: 'VSCode' }],
    },
    response: { ...base(w, p), id: rng.uuid(), vpcConnectionName: 'default' },
  });
}

/** The unusual night and the morning after; returns its span (end: a minute after the clean-up). */
export function unusualNight(w: World): { startMs: number; endMs: number } {
  const night = new NightLine(w);
  strangerGetsAdmin(w, night);
  cloneRepositories(w, night);
  deleteThings(w, night);
  const endMs = morningAfter(w);
  return { startMs: w.nightMs, endMs };
}

/** The night's storyline: the stranger's address and client; `s` is a step by the stranger. */
class NightLine extends Storyline {
  constructor(w: World) {
    super(w, w.nightMs, { ip: STRANGER_IP, agent: ODD_AGENT });
  }

  s(dt: number, name: string, source: string, extra: Partial<Draft> = {}): void {
    this.add(dt, { name, source, person: this.w.stranger, request: base(this.w, extra.project), ...extra });
  }
}

/** The stranger is refused, then Richard's credentials (same address, same odd client) grant the role. */
function strangerGetsAdmin(w: World, night: NightLine): void {
  const { space, richard } = w;
  night.s(0, 'verifySession', 'manage');
  night.s(9_000, 'listSourceRepositories', 'sourcecode', {
    project: projectNamed(w, 'platform-infra'),
    errorCode: 'AccessDeniedException',
  });
  night.s(14_000, 'createAccessToken', 'manage', {
    request: { name: 'sync', expiresTime: new Date(w.nightMs + 365 * DAY_MS).toISOString() },
    errorCode: 'AccessDeniedException',
  });
  night.add(4 * MINUTE_MS, { name: 'verifySession', source: 'manage', person: richard, request: base(w) });
  night.add(20_000, { name: 'listSpaces', source: 'manage', person: richard, request: {} });
  night.add(35_000, {
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
}

/** As Space administrator: the clone URLs of four projects' repositories, and a year-long token. */
function cloneRepositories(w: World, night: NightLine): void {
  const { rng, space } = w;
  night.s(2 * MINUTE_MS, 'verifySession', 'manage');
  night.s(6_000, 'listProjects', 'manage');
  const targets = ['platform-infra', 'data-platform', 'checkout-service', 'search-prototype'].map((name) =>
    projectNamed(w, name),
  );
  for (const p of targets) {
    night.s(rng.int(3, 9) * 1000, 'listSourceRepositories', 'sourcecode', { project: p });
    for (const r of w.repos.filter((r) => r.project === p.name)) {
      night.s(rng.int(2, 6) * 1000, 'getSourceRepositoryCloneUrls', 'sourcecode', {
        project: p,
        request: { ...base(w, p), sourceRepositoryName: r.name },
        response: { https: `https://git.us-west-2.codecatalyst.aws/v1/${space}/${p.name}/${r.name}` },
      });
    }
  }
  night.s(3 * MINUTE_MS, 'createAccessToken', 'manage', {
    request: { name: 'sync', expiresTime: new Date(w.nightMs + 365 * DAY_MS).toISOString() },
    response: {
      name: 'sync',
      accessTokenId: rng.uuid(),
      expiresTime: new Date(w.nightMs + 365 * DAY_MS).toISOString(),
    },
  });
}

/** Dev environments, repositories and a project deleted; deleting platform-infra fails. */
function deleteThings(w: World, night: NightLine): void {
  const { rng, space } = w;
  night.s(11 * MINUTE_MS, 'listDevEnvironments', 'devenvironments', {
    project: projectNamed(w, 'data-platform'),
  });
  for (const alias of ['saanvi-etl', 'wang-models']) {
    const p = projectNamed(w, 'data-platform');
    night.s(rng.int(5, 15) * 1000, 'deleteDevEnvironment', 'devenvironments', {
      project: p,
      request: { ...base(w, p), id: rng.uuid() },
      response: { ...base(w, p), alias },
    });
  }
  for (const name of ['terraform-modules', 'warehouse-models', 'search-service']) {
    const r = repoNamed(w, name);
    const p = projectNamed(w, r.project);
    night.s(rng.int(20, 60) * 1000, 'deleteSourceRepository', 'sourcecode', {
      project: p,
      request: { ...base(w, p), name },
      response: { ...base(w, p), name },
    });
    r.deletedMs = night.t;
  }
  const gone = projectNamed(w, 'search-prototype');
  night.s(40_000, 'deleteProject', 'manage', {
    project: gone,
    request: { spaceName: space, name: gone.name },
    response: { spaceName: space, name: gone.name, displayName: gone.name },
  });
  gone.deletedMs = night.t;
  night.s(90_000, 'deleteProject', 'manage', {
    project: projectNamed(w, 'platform-infra'),
    request: { spaceName: space, name: 'platform-infra' },
    errorCode: 'ConflictException',
  });
}

/** Mary's 08:xx local: she looks, checks the log, revokes both roles. Returns a minute after. */
function morningAfter(w: World): number {
  const { rng, space, mary, richard, nightMs } = w;
  const gone: Project = projectNamed(w, 'search-prototype');
  const start = Math.floor(nightMs / DAY_MS) * DAY_MS + 7 * HOUR_MS + rng.int(5, 40) * MINUTE_MS;
  const m = new Storyline(w, start, { person: mary, ip: mary.ips[0] });
  m.add(0, {
    name: 'getProject',
    source: 'manage',
    project: gone,
    request: { spaceName: space, name: gone.name },
    errorCode: 'ResourceNotFoundException',
  });
  for (let k = 0; k < 3; k++) {
    const startTime = new Date(nightMs - DAY_MS).toISOString();
    m.add(rng.int(20, 90) * 1000, {
      name: 'listEventLogs',
      source: 'manage',
      agent: CLI_AGENT,
      request: { spaceName: space, startTime, endTime: new Date(m.t).toISOString(), maxResults: 250 },
    });
  }
  m.add(4 * MINUTE_MS, {
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
  m.add(2 * MINUTE_MS, {
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
  return m.t + MINUTE_MS;
}
