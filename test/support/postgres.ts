/**
 * Real PostgreSQL 15 for tests: an embedded server started by the test
 * itself, and seeded template databases cloned per test.
 */
import { EmbeddedPostgresServer, type StartedEmbeddedPostgres } from '../../harness/postgres/embedded-server.ts';
import { createOwnedDatabase } from '../../harness/postgres/databases.ts';
import { closeQuietly, connect, type Client } from '../../harness/postgres/sql.ts';
import { seedDatabase, type SeedSummary } from '../../seed/seeder.ts';
import type { DatasetSpec } from '../../seed/dataset-plan.ts';
import type { ServerSettings } from '../../harness/postgres/started-postgres.ts';
import { REDUCED_WAL_SERVER } from '../../harness/scenario/scenario-schema.ts';

/** Settings close to the headline scenario, small enough for tests. */
export const TEST_SETTINGS: ServerSettings = { ...REDUCED_WAL_SERVER, autovacuum: 'off' };

export async function startTestServer(settings: ServerSettings = TEST_SETTINGS): Promise<StartedEmbeddedPostgres> {
  return new EmbeddedPostgresServer({ settings }).start();
}

/** A small dataset with every edge case present (rate 0.3). */
export const SMALL_DATASET: DatasetSpec = { seed: 7, chats: 120, edgeCaseRate: 0.3, sharedRate: 0.05 };

/** Create database `name` and seed it; returns the seed summary. */
export async function seedTemplate(server: StartedEmbeddedPostgres, name: string, dataset: DatasetSpec = SMALL_DATASET): Promise<SeedSummary> {
  const admin = await connect(server, 'postgres', 'test-admin');
  try {
    await createOwnedDatabase(admin, name);
  } finally {
    await closeQuietly(admin);
  }
  return seedDatabase({ server, database: name, dataset, streams: 2 });
}

/** A fresh copy of `template` named `name`. */
export async function cloneDatabase(server: StartedEmbeddedPostgres, template: string, name: string): Promise<void> {
  const admin = await connect(server, 'postgres', 'test-admin');
  try {
    await createOwnedDatabase(admin, name, { template });
  } finally {
    await closeQuietly(admin);
  }
}

export async function withClient<T>(server: StartedEmbeddedPostgres, database: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = await connect(server, database, 'test');
  try {
    return await fn(c);
  } finally {
    await closeQuietly(c);
  }
}
