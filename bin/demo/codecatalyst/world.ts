/**
 * The demo space's world: its timeline, people, projects and repositories, drawn from the seeded
 * PRNG, and the list of drafts the scenes append to. Every scene takes the world; the order in which
 * the scenes run is the order of the PRNG draws, so it is fixed (see `demoSpaceEvents`).
 */
import { DAY_MS, HOUR_MS, MINUTE_MS } from '@eventlog-archive/shared';
import { type Random, random } from '../random';
import {
  AUTOMATION_AGENT,
  BROWSERS,
  type Draft,
  NEW_PROJECT,
  ODD_AGENT,
  type Person,
  PROJECTS,
  type Project,
  type Repo,
  STRANGER,
  STRANGER_IP,
  TEAM,
} from './data';

export interface World {
  rng: Random;
  space: string;
  /** The window the events lie in: [fromMs, toMs). */
  fromMs: number;
  toMs: number;
  /** Midnight UTC of the window's first day, and the number of days from it to `toMs`. */
  firstDay: number;
  days: number;
  people: Person[];
  automation: Person;
  stranger: Person;
  /** The two space admins: Mary cleans up, Richard's credentials grant the role. */
  mary: Person;
  richard: Person;
  newProjectMs: number;
  nightMs: number;
  projects: Project[];
  repos: Repo[];
  /** Every event so far, in the order the scenes made them. */
  drafts: Draft[];
}

/** Draws the world; the PRNG draws happen here in this order: people, timeline, project ids. */
export function createWorld(nowMs: number, space: string, seed: number): World {
  const rng = random(seed);
  // The last event an hour before the clock: a first ingest (which ends on the last whole hour) gets all.
  const toMs = nowMs - HOUR_MS;
  // An hour inside the 30 days ListEventLogs keeps, so nothing expires while the demo pulls it.
  const fromMs = nowMs - 30 * DAY_MS + HOUR_MS;
  const firstDay = Math.floor(fromMs / DAY_MS) * DAY_MS;
  const days = Math.floor(toMs / DAY_MS) - firstDay / DAY_MS + 1;
  const { people, automation, stranger } = createPeople(rng);
  // The timeline: a new project around day 8–11, the unusual night around day 18–21 (UTC ~02:30).
  const newProjectMs = firstDay + rng.int(8, 11) * DAY_MS + 10 * HOUR_MS + rng.int(0, 50) * MINUTE_MS;
  const nightMs = firstDay + rng.int(18, 21) * DAY_MS + 2 * HOUR_MS + rng.int(20, 50) * MINUTE_MS;
  const { projects, repos } = createProjects(rng, newProjectMs);
  return {
    rng,
    space,
    fromMs,
    toMs,
    firstDay,
    days,
    people,
    automation,
    stranger,
    mary: people[0]!,
    richard: people[1]!,
    newProjectMs,
    nightMs,
    projects,
    repos,
    drafts: [],
  };
}

function createPeople(rng: Random): { people: Person[]; automation: Person; stranger: Person } {
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
    browser: AUTOMATION_AGENT,
    projects: ['platform-infra'],
  };
  const stranger: Person = {
    identity: { userType: 'USER', principalId: rng.uuid(), userName: STRANGER },
    utcOffset: 0,
    ips: [STRANGER_IP],
    browser: ODD_AGENT,
    projects: [],
  };
  return { people, automation, stranger };
}

function createProjects(rng: Random, newProjectMs: number): { projects: Project[]; repos: Repo[] } {
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
  return { projects, repos };
}

/** The fields every request carries: the space, and the project when there is one. */
export function base(w: World, project?: Project): Record<string, unknown> {
  return project ? { spaceName: w.space, projectName: project.name } : { spaceName: w.space };
}

export function commitId(w: World): string {
  return w.rng.hex(40);
}

export function projectNamed(w: World, name: string): Project {
  return w.projects.find((p) => p.name === name)!;
}

export function repoNamed(w: World, name: string): Repo {
  return w.repos.find((r) => r.name === name)!;
}

export function inWindow(w: World, t: number): boolean {
  return t >= w.fromMs && t < w.toMs;
}

function alive(x: { createdMs: number; deletedMs: number }, t: number): boolean {
  return x.createdMs <= t && t < x.deletedMs;
}

/** One of the person's projects that exists at `t` (a PRNG draw only when there is one). */
export function projectAt(w: World, person: Person, t: number): Project | undefined {
  const open = person.projects.map((name) => projectNamed(w, name)).filter((p) => alive(p, t));
  return open.length === 0 ? undefined : w.rng.pick(open);
}

/** One of the project's repositories that exists at `t` (a PRNG draw only when there is one). */
export function repoAt(w: World, p: Project, t: number): Repo | undefined {
  const open = w.repos.filter((r) => r.project === p.name && alive(r, t));
  return open.length === 0 ? undefined : w.rng.pick(open);
}

/** What a storyline step gives; the rest comes from the storyline's defaults. */
export type Step = Omit<Draft, 't' | 'person'> & { person?: Person };

/** A run of events, each `dt` after the one before, with shared defaults (person, address, agent). */
export class Storyline {
  constructor(
    protected readonly w: World,
    public t: number,
    private readonly defaults: Partial<Draft> = {},
  ) {}

  add(dt: number, step: Step): void {
    this.t += dt;
    this.w.drafts.push({ ...this.defaults, ...step, t: this.t } as Draft);
  }
}
