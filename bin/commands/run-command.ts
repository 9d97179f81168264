/**
 * Runs one command: its clock from the environment (EVENTLOG_ARCHIVE_NOW), then the command, and
 * what it throws as an exit code with one line on stderr: 2 for a bad command line (a UsageError,
 * or a malformed EVENTLOG_ARCHIVE_NOW), 1 for any other failure. Apart from bin/cli.ts so that
 * `--help` and an unknown command load none of it.
 */
import { type Clock, clockFromEnv, isApiError } from '@eventlog-archive/shared';
import { writeLine } from './terminal';
import { UsageError } from './usage-error';

/** A command: its arguments (after its name) and the clock → the exit code. */
export type Command = (args: string[], clock: Clock) => Promise<number>;

export async function runCommand(
  name: string,
  load: () => Promise<Command>,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<number> {
  let clock: Clock;
  try {
    clock = clockFromEnv(env);
  } catch (err) {
    writeLine(process.stderr, `eventlog-archive: ${oneLine(isApiError(err) ? err.message : String(err))}`);
    return 2;
  }
  try {
    const run = await load();
    return await run(args, clock);
  } catch (err) {
    // Messages may quote archive text (keys, instance names) or arguments: printable, one line.
    if (err instanceof UsageError) {
      writeLine(process.stderr, `eventlog-archive ${name}: ${oneLine(err.message)}`);
      return 2;
    }
    writeLine(
      process.stderr,
      `eventlog-archive ${name}: ${(err as Error)?.name ?? 'Error'}: ${oneLine((err as Error)?.message ?? String(err))}`,
    );
    return 1;
  }
}

/** Line breaks inside a message as spaces: an error is one line (writeLine escapes anything else unprintable). */
function oneLine(message: string): string {
  return message.replace(/\s*[\r\n]+\s*/g, ' ');
}
