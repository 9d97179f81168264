/**
 * The auditors' questions of lib/saved-queries.ts, asked of the same events where Amazon Security
 * Lake holds them: the OCSF 1.1.0 custom-source tables the export writes (lambdas/core/ocsf/export.ts,
 * mapping in docs/ocsf.md). One query per saved query, in the same order, answering with the same
 * column names and values, so an analyst who runs both sees the same rows
 * (test/integration/query/security-lake-queries.test.ts checks exactly that).
 *
 * Security Lake names a custom source's Glue table `amazon_security_lake_table_<region>_ext_<source>`
 * in the database `amazon_security_lake_glue_db_<region>` (Region and source name in lower case,
 * `-` as `_`), partitioned by `region`, `accountId` and `eventDay` (`YYYYMMDD`)
 * (https://docs.aws.amazon.com/security-lake/latest/userguide/custom-sources.html). Every query bounds
 * `eventDay`, so it reads only the days asked for (the export writes an event under its archived UTC
 * day, the archive's `dt`); none bounds `region` or `accountId`, so each spans every space or system.
 *
 * Written for Athena engine version 3 (Trino). Where OCSF holds a value the saved query reads:
 * - `time` is epoch milliseconds (`timestamp_t`): `CAST(from_unixtime("time" / 1e3) AS timestamp)` is
 *   the archive's `timestamp(3)` (a `/ 1000` would be integer division and drop the milliseconds);
 * - the space is `resources[1]` (the mapping always puts it first), the project the resource of type
 *   `CodeCatalyst project`;
 * - `operationType` is kept verbatim in `unmapped` (the activity is derived from it, not equal to it:
 *   a `MUTATION` named with a read verb is Other, and an event with no operation type gets its
 *   activity from its name alone), so "not read-only" is `element_at(unmapped, 'operationType') <>
 *   'READONLY'`, not a predicate on `activity_id`; `element_at` gives NULL for a missing key where
 *   `unmapped['operationType']` would fail the query;
 * - a failed call is one with `api.response.error` (the archive's `errorCode`; also `status_id` 2).
 */
import type { SavedQuery } from './saved-queries';

export interface SecurityLakeQuery extends SavedQuery {
  /** The name of the saved query (lib/saved-queries.ts) this one answers the question of. */
  savedQuery: string;
}

/** The Glue tables of the two custom sources (the CodeCatalyst one holds API Activity, the other Entity Management). */
export interface SecurityLakeTables {
  codecatalyst: string;
  resiliencehub: string;
}

const lakeName = (text: string): string => text.toLowerCase().replaceAll('-', '_');

/** Security Lake's Glue database in a Region: `amazon_security_lake_glue_db_us_west_2`. */
export function securityLakeDatabase(region: string): string {
  return `amazon_security_lake_glue_db_${lakeName(region)}`;
}

/** The Glue table of a custom source in a Region: `amazon_security_lake_table_us_west_2_ext_eventlog_codecatalyst`. */
export function securityLakeTable(region: string, customSourceName: string): string {
  return `amazon_security_lake_table_${lakeName(region)}_ext_${lakeName(customSourceName)}`;
}

/** The Region and custom source names the saved forms assume; replace them with your own (docs/security-lake-queries.md). */
export const SECURITY_LAKE_DEFAULTS = {
  region: 'us-west-2',
  codecatalystSource: 'eventlog-codecatalyst',
  resiliencehubSource: 'eventlog-resiliencehub',
} as const;

const DAYS = ['first day (YYYYMMDD)', 'last day (YYYYMMDD)'] as const;

/** An OCSF `time` (epoch ms) as the archive's `timestamp(3)`, as Athena prints it. */
const asTimestamp = (epochMs: string): string => `CAST(from_unixtime(${epochMs} / 1e3) AS timestamp)`;
const OPERATION_TYPE = `element_at(unmapped, 'operationType')`;
const SPACE = 'resources[1].name';
const PROJECT = `element_at(filter(resources, r -> r.type = 'CodeCatalyst project'), 1).name`;

