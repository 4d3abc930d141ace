/**
 * Multi-row INSERTs as psycopg2 sends them: every value interpolated into the
 * SQL text client-side (psycopg2 has no server-side parameters; SQLAlchemy's
 * executemany on PostgreSQL pages rows into `INSERT ... VALUES (...), (...)`
 * of up to 1000 rows; the fix's `pg_insert(...).values(batch)` is one such
 * statement of up to 3000 rows), sent over the simple query protocol. The
 * server parses and casts each literal itself, as it does for upstream.
 */
import { MESSAGE_COLUMNS, type MessageColumn, type MessageRow } from '../../openwebui/chat-to-rows.ts';
import { literal } from '../../postgres/sql.ts';

/** Rows per statement in SQLAlchemy's executemany ("insertmanyvalues" page size). */
export const LITERAL_PAGE_ROWS = 1000;

/** A value as psycopg2 renders it: quoted string, bare number or boolean, `NULL`. */
function sqlLiteral(v: string | number | boolean | null): string {
  if (v === null) return 'NULL';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return String(v);
  return literal(v);
}

/**
 * `INSERT INTO chat_message (<columns>) VALUES (...), ... [ON CONFLICT (id) DO NOTHING]`
 * for `rows`, values inline. Default columns: all 17.
 */
export function literalInsertSql(rows: readonly MessageRow[], columns: readonly MessageColumn[] = MESSAGE_COLUMNS, opts: { onConflictDoNothing?: boolean } = {}): string {
  if (!rows.length) throw new Error('literalInsertSql needs at least one row');
  const tuples = rows.map((row) => `(${columns.map((c) => sqlLiteral(row[c])).join(', ')})`);
  return `INSERT INTO chat_message (${columns.join(', ')}) VALUES ${tuples.join(', ')}${opts.onConflictDoNothing ? ' ON CONFLICT (id) DO NOTHING' : ''}`;
}
