import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULT_CONFIG,
  loadConfig,
  MAX_INSTANCES,
  MAX_SYSTEM_ARN_CHARACTERS,
} from '../../lib/config';
import { cdkJsonSettings } from './helpers';

function errorOf(settings: unknown): string {
  try {
    loadConfig(settings);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('returns the documented defaults when the context is absent', () => {
    // Act
    const config = loadConfig(undefined);

    // Assess
    expect(config).toEqual({
      codecatalyst: { spaces: [], tokenSecretName: 'eventlog-archive/codecatalyst-pat' },
      resiliencehub: { systemArns: [] },
      schedule: { rateMinutes: 15 },
      lookbackMinutes: 120,
      backfillDays: 30,
      sliceMinutes: 60,
      maxConcurrency: 16,
      retention: { expireNoncurrentVersionsDays: 365, accessLogsExpireDays: 365 },
      archivePrefix: '',
      functionTimeoutMinutes: 15,
      functionMemoryMb: 3008,
      query: {
        databaseName: 'eventlog_archive',
        workGroupName: 'eventlog-archive',
        projectionStartDate: '2020-01-01',
        bytesScannedCutoffMb: 1024,
        resultsExpireDays: 7,
        tokenTtlSeconds: 86_400,
        throttling: { rateLimit: 5, burstLimit: 10 },
        apiCloudWatchRole: false,
        authorization: 'iam',
        authorizerCacheSeconds: 60,
      },
    });
    expect(config).toEqual(DEFAULT_CONFIG);
  });

  it('returns the defaults for the settings written in cdk.json', () => {
    expect(loadConfig(cdkJsonSettings())).toEqual(DEFAULT_CONFIG);
  });

  it('returns every setting when all are given', () => {
    // Prepare
    const settings = {
      codecatalyst: { spaces: ['my-space', 'Other_Space.2'], tokenSecretName: 'prod/codecatalyst/pat' },
      resiliencehub: {
        systemArns: [
          'arn:aws:resiliencehub:us-west-2:123456789012:system/checkout:abc123',
          'arn:aws-cn:resiliencehub:cn-north-1:123456789012:system/payments',
        ],
      },
      schedule: { rateMinutes: 5 },
      lookbackMinutes: 240,
      backfillDays: 7,
      sliceMinutes: 30,
      maxConcurrency: 8,
      retention: {
        expireNoncurrentVersionsDays: 3650,
        transitionToInfrequentAccessDays: 90,
        accessLogsExpireDays: 90,
      },
      archivePrefix: 'archive/v1',
      objectLock: { mode: 'COMPLIANCE', days: 3650 },
      functionTimeoutMinutes: 10,
      functionMemoryMb: 3538,
      query: {
        databaseName: 'audit_events',
        workGroupName: 'Audit.Events-1',
        projectionStartDate: '2023-06-15',
        bytesScannedCutoffMb: 10,
        resultsExpireDays: 1,
        tokenTtlSeconds: 3600,
        throttling: { rateLimit: 50, burstLimit: 100 },
        apiCloudWatchRole: true,
        authorization: 'token',
        authorizerCacheSeconds: 0,
      },
    };

    // Act
    const config = loadConfig(settings);

    // Assess
    expect(config).toEqual({ ...settings, archivePrefix: 'archive/v1/' });
  });

  it('reads the settings from JSON text, as `cdk synth -c eventlogArchive=...` passes them', () => {
    expect(loadConfig('{"codecatalyst":{"spaces":["my-space"]},"backfillDays":7}')).toMatchObject({
      codecatalyst: { spaces: ['my-space'] },
      backfillDays: 7,
    });
  });

  it('fills in the query defaults next to the query settings that are given', () => {
    // Act
    const { query } = loadConfig({ query: { bytesScannedCutoffMb: 2048, throttling: { burstLimit: 40 } } });

    // Assess
    expect(query).toEqual({
      ...DEFAULT_CONFIG.query,
      bytesScannedCutoffMb: 2048,
      throttling: { rateLimit: 5, burstLimit: 40 },
    });
  });

  it("accepts today's date (UTC) as the projection start, and refuses tomorrow's, just after midnight", () => {
    const now = Date.UTC(2028, 1, 29, 0, 5);
    const at = (projectionStartDate: string) => loadConfig({ query: { projectionStartDate } }, () => now);
    expect(at('2028-02-29').query.projectionStartDate).toBe('2028-02-29');
    expect(() => at('2028-03-01')).toThrow(
      /projectionStartDate: "2028-03-01" must be a date YYYY-MM-DD from 1970-01-01 to today/,
    );
  });

  it('defaults the ingest memory to 3008 MB, the most an account capped at 3,008 MB accepts', () => {
    expect(loadConfig(undefined).functionMemoryMb).toBe(3008);
    expect(loadConfig({ functionTimeoutMinutes: 5 }).functionMemoryMb).toBeLessThanOrEqual(3008);
  });

  it.each([[128], [1769], [3538], [10_240]])('accepts an ingest memory of %i MB', (functionMemoryMb) => {
    expect(loadConfig({ functionMemoryMb }).functionMemoryMb).toBe(functionMemoryMb);
  });

  it('leaves the API Gateway account logging role off unless asked for', () => {
    expect(loadConfig(undefined).query.apiCloudWatchRole).toBe(false);
    expect(loadConfig({ query: { apiCloudWatchRole: true } }).query.apiCloudWatchRole).toBe(true);
  });

  it('normalises the archive prefix to end in one slash', () => {
    expect(loadConfig({ archivePrefix: 'archive' }).archivePrefix).toBe('archive/');
    expect(loadConfig({ archivePrefix: 'a/b/' }).archivePrefix).toBe('a/b/');
    expect(loadConfig({ archivePrefix: '' }).archivePrefix).toBe('');
  });

  describe('rejects with a message naming the field and the rule', () => {
    it.each([
      [
        'a space name that is too short',
        { codecatalyst: { spaces: ['good-space', 'x'] } },
        'eventlogArchive.codecatalyst.spaces[1]: "x" must be 3 to 63 characters long (got 1)',
      ],
      [
        'a space name outside the pattern',
        { codecatalyst: { spaces: ['bad space'] } },
        'eventlogArchive.codecatalyst.spaces[0]: "bad space" must match the pattern [a-zA-Z0-9]+(?:[-_.][a-zA-Z0-9]+)*',
      ],
      [
        'a space name that is not a string',
        { codecatalyst: { spaces: [42] } },
        'eventlogArchive.codecatalyst.spaces[0]: 42 is required and must be a string',
      ],
      [
        'a space listed twice',
        { codecatalyst: { spaces: ['my-space', 'other', 'my-space'] } },
        'eventlogArchive.codecatalyst.spaces[2]: "my-space" is listed twice (also at [0])',
      ],
      [
        'a system ARN that is too short',
        { resiliencehub: { systemArns: ['arn:aws:rh:us-west-2:1'] } },
        'eventlogArchive.resiliencehub.systemArns[0]: "arn:aws:rh:us-west-2:1" must be at least 31 characters long (got 22)',
      ],
      [
        'a system ARN that breaks the pattern',
        { resiliencehub: { systemArns: ['arn:aws:resiliencehub:uswest2:123456789012:system/x'] } },
        'eventlogArchive.resiliencehub.systemArns[0]: "arn:aws:resiliencehub:uswest2:123456789012:system/x" must match arn:(aws|aws-cn|aws-iso|aws-iso-[a-z]{1}|aws-us-gov):[A-Za-z0-9][A-Za-z0-9_/.-]{0,62}:([a-z]{2}-((iso[a-z]{0,1}-)|(gov-)){0,1}[a-z]+-[0-9]):[0-9]{12}:[A-Za-z0-9/][A-Za-z0-9:_/+.-]{0,1023} (got "arn:aws:resiliencehub:uswest2:1234567890…")',
      ],
      [
        'a system ARN listed twice',
        {
          resiliencehub: {
            systemArns: [
              'arn:aws:resiliencehub:us-west-2:123456789012:system/x',
              'arn:aws:resiliencehub:us-west-2:123456789012:system/x',
            ],
          },
        },
        'eventlogArchive.resiliencehub.systemArns[1]: "arn:aws:resiliencehub:us-west-2:123456789012:system/x" is listed twice (also at [0])',
      ],
      [
        'system ARNs that are not a list',
        { resiliencehub: { systemArns: 'arn:aws:resiliencehub:us-west-2:123456789012:system/x' } },
        'eventlogArchive.resiliencehub.systemArns: "arn:aws:resiliencehub:us-west-2:123456789012:system/x" must be an array of system ARNs',
      ],
      [
        'a system ARN that is not a string',
        { resiliencehub: { systemArns: [7] } },
        'eventlogArchive.resiliencehub.systemArns[0]: 7 is required and must be a string',
      ],
      [
        'an unknown resiliencehub setting',
        { resiliencehub: { systems: [] } },
        'eventlogArchive.resiliencehub.systems: is not a known setting (known: systemArns)',
      ],
      [
        'spaces that are not a list',
        { codecatalyst: { spaces: 'my-space' } },
        'eventlogArchive.codecatalyst.spaces: "my-space" must be an array of space names',
      ],
      [
        'a slice length that does not divide a day',
        { sliceMinutes: 7 },
        'eventlogArchive.sliceMinutes: 7 must divide 1440 (the minutes of a day)',
      ],
      [
        'a slice length of zero',
        { sliceMinutes: 0 },
        'eventlogArchive.sliceMinutes: 0 must be an integer from 1 to 1440',
      ],
      [
        'a lookback under an hour',
        { lookbackMinutes: 30 },
        'eventlogArchive.lookbackMinutes: 30 must be an integer from 60 to 10080',
      ],
      [
        'a backfill beyond the source retention',
        { backfillDays: 31 },
        'eventlogArchive.backfillDays: 31 must be an integer from 1 to 30',
      ],
      [
        'a fractional backfill',
        { backfillDays: 1.5 },
        'eventlogArchive.backfillDays: 1.5 must be an integer from 1 to 30',
      ],
      [
        'a concurrency above 64',
        { maxConcurrency: 65 },
        'eventlogArchive.maxConcurrency: 65 must be an integer from 1 to 64',
      ],
      [
        'a number given as a string',
        { maxConcurrency: '16' },
        'eventlogArchive.maxConcurrency: "16" must be an integer from 1 to 64',
      ],
      [
        'a schedule rate of zero',
        { schedule: { rateMinutes: 0 } },
        'eventlogArchive.schedule.rateMinutes: 0 must be an integer from 1 to 1440',
      ],
      [
        'a timeout beyond what Lambda allows',
        { functionTimeoutMinutes: 16 },
        'eventlogArchive.functionTimeoutMinutes: 16 must be an integer from 1 to 15',
      ],
      [
        'an ingest memory under Lambda’s 128 MB',
        { functionMemoryMb: 127 },
        'eventlogArchive.functionMemoryMb: 127 must be an integer from 128 to 10240',
      ],
      [
        'an ingest memory over Lambda’s 10,240 MB',
        { functionMemoryMb: 10_241 },
        'eventlogArchive.functionMemoryMb: 10241 must be an integer from 128 to 10240',
      ],
      [
        'an ingest memory given as a string',
        { functionMemoryMb: '3008' },
        'eventlogArchive.functionMemoryMb: "3008" must be an integer from 128 to 10240',
      ],
      [
        'a fractional ingest memory',
        { functionMemoryMb: 2048.5 },
        'eventlogArchive.functionMemoryMb: 2048.5 must be an integer from 128 to 10240',
      ],
      [
        'an Infrequent Access transition earlier than S3 allows',
        { retention: { transitionToInfrequentAccessDays: 10 } },
        'eventlogArchive.retention.transitionToInfrequentAccessDays: 10 must be an integer from 30 to 36500',
      ],
      [
        'a noncurrent version expiry of zero days',
        { retention: { expireNoncurrentVersionsDays: 0 } },
        'eventlogArchive.retention.expireNoncurrentVersionsDays: 0 must be an integer from 1 to 36500',
      ],
      [
        'an unknown Object Lock mode',
        { objectLock: { mode: 'LEGAL_HOLD', days: 30 } },
        'eventlogArchive.objectLock.mode: "LEGAL_HOLD" must be "GOVERNANCE" or "COMPLIANCE"',
      ],
      [
        'an Object Lock without days',
        { objectLock: { mode: 'GOVERNANCE' } },
        'eventlogArchive.objectLock.days: must be an integer from 1 to 36500',
      ],
      [
        'an archive prefix with a leading slash',
        { archivePrefix: '/archive' },
        `eventlogArchive.archivePrefix: "/archive" must be '' or a key prefix such as 'archive/' (segments of A-Z a-z 0-9 !_.*'()- without a leading '/')`,
      ],
      [
        'an archive prefix with a parent segment',
        { archivePrefix: 'a/../b' },
        `eventlogArchive.archivePrefix: "a/../b" must be '' or a key prefix such as 'archive/' (segments of A-Z a-z 0-9 !_.*'()- without a leading '/')`,
      ],
      [
        'an archive prefix with an empty segment',
        { archivePrefix: 'a//b' },
        `eventlogArchive.archivePrefix: "a//b" must be '' or a key prefix such as 'archive/' (segments of A-Z a-z 0-9 !_.*'()- without a leading '/')`,
      ],
      [
        'a secret name with a space',
        { codecatalyst: { tokenSecretName: 'my token' } },
        'eventlogArchive.codecatalyst.tokenSecretName: "my token" must be a Secrets Manager secret name: 1 to 512 of A-Z a-z 0-9 /_+=.@-',
      ],
      [
        'a secret name that looks like an ARN suffix',
        { codecatalyst: { tokenSecretName: 'codecatalyst-tokens' } },
        'eventlogArchive.codecatalyst.tokenSecretName: "codecatalyst-tokens" must not end with a hyphen and six characters (Secrets Manager would take them for the ARN suffix)',
      ],
      [
        'a misspelt setting',
        { sliceMinute: 30 },
        'eventlogArchive.sliceMinute: is not a known setting (known: codecatalyst, resiliencehub, schedule, lookbackMinutes, backfillDays, sliceMinutes, maxConcurrency, retention, archivePrefix, objectLock, functionTimeoutMinutes, functionMemoryMb, query, encryption, integrity, alarms, securityLake)',
      ],
      [
        'a misspelt query setting',
        { query: { bytesScannedCutoff: 100 } },
        'eventlogArchive.query.bytesScannedCutoff: is not a known setting (known: databaseName, workGroupName, projectionStartDate, bytesScannedCutoffMb, resultsExpireDays, tokenTtlSeconds, throttling, apiCloudWatchRole, authorization, authorizerCacheSeconds)',
      ],
      [
        'a bytes-scanned cutoff under Athena’s 10 MB minimum',
        { query: { bytesScannedCutoffMb: 9 } },
        'eventlogArchive.query.bytesScannedCutoffMb: 9 must be an integer from 10 to 1073741824',
      ],
      [
        'a fractional bytes-scanned cutoff',
        { query: { bytesScannedCutoffMb: 10.5 } },
        'eventlogArchive.query.bytesScannedCutoffMb: 10.5 must be an integer from 10 to 1073741824',
      ],
      [
        'a results expiry of zero days',
        { query: { resultsExpireDays: 0 } },
        'eventlogArchive.query.resultsExpireDays: 0 must be an integer from 1 to 365',
      ],
      [
        'a token lifetime under a minute',
        { query: { tokenTtlSeconds: 59 } },
        'eventlogArchive.query.tokenTtlSeconds: 59 must be an integer from 60 to 2592000',
      ],
      [
        'a token lifetime over 30 days',
        { query: { tokenTtlSeconds: 2_592_001 } },
        'eventlogArchive.query.tokenTtlSeconds: 2592001 must be an integer from 60 to 2592000',
      ],
      [
        'a database name with capitals',
        { query: { databaseName: 'EventLogs' } },
        'eventlogArchive.query.databaseName: "EventLogs" must be 1 to 255 of a-z 0-9 _ (Athena reads database names in lowercase)',
      ],
      [
        'a database name with a hyphen',
        { query: { databaseName: 'event-logs' } },
        'eventlogArchive.query.databaseName: "event-logs" must be 1 to 255 of a-z 0-9 _ (Athena reads database names in lowercase)',
      ],
      [
        'a workgroup name with a slash',
        { query: { workGroupName: 'team/archive' } },
        'eventlogArchive.query.workGroupName: "team/archive" must be 1 to 128 of A-Z a-z 0-9 . _ -',
      ],
      [
        'an empty workgroup name',
        { query: { workGroupName: '' } },
        'eventlogArchive.query.workGroupName: "" must be 1 to 128 of A-Z a-z 0-9 . _ -',
      ],
      [
        'a projection start that is not a calendar date',
        { query: { projectionStartDate: '2023-02-30' } },
        'eventlogArchive.query.projectionStartDate: "2023-02-30" must be a date YYYY-MM-DD from 1970-01-01 to today (UTC)',
      ],
      [
        'a projection start in another format',
        { query: { projectionStartDate: '2023/01/01' } },
        'eventlogArchive.query.projectionStartDate: "2023/01/01" must be a date YYYY-MM-DD from 1970-01-01 to today (UTC)',
      ],
      [
        'a projection start in the future',
        { query: { projectionStartDate: '2999-01-01' } },
        'eventlogArchive.query.projectionStartDate: "2999-01-01" must be a date YYYY-MM-DD from 1970-01-01 to today (UTC)',
      ],
      [
        'a throttling rate of zero',
        { query: { throttling: { rateLimit: 0 } } },
        'eventlogArchive.query.throttling.rateLimit: 0 must be an integer from 1 to 10000',
      ],
      [
        'a burst above the account quota',
        { query: { throttling: { burstLimit: 5001 } } },
        'eventlogArchive.query.throttling.burstLimit: 5001 must be an integer from 1 to 5000',
      ],
      [
        'a misspelt throttling setting',
        { query: { throttling: { rate: 5 } } },
        'eventlogArchive.query.throttling.rate: is not a known setting (known: rateLimit, burstLimit)',
      ],
      [
        'a CloudWatch role switch given as a string',
        { query: { apiCloudWatchRole: 'false' } },
        'eventlogArchive.query.apiCloudWatchRole: "false" must be true or false',
      ],
      ['query settings that are not an object', { query: [] }, 'eventlogArchive.query: [] must be an object'],
      [
        'a misspelt nested setting',
        { codecatalyst: { space: ['my-space'] } },
        'eventlogArchive.codecatalyst.space: is not a known setting (known: spaces, tokenSecretName, tokenSecretKmsKeyArn)',
      ],
      ['settings that are not an object', 42, 'eventlogArchive: 42 must be an object'],
      [
        'settings that are not JSON text',
        '{nope',
        'eventlogArchive: "{nope" must be an object (or its JSON text)',
      ],
    ])('rejects %s', (_case, settings, message) => {
      expect(errorOf(settings)).toBe(message);
    });
  });

  it('names the failing field in ConfigError.path', () => {
    // Act
    let error: unknown;
    try {
      loadConfig({ sliceMinutes: 7 });
    } catch (err) {
      error = err;
    }

    // Assess
    expect(error).toMatchObject({ name: 'ConfigError', path: 'eventlogArchive.sliceMinutes' });
  });
});

