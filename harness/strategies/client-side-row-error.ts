/**
 * What the driver raises before sending a statement whose parameters it
 * cannot adapt (psycopg2's `can't adapt type 'dict'`, SQLAlchemy's Boolean
 * processor, a NUL in a string). Upstream's batch fallback catches it like a
 * server error: roll back to the savepoint, retry row by row.
 */
import type { RowFailure } from '../openwebui/chat-to-rows.ts';

export class ClientSideRowError extends Error {
  override name = 'ClientSideRowError';
  constructor(readonly failure: RowFailure) {
    super(failure.reason);
  }
}
