/**
 * Bring your own data, end to end through the command line: a tester's Open
 * WebUI database (here built by plain SQL from hand-written chats covering
 * every rule and edge case of the migration's row rules) is copied with `--from-database`, every
 * strategy runs on the copy, and the rows each wrote are compared with rows
 * written out by hand below, never computed by the code under test. The
 * source must be exactly as it was afterwards. Then the refusals (not an
 * Open WebUI database, already migrated, other sessions connected), the
 * dump copy, and `--from-dump` with `--keep` on an owned server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceReport } from '../../harness/byod/derive-manifest.ts';
import { describeSourceReport } from '../../harness/byod/describe-source-report.ts';
import type { StartedEmbeddedPostgres } from '../../harness/postgres/embedded-server.ts';
import { closeQuietly, connect, ident, type Client } from '../../harness/postgres/sql.ts';
import { withClient } from '../../harness/postgres/with-client.ts';
import type { RunResult } from '../../harness/result/run-result.ts';
import { LAUNCH, ROOT } from '../support/cli.ts';
import { startTestServer } from '../support/postgres.ts';
import { EXPECTED_CHAT_COLUMNS, EXPECTED_CHAT_INDEXES, readChatSchema } from '../support/pre-migration-schema.ts';

const SOURCE = 'owui_staging';

// ------------------------------------------------------------ the source, by hand

/** The pre-migration schema exactly as Open WebUI has it at 374d2f66af06, and one more table, as Open WebUI has. */
const SOURCE_DDL = [
  `CREATE TABLE chat (
    id varchar PRIMARY KEY,
    user_id varchar,
    title text,
    chat json,
    created_at bigint,
    updated_at bigint,
    share_id text UNIQUE,
    archived boolean DEFAULT false,
    pinned boolean DEFAULT false,
    meta json DEFAULT '{}',
    folder_id text
  )`,
  'CREATE INDEX folder_id_idx ON chat (folder_id)',
  'CREATE INDEX user_id_pinned_idx ON chat (user_id, pinned)',
  'CREATE INDEX user_id_archived_idx ON chat (user_id, archived)',
  'CREATE INDEX updated_at_user_id_idx ON chat (updated_at, user_id)',
  'CREATE INDEX folder_id_user_id_idx ON chat (folder_id, user_id)',
  'CREATE TABLE alembic_version (version_num varchar(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))',
  "INSERT INTO alembic_version (version_num) VALUES ('374d2f66af06')",
  'CREATE TABLE "user" (id varchar PRIMARY KEY, name varchar, email varchar, role varchar, settings json)',
  `INSERT INTO "user" VALUES ('u1', 'Ada', 'ada@example.com', 'admin', '{"ui": {"theme": "dark"}}'), ('u2', 'Bo', 'bo@example.com', 'user', NULL)`,
];

type JsonColumn = 'output' | 'files' | 'sources' | 'embeds' | 'status_history' | 'error' | 'usage';

/** A row a correct migration writes; `content` and `json` are the JSON columns' text. */
interface Row {
  id: string;
  role: string;
  parent: string | null;
  model: string | null;
  done: boolean | null;
  /** Unix seconds, or 'now': the migration's own start time. */
  created: number | 'now';
  content: string;
  /** JSON columns other than content; each absent one is the JSON literal null. */
  json?: Partial<Record<JsonColumn, string>>;
}

interface HandChat {
  id: string;
  user: string | null;
  /** The `chat` column's text (SQL NULL for null). */
  chat: string | null;
  shareId?: string;
  /** Entries of history.messages (the manifest's message count). */
  messages: number;
  rows: Row[];
  /** Ids of the messages whose insert fails alone. */
  failures: string[];
}

/** A row with the common defaults: no parent, no model, done absent (true). */
function row(id: string, role: string, created: number | 'now', content: string, more: Partial<Row> = {}): Row {
  return { id, role, parent: null, model: null, done: true, created, content, ...more };
}

/** A chat document as Open WebUI writes it (json.dumps: ", " and ": " separators, ASCII only). */
const doc = (messages: string) =>
  `{"id": "", "title": "New Chat", "models": ["gpt-4o"], "params": {}, "history": {"currentId": null, "messages": ${messages}}, "messages": [], "tags": [], "timestamp": 1700000000000, "files": []}`;

const M1 = String.raw`{"id": "m1", "parentId": null, "childrenIds": ["m2"], "role": "user", "content": "Hello", "timestamp": 1700000000, "models": ["gpt-4o"]}`;
const M2 = String.raw`{"id": "m2", "parentId": "m1", "childrenIds": [], "role": "assistant", "content": "Hi there", "model": "gpt-4o", "modelName": "GPT-4o", "modelIdx": 0, "done": true, "timestamp": 1700000005, "statusHistory": [{"done": true, "action": "web_search", "description": "Searched 2 sites"}], "sources": [{"source": {"name": "a.txt"}, "document": ["x"], "metadata": [{"page": 1}]}], "files": [{"type": "image", "url": "/api/v1/files/f1/content"}], "embeds": ["<iframe></iframe>"], "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15, "cost": 0.00042}, "output": [{"type": "message", "content": [{"type": "output_text", "text": "Hi there"}]}], "error": {"content": "partial"}}`;

/** 5100 messages in one chat: more than one of original's 5000-row batches; m2500 fails alone. */
const BIG = 5100;
const BIG_FAILING = 2500;
function bigChat(): HandChat {
  const messages: string[] = [];
  const rows: Row[] = [];
  for (let i = 1; i <= BIG; i++) {
    const role = i % 2 ? 'user' : 'assistant';
    const parent = i === 1 ? null : `m${i - 1}`;
    messages.push(
      `"m${i}": {"id": "m${i}", "parentId": ${parent === null ? 'null' : `"${parent}"`}, "role": "${role}", "content": "message ${i}", "timestamp": ${1700000000 + i}${i === BIG_FAILING ? ', "done": "maybe"' : ''}}`,
    );
    if (i !== BIG_FAILING) rows.push(row(`i01-m${i}`, role, 1700000000 + i, `"message ${i}"`, { parent }));
  }
  return { id: 'i01', user: 'u2', chat: `{"history": {"currentId": "m${BIG}", "messages": {${messages.join(', ')}}}, "messages": []}`, messages: BIG, rows, failures: [`i01-m${BIG_FAILING}`] };
}

