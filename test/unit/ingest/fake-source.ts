/**
 * An in-process source for pipeline unit tests: pages a list of records per instance in a shuffled
 * (non-chronological) order, with scripted failures. The wire-level behaviour of the real API is
 * tested against the local HTTP server in test/integration.
 */
import type { ArchiveRecord } from '../../../lambdas/core/records';
import type { PageRequest, SourceClient } from '../../../lambdas/ingest/sources/types';

export class FakeSource implements SourceClient {
  readonly records = new Map<string, ArchiveRecord[]>();
  calls = 0;
  /** Errors thrown by the next calls, in order. */
  failures: unknown[] = [];
  /** Events older than this are no longer returned (source expiry). */
  expireBefore = Number.NEGATIVE_INFINITY;
  /** An error to throw for every request it returns one for (a persistently failing window). */
  failWhen: (request: PageRequest) => unknown = () => undefined;

  add(instance: string, records: ArchiveRecord[]): void {
    this.records.set(instance, [...(this.records.get(instance) ?? []), ...records]);
  }

  async listPage(request: PageRequest): Promise<{ items: ArchiveRecord[]; nextToken?: string }> {
    this.calls++;
    const failure = this.failures.shift() ?? this.failWhen(request);
    if (failure) throw failure;
    const all = (this.records.get(request.instance) ?? [])
      .filter((r) => {
        const t = (r.eventTime as Date).getTime();
        return t >= request.start && t < request.end && t >= this.expireBefore;
      })
      // A stable order that is not chronological: by the id's reverse.
      .sort((a, b) =>
        String(a.id).split('').reverse().join('') < String(b.id).split('').reverse().join('') ? -1 : 1,
      );
    const offset = request.nextToken ? Number(request.nextToken.slice(1)) : 0;
    const items = all.slice(offset, offset + request.pageSize);
    const next = offset + request.pageSize;
    return next < all.length ? { items, nextToken: `o${next}` } : { items };
  }
}

export function record(id: string, time: number, extra: Partial<ArchiveRecord> = {}): ArchiveRecord {
  return {
    id,
    eventName: 'createProject',
    eventType: 'AwsApiCall',
    eventCategory: 'MANAGEMENT',
    eventSource: 'manage',
    eventTime: new Date(time),
    operationType: 'MUTATION',
    userIdentity: { userType: 'USER', principalId: 'p-1', userName: 'MaryMajor', awsAccountId: null },
    projectInformation: null,
    requestId: `r-${id}`,
    requestPayload: { contentType: 'application/json', data: '{"a":1}' },
    responsePayload: null,
    errorCode: null,
    sourceIpAddress: '192.0.2.1',
    userAgent: 'test',
    ...extra,
  };
}
