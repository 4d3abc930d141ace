/**
 * The manifest: what a correct migration must write, computed while the
 * chats are generated and stored beside them (schema `harness`), so any run,
 * on any copy of the seeded database, verifies without re-reading the chats.
 *
 * Per expected row: its id, the digest of its body, the digest of `usage`,
 * and its timestamp (NULL where the migration's own `now` decides it).
 * Per failing message: its id and why upstream's insert fails.
 * Per poison chat (one at which upstream raises and the whole attempt
 * fails): its id, the rules it stops (`v0.8.12`, which the fix and later
 * releases share, or `v0.8.0`), what the seeder planted there, and why;
 * its messages are in neither list.
 */
import { chatToRows, isMigratedChat, migratedMessages, type ChatRows, type PoisonChat, type Rules } from '../harness/openwebui/chat-to-rows.ts';
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
    chat_checksum numeric,
    poison_chats integer NOT NULL DEFAULT 0,
    v080_poison_chats integer NOT NULL DEFAULT 0
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
  `CREATE TABLE IF NOT EXISTS harness.poison_chats (
    chat_id text NOT NULL,
    rules text NOT NULL,
    kind text,
    reason text NOT NULL,
    PRIMARY KEY (chat_id, rules)
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
  /** Chats that stop the migration under v0.8.12's rules (the fix's and later releases' too). */
  poisonChats: number;
  /** Chats that stop v0.8.0 (those above, and the ones only its missing guards trip on). */
  v080PoisonChats: number;
  bytes: number;
  checksum: bigint;
  /** Sum of the unit's chat-row digests (see chat-digest.ts), mod 2^64. */
  chatChecksum: bigint;
  edgeCases: Record<string, number>;
}

export function emptyUnitManifest(): UnitManifest {
  return {
    chats: 0,
    chatRows: 0,
    migratedChats: 0,
    messages: 0,
    expectedRows: 0,
    nowRows: 0,
    failures: 0,
    poisonChats: 0,
    v080PoisonChats: 0,
    bytes: 0,
    checksum: 0n,
    chatChecksum: 0n,
    edgeCases: {},
  };
}

/** What one chat row adds to the manifest: COPY lines for its three tables, and what the rules said of it. */
export interface ChatExpectation {
  rowLines: string;
  failureLines: string;
  poisonLines: string;
  /** Under v0.8.12's rules: rows and failing messages, or the poison that stops the migration here. */
  outcome: ChatRows | PoisonChat;
  /** Whether v0.8.0 stops here, and why (null when it does not). */
  v080Poison: string | null;
}

/**
 * Add one chat row's expectations to `m`. `kind` is what the seeder planted
 * in the chat (recorded with a poison chat), when it knows.
 */
export function expectChatRow(
  m: UnitManifest,
  chat: { id: string; userId: string | null; doc: PyValue },
  now: number = NOW_REFERENCE,
  kind: string | null = null,
): ChatExpectation {
  const outcome = chatToRows(chat.id, chat.userId, chat.doc, now);
  let rowLines = '';
  let failureLines = '';
  let poisonLines = '';
  const poison = (rules: Rules, reason: string) => {
    poisonLines += copyLine([chat.id, rules, kind, reason]);
  };
  if (outcome.kind === 'poison') {
    m.poisonChats++;
    poison('v0.8.12', outcome.reason);
  } else {
    outcome.rows.forEach((row, i) => {
      const body = bodyDigest(row);
      m.checksum = (m.checksum + checksumTerm(body)) % CHECKSUM_MODULUS;
      const isNow = outcome.timestampIsNow[i];
      if (isNow) m.nowRows++;
      rowLines += copyLine([row.id, row.chat_id, body, usageDigest(row), isNow ? null : row.created_at]);
    });
    for (const f of outcome.failures) failureLines += copyLine([f.id, f.chatId, f.reason]);
    m.expectedRows += outcome.rows.length;
    m.failures += outcome.failures.length;
  }
  // v0.8.0 stops wherever v0.8.12 does, and also where only v0.8.12's guards help: a walk, no rows built.
  const walk = outcome.kind === 'poison' ? { poison: outcome.reason } : isMigratedChat(chat.userId) ? migratedMessages(chat.doc, 'v0.8.0') : { messages: [] };
  const v080Poison = 'poison' in walk ? walk.poison : null;
  if (v080Poison !== null) {
    m.v080PoisonChats++;
    poison('v0.8.0', v080Poison);
  }
  return { rowLines, failureLines, poisonLines, outcome, v080Poison };
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
  coalesce(sum(poison_chats), 0)::bigint AS poison_chats,
  coalesce(sum(v080_poison_chats), 0)::bigint AS v080_poison_chats,
  coalesce(sum(bytes), 0)::bigint AS bytes,
  (coalesce(sum(checksum), 0) % 18446744073709551616)::text AS checksum,
  (coalesce(sum(chat_checksum), 0) % 18446744073709551616)::text AS chat_checksum,
  count(chat_checksum)::int AS units_with_chat_checksum,
  count(*)::int AS units
FROM harness.load_units`;

/** The manifest's totals over every loaded unit, in a seed summary's terms. */
interface ManifestTotals {
  /** Rows in `chat`. */
  chats: number;
  migratedChats: number;
  messages: number;
  expectedRows: number;
  expectedFailures: number;
  /** Chats at which v0.8.12, the fix and later releases fail the whole attempt (see harness.poison_chats). */
  poisonChats: number;
  /** Chats at which v0.8.0 fails the whole attempt. */
  v080PoisonChats: number;
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
    poisonChats: Number(t.poison_chats),
    v080PoisonChats: Number(t.v080_poison_chats),
    nowRows: Number(t.now_rows),
    checksum: t.checksum as string,
    generatedBytes: Number(t.bytes),
    generatedChatChecksum: Number(t.units_with_chat_checksum) === Number(t.units) ? (t.chat_checksum as string) : null,
  };
}
