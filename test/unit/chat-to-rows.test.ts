/**
 * How one chat becomes rows under v0.8.12's rules (which the fix shares):
 * one table row per rule, branch and seeded edge case. Inputs are the `chat`
 * column's text, as the strategies receive it; every expectation is written
 * by hand from what upstream, in Python, writes, never computed by the code
 * under test. chat-to-rows-upstream.test.ts holds the corrections found by
 * reading upstream's releases again, and v0.8.0's rules.
 */
import { describe, expect, it } from 'vitest';
import { chatToRows, coerceTimestamp, parseChatColumn, PoisonChatError, type ChatRows, type MessageRow } from '../../harness/openwebui/chat-to-rows.ts';
import { loads } from '../../harness/openwebui/python-json.ts';
import { messageEntries } from '../../harness/strategies/ported/message-entries.ts';
import { EDGE_CASES, type EdgeCase } from '../../seed/chat-generator.ts';
import { at, BASE_ROW } from '../support/base-row.ts';

/** 2026-01-01T00:00:00Z: the migration's `now` in these tests. */
const NOW = 1_767_225_600;
const CHAT = 'c1';
const USER = 'u1';
const NUL_TEXT = 'A string literal cannot contain NUL (0x00) characters.';

/** A document whose `history.messages` is `messages` (JSON text, written by hand). */
const doc = (messages: string) => `{"id": "", "title": "t", "history": {"currentId": null, "messages": ${messages}}, "messages": [], "tags": []}`;
/** A user message with the given extra members (JSON text). */
const msg = (extra = '') => `{"id": "m", "parentId": null, "childrenIds": [], "role": "user", "content": "hi", "timestamp": 1700000000${extra ? `, ${extra}` : ''}}`;
const one = (extra = '') => doc(`{"m1": ${msg(extra)}}`);

/** The row of the one-message document; cases override what they change. */
const BASE = BASE_ROW;

interface Case {
  name: string;
  /** The seeder's edge case this row reproduces. */
  edge?: EdgeCase;
  userId?: string | null;
  /** The `chat` column's text; null for SQL NULL. */
  text: string | null;
  /** Expected rows, in order: each is BASE with these columns replaced. */
  rows: Partial<MessageRow>[];
  /** Expected failures: id and a pattern of the reason. */
  failures?: [id: string, reason: RegExp][];
  /** Instead of rows: the whole attempt fails at this chat, with this exception. */
  poison?: string;
}

