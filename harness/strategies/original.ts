/**
 * `original`: migration 8452d01d26d7 as released in v0.8.12 (the version in
 * the bug report). One transaction from the first DDL to the
 * `alembic_version` update, as Open WebUI's Alembic environment runs it
 * (https://github.com/open-webui/open-webui/blob/main/backend/open_webui/migrations/env.py):
 *
 *   BEGIN
 *   CREATE TABLE chat_message (... PK, FK → chat)   -- SHARE ROW EXCLUSIVE on chat until COMMIT
 *   CREATE INDEX × 4 (the columns' index=True), CREATE INDEX × 3 (composites)
 *   DECLARE c CURSOR WITHOUT HOLD FOR SELECT id, user_id, chat FROM chat WHERE user_id NOT LIKE 'shared-%'
 *   FETCH FORWARD 1000 ... (until empty)            -- stream_results + yield_per=1000
 *     batches of 5000 messages: SAVEPOINT; INSERT ... VALUES × ≤1000 rows, literals inline;
 *     RELEASE, or ROLLBACK TO and row by row (a savepoint per row)
 *   CLOSE c; UPDATE alembic_version; COMMIT
 *
 * Nothing is committed before the end: a failure anywhere leaves the
 * database exactly as it was.
 *
 * `v0.9.6`, the current release, is the same migration with one step in
 * front: it lists the tables and, when `chat_message` is already there,
 * returns at once; Alembic stamps the revision all the same. After an
 * interrupted run of the fix (a PK-only table holding part of the rows),
 * that start advances the stamp over a table that stays incomplete, with
 * neither the indexes nor the foreign key, and without an error.
 */
import { MIGRATED_CHATS_WHERE } from '../openwebui/schema.ts';
import { endLikeAlembic, environmentOf } from './ported/alembic-stamp.ts';
import { FailureLog } from './ported/failure-log.ts';
import { insertBatch, type BatchStatements } from './ported/insert-batch.ts';
import { LITERAL_PAGE_ROWS, literalInsertSql } from './ported/literal-insert.ts';
import { messageEntries, type MessageEntry } from './ported/message-entries.ts';
import { SavepointNames } from './ported/savepoint-names.ts';
import { createSchemaUpFront } from './ported/upfront-schema.ts';
import { withMigrationClient } from './ported/with-migration-client.ts';
import type { Strategy } from './strategy.ts';

/** Upstream's BATCH_SIZE: messages per savepoint. */
export const ORIGINAL_BATCH_MESSAGES = 5000;
/** `yield_per`: chats per FETCH from the server-side cursor. */
const ORIGINAL_FETCH_CHATS = 1000;
const CURSOR = 'c_owui_chat_stream_1';

const statements: BatchStatements = {
  rowsPerStatement: LITERAL_PAGE_ROWS,
  convertWholeBatchFirst: true,
  bulk: (rows) => ({ text: literalInsertSql(rows) }),
  single: (row) => ({ text: literalInsertSql([row]) }),
};

/** v0.8.12's migration; with `skipWhenTableExists`, the current release's. */
function releasedMigration(o: { name: string; summary: string; skipWhenTableExists: boolean }): Strategy {
  const strategy: Strategy = {
    name: o.name,
    summary: o.summary,
    singleTransaction: true,
    resumable: false,
    writesUsage: true,
    commitsInside: false,
    shippedEnv: 'single',
    async run(ctx) {
      // Upstream computes int(time.time()) once, as the load starts.
      const now = Math.floor(Date.now() / 1000);
      const failures = new FailureLog(ctx.log);
      const savepoints = new SavepointNames();
      let inserted = 0;
      await withMigrationClient(ctx, async (client) => {
        await client.query('BEGIN');
        if (o.skipWhenTableExists) {
          const exists = (await client.query<{ e: boolean }>("SELECT to_regclass('chat_message') IS NOT NULL AS e")).rows[0].e;
          if (exists) {
            ctx.log(`${o.name}: chat_message already exists; returning without a change (the revision is stamped all the same)`);
            await endLikeAlembic(client, ctx, environmentOf(ctx, strategy), { commitsInside: false });
            return;
          }
        }
        await createSchemaUpFront(client, ctx);

        ctx.phase('load');
        await client.query(`DECLARE ${CURSOR} CURSOR WITHOUT HOLD FOR SELECT id, user_id, chat FROM chat WHERE ${MIGRATED_CHATS_WHERE}`);
        let batch: MessageEntry[] = [];
        const flush = async () => {
          inserted += await insertBatch(client, batch, statements, savepoints, failures);
          batch = [];
          ctx.progress(inserted, false);
        };
        for (;;) {
          ctx.signal.throwIfAborted();
          const fetched = await client.query<{ id: string; user_id: string | null; chat: string | null }>(`FETCH FORWARD ${ORIGINAL_FETCH_CHATS} FROM ${CURSOR}`);
          if (!fetched.rows.length) break;
          for (const chat of fetched.rows) {
            for (const entry of messageEntries(chat.id, chat.user_id, chat.chat, now)) {
              batch.push(entry);
              if (batch.length >= ORIGINAL_BATCH_MESSAGES) await flush();
            }
          }
        }
        if (batch.length) await flush();
        await client.query(`CLOSE ${CURSOR}`);

        await endLikeAlembic(client, ctx, environmentOf(ctx, strategy), { commitsInside: false });
        ctx.progress(inserted, true);
      });
      return { rowsInserted: inserted, rowsFailed: failures.count, failures: failures.listed };
    },
  };
  return strategy;
}

export const original = releasedMigration({
  name: 'original',
  summary: 'v0.8.12: one transaction; FK and 7 indexes before the load; server-side cursor; 5000-message batches in savepoints',
  skipWhenTableExists: false,
});

export const v096 = releasedMigration({
  name: 'v0.9.6',
  summary: 'the current release: v0.8.12, except that it returns at once, and is stamped all the same, when chat_message already exists',
  skipWhenTableExists: true,
});
