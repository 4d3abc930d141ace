/**
 * The fix's steps after the load, each committed on its own and each safe to
 * repeat: the seven indexes (`CREATE INDEX IF NOT EXISTS`, a sorted bulk
 * build each instead of row-by-row maintenance), the foreign key added
 * `NOT VALID` if absent, orphans deleted, `VALIDATE CONSTRAINT` (SHARE UPDATE
 * EXCLUSIVE on chat_message, ROW SHARE on chat: writes to chat go on), and
 * only then the `alembic_version` update, kept or lost as the Alembic
 * environment keeps or loses the stamp of a migration that commits.
 */
import type { ModelledEnvironment } from '../../openwebui/alembic-environment.ts';
import { ADD_FK_NOT_VALID_SQL, CHAT_MESSAGE_INDEXES, createIndexSql, DELETE_ORPHANS_SQL, FK_NAME, VALIDATE_FK_SQL } from '../../openwebui/schema.ts';
import type { Client } from '../../postgres/sql.ts';
import type { StrategyContext } from '../strategy.ts';
import { endLikeAlembic } from './alembic-stamp.ts';

async function fkExists(client: Client): Promise<boolean> {
  const r = await client.query("SELECT 1 FROM pg_constraint WHERE conname = $1 AND conrelid = to_regclass('chat_message')", [FK_NAME]);
  return (r.rowCount ?? 0) > 0;
}

/** Run on a connection in autocommit mode (no open transaction): every statement commits by itself. */
export async function runPostLoadSteps(client: Client, ctx: StrategyContext, env: ModelledEnvironment, opts: { beforeStamp?: () => Promise<void> } = {}): Promise<void> {
  ctx.phase('indexes');
  for (const ix of CHAT_MESSAGE_INDEXES) {
    ctx.signal.throwIfAborted();
    await client.query(createIndexSql(ix, true));
  }
  ctx.phase('constraint');
  if (!(await fkExists(client))) await client.query(ADD_FK_NOT_VALID_SQL);
  const orphans = await client.query(DELETE_ORPHANS_SQL);
  if (orphans.rowCount) ctx.log(`deleted ${orphans.rowCount} chat_message rows whose chat no longer exists`);
  await client.query(VALIDATE_FK_SQL);
  await opts.beforeStamp?.();
  await endLikeAlembic(client, ctx, env, { commitsInside: true });
}
