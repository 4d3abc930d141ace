/** A quick look: ~200 MB, every built-in strategy, no faults. */
import { defineScenario } from '../harness/scenario/scenario-schema.ts';

export default defineScenario({
  name: 'small',
  description: 'Every strategy on ~200 MB of chats, max_wal_size=64MB, no faults',
  dataset: { size: '200MB', seed: 1, edgeCaseRate: 0.01, sharedRate: 0.03 },
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
  strategies: ['original', 'chunked', 'setbased'],
});
