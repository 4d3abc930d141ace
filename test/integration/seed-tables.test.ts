/**
 * seedOtherTables against a real PostgreSQL 15: a hand-written schema next
 * to a seeded `chat` (known Open WebUI tables, chat_message, an unknown
 * table of many types, a table whose CHECK the seeder cannot know, a table
 * already holding rows), seeded twice with one seed and compared with what
 * the set-based port writes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyDigestSql, checksumSql } from '../../harness/openwebui/row-digest.ts';
import { CHAT_MESSAGE_WITH_FK_DDL, MIGRATED_CHATS_WHERE } from '../../harness/openwebui/schema.ts';
import type { StartedEmbeddedPostgres } from '../../harness/postgres/embedded-server.ts';
import { withClient } from '../../harness/postgres/with-client.ts';
import { setbased } from '../../harness/strategies/setbased/setbased.ts';
import { seedOtherTables, type TableSeedReport } from '../../harness/upgrade/seed-tables.ts';
import type { SeedSummary } from '../../seed/seeder.ts';
import { directContext } from '../support/direct-context.ts';
import { cloneDatabase, seedTemplate, startTestServer } from '../support/postgres.ts';

const TEMPLATE = 'tpl_seed_tables';
/** Few, small chats with edge cases (some messages upstream skips). */
const DATASET = { seed: 31, chats: 60, edgeCaseRate: 0.3, sharedRate: 0.05, sizeScale: 0.05 };

const SCHEMA = [
  `CREATE TABLE "user" (id varchar NOT NULL PRIMARY KEY, name varchar, email varchar, role varchar, profile_image_url text,
     last_active_at bigint, updated_at bigint, created_at bigint, api_key varchar UNIQUE, settings json, info json, oauth_sub text UNIQUE,
     username varchar(50))`,
  'CREATE TABLE auth (id varchar NOT NULL PRIMARY KEY, email varchar, password text, active boolean)',
  'CREATE TABLE file (id varchar NOT NULL PRIMARY KEY, user_id varchar, hash text, filename text, path text, data json, meta json, access_control json, created_at bigint, updated_at bigint)',
  `CREATE TABLE folder (id text NOT NULL, parent_id text, user_id text NOT NULL, name text NOT NULL, items json, meta json, data json,
     is_expanded boolean NOT NULL, created_at bigint NOT NULL, updated_at bigint NOT NULL, PRIMARY KEY (id, user_id))`,
  'CREATE TABLE tag (id varchar NOT NULL, name varchar, user_id varchar NOT NULL, meta json, PRIMARY KEY (id, user_id))',
  CHAT_MESSAGE_WITH_FK_DDL,
  'CREATE TABLE model (id text NOT NULL PRIMARY KEY, user_id text, name text, params json, meta json, created_at bigint, updated_at bigint)',
  "INSERT INTO model (id, user_id, name, params, meta) VALUES ('kept-model', 'someone', 'Kept', '{}', '{}')",
  "CREATE TYPE mood AS ENUM ('calm', 'busy')",
  `CREATE TABLE widget (
     id serial PRIMARY KEY, owner varchar NOT NULL REFERENCES "user" (id), code varchar(12) NOT NULL UNIQUE,
     label text NOT NULL, amount integer NOT NULL, big bigint NOT NULL, small smallint NOT NULL, ratio double precision NOT NULL,
     price numeric(10,2) NOT NULL, flag boolean NOT NULL, doc jsonb NOT NULL, raw json NOT NULL, ref uuid NOT NULL,
     day date NOT NULL, at timestamptz NOT NULL, seen_at bigint NOT NULL, blob bytea NOT NULL, tags text[] NOT NULL,
     state mood NOT NULL, note text, kind text NOT NULL DEFAULT 'plain')`,
  'CREATE TABLE rating (id text PRIMARY KEY, score integer NOT NULL CHECK (score < 0))',
];

