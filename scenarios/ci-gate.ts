/**
 * The CI regression gate: small enough for about two minutes on two cores,
 * large enough that the single-transaction migration's write stall and WAL
 * amplification show. Thresholds: WAL amplification <= 1.2, no write to
 * `chat` stalled over 1 s, resumable after a kill, client memory <= 2 GB.
 */
import { defineScenario, REDUCED_WAL_SERVER } from '../harness/scenario/scenario-schema.ts';

export default defineScenario({
  name: 'ci-gate',
  description: 'Regression gate: ~128 MB of chats, max_wal_size=64MB; checks completion, rows, WAL amplification, write stalls, resumability and memory',
  dataset: { size: '128MB', seed: 42, edgeCaseRate: 0.02, sharedRate: 0.03 },
  server: {
    settings: { ...REDUCED_WAL_SERVER },
  },
  strategies: ['chunked'],
  faults: ['deadline=5min'],
  thresholds: { walAmplification: 1.2, maxWriteStall: '1s', clientPeakMemory: '2GB', resumable: true },
});