/** 150 one-message chats: more than one of chunked's 100-chat pages. */
function pageChats(): HandChat[] {
  return Array.from({ length: 150 }, (_, n) => {
    const id = `j${String(n).padStart(3, '0')}`;
    return {
      id,
      user: 'u3',
      chat: `{"history": {"messages": {"m1": {"role": "user", "content": "page ${n}", "timestamp": 1700001000}}}}`,
      messages: 1,
      rows: [row(`${id}-m1`, 'user', 1700001000, `"page ${n}"`)],
      failures: [],
    };
  });
}

const CHATS: HandChat[] = [
  // A complete chat, every column given.
  {
    id: 'a01',
    user: 'u1',
    shareId: 'g01',
    chat: `{"id": "", "title": "Greetings", "models": ["gpt-4o"], "params": {}, "history": {"currentId": "m2", "messages": {"m1": ${M1}, "m2": ${M2}}}, "messages": [${M1}, ${M2}], "tags": [], "timestamp": 1700000005000, "files": []}`,
    messages: 2,
    rows: [
      row('a01-m1', 'user', 1700000000, '"Hello"'),
      row('a01-m2', 'assistant', 1700000005, '"Hi there"', {
        parent: 'm1',
        model: 'gpt-4o',
        json: {
          output: '[{"type": "message", "content": [{"type": "output_text", "text": "Hi there"}]}]',
          files: '[{"type": "image", "url": "/api/v1/files/f1/content"}]',
          sources: '[{"source": {"name": "a.txt"}, "document": ["x"], "metadata": [{"page": 1}]}]',
          embeds: '["<iframe></iframe>"]',
          status_history: '[{"done": true, "action": "web_search", "description": "Searched 2 sites"}]',
          error: '{"content": "partial"}',
          usage: '{"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15, "cost": 0.00042}',
        },
      }),
    ],
    failures: [],
  },
  // Documents stored as a JSON string: parsed once more.
  {
    id: 'a02',
    user: 'u1',
    chat: String.raw`"{\"history\": {\"currentId\": \"m1\", \"messages\": {\"m1\": {\"id\": \"m1\", \"parentId\": null, \"role\": \"user\", \"content\": \"inside a string\", \"timestamp\": 1700000100}}}}"`,
    messages: 1,
    rows: [row('a02-m1', 'user', 1700000100, '"inside a string"')],
    failures: [],
  },
  { id: 'a03', user: 'u1', chat: String.raw`"{\"history\": {\"messages\": "`, messages: 0, rows: [], failures: [] },
  // Falsy documents (empty, NULL, false, an empty list) and history or messages of the wrong kind yield nothing.
  // A truthy document that is not an object (a list, a number, a string holding a string) stops every
  // faithful migration at that chat: such chats are planted and tested on their own, not in this source.
  { id: 'a04', user: 'u1', chat: 'false', messages: 0, rows: [], failures: [] },
  { id: 'a05', user: 'u1', chat: '{}', messages: 0, rows: [], failures: [] },
  { id: 'a06', user: 'u1', chat: '""', messages: 0, rows: [], failures: [] },
  { id: 'a07', user: 'u1', chat: null, messages: 0, rows: [], failures: [] },
  { id: 'a08', user: 'u1', chat: 'null', messages: 0, rows: [], failures: [] },
  { id: 'a09', user: 'u1', chat: '[]', messages: 0, rows: [], failures: [] },
  { id: 'a10', user: 'u1', chat: '{"history": [{"messages": {"m1": {"role": "user"}}}], "messages": [{"role": "user"}]}', messages: 0, rows: [], failures: [] },
  { id: 'a11', user: 'u1', chat: '{"history": "m1"}', messages: 0, rows: [], failures: [] },
  { id: 'a12', user: 'u1', chat: '{"history": {"currentId": "m1", "messages": [{"id": "m1", "role": "user", "content": "in a list"}]}}', messages: 1, rows: [], failures: [] },
  { id: 'a13', user: 'u1', chat: '{"history": {"messages": null}}', messages: 0, rows: [], failures: [] },
  { id: 'a14', user: 'u1', chat: '{"history": {"currentId": null}}', messages: 0, rows: [], failures: [] },
  { id: 'a15', user: 'u1', chat: '{"history": {"messages": {}}}', messages: 0, rows: [], failures: [] },
  // Entries that are not objects, and roles: falsy ones skip the message; "0", numbers and true are kept as text;
  // a list is kept as PostgreSQL's text of the array it becomes; an object fails.
  {
    id: 'b01',
    user: 'u1',
    chat: doc(
      String.raw`{"s1": "just text", "s2": null, "s3": [], "s4": 5, "s5": true, ` +
        String.raw`"r0": {"id": "r0", "content": "no role", "timestamp": 1700000200}, "r1": {"role": "", "content": "empty role", "timestamp": 1700000200}, ` +
        String.raw`"r2": {"role": null, "content": "null role", "timestamp": 1700000200}, "r3": {"role": 0, "content": "zero role", "timestamp": 1700000200}, ` +
        String.raw`"r4": {"role": false, "content": "false role", "timestamp": 1700000200}, "r5": {"role": [], "content": "list role", "timestamp": 1700000200}, ` +
        String.raw`"r6": {"role": {}, "content": "dict role", "timestamp": 1700000200}, "r7": {"role": 0.0, "content": "float zero role", "timestamp": 1700000200}, ` +
        String.raw`"k1": {"role": "0", "content": "zero string", "timestamp": 1700000201}, "k2": {"role": 7, "content": "seven", "timestamp": 1700000202}, ` +
        String.raw`"k3": {"role": 2.5, "content": "two and a half", "timestamp": 1700000203}, "k4": {"role": true, "content": "true", "timestamp": 1700000204}, ` +
        String.raw`"k5": {"role": -1, "content": "minus one", "timestamp": 1700000205}, "k6": {"role": "system", "content": "You are helpful.", "timestamp": 1700000206}, ` +
        String.raw`"f1": {"role": {"name": "user"}, "content": "dict role", "timestamp": 1700000207}, "f2": {"role": ["user"], "content": "list role", "timestamp": 1700000208}}`,
    ),
    messages: 21,
    rows: [
      row('b01-k1', '0', 1700000201, '"zero string"'),
      row('b01-k2', '7', 1700000202, '"seven"'),
      row('b01-k3', '2.5', 1700000203, '"two and a half"'),
      row('b01-k4', 'true', 1700000204, '"true"'),
      row('b01-k5', '-1', 1700000205, '"minus one"'),
      row('b01-k6', 'system', 1700000206, '"You are helpful."'),
      row('b01-f2', '{user}', 1700000208, '"list role"'),
    ],
    failures: ['b01-f1'],
  },
  // Every timestamp form: int(float(x)), milliseconds divided, then before 2020 or after now + 1 day is `now`.
  {
    id: 'c01',
    user: 'u1',
    chat: doc(
      '{' +
        [
          ['t01', '1700000000'],
          ['t02', '1700000000123'],
          ['t03', '1500000000'],
          ['t04', '1500000000000'],
          ['t05', '4102444800'],
          ['t06', '" 1700000003 "'],
          ['t07', '"1.7e9"'],
          ['t08', '"1_700_000_004"'],
          ['t09', '"abc"'],
          ['t10', 'null'],
          ['t11', undefined],
          ['t12', '1700000000.9'],
          ['t13', 'true'],
          ['t14', 'false'],
          ['t15', '"inf"'],
          ['t16', '"nan"'],
          ['t17', '1577836800'],
          ['t18', '1577836799'],
          ['t19', '"1.7e12"'],
          ['t20', '10000000001'],
          ['t21', '"1__7"'],
          ['t22', '[1700000000]'],
          ['t23', String.raw`"\t1700000005\n"`],
          ['t24', '-1700000000'],
          ['t25', '"1700000006."'],
          ['t26', '".17e10"'],
          ['t27', '1.7e9'],
          ['t28', '"1700000007"'],
          ['t29', '{"s": 1}'],
          ['t30', '17000000001234567'],
          ['t31', '""'],
          ['t32', '1700000008000.5'],
        ]
          .map(([k, t]) => `"${k}": {"role": "user", "content": "${k}"${t === undefined ? '' : `, "timestamp": ${t}`}}`)
          .join(', ') +
        '}',
    ),
    messages: 32,
    rows: [
      row('c01-t01', 'user', 1700000000, '"t01"'),
      row('c01-t02', 'user', 1700000000, '"t02"'),
      row('c01-t03', 'user', 'now', '"t03"'),
      row('c01-t04', 'user', 'now', '"t04"'),
      row('c01-t05', 'user', 'now', '"t05"'),
      row('c01-t06', 'user', 1700000003, '"t06"'),
      row('c01-t07', 'user', 1700000000, '"t07"'),
      row('c01-t08', 'user', 1700000004, '"t08"'),
      row('c01-t09', 'user', 'now', '"t09"'),
      row('c01-t10', 'user', 'now', '"t10"'),
      row('c01-t11', 'user', 'now', '"t11"'),
      row('c01-t12', 'user', 1700000000, '"t12"'),
      row('c01-t13', 'user', 'now', '"t13"'),
      row('c01-t14', 'user', 'now', '"t14"'),
      row('c01-t15', 'user', 'now', '"t15"'),
      row('c01-t16', 'user', 'now', '"t16"'),
      row('c01-t17', 'user', 1577836800, '"t17"'),
      row('c01-t18', 'user', 'now', '"t18"'),
      row('c01-t19', 'user', 1700000000, '"t19"'),
      row('c01-t20', 'user', 'now', '"t20"'),
      row('c01-t21', 'user', 'now', '"t21"'),
      row('c01-t22', 'user', 'now', '"t22"'),
      row('c01-t23', 'user', 1700000005, '"t23"'),
      row('c01-t24', 'user', 'now', '"t24"'),
      row('c01-t25', 'user', 1700000006, '"t25"'),
      row('c01-t26', 'user', 1700000000, '"t26"'),
      row('c01-t27', 'user', 1700000000, '"t27"'),
      row('c01-t28', 'user', 1700000007, '"t28"'),
      row('c01-t29', 'user', 'now', '"t29"'),
      row('c01-t30', 'user', 'now', '"t30"'),
      row('c01-t31', 'user', 'now', '"t31"'),
      row('c01-t32', 'user', 1700000008, '"t32"'),
    ],
    failures: [],
  },
  // done: true, false, null (SQL NULL), 1, 0, absent (true), 1.0, 0.0 are kept; "yes", 2 and "true" fail.
  {
    id: 'd01',
    user: 'u1',
    chat: doc(
      '{' +
        [
          ['d01', 'true'],
          ['d02', 'false'],
          ['d03', 'null'],
          ['d04', '1'],
          ['d05', '0'],
          ['d06', undefined],
          ['d07', '"yes"'],
          ['d08', '1.0'],
          ['d09', '0.0'],
          ['d10', '2'],
          ['d11', '"true"'],
        ]
          .map(([k, d]) => `"${k}": {"role": "assistant", "content": "${k}", "timestamp": 1700000300${d === undefined ? '' : `, "done": ${d}`}}`)
          .join(', ') +
        '}',
    ),
    messages: 11,
    rows: [
      row('d01-d01', 'assistant', 1700000300, '"d01"', { done: true }),
      row('d01-d02', 'assistant', 1700000300, '"d02"', { done: false }),
      row('d01-d03', 'assistant', 1700000300, '"d03"', { done: null }),
      row('d01-d04', 'assistant', 1700000300, '"d04"', { done: true }),
      row('d01-d05', 'assistant', 1700000300, '"d05"', { done: false }),
      row('d01-d06', 'assistant', 1700000300, '"d06"', { done: true }),
      row('d01-d08', 'assistant', 1700000300, '"d08"', { done: true }),
      row('d01-d09', 'assistant', 1700000300, '"d09"', { done: false }),
    ],
    failures: ['d01-d07', 'd01-d10', 'd01-d11'],
  },
  // Text columns given numbers (int, float, huge), booleans, lists: stored as text (a list as its array's text); objects fail the row.
  {
    id: 'e01',
    user: 'u1',
    chat: doc(
      '{' +
        [
          ['e01', '"parentId": 5'],
          ['e02', '"parentId": 2.5'],
          ['e03', '"parentId": 1e16'],
          ['e04', '"parentId": true'],
          ['e05', '"parentId": false'],
          ['e06', '"parentId": 100.0'],
          ['e07', '"model": 7'],
          ['e08', '"model": 0.5'],
          ['e09', '"parentId": -0'],
          ['e10', '"parentId": 12345678901234567890'],
          ['e11', '"model": {"id": "gpt-4o"}'],
          ['e12', '"parentId": ["m1"]'],
          ['e13', '"model": ["a", "b"]'],
        ]
          .map(([k, field]) => `"${k}": {"role": "assistant", "content": "${k}", "timestamp": 1700000400, ${field}}`)
          .join(', ') +
        '}',
    ),
    messages: 13,
    rows: [
      row('e01-e01', 'assistant', 1700000400, '"e01"', { parent: '5' }),
      row('e01-e02', 'assistant', 1700000400, '"e02"', { parent: '2.5' }),
      row('e01-e03', 'assistant', 1700000400, '"e03"', { parent: '10000000000000000' }),
      row('e01-e04', 'assistant', 1700000400, '"e04"', { parent: 'true' }),
      row('e01-e05', 'assistant', 1700000400, '"e05"', { parent: 'false' }),
      row('e01-e06', 'assistant', 1700000400, '"e06"', { parent: '100.0' }),
      row('e01-e07', 'assistant', 1700000400, '"e07"', { model: '7' }),
      row('e01-e08', 'assistant', 1700000400, '"e08"', { model: '0.5' }),
      row('e01-e09', 'assistant', 1700000400, '"e09"', { parent: '0' }),
      row('e01-e10', 'assistant', 1700000400, '"e10"', { parent: '12345678901234567890' }),
      row('e01-e12', 'assistant', 1700000400, '"e12"', { parent: '{m1}' }),
      row('e01-e13', 'assistant', 1700000400, '"e13"', { model: '{a,b}' }),
    ],
    failures: ['e01-e11'],
  },
  // NUL: fine in JSON columns, fails in text columns and in a message id. Non-ASCII and astral characters everywhere.
  {
    id: 'f01',
    user: 'u1',
    chat: doc(
      String.raw`{"n1": {"role": "user", "content": "a\u0000b", "timestamp": 1700000500}, ` +
        String.raw`"n2": {"role": "us\u0000er", "content": "nul role", "timestamp": 1700000500}, ` +
        String.raw`"n3": {"role": "assistant", "model": "gpt\u0000", "content": "nul model", "timestamp": 1700000500}, ` +
        String.raw`"n4": {"role": "assistant", "parentId": "m\u0000", "content": "nul parent", "timestamp": 1700000500}, ` +
        String.raw`"n5": {"role": "assistant", "content": "nul in output", "output": [{"t": "x\u0000"}], "timestamp": 1700000500}, ` +
        String.raw`"x\u0000y": {"role": "user", "content": "nul in key", "timestamp": 1700000500}, ` +
        String.raw`"u1": {"role": "user", "content": "h\u00e9llo \u2713 \ud834\udd1e", "timestamp": 1700000501}, ` +
        String.raw`"u2": {"role": "assistant", "model": "mod\u00e8le-\ud83d\ude80", "content": "non-ASCII model", "timestamp": 1700000502}, ` +
        String.raw`"u3": {"role": "assistant", "parentId": "\u00e9t\u00e9", "content": "non-ASCII parent", "timestamp": 1700000503}, ` +
        String.raw`"\u00e9": {"role": "user", "content": "non-ASCII key", "timestamp": 1700000504}, ` +
        String.raw`"u5": {"role": "user", "content": "tab\there \"q\" back\\slash", "timestamp": 1700000505}}`,
    ),
    messages: 11,
    rows: [
      row('f01-n1', 'user', 1700000500, String.raw`"a\u0000b"`),
      row('f01-n5', 'assistant', 1700000500, '"nul in output"', { json: { output: String.raw`[{"t": "x\u0000"}]` } }),
      row('f01-u1', 'user', 1700000501, String.raw`"h\u00e9llo \u2713 \ud834\udd1e"`),
      row('f01-u2', 'assistant', 1700000502, '"non-ASCII model"', { model: 'modèle-🚀' }),
      row('f01-u3', 'assistant', 1700000503, '"non-ASCII parent"', { parent: 'été' }),
      row('f01-é', 'user', 1700000504, '"non-ASCII key"'),
      row('f01-u5', 'user', 1700000505, String.raw`"tab\there \"q\" back\\slash"`),
    ],
    failures: ['f01-n2', 'f01-n3', 'f01-n4', 'f01-x\u0000y'],
  },
  // Shared snapshots and chats without an owner are skipped; "sharedX" is not "shared-".
  { id: 'g01', user: 'shared-a01', chat: doc('{"m1": {"role": "user", "content": "shared", "timestamp": 1700000000}}'), messages: 0, rows: [], failures: [] },
  { id: 'g02', user: null, chat: doc('{"m1": {"role": "user", "content": "no owner", "timestamp": 1700000000}}'), messages: 0, rows: [], failures: [] },
  {
    id: 'g03',
    user: 'sharedX',
    chat: doc('{"m1": {"role": "user", "content": "not a snapshot", "timestamp": 1700000000}}'),
    messages: 1,
    rows: [row('g03-m1', 'user', 1700000000, '"not a snapshot"')],
    failures: [],
  },
  // Not written by json.dumps: compact separators, raw non-ASCII. Upstream re-serialises; setbased copies the document's text.
  {
    id: 'h01',
    user: 'u1',
    chat: '{"history":{"currentId":"m2","messages":{"m1":{"id":"m1","parentId":null,"role":"user","content":{"text":"hi","parts":[1,2.5]},"timestamp":1700000600},"m2":{"id":"m2","parentId":"m1","role":"assistant","content":"plain","timestamp":1700000601}}}}',
    messages: 2,
    rows: [
      row('h01-m1', 'user', 1700000600, '{"text": "hi", "parts": [1, 2.5]}'),
      row('h01-m2', 'assistant', 1700000601, '"plain"', { parent: 'm1' }),
    ],
    failures: [],
  },
  {
    id: 'h02',
    user: 'u1',
    chat: '{"history": {"messages": {"m1": {"role": "user", "content": "héllo ✓ 𝄞", "timestamp": 1700000602}, "m2": {"role": "assistant", "model": "modèle", "content": "ok", "timestamp": 1700000603}}}}',
    messages: 2,
    rows: [
      row('h02-m1', 'user', 1700000602, String.raw`"h\u00e9llo \u2713 \ud834\udd1e"`),
      row('h02-m2', 'assistant', 1700000603, '"ok"', { model: 'modèle' }),
    ],
    failures: [],
  },
  // Every message of the chat fails: a chat that yields no rows.
  { id: 'k01', user: 'u1', chat: doc('{"m1": {"role": "user", "content": "only", "timestamp": 1700000700, "done": "no"}}'), messages: 1, rows: [], failures: ['k01-m1'] },
  bigChat(),
  ...pageChats(),
];

