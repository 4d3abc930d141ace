/**
 * Upstream's `_flush_batch`, shared by every client-side port: the batch goes
 * in inside a SAVEPOINT as one or more bulk statements; if any of them fails
 * (a value the driver cannot adapt, or an error from the server), the batch
 * rolls back to its savepoint and is retried row by row, each row in its own
 * savepoint, so a bad row fails alone (logged, counted) and the others stay.
 *
 * What is sent before a bad row stops the bulk path follows the driver:
 * psycopg2 renders each statement's values just before sending it, so the
 * statements before the one holding the row were sent (and are rolled back
 * with the savepoint); SQLAlchemy's bind processors (the Boolean check of
 * `done`) run over every row of an executemany before anything is sent, so
 * with `convertWholeBatchFirst` (v0.8.12's 5,000-row batch sent as 1,000-row
 * statements) such a row stops the batch before its first statement.
 */
import { errorMessage } from '../../errors.ts';
import type { MessageRow } from '../../openwebui/chat-to-rows.ts';
import type { Client } from '../../postgres/sql.ts';
import type { FailureLog } from './failure-log.ts';
import type { MessageEntry } from './message-entries.ts';
import { ClientSideRowError, isRowLevelError } from './row-level-error.ts';
import type { SavepointNames } from './savepoint-names.ts';

interface Statement {
  text: string;
  values?: unknown[];
}

export interface BatchStatements {
  /** Rows per bulk statement. */
  rowsPerStatement: number;
  /** SQLAlchemy converts the whole batch before the first statement (an executemany of several statements). */
  convertWholeBatchFirst?: boolean;
  bulk(rows: MessageRow[]): Statement;
  single(row: MessageRow): Statement;
}

async function run(client: Client, s: Statement): Promise<number> {
  const r = s.values ? await client.query(s.text, s.values) : await client.query(s.text);
  return r.rowCount ?? 0;
}

/** Insert one batch; returns the rows the server reports inserted. */
export async function insertBatch(
  client: Client,
  entries: readonly MessageEntry[],
  statements: BatchStatements,
  savepoints: SavepointNames,
  failures: FailureLog,
): Promise<number> {
  if (!entries.length) return 0;
  const sp = savepoints.next();
  await client.query(`SAVEPOINT ${sp}`);
  try {
    if (statements.convertWholeBatchFirst) {
      const bound = entries.find((e) => !e.ok && e.failure.stage === 'bind');
      if (bound && !bound.ok) throw new ClientSideRowError(bound.failure);
    }
    let inserted = 0;
    for (let i = 0; i < entries.length; i += statements.rowsPerStatement) {
      const rows: MessageRow[] = [];
      for (const e of entries.slice(i, i + statements.rowsPerStatement)) {
        // The driver renders a statement's parameters before sending it: this page fails, earlier pages were sent.
        if (!e.ok) throw new ClientSideRowError(e.failure);
        rows.push(e.row);
      }
      inserted += await run(client, statements.bulk(rows));
    }
    await client.query(`RELEASE SAVEPOINT ${sp}`);
    return inserted;
  } catch (err) {
    if (!isRowLevelError(err)) throw err;
    await client.query(`ROLLBACK TO SAVEPOINT ${sp}`);
  }
  let inserted = 0;
  for (const e of entries) {
    const one = savepoints.next();
    await client.query(`SAVEPOINT ${one}`);
    if (!e.ok) {
      await client.query(`ROLLBACK TO SAVEPOINT ${one}`);
      failures.add(e.failure);
      continue;
    }
    try {
      inserted += await run(client, statements.single(e.row));
      await client.query(`RELEASE SAVEPOINT ${one}`);
    } catch (err) {
      if (!isRowLevelError(err)) throw err;
      await client.query(`ROLLBACK TO SAVEPOINT ${one}`);
      failures.add({ id: e.row.id, chatId: e.row.chat_id, reason: errorMessage(err) });
    }
  }
  return inserted;
}
