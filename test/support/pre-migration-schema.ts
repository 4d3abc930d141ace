/**
 * The pre-migration schema as Open WebUI has it at 374d2f66af06, written out
 * by hand, and a reader of what a database actually holds: tests compare the
 * two.
 */
import type { Sql } from '../../harness/postgres/sql.ts';

export const EXPECTED_CHAT_COLUMNS = [
  ['id', 'character varying', 'NO', null],
  ['user_id', 'character varying', 'YES', null],
  ['title', 'text', 'YES', null],
  ['chat', 'json', 'YES', null],
  ['created_at', 'bigint', 'YES', null],
  ['updated_at', 'bigint', 'YES', null],
  ['share_id', 'text', 'YES', null],
  ['archived', 'boolean', 'YES', 'false'],
  ['pinned', 'boolean', 'YES', 'false'],
  ['meta', 'json', 'YES', "'{}'::json"],
  ['folder_id', 'text', 'YES', null],
];

export const EXPECTED_CHAT_INDEXES = [
  'CREATE INDEX folder_id_idx ON public.chat USING btree (folder_id)',
  'CREATE INDEX folder_id_user_id_idx ON public.chat USING btree (folder_id, user_id)',
  'CREATE INDEX updated_at_user_id_idx ON public.chat USING btree (updated_at, user_id)',
  'CREATE INDEX user_id_archived_idx ON public.chat USING btree (user_id, archived)',
  'CREATE INDEX user_id_pinned_idx ON public.chat USING btree (user_id, pinned)',
  'CREATE UNIQUE INDEX chat_pkey ON public.chat USING btree (id)',
  'CREATE UNIQUE INDEX chat_share_id_key ON public.chat USING btree (share_id)',
];

export async function readChatSchema(c: Sql) {
  const columns = (
    await c.query(
      `SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns
       WHERE table_schema = 'public' AND table_name = 'chat' ORDER BY ordinal_position`,
    )
  ).rows.map((r) => [r.column_name, r.data_type, r.is_nullable, r.column_default]);
  const indexes = (await c.query(`SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'chat' ORDER BY indexdef`)).rows.map((r) => r.indexdef as string);
  const constraints = (await c.query(`SELECT conname, contype FROM pg_constraint WHERE conrelid = 'public.chat'::regclass ORDER BY conname`)).rows.map((r) => `${r.conname}:${r.contype}`);
  const stamp = (await c.query('SELECT version_num FROM alembic_version')).rows.map((r) => r.version_num as string);
  const storage = (await c.query(`SELECT attstorage FROM pg_attribute WHERE attrelid = 'public.chat'::regclass AND attname = 'chat'`)).rows[0]?.attstorage as string;
  return { columns, indexes, constraints, stamp, storage };
}
