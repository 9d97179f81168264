import { describe, expect, it } from 'vitest';
import { isApiError } from '../../../lambdas/shared/src/errors';
import {
  checkSystemArn,
  checkSystemEventsNextToken,
  checkSystemEventTypes,
  SYSTEM_ARN_PATTERN,
  SYSTEM_EVENT_TYPES,
} from '../../../lambdas/shared/src/validation';

const ARN = 'arn:aws:resiliencehub:us-west-2:123456789012:system/checkout:abc123';

function thrown(fn: () => unknown): { message: string; errorType: string; extra: Record<string, unknown> } {
  try {
    fn();
  } catch (err) {
    if (!isApiError(err)) throw err;
    return { message: err.message, errorType: err.errorType, extra: err.extra };
  }
  throw new Error('expected a ValidationException');
}

describe('checkSystemArn', () => {
  it.each([
    ARN,
    'arn:aws:resiliencehub:us-east-1:123456789012:system/a',
    'arn:aws-cn:resiliencehub:cn-north-1:123456789012:system/x',
    'arn:aws-us-gov:resiliencehub:us-gov-west-1:123456789012:system/x',
    'arn:aws-iso-b:resiliencehub:us-isob-east-1:123456789012:system/x',
    'arn:aws:resiliencehub:us-east-1:123456789012:/leading-slash+plus.dot_under:colon',
  ])('accepts %s', (arn) => {
    expect(checkSystemArn(arn)).toBe(arn);
  });

  it.each([
    ['arn:aws:rh:us-east-1:1234:sys/', /at least 31 characters long \(got 30\)/],
    ['', /is required/],
    [42, /is required and must be a string/],
    ['arn:aws:resiliencehub:us-east-1:12345678901:system/abcd', /must match arn:/],
    ['arn:aws:resiliencehub:useast1:123456789012:system/abcdef', /must match arn:/],
    ['arn:gcp:resiliencehub:us-east-1:123456789012:system/abcd', /must match arn:/],
    ['arn:aws:resiliencehub:us-east-1:123456789012:-system/abcd', /must match arn:/],
    [`${ARN} `, /must match arn:/],
    [`x${ARN}`, /must match arn:/],
    [`${ARN}\n`, /must match arn:/],
    ["arn:aws:resiliencehub:us-east-1:123456789012:system/x' OR 1=1 --", /must match arn:/],
    [`arn:aws:resiliencehub:us-east-1:123456789012:${'a'.repeat(1025)}`, /must match arn:/],
  ])('rejects %j naming the field and the rule', (value, rule) => {
    const error = thrown(() => checkSystemArn(value, '--system-arn'));
    expect(error.errorType).toBe('ValidationException');
    expect(error.message).toMatch(/^--system-arn: /);
    expect(error.message).toMatch(rule);
    expect(error.extra.fieldList).toEqual([
      { name: '--system-arn', message: error.message.slice('--system-arn: '.length) },
    ]);
    expect(error.extra.reason).toMatch(/^(INVALID_FIELD_VALUE|MISSING_REQUIRED_FIELD)$/);
  });

  // The systemArn pattern and eventTypes values of the ListSystemEvents API reference:
  // https://docs.aws.amazon.com/resilience-hub/v2/APIReference/API_ListSystemEvents.html
  it('anchors the pattern of the API reference at both ends', () => {
    expect(SYSTEM_ARN_PATTERN.source.startsWith('^')).toBe(true);
    expect(SYSTEM_ARN_PATTERN.source.endsWith('$')).toBe(true);
    expect(thrown(() => checkSystemArn(ARN.slice(0, 20))).message).toMatch(/^systemArn: /);
  });
});

describe('checkSystemEventTypes', () => {
  it('accepts the nine values of the API reference, one or several, and nothing', () => {
    expect(SYSTEM_EVENT_TYPES).toHaveLength(9);
    expect(checkSystemEventTypes([...SYSTEM_EVENT_TYPES])).toEqual([...SYSTEM_EVENT_TYPES]);
    expect(checkSystemEventTypes('SYSTEM_DELETED')).toEqual(['SYSTEM_DELETED']);
    expect(checkSystemEventTypes(undefined)).toEqual([]);
    expect(checkSystemEventTypes([])).toEqual([]);
  });

  it.each([['system_created'], [['SYSTEM_CREATED', 'SYSTEM_EXPLODED']], [''], [[1]], [{}]])(
    'rejects %j naming the field and the allowed values',
    (value) => {
      const error = thrown(() => checkSystemEventTypes(value));
      expect(error.message).toMatch(/^eventTypes: each value must be one of SYSTEM_CREATED, SYSTEM_DELETED/);
      expect(error.extra.reason).toBe('INVALID_FIELD_VALUE');
    },
  );
});

describe('checkSystemEventsNextToken', () => {
  it.each(['a', 'x'.repeat(2000), 'eyJ2IjoxfQ.abc-_=+/', '🚀'.repeat(2000)])(
    'accepts a token of %#',
    (token) => {
      expect(checkSystemEventsNextToken(token)).toBe(token);
    },
  );

  it.each([
    ['', /1 to 2000 characters long \(got 0\)/],
    ['x'.repeat(2001), /1 to 2000 characters long \(got 2001\)/],
    ['a b', /white space/],
    ['a\tb', /white space/],
    ['a\u00a0b', /white space/],
    [7, /must be a string/],
  ])('rejects %j naming the field and the rule', (value, rule) => {
    const error = thrown(() => checkSystemEventsNextToken(value));
    expect(error.message).toMatch(/^nextToken: /);
    expect(error.message).toMatch(rule);
  });
});
