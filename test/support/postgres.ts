/**
 * Real PostgreSQL 15 for tests: an embedded server started by the test
 * itself, and seeded template databases cloned per test.
 */
import { createOwnedDatabase } from '../../harness/postgres/databases.ts';
import { EmbeddedPostgresServer, type StartedEmbeddedPostgres } from '../../harness/postgres/embedded-server.ts';
import type { ServerSettings } from '../../harness/postgres/started-postgres.ts';
import { withClient } from '../../harness/postgres/with-client.ts';
import { REDUCED_WAL_SERVER } from '../../harness/scenario/scenario-schema.ts';
import type { DatasetSpec } from '../../seed/dataset-plan.ts';
import { seedDatabase, type SeedSummary } from '../../seed/seeder.ts';

/** Settings close to the headline scenario, small enough for tests. */
export const TEST_SETTINGS: ServerSettings = { ...REDUCED_WAL_SERVER, autovacuum: 'off' };

export async function startTestServer(settings: ServerSettings = TEST_SETTINGS): Promise<StartedEmbeddedPostgres> {
  return new EmbeddedPostgresServer({ settings }).start();
}

/** A small dataset with every edge case present (rate 0.3). */
const SMALL_DATASET: DatasetSpec = { seed: 7, chats: 120, edgeCaseRate: 0.3, sharedRate: 0.05 };

/** Create database `name` and seed it; returns the seed summary. */
export async function seedTemplate(server: StartedEmbeddedPostgres, name: string, dataset: DatasetSpec = SMALL_DATASET): Promise<SeedSummary> {
  await withClient(server, 'postgres', 'test-admin', (admin) => createOwnedDatabase(admin, name));
  return seedDatabase({ server, database: name, dataset, streams: 2 });
}

/** A fresh copy of `template` named `name`. */
export async function cloneDatabase(server: StartedEmbeddedPostgres, template: string, name: string): Promise<void> {
  await withClient(server, 'postgres', 'test-admin', (admin) => createOwnedDatabase(admin, name, { template }));
}