/** setbased's documented divergence for documents not in json.dumps format: the document's own text of the value. */
const SETBASED_CONTENT: Record<string, string> = {
  'h01-m1': '{"text":"hi","parts":[1,2.5]}',
  'h02-m1': '"héllo ✓ 𝄞"',
};

/** The manifest, counted by hand from the chats above. */
const MANIFEST = {
  chats: 177,
  sharedChatsSkipped: 1,
  nullOwnerSkipped: 1,
  // a03 to a15, and k01 (its one message fails).
  chatsWithoutRows: 14,
  unparseableDocuments: 0,
  // 2 + 1 + 1 (a12's list) + 21 + 32 + 11 + 13 + 11 + 1 + 2 + 2 + 1 + 5100 + 150
  messages: 5348,
  // 2 + 1 + 7 + 32 + 8 + 12 + 7 + 1 + 2 + 2 + 5099 + 150
  expectedRows: 5323,
  expectedFailures: 11,
  failureReasons: {
    "role: can't adapt type 'dict'": 1,
    'done: Not a boolean value': 4,
    'done: not None, True, or False': 1,
    "model_id: can't adapt type 'dict'": 1,
    'id: A string literal cannot contain NUL (0x00) characters.': 1,
    'role: A string literal cannot contain NUL (0x00) characters.': 1,
    'parent_id: A string literal cannot contain NUL (0x00) characters.': 1,
    'model_id: A string literal cannot contain NUL (0x00) characters.': 1,
  },
  // c01's rows that fall back to `now`.
  nowRows: 18,
  // None stops v0.8.12 or the fix. v0.8.0 stops at a10 and a11 (history not an object), a12 and a13
  // (messages not an object) and c01 (timestamps that are not numbers).
  poisonChats: 0,
  v080PoisonChats: 5,
};

