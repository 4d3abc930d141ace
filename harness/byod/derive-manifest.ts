/**
 * For a copy of someone's own Open WebUI database: read every chat once,
 * before any strategy runs, and derive what a correct migration must write
 * (with the same Python semantics as the ports), stored in the copy's
 * `harness` schema exactly as the seeder stores its manifest, so every
 * later step (clone, run, verify) works the same on real data.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { isMigratedChat, parseChatColumn } from '../openwebui/chat-to-rows.ts';
import { isDict, loads, truthy, type PyValue } from '../openwebui/python-json.ts';
import type { Client } from '../postgres/sql.ts';
import type { StartedPostgres } from '../postgres/started-postgres.ts';
import { withClient } from '../postgres/with-client.ts';
import { emptyUnitManifest, expectChatRow, MANIFEST_DDL, readManifestTotals } from '../../seed/manifest.ts';
import { chatChecksumOf, type SeedSummary } from '../../seed/seeder.ts';

/** What was found in a tester's database, reported before any strategy runs. */
export interface SourceReport {
  /** Rows of `chat`, shared snapshots included. */
  chats: number;
  /** Chats whose `user_id` starts with `shared-`: the migration skips them. */
  sharedChatsSkipped: number;
  /** Chats with a NULL `user_id`: skipped too (`NOT LIKE` is not true for NULL). */
  nullOwnerSkipped: number;
  /** Migrated chats from which no row is inserted (empty or unreadable documents, no usable message, every message failing, poison chats). */
  chatsWithoutRows: number;
  /** Documents the driver-side parser could not read (counted in `chatsWithoutRows`). */
  unparseableDocuments: number;
  /** Entries of `history.messages` across migrated chats (what the seeder reports as messages). */
  messages: number;
  /** Bytes (UTF-8) of every chat document as stored. */
  bytes: number;
  expectedRows: number;
  /** Messages upstream tries to insert and fails (logged and skipped; the migration still succeeds). */
  expectedFailures: number;
  /** `expectedFailures` by kind of reason (the column and the error, without the offending value). */
  failureReasons: Record<string, number>;
  /**
   * Chats at which upstream raises and nothing catches it (a document that
   * is not an object, say): v0.8.12, the fix and later releases fail the
   * whole attempt at the first one they reach, every time. All are in
   * `harness.poison_chats`.
   */
  poisonChats: number;
  /** The first of them by id (at most {@link POISON_LISTED}): the chat and Python's exception. */
  firstPoisonChats: { chatId: string; reason: string }[];
  /** Chats at which v0.8.0 fails the whole attempt (those above, and those only its missing guards trip on). */
  v080PoisonChats: number;
}

/** Poison chats a report names. */
export const POISON_LISTED = 20;

const FETCH = 200;

async function copyLines(client: Client, sql: string, text: string): Promise<void> {
  if (!text) return;
  await pipeline(Readable.from([text]), client.query(copyFrom(sql)));
}

/**
 * PostgreSQL text cannot hold NUL, yet a failing message's id (a message key
 * with `\u0000`) or its reason (a `done` value quoting one) can: such a row
 * could never be in chat_message, so the manifest keeps it spelled `\u0000`.
 * COPY text needs the backslash doubled.
 */
function withoutNul(copyText: string): string {
  return copyText.includes('\0') ? copyText.replace(/\0/g, '\\\\u0000') : copyText;
}

/** Entries of `history.messages` (a dict or a list), read the way upstream reads the document. */
function historyEntries(doc: PyValue): number {
  let d = doc;
  if (!truthy(d)) return 0;
  if (typeof d === 'string') {
    try {
      d = loads(d);
    } catch {
      return 0;
    }
  }
  if (!isDict(d)) return 0;
  const history = d.get('history');
  if (!isDict(history)) return 0;
  const messages = history.get('messages');
  return isDict(messages) ? messages.size : Array.isArray(messages) ? messages.length : 0;
}

/** A failure's kind: the column and the error, without the value quoted in it (so distinct values group together). */
function failureKind(reason: string): string {
  return reason
    .replace(/^(done: Not a boolean value): .*$/s, '$1')
    .replace(/^done: Value .* is not None, True, or False$/s, 'done: not None, True, or False')
    .slice(0, 80);
}

/**
 * Derive and store the manifest in `database` (a harness-owned copy).
 * `now` classifies timestamps as upstream would at migration time.
 */
export async function deriveManifest(server: StartedPostgres, database: string, sourceName: string, now = Math.floor(Date.now() / 1000)): Promise<{ summary: SeedSummary; report: SourceReport }> {
  const started = performance.now();
  return withClient(server, database, 'manifest-read', (reader) =>
    withClient(server, database, 'manifest-write', (writer) => deriveWith(reader, writer, sourceName, now, started)),
  );
}

