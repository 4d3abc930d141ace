/**
 * How one chat becomes `chat_message` rows: the rules of upstream migration
 * 8452d01d26d7, with the Python semantics that decide the bytes written.
 * v0.8.12, the chunked fix and later releases share one set of rules; the
 * first release, v0.8.0, differs in its guards and its timestamps (see
 * {@link Rules}). The seeder (to build its manifest), every strategy and the
 * verifier use this one module.
 */
import { adaptText, FAILURE_STAGES, type Adapted, type FailureStage } from './adapt-text.ts';
import { dumps, isDict, loads, PyFloat, pyTypeName, truthy, floatRepr, type PyDict, type PyValue } from './python-json.ts';

/** The columns of `chat_message`, in table order. */
export const MESSAGE_COLUMNS = [
  'id',
  'chat_id',
  'user_id',
  'role',
  'parent_id',
  'content',
  'output',
  'model_id',
  'files',
  'sources',
  'embeds',
  'done',
  'status_history',
  'error',
  'usage',
  'created_at',
  'updated_at',
] as const;
export type MessageColumn = (typeof MESSAGE_COLUMNS)[number];

/** Columns upstream writes through SQLAlchemy's JSON type. */
export const JSON_COLUMNS = ['content', 'output', 'files', 'sources', 'embeds', 'status_history', 'error', 'usage'] as const;

/** 2020-01-01T00:00:00Z: timestamps before it are replaced by the migration's start time. */
export const MIN_TIMESTAMP = 1_577_836_800;
/** Above this a timestamp is taken to be in milliseconds. */
export const MILLISECONDS_ABOVE = 10_000_000_000;

/**
 * Whose rules: `v0.8.12` stands for v0.8.12, the chunked fix and the later
 * releases, which share them; `v0.8.0` is the first release, which lacks
 * their guards: a `history` or `messages` that is not an object, or a
 * timestamp that is not a number, stops it; it keeps a float timestamp as a
 * float (PostgreSQL rounds it into the bigint column) and never writes `usage`.
 */
export type Rules = 'v0.8.12' | 'v0.8.0';

/** One row of `chat_message` as the driver sends it: text, JSON text, boolean, integers. */
export interface MessageRow {
  id: string;
  chat_id: string;
  user_id: string | null;
  role: string | null;
  parent_id: string | null;
  content: string;
  output: string;
  model_id: string | null;
  files: string;
  sources: string;
  embeds: string;
  done: boolean | null;
  status_history: string;
  error: string;
  /** SQL NULL under v0.8.0's rules, which never write it. */
  usage: string | null;
  created_at: number;
  updated_at: number;
}

/** A message that upstream would try to insert but that fails alone (logged, counted, skipped). */
export interface RowFailure {
  id: string;
  chatId: string;
  reason: string;
  /**
   * Who raises it: the driver, before the statement is sent (a value it
   * cannot render, SQLAlchemy's Boolean check), or the server (a list
   * PostgreSQL cannot make an array of, JSON it rejects). Absent where a
   * strategy reports an error it met itself.
   */
  raisedBy?: 'driver' | 'server';
  /** More precisely, where (see FailureStage): SQLAlchemy's bind processors run over a whole executemany first. */
  stage?: FailureStage;
}

/**
 * A chat at which upstream raises outside any savepoint (the document is
 * not an object, say): nothing catches it, so the whole attempt fails at
 * this chat. `reason` is Python's exception, as upstream's log shows it.
 */
export interface PoisonChat {
  kind: 'poison';
  chatId: string;
  reason: string;
}

/** Thrown by a port meeting a {@link PoisonChat}: the attempt fails there, naming the chat. */
export class PoisonChatError extends Error {
  override name = 'PoisonChatError';
  constructor(readonly poison: PoisonChat) {
    super(`chat ${poison.chatId} stops the migration: ${poison.reason}`);
  }
}

/** One message as upstream's loop meets it: a row to insert, or a message whose insert fails. */
export type MessageEntry = { ok: true; row: MessageRow; timestampIsNow: boolean } | { ok: false; failure: RowFailure };

/**
 * What one chat gives: its entries in upstream's order (rows and failing
 * messages interleaved, as upstream batches them), or the poison that
 * stops the migration there.
 */
export type ChatOutcome = { kind: 'entries'; entries: MessageEntry[] } | PoisonChat;