const ALL_FAILURES = CHATS.flatMap((c) => c.failures).sort();

// ------------------------------------------------------------ helpers

let server: StartedEmbeddedPostgres;
let adminUrl: string;
let password: string;
let tmp: string;

async function sql<T>(database: string, fn: (c: Client) => Promise<T>, role = 'test'): Promise<T> {
  return withClient(server, database, role, fn);
}

/** Create a database by plain SQL: `statements`, then `chats` as INSERTs. */
async function createSource(name: string, statements: string[], chats: HandChat[] = []): Promise<void> {
  await sql('postgres', (c) => c.query(`CREATE DATABASE ${ident(name)}`));
  await sql(name, async (c) => {
    await c.query('BEGIN');
    for (const s of statements) await c.query(s);
    for (const ch of chats)
      await c.query('INSERT INTO chat (id, user_id, title, chat, created_at, updated_at, share_id) VALUES ($1, $2, $3, $4, $5, $5, $6)', [
        ch.id,
        ch.user,
        `chat ${ch.id}`,
        ch.chat,
        1700000000,
        ch.shareId ?? null,
      ]);
    await c.query('COMMIT');
    // Write counters are part of the fingerprint: make this session's visible now.
    await c.query('SELECT pg_stat_force_next_flush()');
  });
}

