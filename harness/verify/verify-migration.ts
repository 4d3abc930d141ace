/**
 * Verification of a migrated database against the seed's manifest (schema
 * `harness`), run after every strategy: rows compared by content (a digest
 * of every column, computed in SQL, against the digest the rules predicted),
 * the seven indexes, the foreign key and its validation, the stamp; and,
 * for a failed single-transaction run, whether the database is exactly as
 * the seeder left it.
 *
 * Timestamps: a manifest row with a `created_at` must have exactly it (and
 * `updated_at` equal); a manifest row whose timestamp is the migration's own
 * `now` (NULL there) must have one inside the run's window, give or take a
 * second, with `updated_at` equal. Pass a window covering every attempt: a
 * resumed run writes rows with the `now` of each attempt.
 */
import { followingStandIn } from '../openwebui/alembic-environment.ts';
import { FK_NAME, CHAT_MESSAGE_INDEXES, PROBE_USER_ID, REVISION_AFTER, REVISION_BEFORE } from '../openwebui/schema.ts';
import { bodyDigestSql, chatChecksumSql, checksumSql, usageDigestSql } from '../openwebui/row-digest.ts';
import type { Sql } from '../postgres/sql.ts';
import type { RowsVerification, SchemaVerification } from '../result/run-result.ts';

interface VerifyOptions {
  /** False for strategies that never write `usage` (v0.8.0): it must then be SQL NULL. */
  writesUsage: boolean;
  /** Unix seconds spanning the run (first attempt's start to last attempt's end). */
  window: { fromSec: number; toSec: number };
}

export interface MigrationVerification {
  rows: RowsVerification;
  schema: SchemaVerification;
  alembicVersion: string | null;
  /** Bytes of chat_message (heap, TOAST, indexes), or null when the table is absent. */
  chatMessageBytes: number | null;
  /** The shape of a success: table, every row right, indexes, FK validated, stamp 8452d01d26d7. */
  verified: boolean;
  /** What went wrong, for the report (with the first ids of each kind of wrong row). */
  notes: string[];
}

/** Ids named per kind of wrong row in the notes. */
const SAMPLE_IDS = 5;

const ROWS_SQL = `WITH a AS (
  SELECT m.id, ${bodyDigestSql('m')} AS body, ${usageDigestSql('m')} AS usage, m.usage IS NULL AS usage_null, m.created_at, m.updated_at
  FROM chat_message m
), j AS (
  SELECT a.id AS aid, e.id AS eid, a.body,
    (a.id IS NOT NULL AND e.id IS NOT NULL AND (
      a.body <> e.body
      OR CASE WHEN $1::boolean THEN a.usage <> e.usage ELSE NOT a.usage_null END
      OR CASE WHEN e.created_at IS NOT NULL THEN a.created_at IS DISTINCT FROM e.created_at OR a.updated_at IS DISTINCT FROM e.created_at
              ELSE a.created_at IS NULL OR a.created_at NOT BETWEEN $2::bigint AND $3::bigint OR a.updated_at IS DISTINCT FROM a.created_at END
    )) AS mismatched
  FROM a FULL JOIN harness.expected_rows e ON e.id = a.id
)
SELECT count(aid) AS inserted, count(eid) AS expected,
  count(*) FILTER (WHERE aid IS NULL) AS missing,
  count(*) FILTER (WHERE eid IS NULL) AS unexpected,
  count(*) FILTER (WHERE mismatched) AS mismatched,
  (array_agg(eid ORDER BY eid) FILTER (WHERE aid IS NULL))[1:${SAMPLE_IDS}] AS missing_ids,
  (array_agg(aid ORDER BY aid) FILTER (WHERE eid IS NULL))[1:${SAMPLE_IDS}] AS unexpected_ids,
  (array_agg(aid ORDER BY aid) FILTER (WHERE mismatched))[1:${SAMPLE_IDS}] AS mismatched_ids,
  ${checksumSql('body')} AS checksum
FROM j`;

interface RowCounts {
  inserted: string;
  expected: string;
  missing: string;
  unexpected: string;
  mismatched: string;
  missing_ids: string[] | null;
  unexpected_ids: string[] | null;
  mismatched_ids: string[] | null;
  checksum: string;
}

