import { copyText } from '../../seed/copy-text.ts';
import { describe, expect, it } from 'vitest';
import {
  copyField,
  genericValue,
  implicitLinks,
  plannedRows,
  PROPORTIONS,
  Randomness,
  seedOrder,
  type ColumnInfo,
  type TableInfo,
} from '../../harness/upgrade/seed-tables.ts';

const col = (name: string, udt: string, more: Partial<ColumnInfo> = {}): ColumnInfo => ({
  name,
  dataType: udt,
  udt,
  maxLength: null,
  nullable: false,
  default: null,
  serverFilled: false,
  ...more,
});
const table = (name: string, columns: ColumnInfo[], more: Partial<TableInfo> = {}): TableInfo => ({ name, columns, uniques: [['id']], foreignKeys: [], checks: 0, ...more });

describe('plannedRows', () => {
  const counts = { users: 40, chats: 300, rowsOf: (t: string) => (t === 'knowledge' ? 7 : 0) };
  it('scales each table with its basis', () => {
    expect(plannedRows('file', counts)).toBe(Math.round(300 * PROPORTIONS.file.ratio));
    expect(plannedRows('memory', counts)).toBe(40 * PROPORTIONS.memory.ratio);
    expect(plannedRows('knowledge_file', counts)).toBe(7 * PROPORTIONS.knowledge_file.ratio);
    expect(plannedRows('channel', counts)).toBe(PROPORTIONS.channel.ratio);
  });
  it('gives an unknown table one row per user, at least one row when the basis has any, none when it has none', () => {
    expect(plannedRows('brand_new_table', counts)).toBe(40);
    expect(plannedRows('shared_chat', { ...counts, chats: 3 })).toBe(1);
    expect(plannedRows('message', counts)).toBe(0);
    expect(plannedRows('user', { ...counts, users: 0 })).toBe(0);
  });
});

describe('seedOrder', () => {
  it('puts every table after those it depends on, ties by name', () => {
    const deps = new Map([
      ['message', new Set(['channel', 'user'])],
      ['channel', new Set(['user'])],
      ['user', new Set<string>()],
      ['file', new Set(['user'])],
      ['knowledge_file', new Set(['knowledge', 'file'])],
      ['knowledge', new Set(['user'])],
    ]);
    expect(seedOrder(deps)).toEqual(['user', 'channel', 'file', 'knowledge', 'knowledge_file', 'message']);
  });
  it('ignores self-references and tables it does not seed, and breaks a cycle at its first table by name', () => {
    const deps = new Map([
      ['b', new Set(['a', 'b'])],
      ['a', new Set(['b', 'chat'])],
      ['c', new Set(['a'])],
    ]);
    expect(seedOrder(deps)).toEqual(['a', 'b', 'c']);
  });
});

describe('implicitLinks', () => {
  const user = table('user', [col('id', 'varchar')]);
  const chat = table('chat', [col('id', 'varchar')]);
  const tables = new Map([
    ['user', user],
    ['chat', chat],
  ]);
  it('links user_id and <table>_id text columns to the table’s id', () => {
    const t = table('chat_file', [col('id', 'text'), col('user_id', 'text'), col('chat_id', 'text'), col('file_id', 'text'), col('count_id', 'int4')]);
    expect(implicitLinks(t, tables).map((l) => `${l.columns[0]}->${l.refTable}.${l.refColumns[0]}`)).toEqual(['user_id->user.id', 'chat_id->chat.id']);
  });
  it('links auth.id to user.id, and leaves out declared keys and columns a shape fills', () => {
    expect(implicitLinks(table('auth', [col('id', 'varchar')]), tables).map((l) => l.refTable)).toEqual(['user']);
    const fk = { columns: ['chat_id'], refSchema: 'public', refTable: 'chat', refColumns: ['id'] };
    const t = table('x', [col('id', 'text'), col('user_id', 'text'), col('chat_id', 'text')], { foreignKeys: [fk] });
    expect(implicitLinks(t, tables, new Set(['user_id']))).toEqual([]);
  });
});