/**
 * Everything that would change if the database were written: each table's
 * rows (text, and where each row version lives and which transaction wrote
 * it), the catalog (schemas, relations and their files, columns, indexes,
 * constraints, functions), the write counters, the database's comment.
 */
async function fingerprint(database: string, opts: { waitForExit?: boolean } = {}): Promise<Record<string, unknown>> {
  const user = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'";
  const fp = await sql(
    database,
    async (c) => {
      const q = async (text: string) => (await c.query(text)).rows;
      const tables = (await q(`SELECT format('%I.%I', n.nspname, c.relname) AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND ${user} ORDER BY 1`)).map(
        (r) => r.t as string,
      );
      const data: Record<string, unknown> = {};
      for (const t of tables)
        data[t] = (
          await q(
            `SELECT count(*)::int AS n, md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '')) AS rows,
                    md5(coalesce(string_agg(x.ctid::text || ':' || x.xmin::text, ',' ORDER BY x.ctid), '')) AS versions FROM ${t} x`,
          )
        )[0];
      return {
        data,
        schemas: await q(`SELECT nspname FROM pg_namespace n WHERE ${user} ORDER BY 1`),
        relations: await q(
          `SELECT n.nspname, c.relname, c.relkind, c.relfilenode, pg_relation_size(c.oid) AS size FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${user} ORDER BY 1, 2`,
        ),
        columns: await q(
          `SELECT table_schema, table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns c JOIN pg_namespace n ON n.nspname = c.table_schema WHERE ${user} ORDER BY 1, 2, ordinal_position`,
        ),
        indexes: await q(`SELECT indexdef FROM pg_indexes i JOIN pg_namespace n ON n.nspname = i.schemaname WHERE ${user} ORDER BY 1`),
        constraints: await q(`SELECT conname, pg_get_constraintdef(c.oid) AS def FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE ${user} ORDER BY 1`),
        functions: await q(`SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${user} ORDER BY 1`),
        extensions: await q('SELECT extname, extversion FROM pg_extension ORDER BY 1'),
        writes: await q('SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables ORDER BY 1'),
        comment: (await q("SELECT shobj_description(oid, 'pg_database') AS c FROM pg_database WHERE datname = current_database()"))[0].c,
      };
    },
    'test-fingerprint',
  );
  if (opts.waitForExit !== false) await noSessionsOn(database);
  return fp;
}

/** Databases on the test server. */
async function databases(): Promise<string[]> {
  return sql('postgres', async (c) => (await c.query<{ d: string }>('SELECT datname AS d FROM pg_database ORDER BY 1')).rows.map((r) => r.d));
}

