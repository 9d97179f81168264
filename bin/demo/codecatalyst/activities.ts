/**
 * One person's activity at one moment of working time: a push, a pull request, a day in a dev
 * environment, a manual deploy, an issue, an access token, or the admin's and the automation's work.
 */
import { DAY_MS, MINUTE_MS } from '@eventlog-archive/shared';
import { CLI_AGENT, type Draft, IDE_AGENT, type Person, type Project, type Repo } from './data';
import { base, commitId, projectAt, projectNamed, repoAt, type World } from './world';

/** What an activity's steps give; the person defaults to the activity's, the project is its. */
type Step = Omit<Draft, 't' | 'person' | 'project'> & { person?: Person };

/** An activity under way: its person, project, repository, branch, and its clock `t`. */
interface Activity {
  w: World;
  person: Person;
  p: Project;
  r: Repo;
  t0: number;
  /** `spaceName`, `projectName`, `sourceRepositoryName`. */
  repo: Record<string, unknown>;
  topic: string;
  branch: string;
  /** The next step, `dt` after the last; dropped once its repository or project is deleted. */
  add(dt: number, step: Step): void;
}

/** Picks what `person` does at `t0` (nothing when none of their projects and repositories exists). */
export function activity(w: World, person: Person, t0: number): void {
  const { rng } = w;
  const p = projectAt(w, person, t0);
  const r = p && repoAt(w, p, t0);
  if (!p || !r) return;
  let t = t0;
  const add = (dt: number, step: Step) => {
    t += dt;
    // A storyline ends where its repository or project is deleted.
    if (t < r.deletedMs && t < p.deletedMs) w.drafts.push({ person, project: p, ...step, t });
  };
  const repo = { ...base(w, p), sourceRepositoryName: r.name };
  const topic = rng.pick(p.topics);
  const branch = `feature/${p.key}-${rng.int(40, 420)}-${topic}`;
  const a: Activity = { w, person, p, r, t0, repo, topic, branch, add };
  const kind = rng.next();
  if (kind < 0.3) push(a);
  else if (kind < 0.45) pullRequest(a);
  else if (kind < 0.65) devEnvironmentDay(a);
  else if (kind < 0.75) manualDeploy(a);
  else if (kind < 0.9) issue(a);
  else if (kind < 0.93) accessToken(a);
  else adminOrAutomation(a);
}

/** A workflow run `dt` later, sometimes looked at once it is done. */
function runFor(
  a: Activity,
  dt: number,
  workflow: string,
  trigger: 'PUSH' | 'PULLREQUEST' | 'MANUAL',
  by = a.person,
): void {
  const { w, p } = a;
  const id = w.rng.uuid();
  a.add(dt, {
    person: by,
    name: 'startWorkflowRun',
    source: 'workflows',
    service: trigger !== 'MANUAL',
    request: {
      ...base(w, p),
      workflowId: `${workflow}-${p.projectId.slice(0, 8)}`,
      clientToken: w.rng.uuid(),
    },
    response: {
      ...base(w, p),
      id,
      workflowId: `${workflow}-${p.projectId.slice(0, 8)}`,
      trigger,
      status: 'InProgress',
    },
  });
  if (w.rng.chance(0.4))
    a.add(w.rng.int(4, 25) * MINUTE_MS, {
      person: by,
      name: 'getWorkflowRun',
      source: 'workflows',
      request: { ...base(w, p), id },
      response: { ...base(w, p), id, status: w.rng.chance(0.85) ? 'Succeeded' : 'Failed' },
    });
}

