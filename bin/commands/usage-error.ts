/**
 * A bad command line: printed as one line naming the argument and the rule, exit code 2. In a file
 * of its own so that `bin/cli.ts` can recognise it without loading any command's code.
 */
export class UsageError extends Error {
  override name = 'UsageError';
}