/** A closed client's backend exits a moment later: a file copy would see it as another session. */
async function noSessionsOn(database: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const n = await sql('postgres', async (c) => (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [database])).rows[0].n);
    if (n === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sessions on ${database} did not end within 5000 ms`);
}

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Started as the sandboxed CLI tests start it (LAUNCH says why not the `tsx` launcher), without their sandbox. */
function startHarness(args: string[]): ChildProcess {
  return spawn(LAUNCH[0], [...LAUNCH.slice(1), ...args], { cwd: ROOT, env: { ...process.env, CI: '1', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
}

function exited(child: ChildProcess, out: { stdout: string; stderr: string }, timeoutMs = 150_000): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the harness did not exit within ${timeoutMs} ms; stderr: ${out.stderr.slice(-2000)}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, ...out });
    });
  });
}

/** stderr without the start-up sweep's notes about what earlier (or concurrent test) runs left behind. */
function ownStderr(text: string): string {
  return text
    .split('\n')
    .filter((l) => !l.startsWith('cleaned up after an earlier run'))
    .join('\n');
}

function capture(child: ChildProcess): { stdout: string; stderr: string } {
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d) => (out.stdout += d));
  child.stderr!.on('data', (d) => (out.stderr += d));
  return out;
}

/** Run the command line to its end. */
async function harness(...args: string[]): Promise<Exit> {
  const child = startHarness(args);
  return exited(child, capture(child));
}

async function resultOf(out: string): Promise<RunResult> {
  return JSON.parse(await readFile(path.join(out, 'result.json'), 'utf8')) as RunResult;
}

const runFlags = (out: string) => ['--scenario', 'small', '--no-probe', '-q', '--out', out];

interface ActualRow {
  id: string;
  chat_id: string;
  user_id: string | null;
  role: string;
  parent_id: string | null;
  model_id: string | null;
  done: boolean | null;
  created_at: number | 'now';
  updated_at_equal: boolean;
  content: string;
  json: Record<JsonColumn, string>;
}

const JSON_COLUMNS: JsonColumn[] = ['output', 'files', 'sources', 'embeds', 'status_history', 'error', 'usage'];

function expectedRows(contentOverride: Record<string, string> = {}): ActualRow[] {
  return CHATS.flatMap((c) =>
    c.rows.map((r) => ({
      id: r.id,
      chat_id: c.id,
      user_id: c.user,
      role: r.role,
      parent_id: r.parent,
      model_id: r.model,
      done: r.done,
      created_at: r.created,
      updated_at_equal: true,
      content: contentOverride[r.id] ?? r.content,
      json: Object.fromEntries(JSON_COLUMNS.map((k) => [k, r.json?.[k] ?? 'null'])) as Record<JsonColumn, string>,
    })),
  ).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** chat_message as stored, a timestamp later than any written by hand read as 'now' (and named in `outOfWindow` unless it falls inside the run). */
async function actualRows(connection: pg.ClientConfig | string, window: { fromSec: number; toSec: number }): Promise<{ rows: ActualRow[]; outOfWindow: string[] }> {
  const c = new pg.Client(typeof connection === 'string' ? { connectionString: connection } : connection);
  // JSON columns as the text stored, not parsed.
  c.setTypeParser(114, (v) => v);
  await c.connect();
  try {
    const r = await c.query(
      `SELECT id, chat_id, user_id, role, parent_id, model_id, done, created_at::float8 AS created_at, updated_at = created_at AS updated_at_equal,
              content, output, files, sources, embeds, status_history, error, usage
       FROM chat_message`,
    );
    const outOfWindow: string[] = [];
    const rows = r.rows
      .map((x) => {
        const created = Number(x.created_at);
        // Every timestamp written by hand is in 2023 or before; anything later is a `now`, which must fall inside the run.
        const isNow = created > 1710000000;
        if (isNow && (created < window.fromSec || created > window.toSec)) outOfWindow.push(x.id);
        return {
          id: x.id,
          chat_id: x.chat_id,
          user_id: x.user_id,
          role: x.role,
          parent_id: x.parent_id,
          model_id: x.model_id,
          done: x.done,
          created_at: isNow ? ('now' as const) : created,
          updated_at_equal: x.updated_at_equal,
          content: x.content,
          json: Object.fromEntries(JSON_COLUMNS.map((k) => [k, x[k]])) as Record<JsonColumn, string>,
        };
      })
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { rows, outOfWindow };
  } finally {
    await c.end();
  }
}

const nowSec = () => Math.floor(Date.now() / 1000);

// ------------------------------------------------------------ the tests

let sourceBefore: Record<string, unknown>;
let sourceBytes: number;

beforeAll(async () => {
  server = await startTestServer();
  adminUrl = server.url('postgres');
  password = new URL(adminUrl).password;
  tmp = await mkdtemp(path.join(os.tmpdir(), 'owui-byod-'));
  await createSource(SOURCE, SOURCE_DDL, CHATS);
  sourceBytes = await sql(SOURCE, async (c) => Number((await c.query('SELECT sum(octet_length(chat::text)) AS b FROM chat')).rows[0].b));
  sourceBefore = await fingerprint(SOURCE);
});

afterAll(async () => {
  await server?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('the hand-written source', () => {
  it('is an Open WebUI database at 374d2f66af06, its chat table exactly upstream\u2019s', async () => {
    const schema = await sql(SOURCE, (c) => readChatSchema(c));
    await noSessionsOn(SOURCE);
    expect(schema.columns).toEqual(EXPECTED_CHAT_COLUMNS);
    expect(schema.indexes).toEqual(EXPECTED_CHAT_INDEXES);
    expect(schema.stamp).toEqual(['374d2f66af06']);
    // The hand counts agree with the hand-written rows (a typo in either shows here).
    expect(CHATS).toHaveLength(MANIFEST.chats);
    expect(CHATS.reduce((n, c) => n + c.rows.length, 0)).toBe(MANIFEST.expectedRows);
    expect(ALL_FAILURES).toHaveLength(MANIFEST.expectedFailures);
    expect(CHATS.reduce((n, c) => n + c.messages, 0)).toBe(MANIFEST.messages);
    expect(CHATS.flatMap((c) => c.rows).filter((r) => r.created === 'now')).toHaveLength(MANIFEST.nowRows);
    expect(MANIFEST.expectedRows).toBeGreaterThan(5000);
  });
});

describe('run --from-database: every strategy on a copy, the source only read', () => {
  let out: string;
  let exit: Exit;
  let result: RunResult;
  let window: { fromSec: number; toSec: number };

  beforeAll(async () => {
    out = path.join(tmp, 'run');
    const fromSec = nowSec();
    exit = await harness('run', '--database-url', adminUrl, '--from-database', SOURCE, '--strategies', 'original,chunked,setbased,parallel', '--keep', ...runFlags(out));
    window = { fromSec, toSec: nowSec() + 1 };
    result = await resultOf(out);
  });

  it('finishes, and says how to connect to each kept database without the password', () => {
    expect(ownStderr(exit.stderr)).toBe('');
    expect(exit.code).toBe(0);
    const port = new URL(adminUrl).port;
    const kept = exit.stdout.split('\n').filter((l) => l.startsWith('kept '));
    expect(kept).toHaveLength(4);
    for (const [i, name] of ['original', 'chunked', 'setbased', 'parallel'].entries())
      expect(kept[i]).toMatch(new RegExp(`^kept ${name}: psql 'postgres://postgres:\\*\\*\\*@127\\.0\\.0\\.1:${port}/owui_run_\\w+_${name}'$`));
    // The url server is not the harness's: nothing waits for Ctrl-C.
    expect(exit.stdout).not.toMatch(/keeps running/);
  });

  it('reports the manifest derived from the copy, and names the source, never its credentials', async () => {
    expect(result.extra?.source).toEqual({
      chats: MANIFEST.chats,
      sharedChatsSkipped: MANIFEST.sharedChatsSkipped,
      nullOwnerSkipped: MANIFEST.nullOwnerSkipped,
      chatsWithoutRows: MANIFEST.chatsWithoutRows,
      unparseableDocuments: MANIFEST.unparseableDocuments,
      messages: MANIFEST.messages,
      bytes: sourceBytes,
      expectedRows: MANIFEST.expectedRows,
      expectedFailures: MANIFEST.expectedFailures,
      failureReasons: MANIFEST.failureReasons,
      poisonChats: MANIFEST.poisonChats,
      firstPoisonChats: [],
      v080PoisonChats: MANIFEST.v080PoisonChats,
    });
    expect(result.dataset).toMatchObject({
      source: 'database',
      sourceDatabase: SOURCE,
      seed: null,
      chats: MANIFEST.chats,
      migratedChats: MANIFEST.chats - 2,
      messages: MANIFEST.messages,
      expectedRows: MANIFEST.expectedRows,
      expectedFailures: MANIFEST.expectedFailures,
      nowRows: MANIFEST.nowRows,
      generatedBytes: sourceBytes,
    });
    const report = await readFile(path.join(out, 'report.md'), 'utf8');
    expect(report).toContain(`database \`${SOURCE}\``);
    for (const text of [report, await readFile(path.join(out, 'result.json'), 'utf8'), exit.stdout, exit.stderr]) expect(text).not.toContain(password);
    expect(result.command).toContain('postgres://postgres:***@');
  });

  it('describes the manifest in lines for the log and the report', () => {
    const lines = describeSourceReport(SOURCE, result.extra!.source as SourceReport);
    expect(lines[0]).toMatch(
      /^owui_staging: 177 chats \([\d.]+ kB of documents\), 2 chats skipped \(1 shared, 1 without an owner\), 5348 messages; a correct migration writes 5323 rows; 14 chats yield none; 11 messages fail to insert/,
    );
    expect(lines[1]).toBe('  4 × done: Not a boolean value');
    expect(lines.at(-1)).toBe("5 chats stop v0.8.0 (it lacks the later releases' guards)");
    expect(lines).toHaveLength(1 + Object.keys(MANIFEST.failureReasons).length + 1);
  });

  it.each(['original', 'chunked', 'parallel'])('%s writes exactly the hand-written rows and fails exactly the hand-listed messages', async (name) => {
    const s = result.strategies.find((x) => x.name === name)!;
    expect(s.outcome).toBe('succeeded');
    expect(s.warnings).toEqual([]);
    expect(s.rows).toMatchObject({ inserted: MANIFEST.expectedRows, expected: MANIFEST.expectedRows, missing: 0, unexpected: 0, mismatched: 0, expectedFailures: MANIFEST.expectedFailures });
    expect(s.verified).toBe(true);
    expect(s.alembicVersion).toBe('8452d01d26d7');
    expect(s.failures.map((f) => f.id).sort()).toEqual(ALL_FAILURES);

    const actual = await actualRows(server.connection(s.kept!.database), window);
    expect(actual.outOfWindow).toEqual([]);
    expect(actual.rows).toEqual(expectedRows());
  });

  it('setbased writes the same rows, but for documents not in json.dumps format the document\u2019s own text: reported as mismatched', async () => {
    const s = result.strategies.find((x) => x.name === 'setbased')!;
    expect(s.outcome).toBe('succeeded');
    expect(s.rows).toMatchObject({ inserted: MANIFEST.expectedRows, missing: 0, unexpected: 0, mismatched: 2, expectedFailures: MANIFEST.expectedFailures });
    expect(s.verified).toBe(false);
    expect(s.warnings).toEqual([`2 rows differ from the manifest (content, usage, or timestamps) (first: h01-m1, h02-m1)`]);
    expect(s.failures.map((f) => f.id).sort()).toEqual(ALL_FAILURES);

    const actual = await actualRows(server.connection(s.kept!.database), window);
    expect(actual.outOfWindow).toEqual([]);
    expect(actual.rows).toEqual(expectedRows(SETBASED_CONTENT));
  });

  it('leaves the source exactly as it was, with nothing added to it', async () => {
    expect(await fingerprint(SOURCE)).toEqual(sourceBefore);
  });
});

