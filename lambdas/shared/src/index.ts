/**
 * `@eventlog-archive/shared`: the code every eventlog-archive function shares at run time, deployed
 * as one Lambda layer. It holds our own code only (no AWS SDK clients: functions bundle their own).
 */
export {
  ApiError,
  ArchiveError,
  classifyError,
  ERROR_STATUS,
  ErrorClass,
  type ErrorName,
  errorSummary,
  httpStatusOf,
  isApiError,
  toApiError,
  validationError,
} from './errors';
export {
  createLogger,
  type Logger,
  type LoggerOptions,
  redactingReplacer,
  redactText,
  registerSecret,
} from './logger';
export {
  createMetrics,
  INGEST_SERVICE_NAME,
  INSTANCE_METRICS,
  type InstanceFigures,
  type InstanceMetricName,
  ingestMetrics,
  METRICS_NAMESPACE,
  type Metrics,
  type MetricsOptions,
  publishInstanceMetrics,
} from './metrics';
export {
  AdaptiveLimiter,
  type DeferredPage,
  isDeferredPage,
  type Page,
  type PaginateOptions,
  PaginationLoopError,
  paginate,
} from './pagination';
export { backoffDelay, type RetryOptions, sleep, withRetry } from './retry';
export {
  CLOCK_ENV,
  type Clock,
  clockFrom,
  clockFromEnv,
  DAY_MS,
  dayStart,
  daysBetween,
  floorTo,
  HOUR_MS,
  iso,
  MINUTE_MS,
  sliceWindows,
  type TimeWindow,
  utcDay,
} from './time';
export {
  checkIntRange,
  checkLength,
  checkSpaceName,
  checkSystemArn,
  checkSystemEventsNextToken,
  checkSystemEventTypes,
  parseRfc3339,
  SPACE_NAME_PATTERN,
  SYSTEM_ARN_MIN_LENGTH,
  SYSTEM_ARN_PATTERN,
  SYSTEM_EVENT_TYPES,
  SYSTEM_EVENTS_MAX_RESULTS,
  SYSTEM_EVENTS_NEXT_TOKEN_PATTERN,
  SYSTEM_EVENTS_VALIDATION_REASON,
  type SystemEventType,
} from './validation';
