import { describe, expect, it } from 'vitest';
import { backoffDelay, withRetry } from '../../../lambdas/shared/src/retry';

const fail = (name: string, status: number): Error =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

describe('withRetry', () => {
  it('retries throttling and 5xx, then returns the result', async () => {
    const errors = [fail('ThrottlingException', 429), fail('InternalServerException', 500)];
    const classes: string[] = [];
    const result = await withRetry(
      async () => {
        const next = errors.shift();
        if (next) throw next;
        return 'ok';
      },
      { baseMs: 1, throttleBaseMs: 1, onRetry: ({ errorClass }) => classes.push(errorClass) },
    );
    expect(result).toBe('ok');
    expect(classes).toEqual(['throttled', 'transient']);
  });

  it('does not retry fatal errors', async () => {
    let calls = 0;
    await expect(
      withRetry(async () => {
        calls++;
        throw fail('AccessDeniedException', 403);
      }),
    ).rejects.toThrow('AccessDeniedException');
    expect(calls).toBe(1);
  });

  it('gives up after maxAttempts', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw fail('InternalServerException', 500);
        },
        { maxAttempts: 3, baseMs: 1 },
      ),
    ).rejects.toThrow();
    expect(calls).toBe(3);
  });

  it('stops sleeping when aborted', async () => {
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(new Error('stop')), 20);
    await expect(
      withRetry(
        async () => {
          throw fail('InternalServerException', 500);
        },
        { baseMs: 60_000, random: () => 0.99, signal: controller.signal },
      ),
    ).rejects.toThrow('stop');
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

describe('backoffDelay', () => {
  it('grows exponentially within the cap, with full jitter', () => {
    expect(backoffDelay(0, 100, 20_000, () => 0.999)).toBe(99);
    expect(backoffDelay(3, 100, 20_000, () => 0.999)).toBe(799);
    expect(backoffDelay(20, 100, 20_000, () => 0.999)).toBe(19_980);
    expect(backoffDelay(5, 100, 20_000, () => 0)).toBe(0);
  });
});
