/**
 * The migration's connection as Alembic holds it: one connection for the
 * whole attempt, and an error anywhere rolls back whatever transaction is
 * open before the connection is closed (SQLAlchemy's `begin()` context).
 * What an attempt committed before the error stays.
 */
import type { Client } from '../../postgres/sql.ts';
import { withClient } from '../../postgres/with-client.ts';
import type { StrategyContext } from '../strategy.ts';

export function withMigrationClient<T>(ctx: Pick<StrategyContext, 'connect'>, work: (client: Client) => Promise<T>): Promise<T> {
  return withClient(
    () => ctx.connect(),
    async (client) => {
      try {
        return await work(client);
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    },
  );
}
