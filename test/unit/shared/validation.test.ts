import { describe, expect, it } from 'vitest';
import { checkIntRange, checkSpaceName, parseRfc3339 } from '../../../lambdas/shared/src/validation';

describe('checkSpaceName', () => {
  it.each(['abc', 'Example-Corp', 'a.b_c-d', 'x'.repeat(63)])('accepts %s', (name) => {
    expect(checkSpaceName(name)).toBe(name);
  });

  it.each([
    ['ab', /3 to 63/],
    ['x'.repeat(64), /3 to 63/],
    ['-abc', /pattern/],
    ['abc-', /pattern/],
    ['a..b', /pattern/],
    ['a b c', /pattern/],
    ["x' OR 1=1 --", /pattern/],
    [42, /string/],
  ])('rejects %s naming the field', (name, rule) => {
    expect(() => checkSpaceName(name, '--space')).toThrow(/^--space: /);
    expect(() => checkSpaceName(name)).toThrow(rule);
  });
});

describe('parseRfc3339', () => {
  it.each([
    ['2024-05-01T00:00:00Z', Date.UTC(2024, 4, 1)],
    ['2024-05-01T00:00:00.123Z', Date.UTC(2024, 4, 1, 0, 0, 0, 123)],
    ['2022-12-01T22:47:24.605000+00:00', Date.UTC(2022, 11, 1, 22, 47, 24, 605)],
    ['2024-05-01T02:00:00+02:00', Date.UTC(2024, 4, 1)],
    ['2022-11-30', Date.UTC(2022, 10, 30)],
  ])('parses %s', (text, expected) => {
    expect(parseRfc3339(text, 'startTime')).toBe(expected);
  });

  it('keeps years 0000 to 0099 as they are (Date.UTC would read them as 1900 to 1999)', () => {
    expect(new Date(parseRfc3339('0042-03-04T05:06:07.089Z', 'startTime')).toISOString()).toBe(
      '0042-03-04T05:06:07.089Z',
    );
    expect(new Date(parseRfc3339('0099-12-31', 'startTime')).toISOString()).toBe('0099-12-31T00:00:00.000Z');
    expect(new Date(parseRfc3339('0000-01-01T00:00:00Z', 'startTime')).getUTCFullYear()).toBe(0);
    expect(new Date(parseRfc3339('0001-01-01T01:00:00+01:00', 'startTime')).toISOString()).toBe(
      '0001-01-01T00:00:00.000Z',
    );
    expect(parseRfc3339('0050-01-01T00:00:00Z', 'startTime')).toBeLessThan(Date.UTC(1800, 0, 1));
  });

  it('judges leap days by the real year: 0000 and 0004 are leap years, 1900 and 0100 are not', () => {
    expect(new Date(parseRfc3339('0000-02-29', 'startTime')).toISOString()).toBe('0000-02-29T00:00:00.000Z');
    expect(new Date(parseRfc3339('0004-02-29', 'startTime')).toISOString()).toBe('0004-02-29T00:00:00.000Z');
    expect(() => parseRfc3339('0100-02-29', 'startTime')).toThrow(/^startTime: is not a valid date/);
    expect(() => parseRfc3339('1900-02-29', 'startTime')).toThrow(/^startTime: is not a valid date/);
  });

  it.each([
    '2024-02-30T00:00:00Z',
    '2024-05-01T25:00:00Z',
    'yesterday',
    '1714521600',
    '2024-05-01T00:00:00',
    '',
  ])('rejects %j naming the field', (text) => {
    expect(() => parseRfc3339(text, 'startTime')).toThrow(/^startTime: /);
  });
});

describe('checkIntRange', () => {
  it('accepts integers in range and query-string digits when allowed', () => {
    expect(checkIntRange(250, 'maxResults', 1, 250)).toBe(250);
    expect(checkIntRange('7', 'maxResults', 1, 100, true)).toBe(7);
  });

  it.each([0, 251, 1.5, '7', null])('rejects %j', (value) => {
    expect(() => checkIntRange(value, 'maxResults', 1, 250)).toThrow(
      'maxResults: must be an integer from 1 to 250',
    );
  });
});
