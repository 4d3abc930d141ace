/**
 * One page's messages into `chat_message` as the fix inserts them: sub-batches
 * of at most 3000 rows, each a bind-parameter INSERT ... ON CONFLICT (id)
 * DO NOTHING inside a savepoint, with upstream's row-by-row fallback. Runs
 * inside the page's transaction; the caller commits.
 */
import type { Client } from '../../postgres/sql.ts';
import { bindInsert, FIX_SUB_BATCH_ROWS } from './bind-insert.ts';
import type { FailureLog } from './failure-log.ts';
import { insertBatch, type BatchStatements } from './insert-batch.ts';
import type { MessageEntry } from './message-entries.ts';
import type { SavepointNames } from './savepoint-names.ts';

const statements: BatchStatements = {
  rowsPerStatement: FIX_SUB_BATCH_ROWS,
  bulk: (rows) => bindInsert(rows, { onConflictDoNothing: true }),
  single: (row) => bindInsert([row], { onConflictDoNothing: true }),
};

/** Returns the rows the server reports inserted (rows already present count 0). */
export async function insertPageEntries(client: Client, entries: readonly MessageEntry[], savepoints: SavepointNames, failures: FailureLog): Promise<number> {
  let inserted = 0;
  for (let i = 0; i < entries.length; i += FIX_SUB_BATCH_ROWS) {
    inserted += await insertBatch(client, entries.slice(i, i + FIX_SUB_BATCH_ROWS), statements, savepoints, failures);
  }
  return inserted;
}
