/**
 * The rules a second line-by-line reading of upstream corrected or added,
 * one table row per rule that decides rows: the input (the `chat` column's
 * text), then what v0.8.12 and the fix do and what v0.8.0 does: the rows
 * (every column), the messages that fail alone, or the chat at which the
 * whole attempt fails. Written by hand from upstream's code and from running
 * it (psycopg2 and PostgreSQL 15), never computed by the code under test.
 */
import { describe, expect, it } from 'vitest';
import { chatOutcome, chatToRows, parseChatColumn, type MessageRow, type Rules } from '../../harness/openwebui/chat-to-rows.ts';
import { at, BASE_ROW } from '../support/base-row.ts';

/** The migration's `now` in these tests: 2026-01-01T00:00:00Z. */
const NOW = 1_767_225_600;
const CHAT = 'c1';
const USER = 'u1';

/** A document whose `history.messages` is `messages` (JSON text). */
const doc = (messages: string) => `{"id": "", "title": "t", "history": {"currentId": null, "messages": ${messages}}, "messages": [], "tags": []}`;
/** One user message `m1` with extra members (JSON text). */
const one = (extra = '') => doc(`{"m1": {"id": "m1", "parentId": null, "role": "user", "content": "hi", "timestamp": 1700000000${extra ? `, ${extra}` : ''}}}`);
/** The same document stored as a JSON string (upstream parses it once more): how NaN gets past the json column. */
const asString = (text: string) => JSON.stringify(text);

/** The row of the one-message document; cases override what they change. */
const BASE = BASE_ROW;

/** Rows (BASE with these columns replaced), and messages failing alone (id, exact reason); or the exception that stops the whole attempt at this chat. */
type Expect = { rows: Partial<MessageRow>[]; failures?: [id: string, reason: string][] } | { poison: string };

interface Case {
  rule: string;
  /** The `chat` column's text; null for SQL NULL. */
  text: string | null;
  /** v0.8.12 and the fix. */
  fix: Expect;
  /** v0.8.0, where it differs from `fix` (its rows always leave `usage` SQL NULL). */
  v080?: Expect;
}

const noRows: Expect = { rows: [] };
const poison = (reason: string): Expect => ({ poison: reason });
const getOn = (type: string) => poison(`AttributeError: '${type}' object has no attribute 'get'`);
const itemsOn = (type: string) => poison(`AttributeError: '${type}' object has no attribute 'items'`);
const compared = (type: string) => poison(`TypeError: '>' not supported between instances of '${type}' and 'int'`);
const stored = (column: 'role' | 'parent_id' | 'model_id', value: string): Expect => ({ rows: [{ [column]: value }] });
const fails = (reason: string): Expect => ({ rows: [], failures: [['c1-m1', reason]] });

