/**
 * The error classes the command line maps to exit codes (see DESIGN.md):
 * 2 bad input, 3 the environment could not provide PostgreSQL. Anything
 * else that escapes is a harness bug and exits 1 with its stack.
 */

/** Bad input: names the flag or field and what is allowed. Exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** PostgreSQL (or Docker, or a URL's server) could not be provided. Exit code 3. */
export class EnvironmentError extends Error {
  override name = 'EnvironmentError';
}

/** A gate or validation check did not hold: the message names the failing checks. Exit code 1. */
export class CheckFailed extends Error {
  override name = 'CheckFailed';
}

/** The run was interrupted by a signal; partial results were written. */
export class InterruptedError extends Error {
  override name = 'InterruptedError';
  constructor(readonly signal: string) {
    super(`interrupted by ${signal}`);
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