async function one<T>(client: Sql, text: string, values?: unknown[]): Promise<T | undefined> {
  return (await client.query(text, values)).rows[0] as T | undefined;
}

function sample(ids: string[] | null): string {
  return ids?.length ? ` (first: ${ids.join(', ')})` : '';
}

/** Verify the database `client` is connected to (a migrated clone of a seeded template). */
export async function verifyMigration(client: Sql, opts: VerifyOptions): Promise<MigrationVerification> {
  const notes: string[] = [];
  const tableExists = (await one<{ e: boolean }>(client, "SELECT to_regclass('chat_message') IS NOT NULL AS e"))!.e;
  const hasStampTable = (await one<{ e: boolean }>(client, "SELECT to_regclass('alembic_version') IS NOT NULL AS e"))!.e;
  const stamps = hasStampTable ? (await client.query<{ v: string }>('SELECT version_num AS v FROM alembic_version ORDER BY version_num')).rows.map((r) => r.v) : [];
  if (stamps.length > 1) notes.push(`alembic_version holds ${stamps.length} rows (${stamps.join(', ')}); Alembic expects one`);
  // The harness's stand-in for the revisions after it, run when upgrading to head, stamps past it.
  const alembicVersion = stamps[0] === followingStandIn(REVISION_AFTER).id ? REVISION_AFTER : (stamps[0] ?? null);
  if (alembicVersion !== REVISION_AFTER) notes.push(`alembic_version is ${alembicVersion ?? 'empty'}, not ${REVISION_AFTER}`);

  let rows: RowsVerification;
  let chatMessageBytes: number | null = null;
  const manifest = (await one<{ e: boolean }>(client, "SELECT to_regclass('harness.expected_rows') IS NOT NULL AND to_regclass('harness.expected_failures') IS NOT NULL AS e"))!.e;
  if (!manifest) {
    // A database the harness did not seed (a staging copy): rows can be counted, not compared.
    const inserted = tableExists ? Number((await one<{ n: string }>(client, 'SELECT count(*) AS n FROM chat_message'))!.n) : 0;
    rows = { inserted, expected: 0, missing: 0, unexpected: 0, mismatched: 0, expectedFailures: 0, checksum: null };
    notes.push(`no manifest (schema harness): the database was not seeded by the harness, so its ${inserted} chat_message rows were counted, not compared`);
    if (tableExists) chatMessageBytes = Number((await one<{ b: string }>(client, "SELECT pg_total_relation_size('chat_message') AS b"))!.b);
  } else if (tableExists) {
    const r = (await one<RowCounts>(client, ROWS_SQL, [opts.writesUsage, opts.window.fromSec - 1, opts.window.toSec + 1]))!;
    const failed = (await one<{ n: string }>(client, 'SELECT count(*) AS n FROM harness.expected_failures f WHERE NOT EXISTS (SELECT 1 FROM chat_message m WHERE m.id = f.id)'))!;
    rows = {
      inserted: Number(r.inserted),
      expected: Number(r.expected),
      missing: Number(r.missing),
      unexpected: Number(r.unexpected),
      mismatched: Number(r.mismatched),
      expectedFailures: Number(failed.n),
      checksum: r.checksum,
    };
    if (rows.missing) notes.push(`${rows.missing} of ${rows.expected} expected rows are missing from chat_message${sample(r.missing_ids)}`);
    if (rows.unexpected) notes.push(`${rows.unexpected} rows in chat_message are not in the manifest${sample(r.unexpected_ids)}`);
    if (rows.mismatched)
      notes.push(`${rows.mismatched} rows differ from the manifest (content, ${opts.writesUsage ? 'usage' : 'usage not NULL'}, or timestamps)${sample(r.mismatched_ids)}`);
    chatMessageBytes = Number((await one<{ b: string }>(client, "SELECT pg_total_relation_size('chat_message') AS b"))!.b);
  } else {
    const expected = Number((await one<{ n: string }>(client, 'SELECT count(*) AS n FROM harness.expected_rows'))!.n);
    const failed = Number((await one<{ n: string }>(client, 'SELECT count(*) AS n FROM harness.expected_failures'))!.n);
    rows = { inserted: 0, expected, missing: expected, unexpected: 0, mismatched: 0, expectedFailures: failed, checksum: null };
    notes.push('chat_message does not exist');
  }

  const schema: SchemaVerification = { tableExists, indexesMissing: [], fkPresent: false, fkValidated: false, untouched: null };
  if (tableExists) {
    const present = new Set(
      (
        await client.query<{ name: string }>(
          "SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = to_regclass('chat_message') AND i.indisvalid",
        )
      ).rows.map((r) => r.name),
    );
    schema.indexesMissing = CHAT_MESSAGE_INDEXES.map(([name]) => name).filter((n) => !present.has(n));
    if (schema.indexesMissing.length) notes.push(`indexes missing on chat_message: ${schema.indexesMissing.join(', ')}`);
    const fk = await one<{ convalidated: boolean; cascade: boolean; target: string }>(
      client,
      "SELECT convalidated, confdeltype = 'c' AS cascade, confrelid::regclass::text AS target FROM pg_constraint WHERE conname = $1 AND conrelid = to_regclass('chat_message') AND contype = 'f'",
      [FK_NAME],
    );
    schema.fkPresent = !!fk;
    schema.fkValidated = !!fk?.convalidated;
    if (!fk) notes.push(`foreign key ${FK_NAME} is absent`);
    else {
      if (!fk.convalidated) notes.push(`foreign key ${FK_NAME} is NOT VALID (never validated)`);
      if (!fk.cascade || fk.target !== 'chat') notes.push(`foreign key ${FK_NAME} references ${fk.target}${fk.cascade ? '' : ' without ON DELETE CASCADE'}`);
    }
  }
  schema.untouched = await untouched(client, tableExists, alembicVersion, notes);

  const verified =
    tableExists &&
    rows.missing === 0 &&
    rows.unexpected === 0 &&
    rows.mismatched === 0 &&
    schema.indexesMissing.length === 0 &&
    schema.fkPresent &&
    schema.fkValidated &&
    alembicVersion === REVISION_AFTER;
  return { rows, schema, alembicVersion, chatMessageBytes, verified, notes };
}