describe('refusals: exit 2, a message naming what is missing, the source untouched', () => {
  const chatOnly = SOURCE_DDL.slice(0, 6);
  const stamp = (v: string) => ['CREATE TABLE alembic_version (version_num varchar(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))', `INSERT INTO alembic_version VALUES ('${v}')`];
  const one = [CHATS[0]];
  const cases: [name: string, ddl: string[], chats: HandChat[], message: RegExp][] = [
    ['r_no_chat_table', ['CREATE TABLE chats (id varchar PRIMARY KEY, chat json)', ...stamp('374d2f66af06')], [], /--from-database r_no_chat_table: it has no chat table \(public\.chat\)/],
    [
      'r_no_chat_column',
      ['CREATE TABLE chat (id varchar PRIMARY KEY, user_id varchar, title text, document json, share_id text)', ...stamp('374d2f66af06')],
      [],
      /--from-database r_no_chat_column: its chat table has no chat column/,
    ],
    ['r_no_alembic', chatOnly, one, /--from-database r_no_alembic: it has no alembic_version table/],
    [
      'r_migrated',
      [...chatOnly, ...stamp('8452d01d26d7'), 'CREATE TABLE chat_message (id text PRIMARY KEY, chat_id text NOT NULL REFERENCES chat (id) ON DELETE CASCADE)'],
      one,
      /--from-database r_migrated: it is already migrated \(revision 8452d01d26d7\)/,
    ],
  ];

  it.each(cases)('%s', async (name, ddl, chats, message) => {
    await createSource(name, ddl, chats);
    const before = await fingerprint(name);
    const dbs = await databases();
    const r = await harness('run', '--database-url', adminUrl, '--from-database', name, '--strategies', 'chunked', ...runFlags(path.join(tmp, name)));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(await fingerprint(name)).toEqual(before);
    // The copy it checked is gone again.
    expect(await databases()).toEqual(dbs);
  });

  it('a database that does not exist', async () => {
    const r = await harness('run', '--database-url', adminUrl, '--from-database', 'no_such_db', ...runFlags(path.join(tmp, 'none')));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--from-database no_such_db: there is no such database on this server/);
  });

  it('--from-database without a server to find it on', async () => {
    const r = await harness('run', '--provider', 'embedded', '--from-database', SOURCE, ...runFlags(path.join(tmp, 'noserver')));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--from-database owui_staging needs --database-url/);
  });
});

