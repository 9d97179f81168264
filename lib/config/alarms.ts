/** The ingest alarms: when ingestion counts as lagging, and where notifications go. */
import { ConfigError, compact, integer, matching, type Section } from './checks';
import type { AlarmsConfig, ArchiveConfig } from './types';

const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;
// Deliberately loose: SNS checks the address when it sends the confirmation.
const EMAIL = /^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$/;

/**
 * The lag (minutes) above which an instance's lag alarm fires: `alarms.lagMinutes`, or three missed
 * schedules on top of the look-back every run re-reads.
 */
export function lagAlarmMinutes(config: ArchiveConfig): number {
  return config.alarms?.lagMinutes ?? 3 * config.schedule.rateMinutes + config.lookbackMinutes;
}

/** `alarms`, checked against the schedule's `rateMinutes`. */
export function alarmsSettings(root: Section, rateMinutes: number): AlarmsConfig | undefined {
  const alarms = root.optionalSection('alarms', ['lagMinutes', 'topicArn', 'email']);
  if (!alarms) return undefined;
  // A run reports once per rate and the lag alarm needs every report over a threshold-long window to
  // be above it: under two rates that window is a single run, which alone would decide the alarm.
  const lagMinutes = alarms.optional('lagMinutes', integer(1, 43_200));
  if (lagMinutes !== undefined && lagMinutes < 2 * rateMinutes) {
    throw new ConfigError(
      alarms.at('lagMinutes'),
      lagMinutes,
      `must be at least twice schedule.rateMinutes (${2 * rateMinutes}): every run reports its lag once, and the alarm needs at least two reports above the threshold`,
    );
  }
  if (alarms.get('topicArn') !== undefined && alarms.get('email') !== undefined) {
    throw new ConfigError(
      alarms.at('email'),
      alarms.get('email'),
      'must not be set together with topicArn (set one: topicArn uses your topic, email creates one)',
    );
  }
  const topicArn = alarms.optional(
    'topicArn',
    matching(SNS_TOPIC_ARN, 'must be an SNS topic ARN: arn:<partition>:sns:<region>:<account>:<topic name>'),
  );
  const email = alarms.optional('email', matching(EMAIL, 'must be an email address such as ops@example.com'));
  return compact({ lagMinutes, topicArn, email });
}
