/**
 * For a sweep over a tester's own data: a copy holding the chats (in id
 * order) that fill about `bytes` of `chat`, compacted as a fresh load
 * would be, so each size is a realistic smaller database of the same kind.
 */
import { createOwnedDatabase } from '../postgres/databases.ts';
import type { StartedPostgres } from '../postgres/started-postgres.ts';
import { withClient } from '../postgres/with-client.ts';
import { pgSize } from '../units.ts';

export async function subsetCopy(server: StartedPostgres, source: string, bytes: number): Promise<{ database: string; chats: number; wholeSource: boolean }> {
  const database = `${source}_${pgSize(bytes)}`.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 63);
  await withClient(server, server.maintenanceDatabase, 'admin', (admin) =>
    createOwnedDatabase(admin, database, { template: source, note: `first ${pgSize(bytes)} of chats of ${source}` }),
  );
  return withClient(server, database, 'subset', async (c) => {
    // Keep the chats whose running size (documents plus a row's overhead) stays within `bytes`.
    const cut = await c.query<{ last: string | null; kept: string; total: string }>(
      `WITH sized AS (SELECT id, sum(coalesce(pg_column_size(chat), 0) + 200) OVER (ORDER BY id) AS running FROM chat)
       SELECT max(id) FILTER (WHERE running <= $1) AS last, count(*) FILTER (WHERE running <= $1) AS kept, count(*) AS total FROM sized`,
      [bytes],
    );
    const { last, kept, total } = cut.rows[0];
    if (Number(kept) < Number(total)) {
      await c.query('DELETE FROM chat WHERE id > $1 OR $1 IS NULL', [last]);
      await c.query('VACUUM FULL chat');
    }
    await c.query('VACUUM (FREEZE, ANALYZE) chat');
    return { database, chats: Number(kept), wholeSource: Number(kept) === Number(total) };
  });
}