/** A push (1–4 commits), which starts the build. */
function push(a: Activity): void {
  const { w, repo } = a;
  const { rng } = w;
  const head = commitId(w);
  a.add(0, {
    name: 'pushSourceRepository',
    source: 'sourcecode',
    agent: rng.chance(0.7) ? 'git/2.47.1' : IDE_AGENT,
    request: {
      ...repo,
      branchName: rng.chance(0.3) ? 'main' : a.branch,
      commitCount: rng.int(1, 4),
      headCommitId: head,
    },
    response: { ...repo, headCommitId: head, previousHeadCommitId: commitId(w) },
  });
  runFor(a, rng.int(2, 20) * 1000, a.p.workflows[0]!, 'PUSH');
}

/** A branch, then a pull request that colleagues comment on and someone merges. */
function pullRequest(a: Activity): void {
  const { w, p, person, repo, branch } = a;
  const { rng } = w;
  const head = commitId(w);
  a.add(0, {
    name: 'createSourceRepositoryBranch',
    source: 'sourcecode',
    request: { ...repo, name: branch, headCommitId: head },
    response: {
      ref: `refs/heads/${branch}`,
      name: branch,
      headCommitId: head,
      lastUpdatedTime: new Date(a.t0).toISOString(),
    },
  });
  const prId = String(rng.int(12, 480));
  a.add(rng.int(30, 240) * MINUTE_MS, {
    name: 'createPullRequest',
    source: 'sourcecode',
    request: {
      ...repo,
      title: `${p.key}: ${a.topic.replaceAll('-', ' ')}`,
      sourceBranchName: branch,
      destinationBranchName: 'main',
    },
    response: { ...repo, pullRequestId: prId, status: 'OPEN' },
  });
  const colleagues = w.people.filter((o) => o !== person && o.projects.includes(p.name));
  const reviewer = colleagues.length > 0 ? rng.pick(colleagues) : person;
  for (let c = rng.int(0, 3); c > 0; c--) {
    a.add(rng.int(10, 180) * MINUTE_MS, {
      person: rng.chance(0.6) ? reviewer : person,
      name: 'createPullRequestComment',
      source: 'sourcecode',
      request: { ...repo, pullRequestId: prId, content: { length: rng.int(20, 600) } },
      response: { ...repo, pullRequestId: prId, commentId: rng.uuid() },
    });
  }
  if (rng.chance(0.8)) {
    a.add(rng.int(20, 600) * MINUTE_MS, {
      person: reviewer,
      name: 'approvePullRequest',
      source: 'sourcecode',
      request: { ...repo, pullRequestId: prId },
      response: { ...repo, pullRequestId: prId, approvalState: 'APPROVE' },
    });
    a.add(rng.int(5, 120) * MINUTE_MS, {
      name: rng.chance(0.7) ? 'mergePullRequestByFastForward' : 'mergePullRequestBySquash',
      source: 'sourcecode',
      request: { ...repo, pullRequestId: prId },
      response: { ...repo, pullRequestId: prId, status: 'MERGED', mergeCommitId: commitId(w) },
    });
    runFor(a, rng.int(3, 30) * 1000, p.workflows.at(-1)!, 'PULLREQUEST');
  }
}

/** A day in a dev environment: started, a session in the IDE, stopped by hand or for inactivity. */
function devEnvironmentDay(a: Activity): void {
  const { w, p, person } = a;
  const { rng } = w;
  const id = rng.uuid();
  const alias = `${person.identity.userName.toLowerCase()}-${p.key.toLowerCase()}`;
  a.add(0, {
    name: 'startDevEnvironment',
    source: 'devenvironments',
    request: { ...base(w, p), id, instanceType: rng.pick(['dev.standard1.medium', 'dev.standard1.large']) },
    response: { ...base(w, p), id, alias, status: 'STARTING' },
  });
  const sessionId = rng.uuid();
  a.add(rng.int(40, 120) * 1000, {
    name: 'startDevEnvironmentSession',
    source: 'devenvironments',
    agent: IDE_AGENT,
    request: { ...base(w, p), id, sessionConfiguration: { sessionType: 'VSCode' } },
    response: { ...base(w, p), id, sessionId },
  });
  a.add(rng.int(60, 300) * MINUTE_MS, {
    name: 'stopDevEnvironmentSession',
    source: 'devenvironments',
    agent: IDE_AGENT,
    request: { ...base(w, p), id, sessionId },
    response: { ...base(w, p), id, sessionId },
  });
  if (rng.chance(0.55))
    a.add(rng.int(1, 20) * MINUTE_MS, {
      name: 'stopDevEnvironment',
      source: 'devenvironments',
      request: { ...base(w, p), id },
      response: { ...base(w, p), id, status: 'STOPPING' },
    });
  else
    a.add(30 * MINUTE_MS, {
      name: 'stopDevEnvironment',
      source: 'devenvironments',
      service: true,
      request: { ...base(w, p), id, reason: 'INACTIVITY_TIMEOUT' },
      response: { ...base(w, p), id, status: 'STOPPING' },
    });
}

