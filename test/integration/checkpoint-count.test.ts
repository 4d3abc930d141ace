/**
 * The sampler counts checkpoints by the redo pointer they leave in
 * pg_control, one per checkpoint, beside pg_stat_bgwriter's counters (which
 * over a long load also count requests that began no checkpoint of their
 * own). Here the checkpoints are the test's own, so the count is exact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerSampler, lsnDiff } from '../../harness/measure/server-sampler.ts';
import type { StartedEmbeddedPostgres } from '../../harness/postgres/embedded-server.ts';
import { withClient } from '../../harness/postgres/with-client.ts';
import { startTestServer } from '../support/postgres.ts';

let server: StartedEmbeddedPostgres;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('checkpoints counted by the redo pointer they leave', () => {
  it('counts each checkpoint completed while sampling once, and none before it began', async () => {
    const db = server.maintenanceDatabase;
    await withClient(server, db, 'test-admin', async (c) => {
      await c.query('CREATE TABLE ckpt_probe (n int)');
      // One before sampling begins: not counted.
      await c.query('CHECKPOINT');
    });
    const t0 = performance.now();
    const sampler = new ServerSampler({ server, database: db, intervalMs: 50, external: false, clock: () => performance.now() - t0 });
    const start = await sampler.begin();
    const redo: string[] = [];
    await withClient(server, db, 'test-admin', async (c) => {
      for (let i = 0; i < 3; i++) {
        // WAL between them, so each is a checkpoint of its own.
        await c.query('INSERT INTO ckpt_probe SELECT generate_series(1, 1000)');
        await c.query('CHECKPOINT');
        redo.push((await c.query('SELECT redo_lsn::text AS r FROM pg_control_checkpoint()')).rows[0].r);
        await pause(120);
      }
      await c.query('DROP TABLE ckpt_probe');
    });
    const { end } = await sampler.end();
    expect(sampler.checkpointsCompleted()).toBe(3);
    // Their spacing: two intervals, from the first one's redo pointer to the last one's.
    expect(new Set(redo).size).toBe(3);
    expect(sampler.checkpointIntervals()).toEqual({ intervals: 2, walBytes: lsnDiff(redo[2], redo[0]) });
    expect(sampler.checkpointIntervals()!.walBytes).toBeGreaterThan(0);
    // pg_stat_bgwriter saw the three requests too (at least: it may count more, never fewer).
    expect(end.checkpointsRequested - start.checkpointsRequested).toBeGreaterThanOrEqual(3);
  });
});