const CASES: Case[] = [
  // ---- 1. the document
  { name: 'a plain user message becomes one row with every column', text: one(), rows: [{}] },
  { name: 'SQL NULL document: no rows', edge: 'null-document', text: null, rows: [] },
  { name: 'empty object document: no rows', edge: 'empty-document', text: '{}', rows: [] },
  { name: 'JSON null document: no rows', text: 'null', rows: [] },
  { name: 'empty string document (falsy): no rows', text: '""', rows: [] },
  {
    name: 'document stored as a JSON string is parsed once more',
    edge: 'document-as-string',
    text: JSON.stringify(doc('{"m1": {"role": "user", "content": "x", "timestamp": 1700000000}}')),
    rows: [{ content: '"x"', done: true }],
  },
  { name: 'a JSON string that is not JSON: no rows', edge: 'document-as-invalid-string', text: JSON.stringify('{"history": {"messages": {'), rows: [] },
  // Upstream calls `.get` on whatever the (once more parsed) document is: nothing catches what that raises.
  { name: 'a JSON string holding a string: the migration fails here', text: JSON.stringify(JSON.stringify('{}')), rows: [], poison: "AttributeError: 'str' object has no attribute 'get'" },
  { name: 'a document that is a list: the migration fails here', text: '[{"history": {}}]', rows: [], poison: "AttributeError: 'list' object has no attribute 'get'" },
  { name: 'a document that is a number: the migration fails here', text: '5', rows: [], poison: "AttributeError: 'int' object has no attribute 'get'" },
  { name: 'an empty list document (falsy): no rows', text: '[]', rows: [] },
  { name: 'a zero document (falsy): no rows', text: '0', rows: [] },

  // ---- 2. history and messages must be objects
  { name: 'history is a list: no rows', edge: 'history-not-object', text: `{"history": [${msg()}]}`, rows: [] },
  { name: 'history is null: no rows', text: '{"history": null}', rows: [] },
  { name: 'no history: no rows', text: '{"messages": [{"role": "user"}]}', rows: [] },
  { name: 'history.messages is a list: no rows', edge: 'messages-not-object', text: `{"history": {"messages": [${msg()}]}}`, rows: [] },
  { name: 'history.messages is a string: no rows', text: '{"history": {"messages": "m1"}}', rows: [] },
  { name: 'history.messages is empty: no rows', text: doc('{}'), rows: [] },

  // ---- 3. which entries become rows, in dict order
  {
    name: 'entries keep the dict order of history.messages',
    text: doc(`{"b": ${msg()}, "a": ${msg()}, "2": ${msg()}, "1": ${msg()}}`),
    rows: [{ id: 'c1-b' }, { id: 'c1-a' }, { id: 'c1-2' }, { id: 'c1-1' }],
  },
  {
    name: 'an entry that is not an object is skipped',
    edge: 'message-not-object',
    text: doc(`{"m1": "this entry is not a message object", "m2": ${msg()}, "m3": ["x"], "m4": null}`),
    rows: [{ id: 'c1-m2' }],
  },
  { name: 'a message without role is skipped', edge: 'message-without-role', text: doc('{"m1": {"content": "x", "timestamp": 1700000000}}'), rows: [] },
  { name: 'role "" is falsy: skipped', edge: 'message-empty-role', text: one('"role": ""'), rows: [] },
  { name: 'role 0 is falsy: skipped', text: one('"role": 0'), rows: [] },
  { name: 'role 0.0 is falsy: skipped', text: one('"role": 0.0'), rows: [] },
  { name: 'role -0.0 is falsy: skipped', text: one('"role": -0.0'), rows: [] },
  { name: 'role false is falsy: skipped', text: one('"role": false'), rows: [] },
  { name: 'role null is falsy: skipped', text: one('"role": null'), rows: [] },
  { name: 'role [] is falsy: skipped', text: one('"role": []'), rows: [] },
  { name: 'role {} is falsy: skipped', text: one('"role": {}'), rows: [] },
  { name: 'role "0" is truthy: kept as text', text: one('"role": "0"'), rows: [{ role: '0' }] },
  { name: 'role 7 is truthy: stored as the text 7', edge: 'role-number', text: one('"role": 7'), rows: [{ role: '7' }] },
  { name: 'role 2.5 is stored as numeric text', text: one('"role": 2.5'), rows: [{ role: '2.5' }] },
  { name: 'role true is stored as the text true', text: one('"role": true'), rows: [{ role: 'true' }] },
  { name: 'role "system" is kept', text: one('"role": "system"'), rows: [{ role: 'system' }] },
  {
    name: 'a duplicate message id keeps the last value at the first position (Python dict)',
    text: doc(`{"m1": ${msg('"content": "first"')}, "m2": ${msg()}, "m1": ${msg('"content": "last"')}}`),
    rows: [{ id: 'c1-m1', content: '"last"' }, { id: 'c1-m2' }],
  },
  {
    name: 'a message id is used verbatim after the chat id and a dash',
    text: doc(`{"x-y z\\u00e9": ${msg()}}`),
    rows: [{ id: 'c1-x-y zé' }],
  },

  // ---- 4. the timestamp
  { name: 'timestamp in milliseconds is divided by 1000', edge: 'timestamp-ms', text: one('"timestamp": 1700000000123'), rows: [at(1700000000)] },
  { name: 'timestamp before 2020 becomes now', edge: 'timestamp-before-2020', text: one('"timestamp": 1500000000'), rows: [at(NOW)] },
  { name: 'milliseconds before 2020: divided, then now', edge: 'timestamp-ms-before-2020', text: one('"timestamp": 1500000000000'), rows: [at(NOW)] },
  { name: 'timestamp in 2100 becomes now', edge: 'timestamp-future', text: one('"timestamp": 4102444800'), rows: [at(NOW)] },
  { name: 'numeric string with spaces is int(float())ed', edge: 'timestamp-string', text: one('"timestamp": " 1700000003 "'), rows: [at(1700000003)] },
  { name: 'string with an exponent', edge: 'timestamp-exponent-string', text: one('"timestamp": "1.7e9"'), rows: [at(1700000000)] },
  { name: 'a string that is no number becomes now', edge: 'timestamp-garbage', text: one('"timestamp": "abc"'), rows: [at(NOW)] },
  { name: 'timestamp null becomes now', edge: 'timestamp-null', text: one('"timestamp": null'), rows: [at(NOW)] },
  { name: 'no timestamp: now', edge: 'timestamp-missing', text: doc('{"m1": {"role": "user", "content": "hi"}}'), rows: [at(NOW)] },
  { name: 'a float timestamp is truncated', edge: 'timestamp-float', text: one('"timestamp": 1700000000.9'), rows: [at(1700000000)] },
  { name: 'timestamp true is 1, before 2020: now', text: one('"timestamp": true'), rows: [at(NOW)] },
  { name: 'timestamp "inf" becomes now', text: one('"timestamp": "inf"'), rows: [at(NOW)] },
  { name: 'timestamp "nan" becomes now', text: one('"timestamp": "nan"'), rows: [at(NOW)] },
  { name: 'timestamp "-Infinity" becomes now', text: one('"timestamp": "-Infinity"'), rows: [at(NOW)] },
  { name: 'underscores between digits are accepted', text: one('"timestamp": "1_700_000_000"'), rows: [at(1700000000)] },
  { name: 'a doubled underscore is not a number: now', text: one('"timestamp": "1__700000000"'), rows: [at(NOW)] },
  { name: 'a numeric string in milliseconds', text: one('"timestamp": "1.7e12"'), rows: [at(1700000000)] },
  { name: 'a list timestamp becomes now', text: one('"timestamp": [1700000000]'), rows: [at(NOW)] },
  { name: 'exactly 2020-01-01 is kept', text: one('"timestamp": 1577836800'), rows: [at(1577836800)] },
  { name: 'one second before 2020 becomes now', text: one('"timestamp": 1577836799'), rows: [at(NOW)] },
  { name: 'exactly a day after now is kept', text: one(`"timestamp": ${NOW + 86400}`), rows: [at(NOW + 86400)] },
  { name: 'a day and a second after now becomes now', text: one(`"timestamp": ${NOW + 86401}`), rows: [at(NOW)] },
  { name: 'exactly 10,000,000,000 is seconds (in 2286): now', text: one('"timestamp": 10000000000'), rows: [at(NOW)] },
  { name: 'just above 10,000,000,000 is milliseconds (1970): now', text: one('"timestamp": 10000000001'), rows: [at(NOW)] },
  { name: 'an integer beyond float range becomes now', text: one(`"timestamp": 1${'0'.repeat(400)}`), rows: [at(NOW)] },

  // ---- 5 and 6. the columns
  {
    name: 'an assistant message fills every column; JSON columns are json.dumps text',
    text: doc(
      '{"m2": {"id":"m2","parentId":"m1","childrenIds":[],"role":"assistant","content":"ok","model":"gpt-4o","done":true,' +
        '"statusHistory":[{"action":"web_search","done":true}],"sources":[{"source":{"name":"x"},"document":["d"]}],' +
        '"files":[{"id":"f"}],"embeds":["e"],"error":{"content":"boom"},"output":[{"type":"message"}],' +
        '"usage":{"prompt_tokens":5,"response_token/s":12.50,"total_duration":12345678901234567890},"timestamp":1700000001}}',
    ),
    rows: [
      {
        id: 'c1-m2',
        role: 'assistant',
        parent_id: 'm1',
        content: '"ok"',
        output: '[{"type": "message"}]',
        model_id: 'gpt-4o',
        files: '[{"id": "f"}]',
        sources: '[{"source": {"name": "x"}, "document": ["d"]}]',
        embeds: '["e"]',
        done: true,
        status_history: '[{"action": "web_search", "done": true}]',
        error: '{"content": "boom"}',
        usage: '{"prompt_tokens": 5, "response_token/s": 12.5, "total_duration": 12345678901234567890}',
        ...at(1700000001),
      },
    ],
  },
  { name: 'content null is the JSON literal null', text: one('"content": null'), rows: [{ content: 'null' }] },
  { name: 'no content is the JSON literal null too', text: doc('{"m1": {"role": "user", "timestamp": 1700000000}}'), rows: [{ content: 'null' }] },
  { name: 'a list content keeps json.dumps separators', text: one('"content": [1,2,{"a":1.0}]'), rows: [{ content: '[1, 2, {"a": 1.0}]' }] },
  { name: 'dict keys keep their order, integer-like ones too', text: one('"content": {"2": 1, "1": 2, "b": 3}'), rows: [{ content: '{"2": 1, "1": 2, "b": 3}' }] },
  {
    name: 'NUL in content is kept (escaped) in the JSON column',
    edge: 'nul-in-content',
    text: one('"content": "before\\u0000after"'),
    rows: [{ content: '"before\\u0000after"' }],
  },
  {
    name: 'non-ASCII content is written ASCII-only, astral as a surrogate pair',
    edge: 'non-ascii-content',
    text: one('"content": "héllo ✓ 𝄞"'),
    rows: [{ content: '"h\\u00e9llo \\u2713 \\ud834\\udd1e"' }],
  },
  { name: 'escaped non-ASCII content comes out the same', text: one('"content": "h\\u00e9llo \\u2713 \\ud834\\udd1e"'), rows: [{ content: '"h\\u00e9llo \\u2713 \\ud834\\udd1e"' }] },
  { name: '\\/ in content is written as /', text: one('"content": "a\\/b"'), rows: [{ content: '"a/b"' }] },
  { name: 'done missing is true', text: one(), rows: [{ done: true }] },
  { name: 'done null stays SQL NULL', edge: 'done-null', text: one('"done": null'), rows: [{ done: null }] },
  { name: 'done 0 is false', edge: 'done-int', text: one('"done": 0'), rows: [{ done: false }] },
  { name: 'done 1 is true', text: one('"done": 1'), rows: [{ done: true }] },
  { name: 'done 1.0 is true', text: one('"done": 1.0'), rows: [{ done: true }] },
  { name: 'done 0.0 is false', text: one('"done": 0.0'), rows: [{ done: false }] },
  { name: 'done false is false', text: one('"done": false'), rows: [{ done: false }] },
  { name: 'done "yes" fails the row', edge: 'done-string', text: one('"done": "yes"'), rows: [], failures: [['c1-m1', /^done: .*yes/]] },
  { name: 'done 2 fails the row', text: one('"done": 2'), rows: [], failures: [['c1-m1', /^done: .*2/]] },
  { name: 'done [] fails the row', text: one('"done": []'), rows: [], failures: [['c1-m1', /^done: /]] },
  { name: 'parentId 5 is stored as the text 5', edge: 'parent-id-number', text: one('"parentId": 5'), rows: [{ parent_id: '5' }] },
  { name: 'parentId -0 is the text 0', text: one('"parentId": -0'), rows: [{ parent_id: '0' }] },
  { name: 'parentId 1e16 (a float) is numeric text', text: one('"parentId": 1e16'), rows: [{ parent_id: '10000000000000000' }] },
  { name: 'parentId 100.0 keeps its .0', text: one('"parentId": 100.0'), rows: [{ parent_id: '100.0' }] },
  { name: 'parentId 1e-05 is numeric text', text: one('"parentId": 1e-05'), rows: [{ parent_id: '0.00001' }] },
  { name: 'parentId false is the text false', text: one('"parentId": false'), rows: [{ parent_id: 'false' }] },
  { name: 'a model given as an object fails the row', edge: 'model-object', text: one('"model": {"id": "llama3.1:8b"}'), rows: [], failures: [['c1-m1', /^model_id: can't adapt type 'dict'/]] },
  { name: "a model given as a list is stored as the array's text", text: one('"model": ["a"]'), rows: [{ model_id: '{a}' }] },
  { name: 'role ["assistant"] is truthy: kept, stored as array text', edge: 'role-list', text: one('"role": ["assistant"]'), rows: [{ role: '{assistant}' }] },
  { name: 'role [[]] is truthy, but PostgreSQL cannot type the array: the row fails', edge: 'role-list-nested-empty', text: one('"role": [[]]'), rows: [], failures: [['c1-m1', /^role: cannot determine type of empty array$/]] },
  { name: 'parentId [null, "regenerated answer"] is stored as array text, quoted', edge: 'parent-id-list', text: one('"parentId": [null, "regenerated answer"]'), rows: [{ parent_id: '{NULL,"regenerated answer"}' }] },
  {
    name: 'parentId [["m0"], ["m0", "x"]] is ragged: the row fails',
    edge: 'parent-id-list-ragged',
    text: one('"parentId": [["m0"], ["m0", "x"]]'),
    rows: [],
    failures: [['c1-m1', /^parent_id: multidimensional arrays must have array expressions with matching dimensions$/]],
  },
  { name: 'model ["gpt-4o", null] is stored as array text', edge: 'model-list', text: one('"model": ["gpt-4o", null]'), rows: [{ model_id: '{gpt-4o,NULL}' }] },
  { name: 'model ["gpt-4o", 1]: the string is read as an integer, the row fails', edge: 'model-list-mixed', text: one('"model": ["gpt-4o", 1]'), rows: [], failures: [['c1-m1', /^model_id: invalid input syntax for type integer: "gpt-4o"$/]] },
  { name: 'NUL in role fails the row', edge: 'nul-in-role', text: one('"role": "us\\u0000er"'), rows: [], failures: [['c1-m1', new RegExp(`^role: ${NUL_TEXT.replace(/[.()]/g, '\\$&')}`)]] },
  { name: 'NUL in parentId fails the row', text: one('"parentId": "a\\u0000"'), rows: [], failures: [['c1-m1', /^parent_id: /]] },
  { name: 'NUL in the message id fails the row', text: doc(`{"m\\u0000": ${msg()}}`), rows: [], failures: [['c1-m\u0000', /^id: /]] },
  {
    name: 'a failing message fails alone; the others are rows',
    text: doc(`{"m1": ${msg()}, "m2": ${msg('"model": {"id": "x"}')}, "m3": ${msg('"role": "assistant"')}}`),
    rows: [{ id: 'c1-m1' }, { id: 'c1-m3', role: 'assistant' }],
    failures: [['c1-m2', /^model_id: /]],
  },

  // ---- which chats are read at all
  { name: 'a chat without owner (NULL user_id) is not migrated', edge: 'null-user', userId: null, text: one(), rows: [] },
  { name: "a shared snapshot ('shared-' user) is not migrated", userId: 'shared-c0', text: one(), rows: [] },
  { name: "a user id merely containing 'shared-' is migrated", userId: 'u-shared-1', text: one(), rows: [{ user_id: 'u-shared-1' }] },
];

describe('how one chat becomes rows', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const userId = c.userId === undefined ? USER : c.userId;
    const result = chatToRows(CHAT, userId, parseChatColumn(c.text), NOW);
    if (c.poison !== undefined) {
      expect(result).toEqual({ kind: 'poison', chatId: CHAT, reason: c.poison });
      return;
    }
    const out = rowsOf(result);
    expect(out.rows).toEqual(c.rows.map((r) => ({ ...BASE, user_id: userId, ...r })));
    expect(out.failures.map((f) => f.id)).toEqual((c.failures ?? []).map(([id]) => id));
    out.failures.forEach((f, i) => {
      expect(f.reason).toMatch(c.failures![i][1]);
      expect(f.chatId).toBe(CHAT);
    });
  });

  it('has a row for every edge case the seeder plants', () => {
    const covered = new Set(CASES.map((c) => c.edge).filter(Boolean));
    expect(EDGE_CASES.filter((e) => !covered.has(e))).toEqual([]);
  });

  it('says which rows took the migration\u2019s now', () => {
    const out = rowsOf(chatToRows(CHAT, USER, parseChatColumn(doc(`{"a": ${msg()}, "b": ${msg('"timestamp": null')}, "c": {"role": "user"}}`)), NOW));
    expect(out.timestampIsNow).toEqual([false, true, true]);
  });
});

