import { describe, expect, it } from 'vitest';
import {
  AdaptiveLimiter,
  type DeferredPage,
  type Page,
  PaginationLoopError,
  paginate,
} from '../../../lambdas/shared/src/pagination';

describe('paginate', () => {
  it('follows tokens through empty pages until there is none', async () => {
    const pages = [{ items: [1, 2], nextToken: 'a' }, { items: [], nextToken: 'b' }, { items: [3] }];
    const seen: number[] = [];
    const tokens: Array<string | undefined> = [];
    for await (const page of paginate<number>({
      pageSize: 2,
      fetchPage: async (token) => {
        tokens.push(token);
        return pages[tokens.length - 1]!;
      },
    })) {
      seen.push(...page.items);
    }
    expect(seen).toEqual([1, 2, 3]);
    expect(tokens).toEqual([undefined, 'a', 'b']);
  });

  it('stops with PaginationLoopError when a token repeats', async () => {
    const run = async (): Promise<void> => {
      for await (const _ of paginate<number>({
        pageSize: 1,
        fetchPage: async () => ({ items: [1], nextToken: 'same' }),
      })) {
        // consume
      }
    };
    await expect(run()).rejects.toBeInstanceOf(PaginationLoopError);
  });

  it('with prefetch, asks for the next page before the consumer is done with the current one', async () => {
    const pages = [{ items: [1], nextToken: 'a' }, { items: [2], nextToken: 'b' }, { items: [3] }];
    const log: string[] = [];
    for await (const page of paginate<number>({
      pageSize: 1,
      prefetch: true,
      fetchPage: async (token) => {
        log.push(`fetch ${token ?? 'first'}`);
        return pages[log.filter((l) => l.startsWith('fetch')).length - 1]!;
      },
    })) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      log.push(`consumed ${page.items[0]}`);
    }
    expect(log).toEqual(['fetch first', 'fetch a', 'consumed 1', 'fetch b', 'consumed 2', 'consumed 3']);
  });

  it('with prefetch, still stops on a repeated token and passes a failed page on at its turn', async () => {
    const loop = async (): Promise<number> => {
      let consumed = 0;
      for await (const _ of paginate<number>({
        pageSize: 1,
        prefetch: true,
        fetchPage: async () => ({ items: [1], nextToken: 'same' }),
      }))
        consumed++;
      return consumed;
    };
    await expect(loop()).rejects.toBeInstanceOf(PaginationLoopError);

    const consumed: number[] = [];
    const failing = async (): Promise<void> => {
      for await (const page of paginate<number>({
        pageSize: 1,
        prefetch: true,
        fetchPage: async (token) => {
          if (token === 'b') throw new Error('page 3 failed');
          return { items: [token === 'a' ? 2 : 1], nextToken: token === 'a' ? 'b' : 'a' };
        },
      })) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        consumed.push(...page.items);
      }
    };
    await expect(failing()).rejects.toThrow('page 3 failed');
    expect(consumed).toEqual([1, 2]);
  });

  it('with prefetch and deferred pages, asks for the guessed next page before reading this one', async () => {
    // Page b's raw answer names an item's "nextToken" last: a wrong guess, dropped for the real one.
    const pages: Record<string, { page: Page<number>; guess: string | undefined }> = {
      first: { page: { items: [1], nextToken: 'a' }, guess: 'a' },
      a: { page: { items: [2], nextToken: 'b' }, guess: 'b' },
      b: { page: { items: [3], nextToken: 'c' }, guess: 'item-token' },
      c: { page: { items: [4] }, guess: undefined },
      'item-token': { page: { items: [99] }, guess: undefined },
    };
    const log: string[] = [];
    const consumed: number[] = [];
    for await (const page of paginate<number>({
      pageSize: 1,
      prefetch: true,
      fetchPage: async (token): Promise<DeferredPage<number>> => {
        const key = token ?? 'first';
        log.push(`fetch ${key}`);
        const { page, guess } = pages[key]!;
        return {
          nextTokenGuess: guess,
          read: async () => {
            log.push(`read ${key}`);
            return page;
          },
        };
      },
    }))
      consumed.push(...page.items);
    expect(consumed).toEqual([1, 2, 3, 4]);
    expect(log).toEqual([
      'fetch first',
      'fetch a',
      'read first',
      'fetch b',
      'read a',
      'fetch item-token',
      'read b',
      'fetch c',
      'read c',
    ]);
  });

  it('rejects a page size outside the source limits before calling it', async () => {
    let calls = 0;
    const iterator = paginate<number>({
      pageSize: 251,
      pageSizeLimits: { min: 1, max: 250 },
      fetchPage: async () => {
        calls++;
        return { items: [] };
      },
    });
    await expect(iterator.next()).rejects.toThrow(/1 to 250/);
    expect(calls).toBe(0);
  });
});

describe('AdaptiveLimiter', () => {
  it('never runs more than the limit at once', async () => {
    const limiter = new AdaptiveLimiter(3);
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        limiter.run(async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((r) => setTimeout(r, 2));
          running--;
        }),
      ),
    );
    expect(peak).toBe(3);
  });

  it('halves on throttling and grows back by one per window of successes', () => {
    const limiter = new AdaptiveLimiter(16);
    limiter.onThrottle(1_000);
    expect(limiter.limit).toBe(8);
    limiter.onThrottle(1_050); // same burst: counted, not halved again
    expect(limiter.limit).toBe(8);
    expect(limiter.throttles).toBe(2);
    limiter.onThrottle(1_200);
    expect(limiter.limit).toBe(4);
    for (let i = 0; i < 4; i++) limiter.onSuccess();
    expect(limiter.limit).toBe(5);
  });

  it('does not go below its minimum', () => {
    const limiter = new AdaptiveLimiter(4);
    for (let t = 0; t < 10; t++) limiter.onThrottle(t * 1_000);
    expect(limiter.limit).toBe(1);
  });
});
