/**
 * What the ports send, one table row per behaviour of upstream's code that
 * the rules alone do not decide: the statements a port issues for a small
 * `chat` table (a fake client records them and answers as PostgreSQL
 * would), or the failure it ends with. Written by hand from upstream's
 * code (v0.8.0, v0.8.12, the fix's pull request), never computed by the
 * code under test.
 */
import { describe, expect, it } from 'vitest';
import { PoisonChatError } from '../../harness/openwebui/chat-to-rows.ts';
import type { Client } from '../../harness/postgres/sql.ts';
import { chunked } from '../../harness/strategies/chunked.ts';
import { original } from '../../harness/strategies/original.ts';
import { resuming } from '../../harness/strategies/resuming.ts';
import type { Strategy, StrategyContext, StrategyOptions } from '../../harness/strategies/strategy.ts';
import { v080 } from '../../harness/strategies/v080.ts';

interface ChatRow {
  id: string;
  user_id: string | null;
  chat: string | null;
}

interface Sent {
  text: string;
  values?: unknown[];
}

/** A message (JSON text) with `extra` members. */
const msg = (id: string, extra = '') => `"${id}": {"id": "${id}", "role": "user", "content": "x", "timestamp": 1700000000${extra ? `, ${extra}` : ''}}`;
/** A chat document holding `messages` (JSON text members). */
const doc = (...messages: string[]) => `{"history": {"messages": {${messages.join(', ')}}}}`;
/** Chats c000, c001, ... each with `perChat` plain messages. */
function chats(n: number, perChat = 1, first = 0): ChatRow[] {
  return Array.from({ length: n }, (_, i) => {
    const id = `c${String(first + i).padStart(4, '0')}`;
    return { id, user_id: 'u1', chat: doc(...Array.from({ length: perChat }, (_, k) => msg(`m${k}`))) };
  });
}

/** A client that records every statement and answers like PostgreSQL for the port's queries over `table`. */
function fakeClient(table: ChatRow[], sent: Sent[]): Client {
  const migrated = table.filter((c) => c.user_id !== null && !c.user_id.startsWith('shared-')).sort((a, b) => (a.id < b.id ? -1 : 1));
  let cursor = 0;
  const answer = (rows: unknown[], rowCount = rows.length) => ({ rows, rowCount, command: '', oid: 0, fields: [] });
  const client = {
    on: () => client,
    end: async () => undefined,
    async query(text: string, values?: unknown[]) {
      sent.push(values ? { text, values } : { text });
      if (text.startsWith('SELECT max(id) AS m FROM chat')) return answer([{ m: migrated.at(-1)?.id ?? null }]);
      if (text.startsWith('SELECT id, user_id, chat FROM chat WHERE id > $1')) {
        const [after, upTo] = values as [string, string | undefined];
        return answer(migrated.filter((c) => c.id > after && (upTo === undefined || c.id <= upTo)).slice(0, 100));
      }
      if (text.startsWith('SELECT id, user_id, chat FROM chat WHERE user_id NOT LIKE')) return answer(migrated);
      if (text.startsWith('DECLARE')) cursor = 0;
      if (text.startsWith('FETCH FORWARD 1000')) {
        const rows = migrated.slice(cursor, cursor + 1000);
        cursor += rows.length;
        return answer(rows);
      }
      if (text.startsWith('SELECT max(chat_id) AS m FROM chat_message')) return answer([{ m: null }]);
      if (text.startsWith('INSERT INTO chat_message')) return answer([], values ? values.length / 17 : text.split('), (').length);
      return answer([], 0);
    },
  };
  return client as unknown as Client;
}

async function runPort(strategy: Strategy, table: ChatRow[], options: StrategyOptions = {}) {
  const sent: Sent[] = [];
  const ctx: StrategyContext = {
    server: {} as StrategyContext['server'],
    database: 'fake',
    connect: async () => fakeClient(table, sent),
    progress: () => undefined,
    phase: () => undefined,
    log: () => undefined,
    signal: new AbortController().signal,
    options,
  };
  try {
    return { report: await strategy.run(ctx), error: null, sent };
  } catch (err) {
    return { report: null, error: err as Error, sent };
  }
}

const kind = (s: Sent): string => {
  const t = s.text;
  if (t.startsWith('INSERT INTO chat_message')) return s.values ? `INSERT bound ${s.values.length / 17}` : `INSERT ${t.split('), (').length}`;
  if (t.startsWith('SELECT id, user_id, chat FROM chat WHERE id > $1')) return `PAGE after ${(s.values as string[])[0] || "''"}${(s.values as unknown[]).length > 1 ? ` to ${(s.values as string[])[1]}` : ' (no upper bound)'}`;
  if (t.startsWith('SELECT max(id)')) return 'MAX';
  if (/^(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT) /.test(t)) return t.replace(/ sa_savepoint_\d+$/, '');
  return t.split(/\s+/).slice(0, 2).join(' ');
};