const CASES: Case[] = [
  // ---- A document that is not an object: `.get` raises, nothing catches it (every release).
  { rule: 'a non-empty list document', text: '[{"history": {"messages": {"m1": {"role": "user"}}}}]', fix: getOn('list') },
  { rule: 'a non-zero number document', text: '42', fix: getOn('int') },
  { rule: 'a float document', text: '2.5', fix: getOn('float') },
  { rule: 'a true document', text: 'true', fix: getOn('bool') },
  { rule: 'a string document whose content is a string (encoded twice)', text: asString(asString(one())), fix: getOn('str') },
  { rule: 'a string document whose content is an empty string', text: asString('""'), fix: getOn('str') },
  { rule: 'a string document whose content is a number', text: asString('5'), fix: getOn('int') },
  { rule: 'a string document whose content is 0 (falsiness is tested before parsing)', text: asString('0'), fix: getOn('int') },
  { rule: 'a string document whose content is false', text: asString('false'), fix: getOn('bool') },
  { rule: 'a string document whose content is a list', text: asString('[1]'), fix: getOn('list') },
  { rule: 'a string document whose content is an empty list', text: asString('[]'), fix: getOn('list') },
  { rule: 'a string document whose content is null', text: asString('null'), fix: getOn('NoneType') },
  // Falsy documents and unreadable strings still give no rows.
  { rule: 'SQL NULL', text: null, fix: noRows },
  { rule: 'JSON null', text: 'null', fix: noRows },
  { rule: 'an empty object', text: '{}', fix: noRows },
  { rule: 'an empty list', text: '[]', fix: noRows },
  { rule: '0', text: '0', fix: noRows },
  { rule: '0.0', text: '0.0', fix: noRows },
  { rule: 'false', text: 'false', fix: noRows },
  { rule: 'an empty string', text: '""', fix: noRows },
  { rule: 'a string that is not JSON', text: asString('{"history": '), fix: noRows },
  { rule: 'a string holding an empty object', text: asString('{}'), fix: noRows },
  { rule: 'a string holding a document: parsed once more', text: asString(one()), fix: { rows: [{}] } },

  // ---- Lists bound to text columns: sent as an array, stored as PostgreSQL writes the array.
  { rule: 'parentId []', text: one('"parentId": []'), fix: stored('parent_id', '{}') },
  { rule: 'parentId [null]', text: one('"parentId": [null]'), fix: stored('parent_id', '{NULL}') },
  { rule: 'parentId [null, null]', text: one('"parentId": [null, null]'), fix: stored('parent_id', '{NULL,NULL}') },
  { rule: 'parentId ["a"]', text: one('"parentId": ["a"]'), fix: stored('parent_id', '{a}') },
  { rule: 'parentId [1]', text: one('"parentId": [1]'), fix: stored('parent_id', '{1}') },
  { rule: 'parentId [null, "x"]', text: one('"parentId": [null, "x"]'), fix: stored('parent_id', '{NULL,x}') },
  { rule: 'role ["user"]: a truthy list role is kept', text: one('"role": ["user"]'), fix: stored('role', '{user}') },
  { rule: 'role [null]: truthy, kept as {NULL} (text, not SQL NULL)', text: one('"role": [null]'), fix: stored('role', '{NULL}') },
  { rule: 'role []: falsy, the message is skipped', text: one('"role": []'), fix: noRows },
  { rule: 'model [true]', text: one('"model": [true]'), fix: stored('model_id', '{t}') },
  { rule: 'model [true, false, null]', text: one('"model": [true, false, null]'), fix: stored('model_id', '{t,f,NULL}') },
  { rule: 'model ["a b"]: quoted', text: one('"model": ["a b"]'), fix: stored('model_id', '{"a b"}') },
  { rule: 'model [""]: quoted', text: one('"model": [""]'), fix: stored('model_id', '{""}') },
  { rule: 'model ["NULL"]: quoted (unquoted it would read as NULL)', text: one('"model": ["NULL"]'), fix: stored('model_id', '{"NULL"}') },
  { rule: 'model ["null x"]: quoted for the space only', text: one('"model": ["null x"]'), fix: stored('model_id', '{"null x"}') },
  { rule: 'model [1, 1.5]: numeric', text: one('"model": [1, 1.5]'), fix: stored('model_id', '{1,1.5}') },
  { rule: 'model [1.0]: a float keeps its scale', text: one('"model": [1.0]'), fix: stored('model_id', '{1.0}') },
  { rule: 'model [1e16]: a float as numeric digits', text: one('"model": [1e16]'), fix: stored('model_id', '{10000000000000000}') },
  { rule: 'model [-1]', text: one('"model": [-1]'), fix: stored('model_id', '{-1}') },
  { rule: 'model [1, 10000000000]: bigint', text: one('"model": [1, 10000000000]'), fix: stored('model_id', '{1,10000000000}') },
  { rule: 'model [1.5, NaN] (a string document): double precision', text: asString(one('"model": [1.5, NaN]')), fix: stored('model_id', '{1.5,NaN}') },
  { rule: 'model [1e16, NaN]: double precision output', text: asString(one('"model": [1e16, NaN]')), fix: stored('model_id', '{1e+16,NaN}') },
  { rule: 'parentId [[1], [2]]', text: one('"parentId": [[1], [2]]'), fix: stored('parent_id', '{{1},{2}}') },
  { rule: 'parentId [[1], [2.5]]: both become numeric', text: one('"parentId": [[1], [2.5]]'), fix: stored('parent_id', '{{1},{2.5}}') },
  { rule: 'parentId [["a", "b c"], ["d", null]]', text: one('"parentId": [["a", "b c"], ["d", null]]'), fix: stored('parent_id', '{{a,"b c"},{d,NULL}}') },
  { rule: 'parentId [[null], [1]]: an all-null sub-list is sent as a literal', text: one('"parentId": [[null], [1]]'), fix: stored('parent_id', '{{NULL},{1}}') },
  { rule: 'parentId [null, [null]]: all null, sent as one literal, stored as it is', text: one('"parentId": [null, [null]]'), fix: stored('parent_id', '{NULL,{NULL}}') },
  { rule: 'parentId [[null], [null, null]]: ragged but all null, stored as it is', text: one('"parentId": [[null], [null, null]]'), fix: stored('parent_id', '{{NULL},{NULL,NULL}}') },
  { rule: 'parentId ["1", 2]: the string read as an integer', text: one('"parentId": ["1", 2]'), fix: stored('parent_id', '{1,2}') },
  { rule: 'parentId [true, "yes"]: the string read as a boolean', text: one('"parentId": [true, "yes"]'), fix: stored('parent_id', '{t,t}') },
  { rule: 'model ["a\\\\b"]: a backslash escaped', text: one(String.raw`"model": ["a\\b"]`), fix: stored('model_id', String.raw`{"a\\b"}`) },
  { rule: 'model ["a\\"b"]: a quote escaped', text: one(String.raw`"model": ["a\"b"]`), fix: stored('model_id', String.raw`{"a\"b"}`) },
  { rule: 'model ["a,b", "a{b", "a}b"]: delimiter and braces quoted', text: one('"model": ["a,b", "a{b", "a}b"]'), fix: stored('model_id', '{"a,b","a{b","a}b"}') },
  { rule: 'model [" a", "a\\tb"]: whitespace quoted', text: one(String.raw`"model": [" a", "a\tb"]`), fix: stored('model_id', '{" a","a\tb"}') },
  { rule: 'model ["h\\u00e9"]: non-ASCII unquoted', text: one(String.raw`"model": ["h\u00e9"]`), fix: stored('model_id', '{hé}') },
  { rule: "model [\"it's\"]: a single quote needs nothing", text: one(`"model": ["it's"]`), fix: stored('model_id', "{it's}") },
  // Lists PostgreSQL cannot make an array of: the row fails alone.
  { rule: 'role [[]]: truthy, kept, then fails', text: one('"role": [[]]'), fix: fails('role: cannot determine type of empty array') },
  { rule: 'parentId [[]]', text: one('"parentId": [[]]'), fix: fails('parent_id: cannot determine type of empty array') },
  { rule: 'parentId [1, "a"]: the string read as an integer', text: one('"parentId": [1, "a"]'), fix: fails('parent_id: invalid input syntax for type integer: "a"') },
  { rule: 'parentId [[1], [2, 3]]: ragged', text: one('"parentId": [[1], [2, 3]]'), fix: fails('parent_id: multidimensional arrays must have array expressions with matching dimensions') },
  { rule: 'parentId [null, [1]]: a NULL beside a sub-array', text: one('"parentId": [null, [1]]'), fix: fails('parent_id: multidimensional arrays must have array expressions with matching dimensions') },
  { rule: 'model [{"a": 1}]: an object inside', text: one('"model": [{"a": 1}]'), fix: fails("model_id: can't adapt type 'dict'") },
  { rule: 'model {"a": 1}: an object alone', text: one('"model": {"a": 1}'), fix: fails("model_id: can't adapt type 'dict'") },
  { rule: 'model [true, 1]: no common type', text: one('"model": [true, 1]'), fix: fails('model_id: ARRAY types boolean and integer cannot be matched') },
  { rule: 'model [["x"], [1]]: sub-arrays of types that do not convert', text: one('"model": [["x"], [1]]'), fix: fails('model_id: ARRAY could not convert type integer[] to text[]') },
  { rule: 'model ["a", ["b"]]: a string read as an array literal', text: one('"model": ["a", ["b"]]'), fix: fails('model_id: malformed array literal: "a"') },
  { rule: 'model ["a\\u0000"]: NUL inside', text: one(String.raw`"model": ["a\u0000"]`), fix: fails('model_id: A string literal cannot contain NUL (0x00) characters.') },
  // Of several bad values, the first upstream meets: SQLAlchemy's checks, then psycopg2's, then the server parsing, then planning.
  { rule: 'done "yes" and model [1, "a"]: the driver fails first', text: one('"done": "yes", "model": [1, "a"]'), fix: fails("done: Not a boolean value: 'yes'") },
  { rule: 'role [[]] and parentId {"a": 1}: psycopg2 fails before the server', text: one('"role": [[]], "parentId": {"a": 1}'), fix: fails("parent_id: can't adapt type 'dict'") },
  {
    rule: 'role [[1], [2, 3]] and model [1, "a"]: parsing fails before planning',
    text: one('"role": [[1], [2, 3]], "model": [1, "a"]'),
    fix: fails('model_id: invalid input syntax for type integer: "a"'),
  },

  // ---- v0.8.0: no guards on history and messages, the raw timestamp, no usage.
  { rule: 'history is a list', text: '{"history": [{"messages": {}}]}', fix: noRows, v080: getOn('list') },
  { rule: 'history is a string', text: '{"history": "m1"}', fix: noRows, v080: getOn('str') },
  { rule: 'history is null', text: '{"history": null}', fix: noRows, v080: getOn('NoneType') },
  { rule: 'history is a number', text: '{"history": 5}', fix: noRows, v080: getOn('int') },
  { rule: 'history is missing: the default {} is used', text: '{"messages": [{"role": "user"}]}', fix: noRows },
  { rule: 'history is empty', text: '{"history": {}}', fix: noRows },
  { rule: 'history.messages is a list', text: '{"history": {"messages": [{"role": "user"}]}}', fix: noRows, v080: itemsOn('list') },
  { rule: 'history.messages is a string', text: '{"history": {"messages": "m1"}}', fix: noRows, v080: itemsOn('str') },
  { rule: 'history.messages is null', text: '{"history": {"messages": null}}', fix: noRows, v080: itemsOn('NoneType') },
  { rule: 'history.messages is missing', text: '{"history": {"currentId": null}}', fix: noRows },
  { rule: 'a document stored as a string, its history a list', text: asString('{"history": [1]}'), fix: noRows, v080: getOn('list') },
  { rule: 'a message that is not an object is skipped', text: doc('{"m0": "text", "m1": {"role": "user", "content": "hi", "timestamp": 1700000000}}'), fix: { rows: [{}] } },
  { rule: 'timestamp " 1700000003 "', text: one().replace('1700000000', '" 1700000003 "'), fix: { rows: [at(1700000003)] }, v080: compared('str') },
  { rule: 'timestamp "abc"', text: one().replace('1700000000', '"abc"'), fix: { rows: [at(NOW)] }, v080: compared('str') },
  { rule: 'timestamp null', text: one().replace('1700000000', 'null'), fix: { rows: [at(NOW)] }, v080: compared('NoneType') },
  { rule: 'timestamp [1700000000]', text: one().replace('1700000000', '[1700000000]'), fix: { rows: [at(NOW)] }, v080: compared('list') },
  { rule: 'timestamp {"t": 1}', text: one().replace('1700000000', '{"t": 1}'), fix: { rows: [at(NOW)] }, v080: compared('dict') },
  {
    rule: 'a bad timestamp after good messages: v0.8.0 fails the whole chat (and attempt)',
    text: doc('{"m1": {"role": "user", "content": "hi", "timestamp": 1700000000}, "m2": {"role": "user", "content": "hi", "timestamp": "1700000001"}}'),
    fix: { rows: [{}, { id: 'c1-m2', ...at(1700000001) }] },
    v080: compared('str'),
  },
  {
    rule: 'a bad timestamp on a message without role is never compared',
    text: doc('{"m0": {"role": "", "timestamp": "abc"}, "m1": {"role": "user", "content": "hi", "timestamp": 1700000000}}'),
    fix: { rows: [{}] },
  },
  { rule: 'no timestamp: now', text: doc('{"m1": {"role": "user", "content": "hi"}}'), fix: { rows: [at(NOW)] } },
  { rule: 'timestamp true: 1, before 2020: now', text: one().replace('1700000000', 'true'), fix: { rows: [at(NOW)] } },
  { rule: 'timestamp 1700000000.5: truncated; v0.8.0 rounds half away from zero', text: one().replace('1700000000', '1700000000.5'), fix: { rows: [{}] }, v080: { rows: [at(1700000001)] } },
  { rule: 'timestamp 1700000000.7', text: one().replace('1700000000', '1700000000.7'), fix: { rows: [{}] }, v080: { rows: [at(1700000001)] } },
  { rule: 'timestamp 1700000000.4', text: one().replace('1700000000', '1700000000.4'), fix: { rows: [{}] } },
  { rule: 'timestamp 1700000001.5', text: one().replace('1700000000', '1700000001.5'), fix: { rows: [at(1700000001)] }, v080: { rows: [at(1700000002)] } },
  { rule: 'timestamp 1700000000123.9: milliseconds, floor-divided as a float', text: one().replace('1700000000', '1700000000123.9'), fix: { rows: [{}] } },
  { rule: 'timestamp 1700000000999.9', text: one().replace('1700000000', '1700000000999.9'), fix: { rows: [{}] } },
  { rule: 'timestamp 1700000000123: milliseconds', text: one().replace('1700000000', '1700000000123'), fix: { rows: [{}] } },
  { rule: 'timestamp 1577836800.4: after 2020 either way', text: one().replace('1700000000', '1577836800.4'), fix: { rows: [at(1577836800)] } },
  { rule: 'timestamp 1577836799.9: before 2020 either way', text: one().replace('1700000000', '1577836799.9'), fix: { rows: [at(NOW)] } },
  { rule: 'timestamp now + 1 day + 0.5 s: truncated it is kept; v0.8.0 compares the float', text: one().replace('1700000000', `${NOW + 86400}.5`), fix: { rows: [at(NOW + 86400)] }, v080: { rows: [at(NOW)] } },
  {
    rule: 'timestamp NaN (a string document): now; v0.8.0 cannot store it, the row fails',
    text: asString(one().replace('1700000000', 'NaN')),
    fix: { rows: [at(NOW)] },
    v080: fails('created_at: bigint out of range'),
  },
  {
    rule: 'timestamp Infinity: now; v0.8.0 floor-divides it into NaN, the row fails',
    text: asString(one().replace('1700000000', 'Infinity')),
    fix: { rows: [at(NOW)] },
    v080: fails('created_at: bigint out of range'),
  },
  { rule: 'timestamp -Infinity: now', text: asString(one().replace('1700000000', '-Infinity')), fix: { rows: [at(NOW)] } },
  { rule: 'usage is written by v0.8.12 and the fix only', text: one('"usage": {"a": 1}'), fix: { rows: [{ usage: '{"a": 1}' }] }, v080: { rows: [{}] } },
  {
    rule: 'usage PostgreSQL rejects (NaN): the row fails where usage is written',
    text: asString(one('"usage": {"a": NaN}')),
    fix: fails('usage: invalid input syntax for type json'),
    v080: { rows: [{}] },
  },
];