function rowsOf(out: ReturnType<typeof chatToRows>): ChatRows {
  if (out.kind !== 'rows') throw new Error(`expected rows, got poison: ${out.reason}`);
  return out;
}

describe('timestamp coercion: int(float(x)), then the range rules', () => {
  it.each<[string, string | undefined, number]>([
    ['an int', '1700000000', 1700000000],
    ['a negative int', '-5', NOW],
    ['zero', '0', NOW],
    ['a float', '1700000000.999', 1700000000],
    ['a float in milliseconds', '1700000000123.9', 1700000000],
    ['false', 'false', NOW],
    ['a string with tabs and newlines', '"\\t1700000000\\n"', 1700000000],
    ['a string with a sign', '"+1700000000"', 1700000000],
    ['a string with a leading dot', '".17e10"', 1700000000],
    ['a string with a trailing dot', '"1700000000."', 1700000000],
    ['an empty string', '""', NOW],
    ['a string of spaces', '"   "', NOW],
    ['a hexadecimal string', '"0x6553f100"', NOW],
    ['an object', '{"t": 1700000000}', NOW],
    ['absent', undefined, NOW],
  ])('%s', (_name, json, expected) => {
    expect(coerceTimestamp(json === undefined ? undefined : loads(json), NOW).value).toBe(expected);
  });
});