describe('the fix (chunked) and resuming', () => {
  it('read max(id) inside the first page’s transaction, walk pages until an empty one, and send values inline', async () => {
    const { sent, error } = await runPort(chunked, chats(150));
    expect(error).toBeNull();
    const load = sent.map(kind);
    const start = load.indexOf('CREATE TABLE');
    expect(load.slice(start, load.indexOf('CREATE INDEX'))).toEqual([
      'CREATE TABLE',
      'BEGIN',
      'MAX',
      "PAGE after '' to c0149",
      'SAVEPOINT',
      'INSERT 100',
      'RELEASE SAVEPOINT',
      'COMMIT',
      'BEGIN',
      'PAGE after c0099 to c0149',
      'SAVEPOINT',
      'INSERT 50',
      'RELEASE SAVEPOINT',
      'COMMIT',
      'BEGIN',
      'PAGE after c0149 to c0149',
      'COMMIT',
    ]);
    const insert = sent.find((s) => s.text.startsWith('INSERT'))!;
    expect(insert.values).toBeUndefined();
    expect(insert.text).toMatch(/^INSERT INTO chat_message \(id, chat_id, user_id, role, parent_id, content, output, model_id, files, sources, embeds, done, status_history, error, usage, created_at, updated_at\) VALUES \('c0000-m0', 'c0000', 'u1', 'user', NULL, '"x"', 'null', NULL, 'null', 'null', 'null', true, 'null', 'null', 'null', 1700000000, 1700000000\), /);
    expect(insert.text).toMatch(/ ON CONFLICT \(id\) DO NOTHING$/);
  });

  it('with no chat: no high-water mark, one page read without an upper bound', async () => {
    const { sent, error } = await runPort(chunked, []);
    expect(error).toBeNull();
    const load = sent.map(kind);
    expect(load.slice(load.indexOf('CREATE TABLE'), load.indexOf('CREATE INDEX'))).toEqual(['CREATE TABLE', 'BEGIN', 'MAX', "PAGE after '' (no upper bound)", 'COMMIT']);
  });

  it('bind parameters only when asked (the benchmark’s comparison)', async () => {
    const { sent } = await runPort(chunked, chats(3), { sendValues: 'bound' });
    expect(sent.filter((s) => s.text.startsWith('INSERT')).map(kind)).toEqual(['INSERT bound 3']);
  });

  it('3000 rows a statement at most, each in its own savepoint', async () => {
    const { sent } = await runPort(chunked, chats(70, 50));
    expect(sent.filter((s) => s.text.startsWith('INSERT')).map(kind)).toEqual(['INSERT 3000', 'INSERT 500']);
  });

  const POISONED = [...chats(120), { id: 'c0130', user_id: 'u1', chat: '[{"history": {}}]' }, ...chats(20, 1, 140)];

  it('the fix fails at a document that is not an object, naming the chat, after committing the pages before it', async () => {
    const { sent, error } = await runPort(chunked, POISONED);
    expect(error).toBeInstanceOf(PoisonChatError);
    expect(error!.message).toBe("chat c0130 stops the migration: AttributeError: 'list' object has no attribute 'get'");
    const load = sent.map(kind);
    expect(load.slice(load.indexOf('BEGIN'))).toEqual([
      'BEGIN',
      'MAX',
      "PAGE after '' to c0159",
      'SAVEPOINT',
      'INSERT 100',
      'RELEASE SAVEPOINT',
      'COMMIT',
      'BEGIN',
      'PAGE after c0099 to c0159',
      // Parsing meets the document before anything of this page is sent; the transaction is rolled back.
      'ROLLBACK',
    ]);
  });

  it('resuming skips it, reports it, and inserts every other chat', async () => {
    const { report, error, sent } = await runPort(resuming, POISONED);
    expect(error).toBeNull();
    expect(report!.skippedChats).toEqual([{ chatId: 'c0130', reason: "AttributeError: 'list' object has no attribute 'get'" }]);
    expect(sent.filter((s) => s.text.startsWith('INSERT')).map(kind)).toEqual(['INSERT 100', 'INSERT 40']);
  });
});

