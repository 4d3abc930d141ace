/**
 * Multi-row INSERTs with bind parameters: 17 parameters a row, so at most
 * {@link MAX_BIND_ROWS} rows fit under the protocol's 65,535-parameter limit
 * (which the fix's 3000-row sub-batch is sized for, although psycopg2 sends
 * its values inline). Values travel as text and the server casts each to its
 * column's type. The fix's port sends inline (see chunked-page-insert.ts);
 * this is the variant the benchmark compares it with.
 */
import { MESSAGE_COLUMNS, type MessageRow } from '../../openwebui/chat-to-rows.ts';

/** PostgreSQL's limit on parameters in one statement (a 16-bit count). */
const MAX_BIND_PARAMETERS = 65_535;
const MAX_BIND_ROWS = Math.floor(MAX_BIND_PARAMETERS / MESSAGE_COLUMNS.length);
/** The fix's sub-batch: 3000 rows × 17 columns = 51,000 parameters. */
export const FIX_SUB_BATCH_ROWS = 3000;

interface BoundQuery {
  text: string;
  values: unknown[];
}

/** `INSERT INTO chat_message (...) VALUES ($1, ...), ... [ON CONFLICT (id) DO NOTHING]`. */
export function bindInsert(rows: readonly MessageRow[], opts: { onConflictDoNothing: boolean }): BoundQuery {
  if (!rows.length) throw new Error('bindInsert needs at least one row');
  if (rows.length > MAX_BIND_ROWS)
    throw new Error(`bindInsert got ${rows.length} rows; at most ${MAX_BIND_ROWS} fit in ${MAX_BIND_PARAMETERS} bind parameters (split the batch)`);
  const n = MESSAGE_COLUMNS.length;
  const values: unknown[] = new Array(rows.length * n);
  const tuples: string[] = new Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    const ps: string[] = new Array(n);
    for (let c = 0; c < n; c++) {
      values[r * n + c] = row[MESSAGE_COLUMNS[c]];
      ps[c] = `$${r * n + c + 1}`;
    }
    tuples[r] = `(${ps.join(', ')})`;
  }
  const conflict = opts.onConflictDoNothing ? ' ON CONFLICT (id) DO NOTHING' : '';
  return { text: `INSERT INTO chat_message (${MESSAGE_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}${conflict}`, values };
}
