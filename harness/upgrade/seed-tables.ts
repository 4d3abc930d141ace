/**
 * Seed every table of an Open WebUI database besides `chat` (which the
 * seeder fills): the schema is read from the catalogs, so any Alembic
 * revision works, and a table or column this file has never heard of still
 * gets valid rows of its types.
 *
 * How each table is filled:
 * - `kept`: it already holds rows; untouched.
 * - `derived`: `chat_message`, filled from `chat` by the set-based port's own
 *   statement (harness/strategies/setbased), so its rows are the chats'.
 * - `realistic`: a table Open WebUI has, with what its columns hold in a
 *   real instance (shapes below, learned from Open WebUI's models).
 * - `generic`: a table without a shape: every column by its type.
 * Row counts follow {@link PROPORTIONS}, relative to the users and chats in
 * `chat`. Foreign keys (declared, and the `<table>_id` links Open WebUI
 * leaves undeclared) take keys that exist; tables are seeded in dependency
 * order. Rows stream through COPY (text format), deterministic from the
 * seed; large payloads are random hex or base64, so TOAST cannot shrink them.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { copyText } from '../../seed/copy-text.ts';
import { HexStream, Prng, derive } from '../../seed/prng.ts';
import { errorMessage } from '../errors.ts';
import { MIGRATED_CHATS_WHERE } from '../openwebui/schema.ts';
import { ident, type Client } from '../postgres/sql.ts';
import { FailureLog } from '../strategies/ported/failure-log.ts';
import { highWaterMark, WALK_START } from '../strategies/ported/keyset-pages.ts';
import { SavepointNames } from '../strategies/ported/savepoint-names.ts';
import { FailureNotices, insertSetbasedPage } from '../strategies/setbased/setbased-page.ts';
import { DROP_SETBASED_HELPERS_SQL, SETBASED_HELPERS_DDL } from '../strategies/setbased/setbased-sql.ts';

// ---------------------------------------------------------------- proportions

/** What a table's row count is relative to: the chat owners, the chats, a fixed number, or the rows of another table. */
export type Basis = 'user' | 'chat' | 'total' | { table: string };

export interface Proportion {
  per: Basis;
  ratio: number;
}

/**
 * Rows per basis in a busy Open WebUI instance. These are estimates (from
 * what the models hold and how the features are used), not measurements:
 * they set the other tables' share of the database next to `chat`.
 */
export const PROPORTIONS: Record<string, Proportion> = {
  user: { per: 'user', ratio: 1 },
  auth: { per: 'user', ratio: 1 },
  api_key: { per: 'user', ratio: 0.1 },
  oauth_session: { per: 'user', ratio: 0.3 },
  file: { per: 'chat', ratio: 0.5 },
  chat_file: { per: 'chat', ratio: 0.3 },
  shared_chat: { per: 'chat', ratio: 0.02 },
  folder: { per: 'user', ratio: 2 },
  tag: { per: 'user', ratio: 3 },
  chatidtag: { per: 'chat', ratio: 0.3 },
  feedback: { per: 'chat', ratio: 0.2 },
  memory: { per: 'user', ratio: 5 },
  note: { per: 'user', ratio: 1 },
  pinned_note: { per: 'user', ratio: 0.2 },
  knowledge: { per: 'user', ratio: 0.5 },
  knowledge_file: { per: { table: 'knowledge' }, ratio: 4 },
  knowledge_directory: { per: { table: 'knowledge' }, ratio: 1 },
  document: { per: 'total', ratio: 5 },
  channel: { per: 'total', ratio: 10 },
  channel_member: { per: { table: 'channel' }, ratio: 8 },
  channel_webhook: { per: 'total', ratio: 3 },
  channel_file: { per: { table: 'channel' }, ratio: 3 },
  message: { per: { table: 'channel' }, ratio: 50 },
  message_reaction: { per: { table: 'message' }, ratio: 0.3 },
  model: { per: 'total', ratio: 8 },
  prompt: { per: 'total', ratio: 10 },
  prompt_history: { per: { table: 'prompt' }, ratio: 2 },
  tool: { per: 'total', ratio: 5 },
  function: { per: 'total', ratio: 4 },
  skill: { per: 'total', ratio: 3 },
  group: { per: 'total', ratio: 5 },
  group_member: { per: { table: 'group' }, ratio: 10 },
  access_grant: { per: 'user', ratio: 0.2 },
  config: { per: 'total', ratio: 1 },
  config_old: { per: 'total', ratio: 1 },
  automation: { per: 'user', ratio: 0.05 },
  automation_run: { per: { table: 'automation' }, ratio: 5 },
  calendar: { per: 'user', ratio: 0.3 },
  calendar_event: { per: { table: 'calendar' }, ratio: 10 },
  calendar_event_attendee: { per: { table: 'calendar_event' }, ratio: 1 },
};

/** A table nobody described: one row per user. */
const DEFAULT_PROPORTION: Proportion = { per: 'user', ratio: 1 };

export interface BasisCounts {
  users: number;
  chats: number;
  rowsOf: (table: string) => number;
}

/** Rows to seed in `table`: its proportion of its basis, at least one when the basis has any. */
export function plannedRows(table: string, counts: BasisCounts): number {
  const p = PROPORTIONS[table] ?? DEFAULT_PROPORTION;
  const base = p.per === 'user' ? counts.users : p.per === 'chat' ? counts.chats : p.per === 'total' ? 1 : counts.rowsOf(p.per.table);
  if (base <= 0 || p.ratio <= 0) return 0;
  return Math.max(1, Math.round(base * p.ratio));
}

// ---------------------------------------------------------------- catalog

export interface ColumnInfo {
  name: string;
  /** information_schema data_type: 'text', 'bigint', 'ARRAY', 'USER-DEFINED', ... */
  dataType: string;
  /** The type's name (for an array, its element type's, without the leading '_'). */
  udt: string;
  maxLength: number | null;
  nullable: boolean;
  default: string | null;
  /** Filled by the server (serial, identity, generated): never written. */
  serverFilled: boolean;
  enumLabels?: string[];
}

/** A declared foreign key, or a `<table>_id` column Open WebUI leaves undeclared. */
export interface Link {
  columns: string[];
  refSchema: string;
  refTable: string;
  refColumns: string[];
}

export interface TableInfo {
  name: string;
  columns: ColumnInfo[];
  /** Primary key first, then every UNIQUE constraint and unique index. */
  uniques: string[][];
  foreignKeys: Link[];
  checks: number;
}

