/**
 * Hazard: an interrupted fix, then the current release. The fix is killed
 * at half the rows (its table holds the pages it committed: primary key
 * only, no indexes, no foreign key); the next start runs v0.9.6, which
 * finds `chat_message` there, returns without doing anything and is stamped
 * all the same. Exit status 0, no error: the stamp is advanced, the missing
 * rows are missing for good (no later start runs the migration again), and
 * the table lacks its seven indexes and its foreign key. Silent data loss.
 */
import { defineScenario, REDUCED_WAL_SERVER } from '../harness/scenario/scenario-schema.ts';

export default defineScenario({
  name: 'mixed-upgrade',
  description: 'The fix killed at half the rows, then the current release (v0.9.6) at the next start: stamped, exit 0, the rest of chat_message missing for good',
  dataset: { size: '128MB', seed: 42, edgeCaseRate: 0.01, sharedRate: 0.03 },
  server: { settings: { ...REDUCED_WAL_SERVER } },
  strategies: ['chunked>v0.9.6'],
  faults: ['kill-at=0.5', 'restarts=1'],
});
