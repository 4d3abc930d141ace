/**
 * The headline reproduction of Open WebUI issue #23273, scaled to a laptop:
 * 68 GB and a 55-minute platform limit become about 1 GB and a deadline of
 * half the time this machine needs for one uninterrupted chunked backfill,
 * with `max_wal_size` reduced to 64 MB so checkpoints (and the full-page
 * images after each) come as often, per byte written, as on the real server.
 */
import { defineScenario } from '../harness/scenario/scenario-schema.ts';

export default defineScenario({
  name: 'issue-23273',
  description: 'Migration 8452d01d26d7 on ~1 GB of incompressible chats, max_wal_size=64MB, a platform deadline of 0.5x the calibrated backfill, up to 3 restarts',
  dataset: { size: '1GB', seed: 23273, edgeCaseRate: 0.01, sharedRate: 0.03 },
  server: {
    settings: {
      max_wal_size: '64MB',
      min_wal_size: '32MB',
      wal_level: 'replica',
      shared_buffers: '128MB',
      checkpoint_timeout: '5min',
      log_checkpoints: 'on',
    },
  },
  strategies: ['original', 'chunked'],
  faults: ['deadline=0.5x', 'restarts=3'],
  calibration: { strategy: 'chunked' },
});