const COLUMNS_SQL = `SELECT c.table_name AS table, c.column_name AS name, c.data_type, c.udt_name, c.character_maximum_length AS max_length,
  c.is_nullable = 'YES' AS nullable, c.column_default AS default,
  (c.is_identity = 'YES' OR c.is_generated = 'ALWAYS' OR coalesce(c.column_default, '') LIKE 'nextval(%') AS server_filled
FROM information_schema.columns c JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
ORDER BY c.table_name COLLATE "C", c.ordinal_position`;

const attnames = (rel: string, keys: string) =>
  `ARRAY(SELECT a.attname FROM unnest(${keys}) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = ${rel} AND a.attnum = k.n ORDER BY k.o)::text[]`;

const CONSTRAINTS_SQL = `SELECT rel.relname AS table, con.contype AS type, ${attnames('con.conrelid', 'con.conkey')} AS columns,
  fns.nspname AS ref_schema, frel.relname AS ref_table, ${attnames('con.confrelid', 'con.confkey')} AS ref_columns
FROM pg_constraint con
JOIN pg_class rel ON rel.oid = con.conrelid JOIN pg_namespace ns ON ns.oid = rel.relnamespace
LEFT JOIN pg_class frel ON frel.oid = con.confrelid LEFT JOIN pg_namespace fns ON fns.oid = frel.relnamespace
WHERE ns.nspname = 'public' AND con.contype IN ('p', 'u', 'f', 'c')
ORDER BY con.contype, con.conname COLLATE "C"`;

// Unique indexes that are not constraints (Alembic's `unique=True, index=True` makes one).
const UNIQUE_INDEXES_SQL = `SELECT t.relname AS table, ${attnames('i.indrelid', 'i.indkey::int2[]')} AS columns
FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = 'public' AND i.indisunique AND NOT i.indisprimary AND i.indexprs IS NULL
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
ORDER BY t.relname COLLATE "C"`;

const ENUMS_SQL = `SELECT t.typname AS name, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text[] AS labels
FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid GROUP BY t.typname`;

/** Every base table of schema `public`, with its columns and constraints. */
export async function readSchema(client: Client): Promise<Map<string, TableInfo>> {
  const enums = new Map((await client.query<{ name: string; labels: string[] }>(ENUMS_SQL)).rows.map((r) => [r.name, r.labels]));
  const tables = new Map<string, TableInfo>();
  for (const r of (await client.query(COLUMNS_SQL)).rows) {
    const t: TableInfo = tables.get(r.table) ?? { name: r.table, columns: [], uniques: [], foreignKeys: [], checks: 0 };
    tables.set(r.table, t);
    const udt = r.data_type === 'ARRAY' ? String(r.udt_name).replace(/^_/, '') : r.udt_name;
    t.columns.push({
      name: r.name,
      dataType: r.data_type,
      udt,
      maxLength: r.max_length,
      nullable: r.nullable,
      default: r.default,
      serverFilled: r.server_filled,
      enumLabels: enums.get(udt),
    });
  }
  for (const r of (await client.query(CONSTRAINTS_SQL)).rows) {
    const t = tables.get(r.table);
    if (!t) continue;
    if (r.type === 'p') t.uniques.unshift(r.columns);
    else if (r.type === 'u') t.uniques.push(r.columns);
    else if (r.type === 'c') t.checks++;
    else t.foreignKeys.push({ columns: r.columns, refSchema: r.ref_schema, refTable: r.ref_table, refColumns: r.ref_columns });
  }
  for (const r of (await client.query(UNIQUE_INDEXES_SQL)).rows) tables.get(r.table)?.uniques.push(r.columns);
  return tables;
}

// ---------------------------------------------------------------- links and order

const TEXT_TYPES = new Set(['text', 'varchar', 'bpchar', 'citext', 'name']);
const isText = (c: ColumnInfo | undefined) => !!c && c.dataType !== 'ARRAY' && TEXT_TYPES.has(c.udt);

/** Undeclared links whose target is not `<name>` for `<name>_id`. */
const LINK_ALIASES: Record<string, string> = { user_id: 'user', event_id: 'calendar_event' };

/**
 * The links Open WebUI keeps without a foreign key: `user_id` to `user.id`,
 * `<table>_id` to `<table>.id` (text to text only), and `auth.id`, which is
 * the user's id. Columns a shape fills itself or a declared key covers are left out.
 */
export function implicitLinks(table: TableInfo, tables: Map<string, TableInfo>, shaped: ReadonlySet<string> = new Set()): Link[] {
  const declared = new Set(table.foreignKeys.flatMap((f) => f.columns));
  const links: Link[] = [];
  const targetOk = (name: string) => {
    const t = tables.get(name);
    return !!t && name !== table.name && t.uniques[0]?.length === 1 && t.uniques[0][0] === 'id' && isText(t.columns.find((c) => c.name === 'id'));
  };
  for (const c of table.columns) {
    if (declared.has(c.name) || shaped.has(c.name) || !isText(c)) continue;
    const target = table.name === 'auth' && c.name === 'id' ? 'user' : (LINK_ALIASES[c.name] ?? (c.name.endsWith('_id') ? c.name.slice(0, -3) : ''));
    if (target && targetOk(target)) links.push({ columns: [c.name], refSchema: 'public', refTable: target, refColumns: ['id'] });
  }
  return links;
}

/**
 * Tables in an order where each comes after those it depends on (ties by
 * name, so the order is stable). A cycle is broken at its first table by
 * name: that table's link into the cycle then finds no keys yet.
 */
export function seedOrder(dependsOn: Map<string, Set<string>>): string[] {
  const left = new Map([...dependsOn].map(([t, deps]) => [t, new Set([...deps].filter((d) => d !== t && dependsOn.has(d)))]));
  const order: string[] = [];
  while (left.size) {
    const names = [...left.keys()].sort();
    const next = names.find((t) => left.get(t)!.size === 0) ?? names[0];
    order.push(next);
    left.delete(next);
    for (const deps of left.values()) deps.delete(next);
  }
  return order;
}

// ---------------------------------------------------------------- values

/** A value before it is written: objects and arrays go to JSON columns as JSON. */
export type Value = string | number | boolean | null | object;

/** Per-table randomness: decisions from a PRNG, bulk text from a keystream. */
export class Randomness {
  readonly rng: Prng;
  private readonly stream: HexStream;

  constructor(seed: number, table: string) {
    this.rng = Prng.of('seed-tables', seed, table);
    this.stream = new HexStream(derive('seed-tables-bytes', seed, table));
  }

