/**
 * One page's messages into `chat_message` as the fix inserts them: sub-batches
 * of at most 3000 rows, each one INSERT ... ON CONFLICT (id) DO NOTHING inside
 * a savepoint, with upstream's row-by-row fallback. Runs inside the page's
 * transaction; the caller commits.
 *
 * How the values travel: `inline`, as psycopg2 sends them (interpolated into
 * the statement's text client-side, the simple query protocol), the fix's
 * own way; or `bound`, as bind parameters (17 a row, which is why the fix
 * caps a sub-batch at 3000 rows), which the benchmark compares it with.
 * The rows are the same either way; the server's parsing and the client's
 * memory are not.
 */
import type { Client } from '../../postgres/sql.ts';
import { bindInsert, FIX_SUB_BATCH_ROWS } from './bind-insert.ts';
import type { FailureLog } from './failure-log.ts';
import { insertBatch, type BatchStatements } from './insert-batch.ts';
import { literalInsertSql } from './literal-insert.ts';
import type { MessageEntry } from './message-entries.ts';
import type { SavepointNames } from './savepoint-names.ts';

/** How the values of an INSERT travel. */
export type SendValues = 'inline' | 'bound';

const STATEMENTS: Record<SendValues, BatchStatements> = {
  inline: {
    rowsPerStatement: FIX_SUB_BATCH_ROWS,
    bulk: (rows) => ({ text: literalInsertSql(rows, undefined, { onConflictDoNothing: true }) }),
    single: (row) => ({ text: literalInsertSql([row], undefined, { onConflictDoNothing: true }) }),
  },
  bound: {
    rowsPerStatement: FIX_SUB_BATCH_ROWS,
    bulk: (rows) => bindInsert(rows, { onConflictDoNothing: true }),
    single: (row) => bindInsert([row], { onConflictDoNothing: true }),
  },
};

/** Returns the rows the server reports inserted (rows already present count 0). */
export async function insertPageEntries(
  client: Client,
  entries: readonly MessageEntry[],
  savepoints: SavepointNames,
  failures: FailureLog,
  send: SendValues = 'inline',
): Promise<number> {
  let inserted = 0;
  for (let i = 0; i < entries.length; i += FIX_SUB_BATCH_ROWS) {
    inserted += await insertBatch(client, entries.slice(i, i + FIX_SUB_BATCH_ROWS), STATEMENTS[send], savepoints, failures);
  }
  return inserted;
}