/** The queries over the given tables, one per saved query, in the saved queries' order. */
export function securityLakeQueries(tables: SecurityLakeTables): SecurityLakeQuery[] {
  const cc = tables.codecatalyst;
  const rh = tables.resiliencehub;
  return [
    {
      savedQuery: 'eventlog-archive: everything one user did',
      name: 'eventlog-archive (Security Lake): everything one user did',
      description:
        'Every CodeCatalyst API Activity event of one user name, in every space, between two days (inclusive), in time order.',
      parameters: ['user name', ...DAYS],
      sql: `SELECT ${asTimestamp('"time"')} AS eventTime, ${SPACE} AS space, api.operation AS eventName,
       ${OPERATION_TYPE} AS operationType,
       ${PROJECT} AS projectName,
       api.service.name AS eventSource, api.response.error AS errorCode,
       coalesce(src_endpoint.ip, src_endpoint.svc_name) AS sourceIpAddress, api.request.uid AS requestId,
       metadata.uid AS id
FROM ${cc}
WHERE actor.user.name = ? AND eventDay BETWEEN ? AND ?
ORDER BY "time", metadata.uid`,
    },
    {
      savedQuery: 'eventlog-archive: failed calls by error code and user',
      name: 'eventlog-archive (Security Lake): failed calls by error code and user',
      description:
        'CodeCatalyst calls that failed, counted by error code and user name, between two days (inclusive).',
      parameters: [...DAYS],
      sql: `SELECT api.response.error AS errorCode, actor.user.name AS userName, count(*) AS calls,
       ${asTimestamp('min("time")')} AS firstFailure, ${asTimestamp('max("time")')} AS lastFailure
FROM ${cc}
WHERE api.response.error IS NOT NULL AND eventDay BETWEEN ? AND ?
GROUP BY api.response.error, actor.user.name
ORDER BY calls DESC, errorCode, userName`,
    },
    {
      savedQuery: 'eventlog-archive: changes to one project',
      name: 'eventlog-archive (Security Lake): changes to one project',
      description:
        'Every CodeCatalyst event that was not read-only on one project name, between two days (inclusive), in time order.',
      parameters: ['project name', ...DAYS],
      sql: `SELECT ${asTimestamp('"time"')} AS eventTime, ${SPACE} AS space, api.operation AS eventName,
       ${OPERATION_TYPE} AS operationType, actor.user.name AS userName, api.response.error AS errorCode,
       api.request.uid AS requestId, metadata.uid AS id
FROM ${cc}
WHERE ${PROJECT} = ?
  AND ${OPERATION_TYPE} <> 'READONLY' AND eventDay BETWEEN ? AND ?
ORDER BY "time", metadata.uid`,
    },
    {
      savedQuery: 'eventlog-archive: activity per day, space and event source',
      name: 'eventlog-archive (Security Lake): activity per day, space and event source',
      description:
        'CodeCatalyst events per UTC day (YYYYMMDD), space and event source, with how many changed something and how many failed.',
      parameters: [...DAYS],
      sql: `SELECT eventDay AS day, ${SPACE} AS space, api.service.name AS eventSource, count(*) AS events,
       count(*) FILTER (WHERE ${OPERATION_TYPE} <> 'READONLY') AS changes,
       count(*) FILTER (WHERE api.response.error IS NOT NULL) AS failed
FROM ${cc}
WHERE eventDay BETWEEN ? AND ?
GROUP BY eventDay, ${SPACE}, api.service.name
ORDER BY day, space, eventSource`,
    },
    {
      savedQuery: 'eventlog-archive: first and last activity of each user',
      name: 'eventlog-archive (Security Lake): first and last activity of each user',
      description:
        'Each CodeCatalyst user name with its first and last event between two days (inclusive): dormant and new accounts stand out.',
      parameters: [...DAYS],
      sql: `SELECT actor.user.name AS userName, ${asTimestamp('min("time")')} AS firstActivity,
       ${asTimestamp('max("time")')} AS lastActivity, count(*) AS events, count(DISTINCT ${SPACE}) AS spaces
FROM ${cc}
WHERE eventDay BETWEEN ? AND ?
GROUP BY actor.user.name
ORDER BY lastActivity, userName`,
    },
    {
      savedQuery: 'eventlog-archive: Resilience Hub system changes by type',
      name: 'eventlog-archive (Security Lake): Resilience Hub system changes by type',
      description:
        'Resilience Hub Entity Management events per system and event type between two days (inclusive), with the first and last of each.',
      parameters: [...DAYS],
      sql: `SELECT entity.uid AS systemArn, metadata.event_code AS eventType, count(*) AS events,
       ${asTimestamp('min("time")')} AS firstEvent, ${asTimestamp('max("time")')} AS lastEvent
FROM ${rh}
WHERE eventDay BETWEEN ? AND ?
GROUP BY entity.uid, metadata.event_code
ORDER BY systemArn, eventType`,
    },
  ];
}

/** The queries over the default tables (SECURITY_LAKE_DEFAULTS). */
export const SECURITY_LAKE_QUERIES: readonly SecurityLakeQuery[] = securityLakeQueries({
  codecatalyst: securityLakeTable(SECURITY_LAKE_DEFAULTS.region, SECURITY_LAKE_DEFAULTS.codecatalystSource),
  resiliencehub: securityLakeTable(SECURITY_LAKE_DEFAULTS.region, SECURITY_LAKE_DEFAULTS.resiliencehubSource),
});