describe('genericValue', () => {
  const r = () => new Randomness(1, 't');
  it('respects a varchar length, and makes unique values distinct', () => {
    const c = col('code', 'varchar', { maxLength: 8 });
    const rr = r();
    const values = Array.from({ length: 500 }, (_, i) => genericValue(c, i, 1_700_000_000, rr, true) as string);
    expect(values.every((v) => v.length <= 8)).toBe(true);
    expect(new Set(values).size).toBe(500);
  });
  it('gives epoch seconds to *_at integers, and a value of every common type', () => {
    const rr = r();
    expect(genericValue(col('seen_at', 'int8'), 3, 1_700_000_000, rr, false)).toBe(1_700_000_000);
    expect(genericValue(col('n', 'int4'), 3, 0, rr, true)).toBe(4);
    expect(genericValue(col('small', 'int2'), 40_000, 0, rr, true)).toBe(32_767);
    expect(genericValue(col('doc', 'jsonb'), 0, 0, rr, false)).toEqual({});
    expect(genericValue(col('u', 'uuid'), 0, 0, rr, false)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(genericValue(col('d', 'date'), 0, 86_400, rr, false)).toBe('1970-01-02');
    expect(genericValue(col('ts', 'timestamptz'), 0, 0, rr, false)).toBe('1970-01-01T00:00:00.000Z');
    expect(genericValue(col('b', 'bytea'), 0, 0, rr, false)).toMatch(/^\\x[0-9a-f]{32}$/);
    expect(typeof genericValue(col('f', 'float8'), 0, 0, rr, false)).toBe('number');
    expect(typeof genericValue(col('ok', 'bool'), 0, 0, rr, false)).toBe('boolean');
    expect(genericValue(col('mood', 'mood', { dataType: 'USER-DEFINED', enumLabels: ['sad', 'ok'] }), 1, 0, rr, true)).toBe('ok');
    expect(genericValue(col('ids', 'int4', { dataType: 'ARRAY' }), 0, 0, rr, false)).toMatch(/^\{\d+\}$/);
    expect(genericValue(col('geo', 'point'), 0, 0, rr, false)).toBeUndefined();
  });
  it('is deterministic per seed and table', () => {
    const a = genericValue(col('t', 'text'), 0, 0, new Randomness(9, 'x'), false);
    expect(genericValue(col('t', 'text'), 0, 0, new Randomness(9, 'x'), false)).toBe(a);
    expect(genericValue(col('t', 'text'), 0, 0, new Randomness(9, 'y'), false)).not.toBe(a);
  });
});

describe('copyField', () => {
  it('escapes for COPY text format', () => {
    expect(copyText('a\\b\tc\nd\re')).toBe('a\\\\b\\tc\\nd\\re');
    expect(copyField(col('t', 'text'), 'x\ty')).toBe('x\\ty');
    expect(copyField(col('t', 'text'), null)).toBe('\\N');
  });
  it('writes JSON for json columns and objects, timestamps for epoch numbers, and cuts text to the column length', () => {
    expect(copyField(col('j', 'json'), { a: 'b\\c' })).toBe('{"a":"b\\\\\\\\c"}');
    expect(copyField(col('t', 'text'), { a: 1 })).toBe('{"a":1}');
    expect(copyField(col('ts', 'timestamp'), 0)).toBe('1970-01-01T00:00:00.000Z');
    expect(copyField(col('n', 'int8'), 12.7)).toBe('12');
    expect(copyField(col('b', 'bool'), false)).toBe('f');
    expect(copyField(col('v', 'varchar', { maxLength: 3 }), 'abcdef')).toBe('abc');
  });
  it('refuses what does not fit the type, so the caller falls back to it', () => {
    expect(copyField(col('n', 'int4'), 'abc')).toBeUndefined();
    expect(copyField(col('u', 'uuid'), { a: 1 })).toBeUndefined();
  });
});
