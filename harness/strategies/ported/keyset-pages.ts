/**
 * How the fix walks `chat`: a high-water mark read once (inside the first
 * page's transaction: the fix reads it after committing the table and
 * commits it with that page), then keyset pages of {@link PAGE_CHATS} chats
 * in id order (`WHERE id > $last ... ORDER BY id LIMIT 100`), a fresh SELECT
 * each time, since a WITHOUT HOLD cursor would not survive the COMMIT after
 * every page. The walk ends on the first empty page; with no chat to migrate
 * there is no high-water mark and the one page read has no upper bound.
 *
 * The walk starts after the empty string, as `id > ''`: a chat whose id is
 * '' (none in Open WebUI, whose ids are UUIDs) is never read.
 */
import { MIGRATED_CHATS_WHERE } from '../../openwebui/schema.ts';
import type { Client } from '../../postgres/sql.ts';

/** Chats per page (and per COMMIT). */
export const PAGE_CHATS = 100;

/** Where every walk starts: ids are compared as text, and every non-empty id sorts after ''. */
export const WALK_START = '';

interface ChatRowText {
  id: string;
  user_id: string | null;
  /** The document's text as stored (json columns come back unparsed). */
  chat: string | null;
}

/** `max(id)` over the chats the migration reads, or null when there are none (or, as Python's falsiness has it, the only id is ''). */
export async function highWaterMark(client: Client): Promise<string | null> {
  const r = await client.query<{ m: string | null }>(`SELECT max(id) AS m FROM chat WHERE ${MIGRATED_CHATS_WHERE}`);
  return r.rows[0]?.m || null;
}

/** The next page after `last`, up to the high-water mark (none: no upper bound, as the fix reads when it found no chat). */
export async function nextPage(client: Client, last: string, highWater: string | null): Promise<ChatRowText[]> {
  if (highWater === null) {
    const r = await client.query<ChatRowText>(`SELECT id, user_id, chat FROM chat WHERE id > $1 AND ${MIGRATED_CHATS_WHERE} ORDER BY id LIMIT ${PAGE_CHATS}`, [last]);
    return r.rows;
  }
  const r = await client.query<ChatRowText>(
    `SELECT id, user_id, chat FROM chat WHERE id > $1 AND ${MIGRATED_CHATS_WHERE} AND id <= $2 ORDER BY id LIMIT ${PAGE_CHATS}`,
    [last, highWater],
  );
  return r.rows;
}

/** The last id of the next page after `last` and its size, without reading the documents. */
export async function nextPageEnd(client: Client, last: string, highWater: string | null): Promise<{ upTo: string; chats: number } | null> {
  const r = await client.query<{ upto: string | null; n: number }>(
    `SELECT max(id) AS upto, count(*)::int AS n FROM (
       SELECT id FROM chat WHERE id > $1 AND ${MIGRATED_CHATS_WHERE} AND ($2::text IS NULL OR id <= $2) ORDER BY id LIMIT ${PAGE_CHATS}
     ) s`,
    [last, highWater],
  );
  const row = r.rows[0];
  return row?.upto == null ? null : { upTo: row.upto, chats: row.n };
}

/** The ids of the chats in `(after, upTo]` the migration reads, in order. */
export async function chatIdsBetween(client: Client, after: string, upTo: string): Promise<string[]> {
  const r = await client.query<{ id: string }>(`SELECT id FROM chat WHERE id > $1 AND id <= $2 AND ${MIGRATED_CHATS_WHERE} ORDER BY id`, [after, upTo]);
  return r.rows.map((x) => x.id);
}

/** A contiguous id range `(after, upTo]` and the document bytes it holds. */
interface IdRange {
  after: string;
  upTo: string;
  bytes: number;
}

/**
 * Split the chats up to the high-water mark into at most `n` contiguous id
 * ranges holding about the same document bytes (`pg_column_size`, read from
 * the tuple without detoasting). A chat larger than a share stays whole, so
 * its range is larger and there may be fewer than `n` ranges.
 */
export async function byteBalancedRanges(client: Client, highWater: string, n: number): Promise<IdRange[]> {
  const r = await client.query<{ up_to: string; bytes: string }>(
    `WITH c AS (
       SELECT id, coalesce(pg_column_size(chat), 0) AS b,
              sum(coalesce(pg_column_size(chat), 0)) OVER (ORDER BY id) AS cum,
              sum(coalesce(pg_column_size(chat), 0)) OVER () AS total
       FROM chat WHERE id > $1 AND ${MIGRATED_CHATS_WHERE} AND id <= $2
     )
     SELECT max(id) AS up_to, sum(b) AS bytes FROM c
     GROUP BY ceil(c.cum * $3::numeric / nullif(c.total, 0))
     ORDER BY max(id)`,
    [WALK_START, highWater, n],
  );
  let after = WALK_START;
  return r.rows.map((row) => {
    const range = { after, upTo: row.up_to, bytes: Number(row.bytes) };
    after = row.up_to;
    return range;
  });
}
