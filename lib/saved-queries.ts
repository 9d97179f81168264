/**
 * The questions auditors ask of the archive, as Athena SQL over the Glue tables, saved in the
 * workgroup (`AWS::Athena::NamedQuery`). Each `?` is a parameter the Athena console asks for when
 * the query is run (https://docs.aws.amazon.com/athena/latest/ug/querying-with-prepared-statements.html).
 * Every query bounds `dt` (the day partition), so it reads only the days asked for; none names an
 * instance unless the question does, so each spans every configured space or system.
 */
import { CODECATALYST_TABLE } from '../lambdas/core/sources/codecatalyst/schema';
import { RESILIENCEHUB_TABLE } from '../lambdas/core/sources/resiliencehub/schema';

export interface SavedQuery {
  /** The NamedQuery's name (unique in the workgroup). */
  name: string;
  description: string;
  /** The parameters, in the order of their `?`. */
  parameters: readonly string[];
  sql: string;
}

const DAYS = ['first day (YYYY-MM-DD)', 'last day (YYYY-MM-DD)'] as const;

export const SAVED_QUERIES: readonly SavedQuery[] = [
  {
    name: 'eventlog-archive: everything one user did',
    description:
      'Every CodeCatalyst event of one user name, in every space, between two days (inclusive), in time order.',
    parameters: ['user name', ...DAYS],
    sql: `SELECT eventTime, space, eventName, operationType, projectInformation.name AS projectName,
       eventSource, errorCode, sourceIpAddress, requestId, id
FROM ${CODECATALYST_TABLE}
WHERE userIdentity.userName = ? AND dt BETWEEN ? AND ?
ORDER BY eventTime, id`,
  },
  {
    name: 'eventlog-archive: failed calls by error code and user',
    description:
      'CodeCatalyst calls that failed, counted by error code and user name, between two days (inclusive).',
    parameters: [...DAYS],
    sql: `SELECT errorCode, userIdentity.userName AS userName, count(*) AS calls,
       min(eventTime) AS firstFailure, max(eventTime) AS lastFailure
FROM ${CODECATALYST_TABLE}
WHERE errorCode <> '' AND dt BETWEEN ? AND ?
GROUP BY errorCode, userIdentity.userName
ORDER BY calls DESC, errorCode, userName`,
  },
  {
    name: 'eventlog-archive: changes to one project',
    description:
      'Every CodeCatalyst event that was not read-only on one project name, between two days (inclusive), in time order.',
    parameters: ['project name', ...DAYS],
    sql: `SELECT eventTime, space, eventName, operationType, userIdentity.userName AS userName, errorCode, requestId, id
FROM ${CODECATALYST_TABLE}
WHERE projectInformation.name = ? AND operationType <> 'READONLY' AND dt BETWEEN ? AND ?
ORDER BY eventTime, id`,
  },
  {
    name: 'eventlog-archive: activity per day, space and event source',
    description:
      'CodeCatalyst events per UTC day, space and event source, with how many changed something and how many failed.',
    parameters: [...DAYS],
    sql: `SELECT dt AS day, space, eventSource, count(*) AS events,
       count(*) FILTER (WHERE operationType <> 'READONLY') AS changes,
       count(*) FILTER (WHERE errorCode <> '') AS failed
FROM ${CODECATALYST_TABLE}
WHERE dt BETWEEN ? AND ?
GROUP BY dt, space, eventSource
ORDER BY day, space, eventSource`,
  },
  {
    name: 'eventlog-archive: first and last activity of each user',
    description:
      'Each CodeCatalyst user name with its first and last event between two days (inclusive): dormant and new accounts stand out.',
    parameters: [...DAYS],
    sql: `SELECT userIdentity.userName AS userName, min(eventTime) AS firstActivity, max(eventTime) AS lastActivity,
       count(*) AS events, count(DISTINCT space) AS spaces
FROM ${CODECATALYST_TABLE}
WHERE dt BETWEEN ? AND ?
GROUP BY userIdentity.userName
ORDER BY lastActivity, userName`,
  },
  {
    name: 'eventlog-archive: Resilience Hub system changes by type',
    description:
      'Resilience Hub system events per system and event type between two days (inclusive), with the first and last of each.',
    parameters: [...DAYS],
    sql: `SELECT systemArn, eventType, count(*) AS events, min("timestamp") AS firstEvent, max("timestamp") AS lastEvent
FROM ${RESILIENCEHUB_TABLE}
WHERE dt BETWEEN ? AND ?
GROUP BY systemArn, eventType
ORDER BY systemArn, eventType`,
  },
];
