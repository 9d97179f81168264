import { describe, expect, it } from 'vitest';
import { CLOCK_ENV, clockFrom, clockFromEnv, daysBetween, utcDay } from '../../../lambdas/shared/src/time';

describe('clockFrom', () => {
  it('reads the pinned instant at first and then advances with the monotonic clock', async () => {
    // Prepare
    const start = Date.UTC(2028, 1, 29, 23, 59, 59, 990);
    const clock = clockFrom(start);

    // Act
    const first = clock();
    await new Promise((resolve) => setTimeout(resolve, 30));
    const later = clock();

    // Assess
    expect(first - start).toBeLessThan(20);
    expect(later).toBeGreaterThan(first);
    // Past midnight of a leap day: the next day is March 1st.
    expect(utcDay(later)).toBe('2028-03-01');
  });
});

describe('clockFromEnv', () => {
  it('is the system clock when the variable is absent or empty', () => {
    expect(clockFromEnv({})).toBe(Date.now);
    expect(clockFromEnv({ [CLOCK_ENV]: '' })).toBe(Date.now);
  });

  it('starts at the instant the variable names, in any RFC 3339 offset', () => {
    const clock = clockFromEnv({ [CLOCK_ENV]: '2026-12-06T01:59:00+01:00' });
    expect(clock() - Date.UTC(2026, 11, 6, 0, 59)).toBeLessThan(1_000);
  });

  it.each(['yesterday', '2026-13-01T00:00:00Z', '1765000000000'])(
    'refuses %j with a ValidationException naming the variable',
    (value) => {
      expect(() => clockFromEnv({ [CLOCK_ENV]: value })).toThrow(
        expect.objectContaining({
          name: 'ApiError',
          errorType: 'ValidationException',
          message: expect.stringMatching(/^EVENTLOG_ARCHIVE_NOW: /),
        }),
      );
    },
  );
});

describe('daysBetween', () => {
  it('lists each UTC day a range touches, across a leap day and a year end', () => {
    expect(daysBetween(Date.UTC(2028, 1, 28, 23), Date.UTC(2028, 2, 1, 0, 1))).toEqual([
      '2028-02-28',
      '2028-02-29',
      '2028-03-01',
    ]);
    expect(daysBetween(Date.UTC(2026, 11, 31, 23, 55), Date.UTC(2027, 0, 1))).toEqual(['2026-12-31']);
  });
});
