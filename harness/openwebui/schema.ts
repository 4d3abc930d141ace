/**
 * Open WebUI's schema around migration 8452d01d26d7: the `chat` table as it
 * stands at revision 374d2f66af06, and the `chat_message` table the migration
 * creates. Every DDL statement the harness issues for these tables is here.
 */

/** The revision the seeded database is stamped at. */
export const REVISION_BEFORE = '374d2f66af06';
/** The revision a successful migration leaves. */
export const REVISION_AFTER = '8452d01d26d7';

/** `chat`'s columns exactly as Open WebUI has them before the migration. */
export const CHAT_TABLE_DDL = `CREATE TABLE chat (
    id varchar NOT NULL,
    user_id varchar,
    title text,
    chat json,
    created_at bigint,
    updated_at bigint,
    share_id text,
    archived boolean DEFAULT false,
    pinned boolean DEFAULT false,
    meta json DEFAULT '{}',
    folder_id text
  )`;

/** Its constraints, added after a bulk load (cheaper than maintaining them row by row). */
export const CHAT_CONSTRAINT_DDL = [
  'ALTER TABLE chat ADD CONSTRAINT chat_pkey PRIMARY KEY (id)',
  'ALTER TABLE chat ADD CONSTRAINT chat_share_id_key UNIQUE (share_id)',
];

/** Its five indexes. */
export const CHAT_INDEX_DDL = [
  'CREATE INDEX IF NOT EXISTS folder_id_idx ON chat (folder_id)',
  'CREATE INDEX IF NOT EXISTS user_id_pinned_idx ON chat (user_id, pinned)',
  'CREATE INDEX IF NOT EXISTS user_id_archived_idx ON chat (user_id, archived)',
  'CREATE INDEX IF NOT EXISTS updated_at_user_id_idx ON chat (updated_at, user_id)',
  'CREATE INDEX IF NOT EXISTS folder_id_user_id_idx ON chat (folder_id, user_id)',
];

export const ALEMBIC_VERSION_DDL = [
  `CREATE TABLE alembic_version (
    version_num varchar(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
  )`,
  `INSERT INTO alembic_version (version_num) VALUES ('${REVISION_BEFORE}')`,
];

/** The columns of `chat` a COPY writes, in order. */
export const CHAT_COPY_COLUMNS = ['id', 'user_id', 'title', 'chat', 'created_at', 'updated_at', 'share_id', 'archived', 'pinned', 'meta', 'folder_id'] as const;

/**
 * `chat_message`'s columns. `done` has a server default only in the fix's
 * hand-written CREATE TABLE: upstream's `op.create_table` (v0.8.0, v0.8.12)
 * gives `done` a client-side default (`default=True`), which emits no
 * DEFAULT in the DDL.
 */
const chatMessageColumnsDdl = (doneDefault: boolean) => `
    id text NOT NULL,
    chat_id text NOT NULL,
    user_id text,
    role text NOT NULL,
    parent_id text,
    content json,
    output json,
    model_id text,
    files json,
    sources json,
    embeds json,
    done boolean${doneDefault ? ' DEFAULT true' : ''},
    status_history json,
    error json,
    usage json,
    created_at bigint,
    updated_at bigint,
    CONSTRAINT chat_message_pkey PRIMARY KEY (id)`;

export const FK_NAME = 'chat_message_chat_id_fkey';

/** Upstream's `op.create_table`: primary key and foreign key in one statement. */
export const CHAT_MESSAGE_WITH_FK_DDL = `CREATE TABLE chat_message (${chatMessageColumnsDdl(false)},
    CONSTRAINT ${FK_NAME} FOREIGN KEY (chat_id) REFERENCES chat (id) ON DELETE CASCADE
)`;

/** The fix's first step: the table with its primary key only. */
export const CHAT_MESSAGE_PK_ONLY_DDL = `CREATE TABLE IF NOT EXISTS chat_message (${chatMessageColumnsDdl(true)}
)`;

/** Created with the table upstream. */
export const SINGLE_COLUMN_INDEXES: [name: string, columns: string][] = [
  ['ix_chat_message_chat_id', 'chat_id'],
  ['ix_chat_message_user_id', 'user_id'],
  ['ix_chat_message_model_id', 'model_id'],
  ['ix_chat_message_created_at', 'created_at'],
];

/** Created right after the table upstream. */
export const COMPOSITE_INDEXES: [name: string, columns: string][] = [
  ['chat_message_chat_parent_idx', 'chat_id, parent_id'],
  ['chat_message_model_created_idx', 'model_id, created_at'],
  ['chat_message_user_created_idx', 'user_id, created_at'],
];

export const CHAT_MESSAGE_INDEXES = [...SINGLE_COLUMN_INDEXES, ...COMPOSITE_INDEXES];

export function createIndexSql([name, columns]: [string, string], ifNotExists = false): string {
  return `CREATE INDEX ${ifNotExists ? 'IF NOT EXISTS ' : ''}${name} ON chat_message (${columns})`;
}

export const ADD_FK_NOT_VALID_SQL = `ALTER TABLE chat_message ADD CONSTRAINT ${FK_NAME} FOREIGN KEY (chat_id) REFERENCES chat (id) ON DELETE CASCADE NOT VALID`;
export const DELETE_ORPHANS_SQL = 'DELETE FROM chat_message m WHERE NOT EXISTS (SELECT 1 FROM chat c WHERE c.id = m.chat_id)';
export const VALIDATE_FK_SQL = `ALTER TABLE chat_message VALIDATE CONSTRAINT ${FK_NAME}`;

export const STAMP_AFTER_SQL = `UPDATE alembic_version SET version_num = '${REVISION_AFTER}' WHERE version_num = '${REVISION_BEFORE}'`;

/** The chats every variant reads: shared snapshots and NULL owners are skipped. */
export const MIGRATED_CHATS_WHERE = "user_id NOT LIKE 'shared-%'";

/**
 * The write probe's own chats (see harness/measure): the application's writes
 * during a migration. Their documents hold no messages, so they never change
 * what a migration must write; verification leaves them out of `chat`'s checksum.
 */
export const PROBE_USER_ID = 'owui-harness-probe';
