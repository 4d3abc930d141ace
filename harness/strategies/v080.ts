/**
 * `v0.8.0`: the first release of migration 8452d01d26d7, as released: the
 * one that ran out of memory, and the one that stops at irregular data. One
 * transaction; the table with its foreign key and four indexes, then the
 * three composite indexes, before any row (no server default for `done`);
 * then `fetchall()` (every chat document in client memory at once) and one
 * single-row INSERT per message, each inside its own SAVEPOINT
 * (`begin_nested()`), literals inline as psycopg2 sends them. It never
 * writes `usage`. Commits at the end, with the `alembic_version` update.
 *
 * Its rules are v0.8.0's own (`chat-to-rows.ts`, rules `v0.8.0`): none of
 * the guards later releases added. A `history` or `history.messages` that
 * is not an object, or a message timestamp that is not a number (a string,
 * null), raises outside any savepoint: the whole migration fails and rolls
 * back, as it did for users; so on a seed with the default edge cases this
 * port fails, and with `--edge-case-rate 0` it completes. A float timestamp
 * is kept as a float, which PostgreSQL rounds into the bigint column (half
 * away from zero; the rules give the stored value), where later releases
 * truncate it: such rows differ from the manifest (which follows v0.8.12)
 * by one second.
 */
import { errorMessage } from '../errors.ts';
import { MESSAGE_COLUMNS, type Rules } from '../openwebui/chat-to-rows.ts';
import { MIGRATED_CHATS_WHERE } from '../openwebui/schema.ts';
import { endLikeAlembic, environmentOf } from './ported/alembic-stamp.ts';
import { FailureLog } from './ported/failure-log.ts';
import { literalInsertSql } from './ported/literal-insert.ts';
import { messageEntries } from './ported/message-entries.ts';
import { isRowLevelError } from './ported/row-level-error.ts';
import { SavepointNames } from './ported/savepoint-names.ts';
import { createSchemaUpFront } from './ported/upfront-schema.ts';
import { withMigrationClient } from './ported/with-migration-client.ts';
import type { Strategy } from './strategy.ts';

/** v0.8.0 inserts every column but `usage`. */
const V080_COLUMNS = MESSAGE_COLUMNS.filter((c) => c !== 'usage');
const RULES: Rules = 'v0.8.0';

export const v080: Strategy = {
  name: 'v0.8.0',
  summary: 'v0.8.0: one transaction; fetchall() of every chat; one INSERT and one SAVEPOINT per message; no usage',
  singleTransaction: true,
  resumable: false,
  writesUsage: false,
  commitsInside: false,
  shippedEnv: 'single',
  async run(ctx) {
    const now = Math.floor(Date.now() / 1000);
    const failures = new FailureLog(ctx.log);
    const savepoints = new SavepointNames();
    let inserted = 0;
    await withMigrationClient(ctx, async (client) => {
      await client.query('BEGIN');
      await createSchemaUpFront(client, ctx);

      ctx.phase('load');
      // fetchall(): the whole result, every document, held by the client before the first insert.
      const chats = await client.query<{ id: string; user_id: string | null; chat: string | null }>(
        `SELECT id, user_id, chat FROM chat WHERE ${MIGRATED_CHATS_WHERE}`,
      );
      for (const chat of chats.rows) {
        ctx.signal.throwIfAborted();
        for (const entry of messageEntries(chat.id, chat.user_id, chat.chat, now, RULES)) {
          const sp = savepoints.next();
          await client.query(`SAVEPOINT ${sp}`);
          if (!entry.ok) {
            await client.query(`ROLLBACK TO SAVEPOINT ${sp}`);
            failures.add(entry.failure);
            continue;
          }
          try {
            inserted += (await client.query(literalInsertSql([entry.row], V080_COLUMNS))).rowCount ?? 0;
            await client.query(`RELEASE SAVEPOINT ${sp}`);
          } catch (err) {
            if (!isRowLevelError(err)) throw err;
            await client.query(`ROLLBACK TO SAVEPOINT ${sp}`);
            failures.add({ id: entry.row.id, chatId: entry.row.chat_id, reason: errorMessage(err) });
          }
        }
        ctx.progress(inserted, false);
      }

      await endLikeAlembic(client, ctx, environmentOf(ctx, v080), { commitsInside: false });
      ctx.progress(inserted, true);
    });
    return { rowsInserted: inserted, rowsFailed: failures.count, failures: failures.listed };
  },
};
