/**
 * Where two migrated databases differ, row by row and column by column: a
 * port's `chat_message` next to upstream's, each in its own clone of the
 * same template on the same server.
 *
 * Each side streams `(id, md5 of every column)` in id order through a
 * cursor, so a table of any size is compared in constant memory; the two
 * streams are merged like sorted files. A row's timestamps count as equal
 * when both fell back to the migration's own `now` (the seed's manifest
 * says which rows do): each run has its own `now`, and the verifier already
 * checked each against its run's time window.
 */
import { MESSAGE_COLUMNS, type MessageColumn } from '../openwebui/chat-to-rows.ts';
import type { Client } from '../postgres/sql.ts';

export interface RowDifference {
  /** The row's id; '' when the difference is the table itself. */
  id: string;
  chatId: string | null;
  /** The column that differs, or `(row)` when the row exists on one side only. */
  column: MessageColumn | '(row)' | '(table)';
  /** The value on each side as text (truncated), `(absent)` for a row or table that is not there, `NULL` for SQL NULL. */
  port: string;
  upstream: string;
}

export interface RowComparison {
  /** Rows on each side. */
  portRows: number;
  upstreamRows: number;
  /** Rows whose every column matched. */
  identical: number;
  /** Rows that differ in at least one column, or exist on one side only. */
  differing: number;
  /** The first differences, in id order. */
  differences: RowDifference[];
}

/** Differences listed in a report. */
export const LISTED_DIFFERENCES = 20;
/** Characters of a value shown in a listed difference. */
const VALUE_CHARS = 80;
const FETCH_ROWS = 2000;
const TIMESTAMP_COLUMNS = new Set<MessageColumn>(['created_at', 'updated_at']);

interface DigestRow {
  id: string;
  chat_id: string;
  /** One md5 per column of MESSAGE_COLUMNS, in order. */
  d: string[];
  /** The manifest says the timestamp fell back to the migration's `now`. */
  ts_now: boolean;
}

const DIGESTS_SQL = `SELECT m.id, m.chat_id,
  ARRAY[${MESSAGE_COLUMNS.map((c) => `md5(coalesce('V' || m.${c}::text, 'N'))`).join(', ')}] AS d,
  coalesce(e.id IS NOT NULL AND e.created_at IS NULL, false) AS ts_now
FROM chat_message m LEFT JOIN harness.expected_rows e ON e.id = m.id
ORDER BY m.id COLLATE "C"`;

async function tableExists(c: Client): Promise<boolean> {
  return (await c.query<{ e: boolean }>("SELECT to_regclass('chat_message') IS NOT NULL AS e")).rows[0].e;
}

async function hasManifest(c: Client): Promise<boolean> {
  return (await c.query<{ e: boolean }>("SELECT to_regclass('harness.expected_rows') IS NOT NULL AS e")).rows[0].e;
}

/** A cursor over one side's digests, read a batch at a time. */
class DigestStream {
  private buffer: DigestRow[] = [];
  private done = false;
  rows = 0;
  private constructor(private readonly c: Client) {}

  static async open(c: Client, withManifest: boolean): Promise<DigestStream> {
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const sql = withManifest ? DIGESTS_SQL : DIGESTS_SQL.replace(/LEFT JOIN harness\.expected_rows e ON e\.id = m\.id/, 'LEFT JOIN (SELECT NULL::text AS id, NULL::bigint AS created_at) e ON false');
    await c.query(`DECLARE owui_fidelity NO SCROLL CURSOR FOR ${sql}`);
    return new DigestStream(c);
  }

  async peek(): Promise<DigestRow | undefined> {
    if (!this.buffer.length && !this.done) {
      const r = await this.c.query<DigestRow>(`FETCH ${FETCH_ROWS} FROM owui_fidelity`);
      this.buffer = r.rows;
      if (r.rows.length < FETCH_ROWS) this.done = true;
    }
    return this.buffer[0];
  }

  take(): DigestRow {
    this.rows++;
    return this.buffer.shift()!;
  }

  async close(): Promise<void> {
    await this.c.query('COMMIT').catch(() => undefined);
  }
}

/** The order of `COLLATE "C"`: UTF-8 bytes (JavaScript's `<` compares UTF-16 units, which differs above U+FFFF). */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function show(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  const s = String(v);
  return s.length > VALUE_CHARS ? `${s.slice(0, VALUE_CHARS)}… (${s.length} chars)` : s;
}

async function columnValue(c: Client, id: string, column: MessageColumn): Promise<string> {
  const r = await c.query<{ v: string | null }>(`SELECT ${column}::text AS v FROM chat_message WHERE id = $1`, [id]);
  return show(r.rows[0]?.v ?? null);
}

/** Compare the port's `chat_message` (on `port`) with upstream's (on `upstream`). */
export async function compareRows(port: Client, upstream: Client, listed = LISTED_DIFFERENCES): Promise<RowComparison> {
  const out: RowComparison = { portRows: 0, upstreamRows: 0, identical: 0, differing: 0, differences: [] };
  const [pe, ue] = [await tableExists(port), await tableExists(upstream)];
  if (!pe || !ue) {
    const count = async (c: Client, e: boolean) => (e ? Number((await c.query<{ n: string }>('SELECT count(*) AS n FROM chat_message')).rows[0].n) : 0);
    out.portRows = await count(port, pe);
    out.upstreamRows = await count(upstream, ue);
    if (pe !== ue) {
      out.differing = Math.max(out.portRows, out.upstreamRows);
      out.differences.push({ id: '', chatId: null, column: '(table)', port: pe ? `chat_message (${out.portRows} rows)` : '(absent)', upstream: ue ? `chat_message (${out.upstreamRows} rows)` : '(absent)' });
    }
    return out;
  }
  const p = await DigestStream.open(port, await hasManifest(port));
  const u = await DigestStream.open(upstream, await hasManifest(upstream));
  const pending: { id: string; chatId: string; column: MessageColumn }[] = [];
  try {
    for (;;) {
      const a = await p.peek();
      const b = await u.peek();
      if (!a && !b) break;
      const order = !a ? 1 : !b ? -1 : byteOrder(a.id, b.id);
      if (order !== 0) {
        const only = order < 0 ? p.take() : u.take();
        out.differing++;
        if (out.differences.length + pending.length < listed)
          out.differences.push({ id: only.id, chatId: only.chat_id, column: '(row)', port: order < 0 ? 'present' : '(absent)', upstream: order < 0 ? '(absent)' : 'present' });
        continue;
      }
      const x = p.take();
      const y = u.take();
      const cols = MESSAGE_COLUMNS.filter((c, i) => x.d[i] !== y.d[i] && !(TIMESTAMP_COLUMNS.has(c) && x.ts_now && y.ts_now));
      if (!cols.length) out.identical++;
      else {
        out.differing++;
        for (const column of cols) if (out.differences.length + pending.length < listed) pending.push({ id: x.id, chatId: x.chat_id, column });
      }
    }
  } finally {
    out.portRows = p.rows;
    out.upstreamRows = u.rows;
    await p.close();
    await u.close();
  }
  // The values are read once the streams are closed, for the few differences listed.
  for (const d of pending) out.differences.push({ ...d, port: await columnValue(port, d.id, d.column), upstream: await columnValue(upstream, d.id, d.column) });
  out.differences.sort((a, b) => byteOrder(a.id, b.id));
  return out;
}