/** The widget columns the seeder fills by type alone (`owner` comes from the foreign key, `id` from its sequence). */
const WIDGET_GENERIC = ['code', 'label', 'amount', 'big', 'small', 'ratio', 'price', 'flag', 'doc', 'raw', 'ref', 'day', 'at', 'seen_at', 'blob', 'tags', 'state', 'note', 'kind'];

let server: StartedEmbeddedPostgres;
let seeded: SeedSummary;
const reports = new Map<string, TableSeedReport[]>();

async function prepare(database: string): Promise<TableSeedReport[]> {
  await cloneDatabase(server, TEMPLATE, database);
  return withClient(server, database, 'test', async (c) => {
    for (const ddl of SCHEMA) await c.query(ddl);
    return seedOtherTables(c, { seed: 5 });
  });
}

const one = <T>(database: string, sql: string): Promise<T> => withClient(server, database, 'test', async (c) => (await c.query(sql)).rows[0] as T);
const reportOf = (database: string, table: string) => reports.get(database)!.find((r) => r.table === table)!;

beforeAll(async () => {
  server = await startTestServer();
  seeded = await seedTemplate(server, TEMPLATE, DATASET);
  reports.set('st_a', await prepare('st_a'));
  reports.set('st_b', await prepare('st_b'));
});
afterAll(async () => {
  await server?.stop();
});

