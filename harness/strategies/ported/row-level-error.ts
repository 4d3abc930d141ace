/**
 * The errors that belong to the rows of a statement, so that upstream's
 * fallback retries the batch row by row, as against the ones that end the
 * attempt.
 *
 * Two kinds are the rows' fault. The server's errors about the data a
 * statement carried (SQLSTATE class 22, 23, 54, ...). And what the driver
 * raises before sending a statement whose parameters it cannot adapt
 * (psycopg2's `can't adapt type 'dict'`, SQLAlchemy's Boolean processor, a
 * NUL in a string): upstream's batch fallback catches it like a server
 * error, rolls back to the savepoint and retries row by row.
 *
 * Upstream catches every exception, but on a connection the server has
 * ended (a platform deadline, `pg_terminate_backend`) each retry fails too
 * and the migration dies anyway; the ports let those errors propagate at
 * once.
 */
import type { RowFailure } from '../../openwebui/chat-to-rows.ts';

// Connection, transaction state, rollback, resources, operator intervention
// (admin shutdown, query cancel), system, configuration and internal errors.
const ATTEMPT_ENDING_CLASSES = new Set(['08', '25', '40', '53', '57', '58', 'F0', 'XX']);

/** A message the driver would refuse to send: raised before the statement goes to the server. */
export class ClientSideRowError extends Error {
  override name = 'ClientSideRowError';
  constructor(readonly failure: RowFailure) {
    super(failure.reason);
  }
}

/** True for an error the rows of a statement caused: a {@link ClientSideRowError}, or a server error about the data. */
export function isRowLevelError(err: unknown): boolean {
  if (err instanceof ClientSideRowError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || code.length !== 5) return false;
  return !ATTEMPT_ENDING_CLASSES.has(code.slice(0, 2));
}
