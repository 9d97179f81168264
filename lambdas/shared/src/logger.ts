/**
 * The Powertools Logger, configured once for every function and the CLI: service name, log level
 * from the environment, a correlation id per run or request, and redaction of secrets.
 */
import { Logger } from '@aws-lambda-powertools/logger';

const REDACTED = '[REDACTED]';

// Keys whose values are secrets wherever they appear in a log attribute (any depth, any case).
const SECRET_KEY =
  /^(authorization|x-amz-security-token|x-amz-signature|token|bearer|secret|password|session-?token|secretAccessKey|accessKeyId|codecatalystToken|signature|cookie|x-amz-content-sha256)$/i;
// Credentials that can hide inside free text: bearer tokens, SigV4 signatures, session tokens.
const SECRET_TEXT: RegExp[] = [
  /(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi,
  /(Signature=)[0-9a-f]{16,}/gi,
  /(X-Amz-Signature=)[0-9a-f]{16,}/gi,
  /(X-Amz-Security-Token=)[^&\s"]+/gi,
  /(Credential=)[A-Z0-9]{16,}/g,
];

const registeredSecrets = new Set<string>();

/**
 * Registers a secret value (a token read at run time) so that it is masked in every later log line,
 * wherever it appears. Values shorter than 6 characters are ignored to avoid masking common words.
 */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 6) registeredSecrets.add(value);
}

/** Masks registered secrets and credential patterns in a string. */
export function redactText(text: string): string {
  let out = text;
  for (const secret of registeredSecrets) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  for (const pattern of SECRET_TEXT) out = out.replace(pattern, `$1${REDACTED}`);
  return out;
}

/** JSON replacer used by the Logger: the last line of defence before a log line leaves the process. */
export function redactingReplacer(key: string, value: unknown): unknown {
  if (key && SECRET_KEY.test(key) && value !== undefined && value !== null && value !== '') return REDACTED;
  if (typeof value === 'string') return redactText(value);
  return value;
}

export interface LoggerOptions {
  /** Service name; defaults to POWERTOOLS_SERVICE_NAME, then 'eventlog-archive'. */
  serviceName?: string;
  /** Log level; defaults to POWERTOOLS_LOG_LEVEL, then LOG_LEVEL, then INFO. */
  logLevel?: string;
}

/**
 * Creates the project's logger.
 *
 * @example
 * const logger = createLogger({ serviceName: 'ingest' });
 * logger.appendKeys({ correlationId: runId });
 * logger.info('window archived', { window: '2024-05-01T00:00:00Z', events: 42 });
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = (
    options.logLevel ??
    process.env.POWERTOOLS_LOG_LEVEL ??
    process.env.LOG_LEVEL ??
    'INFO'
  ).toUpperCase();
  return new Logger({
    serviceName: options.serviceName ?? process.env.POWERTOOLS_SERVICE_NAME ?? 'eventlog-archive',
    logLevel: level as 'INFO',
    jsonReplacerFn: redactingReplacer,
  });
}

export type { Logger };
