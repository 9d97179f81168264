/**
 * The histogram's aggregate SQL (lambdas/query/sql/histogram.ts): planned from the listing plan of
 * the same selection, so its WHERE is the listing's with the same bound values, and every caller
 * value (filters and series values) is a `?` parameter, in placeholder order.
 */
import { describe, expect, it } from 'vitest';
import { codecatalystDefinition, resiliencehubDefinition } from '../../../lambdas/core/sources';
import {
  type HistogramQuery,
  planHistogram,
  planQuery,
  QueryPlanError,
  renderDuckDb,
  renderDuckDbHistogram,
} from '../../../lambdas/query/sql';

const HOUR = 3_600_000;
const START = Date.UTC(2024, 4, 1, 6, 30);
const END = Date.UTC(2024, 4, 8);
const INJECTION = "x' OR '1'='1";
const SOURCES = { files: ["/tmp/it's/dt=2024-05-01/events.parquet"], tables: ['day_cache_3'] };

const query = (patch: Partial<HistogramQuery> = {}): HistogramQuery => ({
  source: codecatalystDefinition,
  instance: 'acme-space',
  start: START,
  end: END,
  equals: { eventName: INJECTION, 'userIdentity.userName': 'robert"); DROP TABLE x;--' },
  anyOf: { errorCode: ["E\\'", 'plain'] },
  bucketMs: HOUR,
  series: { failedWhenSet: 'errorCode', readWhen: { field: 'operationType', value: "READ'ONLY" } },
  ...patch,
});

describe('histogram SQL', () => {
  it('filters with the listing plan of the same selection, every value bound', () => {
    const plan = planHistogram(query());
    const listing = planQuery({ ...query(), limit: 1 });
    expect(plan.events.where).toEqual(listing.where);
    expect([plan.events.firstDay, plan.events.lastDay]).toEqual(['2024-05-01', '2024-05-07']);
    const { sql, params } = renderDuckDbHistogram(plan, SOURCES);
    for (const value of [INJECTION, 'robert', "READ'ONLY", "E\\'"]) expect(sql).not.toContain(value);
    expect(sql.split('?').length - 1).toBe(params.length);
    // failed (twice: its own count and the read count's NOT), read, then the listing's WHERE.
    const listingParams = renderDuckDb(listing, SOURCES).params;
    expect(params).toEqual([
      { type: 'string', value: '' },
      { type: 'string', value: '' },
      { type: 'string', value: "READ'ONLY" },
      ...listingParams,
    ]);
    expect(sql).toContain(`(epoch_ms(e."eventTime") // ${HOUR}) * ${HOUR}`);
    expect(sql).toMatch(/GROUP BY 1\nORDER BY 1$/);
  });

  it('counts no failed and no read events for a source without series', () => {
    const { sql, params } = renderDuckDbHistogram(
      planHistogram(
        query({
          source: resiliencehubDefinition,
          instance: 'arn:aws:resiliencehub:us-west-2:123456789012:system/checkout',
          equals: {},
          anyOf: { eventType: ['SYSTEM_CREATED'] },
          series: {},
        }),
      ),
      SOURCES,
    );
    expect(sql).toContain('FILTER (WHERE false)');
    expect(params.filter((p) => p.type === 'string').map((p) => p.value)).toEqual(['SYSTEM_CREATED']);
  });

  it.each<[string, Partial<HistogramQuery>]>([
    ['a bucket that does not divide a day', { bucketMs: 7 * HOUR }],
    ['a bucket under a minute', { bucketMs: 1_000 }],
    ['a series field that is not a string field', { series: { failedWhenSet: 'userIdentity' } }],
    ['a series field that does not exist', { series: { readWhen: { field: 'nope', value: 'x' } } }],
  ])('refuses %s before any SQL exists', (_name, patch) => {
    expect(() => planHistogram(query(patch))).toThrow(QueryPlanError);
  });
});