export interface ChatRows {
  kind: 'rows';
  rows: MessageRow[];
  /** Parallel to `rows`: true where the timestamp fell back to the migration's `now`. */
  timestampIsNow: boolean[];
  failures: RowFailure[];
}

/** The query upstream streams (v0.8.12) or pages through (the fix) skips these chats. */
export function isMigratedChat(userId: string | null): boolean {
  // `user_id NOT LIKE 'shared-%'`: NULL is not migrated either.
  return userId !== null && !userId.startsWith('shared-');
}

/** Python's message for calling a method the value's type lacks. */
const noAttribute = (v: PyValue | undefined, method: string) => `AttributeError: '${pyTypeName(v)}' object has no attribute '${method}'`;

/**
 * The `(message_id, message)` pairs upstream turns into rows, in dict order,
 * or the exception that stops the migration at this document. `chat` is the
 * value of the `chat` column as `json.loads` returned it.
 */
export function migratedMessages(chat: PyValue | undefined, rules: Rules = 'v0.8.12'): { messages: [string, PyDict][] } | { poison: string } {
  const none = { messages: [] };
  let doc = chat;
  // Falsiness is tested on the column's value only: a string holding `[]` or `0` is parsed, then meets `.get`.
  if (!truthy(doc)) return none;
  if (typeof doc === 'string') {
    try {
      doc = loads(doc);
    } catch {
      return none;
    }
  }
  // Upstream calls `.get('history', {})` on the document whatever it is.
  if (!isDict(doc)) return { poison: noAttribute(doc, 'get') };
  const history = doc.has('history') ? doc.get('history') : new Map();
  if (!isDict(history)) return rules === 'v0.8.0' ? { poison: noAttribute(history, 'get') } : none;
  const messages = history.has('messages') ? history.get('messages') : new Map();
  if (!isDict(messages)) return rules === 'v0.8.0' ? { poison: noAttribute(messages, 'items') } : none;
  const out: [string, PyDict][] = [];
  for (const [messageId, message] of messages) {
    if (!isDict(message) || !truthy(message.get('role'))) continue;
    if (rules === 'v0.8.0') {
      // v0.8.0 compares the raw timestamp with an int, outside its savepoint.
      const ts = message.has('timestamp') ? message.get('timestamp') : 0;
      if (!isPyNumber(ts)) return { poison: `TypeError: '>' not supported between instances of '${pyTypeName(ts)}' and 'int'` };
    }
    out.push([messageId, message]);
  }
  return { messages: out };
}

/** Values Python compares with an int: bool, int, float. */
function isPyNumber(v: PyValue | undefined): boolean {
  return typeof v === 'boolean' || typeof v === 'number' || typeof v === 'bigint' || v instanceof PyFloat;
}

/**
 * `int(float(x))` then the range rules: milliseconds are divided first, then
 * anything before 2020 or more than a day in the future becomes `now`.
 */
export function coerceTimestamp(value: PyValue | undefined, now: number): { value: number; isNow: boolean } {
  const raw = value === undefined ? now : value;
  let ts = pyIntOfFloat(raw);
  if (ts === undefined) return { value: now, isNow: true };
  if (ts > MILLISECONDS_ABOVE) ts = Math.floor(ts / 1000);
  if (ts < MIN_TIMESTAMP || ts > now + 86_400) return { value: now, isNow: true };
  return { value: ts, isNow: value === undefined };
}

/**
 * v0.8.0's timestamp: the value as it is (a number; see migratedMessages),
 * milliseconds floor-divided (a float stays a float), the same range rules;
 * PostgreSQL rounds a float half away from zero into the bigint column.
 * NaN survives every comparison and cannot be stored: the row fails.
 */
function v080Timestamp(value: PyValue | undefined, now: number): Adapted<{ value: number; isNow: boolean }> {
  if (value === undefined) return { ok: true, value: { value: now, isNow: true } };
  let ts: number | bigint;
  if (typeof value === 'boolean') ts = value ? 1 : 0;
  else if (typeof value === 'number' || typeof value === 'bigint') ts = value;
  else if (value instanceof PyFloat) ts = value.value;
  else throw new Error(`v0.8.0 timestamp ${dumps(value)}: migratedMessages reports it as poison`);
  if (ts > MILLISECONDS_ABOVE) ts = typeof ts === 'bigint' ? ts / 1000n : pyFloorDiv(ts, 1000);
  if (ts < MIN_TIMESTAMP || ts > now + 86_400) return { ok: true, value: { value: now, isNow: true } };
  if (typeof ts === 'number' && Number.isNaN(ts)) return { ok: false, reason: 'bigint out of range', stage: 'execute' };
  return { ok: true, value: { value: typeof ts === 'bigint' ? Number(ts) : Math.sign(ts) * Math.round(Math.abs(ts)), isNow: false } };
}