  /** Incompressible hex text, `chars` long (even). */
  hex(chars: number): string {
    return this.stream.hex(chars);
  }

  /** Incompressible base64 of `bytes` random bytes. */
  base64(bytes: number): string {
    return Buffer.from(this.stream.hex(bytes * 2), 'hex').toString('base64');
  }

  /** A size around `median` with a long right tail (log-normal), within [lo, hi]. */
  size(median: number, lo: number, hi: number): number {
    return Math.round(Math.min(hi, Math.max(lo, median * Math.exp(0.8 * this.rng.normal()))));
  }
}

const isAtColumn = (name: string) => /(_at|^timestamp)$/.test(name);
const INT_RANGE: Record<string, number> = { int2: 32_767, int4: 2_147_483_647, int8: Number.MAX_SAFE_INTEGER };

/**
 * A valid value of `col`'s type alone, for a column no shape knows: unique
 * values carry the row number; `*_at` integers are epoch seconds (`epoch`,
 * the row's time). Undefined when the type is one this does not generate.
 */
export function genericValue(col: ColumnInfo, i: number, epoch: number, r: Randomness, unique: boolean): Value | undefined {
  if (col.enumLabels) return unique ? (col.enumLabels[i] ?? undefined) : r.rng.pick(col.enumLabels);
  if (col.dataType === 'ARRAY') {
    const element = genericValue({ ...col, dataType: col.udt, maxLength: null, enumLabels: undefined }, i, epoch, r, unique);
    return element === undefined || typeof element === 'object' ? '{}' : `{${String(element)}}`;
  }
  const type = col.udt;
  if (TEXT_TYPES.has(type)) {
    const text = unique ? `${i.toString(36)}-${r.hex(12)}` : r.hex(2 * r.rng.int(4, 24));
    return col.maxLength ? text.slice(0, col.maxLength) : text;
  }
  if (type in INT_RANGE) {
    if (isAtColumn(col.name) && type !== 'int2') return epoch + (unique ? i : 0);
    return unique ? Math.min(i + 1, INT_RANGE[type]) : r.rng.int(0, 1000);
  }
  switch (type) {
    case 'numeric':
    case 'float4':
    case 'float8':
      return unique ? i + r.rng.next() / 2 : Math.round(r.rng.next() * 1e6) / 1e3;
    case 'bool':
      return r.rng.chance(0.5);
    case 'json':
    case 'jsonb':
      return unique ? { n: i } : {};
    case 'uuid':
      return r.rng.uuid();
    case 'date':
      return new Date((epoch + (unique ? i * 86_400 : 0)) * 1000).toISOString().slice(0, 10);
    case 'timestamp':
    case 'timestamptz':
      return new Date((epoch + (unique ? i : 0)) * 1000).toISOString();
    case 'time':
    case 'timetz':
      return `${String(i % 24).padStart(2, '0')}:${String(r.rng.int(0, 59)).padStart(2, '0')}:00`;
    case 'interval':
      return `${unique ? i : r.rng.int(1, 3600)} seconds`;
    case 'bytea':
      return `\\x${unique ? i.toString(16).padStart(8, '0') : ''}${r.hex(32)}`;
    case 'inet':
    case 'cidr':
      return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    default:
      return undefined;
  }
}


const INT_TYPES = new Set(Object.keys(INT_RANGE));

/**
 * `v` as `col`'s COPY text field, or undefined when it does not fit the type
 * (a shape written for another revision): epoch numbers become timestamps
 * or dates, objects become JSON text, text is cut to the column's length.
 */
export function copyField(col: ColumnInfo, v: Value | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (v === null) return '\\N';
  const type = col.dataType === 'ARRAY' ? 'array' : col.udt;
  let text: string;
  if (type === 'json' || type === 'jsonb') text = JSON.stringify(v);
  else if (TEXT_TYPES.has(type)) {
    text = typeof v === 'object' ? JSON.stringify(v) : String(v);
    if (col.maxLength && text.length > col.maxLength) text = text.slice(0, col.maxLength);
  } else if (INT_TYPES.has(type)) {
    if (typeof v !== 'number') return typeof v === 'string' && /^-?\d+$/.test(v) ? v : undefined;
    text = String(Math.trunc(v));
  } else if (type === 'bool') text = v ? 't' : 'f';
  else if ((type === 'timestamp' || type === 'timestamptz' || type === 'date') && typeof v === 'number') {
    const iso = new Date(v * 1000).toISOString();
    text = type === 'date' ? iso.slice(0, 10) : iso;
  } else if (typeof v === 'object') return undefined;
  else text = String(v);
  return copyText(text);
}

// ---------------------------------------------------------------- shapes

/** What a shape's column generator sees of the row being made. */
export interface RowContext {
  i: number;
  r: Randomness;
  /** The row's times, epoch seconds: created ≤ updated, within the chats' span. */
  created: number;
  updated: number;
  /** Values already chosen for this row (links and `id` first, then in column order). */
  v: Record<string, Value>;
  users: readonly string[];
  /** A random key of another (already seeded) table's `id`, or null. */
  pick: (table: string) => Value;
}

type Gen = (x: RowContext) => Value;

interface Shape {
  columns: Record<string, Gen>;
  /** Rows instead of {@link plannedRows} (a table whose rows are one per something). */
  rows?: (t: TableInfo, counts: BasisCounts) => number;
}