/**
 * True when nothing of the migration is left: no chat_message, nothing named
 * like it, the old stamp, and every chat's id and document as seeded (the
 * write probe's own chats aside). The cheap checks go first; the checksum,
 * which reads every document, only runs when they all hold.
 */
async function untouched(client: Sql, tableExists: boolean, stamp: string | null, notes: string[]): Promise<boolean | null> {
  if (tableExists || stamp !== REVISION_BEFORE) return false;
  const leftovers = (
    await client.query<{ name: string }>(
      `SELECT relname AS name FROM pg_class WHERE relname LIKE 'chat\\_message%'
       UNION ALL SELECT conname FROM pg_constraint WHERE conname LIKE 'chat\\_message%'
       UNION ALL SELECT typname FROM pg_type WHERE typname LIKE 'chat\\_message%'`,
    )
  ).rows.map((r) => r.name);
  if (leftovers.length) {
    notes.push(`objects named like chat_message remain: ${leftovers.slice(0, SAMPLE_IDS).join(', ')}`);
    return false;
  }
  const hasSummary = (await one<{ e: boolean }>(client, "SELECT to_regclass('harness.dataset') IS NOT NULL AS e"))!.e;
  const seeded = hasSummary ? ((await one<{ c: string | null }>(client, "SELECT summary->>'chatChecksum' AS c FROM harness.dataset"))?.c ?? null) : null;
  if (seeded === null) {
    notes.push('no seed summary with a chatChecksum (not seeded by this harness): cannot tell whether chat is untouched');
    return null;
  }
  const now = (await one<{ c: string }>(client, `SELECT ${chatChecksumSql('c')} AS c FROM chat c WHERE c.user_id IS DISTINCT FROM $1`, [PROBE_USER_ID]))!.c;
  if (now !== seeded) notes.push('the chat table no longer holds the documents it was seeded with');
  return now === seeded;
}