/** A manual deploy, watched. */
function manualDeploy(a: Activity): void {
  const { w, p } = a;
  const { rng } = w;
  const workflow = p.workflows.at(-1)!;
  a.add(0, {
    name: 'listWorkflows',
    source: 'workflows',
    request: { ...base(w, p), sourceRepositoryName: a.r.name },
  });
  a.add(rng.int(5, 40) * 1000, {
    name: 'getWorkflow',
    source: 'workflows',
    request: { ...base(w, p), id: `${workflow}-${p.projectId.slice(0, 8)}` },
    response: { ...base(w, p), name: workflow, status: 'ACTIVE', sourceBranchName: 'main' },
  });
  runFor(a, rng.int(5, 40) * 1000, workflow, 'MANUAL');
  a.add(rng.int(1, 10) * MINUTE_MS, {
    name: 'listWorkflowRuns',
    source: 'workflows',
    request: { ...base(w, p), workflowId: `${workflow}-${p.projectId.slice(0, 8)}`, maxResults: 20 },
  });
}

/** An issue created or moved on. */
function issue(a: Activity): void {
  const { w, p } = a;
  const { rng } = w;
  const issueId = `${p.key}-${rng.int(100, 900)}`;
  if (rng.chance(0.5))
    a.add(0, {
      name: 'createIssue',
      source: 'issues',
      request: {
        ...base(w, p),
        title: `${a.topic.replaceAll('-', ' ')}: follow-up`,
        priority: rng.pick(['LOW', 'MEDIUM', 'HIGH']),
      },
      response: { ...base(w, p), issueId, status: 'BACKLOG' },
    });
  else
    a.add(0, {
      name: 'updateIssue',
      source: 'issues',
      request: { ...base(w, p), issueId, status: rng.pick(['IN_PROGRESS', 'IN_REVIEW', 'DONE']) },
      response: { ...base(w, p), issueId },
    });
}

/** A personal access token for the CLI. */
function accessToken(a: Activity): void {
  const { w, person } = a;
  const { rng } = w;
  a.add(0, { name: 'listAccessTokens', source: 'manage', request: {} });
  const expires = new Date(a.t0 + rng.pick([30, 90, 180]) * DAY_MS).toISOString();
  a.add(rng.int(10, 60) * 1000, {
    name: 'createAccessToken',
    source: 'manage',
    request: { name: `${person.identity.userName.toLowerCase()}-cli`, expiresTime: expires },
    response: {
      name: `${person.identity.userName.toLowerCase()}-cli`,
      accessTokenId: rng.uuid(),
      expiresTime: expires,
    },
  });
}

/** The admin reads the event log now and then; otherwise the release automation applies infrastructure. */
function adminOrAutomation(a: Activity): void {
  const { w, person, t0 } = a;
  const { rng, space } = w;
  if (person === w.mary && rng.chance(0.5)) {
    a.add(0, {
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
    return;
  }
  const infra = projectNamed(w, 'platform-infra');
  a.add(0, {
    person: w.automation,
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