function check(c: Case, rules: Rules, e: Expect): void {
  // v0.8.0 never writes usage: SQL NULL.
  const base: MessageRow = rules === 'v0.8.0' ? { ...BASE, usage: null } : BASE;
  const out = chatToRows(CHAT, USER, parseChatColumn(c.text), NOW, rules);
  if ('poison' in e) {
    expect(out).toEqual({ kind: 'poison', chatId: CHAT, reason: e.poison });
    return;
  }
  expect(out.kind, out.kind === 'poison' ? out.reason : '').toBe('rows');
  if (out.kind !== 'rows') return;
  expect(out.rows).toEqual(e.rows.map((r) => ({ ...base, ...r })));
  expect(out.failures.map((f) => [f.id, f.reason])).toEqual(e.failures ?? []);
}

describe('v0.8.12 and the fix', () => {
  it.each(CASES.map((c) => [c.rule, c] as const))('%s', (_rule, c) => check(c, 'v0.8.12', c.fix));
});

describe('v0.8.0', () => {
  it.each(CASES.map((c) => [c.rule, c] as const))('%s', (_rule, c) => check(c, 'v0.8.0', c.v080 ?? c.fix));
});

describe('who raises a row failure', () => {
  it.each<[string, string, 'driver' | 'server']>([
    ['SQLAlchemy rejects done "yes"', '"done": "yes"', 'driver'],
    ["psycopg2 cannot adapt an object", '"model": {"a": 1}', 'driver'],
    ['psycopg2 refuses NUL', String.raw`"parentId": "a\u0000"`, 'driver'],
    ['PostgreSQL cannot make an array of [1, "a"]', '"model": [1, "a"]', 'server'],
    ['PostgreSQL finds a ragged array', '"parentId": [[1], [2, 3]]', 'server'],
  ])('%s: %s', (_name, extra, by) => {
    const out = chatOutcome(CHAT, USER, parseChatColumn(one(extra)), NOW);
    expect(out).toMatchObject({ kind: 'entries', entries: [{ ok: false, failure: { raisedBy: by } }] });
  });
});

describe('chats the migration does not read', () => {
  it('a shared snapshot or a chat without owner is never parsed, poison or not', () => {
    for (const rules of ['v0.8.12', 'v0.8.0'] as const) {
      expect(chatOutcome(CHAT, 'shared-c0', parseChatColumn('[1]'), NOW, rules)).toEqual({ kind: 'entries', entries: [] });
      expect(chatOutcome(CHAT, null, parseChatColumn('{"history": [1]}'), NOW, rules)).toEqual({ kind: 'entries', entries: [] });
    }
  });
});
