/**
 * The EMF contract the alarms and the dashboard are built on: namespace, exactly the dimensions
 * `service`, `Source`, `Instance`, the metric names, units and values, one document per instance;
 * and publishing never throws into the ingest. Documents are read from stdout, where Powertools
 * writes them (in Lambda that is CloudWatch Logs).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../lambdas/shared/src/logger';
import {
  createMetrics,
  INGEST_SERVICE_NAME,
  type InstanceFigures,
  ingestMetrics,
  METRICS_NAMESPACE,
  publishInstanceMetrics,
} from '../../../lambdas/shared/src/metrics';

let lines: string[];
let errLines: string[];

beforeEach(() => {
  // Metrics are off when POWERTOOLS_DEV is set; make the tests independent of the caller's shell.
  vi.stubEnv('POWERTOOLS_DEV', 'false');
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  vi.stubEnv('POWERTOOLS_SERVICE_NAME', undefined);
  vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', undefined);
  lines = [];
  errLines = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  });
  // Powertools Logger writes warnings to stderr (CloudWatch Logs too, in Lambda).
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => {
    errLines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

type EmfDocument = Record<string, unknown> & {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
};
const emfDocuments = (): EmfDocument[] =>
  lines.filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l) as EmfDocument);

const figures = (overrides: Partial<InstanceFigures> = {}): InstanceFigures => ({
  source: 'codecatalyst',
  instance: 'acme',
  eventsArchived: 42,
  pagesFetched: 7,
  throttles: 3,
  retries: 2,
  windowsReswept: 5,
  ingestionLagSeconds: 3_720,
  instanceFailed: false,
  ...overrides,
});

describe('publishInstanceMetrics', () => {
  it('writes one EMF document with the namespace, exactly three dimensions, units and values', () => {
    const metrics = createMetrics();
    // Powertools stamps the document with Date.now() when it flushes: pin that reading.
    const at = Date.UTC(2026, 11, 6, 0, 5);
    vi.useFakeTimers({ toFake: ['Date'], now: at });
    try {
      expect(publishInstanceMetrics(figures(), { metrics })).toBe(true);
    } finally {
      vi.useRealTimers();
    }
    const docs = emfDocuments();
    expect(docs).toHaveLength(1);
    const doc = docs[0]!;
    expect(doc._aws.CloudWatchMetrics).toHaveLength(1);
    const [directive] = doc._aws.CloudWatchMetrics;
    expect(directive!.Namespace).toBe('EventlogArchive');
    expect(directive!.Dimensions).toEqual([['service', 'Source', 'Instance']]);
    expect(directive!.Metrics).toEqual([
      { Name: 'EventsArchived', Unit: 'Count' },
      { Name: 'PagesFetched', Unit: 'Count' },
      { Name: 'Throttles', Unit: 'Count' },
      { Name: 'Retries', Unit: 'Count' },
      { Name: 'WindowsReswept', Unit: 'Count' },
      { Name: 'IngestionLagSeconds', Unit: 'Seconds' },
      { Name: 'InstanceFailed', Unit: 'Count' },
    ]);
    const { _aws, ...members } = doc;
    expect(members).toEqual({
      service: 'eventlog-archive-ingest',
      Source: 'codecatalyst',
      Instance: 'acme',
      EventsArchived: 42,
      PagesFetched: 7,
      Throttles: 3,
      Retries: 2,
      WindowsReswept: 5,
      IngestionLagSeconds: 3_720,
      InstanceFailed: 0,
    });
    expect(_aws.Timestamp).toBe(at);
  });

  it('keeps an instance string as given (a system ARN) and reports a failed instance as 1', () => {
    const arn = 'arn:aws:resiliencehub:us-east-1:123456789012:system/3f0c2a8e-1b1d-4c36-9b7e-2f1e0c1d2a3b';
    publishInstanceMetrics(figures({ source: 'resiliencehub', instance: arn, instanceFailed: true }), {
      metrics: createMetrics(),
    });
    expect(emfDocuments()[0]).toMatchObject({ Source: 'resiliencehub', Instance: arn, InstanceFailed: 1 });
  });

  it('writes one document per instance, none inheriting the previous one', () => {
    const metrics = createMetrics();
    publishInstanceMetrics(figures({ instance: 'acme', eventsArchived: 1 }), { metrics });
    publishInstanceMetrics(figures({ instance: 'globex', eventsArchived: 2 }), { metrics });
    const docs = emfDocuments();
    expect(docs.map((d) => [d.Instance, d.EventsArchived])).toEqual([
      ['acme', 1],
      ['globex', 2],
    ]);
    for (const doc of docs)
      expect(doc._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['service', 'Source', 'Instance']]);
  });

  it('leaves the lag out when it is unknown, keeping the other metrics', () => {
    publishInstanceMetrics(figures({ ingestionLagSeconds: undefined, instanceFailed: true }), {
      metrics: createMetrics(),
    });
    const [doc] = emfDocuments();
    expect(doc!._aws.CloudWatchMetrics[0]!.Metrics.map((m) => m.Name)).not.toContain('IngestionLagSeconds');
    expect(doc).not.toHaveProperty('IngestionLagSeconds');
    expect(doc).toMatchObject({ InstanceFailed: 1, EventsArchived: 42 });
  });

  it('skips a figure that is not a finite number and still publishes the others', () => {
    publishInstanceMetrics(figures({ retries: Number.NaN }), { metrics: createMetrics() });
    const [doc] = emfDocuments();
    expect(doc).not.toHaveProperty('Retries');
    expect(doc).toMatchObject({ Throttles: 3, InstanceFailed: 0 });
  });

  it('takes namespace and service from the Powertools environment variables', () => {
    vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', 'OtherNamespace');
    vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'other-service');
    publishInstanceMetrics(figures(), { metrics: createMetrics() });
    const [doc] = emfDocuments();
    expect(doc!._aws.CloudWatchMetrics[0]!.Namespace).toBe('OtherNamespace');
    expect(doc!.service).toBe('other-service');
    expect([METRICS_NAMESPACE, INGEST_SERVICE_NAME]).toEqual(['EventlogArchive', 'eventlog-archive-ingest']);
  });

  it('never throws: a failing publish is logged, writes no document and leaves nothing behind', () => {
    const logger = createLogger({ serviceName: 'test', logLevel: 'WARN' });
    const metrics = createMetrics({ logger });
    // 28 default dimensions: adding Source and Instance passes the EMF limit, so Powertools throws.
    metrics.setDefaultDimensions(Object.fromEntries(Array.from({ length: 28 }, (_, i) => [`d${i}`, 'x'])));
    expect(() => publishInstanceMetrics(figures(), { metrics, logger })).not.toThrow();
    expect(publishInstanceMetrics(figures(), { metrics, logger })).toBe(false);
    expect(emfDocuments()).toEqual([]);
    expect(lines).toEqual([]);
    const warnings = errLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(warnings[0]).toMatchObject({
      level: 'WARN',
      message: 'metrics not published; the ingest goes on',
      instance: 'acme',
      error: { name: 'RangeError' },
    });

    // An empty instance would be aggregated under the wrong dimension set: refused, not published.
    lines.length = 0;
    const clean = createMetrics({ logger });
    expect(publishInstanceMetrics(figures({ instance: '' }), { metrics: clean, logger })).toBe(false);
    expect(emfDocuments()).toEqual([]);
    // Nothing of the refused document leaks into the next one.
    expect(publishInstanceMetrics(figures({ instance: 'acme', eventsArchived: 9 }), { metrics: clean })).toBe(
      true,
    );
    const docs = emfDocuments();
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({ Instance: 'acme', EventsArchived: 9 });
    expect(Array.isArray(docs[0]!.EventsArchived)).toBe(false);
  });

  it('publishes through one shared Metrics by default and never a cold-start metric', () => {
    expect(ingestMetrics()).toBe(ingestMetrics());
    publishInstanceMetrics(figures());
    publishInstanceMetrics(figures({ instance: 'globex' }));
    const docs = emfDocuments();
    expect(docs).toHaveLength(2);
    expect(docs.flatMap((d) => d._aws.CloudWatchMetrics[0]!.Metrics.map((m) => m.Name))).not.toContain(
      'ColdStart',
    );
    expect(docs.every((d) => !('function_name' in d))).toBe(true);
  });
});
