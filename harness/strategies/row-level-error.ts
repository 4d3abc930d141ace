/**
 * Which server errors belong to the rows of a statement (so upstream's
 * fallback retries them row by row) and which end the attempt. Upstream
 * catches every exception, but on a connection the server has ended (a
 * platform deadline, `pg_terminate_backend`) each retry fails too and the
 * migration dies anyway; the ports let those errors propagate at once.
 */

// Connection, transaction state, rollback, resources, operator intervention
// (admin shutdown, query cancel), system, configuration and internal errors.
const ATTEMPT_ENDING_CLASSES = new Set(['08', '25', '40', '53', '57', '58', 'F0', 'XX']);

/** True for a server error about the data a statement carried (SQLSTATE class 22, 23, 54, ...). */
export function isRowLevelError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || code.length !== 5) return false;
  return !ATTEMPT_ENDING_CLASSES.has(code.slice(0, 2));
}