describe('v0.8.12 (original)', () => {
  /** 5000 messages: one batch; the message at `at` (0-based) carries `extra`. */
  const batchWith = (at: number, extra: string) =>
    Array.from({ length: 50 }, (_, i) => ({
      id: `c${String(i).padStart(4, '0')}`,
      user_id: 'u1',
      chat: doc(...Array.from({ length: 100 }, (_, k) => msg(`m${String(k).padStart(3, '0')}`, i * 100 + k === at ? extra : ''))),
    }));

  it('sends a 5000-message batch as five 1000-row statements, values inline, in one savepoint', async () => {
    const { sent } = await runPort(original, batchWith(-1, ''));
    expect(sent.filter((s) => /^(INSERT|SAVEPOINT|RELEASE)/.test(s.text)).map(kind)).toEqual([
      'SAVEPOINT',
      'INSERT 1000',
      'INSERT 1000',
      'INSERT 1000',
      'INSERT 1000',
      'INSERT 1000',
      'RELEASE SAVEPOINT',
    ]);
  });

  it('a done SQLAlchemy rejects anywhere in the batch: nothing of it is sent before the row-by-row fallback', async () => {
    const { sent, report } = await runPort(original, batchWith(4500, '"done": "yes"'));
    const kinds = sent.filter((s) => /^(INSERT|SAVEPOINT|RELEASE|ROLLBACK)/.test(s.text)).map(kind);
    expect(kinds.slice(0, 3)).toEqual(['SAVEPOINT', 'ROLLBACK TO SAVEPOINT', 'SAVEPOINT']);
    expect(kinds.filter((k) => k === 'INSERT 1')).toHaveLength(4999);
    expect(kinds.some((k) => k === 'INSERT 1000')).toBe(false);
    expect(report!.failures).toEqual([expect.objectContaining({ id: 'c0045-m000', reason: "done: Not a boolean value: 'yes'" })]);
  });

  it('a value psycopg2 cannot render: the statements before the one holding it were sent', async () => {
    const { sent } = await runPort(original, batchWith(2500, '"model": {"a": 1}'));
    const kinds = sent.filter((s) => /^(INSERT|SAVEPOINT|RELEASE|ROLLBACK)/.test(s.text)).map(kind);
    expect(kinds.slice(0, 5)).toEqual(['SAVEPOINT', 'INSERT 1000', 'INSERT 1000', 'ROLLBACK TO SAVEPOINT', 'SAVEPOINT']);
  });

  it('creates done without a server default, the FK and four indexes with the table; the fix its table with DEFAULT true', async () => {
    const ddl = (sent: Sent[]) => sent.find((s) => s.text.startsWith('CREATE TABLE'))!.text;
    expect(ddl((await runPort(original, [])).sent)).toMatch(/\n\s+done boolean,\n/);
    expect(ddl((await runPort(original, [])).sent)).toMatch(/FOREIGN KEY \(chat_id\) REFERENCES chat \(id\) ON DELETE CASCADE/);
    expect(ddl((await runPort(v080, [])).sent)).toMatch(/\n\s+done boolean,\n/);
    expect(ddl((await runPort(chunked, [])).sent)).toMatch(/\n\s+done boolean DEFAULT true,\n/);
  });

  it('fails the whole attempt at a document that is not an object, naming it', async () => {
    const { error } = await runPort(original, [...chats(3), { id: 'c0009', user_id: 'u1', chat: '"\\"text\\""' }]);
    expect(error).toBeInstanceOf(PoisonChatError);
    expect(error!.message).toBe("chat c0009 stops the migration: AttributeError: 'str' object has no attribute 'get'");
  });
});

describe('v0.8.0', () => {
  it('one INSERT per message in its own savepoint, no usage column', async () => {
    const { sent } = await runPort(v080, chats(2));
    expect(sent.filter((s) => /^(INSERT|SAVEPOINT|RELEASE)/.test(s.text)).map(kind)).toEqual(['SAVEPOINT', 'INSERT 1', 'RELEASE SAVEPOINT', 'SAVEPOINT', 'INSERT 1', 'RELEASE SAVEPOINT']);
    expect(sent.find((s) => s.text.startsWith('INSERT'))!.text).toMatch(/^INSERT INTO chat_message \(id, chat_id, user_id, role, parent_id, content, output, model_id, files, sources, embeds, done, status_history, error, created_at, updated_at\) VALUES/);
  });

  it('a float timestamp is stored as PostgreSQL rounds it into bigint', async () => {
    const { sent } = await runPort(v080, [{ id: 'c1', user_id: 'u1', chat: doc(msg('m1').replace('1700000000', '1700000000.5')) }]);
    expect(sent.find((s) => s.text.startsWith('INSERT'))!.text).toMatch(/, 1700000001, 1700000001\)$/);
  });

  it.each([
    ['a string timestamp', doc(msg('m1').replace('1700000000', '"1700000000"')), "TypeError: '>' not supported between instances of 'str' and 'int'"],
    ['a null timestamp', doc(msg('m1').replace('1700000000', 'null')), "TypeError: '>' not supported between instances of 'NoneType' and 'int'"],
    ['a history that is a list', '{"history": []}', "AttributeError: 'list' object has no attribute 'get'"],
    ['messages that are a list', '{"history": {"messages": []}}', "AttributeError: 'list' object has no attribute 'items'"],
  ])('%s fails the whole migration, naming the chat', async (_what, chat, reason) => {
    const { error, sent } = await runPort(v080, [...chats(2), { id: 'c0007', user_id: 'u1', chat }]);
    expect(error).toBeInstanceOf(PoisonChatError);
    expect(error!.message).toBe(`chat c0007 stops the migration: ${reason}`);
    // The rows before it were inserted inside the one transaction, which is rolled back.
    expect(sent.at(-1)!.text).toBe('ROLLBACK');
  });
});