describe('how many spaces and systems', () => {
  const spaces = (n: number) => Array.from({ length: n }, (_, i) => `space-${String(i).padStart(3, '0')}`);
  const systems = (n: number, name = 'checkout') =>
    Array.from({ length: n }, (_, i) => `arn:aws:resiliencehub:us-east-1:123456789012:system/${name}-${i}`);
  const RULE =
    "each has its own schedule and alarms, and the dashboard's per-instance graphs show at most 500";

  it('accepts 500 spaces and systems together, in any mix', () => {
    expect(MAX_INSTANCES).toBe(500);
    expect(loadConfig({ codecatalyst: { spaces: spaces(500) } }).codecatalyst.spaces).toHaveLength(500);
    const mixed = loadConfig({
      codecatalyst: { spaces: spaces(400) },
      resiliencehub: { systemArns: systems(100) },
    });
    expect([mixed.codecatalyst.spaces.length, mixed.resiliencehub.systemArns.length]).toEqual([400, 100]);
    expect(loadConfig({ resiliencehub: { systemArns: systems(500) } }).resiliencehub.systemArns).toHaveLength(
      500,
    );
  });

  it('rejects a 501st space, naming what the limit protects', () => {
    expect(errorOf({ codecatalyst: { spaces: spaces(501) } })).toBe(
      `eventlogArchive.codecatalyst.spaces: must list at most 500 spaces (got 501): ${RULE}`,
    );
  });

  it('counts systems against what the spaces leave', () => {
    expect(
      errorOf({ codecatalyst: { spaces: spaces(400) }, resiliencehub: { systemArns: systems(101) } }),
    ).toBe(
      `eventlogArchive.resiliencehub.systemArns: must list at most 100 systems (got 101): spaces and systems together are at most 500, ${RULE}`,
    );
  });

  it("rejects system ARNs longer in all than the ingest role's IAM policies can list", () => {
    // 200 ARNs of 230 characters: 46,000.
    const long = systems(200, 'x'.repeat(170)).map((arn) => arn.padEnd(230, 'y'));
    const characters = long.reduce((sum, arn) => sum + arn.length, 0);
    expect(characters).toBeGreaterThan(MAX_SYSTEM_ARN_CHARACTERS);
    expect(errorOf({ resiliencehub: { systemArns: long } })).toBe(
      `eventlogArchive.resiliencehub.systemArns: must total at most 45000 characters (got ${characters}): the ingest function's IAM role grants resiliencehub:ListSystemEvents on each ARN, and IAM limits the size of a role's policies`,
    );
    expect(
      loadConfig({ resiliencehub: { systemArns: long.slice(0, 195) } }).resiliencehub.systemArns,
    ).toHaveLength(195);
  });
});