/** Python's `float // float` (positive divisor): infinity gives NaN. */
function pyFloorDiv(x: number, y: number): number {
  const mod = x % y;
  const div = (x - mod) / y;
  const floor = Math.floor(div);
  return div - floor > 0.5 ? floor + 1 : floor;
}

/** Python's `int(float(x))`, or undefined where Python raises. */
export function pyIntOfFloat(v: PyValue): number | undefined {
  let f: number | undefined;
  if (typeof v === 'boolean') f = v ? 1 : 0;
  else if (typeof v === 'number') f = v;
  else if (typeof v === 'bigint') f = Number(v);
  else if (v instanceof PyFloat) f = v.value;
  else if (typeof v === 'string') f = pyFloatOfString(v);
  if (f === undefined || !Number.isFinite(f)) return undefined;
  return Math.trunc(f) || 0;
}

// Python's str.strip() whitespace (str.isspace()): not JavaScript's \\s, which also holds U+FEFF.
const PY_SPACE = '[\\t\\n\\x0b\\f\\r \\x1c-\\x1f\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const PY_STRIP = new RegExp(`^${PY_SPACE}+|${PY_SPACE}+$`, 'g');
const DIGITS = '\\d(?:_?\\d)*';
const PY_FLOAT = new RegExp(`^[+-]?(?:(?:${DIGITS})(?:\\.(?:${DIGITS})?)?|\\.${DIGITS})(?:[eE][+-]?${DIGITS})?$`);
const PY_FLOAT_SPECIAL = /^[+-]?(?:inf|infinity|nan)$/i;

/** Python's `float(str)` for ASCII numerals, or undefined where it raises. */
export function pyFloatOfString(s: string): number | undefined {
  const t = s.replace(PY_STRIP, '');
  if (PY_FLOAT_SPECIAL.test(t)) return t.toLowerCase().includes('nan') ? NaN : t.startsWith('-') ? -Infinity : Infinity;
  if (!PY_FLOAT.test(t)) return undefined;
  return Number(t.replace(/_/g, ''));
}

/** SQLAlchemy's Boolean bind processor on a native-boolean dialect. */
export function adaptBoolean(v: PyValue | undefined): Adapted<boolean | null> {
  if (v === null || v === undefined) return { ok: true, value: null };
  if (typeof v === 'boolean') return { ok: true, value: v };
  // `value in {None, True, False}` is true for 1, 0, 1.0 and 0.0 (Python equality).
  const n = typeof v === 'number' ? v : v instanceof PyFloat ? v.value : undefined;
  if (n === 1 || n === 0) return { ok: true, value: n === 1 };
  if (typeof v === 'number' || typeof v === 'bigint') return { ok: false, reason: `Value ${v} is not None, True, or False`, stage: 'bind' };
  return { ok: false, reason: `Not a boolean value: ${pyRepr(v)}`, stage: 'bind' };
}

/** SQLAlchemy's JSON type: `json.dumps`, a missing value as `null`. */
export function adaptJson(v: PyValue | undefined): Adapted<string> {
  if (!storableInJson(v)) return { ok: false, reason: 'invalid input syntax for type json', stage: 'parse' };
  return { ok: true, value: dumps(v ?? null) };
}

// PostgreSQL's json type rejects NaN/Infinity. (It accepts an unpaired
// surrogate escape such as "\ud800", which json.dumps writes for one: only
// de-escaping it fails, and the json type never de-escapes on input.)
function storableInJson(v: PyValue | undefined): boolean {
  if (v === null || v === undefined || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'string') return true;
  if (v instanceof PyFloat) return Number.isFinite(v.value);
  if (Array.isArray(v)) return v.every(storableInJson);
  for (const val of v.values()) if (!storableInJson(val)) return false;
  return true;
}

function pyRepr(v: PyValue): string {
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (v instanceof PyFloat) return floatRepr(v.value);
  if (v === null) return 'None';
  return dumps(v);
}

const TEXT_FIELDS = [
  ['role', 'role'],
  ['parent_id', 'parentId'],
  ['model_id', 'model'],
] as const;
const JSON_FIELDS = [
  ['content', 'content'],
  ['output', 'output'],
  ['files', 'files'],
  ['sources', 'sources'],
  ['embeds', 'embeds'],
  ['status_history', 'statusHistory'],
  ['error', 'error'],
  ['usage', 'usage'],
] as const;

