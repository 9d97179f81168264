/**
 * The connections of the DuckDB engine's one instance, shared by concurrent queries: a query waits
 * for a free connection (a DuckDB connection runs one statement at a time) in a bounded FIFO queue,
 * and a full queue refuses it with a `ThrottlingException` (429), which the AWS SDKs retry with
 * backoff. A query whose signal aborts leaves the queue, or is interrupted on its connection.
 */
import { ApiError } from '@eventlog-archive/shared';

/** What the engine is doing: for tests and the request log. */
export interface EngineActivity {
  /** Queries holding a connection. */
  running: number;
  /** Queries waiting for one. */
  waiting: number;
  /** Queries stopped through their signal (waiting ones dropped, running ones interrupted). */
  cancelled: number;
  /** Running queries `interrupt()` was called on. */
  interrupted: number;
  /** Queries refused because the wait queue was full. */
  throttled: number;
}

/** What the pool needs of a connection: a way to stop the statement running on it. */
export interface Interruptible {
  interrupt(): void;
  closeSync(): void;
}

interface Waiter<C> {
  grant: (connection: C) => void;
  fail: (err: unknown) => void;
}

export const CLOSED_MESSAGE = 'the DuckDB engine is closed';

export class ConnectionPool<C extends Interruptible> {
  readonly #connections: readonly C[];
  readonly #maxWaiting: number;
  readonly #free: C[];
  readonly #waiters: Waiter<C>[] = [];
  readonly #running = new Set<Promise<unknown>>();
  readonly #counts = { cancelled: 0, interrupted: 0, throttled: 0 };
  #closed = false;

  /** Takes ownership of `connections` (closed by {@link close}); `maxWaiting` bounds the queue. */
  constructor(connections: readonly C[], maxWaiting: number) {
    this.#connections = connections;
    this.#free = [...connections];
    this.#maxWaiting = maxWaiting;
  }

  get closed(): boolean {
    return this.#closed;
  }

  activity(): EngineActivity {
    return { running: this.#running.size, waiting: this.#waiters.length, ...this.#counts };
  }

  /**
   * Runs `task` on a connection of its own; an abort of `signal` meanwhile interrupts DuckDB there
   * (the connection stays usable) and the call rejects with the signal's reason.
   */
  async withConnection<T>(signal: AbortSignal | undefined, task: (connection: C) => Promise<T>): Promise<T> {
    const connection = await this.#acquire(signal);
    const run = this.#runOn(connection, signal, task);
    this.#running.add(run);
    void run.then(
      () => this.#running.delete(run),
      () => this.#running.delete(run),
    );
    return run;
  }

  /** Refuses new queries, fails the waiting ones, waits for the running ones, closes the connections. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) waiter.fail(new Error(CLOSED_MESSAGE));
    await Promise.allSettled([...this.#running]);
    for (const connection of this.#connections) connection.closeSync();
  }

  async #runOn<T>(connection: C, signal: AbortSignal | undefined, task: (connection: C) => Promise<T>) {
    const onAbort = (): void => {
      this.#counts.cancelled++;
      this.#counts.interrupted++;
      connection.interrupt();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      // Aborted before the listener was there (between the grant and now): not seen by onAbort.
      if (signal?.aborted) {
        this.#counts.cancelled++;
        throw signal.reason;
      }
      const result = await task(connection);
      // An abort that came after DuckDB finished still means nobody wants the answer.
      if (signal?.aborted) throw signal.reason;
      return result;
    } catch (err) {
      throw signal?.aborted ? signal.reason : err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.#release(connection);
    }
  }

  /** A free connection, after the queries that asked first; refused when the queue is full. */
  #acquire(signal: AbortSignal | undefined): Promise<C> {
    if (this.#closed) return Promise.reject(new Error(CLOSED_MESSAGE));
    if (signal?.aborted) {
      this.#counts.cancelled++;
      return Promise.reject(signal.reason);
    }
    const connection = this.#free.pop();
    if (connection) return Promise.resolve(connection);
    if (this.#waiters.length >= this.#maxWaiting) {
      this.#counts.throttled++;
      return Promise.reject(
        new ApiError(
          'ThrottlingException',
          `Too many queries: ${this.#connections.length} running and ${this.#maxWaiting} waiting; retry with backoff.`,
        ),
      );
    }
    return this.#wait(signal);
  }

  /** Queues for the next released connection; an abort of `signal` meanwhile leaves the queue. */
  #wait(signal: AbortSignal | undefined): Promise<C> {
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        const at = this.#waiters.indexOf(waiter);
        if (at >= 0) this.#waiters.splice(at, 1);
        this.#counts.cancelled++;
        reject(signal?.reason);
      };
      const waiter: Waiter<C> = {
        grant: (connection) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(connection);
        },
        fail: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      this.#waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #release(connection: C): void {
    const next = this.#waiters.shift();
    if (next) next.grant(connection);
    else this.#free.push(connection);
  }
}
