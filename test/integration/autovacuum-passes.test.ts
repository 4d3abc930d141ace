/**
 * The sampler records autovacuum's passes over chat_message and its TOAST
 * table (pg_stat_progress_vacuum), which a load that commits as it goes meets
 * once it outlasts autovacuum_naptime. Here autovacuum comes every second and
 * the table's own settings slow its passes to seconds, so the samples see
 * both relations' passes begin and end; a table of another name is not one
 * of them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerSampler } from '../../harness/measure/server-sampler.ts';
import type { StartedEmbeddedPostgres } from '../../harness/postgres/embedded-server.ts';
import { withClient } from '../../harness/postgres/with-client.ts';
import { TEST_SETTINGS, startTestServer } from '../support/postgres.ts';

let server: StartedEmbeddedPostgres;

beforeAll(async () => {
  server = await startTestServer({ ...TEST_SETTINGS, autovacuum: 'on', autovacuum_naptime: '1s' });
});
afterAll(async () => {
  await server?.stop();
});

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Vacuumed at the first insert, at a page or a few per sleep: seconds for the heap's few pages and the TOAST table's hundreds.
const SLOW_VACUUM = `autovacuum_vacuum_insert_threshold = 1, autovacuum_vacuum_insert_scale_factor = 0,
  autovacuum_vacuum_cost_delay = 100, autovacuum_vacuum_cost_limit = 1,
  toast.autovacuum_vacuum_insert_threshold = 1, toast.autovacuum_vacuum_insert_scale_factor = 0,
  toast.autovacuum_vacuum_cost_delay = 2, toast.autovacuum_vacuum_cost_limit = 1`;

describe('autovacuum passes seen by the sampler', () => {
  it("records each pass over chat_message and over its TOAST table, with the pages it scanned, and none over other tables", { timeout: 120_000 }, async () => {
    const db = server.maintenanceDatabase;
    await withClient(server, db, 'test-admin', async (c) => {
      await c.query(`CREATE TABLE public.chat_message (id serial PRIMARY KEY, content text) WITH (${SLOW_VACUUM})`);
      await c.query(`CREATE TABLE public.other_table (id serial PRIMARY KEY, content text) WITH (${SLOW_VACUUM})`);
      // Stored out of line, uncompressed: every row puts a few chunks in the TOAST table.
      await c.query('ALTER TABLE chat_message ALTER content SET STORAGE EXTERNAL');
      await c.query('ALTER TABLE other_table ALTER content SET STORAGE EXTERNAL');
    });
    const t0 = performance.now();
    const sampler = new ServerSampler({ server, database: db, intervalMs: 50, external: false, clock: () => performance.now() - t0 });
    await sampler.begin();
    let vacuumed: { heap: boolean; toast: boolean } = { heap: false, toast: false };
    try {
      await withClient(server, db, 'test-admin', async (c) => {
        const rows = `SELECT (SELECT string_agg(md5(i::text || ':' || j::text), '') FROM generate_series(1, 200) j) FROM generate_series(1, 400) i`;
        // Committed rows, as a load that commits as it goes leaves them.
        await c.query(`INSERT INTO chat_message (content) ${rows}`);
        await c.query(`INSERT INTO other_table (content) ${rows}`);
        const deadline = Date.now() + 90_000;
        while (Date.now() < deadline) {
          const r = await c.query(
            `SELECT (SELECT autovacuum_count FROM pg_stat_all_tables WHERE relid = 'chat_message'::regclass) AS heap,
                    (SELECT autovacuum_count FROM pg_stat_all_tables WHERE relid = (SELECT reltoastrelid FROM pg_class WHERE oid = 'chat_message'::regclass)) AS toast`,
          );
          vacuumed = { heap: Number(r.rows[0].heap) > 0, toast: Number(r.rows[0].toast) > 0 };
          if (vacuumed.heap && vacuumed.toast) break;
          await c.query('SELECT pg_stat_clear_snapshot()');
          await pause(200);
        }
      });
      await pause(200);
    } finally {
      await sampler.end();
      await withClient(server, db, 'test-admin', (c) => c.query('DROP TABLE IF EXISTS chat_message, other_table'));
    }
    expect(vacuumed).toEqual({ heap: true, toast: true });
    const passes = sampler.autovacuumPasses();
    const heap = passes.filter((p) => p.relation === 'chat_message');
    const toast = passes.filter((p) => p.relation === 'chat_message TOAST');
    // Each relation was vacuumed once (nothing was inserted after), and only these two: other_table's passes are not chat_message's.
    expect(heap).toHaveLength(1);
    expect(toast).toHaveLength(1);
    expect(passes).toHaveLength(2);
    for (const p of passes) {
      expect(p.running).toBe(false);
      expect(p.lastSeenMs).toBeGreaterThanOrEqual(p.startMs);
      expect(p.startMs).toBeGreaterThan(0);
    }
    // 400 rows of 6,400 bytes out of line: about 330 TOAST pages (four chunks a page), a few heap pages.
    expect(toast[0].pages).toBeGreaterThan(250);
    expect(heap[0].pages).toBeGreaterThan(0);
    expect(heap[0].pages).toBeLessThan(20);
  });
});
