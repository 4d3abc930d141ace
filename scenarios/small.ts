/** A quick look: ~200 MB, every built-in strategy, no faults. */
import { defineScenario, REDUCED_WAL_SERVER } from '../harness/scenario/scenario-schema.ts';

export default defineScenario({
  name: 'small',
  description: 'Every strategy on ~200 MB of chats, max_wal_size=64MB, no faults',
  dataset: { size: '200MB', seed: 1, edgeCaseRate: 0.01, sharedRate: 0.03 },
  server: {
    settings: { ...REDUCED_WAL_SERVER },
  },
  strategies: ['original', 'chunked', 'setbased'],
});
