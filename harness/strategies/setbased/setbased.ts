/**
 * `setbased`: the chunked plan with each page done by the server alone: one
 * `INSERT INTO chat_message ... SELECT ... FROM chat, json_each(...)` per
 * page of 100 chats, ON CONFLICT (id) DO NOTHING, COMMIT per page; no
 * document crosses the wire. Then the same post-load steps as `chunked`.
 * The SQL and how it reproduces the Python rules: setbased-sql.ts.
 *
 * Rows are byte-identical to `chunked`'s for documents in json.dumps format
 * (everything Open WebUI and the seeder write), edge cases included (lists
 * in text columns too: the server evaluates psycopg2's ARRAY[...] itself).
 * Like the fix, it fails at a chat whose document is not an object, naming
 * it with Python's exception: each page is checked before it is inserted, so
 * that page is lost, the pages before it stay, and every rerun fails there
 * again. Where
 * SQL cannot match upstream, and what the harness then shows (the verifier
 * counts such rows as missing or mismatched and names the first ids in its
 * notes; chat-level failures are listed in the attempt's failures):
 * - JSON columns are the document's own text of the value. A document not
 *   written by json.dumps (other spacing, raw non-ASCII, `\/`, upper-case
 *   `\u` escapes, numbers spelled `1E5` or `1.50`, duplicate keys inside a
 *   value) gives the same JSON value in other bytes: mismatched.
 * - Duplicate message ids in `history.messages`: Python keeps the last
 *   value (at the first one's position); json_each yields both and
 *   ON CONFLICT keeps the first: mismatched.
 * - A lone surrogate escape (`\ud800` without its pair) anywhere in a
 *   document: PostgreSQL refuses to de-escape it, so the whole chat fails
 *   (one failure naming the chat), where upstream stores the escape as it
 *   is in the json columns (and fails only a message holding it in a text
 *   column such as `role`): missing rows.
 * - A document stored as a JSON string whose inner text PostgreSQL does not
 *   accept as json but Python does (NaN, Infinity) yields no rows (as the
 *   whole inner text, or a list holding them, it stops the migration as
 *   upstream's does).
 * - A document stored as a JSON string that PostgreSQL cannot de-escape (a
 *   lone surrogate) is never taken for a poison chat (upstream may raise
 *   there if its inner text is a string).
 * - A document holding both `\u0000` and the text `\uDBFF\uDFFF` (the NUL
 *   placeholder) fails as a whole.
 * - Failure reasons are close to, not equal to, psycopg2's messages.
 * Cost, not rows: a page holding a `\u0000` escape anywhere is attempted
 * twice (fast, then careful), so the rows of the first attempt up to the
 * failing chat are written and rolled back: WAL and dead tuples that
 * upstream's migration does not produce. The log names every such page.
 * The helper functions live in schema `owui_harness`, created at the start
 * (again on a rerun) and dropped just before the stamp.
 */
import { PoisonChatError } from '../../openwebui/chat-to-rows.ts';
import { CHAT_MESSAGE_PK_ONLY_DDL } from '../../openwebui/schema.ts';
import type { Client } from '../../postgres/sql.ts';
import { FailureLog } from '../ported/failure-log.ts';
import { highWaterMark, nextPageEnd, WALK_START } from '../ported/keyset-pages.ts';
import { environmentOf } from '../ported/alembic-stamp.ts';
import { runPostLoadSteps } from '../ported/post-load-steps.ts';
import { SavepointNames } from '../ported/savepoint-names.ts';
import { withMigrationClient } from '../ported/with-migration-client.ts';
import type { Strategy } from '../strategy.ts';
import { FailureNotices, insertSetbasedPage } from './setbased-page.ts';
import { DROP_SETBASED_HELPERS_SQL, FIRST_POISON_SQL, SETBASED_HELPERS_DDL } from './setbased-sql.ts';

/** Fail as upstream does at the first chat of `(after, upTo]` whose document is not an object. */
async function stopAtPoison(client: Client, after: string, upTo: string): Promise<void> {
  const r = await client.query<{ id: string; reason: string }>(FIRST_POISON_SQL, [after, upTo]);
  const p = r.rows[0];
  if (p) throw new PoisonChatError({ kind: 'poison', chatId: p.id, reason: p.reason });
}

export const setbased: Strategy = {
  name: 'setbased',
  summary: 'the chunked plan with each page one server-side INSERT ... SELECT over json_each (no JSON crosses the wire)',
  singleTransaction: false,
  resumable: true,
  writesUsage: true,
  commitsInside: true,
  shippedEnv: 'per-migration',
  proposal: true,
  async run(ctx) {
    const now = Math.floor(Date.now() / 1000);
    const failures = new FailureLog(ctx.log);
    const savepoints = new SavepointNames();
    let inserted = 0;
    await withMigrationClient(ctx, async (client) => {
      const notices = new FailureNotices(client);
      await client.query("SET client_min_messages = 'notice'");
      ctx.phase('schema');
      await client.query(CHAT_MESSAGE_PK_ONLY_DDL);
      for (const ddl of SETBASED_HELPERS_DDL) await client.query(ddl);
      ctx.phase('load');
      let last = WALK_START;
      // As the fix: the high-water mark in the first page's transaction, the walk ending on an empty page.
      await client.query('BEGIN');
      const high = await highWaterMark(client);
      for (;;) {
        ctx.signal.throwIfAborted();
        const page = await nextPageEnd(client, last, high);
        if (!page) break;
        await stopAtPoison(client, last, page.upTo);
        inserted += await insertSetbasedPage(client, notices, { after: last, upTo: page.upTo, now }, savepoints, failures, ctx.log);
        await client.query('COMMIT');
        ctx.progress(inserted, true);
        last = page.upTo;
        await client.query('BEGIN');
      }
      await client.query('COMMIT');
      await runPostLoadSteps(client, ctx, environmentOf(ctx, setbased), { beforeStamp: async () => void (await client.query(DROP_SETBASED_HELPERS_SQL)) });
    });
    return { rowsInserted: inserted, rowsFailed: failures.count, failures: failures.listed };
  },
};
