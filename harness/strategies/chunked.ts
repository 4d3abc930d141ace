/**
 * `chunked`: the fix proposed for issue 23273, its PostgreSQL path
 * (https://github.com/open-webui/open-webui/pull/23382), ported statement
 * for statement.
 *
 *   CREATE TABLE IF NOT EXISTS chat_message (... PK only)              -- committed
 *   BEGIN; SELECT max(id) ... (high-water mark, read once)
 *   per page of 100 chats: SELECT ... WHERE id > $last ... LIMIT 100;
 *     sub-batches of ≤3000 rows: SAVEPOINT; INSERT ... VALUES (inline
 *     literals, as psycopg2 sends them) ON CONFLICT (id) DO NOTHING;
 *     RELEASE (or ROLLBACK TO and row by row); COMMIT (the first page
 *     commits with the high-water mark); BEGIN
 *   ... until a page comes back empty
 *   CREATE INDEX IF NOT EXISTS × 7; FK NOT VALID (if absent); DELETE orphans;
 *   VALIDATE CONSTRAINT; UPDATE alembic_version                       -- each committed
 *
 * Idempotent: a rerun after an interruption anywhere re-reads every page and
 * skips the rows already there, then repeats the (repeatable) post-load
 * steps. The fix's weak spots are kept as they are: chats created after the
 * high-water mark was read are not backfilled; a chat whose document is not
 * an object stops it (upstream raises there): that page is rolled back, the
 * pages before it stay, and every later attempt walks up to the same chat and
 * fails again; and because the fix commits on Alembic's own connection, the
 * `alembic_version` update afterwards is kept or lost as the Alembic
 * environment decides (see ported/alembic-stamp.ts): under Open WebUI's
 * one-transaction env.py every start finds the old stamp and runs it again.
 */
import { CHAT_MESSAGE_PK_ONLY_DDL } from '../openwebui/schema.ts';
import type { Client } from '../postgres/sql.ts';
import { insertPageEntries } from './ported/chunked-page-insert.ts';
import { FailureLog } from './ported/failure-log.ts';
import { highWaterMark, nextPage, WALK_START } from './ported/keyset-pages.ts';
import { messageEntries } from './ported/message-entries.ts';
import { entriesOrSkip, SkippedChats } from './skipped-chats.ts';
import { environmentOf } from './ported/alembic-stamp.ts';
import { runPostLoadSteps } from './ported/post-load-steps.ts';
import { SavepointNames } from './ported/savepoint-names.ts';
import { withMigrationClient } from './ported/with-migration-client.ts';
import type { Strategy, StrategyContext } from './strategy.ts';

/** Where an attempt's keyset walk starts. */
type WalkStart = (client: Client, ctx: StrategyContext) => Promise<string>;

/**
 * The fix's plan as a strategy; `startAt` says where each attempt's walk
 * begins (the fix itself: always at the first chat); a proposal skips a
 * chat upstream cannot read and reports it (see skipped-chats.ts), where
 * the fix fails.
 */
export function keysetFix(o: { name: string; summary: string; startAt?: WalkStart; proposal?: boolean }): Strategy {
  const strategy: Strategy = {
    name: o.name,
    ...(o.proposal ? { proposal: true } : {}),
    summary: o.summary,
    singleTransaction: false,
    resumable: true,
    writesUsage: true,
    commitsInside: true,
    shippedEnv: 'per-migration',
    async run(ctx) {
      // The fix commits with conn.commit(); only our proposals may commit through autocommit_block().
      const env = environmentOf(ctx, strategy);
      if (!strategy.proposal) delete env.commitVia;
      const now = Math.floor(Date.now() / 1000);
      const failures = new FailureLog(ctx.log);
      const skipped = new SkippedChats(ctx.log);
      const savepoints = new SavepointNames();
      const send = ctx.options.sendValues ?? 'inline';
      const entriesOf = (c: { id: string; user_id: string | null; chat: string | null }) =>
        strategy.proposal ? entriesOrSkip(c.id, c.user_id, c.chat, now, skipped) : messageEntries(c.id, c.user_id, c.chat, now);
      let inserted = 0;
      await withMigrationClient(ctx, async (client) => {
        ctx.phase('schema');
        await client.query(CHAT_MESSAGE_PK_ONLY_DDL);
        ctx.phase('load');
        let last = o.startAt ? await o.startAt(client, ctx) : WALK_START;
        // The high-water mark is read in the first page's transaction and committed with it.
        await client.query('BEGIN');
        const high = await highWaterMark(client);
        for (;;) {
          ctx.signal.throwIfAborted();
          const chats = await nextPage(client, last, high);
          if (!chats.length) break;
          last = chats[chats.length - 1].id;
          const entries = chats.flatMap(entriesOf);
          inserted += await insertPageEntries(client, entries, savepoints, failures, send);
          await client.query('COMMIT');
          ctx.progress(inserted, true);
          await client.query('BEGIN');
        }
        await client.query('COMMIT');
        await runPostLoadSteps(client, ctx, env);
      });
      return { rowsInserted: inserted, rowsFailed: failures.count, failures: failures.listed, ...(strategy.proposal ? { skippedChats: skipped.list } : {}) };
    },
  };
  return strategy;
}

export const chunked: Strategy = keysetFix({
  name: 'chunked',
  summary: 'the fix: PK-only table, keyset pages of 100 chats committed one by one, ON CONFLICT DO NOTHING, indexes and FK after the load',
});
