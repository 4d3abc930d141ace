/**
 * How the released migrations (v0.8.0 and v0.8.12) begin, inside their one
 * transaction: `chat_message` with its foreign key to `chat` and the four
 * single-column indexes of the table definition (phase `schema`), then the
 * three composite indexes (phase `indexes`), all before the first row, so
 * every insert maintains seven indexes and the FK holds SHARE ROW EXCLUSIVE
 * on `chat` until COMMIT.
 */
import { CHAT_MESSAGE_WITH_FK_DDL, COMPOSITE_INDEXES, createIndexSql, SINGLE_COLUMN_INDEXES } from '../../openwebui/schema.ts';
import type { Client } from '../../postgres/sql.ts';
import type { StrategyContext } from '../strategy.ts';

/** Run inside the migration's open transaction. */
export async function createSchemaUpFront(client: Client, ctx: StrategyContext): Promise<void> {
  ctx.phase('schema');
  await client.query(CHAT_MESSAGE_WITH_FK_DDL);
  for (const ix of SINGLE_COLUMN_INDEXES) await client.query(createIndexSql(ix));
  ctx.phase('indexes');
  for (const ix of COMPOSITE_INDEXES) await client.query(createIndexSql(ix));
}
