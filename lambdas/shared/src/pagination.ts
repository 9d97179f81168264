/**
 * One generic paginator for every token-paginated call, and the adaptive concurrency limit that
 * time-sliced pagination uses to stay ahead of a sequential paginator without drowning the source.
 */
import { ArchiveError } from './errors';

export interface Page<T> {
  items: T[];
  nextToken?: string | undefined;
}

/**
 * A page answered but not read yet: the raw answer names the next page's token (a guess, which
 * `read` confirms or corrects) before the items are parsed. A paginator that prefetches asks for the
 * next page with the guess first, and parses after, so that a page's parse never delays the next
 * round trip of its own sequence (nor, deferred behind pending I/O, of any other).
 */
export interface DeferredPage<T> {
  nextTokenGuess: string | undefined;
  read: () => Promise<Page<T>>;
}

export function isDeferredPage<T>(page: Page<T> | DeferredPage<T>): page is DeferredPage<T> {
  return typeof (page as DeferredPage<T>).read === 'function';
}

export interface PaginateOptions<T> {
  /** Fetches one page; `nextToken` is undefined for the first. */
  fetchPage: (nextToken: string | undefined, pageSize: number) => Promise<Page<T> | DeferredPage<T>>;
  /** Items per page requested from the source. */
  pageSize: number;
  /** The source's page size limits, checked before the first call. */
  pageSizeLimits?: { min: number; max: number };
  /** Stops when aborted, before the next call. */
  signal?: AbortSignal;
  /**
   * Requests the next page as soon as a page arrives, before the consumer has it: a page's round trip
   * then no longer waits for the consumer's work on the previous one. At most one page is requested
   * ahead (with a {@link DeferredPage}'s guess even before the page is read; a wrong guess is
   * dropped and the right token asked for); a consumer that stops early leaves that request to
   * finish unread.
   */
  prefetch?: boolean;
}

/** A source returned a token it had already returned: paging would never end. */
export class PaginationLoopError extends ArchiveError {
  constructor(token: string, pageNumber: number) {
    super(
      `the source repeated a nextToken at page ${pageNumber}; stopped to avoid an endless loop (token length ${token.length})`,
    );
    this.name = 'PaginationLoopError';
  }
}

/**
 * Pages through a token-paginated call. Empty pages with a token are followed (sources return them);
 * a repeated token stops with `PaginationLoopError` instead of looping forever as SDK paginators do.
 *
 * @example
 * for await (const page of paginate({ pageSize: 250, fetchPage: (token, size) => list(token, size) })) {
 *   consume(page.items);
 * }
 */
export async function* paginate<T>(options: PaginateOptions<T>): AsyncGenerator<Page<T>, void, undefined> {
  const { pageSize, pageSizeLimits } = options;
  if (
    pageSizeLimits &&
    (!Number.isInteger(pageSize) || pageSize < pageSizeLimits.min || pageSize > pageSizeLimits.max)
  ) {
    throw new RangeError(
      `pageSize must be an integer from ${pageSizeLimits.min} to ${pageSizeLimits.max} (got ${pageSize})`,
    );
  }
  const seen = new Set<string>();
  let token: string | undefined;
  let ahead: { token: string; page: Promise<Page<T> | DeferredPage<T>> } | undefined;
  const fetchAhead = (next: string): NonNullable<typeof ahead> => {
    const page = options.fetchPage(next, pageSize);
    // Read at the next turn (or dropped); until then a failure must not count as unhandled.
    page.catch(() => {});
    return { token: next, page };
  };
  for (let pageNumber = 1; ; pageNumber++) {
    if (!ahead) options.signal?.throwIfAborted();
    const answered = await (ahead ? ahead.page : options.fetchPage(token, pageSize));
    ahead = undefined;
    let page: Page<T>;
    if (isDeferredPage(answered)) {
      const guess = answered.nextTokenGuess || undefined;
      if (options.prefetch && guess !== undefined && !seen.has(guess) && !options.signal?.aborted)
        ahead = fetchAhead(guess);
      page = await answered.read();
    } else {
      page = answered;
    }
    const next = page.nextToken || undefined;
    // A wrong guess: its answer is never read.
    if (ahead && ahead.token !== next) ahead = undefined;
    const repeated = next !== undefined && seen.has(next);
    if (next !== undefined && !repeated) {
      seen.add(next);
      token = next;
      if (options.prefetch && !ahead && !options.signal?.aborted) ahead = fetchAhead(next);
    }
    yield page;
    if (next === undefined) return;
    if (repeated) throw new PaginationLoopError(next, pageNumber);
  }
}

/**
 * An additive-increase, multiplicative-decrease concurrency limit (as TCP does with its window):
 * each throttle halves the number of requests in flight, each run of successes adds one back.
 */
export class AdaptiveLimiter {
  #limit: number;
  #inFlight = 0;
  #successes = 0;
  #lastDecrease = 0;
  readonly #waiters: Array<() => void> = [];
  readonly max: number;
  readonly min: number;
  throttles = 0;

  constructor(max: number, min = 1, initial = max) {
    if (!Number.isInteger(max) || max < 1)
      throw new RangeError(`max concurrency must be a positive integer (got ${max})`);
    this.max = max;
    this.min = Math.min(min, max);
    this.#limit = Math.max(this.min, Math.min(initial, max));
  }

  get limit(): number {
    return this.#limit;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Runs `fn` when a slot is free. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    while (this.#inFlight >= this.#limit) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    this.#inFlight++;
    try {
      return await fn();
    } finally {
      this.#inFlight--;
      this.#wake();
    }
  }

  /** A call succeeded: after `limit` successes in a row the limit grows by one. */
  onSuccess(): void {
    if (++this.#successes >= this.#limit && this.#limit < this.max) {
      this.#limit++;
      this.#successes = 0;
      this.#wake();
    }
  }

  /** The source throttled: halve the limit, at most once per 100 ms so one burst counts once. */
  onThrottle(now = Date.now()): void {
    this.throttles++;
    this.#successes = 0;
    if (now - this.#lastDecrease < 100) return;
    this.#lastDecrease = now;
    this.#limit = Math.max(this.min, Math.floor(this.#limit / 2));
  }

  #wake(): void {
    // Woken waiters re-check the limit, so waking one per free slot is enough.
    for (let free = this.#limit - this.#inFlight; free > 0 && this.#waiters.length > 0; free--) {
      this.#waiters.shift()?.();
    }
  }
}
