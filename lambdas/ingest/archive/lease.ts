/**
 * A single-writer lease per source instance, so two runs (an overlapping schedule, a CLI run beside
 * the Lambda) never read-merge-write the same day at once. Built on conditional writes: S3
 * `If-None-Match: *` to take a free lease, `If-Match` to take over an expired one or to renew.
 */
import { randomUUID } from 'node:crypto';
import { ArchiveError, iso } from '@eventlog-archive/shared';
import { leaseKey, type TableLocation } from '../../core/layout';
import { type ArchiveStore, isPreconditionFailed } from '../../core/store';

interface LeaseDoc {
  owner: string;
  acquiredAt: string;
  expiresAt: string;
}

/** Another run holds the lease. */
export class LeaseBusyError extends ArchiveError {
  constructor(
    readonly holder: string,
    readonly expiresAt: string,
  ) {
    super(`another run (${holder}) is ingesting this instance; its lease expires at ${expiresAt}`);
    this.name = 'LeaseBusyError';
  }
}

/** The lease was taken over (this run outlived it): the run must stop writing. */
export class LeaseLostError extends ArchiveError {
  constructor() {
    super('the ingest lease was lost to another run; stopped before writing more');
    this.name = 'LeaseLostError';
  }
}

export class Lease {
  readonly owner: string;
  #etag: string;
  #timer: NodeJS.Timeout | undefined;
  #lost = false;

  private constructor(
    private readonly store: ArchiveStore,
    private readonly key: string,
    owner: string,
    etag: string,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {
    this.owner = owner;
    this.#etag = etag;
  }

  /** Takes the lease or throws `LeaseBusyError`. It renews itself every third of its TTL until released. */
  static async acquire(
    store: ArchiveStore,
    table: TableLocation,
    options: { ttlMs?: number; owner?: string; now?: () => number; onLost?: () => void } = {},
  ): Promise<Lease> {
    const key = leaseKey(table);
    const ttlMs = options.ttlMs ?? 5 * 60_000;
    const now = options.now ?? Date.now;
    const owner = options.owner ?? randomUUID();
    const body = (): Uint8Array => encode({ owner, acquiredAt: iso(now()), expiresAt: iso(now() + ttlMs) });
    let etag: string;
    try {
      ({ etag } = await store.put(key, body(), { ifNoneMatch: true, contentType: 'application/json' }));
    } catch (err) {
      if (!isPreconditionFailed(err)) throw err;
      const current = await store.get(key);
      if (!current) return Lease.acquire(store, table, options);
      const doc = decode(current.body);
      // Our own write took effect but its answer was lost (a dropped connection), and the SDK's
      // retry met our lease: it is ours, not another run's (else it would block us and the next runs).
      if (doc.owner === owner) etag = current.etag;
      else {
        if (Date.parse(doc.expiresAt) > now()) throw new LeaseBusyError(doc.owner, doc.expiresAt);
        try {
          ({ etag } = await store.put(key, body(), {
            ifMatch: current.etag,
            contentType: 'application/json',
          }));
        } catch (takeoverErr) {
          if (!isPreconditionFailed(takeoverErr)) throw takeoverErr;
          const winner = await store.get(key);
          const winnerDoc = winner ? decode(winner.body) : doc;
          if (!winner || winnerDoc.owner !== owner)
            throw new LeaseBusyError(winnerDoc.owner, winnerDoc.expiresAt);
          etag = winner.etag;
        }
      }
    }
    const lease = new Lease(store, key, owner, etag, ttlMs, now);
    lease.#timer = setInterval(
      () => {
        lease.renew().catch(() => {
          lease.#lost = true;
          options.onLost?.();
        });
      },
      Math.max(1_000, Math.floor(ttlMs / 3)),
    );
    lease.#timer.unref();
    return lease;
  }

  get lost(): boolean {
    return this.#lost;
  }

  /** Extends the lease; fails with `LeaseLostError` when another run has taken it. */
  async renew(): Promise<void> {
    const body = encode({
      owner: this.owner,
      acquiredAt: iso(this.now()),
      expiresAt: iso(this.now() + this.ttlMs),
    });
    try {
      ({ etag: this.#etag } = await this.store.put(this.key, body, {
        ifMatch: this.#etag,
        contentType: 'application/json',
      }));
    } catch (err) {
      if (!isPreconditionFailed(err)) throw err;
      // A retried renewal whose first attempt took effect meets our own newer lease: still ours.
      const current = await this.store.get(this.key);
      if (current && decode(current.body).owner === this.owner) {
        this.#etag = current.etag;
        return;
      }
      this.#lost = true;
      throw new LeaseLostError();
    }
  }

  /** Gives the lease up, unless another run already owns it. */
  async release(): Promise<void> {
    clearInterval(this.#timer);
    if (this.#lost) return;
    const current = await this.store.get(this.key);
    if (current && current.etag === this.#etag) await this.store.delete(this.key);
  }
}

function encode(doc: LeaseDoc): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(doc));
}

function decode(body: Uint8Array): LeaseDoc {
  return JSON.parse(Buffer.from(body).toString('utf8')) as LeaseDoc;
}
