/**
 * The tests' clocks. A test pins the instant it runs at (never the wall clock), passes the same clock
 * to the code, the stand-in servers and child processes, and derives its expectations from it.
 */
import { CLOCK_ENV, type Clock, clockFrom, iso } from '../../lambdas/shared/src/time';

export type { Clock };

/** A clock that reads `startMs` now and advances in real time (deadlines and TTLs still pass). */
export function pinnedClock(startMs: number): Clock {
  return clockFrom(startMs);
}

/** The environment that starts a child process's clock where `clock` reads now. */
export function clockEnv(clock: Clock): Record<string, string> {
  return { [CLOCK_ENV]: iso(clock()) };
}

/**
 * libfaketime's variables, when the suite runs under it (`npm run test:clock`): a child process with a
 * clean environment keeps them, so its system clock (SigV4 signing dates, S3 timestamps) is the
 * parent's.
 */
export function fakedSystemClockEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] =>
        entry[1] !== undefined && (entry[0] === 'LD_PRELOAD' || entry[0].startsWith('FAKETIME')),
    ),
  );
}