describe('another session on the source', () => {
  let app: Client;
  beforeAll(async () => {
    app = await connect(server, SOURCE, 'open-webui', { application_name: 'open-webui' });
  });
  afterAll(async () => {
    await closeQuietly(app);
  });

  it('a file copy says so and stops; the source untouched, nothing left behind', async () => {
    const dbs = await databases();
    const r = await harness('run', '--database-url', adminUrl, '--from-database', SOURCE, '--strategies', 'chunked', ...runFlags(path.join(tmp, 'busy')));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--from-database owui_staging: 1 other session is connected to it \(open-webui as postgres\), and a file copy needs none; .* pass --copy-mode dump/);
    expect(await databases()).toEqual(dbs);
    expect(await fingerprint(SOURCE, { waitForExit: false })).toEqual(sourceBefore);
  });

  it('--copy-mode dump copies it anyway, with pg_dump, and the rows are the same', async () => {
    const out = path.join(tmp, 'dump');
    const fromSec = nowSec();
    const r = await harness('run', '--database-url', adminUrl, '--from-database', SOURCE, '--copy-mode', 'dump', '--strategies', 'chunked', '--keep', ...runFlags(out));
    const window = { fromSec, toSec: nowSec() + 1 };
    expect(ownStderr(r.stderr)).toBe('');
    expect(r.code).toBe(0);
    const result = await resultOf(out);
    expect(result.extra?.source).toMatchObject({ chats: MANIFEST.chats, messages: MANIFEST.messages, bytes: sourceBytes, expectedRows: MANIFEST.expectedRows, expectedFailures: MANIFEST.expectedFailures });
    const s = result.strategies[0];
    expect(s.verified).toBe(true);
    const actual = await actualRows(server.connection(s.kept!.database), window);
    expect(actual.outOfWindow).toEqual([]);
    expect(actual.rows).toEqual(expectedRows());
    expect((await app.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    expect(await fingerprint(SOURCE, { waitForExit: false })).toEqual(sourceBefore);
  });
});

describe('--from-dump into an owned server, with --keep', () => {
  it('restores the dump, migrates it, keeps the server until Ctrl-C, then stops it', async () => {
    const dump = path.join(tmp, 'owui_staging.dump');
    await new Promise<void>((resolve, reject) => {
      const c = server.connection(SOURCE);
      const p = spawn('pg_dump', ['--format=custom', '--file', dump], {
        env: { ...process.env, PATH: `${process.env.PATH}:/usr/lib/postgresql/15/bin`, PGHOST: String(c.host), PGPORT: String(c.port), PGUSER: String(c.user), PGPASSWORD: String(c.password), PGDATABASE: SOURCE },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      p.on('error', reject);
      p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`pg_dump exited with ${code}`))));
    });
    await noSessionsOn(SOURCE);

    const out = path.join(tmp, 'from-dump');
    const fromSec = nowSec();
    const child = startHarness(['run', '--provider', 'embedded', '--no-cache', '--from-dump', dump, '--strategies', 'original', '--keep', ...runFlags(out)]);
    const io = capture(child);
    const done = exited(child, io);
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (/keeps running/.test(io.stdout)) resolve();
      };
      child.stdout!.on('data', check);
      void done.then((e) => reject(new Error(`the harness exited (${e.code}) before keeping the server: ${e.stderr}`)), reject);
    });
    const window = { fromSec, toSec: nowSec() + 1 };
    expect(io.stdout).toMatch(/^the embedded server keeps running for inspection; press Ctrl-C to stop it and remove its data$/m);

    const result = await resultOf(out);
    expect(result.status).toBe('complete');
    expect(result.dataset).toMatchObject({ source: 'database', sourceDatabase: dump, expectedRows: MANIFEST.expectedRows, expectedFailures: MANIFEST.expectedFailures });
    expect(result.extra?.source).toMatchObject({ chats: MANIFEST.chats, messages: MANIFEST.messages, bytes: sourceBytes, failureReasons: MANIFEST.failureReasons });
    expect(result.strategies[0]).toMatchObject({ name: 'original', outcome: 'succeeded', verified: true });

    // The printed URL (the harness's own server: its password is printed) reaches the kept rows.
    const url = /^kept original: psql '(postgres:\/\/[^']+)'$/m.exec(io.stdout)?.[1];
    expect(url).toBeDefined();
    const actual = await actualRows(url!, window);
    expect(actual.rows).toEqual(expectedRows());

    child.kill('SIGINT');
    expect((await done).code).toBe(130);
    const gone = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
    await expect(gone.connect()).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('the fingerprint of the source', () => {
  it('can fail: a write that changes no value is noticed', async () => {
    await sql(SOURCE, async (c) => {
      await c.query("UPDATE chat SET title = title WHERE id = 'a01'");
      await c.query('SELECT pg_stat_force_next_flush()');
    });
    const after = await fingerprint(SOURCE);
    expect(after).not.toEqual(sourceBefore);
    expect((after.data as Record<string, unknown>)['public.chat']).not.toEqual((sourceBefore.data as Record<string, unknown>)['public.chat']);
  });
});