const WORDS = 'alpha atlas beacon budget cedar cloud delta draft ember falcon forecast garden harbor insight juniper kernel ledger lumen meadow metric nimbus orbit pilot prism quartz report review river signal summit tensor vector willow zenith'.split(' ');
const FIRST = 'Ada Ben Chloe Dmitri Elena Farid Grace Hiro Ines Jonas Kira Liam Mara Nils Olga Priya Quinn Rafael Sofia Tariq Uma Viktor Wen Yara Zoe'.split(' ');
const LAST = 'Andersen Baptiste Chen Dubois Eriksen Fischer Garcia Haddad Ivanova Jensen Kowalski Larsen Moreau Novak Okafor Petrov Rossi Schmidt Tanaka Weber'.split(' ');
const MODELS = ['gpt-4o', 'gpt-4o-mini', 'llama3.1:8b', 'llama3.3:70b', 'qwen2.5:14b', 'mistral-small:24b', 'gemma3:27b', 'claude-3-7-sonnet', 'deepseek-r1:32b'];
const MIME = [
  ['pdf', 'application/pdf'],
  ['docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
  ['txt', 'text/plain'],
  ['md', 'text/markdown'],
  ['csv', 'text/csv'],
  ['png', 'image/png'],
] as const;
const TAGS = 'work personal research coding python javascript sql devops writing email travel finance health legal marketing support ideas meeting-notes todo learning'.split(' ');
const REACTIONS = ['thumbsup', 'heart', 'joy', 'eyes', 'rocket', 'tada', 'white_check_mark', 'pray'];

const words = (x: RowContext, n: number) => Array.from({ length: n }, () => x.r.rng.pick(WORDS)).join(' ');
const title = (x: RowContext) => {
  const w = words(x, x.r.rng.int(2, 6));
  return w[0].toUpperCase() + w.slice(1);
};
/** Prose-sized incompressible text: hex in words of 4 to 12 characters. */
const prose = (x: RowContext, chars: number) => x.r.hex(chars).replace(/(.{8})/g, '$1 ').trimEnd();
const fullName = (id: string) => {
  const h = derive('name', id);
  return `${FIRST[h[0] % FIRST.length]} ${LAST[h[1] % LAST.length]}`;
};
/** A user's e-mail from their id alone, so `user` and `auth` agree. */
const emailOf = (id: Value) => `${fullName(String(id)).toLowerCase().replace(' ', '.')}.${derive('mail', String(id)).toString('hex').slice(0, 6)}@example.org`;
/** Open WebUI's access_control: null is public; otherwise read/write lists of groups and users. */
const accessControl = (x: RowContext): Value =>
  x.r.rng.chance(0.6) ? null : { read: { group_ids: [], user_ids: [x.pick('user')] }, write: { group_ids: [], user_ids: [] } };
/** An avatar as Open WebUI stores an uploaded one: a data URI of a few KB. */
const avatar = (x: RowContext, p: number) => (x.r.rng.chance(p) ? `data:image/png;base64,${x.r.base64(x.r.size(4000, 1500, 12_000))}` : '/user.png');
/** Python source of a tool or function: a header docstring, then incompressible code-sized lines. */
const pythonSource = (x: RowContext, kind: string) => {
  const lines = Array.from({ length: x.r.size(150, 30, 800) }, () => `        value = "${x.r.hex(2 * x.r.rng.int(10, 40))}"`);
  return `"""\ntitle: ${title(x)}\nauthor: ${fullName(String(x.v.user_id ?? x.i))}\nversion: 0.${x.r.rng.int(1, 9)}.0\n"""\n\nclass ${kind}:\n    def __init__(self):\n${lines.join('\n')}\n`;
};
const toolSpecs = (x: RowContext) =>
  Array.from({ length: x.r.rng.int(1, 4) }, () => ({
    name: words(x, 2).replace(' ', '_'),
    description: prose(x, 80),
    parameters: { type: 'object', properties: { query: { type: 'string', description: prose(x, 40) } }, required: ['query'] },
  }));
const messageContent = (x: RowContext) => prose(x, x.r.size(300, 20, 4000));
const tagId = (name: string) => name.replace(/[^a-z0-9]+/g, '_');

/** The columns every Open WebUI table spells the same way. */
const COMMON: Record<string, Gen> = {
  id: (x) => x.r.rng.uuid(),
  created_at: (x) => x.created,
  updated_at: (x) => x.updated,
  timestamp: (x) => x.created,
  name: (x) => title(x),
  title: (x) => title(x),
  description: (x) => prose(x, x.r.size(120, 0, 600)),
  meta: () => ({}),
  data: () => null,
  access_control: accessControl,
  is_active: () => true,
};

const userSettings = (x: RowContext) => ({
  ui: {
    models: [x.r.rng.pick(MODELS)],
    theme: x.r.rng.pick(['system', 'dark', 'light']),
    notificationEnabled: x.r.rng.chance(0.3),
    system: x.r.rng.chance(0.2) ? prose(x, x.r.size(300, 40, 3000)) : '',
    params: {},
    pinnedModels: x.r.rng.chance(0.4) ? [x.r.rng.pick(MODELS)] : [],
  },
});

/** Open WebUI's tables, with what their columns hold (learned from its models; revisions differ, absent columns are skipped). */
const SHAPES: Record<string, Shape> = {
  user: {
    rows: (_t, c) => c.users,
    columns: {
      id: (x) => x.users[x.i],
      name: (x) => fullName(String(x.v.id)),
      email: (x) => emailOf(x.v.id),
      username: (x) => emailOf(x.v.id).split('@')[0],
      role: (x) => (x.i === 0 ? 'admin' : x.r.rng.chance(0.03) ? 'pending' : 'user'),
      profile_image_url: (x) => avatar(x, 0.3),
      last_active_at: (x) => x.updated,
      api_key: (x) => (x.r.rng.chance(0.1) ? `sk-${x.r.hex(32)}` : null),
      settings: userSettings,
      info: (x) => (x.r.rng.chance(0.2) ? { location: x.r.rng.pick(['Berlin', 'Lagos', 'Osaka', 'Lima']) } : null),
      oauth_sub: () => null,
      oauth: (x) => (x.r.rng.chance(0.3) ? { oidc: { sub: x.r.hex(32) } } : null),
      bio: (x) => (x.r.rng.chance(0.2) ? prose(x, 200) : null),
      gender: () => null,
      date_of_birth: () => null,
      scim: () => null,
      timezone: (x) => x.r.rng.pick(['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo']),
      presence_state: () => null,
      status_emoji: () => null,
      status_message: () => null,
      status_expires_at: () => null,
      profile_banner_image_url: () => null,
    },
  },
  auth: {
    columns: {
      email: (x) => emailOf(x.v.id),
      password: (x) => `$2b$12$${x.r.base64(40).replace(/[+=]/g, '.').slice(0, 53)}`,
      active: () => true,
    },
  },
  api_key: { columns: { key: (x) => `sk-${x.r.hex(32)}`, expires_at: () => null, last_used_at: (x) => x.updated } },
  oauth_session: {
    columns: { provider: (x) => x.r.rng.pick(['oidc', 'google', 'microsoft']), token: (x) => `gAAAAA${x.r.base64(x.r.size(1500, 600, 4000))}`, expires_at: (x) => x.updated + 3600 },
  },
  file: {
    columns: {
      hash: (x) => x.r.hex(64),
      filename: (x) => `${words(x, 2).replace(' ', '_')}.${x.r.rng.pick(MIME)[0]}`,
      path: (x) => `/app/backend/data/uploads/${x.v.id}_${x.v.filename}`,
      meta: (x) => {
        const ext = String(x.v.filename).split('.').pop();
        return { name: x.v.filename, content_type: MIME.find((m) => m[0] === ext)![1], size: x.r.size(200_000, 2_000, 20_000_000), data: {}, collection_name: `file-${x.v.id}` };
      },
      // The text Open WebUI extracted from the upload, tens of KB.
      data: (x) => ({ status: 'completed', content: prose(x, x.r.size(30_000, 2_000, 400_000)) }),
    },
  },
  chat_file: { columns: { message_id: (x) => x.r.rng.uuid() } },
  shared_chat: { columns: { chat: (x) => ({ title: x.v.title, history: { messages: {}, currentId: null }, summary: prose(x, 400) }) } },
  folder: {
    columns: {
      parent_id: () => null,
      items: () => ({ chat_ids: [], file_ids: [] }),
      meta: (x) => (x.r.rng.chance(0.2) ? { icon: x.r.rng.pick(['📁', '🧪', '📚']) } : {}),
      data: (x) => (x.r.rng.chance(0.3) ? { system_prompt: prose(x, x.r.size(400, 50, 3000)), files: [] } : null),
      is_expanded: (x) => x.r.rng.chance(0.5),
    },
  },
  tag: {
    columns: {
      name: (x) => x.r.rng.pick(TAGS),
      id: (x) => tagId(String(x.v.name ?? x.r.rng.pick(TAGS))),
      meta: () => ({}),
    },
  },
  chatidtag: { columns: { tag_name: (x) => x.r.rng.pick(TAGS) } },
  feedback: {
    columns: {
      version: () => 0,
      type: () => 'rating',
      data: (x) => ({
        rating: x.r.rng.chance(0.7) ? 1 : -1,
        model_id: x.r.rng.pick(MODELS),
        sibling_model_ids: null,
        reason: x.r.rng.pick(['Accurate information', 'Followed instructions', 'Not factually correct', 'Other']),
        comment: x.r.rng.chance(0.4) ? prose(x, x.r.size(200, 20, 2000)) : '',
        tags: [],
        details: { rating: x.r.rng.int(1, 10) },
      }),
      meta: (x) => ({ arena: false, chat_id: x.pick('chat'), message_id: x.r.rng.uuid(), tags: [] }),
      // The conversation as it was rated: a few KB of messages.
      snapshot: (x) => ({ chat: { title: title(x), history: { messages: { [x.r.rng.uuid()]: { role: 'assistant', content: prose(x, x.r.size(3000, 300, 30_000)) } } } } }),
    },
  },
  memory: {
    columns: {
      content: (x) => prose(x, x.r.size(160, 30, 1200)),
      type: () => 'context',
      path: () => null,
    },
  },
  note: {
    columns: {
      data: (x) => {
        const md = prose(x, x.r.size(3000, 200, 40_000));
        return { content: { json: null, html: `<p>${md}</p>`, md } };
      },
      meta: () => null,
      is_pinned: (x) => x.r.rng.chance(0.1),
    },
  },
  pinned_note: { columns: {} },
  knowledge: {
    columns: {
      name: (x) => `${title(x)} docs`,
      data: () => ({ file_ids: [] }),
      meta: () => ({}),
    },
  },
  knowledge_file: { columns: { directory_id: () => null } },
  knowledge_directory: { columns: { parent_id: () => null } },
  document: {
    columns: {
      collection_name: (x) => x.r.hex(63),
      name: (x) => `${tagId(title(x).toLowerCase())}_${x.i}`,
      filename: (x) => `${words(x, 2).replace(' ', '_')}.pdf`,
      content: () => JSON.stringify({ tags: [] }),
    },
  },
  channel: {
    columns: {
      name: (x) => `${x.r.rng.pick(WORDS)}-${x.i}`,
      type: () => null,
      data: () => null,
      is_private: (x) => x.r.rng.chance(0.2),
      archived_at: () => null,
      archived_by: () => null,
      deleted_at: () => null,
      deleted_by: () => null,
      updated_by: () => null,
    },
  },
  channel_member: {
    columns: {
      role: () => 'member',
      status: () => 'joined',
      is_channel_muted: () => false,
      is_channel_pinned: (x) => x.r.rng.chance(0.1),
      invited_by: () => null,
      invited_at: () => null,
      joined_at: (x) => x.created,
      left_at: () => null,
      last_read_at: (x) => x.updated,
      data: () => null,
      meta: () => null,
    },
  },
  channel_webhook: { columns: { profile_image_url: () => null, token: (x) => x.r.hex(48), last_used_at: (x) => x.updated } },
  channel_file: { columns: { message_id: () => null } },
  message: {
    columns: {
      content: messageContent,
      data: () => null,
      parent_id: () => null,
      reply_to_id: () => null,
      is_pinned: () => false,
      pinned_at: () => null,
      pinned_by: () => null,
    },
  },
  message_reaction: { columns: { name: (x) => x.r.rng.pick(REACTIONS) } },
  model: {
    columns: {
      id: (x) => `${tagId(title(x).toLowerCase())}-${x.i}`,
      base_model_id: (x) => x.r.rng.pick(MODELS),
      params: (x) => ({ system: prose(x, x.r.size(800, 100, 8000)), temperature: Math.round(x.r.rng.next() * 10) / 10 }),
      meta: (x) => ({
        profile_image_url: '/static/favicon.png',
        description: prose(x, 120),
        capabilities: { vision: x.r.rng.chance(0.5), citations: true, file_upload: true },
        suggestion_prompts: null,
        tags: [],
      }),
    },
  },
  prompt: {
    columns: {
      command: (x) => `/${x.r.rng.pick(WORDS)}-${x.i}`,
      content: (x) => prose(x, x.r.size(1000, 100, 8000)),
      data: () => ({}),
      version_id: () => null,
      tags: () => [],
    },
  },
  prompt_history: {
    columns: {
      parent_id: () => null,
      snapshot: (x) => ({ name: title(x), content: prose(x, x.r.size(1000, 100, 8000)) }),
      commit_message: (x) => (x.r.rng.chance(0.5) ? title(x) : null),
    },
  },
  tool: {
    columns: {
      id: (x) => `${tagId(title(x).toLowerCase())}_${x.i}`,
      content: (x) => pythonSource(x, 'Tools'),
      specs: toolSpecs,
      meta: (x) => ({ description: prose(x, 120), manifest: { title: x.v.name, version: '0.1.0' } }),
      valves: () => null,
    },
  },
  function: {
    columns: {
      id: (x) => `${tagId(title(x).toLowerCase())}_${x.i}`,
      type: (x) => x.r.rng.pick(['filter', 'pipe', 'action']),
      content: (x) => pythonSource(x, x.v.type === 'pipe' ? 'Pipe' : x.v.type === 'action' ? 'Action' : 'Filter'),
      meta: (x) => ({ description: prose(x, 120), manifest: { title: x.v.name, version: '0.1.0' } }),
      valves: () => null,
      is_global: (x) => x.r.rng.chance(0.3),
    },
  },
  skill: { columns: { name: (x) => `${title(x)} ${x.i}`, content: (x) => prose(x, x.r.size(2000, 200, 20_000)) } },
  group: {
    columns: {
      data: () => null,
      meta: () => null,
      permissions: (x) => ({
        workspace: { models: x.r.rng.chance(0.5), knowledge: x.r.rng.chance(0.5), prompts: true, tools: false },
        chat: { file_upload: true, delete: true, edit: true, temporary: true },
      }),
      user_ids: (x) => Array.from({ length: x.r.rng.int(0, 12) }, () => x.pick('user')),
    },
  },
  group_member: { columns: {} },
  access_grant: {
    columns: {
      resource_type: (x) => x.r.rng.pick(['knowledge', 'model', 'prompt', 'tool', 'note']),
      resource_id: (x) => x.r.rng.uuid(),
      principal_type: () => 'user',
      principal_id: (x) => x.pick('user'),
      permission: (x) => (x.r.rng.chance(0.8) ? 'read' : 'write'),
    },
  },
  config: {
    // Per-key rows (later revisions) or one JSON document (earlier ones).
    rows: (t) => (t.columns.some((c) => c.name === 'key') ? CONFIG_KEYS.length : 1),
    columns: {
      key: (x) => CONFIG_KEYS[x.i],
      value: (x) => (CONFIG_KEYS[x.i].endsWith('urls') ? ['http://ollama:11434'] : CONFIG_KEYS[x.i].startsWith('ui.') ? prose(x, 60) : x.r.rng.chance(0.5)),
      data: (x) => configDocument(x),
      version: () => 0,
    },
  },
  config_old: { columns: { data: (x) => configDocument(x), version: () => 0 } },
  automation: {
    columns: {
      data: (x) => ({ prompt: prose(x, 400), model_id: x.r.rng.pick(MODELS), schedule: '0 9 * * 1-5' }),
      last_run_at: (x) => x.updated,
      next_run_at: (x) => x.updated + 86_400,
    },
  },
  automation_run: { columns: { status: (x) => (x.r.rng.chance(0.9) ? 'success' : 'error'), error: () => null } },
  calendar: { columns: { color: (x) => `#${x.r.hex(6)}`, is_default: (x) => x.i === 0 } },
  calendar_event: {
    columns: {
      start_at: (x) => x.created,
      end_at: (x) => x.created + 3600,
      all_day: (x) => x.r.rng.chance(0.1),
      rrule: () => null,
      color: () => null,
      location: () => null,
      is_cancelled: () => false,
    },
  },
  calendar_event_attendee: { columns: { status: (x) => x.r.rng.pick(['accepted', 'tentative', 'declined']) } },
};

const CONFIG_KEYS = [
  'version',
  'ui.default_locale',
  'ui.banners',
  'ui.default_models',
  'ui.prompt_suggestions',
  'ui.enable_signup',
  'ollama.enable',
  'ollama.base_urls',
  'openai.enable',
  'openai.api_base_urls',
  'rag.embedding_engine',
  'rag.embedding_model',
  'rag.chunk_size',
  'rag.top_k',
  'web_search.enable',
  'image_generation.enable',
  'audio.tts.engine',
  'audio.stt.engine',
  'auth.jwt_expires_in',
  'oauth.enable_signup',
];

const configDocument = (x: RowContext) => ({
  version: 0,
  ui: { default_locale: 'en-US', prompt_suggestions: Array.from({ length: 6 }, () => ({ title: [title(x), prose(x, 40)], content: prose(x, 200) })) },
  ollama: { enable: true, base_urls: ['http://ollama:11434'] },
  openai: { enable: true, api_base_urls: ['https://api.openai.com/v1'], api_keys: [`sk-${x.r.hex(48)}`] },
  rag: { embedding_engine: '', embedding_model: 'sentence-transformers/all-MiniLM-L6-v2', chunk_size: 1000, top_k: 3, template: prose(x, 1500) },
});

// ---------------------------------------------------------------- seeding

export interface TableSeedReport {
  table: string;
  rows: number;
  /** pg_total_relation_size after seeding. */
  bytes: number;
  how: 'realistic' | 'generic' | 'derived' | 'kept';
  /** Columns the seeder has no shape for: filled by type only (or by their own default). */
  genericColumns: string[];
  note?: string;
}

interface SeedOptions {
  seed: number;
  /** Tables not to touch. alembic_version, chat and tables outside `public` are never touched. */
  skip?: string[];
  onProgress?: (table: string, i: number, n: number) => void;
}

const ALWAYS_SKIPPED = ['alembic_version', 'chat'];
/** Rows per COPY chunk: large enough to amortise the stream, small enough to stay streaming. */
const CHUNK_BYTES = 1 << 20;

/** The chats' owners and their time span: the basis of every proportion. */
async function readChatBasis(client: Client): Promise<{ users: string[]; chats: number; t0: number; t1: number }> {
  const fallback = { t0: 1_700_000_000, t1: 1_750_000_000 };
  if (!(await client.query("SELECT to_regclass('public.chat') IS NOT NULL AS e")).rows[0].e) return { users: [], chats: 0, ...fallback };
  const users = (await client.query<{ u: string }>(`SELECT DISTINCT user_id COLLATE "C" AS u FROM chat WHERE ${MIGRATED_CHATS_WHERE} ORDER BY u`)).rows.map((r) => r.u);
  const s = (
    await client.query<{ n: number; t0: string | null; t1: string | null }>(
      `SELECT count(*)::int AS n, min(created_at) AS t0, max(greatest(created_at, updated_at)) AS t1 FROM chat WHERE ${MIGRATED_CHATS_WHERE}`,
    )
  ).rows[0];
  const t0 = Number(s.t0 ?? fallback.t0);
  const t1 = Number(s.t1 ?? fallback.t1);
  // Chat times in milliseconds (a seeded edge case) would put every row far in the future.
  return t1 > 1e11 || t0 > t1 ? { users, chats: s.n, ...fallback } : { users, chats: s.n, t0, t1 };
}

class KeyCache {
  private readonly cache = new Map<string, string[][]>();
  constructor(private readonly client: Client) {}

  async keys(schema: string, table: string, columns: string[]): Promise<string[][]> {
    const k = `${schema}.${table}(${columns.join(',')})`;
    let keys = this.cache.get(k);
    if (!keys) {
      // As text: written back through COPY exactly as the server printed them.
      const cols = columns.map((c) => `${ident(c)}::text COLLATE "C"`).join(', ');
      const r = await this.client.query({
        text: `SELECT DISTINCT ${cols} FROM ${ident(schema)}.${ident(table)} WHERE ${columns.map((c) => `${ident(c)} IS NOT NULL`).join(' AND ')} ORDER BY ${cols}`,
        rowMode: 'array',
      });
      keys = r.rows as string[][];
      this.cache.set(k, keys);
    }
    return keys;
  }

  forget(table: string): void {
    for (const k of this.cache.keys()) if (k.startsWith(`public.${table}(`)) this.cache.delete(k);
  }
}

/** A link with the keys it draws from; sequential when the link is itself unique (one row per key). */
interface LinkPlan extends Link {
  keys: string[][];
  sequential: boolean;
}

interface TablePlan {
  info: TableInfo;
  shape: Shape | undefined;
  links: LinkPlan[];
  /** Columns COPY writes (server-filled ones and defaulted unknown ones are left to the server). */
  written: ColumnInfo[];
  /** The written columns in generation order: `id` first, as other columns of a shape may be made from it. */
  generationOrder: ColumnInfo[];
  /** Columns that are a unique key alone. */
  uniqueAlone: Set<string>;
  generic: string[];
  rows: number;
  /** Keys of `user.id` and `chat.id`, for shapes that mention them inside JSON. */
  picks: Map<string, string[][]>;
}

/** How `table` gets its rows; a string when it cannot be seeded. */
async function planTable(
  info: TableInfo,
  tables: Map<string, TableInfo>,
  keys: KeyCache,
  counts: BasisCounts,
): Promise<TablePlan | string> {
  const shape = SHAPES[info.name];
  const known = new Set(shape ? [...Object.keys(COMMON), ...Object.keys(shape.columns)] : []);
  const links: LinkPlan[] = [];
  for (const link of [...info.foreignKeys, ...implicitLinks(info, tables, new Set(shape ? Object.keys(shape.columns) : []))]) {
    const cols = link.columns.map((c) => info.columns.find((x) => x.name === c)!);
    const self = link.refSchema === 'public' && link.refTable === info.name;
    const found = self ? [] : await keys.keys(link.refSchema, link.refTable, link.refColumns);
    if (!found.length && cols.some((c) => !c.nullable)) return `no keys in ${link.refTable} for ${link.columns.join(', ')}`;
    const sequential = info.uniques.some((u) => u.every((c) => link.columns.includes(c)));
    links.push({ ...link, keys: found, sequential });
  }
  const linked = new Set(links.flatMap((l) => l.columns));
  const written = info.columns.filter((c) => !c.serverFilled && (linked.has(c.name) || known.has(c.name) || c.default === null));
  const generic = info.columns.filter((c) => !c.serverFilled && !linked.has(c.name) && !known.has(c.name)).map((c) => c.name);
  let rows = shape?.rows?.(info, counts) ?? plannedRows(info.name, counts);
  for (const l of links) if (l.sequential) rows = Math.min(rows, l.keys.length);
  const picks = new Map<string, string[][]>();
  for (const t of ['user', 'chat']) if (tables.has(t)) picks.set(t, await keys.keys('public', t, ['id']));
  const generationOrder = [...written].sort((a, b) => Number(b.name === 'id') - Number(a.name === 'id'));
  const uniqueAlone = new Set(info.uniques.filter((u) => u.length === 1).map((u) => u[0]));
  return { info, shape, links, written, generationOrder, uniqueAlone, generic, rows, picks };
}

/** One row's values, or null when a unique key would repeat (the row is dropped). */
function makeRow(plan: TablePlan, x: RowContext, seen: Map<string, Set<string>>, singleText: Set<string>): string | null {
  const { info, shape } = plan;
  for (const l of plan.links) {
    const key = l.keys.length ? (l.sequential ? l.keys[x.i] : x.r.rng.pick(l.keys)) : undefined;
    l.columns.forEach((c, k) => (x.v[c] = key ? key[k] : null));
  }
  const fields = new Map<string, string>();
  for (const col of plan.generationOrder) {
    let field: string | undefined;
    const linked = x.v[col.name];
    if (linked !== undefined) field = linked === null ? '\\N' : copyText(String(linked));
    else {
      const gen = shape && (shape.columns[col.name] ?? COMMON[col.name]);
      if (gen) field = copyField(col, (x.v[col.name] = gen(x)));
      // A shape written for another revision may not fit this column (its type, NOT NULL): fall back to the type.
      if (field === undefined || (field === '\\N' && !col.nullable)) {
        const v = genericValue(col, x.i, x.created, x.r, plan.uniqueAlone.has(col.name)) ?? (col.nullable ? null : undefined);
        if (v !== undefined) field = copyField(col, (x.v[col.name] = v));
      }
      if (field === undefined) throw new Error(`cannot generate a value of type ${col.udt} for ${info.name}.${col.name}`);
    }
    fields.set(col.name, field);
  }
  for (const u of info.uniques) {
    if (!u.every((c) => fields.has(c))) continue;
    const values = u.map((c) => fields.get(c)!);
    if (values.includes('\\N')) continue;
    const set = seen.get(u.join(','))!;
    let tuple = values.join('\t');
    // A repeated name in a unique text column gets a suffix, as a user renaming a copy would.
    if (set.has(tuple) && u.length === 1 && singleText.has(u[0])) {
      tuple = copyText(`${x.v[u[0]]} (${x.i})`);
      fields.set(u[0], tuple);
    }
    if (set.has(tuple)) return null;
  }
  for (const u of info.uniques) if (u.every((c) => fields.has(c))) seen.get(u.join(','))!.add(u.map((c) => fields.get(c)!).join('\t'));
  return plan.written.map((c) => fields.get(c.name)!).join('\t') + '\n';
}

/** COPY the planned rows; returns the rows written. */
async function copyRows(client: Client, plan: TablePlan, seed: number, basis: { users: string[]; t0: number; t1: number }): Promise<number> {
  const r = new Randomness(seed, plan.info.name);
  const pick = (table: string) => {
    const k = plan.picks.get(table);
    return k?.length ? r.rng.pick(k)[0] : null;
  };
  const seen = new Map(plan.info.uniques.map((u) => [u.join(','), new Set<string>()]));
  const singleText = new Set(plan.written.filter((c) => isText(c) && plan.uniqueAlone.has(c.name)).map((c) => c.name));
  let written = 0;
  function* chunks(): Generator<string> {
    let buf = '';
    for (let i = 0; i < plan.rows; i++) {
      const created = Math.floor(basis.t0 + r.rng.next() * (basis.t1 - basis.t0));
      const updated = created + Math.floor(r.rng.next() * (basis.t1 - created));
      const line = makeRow(plan, { i, r, created, updated, v: {}, users: basis.users, pick }, seen, singleText);
      if (line === null) continue;
      buf += line;
      written++;
      if (buf.length >= CHUNK_BYTES) {
        yield buf;
        buf = '';
      }
    }
    if (buf) yield buf;
  }
  const columns = plan.written.map((c) => ident(c.name)).join(', ');
  const stream = client.query(copyFrom(`COPY ${ident(plan.info.name)} (${columns}) FROM STDIN`));
  await pipeline(Readable.from(chunks()), stream);
  if (stream.rowCount !== written) throw new Error(`COPY ${plan.info.name} stored ${stream.rowCount} rows, ${written} sent`);
  return written;
}

/** Fill `chat_message` from `chat` with the set-based port's statement, as its strategy does for one page spanning every chat. */
async function deriveChatMessages(client: Client): Promise<{ rows: number; failures: number }> {
  const high = await highWaterMark(client);
  if (high === null) return { rows: 0, failures: 0 };
  const failures = new FailureLog(() => undefined);
  try {
    for (const ddl of SETBASED_HELPERS_DDL) await client.query(ddl);
    await client.query('BEGIN');
    const page = { after: WALK_START, upTo: high, now: Math.floor(Date.now() / 1000) };
    const rows = await insertSetbasedPage(client, new FailureNotices(client), page, new SavepointNames(), failures, () => undefined);
    await client.query('COMMIT');
    return { rows, failures: failures.count };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await client.query(DROP_SETBASED_HELPERS_SQL);
  }
}

async function countRows(client: Client, table: string): Promise<number> {
  return Number((await client.query(`SELECT count(*) AS n FROM ${ident(table)}`)).rows[0].n);
}

async function hasRows(client: Client, table: string): Promise<boolean> {
  return (await client.query(`SELECT EXISTS (SELECT 1 FROM ${ident(table)}) AS e`)).rows[0].e as boolean;
}

/** Which tables each table waits for: its links, and the table its row count is relative to. */
function dependencies(tables: Map<string, TableInfo>): Map<string, Set<string>> {
  const deps = new Map<string, Set<string>>();
  for (const t of tables.values()) {
    const shaped = new Set(Object.keys(SHAPES[t.name]?.columns ?? {}));
    const d = new Set([...t.foreignKeys, ...implicitLinks(t, tables, shaped)].filter((l) => l.refSchema === 'public').map((l) => l.refTable));
    const per = PROPORTIONS[t.name]?.per;
    if (typeof per === 'object') d.add(per.table);
    deps.set(t.name, d);
  }
  return deps;
}

/**
 * Seed every table of the database `client` is connected to, but `chat`,
 * `alembic_version`, `o.skip` and tables that already hold rows. Never
 * throws for one table: a table that cannot be seeded is reported with
 * 0 rows and a note.
 */
export async function seedOtherTables(client: Client, o: SeedOptions): Promise<TableSeedReport[]> {
  const skip = new Set([...ALWAYS_SKIPPED, ...(o.skip ?? [])]);
  const all = await readSchema(client);
  const basis = await readChatBasis(client);
  const keys = new KeyCache(client);
  const rowsOf = new Map<string, number>();
  const counts: BasisCounts = { users: basis.users.length, chats: basis.chats, rowsOf: (t) => rowsOf.get(t) ?? 0 };
  const order = seedOrder(dependencies(all)).filter((t) => !skip.has(t));
  const reports: TableSeedReport[] = [];
  for (const [i, name] of order.entries()) {
    o.onProgress?.(name, i, order.length);
    const report = await seedOne(client, all.get(name)!, all, keys, counts, basis, o.seed);
    rowsOf.set(name, report.rows);
    keys.forget(name);
    reports.push(report);
  }
  for (const rep of reports) {
    if (rep.how !== 'kept' && rep.rows > 0) await client.query(`ANALYZE ${ident(rep.table)}`);
    rep.bytes = Number((await client.query('SELECT pg_total_relation_size($1::regclass) AS b', [`public.${ident(rep.table)}`])).rows[0].b);
  }
  return reports;
}

async function seedOne(
  client: Client,
  info: TableInfo,
  all: Map<string, TableInfo>,
  keys: KeyCache,
  counts: BasisCounts,
  basis: { users: string[]; t0: number; t1: number },
  seed: number,
): Promise<TableSeedReport> {
  const base = { table: info.name, bytes: 0, genericColumns: [] as string[] };
  if (await hasRows(client, info.name)) return { ...base, rows: await countRows(client, info.name), how: 'kept' };
  if (info.name === 'chat_message') {
    try {
      const d = await deriveChatMessages(client);
      return { ...base, rows: d.rows, how: 'derived', ...(d.failures ? { note: `${d.failures} messages skipped, as upstream skips them` } : {}) };
    } catch (err) {
      return { ...base, rows: 0, how: 'derived', note: `could not derive from chat: ${errorMessage(err)}` };
    }
  }
  const how = SHAPES[info.name] ? 'realistic' : 'generic';
  const plan = await planTable(info, all, keys, counts).catch((err: unknown) => `not planned: ${errorMessage(err)}`);
  if (typeof plan === 'string') return { ...base, rows: 0, how, note: plan };
  const report = { ...base, how, genericColumns: plan.generic } as const;
  try {
    await client.query('BEGIN');
    const rows = plan.rows ? await copyRows(client, plan, seed, basis) : 0;
    await client.query('COMMIT');
    return { ...report, rows };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    const checks = info.checks ? ` (the table has ${info.checks} CHECK constraint${info.checks > 1 ? 's' : ''} the seeder does not read)` : '';
    return { ...report, rows: 0, note: `not seeded: ${errorMessage(err)}${checks}` };
  }
}
