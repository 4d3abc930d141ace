/**
 * The manifest: what a correct migration must write, computed while the
 * chats are generated and stored beside them (schema `harness`), so any run,
 * on any copy of the seeded database, verifies without re-reading the chats.
 *
 * Per expected row: its id, the digest of its body, the digest of `usage`,
 * and its timestamp (NULL where the migration's own `now` decides it).
 * Per failing message: its id and why upstream's insert fails.
 */
import { chatToRows } from '../harness/openwebui/chat-to-rows.ts';
import { bodyDigest, checksumTerm, CHECKSUM_MODULUS, usageDigest } from '../harness/openwebui/row-digest.ts';
import type { PyValue } from '../harness/openwebui/python-json.ts';
import type { Client } from '../harness/postgres/sql.ts';
import { copyLine } from './copy-text.ts';

/**
 * The `now` the manifest classifies timestamps against: 2026-01-01. Rows are
 * correct for any migration run between then and 2100 (the seeder's "future"
 * timestamps are in 2100; its regular ones end before 2026).
 */
export const NOW_REFERENCE = 1_767_225_600;

export const MANIFEST_DDL = [
  'CREATE SCHEMA IF NOT EXISTS harness',
  `CREATE TABLE IF NOT EXISTS harness.dataset (
    key text PRIMARY KEY,
    params jsonb NOT NULL,
    planned_chats integer NOT NULL,
    state text NOT NULL,
    summary jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
  `CREATE TABLE IF NOT EXISTS harness.load_units (
    unit text PRIMARY KEY,
    chats integer NOT NULL,
    chat_rows integer NOT NULL,
    migrated_chats integer NOT NULL,
    messages integer NOT NULL,
    expected_rows integer NOT NULL,
    now_rows integer NOT NULL,
    failures integer NOT NULL,
    bytes bigint NOT NULL,
    checksum numeric NOT NULL,
    edge_cases jsonb NOT NULL,
    chat_checksum numeric
  )`,
  `CREATE TABLE IF NOT EXISTS harness.expected_rows (
    id text NOT NULL,
    chat_id text NOT NULL,
    body uuid NOT NULL,
    usage uuid NOT NULL,
    created_at bigint
  )`,
  `CREATE TABLE IF NOT EXISTS harness.expected_failures (
    id text NOT NULL,
    chat_id text NOT NULL,
    reason text NOT NULL
  )`,
];

export interface UnitManifest {
  chats: number;
  chatRows: number;
  migratedChats: number;
  messages: number;
  expectedRows: number;
  nowRows: number;
  failures: number;
  bytes: number;
  checksum: bigint;
  /** Sum of the unit's chat-row digests (see chat-digest.ts), mod 2^64. */
  chatChecksum: bigint;
  edgeCases: Record<string, number>;
}

export function emptyUnitManifest(): UnitManifest {
  return { chats: 0, chatRows: 0, migratedChats: 0, messages: 0, expectedRows: 0, nowRows: 0, failures: 0, bytes: 0, checksum: 0n, chatChecksum: 0n, edgeCases: {} };
}

/** Add one chat row's expectations to `m`; returns COPY lines for the two manifest tables. */
export function expectChatRow(
  m: UnitManifest,
  chat: { id: string; userId: string | null; doc: PyValue },
  now: number = NOW_REFERENCE,
): { rowLines: string; failureLines: string } {
  const out = chatToRows(chat.id, chat.userId, chat.doc, now);
  // A chat at which upstream raises (a poison chat) stops the migration: none of its messages is expected.
  if (out.kind === 'poison') return { rowLines: '', failureLines: '' };
  let rowLines = '';
  let failureLines = '';
  out.rows.forEach((row, i) => {
    const body = bodyDigest(row);
    m.checksum = (m.checksum + checksumTerm(body)) % CHECKSUM_MODULUS;
    const isNow = out.timestampIsNow[i];
    if (isNow) m.nowRows++;
    rowLines += copyLine([row.id, row.chat_id, body, usageDigest(row), isNow ? null : row.created_at]);
  });
  for (const f of out.failures) failureLines += copyLine([f.id, f.chatId, f.reason]);
  m.expectedRows += out.rows.length;
  m.failures += out.failures.length;
  return { rowLines, failureLines };
}

/** SQL totals over every loaded unit. */
export const MANIFEST_TOTALS_SQL = `SELECT
  coalesce(sum(chats), 0)::bigint AS chats,
  coalesce(sum(chat_rows), 0)::bigint AS chat_rows,
  coalesce(sum(migrated_chats), 0)::bigint AS migrated_chats,
  coalesce(sum(messages), 0)::bigint AS messages,
  coalesce(sum(expected_rows), 0)::bigint AS expected_rows,
  coalesce(sum(now_rows), 0)::bigint AS now_rows,
  coalesce(sum(failures), 0)::bigint AS failures,
  coalesce(sum(bytes), 0)::bigint AS bytes,
  (coalesce(sum(checksum), 0) % 18446744073709551616)::text AS checksum,
  (coalesce(sum(chat_checksum), 0) % 18446744073709551616)::text AS chat_checksum,
  count(chat_checksum)::int AS units_with_chat_checksum,
  count(*)::int AS units
FROM harness.load_units`;

/** The manifest's totals over every loaded unit, in a seed summary's terms. */
export interface ManifestTotals {
  /** Rows in `chat`. */
  chats: number;
  migratedChats: number;
  messages: number;
  expectedRows: number;
  expectedFailures: number;
  nowRows: number;
  checksum: string;
  generatedBytes: number;
  /** The chats' checksum as generated, when every unit recorded it (older seeds did not). */
  generatedChatChecksum: string | null;
}

export async function readManifestTotals(client: Client): Promise<ManifestTotals> {
  const t = (await client.query(MANIFEST_TOTALS_SQL)).rows[0];
  return {
    chats: Number(t.chat_rows),
    migratedChats: Number(t.migrated_chats),
    messages: Number(t.messages),
    expectedRows: Number(t.expected_rows),
    expectedFailures: Number(t.failures),
    nowRows: Number(t.now_rows),
    checksum: t.checksum as string,
    generatedBytes: Number(t.bytes),
    generatedChatChecksum: Number(t.units_with_chat_checksum) === Number(t.units) ? (t.chat_checksum as string) : null,
  };
}
