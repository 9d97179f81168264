/**
 * Retries with exponential backoff and full jitter, classified by the one rule in `errors.ts`.
 */
import { classifyError, ErrorClass } from './errors';

export interface RetryOptions {
  /** Total attempts including the first (default 6). */
  maxAttempts?: number;
  /** Backoff base for transient faults in ms (default 100). */
  baseMs?: number;
  /** Backoff base for throttling in ms (default 500, as the AWS SDK does). */
  throttleBaseMs?: number;
  /** Upper bound of one sleep in ms (default 20 s). */
  capMs?: number;
  /** Called before each sleep; the place to count retries and throttles. */
  onRetry?: (info: { attempt: number; delayMs: number; errorClass: ErrorClass; error: unknown }) => void;
  /** Stops retrying (and sleeping) when aborted. */
  signal?: AbortSignal;
  /** Randomness source, replaceable in tests. */
  random?: () => number;
  /** Classifier, replaceable for sources with their own error shapes. */
  classify?: (err: unknown) => ErrorClass;
}

/** Full-jitter exponential backoff: a uniform delay in [0, min(cap, base·2^attempt)). */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  capMs: number,
  random: () => number = Math.random,
): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** attempt));
}

/** Sleeps `ms`, or rejects with the signal's reason when aborted first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `fn` until it succeeds, a fatal error occurs, or attempts run out.
 *
 * @example
 * const page = await withRetry(() => client.send(cmd), { onRetry: ({ errorClass }) => count(errorClass) });
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const maxAttempts = options.maxAttempts ?? 6;
  const classify = options.classify ?? classifyError;
  const random = options.random ?? Math.random;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      const errorClass = classify(error);
      if (errorClass === ErrorClass.Fatal || attempt + 1 >= maxAttempts || options.signal?.aborted)
        throw error;
      const base =
        errorClass === ErrorClass.Throttled ? (options.throttleBaseMs ?? 500) : (options.baseMs ?? 100);
      const delayMs = backoffDelay(attempt, base, options.capMs ?? 20_000, random);
      options.onRetry?.({ attempt: attempt + 1, delayMs, errorClass, error });
      await sleep(delayMs, options.signal);
    }
  }
}