/**
 * One message as the row upstream inserts, or why inserting it fails.
 * `timestampIsNow` says the timestamp fell back to `now`. Of several bad
 * values, the one upstream meets first gives the reason (see FailureStage).
 */
export function messageRow(chatId: string, userId: string | null, messageId: string, message: PyDict, now: number, rules: Rules = 'v0.8.12'): MessageEntry {
  const id = `${chatId}-${messageId}`;
  const failed: { column: MessageColumn; reason: string; stage: FailureStage }[] = [];
  const take = <T>(column: MessageColumn, a: Adapted<T>): T | undefined => {
    if (a.ok) return a.value;
    failed.push({ column, reason: a.reason, stage: a.stage });
    return undefined;
  };
  take('id', adaptText(id));
  const text: Partial<Record<MessageColumn, string | null>> = {};
  for (const [column, key] of TEXT_FIELDS) text[column] = take(column, adaptText(message.get(key)));
  const json: Partial<Record<MessageColumn, string | null>> = {};
  for (const [column, key] of JSON_FIELDS) {
    if (column === 'usage' && rules === 'v0.8.0') json.usage = null;
    else json[column] = take(column, adaptJson(message.get(key)));
  }
  const done = take('done', adaptBoolean(message.has('done') ? message.get('done') : true));
  const ts = rules === 'v0.8.0' ? take('created_at', v080Timestamp(message.get('timestamp'), now)) : coerceTimestamp(message.get('timestamp'), now);
  if (failed.length) {
    const rank = (f: (typeof failed)[number]) => FAILURE_STAGES.indexOf(f.stage) * MESSAGE_COLUMNS.length + MESSAGE_COLUMNS.indexOf(f.column);
    const first = failed.reduce((a, b) => (rank(b) < rank(a) ? b : a));
    const raisedBy = first.stage === 'bind' || first.stage === 'adapt' ? 'driver' : 'server';
    return { ok: false, failure: { id, chatId, reason: `${first.column}: ${first.reason}`, raisedBy, stage: first.stage } };
  }
  return {
    ok: true,
    timestampIsNow: ts!.isNow,
    row: {
      id,
      chat_id: chatId,
      user_id: userId,
      role: text.role!,
      parent_id: text.parent_id!,
      content: json.content!,
      output: json.output!,
      model_id: text.model_id!,
      files: json.files!,
      sources: json.sources!,
      embeds: json.embeds!,
      done: done!,
      status_history: json.status_history!,
      error: json.error!,
      usage: json.usage!,
      created_at: ts!.value,
      updated_at: ts!.value,
    },
  };
}

/**
 * What one chat gives under `rules`. A port hands the entries to its
 * batching; on a poison chat, a faithful port fails the attempt there
 * (throw {@link PoisonChatError}), a proposal may skip the chat and report it.
 */
export function chatOutcome(chatId: string, userId: string | null, chat: PyValue | undefined, now: number, rules: Rules = 'v0.8.12'): ChatOutcome {
  if (!isMigratedChat(userId)) return { kind: 'entries', entries: [] };
  const walk = migratedMessages(chat, rules);
  if ('poison' in walk) return { kind: 'poison', chatId, reason: walk.poison };
  return { kind: 'entries', entries: walk.messages.map(([messageId, message]) => messageRow(chatId, userId, messageId, message, now, rules)) };
}

/** Every row one chat yields and the messages that would fail to insert, or the poison that stops the migration at it. */
export function chatToRows(chatId: string, userId: string | null, chat: PyValue | undefined, now: number, rules: Rules = 'v0.8.12'): ChatRows | PoisonChat {
  const outcome = chatOutcome(chatId, userId, chat, now, rules);
  if (outcome.kind === 'poison') return outcome;
  const out: ChatRows = { kind: 'rows', rows: [], timestampIsNow: [], failures: [] };
  for (const e of outcome.entries) {
    if (e.ok) {
      out.rows.push(e.row);
      out.timestampIsNow.push(e.timestampIsNow);
    } else out.failures.push(e.failure);
  }
  return out;
}

/** Parse the `chat` column's text as upstream's driver does; SQL NULL stays null. */
export function parseChatColumn(text: string | null): PyValue {
  return text === null ? null : loads(text);
}
