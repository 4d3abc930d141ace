/**
 * The harness's errors. The command line maps three of them to exit codes
 * (the README's "Commands" section): 2 bad input, 3 the environment could
 * not provide PostgreSQL, 1 a check that failed; anything else that escapes
 * is a harness bug and exits 1 with its stack. A strategy's failed attempt
 * is one more, read by the runner.
 */
import type { AttemptReport } from './strategies/strategy.ts';

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

/**
 * One attempt of a strategy failed, carrying what it measured up to then:
 * the attempt's report (an external command's captured output, the rows
 * counted afterwards) and the peak RSS of the strategy's process. The runner
 * keeps both for the failed attempt. It crosses the strategy process's
 * boundary as plain data (harness/run/strategy-child.ts) and is rebuilt on
 * the other side.
 */
export class AttemptFailed extends Error {
  override name = 'AttemptFailed';
  readonly report?: AttemptReport;
  readonly maxRssBytes?: number;

  constructor(message: string, partial: { report?: AttemptReport; maxRssBytes?: number } = {}) {
    super(message);
    this.report = partial.report;
    this.maxRssBytes = partial.maxRssBytes;
  }
}

/** The message of anything thrown (an Error's message, or the value as text). */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
