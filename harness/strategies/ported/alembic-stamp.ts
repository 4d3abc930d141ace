/**
 * How a port ends, as the Alembic run it sits in would end it: the
 * `alembic_version` update, and (target `head`) the harness's stand-in for
 * the revisions after it, committed or rolled back as the environment does
 * (see harness/openwebui/alembic-environment.ts for the model and why).
 *
 * A migration that never commits by itself ends inside its own transaction:
 * stamp, then the following revision in the same transaction (single) or
 * its own (per-migration), then COMMIT. One that commits by itself has
 * already committed everything it did; what follows runs in a new implicit
 * transaction, which only a following revision's transaction commits
 * (per-migration, target head), or which its own `autocommit_block()`
 * bookkeeping commits; otherwise it is rolled back, as closing the
 * connection does to it under Alembic.
 */
import { followingStandIn, stampModel, type ModelledEnvironment } from '../../openwebui/alembic-environment.ts';
import { REVISION_AFTER, STAMP_AFTER_SQL } from '../../openwebui/schema.ts';
import type { Client } from '../../postgres/sql.ts';
import type { Strategy, StrategyContext } from '../strategy.ts';

const following = followingStandIn(REVISION_AFTER);
const FOLLOWING_SQL = [
  `CREATE TABLE IF NOT EXISTS ${following.table} (id integer PRIMARY KEY)`,
  `UPDATE alembic_version SET version_num = '${following.id}' WHERE version_num = '${REVISION_AFTER}'`,
];

async function runFollowing(client: Client): Promise<void> {
  for (const sql of FOLLOWING_SQL) await client.query(sql);
}

/**
 * The environment `strategy` runs in: the one the runner resolved, or
 * (a strategy run directly, in tests and benchmarks) the one its upstream
 * counterpart shipped with, upgrading to head.
 */
export function environmentOf(ctx: Pick<StrategyContext, 'options'>, strategy: Pick<Strategy, 'shippedEnv'>): ModelledEnvironment {
  return { ...(ctx.options.alembic ?? { shape: strategy.shippedEnv ?? 'single', target: 'head' }) };
}

/**
 * Stamp and end. `inTransaction`: the migration's own transaction is still
 * open (a port that never commits by itself); otherwise the connection is
 * idle after the migration's last commit.
 */
export async function endLikeAlembic(client: Client, ctx: Pick<StrategyContext, 'phase'>, env: ModelledEnvironment, o: { commitsInside: boolean }): Promise<void> {
  const model = stampModel(env, { commitsInside: o.commitsInside, commitVia: env.commitVia });
  ctx.phase('stamp');
  const open = !o.commitsInside;
  if (!open) await client.query('BEGIN');
  await client.query(STAMP_AFTER_SQL);
  if (open || env.commitVia === 'autocommit-block') {
    if (env.target === 'head') {
      if (env.shape === 'per-migration') await client.query('COMMIT; BEGIN');
      await runFollowing(client);
    }
    await client.query('COMMIT');
    return;
  }
  if (env.target === 'head') await runFollowing(client);
  await client.query(model.stampKept ? 'COMMIT' : 'ROLLBACK');
}
