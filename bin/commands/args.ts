/** Command-line parsing shared by every command: each bad argument becomes one line naming it and the rule. */
import { parseArgs } from 'node:util';
import { isApiError, MINUTE_MS, parseRfc3339 } from '@eventlog-archive/shared';
import { DEFAULT_WINDOWS } from '../../lambdas/core/ledger';
import { SOURCE_DEFINITIONS } from '../../lambdas/core/sources';
import type { SourceDefinition } from '../../lambdas/core/sources/types';
import { parseArchiveUri } from '../../lambdas/core/store';
import { UsageError } from './usage-error';

export { UsageError } from './usage-error';

/** Parsed options: a string, a flag, or the strings of an option given with `multiple`. */
export type Values = Record<string, string | boolean | string[] | undefined>;

export function parse(
  args: string[],
  options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>,
): Values {
  try {
    return parseArgs({
      args,
      options: { ...options, help: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }).values as Values;
  } catch (err) {
    throw new UsageError(parseArgsRule(err as Error & { code?: string }));
  }
}

/**
 * node:util's parseArgs errors in the CLI's form, `<argument>: <rule>` (its own messages put the
 * argument in the middle and sometimes run over three lines).
 */
function parseArgsRule(err: Error & { code?: string }): string {
  const quoted = /'([^']*)'/.exec(err.message)?.[1] ?? '';
  const option = quoted.split(' ')[0] ?? quoted;
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `${option}: unknown option (eventlog-archive --help lists the options)`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `${JSON.stringify(quoted)}: unexpected argument (every value follows its --option)`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (err.message.includes('does not take an argument')) return `${option}: takes no value`;
      if (err.message.includes('ambiguous'))
        return `${option}: needs a value (one that starts with a dash is written ${option}=-…)`;
      return `${option}: needs a value`;
    default:
      return err.message.split('\n')[0] ?? err.message;
  }
}

export function required(values: Values, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name}: is required`);
  return value;
}

export function intOption(values: Values, name: string, fallback: number, min: number, max: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || n < min || n > max)
    throw new UsageError(`--${name}: must be an integer from ${min} to ${max}`);
  return n;
}

export function timeOption(values: Values, name: string): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  try {
    return parseRfc3339(raw, `--${name}`);
  } catch (err) {
    throw new UsageError(isApiError(err) ? err.message : String(err));
  }
}

/**
 * The source `--source` names, from `registry`: the client-free definitions by default; the ingest
 * command passes the sources with their clients.
 */
export function sourceOption<S extends SourceDefinition = SourceDefinition>(
  values: Values,
  registry: Readonly<Record<string, S>> = SOURCE_DEFINITIONS as Readonly<Record<string, S>>,
): S {
  const name = values.source as string | undefined;
  const names = Object.keys(registry).join(', ');
  if (name === undefined) throw new UsageError(`--source: is required (one of ${names})`);
  const source = Object.hasOwn(registry, name) ? registry[name] : undefined;
  if (!source) throw new UsageError(`--source: must be one of ${names} (got "${name}")`);
  return source;
}

export function instanceOption(
  values: Values,
  source: SourceDefinition,
  isRequired: boolean,
): string | undefined {
  const flag = `--${source.instanceOption}`;
  const raw = values[source.instanceOption];
  if (raw === undefined) {
    if (isRequired) throw new UsageError(`${flag}: is required`);
    return undefined;
  }
  try {
    return source.checkInstance(raw, flag);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function archiveOption(values: Values): string {
  const uri = required(values, 'archive');
  try {
    return parseArchiveUri(uri).uri;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** The instance options of every registered source (`--space`, `--system-arn`, …). */
export const instanceOptions = (): Record<string, { type: 'string' }> =>
  Object.fromEntries(
    Object.values(SOURCE_DEFINITIONS).map((s) => [s.instanceOption, { type: 'string' as const }]),
  );
/** The options that select what a command reads or writes: the source, an instance, a range, the archive, windows. */
export const selectionOptions = () =>
  ({
    source: { type: 'string' },
    ...instanceOptions(),
    from: { type: 'string' },
    to: { type: 'string' },
    archive: { type: 'string' },
    ...TUNING_OPTIONS,
  }) as const;

export const TUNING_OPTIONS = {
  'slice-minutes': { type: 'string' },
  'lookback-minutes': { type: 'string' },
} as const;

export function tuning(values: Values): { sliceMs: number; lookbackMs: number } {
  const sliceMinutes = intOption(values, 'slice-minutes', DEFAULT_WINDOWS.sliceMs / MINUTE_MS, 1, 1440);
  if (1440 % sliceMinutes !== 0) throw new UsageError('--slice-minutes: must divide a day (1440 minutes)');
  return {
    sliceMs: sliceMinutes * MINUTE_MS,
    lookbackMs:
      intOption(values, 'lookback-minutes', DEFAULT_WINDOWS.lookbackMs / MINUTE_MS, 0, 10080) * MINUTE_MS,
  };
}
