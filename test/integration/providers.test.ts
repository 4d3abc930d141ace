/**
 * PostgreSQL 15 on demand from each provider, for real: the server version,
 * the requested max_wal_size as SHOW reports it, the pre-migration schema
 * and the alembic stamp.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../harness/errors.ts';
import { EmbeddedPostgresServer, type StartedEmbeddedPostgres } from '../../harness/postgres/embedded-server.ts';
import type { StartedPostgres } from '../../harness/postgres/started-postgres.ts';
import { containerRuntimeAnswers } from '../../harness/postgres/testcontainers-server.ts';
import { withClient } from '../../harness/postgres/with-client.ts';
import { readSettings } from '../../harness/run.ts';
import { prepareData, type PrepareOptions } from '../../harness/run/prepare-data.ts';
import { EXPECTED_CHAT_COLUMNS, EXPECTED_CHAT_INDEXES, readChatSchema } from '../support/pre-migration-schema.ts';

const SETTINGS = { max_wal_size: '48MB', min_wal_size: '32MB', wal_level: 'replica', shared_buffers: '64MB', log_checkpoints: 'on' };
const DATASET = { seed: 3, chats: 6, edgeCaseRate: 0, sharedRate: 0 };

function options(provider: PrepareOptions['provider'], extra: Partial<PrepareOptions> = {}): PrepareOptions {
  return { provider, settings: SETTINGS, dataset: DATASET, seedStreams: 1, cacheDir: null, fresh: false, log: () => undefined, ...extra };
}

async function expectPreMigration(server: StartedPostgres, template: string): Promise<void> {
  expect(server.version).toMatch(/^15\./);
  const settings = await readSettings(server, Object.keys(SETTINGS));
  expect(settings.max_wal_size).toBe('48MB');
  expect(settings.wal_level).toBe('replica');
  await withClient(server, template, 'test', async (c) => {
    const schema = await readChatSchema(c);
    expect(schema.columns).toEqual(EXPECTED_CHAT_COLUMNS);
    expect(schema.indexes).toEqual(EXPECTED_CHAT_INDEXES);
    expect(schema.constraints).toEqual(['chat_pkey:p', 'chat_share_id_key:u']);
    expect(schema.stamp).toEqual(['374d2f66af06']);
    expect(schema.storage).toBe('x');
    expect(Number((await c.query('SELECT count(*) AS n FROM chat')).rows[0].n)).toBe(6);
  });
}

describe('embedded provider', () => {
  it('starts PostgreSQL 15 with the requested settings and the pre-migration schema', async () => {
    const p = await prepareData(options('embedded'));
    try {
      expect(p.server.provider).toBe('embedded');
      await expectPreMigration(p.server, p.template);
    } finally {
      await p.server.stop();
    }
  });
});

const docker = await containerRuntimeAnswers(5000);
const requireDocker = !!process.env.OWUI_REQUIRE_DOCKER;

describe.skipIf(!docker.ok && !requireDocker)('testcontainers provider', () => {
  it('starts postgres:15 in a container with settings as -c flags', async () => {
    expect(docker.ok, `a container runtime must answer under CI: ${docker.detail}`).toBe(true);
    const p = await prepareData(options('testcontainers'));
    try {
      expect(p.server.provider).toBe('testcontainers');
      await expectPreMigration(p.server, p.template);
    } finally {
      await p.server.stop();
    }
  });
});

describe('url provider', () => {
  let host: StartedEmbeddedPostgres;
  beforeAll(async () => {
    host = await new EmbeddedPostgresServer({ settings: SETTINGS }).start();
  });
  afterAll(async () => {
    await host?.stop();
  });

  it('works in a database of its own on an existing server, and reuses it next time', async () => {
    const first = await prepareData(options('url', { databaseUrl: host.url('postgres') }));
    expect(first.server.provider).toBe('url');
    expect(first.server.owned).toBe(false);
    expect(first.template).toMatch(/^owui_harness_tpl_/);
    await expectPreMigration(first.server, first.template);
    expect(first.reused).toBe('no');
    const again = await prepareData(options('url', { databaseUrl: host.url('postgres') }));
    expect(again.template).toBe(first.template);
    expect(again.reused).toBe('database');
    // Nothing was created in the database the URL names.
    await withClient(host, 'postgres', 'test', async (c) => {
      expect((await c.query("SELECT to_regclass('public.chat') AS t")).rows[0].t).toBeNull();
    });
  });

  it('refuses a database holding a chat table it did not create, unless --force, and never touches it', async () => {
    await withClient(host, 'postgres', 'test', (c) => c.query('CREATE DATABASE someones_openwebui'));
    await withClient(host, 'someones_openwebui', 'test', async (d) => {
      await d.query("CREATE TABLE chat (id varchar PRIMARY KEY, chat json); INSERT INTO chat VALUES ('keep-me', '{}')");
      await expect(prepareData(options('url', { databaseUrl: host.url('someones_openwebui') }))).rejects.toThrow(UsageError);
      await expect(prepareData(options('url', { databaseUrl: host.url('someones_openwebui') }))).rejects.toThrow(/--from-database|--force/);
      const forced = await prepareData(options('url', { databaseUrl: host.url('someones_openwebui'), force: true }));
      expect(forced.template).not.toBe('someones_openwebui');
      expect((await d.query('SELECT id, chat::text AS chat FROM chat')).rows).toEqual([{ id: 'keep-me', chat: '{}' }]);
    });
  });
});
