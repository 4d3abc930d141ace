/**
 * The upgrade path, revision by revision (`harness upgrade`, `gate --from`):
 * the headline's server (max_wal_size=64MB, shared_buffers=128MB), about
 * 256 MB of chats with every other table seeded in proportion, and the
 * per-revision limits. Why these limits:
 * - 30 s per GB of the tables a revision touches: the 68 GB upgrade
 *   was cut off after 55 minutes, about 48 s/GB for 8452d01d26d7 alone; a
 *   revision at 30 s/GB still takes 34 minutes at that size, the most one
 *   revision of a start-up upgrade should cost on a platform with such a limit.
 * - WAL amplification 2: a revision that writes more than twice the bytes of
 *   the tables it touches rewrites them more than once (full-page images
 *   after each checkpoint included), which at 68 GB is replica lag and
 *   pg_wal growth a small server does not absorb.
 * - 5 s for a write to chat, chat_message, user or file: longer and Open
 *   WebUI's requests time out while the upgrade runs (the application waits
 *   on locks without a timeout).
 * - 1 GB of client memory: a revision that reads whole tables into Python
 *   grows with the data; at 256 MB of chats 1 GB means it would need ~270 GB
 *   at 68 GB.
 * Revisions quicker than 1 s or writing less than 16 MB of WAL are too small
 * to judge per GB. `strategies` is what gate/validate run without --from.
 */
import { defineScenario, REDUCED_WAL_SERVER } from '../harness/scenario/scenario-schema.ts';

export default defineScenario({
  name: 'upgrade-path',
  description: 'An Open WebUI upgrade path revision by revision: ~256 MB of chats and every other table in proportion, max_wal_size=64MB, limits per revision',
  dataset: { size: '256MB', seed: 23273, edgeCaseRate: 0.01, sharedRate: 0.03 },
  server: { settings: { ...REDUCED_WAL_SERVER } },
  strategies: ['chunked'],
  upgradeThresholds: { secondsPerGb: 30, walAmplification: 2, maxBlockedWrite: '5s', clientPeakMemory: '1GB', resumable: true, judgeFrom: '1s', judgeWalFrom: '16MB' },
});