/** `reader` walks every chat in one snapshot while `writer` stores what a correct migration must write. */
async function deriveWith(reader: Client, writer: Client, sourceName: string, now: number, started: number): Promise<{ summary: SeedSummary; report: SourceReport }> {
  const report: SourceReport = {
    chats: 0,
    sharedChatsSkipped: 0,
    nullOwnerSkipped: 0,
    chatsWithoutRows: 0,
    unparseableDocuments: 0,
    messages: 0,
    bytes: 0,
    expectedRows: 0,
    expectedFailures: 0,
    failureReasons: {},
    poisonChats: 0,
    firstPoisonChats: [],
    v080PoisonChats: 0,
  };
  // The smallest ids seen so far, trimmed now and then: the cursor reads chats in no particular order.
  let poisonSeen: { chatId: string; reason: string }[] = [];
  const byId = (a: { chatId: string }, b: { chatId: string }) => (a.chatId < b.chatId ? -1 : a.chatId > b.chatId ? 1 : 0);
  // The copy is ours: a `harness` schema it brought along (a copy of a seeded database, say) is replaced.
  await writer.query('DROP SCHEMA IF EXISTS harness CASCADE');
  for (const ddl of MANIFEST_DDL) await writer.query(ddl);
  await writer.query('BEGIN');
  await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  await reader.query('DECLARE manifest_chats NO SCROLL CURSOR FOR SELECT id, user_id, chat::text AS chat FROM chat');
  const m = emptyUnitManifest();
  for (;;) {
    const rows = (await reader.query<{ id: string; user_id: string | null; chat: string | null }>(`FETCH FORWARD ${FETCH} FROM manifest_chats`)).rows;
    if (!rows.length) break;
    let rowLines = '';
    let failureLines = '';
    let poisonLines = '';
    for (const r of rows) {
      report.chats++;
      m.chats++;
      m.chatRows++;
      const bytes = r.chat === null ? 0 : Buffer.byteLength(r.chat, 'utf8');
      report.bytes += bytes;
      m.bytes += bytes;
      if (!isMigratedChat(r.user_id)) {
        if (r.user_id === null) report.nullOwnerSkipped++;
        else report.sharedChatsSkipped++;
        continue;
      }
      m.migratedChats++;
      let doc: PyValue;
      try {
        doc = parseChatColumn(r.chat);
      } catch {
        // The server stores valid JSON; only a document the driver cannot read lands here.
        report.unparseableDocuments++;
        report.chatsWithoutRows++;
        continue;
      }
      const rowsBefore = m.expectedRows;
      const e = expectChatRow(m, { id: r.id, userId: r.user_id, doc }, now);
      rowLines += e.rowLines;
      failureLines += e.failureLines;
      poisonLines += e.poisonLines;
      const messages = historyEntries(doc);
      m.messages += messages;
      report.messages += messages;
      if (m.expectedRows === rowsBefore) report.chatsWithoutRows++;
      if (e.outcome.kind === 'poison') {
        poisonSeen.push({ chatId: r.id, reason: e.outcome.reason });
        if (poisonSeen.length > 10 * POISON_LISTED) poisonSeen = poisonSeen.sort(byId).slice(0, POISON_LISTED);
      } else
        for (const f of e.outcome.failures) {
          const kind = failureKind(f.reason);
          report.failureReasons[kind] = (report.failureReasons[kind] ?? 0) + 1;
        }
    }
    await copyLines(writer, 'COPY harness.expected_rows (id, chat_id, body, usage, created_at) FROM STDIN', rowLines);
    await copyLines(writer, 'COPY harness.expected_failures (id, chat_id, reason) FROM STDIN', withoutNul(failureLines));
    await copyLines(writer, 'COPY harness.poison_chats (chat_id, rules, kind, reason) FROM STDIN', withoutNul(poisonLines));
  }
  await reader.query('COMMIT');
  report.expectedRows = m.expectedRows;
  report.expectedFailures = m.failures;
  report.poisonChats = m.poisonChats;
  report.firstPoisonChats = poisonSeen.sort(byId).slice(0, POISON_LISTED);
  report.v080PoisonChats = m.v080PoisonChats;
  await writer.query(
    `INSERT INTO harness.load_units (unit, chats, chat_rows, migrated_chats, messages, expected_rows, now_rows, failures, bytes, checksum, edge_cases, poison_chats, v080_poison_chats)
     VALUES ('source', $1, $2, $3, $4, $5, $6, $7, $8, $9, '{}', $10, $11)`,
    [m.chats, m.chatRows, m.migratedChats, m.messages, m.expectedRows, m.nowRows, m.failures, m.bytes, m.checksum.toString(), m.poisonChats, m.v080PoisonChats],
  );
  await writer.query('COMMIT');
  await writer.query('ALTER TABLE harness.expected_rows ADD CONSTRAINT expected_rows_pkey PRIMARY KEY (id)').catch(async (err: Error & { code?: string }) => {
    // Two messages mapping to the same row id (upstream would fail the second insert).
    if (err.code !== '23505') throw err;
    await writer.query('DELETE FROM harness.expected_rows a USING harness.expected_rows b WHERE a.id = b.id AND a.ctid > b.ctid');
    await writer.query('ALTER TABLE harness.expected_rows ADD CONSTRAINT expected_rows_pkey PRIMARY KEY (id)');
  });
  await writer.query('VACUUM (FREEZE, ANALYZE) chat');
  await writer.query('VACUUM (FREEZE, ANALYZE) harness.expected_rows');
  const { generatedChatChecksum: _none, ...totals } = await readManifestTotals(writer);
  const size = Number((await writer.query("SELECT pg_total_relation_size('chat') AS s")).rows[0].s);
  const chatChecksum = await chatChecksumOf(writer);
  const summary: SeedSummary = {
    key: `db_${sourceName}`.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 40),
    generatorVersion: 0,
    seed: -1,
    edgeCaseRate: 0,
    sharedRate: 0,
    ...totals,
    chatTableBytes: size,
    edgeCases: {},
    seedSeconds: (performance.now() - started) / 1000,
    reused: false,
    unitsLoaded: 1,
    unitsResumed: 0,
    chatChecksum,
  };
  await writer.query("INSERT INTO harness.dataset (key, params, planned_chats, state, summary) VALUES ($1, $2, $3, 'complete', $4)", [
    summary.key,
    JSON.stringify({ sourceDatabase: sourceName, now }),
    summary.chats,
    JSON.stringify(summary),
  ]);
  await writer.query('CHECKPOINT');
  return { summary, report };
}
