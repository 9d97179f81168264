/** A few failed calls besides the night's, each with one of the API's error codes. */
import type { Person, Project } from './data';
import type { Slot } from './working-time';
import { base, commitId, projectNamed, type World } from './world';

/** [person, eventName, eventSource, errorCode, project, request fields]. */
type Failure = [Person, string, string, string, Project | undefined, Record<string, unknown>];

/** The failed calls; their ids are PRNG draws, made before the working time is drawn. */
export function failedCalls(w: World): Failure[] {
  const { rng, people, space } = w;
  return [
    [
      people[6]!,
      'startDevEnvironment',
      'devenvironments',
      'ConflictException',
      projectNamed(w, 'checkout-service'),
      { id: rng.uuid() },
    ],
    [
      people[7]!,
      'createSourceRepositoryBranch',
      'sourcecode',
      'ConflictException',
      projectNamed(w, 'mobile-app'),
      { sourceRepositoryName: 'mobile-app', name: 'feature/MOB-88-dark-mode', headCommitId: commitId(w) },
    ],
    [
      people[3]!,
      'startWorkflowRun',
      'workflows',
      'ValidationException',
      projectNamed(w, 'web-storefront'),
      { workflowId: rng.uuid(), clientToken: rng.uuid() },
    ],
    [
      people[4]!,
      'getWorkflowRun',
      'workflows',
      'ResourceNotFoundException',
      projectNamed(w, 'data-platform'),
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
      w.mary,
      'listEventLogs',
      'manage',
      'ThrottlingException',
      undefined,
      { startTime: new Date(w.fromMs).toISOString(), endTime: new Date(w.toMs).toISOString() },
    ],
  ];
}

/** Each failure at one of its person's slots, spread over the month. */
export function placeFailures(w: World, failures: readonly Failure[], slots: readonly Slot[]): void {
  for (const [k, [person, name, source, errorCode, project, request]] of failures.entries()) {
    const slot = slots.filter((s) => s.person === person)[7 + k * 13];
    if (slot)
      w.drafts.push({
        t: slot.t,
        person,
        name,
        source,
        errorCode,
        project,
        request: { ...base(w, project), ...request },
      });
  }
}
