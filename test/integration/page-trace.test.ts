/**
 * A run's WAL read back page by page (harness/measure/page-trace.ts) on a
 * real server: with no checkpoint inside the range read, a change writes a
 * full-page image exactly when it is the first change to a page that existed
 * before (the checkpoint before the range began) or the page is written whole
 * as it is made (CREATE INDEX); every other change is a revisit with its gap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blocksBefore, readPageTrace } from '../../harness/measure/page-trace.ts';
import { createOwnedDatabase } from '../../harness/postgres/databases.ts';
import type { StartedEmbeddedPostgres } from '../../harness/postgres/embedded-server.ts';
import { withClient } from '../../harness/postgres/with-client.ts';
import { imagesAtOwnSpacing } from '../../harness/sweep/cycle-images.ts';
import { startTestServer, TEST_SETTINGS } from '../support/postgres.ts';

let server: StartedEmbeddedPostgres;
const db = 'page_trace_probe';

beforeAll(async () => {
  server = await startTestServer({ ...TEST_SETTINGS, wal_keep_size: '256MB' });
  await withClient(server, 'postgres', 'test-admin', (admin) => createOwnedDatabase(admin, db));
});
afterAll(async () => {
  await server?.stop();
});

const lsn = () => withClient(server, db, 'test', async (c) => (await c.query<{ l: string }>('SELECT pg_current_wal_insert_lsn()::text AS l')).rows[0].l);

describe('the pages a run changed, from its WAL', () => {
  it('finds an image at each first change to an old page and each page written whole, and a gap at every other change', async () => {
    await withClient(server, db, 'test', async (c) => {
      await c.query('CREATE TABLE t (id int PRIMARY KEY, v text)');
      await c.query(`INSERT INTO t SELECT g, repeat('a', 100) FROM generate_series(1, 2000) g`);
      await c.query('CHECKPOINT');
    });
    const before = await withClient(server, db, 'test', blocksBefore);
    const from = await lsn();
    const { heapPages, indexPages } = await withClient(server, db, 'test', async (c) => {
      // Old pages: one row in fifty updated, spread over the table.
      await c.query(`UPDATE t SET v = v || 'x' WHERE id % 50 = 0`);
      // New pages at the table's end, and the primary key's rightmost leaf changed again and again.
      await c.query(`INSERT INTO t SELECT g, 'y' FROM generate_series(2001, 3000) g`);
      // An index built whole: every page written as an image as it is made.
      await c.query('CREATE INDEX t_v ON t (v)');
      const heap = (await c.query<{ n: number }>(`SELECT count(DISTINCT (ctid::text::point)[0])::int AS n FROM t WHERE id % 50 = 0 AND id <= 2000`)).rows[0].n;
      const idx = (await c.query<{ n: number }>(`SELECT (pg_relation_size('t_v') / current_setting('block_size')::int)::int AS n`)).rows[0].n;
      return { heapPages: heap, indexPages: idx };
    });
    const to = await lsn();
    const trace = await readPageTrace(server, db, from, to, before);

    // No checkpoint inside: images are exactly the old pages' first changes and the pages written whole.
    expect(trace.imagesRead).toBe(trace.oldFirstChanges + trace.newPageImages);
    expect(trace.newPageImages).toBe(indexPages);
    expect(trace.checkpointRecords).toBe(0);
    expect(trace.walPerCheckpointBytes).toBeNull();
    // The updated rows' old heap pages (where the updated rows went, if elsewhere, are old pages too).
    expect(trace.oldFirstChanges).toBeGreaterThanOrEqual(heapPages);
    // Revisits: the table's last page and the key's rightmost leaf, changed over and over.
    expect(trace.gaps.length).toBeGreaterThan(900);
    expect(trace.gaps.length).toBeLessThan(trace.changes);
    expect([...trace.index].some((i) => i === 1)).toBe(true);
    expect([...trace.index].some((i) => i === 0)).toBe(true);
    expect(Math.min(...trace.gaps)).toBeGreaterThanOrEqual(0);
    expect(trace.bodyBytes).toBeGreaterThan(0);
    // The gap model at the range's own checkpoint count (none) says the same.
    const sized = { ...trace, walBytes: trace.bodyBytes + trace.imageBytes, sizeBytes: 1, chats: 1 };
    expect(imagesAtOwnSpacing(sized, 0)).toBe(trace.imagesRead);
  });

  it('counts the checkpoints the WAL records, and the WAL between them', async () => {
    const from = await lsn();
    const at: string[] = [];
    await withClient(server, db, 'test', async (c) => {
      for (let i = 0; i < 3; i++) {
        await c.query(`INSERT INTO t SELECT g, repeat('c', 500) FROM generate_series(${10_000 + i * 1000}, ${10_999 + i * 1000}) g`);
        await c.query('CHECKPOINT');
        at.push((await c.query<{ l: string }>('SELECT redo_lsn::text AS l FROM pg_control_checkpoint()')).rows[0].l);
      }
    });
    const trace = await readPageTrace(server, db, from, await lsn(), await withClient(server, db, 'test', blocksBefore));
    expect(trace.checkpointRecords).toBe(3);
    // Between the records as between the redo pointers (each record follows its redo pointer by the same few bytes).
    const bytes = (l: string) => {
      const [hi, lo] = l.split('/').map((x) => parseInt(x, 16));
      return hi * 2 ** 32 + lo;
    };
    expect(trace.walPerCheckpointBytes!).toBeCloseTo((bytes(at[2]) - bytes(at[0])) / 2, -3);
  });

  it('says why when the WAL asked for is no longer there', async () => {
    await expect(readPageTrace(server, db, '0/10', '0/20', new Map())).rejects.toThrow(/WAL|segment|removed|record/i);
  });
});
