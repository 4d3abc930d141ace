/**
 * Hazard: the fix loses its own stamp. It commits on Alembic's connection;
 * under Open WebUI's env.py (one transaction around the upgrade) the
 * `alembic_version` update after its last commit, and every later revision
 * of the same start, are rolled back without an error. Every start finds
 * 374d2f66af06 and runs the whole backfill again (re-reading every chat,
 * inserting nothing). With a transaction per migration, as the fix's pull
 * request sets, and a revision after it (an upgrade to head), the next
 * revision's transaction commits the stamp: it is stamped once.
 */
import { defineScenario, REDUCED_WAL_SERVER } from '../harness/scenario/scenario-schema.ts';

export default defineScenario({
  name: 'lost-stamp',
  description: "The fix under Open WebUI's one-transaction env.py, restarted: every start finds 374d2f66af06 and runs the backfill again; with a transaction per migration and a revision after it, stamped once",
  dataset: { size: '128MB', seed: 42, edgeCaseRate: 0.01, sharedRate: 0.03 },
  server: { settings: { ...REDUCED_WAL_SERVER } },
  strategies: [
    { strategy: 'chunked', as: 'chunked (single)', alembic: { shape: 'single', target: 'head' } },
    { strategy: 'chunked', as: 'chunked (per-migration)', alembic: { shape: 'per-migration', target: 'head' } },
  ],
  faults: ['restarts=2'],
});