describe('seedOtherTables', () => {
  it('reports every public table but chat and alembic_version', () => {
    expect(reports.get('st_a')!.map((r) => r.table).sort()).toEqual(['auth', 'chat_message', 'file', 'folder', 'model', 'rating', 'tag', 'user', 'widget']);
  });

  it('gives every chat owner a user row and an auth row with the same e-mail', async () => {
    const r = await one<{ owners: number; users: number; missing: number; auth: number; mismatched: number }>(
      'st_a',
      `SELECT (SELECT count(DISTINCT user_id)::int FROM chat WHERE ${MIGRATED_CHATS_WHERE}) AS owners,
              (SELECT count(*)::int FROM "user") AS users,
              (SELECT count(*)::int FROM (SELECT DISTINCT user_id FROM chat WHERE ${MIGRATED_CHATS_WHERE}) c
                 WHERE NOT EXISTS (SELECT 1 FROM "user" u WHERE u.id = c.user_id)) AS missing,
              (SELECT count(*)::int FROM auth) AS auth,
              (SELECT count(*)::int FROM auth a JOIN "user" u USING (id) WHERE a.email IS DISTINCT FROM u.email) AS mismatched`,
    );
    expect(r.owners).toBeGreaterThan(1);
    expect(r).toEqual({ owners: r.owners, users: r.owners, missing: 0, auth: r.owners, mismatched: 0 });
    expect(reportOf('st_a', 'user')).toMatchObject({ how: 'realistic', rows: r.owners, genericColumns: [] });
  });

  it('fills known tables in their proportions, with realistic, incompressible payloads and links to existing rows', async () => {
    const r = await one<{ chats: number; files: number; orphans: number; min_content: number; compressed: number; raw: number; named: number }>(
      'st_a',
      `SELECT (SELECT count(*)::int FROM chat WHERE ${MIGRATED_CHATS_WHERE}) AS chats, (SELECT count(*)::int FROM file) AS files,
              (SELECT count(*)::int FROM (SELECT user_id FROM file UNION ALL SELECT user_id FROM folder UNION ALL SELECT user_id FROM tag) x
                 WHERE NOT EXISTS (SELECT 1 FROM "user" u WHERE u.id = x.user_id)) AS orphans,
              (SELECT min(length(data->>'content'))::int FROM file) AS min_content,
              (SELECT sum(pg_column_size(data))::int FROM file) AS compressed, (SELECT sum(octet_length(data::text))::int FROM file) AS raw,
              (SELECT count(*)::int FROM file WHERE meta->>'name' = filename AND meta->>'content_type' IS NOT NULL AND (meta->>'size')::int > 0) AS named`,
    );
    expect(r.files).toBe(Math.round(r.chats * 0.5));
    expect(r.orphans).toBe(0);
    expect(r.min_content).toBeGreaterThan(1000);
    expect(r.compressed / r.raw).toBeGreaterThan(0.9);
    expect(r.named).toBe(r.files);
    for (const t of ['file', 'folder', 'tag', 'auth']) expect(reportOf('st_a', t)).toMatchObject({ how: 'realistic', genericColumns: [] });
    expect(reportOf('st_a', 'file').bytes).toBeGreaterThan(r.raw / 2);
  });

  it('seeds an unknown table by type: NOT NULL, UNIQUE, lengths, defaults and its foreign key all hold', async () => {
    expect(reportOf('st_a', 'widget')).toMatchObject({ how: 'generic', genericColumns: WIDGET_GENERIC });
    const users = reportOf('st_a', 'user').rows;
    const r = await one<{ n: number; codes: number; long_codes: number; plain: number; owners: number; nulls: number }>(
      'st_a',
      `SELECT count(*)::int AS n, count(DISTINCT code)::int AS codes, count(*) FILTER (WHERE length(code) > 12)::int AS long_codes,
              count(*) FILTER (WHERE kind = 'plain')::int AS plain, count(*) FILTER (WHERE owner IN (SELECT id FROM "user"))::int AS owners,
              count(*) FILTER (WHERE num_nulls(owner, code, label, amount, big, small, ratio, price, flag, doc, raw, ref, day, at, seen_at, blob, tags, state) > 0)::int AS nulls
       FROM widget`,
    );
    expect(r).toEqual({ n: users, codes: users, long_codes: 0, plain: users, owners: users, nulls: 0 });
  });

  it('reports a table it cannot seed with 0 rows and a note, without stopping', () => {
    expect(reportOf('st_a', 'rating')).toMatchObject({ how: 'generic', rows: 0, note: expect.stringMatching(/check constraint/i) });
  });

  it('keeps a table that already holds rows', async () => {
    expect(reportOf('st_a', 'model')).toMatchObject({ how: 'kept', rows: 1 });
    expect(await one('st_a', 'SELECT id, name FROM model')).toEqual({ id: 'kept-model', name: 'Kept' });
  });

  it('derives chat_message from chat: the rows the set-based port writes', async () => {
    await cloneDatabase(server, TEMPLATE, 'st_port');
    await setbased.run(directContext(server, 'st_port'));
    const sql = `SELECT count(*)::int AS n, ${checksumSql(bodyDigestSql('m'))} AS checksum FROM chat_message m`;
    const port = await one<{ n: number; checksum: string }>('st_port', sql);
    const mine = await one<{ n: number; checksum: string }>('st_a', sql);
    expect(mine).toEqual(port);
    expect(mine).toEqual({ n: seeded.expectedRows, checksum: seeded.checksum });
    expect(reportOf('st_a', 'chat_message')).toMatchObject({ how: 'derived', rows: seeded.expectedRows });
  });

  it('is deterministic: the same seed gives the same tables', async () => {
    const sql = (t: string, key: string) => `SELECT md5(string_agg(t::text, E'\\n' ORDER BY ${key})) AS h FROM ${t} t`;
    for (const [t, key] of [
      ['"user"', 'id'],
      ['file', 'id'],
      ['folder', 'id, user_id'],
      ['widget', 'id'],
    ]) {
      const a = await one<{ h: string }>('st_a', sql(t, key));
      expect(await one<{ h: string }>('st_b', sql(t, key))).toEqual(a);
    }
    expect(reports.get('st_b')!.map(({ table, rows }) => ({ table, rows }))).toEqual(reports.get('st_a')!.map(({ table, rows }) => ({ table, rows })));
  });
});