describe('message entries (the order upstream batches them in)', () => {
  it('interleaves rows and failing messages in dict order', () => {
    const text = doc(`{"m1": ${msg()}, "m2": ${msg('"done": "yes"')}, "m3": ${msg()}, "m4": {"role": ""}}`);
    const entries = messageEntries(CHAT, USER, text, NOW);
    expect(entries.map((e) => (e.ok ? `row ${e.row.id}` : `failure ${e.failure.id}`))).toEqual(['row c1-m1', 'failure c1-m2', 'row c1-m3']);
  });

  it('yields nothing for chats the migration does not read', () => {
    expect(messageEntries(CHAT, 'shared-x', one(), NOW)).toEqual([]);
    expect(messageEntries(CHAT, null, one(), NOW)).toEqual([]);
    // Not even for a document that would stop the migration: the query never returns it.
    expect(messageEntries(CHAT, 'shared-x', '[1]', NOW)).toEqual([]);
  });

  it('throws PoisonChatError naming the chat where upstream raises', () => {
    expect(() => messageEntries(CHAT, USER, '[1]', NOW)).toThrow(PoisonChatError);
    expect(() => messageEntries(CHAT, USER, '[1]', NOW)).toThrow("chat c1 stops the migration: AttributeError: 'list' object has no attribute 'get'");
  });
});
