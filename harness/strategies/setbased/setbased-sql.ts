/**
 * The SQL of `setbased`: one `INSERT ... SELECT` per page that applies the
 * rules of `chat-to-rows.ts` inside the server, and the small helpers it
 * needs, kept in a schema of their own (`owui_harness`), created by the
 * strategy and dropped before it stamps.
 *
 * How a page reads each message once: `json_each` over `history.messages`,
 * then `json_each` over the message and one pass of FILTERed aggregates that
 * pivot its keys into columns. `json_to_record` would also parse a message
 * once, but PostgreSQL hands a string field to a `json` column de-escaped
 * and re-escaped by its own rules (`"h\u00e9"` comes back as `"hé"`), so
 * `content` would no longer be the bytes json.dumps writes; `json_each`
 * returns every value as the exact slice of the document. (Measured on 130 MB
 * of documents: pivot 0.62 s, json_to_record 0.79 s, against 0.46 s to only
 * list the messages; `->>` per field re-parses the message for every field.)
 * The pivot's aggregate keeps the last of duplicate keys, as Python's dict.
 *
 * The common path costs one parse of the document, one of the messages
 * object, one per message, and no plpgsql call; only unusual values (a
 * number where text goes, a timestamp that is not a plain integer, a
 * `done` that is not a boolean, a falsy non-string role, a document stored
 * as a JSON string) call the plpgsql helpers below.
 *
 * `\u0000`: PostgreSQL's json functions refuse to de-escape it (text cannot
 * hold NUL), and they de-escape every string of whatever they parse, so one
 * such escape anywhere in a document makes the page statement fail. The page
 * is then rolled back to its savepoint and redone with the *careful*
 * statement, which first rewrites every real `\u0000` escape of a document to
 * the placeholder `\uDBFF\uDFFF` (U+10FFFF, which json.dumps writes in lower
 * case), reads the document, and puts `\u0000` back into the JSON columns;
 * a text column or id holding the placeholder fails as NUL does upstream.
 * If that fails too, the page is redone chat by chat, each in a savepoint,
 * and a chat that still fails is reported as one failure (see setbased.ts).
 *
 * A failing row cannot abort the statement: the SELECT computes each row's
 * failure reason (the one upstream meets first, as messageRow ranks them:
 * by stage, SQLAlchemy's `done` check before psycopg2's rendering before
 * the server's parsing before its planning, then by column), filters it
 * out, and `report_failure` raises a NOTICE the strategy collects, so it is
 * logged and counted as upstream counts it.
 *
 * A list bound to a text column (`role`, `parentId`, `model`): psycopg2
 * sends it as `ARRAY[...]` (or a literal such as '{}' or '{NULL}') and
 * PostgreSQL stores the array's text form, or fails the row.
 * `list_text` renders the list as psycopg2 does (`py_render`) and lets the
 * server itself evaluate it, PREPAREd (parse errors) and then EXECUTEd
 * (planning errors), so the value and the error are PostgreSQL's own.
 *
 * A chat whose document is truthy but not an object (after the second
 * parse of a string document) stops upstream's migration there:
 * `poison_reason` gives Python's exception for it, and {@link FIRST_POISON_SQL}
 * finds the first such chat of a page, checked before the page is inserted.
 *
 * Parameters of the page statement: $1 the id the page starts after, $2 the
 * last id of the page, $3 the migration's `now` (unix seconds).
 */
import { MESSAGE_COLUMNS, MILLISECONDS_ABOVE, MIN_TIMESTAMP, type MessageColumn } from '../../openwebui/chat-to-rows.ts';
import { MIGRATED_CHATS_WHERE } from '../../openwebui/schema.ts';

/** The schema holding the helpers (never `public`). */
const SETBASED_SCHEMA = 'owui_harness';

/** The NOTICE message `report_failure` raises; its DETAIL is `{"id", "chatId", "reason", "nulHidden"}` as JSON. */
export const ROW_FAILURE_NOTICE = 'owui-harness row failure';

/** The escape that stands in for `\u0000` while PostgreSQL reads a document. */
const NUL_PLACEHOLDER = '\\uDBFF\\uDFFF';

const S = SETBASED_SCHEMA;
const NUL_REASON = 'A string literal cannot contain NUL (0x00) characters.';
/** The SQLSTATE `py_render` raises for what psycopg2 refuses to render. */
const ADAPT_ERROR = 'HA001';
// What Python's str.strip() removes (str.isspace()), as chat-to-rows.ts has it.
const PY_SPACE = '[\\t\\n\\u000b\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\u001c-\\u001f\\u0085]';
const DIGITS = '[0-9](?:_?[0-9])*';
const PY_FLOAT = `^[+-]?(?:${DIGITS}(?:\\.(?:${DIGITS})?)?|\\.${DIGITS})(?:[eE][+-]?${DIGITS})?$`;

/** CREATE statements for the helpers, each safe to repeat (a resumed run re-creates them). */
export const SETBASED_HELPERS_DDL: readonly string[] = [
  `CREATE SCHEMA IF NOT EXISTS ${S}`,
  `COMMENT ON SCHEMA ${S} IS 'helpers of the owui-migration-harness setbased strategy; dropped when it finishes'`,

  // The pivot's aggregate: with a strict transition function the first value becomes the
  // state without a call, so only a duplicate key (last wins, as in a Python dict) costs one.
  `CREATE OR REPLACE FUNCTION ${S}.second_json(a json, b json) RETURNS json LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT b'`,
  `CREATE OR REPLACE AGGREGATE ${S}.last_json(json) (SFUNC = ${S}.second_json, STYPE = json, PARALLEL = SAFE)`,

  // Every `\\` pair is an escaped backslash; what remains of `\u0000` after setting those aside is a real escape.
  `CREATE OR REPLACE FUNCTION ${S}.hide_nul(t text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
   $$ SELECT replace(replace(replace(t, '\\\\', chr(1)), '\\u0000', '${NUL_PLACEHOLDER}'), chr(1), '\\\\') $$`,
  `CREATE OR REPLACE FUNCTION ${S}.unhide_nul(v json) RETURNS json LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
   $$ SELECT replace(v::text, '${NUL_PLACEHOLDER}', '\\u0000')::json $$`,

  // A document stored as a JSON string, on the fast path: json.loads once more. A failure to
  // de-escape the outer string (a NUL character, a lone surrogate) or to parse the inner text
  // yields no rows; a \u0000 inside the inner document fails the statement (the careful path follows).
  `CREATE OR REPLACE FUNCTION ${S}.string_document_messages(chat json) RETURNS json LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
   DECLARE inner_text text; doc json;
   BEGIN
     BEGIN
       inner_text := chat #>> '{}';
       doc := inner_text::json;
     EXCEPTION WHEN others THEN
       RETURN NULL;
     END;
     RETURN json_extract_path(doc, 'history', 'messages');
   END $$`,

  // The careful path: the same, with every real \\u0000 escape hidden first.
  `CREATE OR REPLACE FUNCTION ${S}.careful_messages(chat json, OUT messages json, OUT hidden boolean) LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
   DECLARE t text; doc json;
   BEGIN
     hidden := false;
     IF chat IS NULL THEN RETURN; END IF;
     doc := chat;
     IF json_typeof(chat) = 'string' THEN
       t := chat::text;
       -- A NUL character is valid nowhere in JSON text: json.loads fails, no rows.
       IF strpos(t, '\\u0000') > 0 AND ${S}.hide_nul(t) <> t THEN RETURN; END IF;
       BEGIN
         doc := (chat #>> '{}')::json;
       EXCEPTION WHEN others THEN
         RETURN;
       END;
     END IF;
     t := doc::text;
     IF strpos(t, '\\u0000') > 0 THEN
       IF strpos(t, '${NUL_PLACEHOLDER}') > 0 THEN
         RAISE EXCEPTION 'document holds both \\u0000 and the placeholder ${NUL_PLACEHOLDER}: setbased cannot read it' USING ERRCODE = 'data_exception';
       END IF;
       t := ${S}.hide_nul(t);
       hidden := strpos(t, '${NUL_PLACEHOLDER}') > 0;
       doc := t::json;
     END IF;
     messages := json_extract_path(doc, 'history', 'messages');
   END $$`,

  // Python's float(x) of a JSON number lexeme or a cleaned numeral: ±inf past the range, 0.0 below it.
  `CREATE OR REPLACE FUNCTION ${S}.py_float(t text) RETURNS float8 LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
   BEGIN
     RETURN t::float8;
   EXCEPTION WHEN numeric_value_out_of_range THEN
     BEGIN
       IF abs(t::numeric) < 1 THEN RETURN 0; END IF;
     EXCEPTION WHEN others THEN
       IF t ~ '[eE]-' THEN RETURN 0; END IF;
     END;
     RETURN CASE WHEN left(t, 1) = '-' THEN '-Infinity' ELSE 'Infinity' END::float8;
   END $$`,

  // What a text column stores for a JSON number: an int's decimal text; a float's repr() read as numeric.
  `CREATE OR REPLACE FUNCTION ${S}.py_number_text(t text) RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
   SET extra_float_digits = 1 AS $$
   DECLARE f float8; n numeric;
   BEGIN
     IF t !~ '[.eE]' THEN RETURN CASE WHEN t = '-0' THEN '0' ELSE t END; END IF;
     f := ${S}.py_float(t);
     IF f = 'Infinity'::float8 THEN RETURN 'Infinity'; END IF;
     IF f = '-Infinity'::float8 THEN RETURN '-Infinity'; END IF;
     -- float8 text is the shortest round-trip digits, as repr(); repr() keeps '.0' on integral values below 1e16.
     n := f::text::numeric;
     IF n = trunc(n) AND abs(n) < 1e16 THEN RETURN trunc(n)::text || '.0'; END IF;
     RETURN n::text;
   END $$`,

  `CREATE OR REPLACE FUNCTION ${S}.py_text(v json) RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
   BEGIN
     CASE json_typeof(v)
       WHEN 'string' THEN RETURN v #>> '{}';
       WHEN 'number' THEN RETURN ${S}.py_number_text(v::text);
       WHEN 'boolean' THEN RETURN v::text;
       ELSE RETURN NULL;
     END CASE;
   END $$`,

  `CREATE OR REPLACE FUNCTION ${S}.py_truthy(v json) RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
   BEGIN
     CASE json_typeof(v)
       WHEN 'null' THEN RETURN false;
       WHEN 'boolean' THEN RETURN v::text = 'true';
       WHEN 'number' THEN RETURN ${S}.py_float(v::text) <> 0;
       WHEN 'string' THEN RETURN v::text <> '""';
       WHEN 'array' THEN RETURN v::text !~ '^\\[[ \\t\\n\\r]*\\]$';
       ELSE RETURN v::text !~ '^\\{[ \\t\\n\\r]*\\}$';
     END CASE;
   END $$`,

  // SQLAlchemy's Boolean: None, True, False and what equals them (1, 0, 1.0, 0.0).
  `CREATE OR REPLACE FUNCTION ${S}.py_bool(v json) RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
   DECLARE f float8;
   BEGIN
     CASE json_typeof(v)
       WHEN 'boolean' THEN RETURN v::text = 'true';
       WHEN 'number' THEN
         f := ${S}.py_float(v::text);
         RETURN CASE WHEN f = 1 THEN true WHEN f = 0 THEN false END;
       ELSE RETURN NULL;
     END CASE;
   END $$`,
  `CREATE OR REPLACE FUNCTION ${S}.bool_failure(v json) RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
   BEGIN
     CASE json_typeof(v)
       WHEN 'null', 'boolean' THEN RETURN NULL;
       WHEN 'number' THEN
         IF ${S}.py_bool(v) IS NOT NULL THEN RETURN NULL; END IF;
         IF v::text !~ '[.eE]' THEN RETURN 'done: Value ' || v::text || ' is not None, True, or False'; END IF;
         RETURN 'done: Not a boolean value: ' || v::text;
       ELSE RETURN 'done: Not a boolean value: ' || v::text;
     END CASE;
   END $$`,

  // Python's int(float(x)), or NULL where Python raises (None, "abc", "inf", "nan", lists, dicts).
  `CREATE OR REPLACE FUNCTION ${S}.py_int_of_float(v json) RETURNS numeric LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
   DECLARE s text; f float8;
   BEGIN
     CASE json_typeof(v)
       WHEN 'boolean' THEN RETURN CASE WHEN v::text = 'true' THEN 1 ELSE 0 END;
       WHEN 'number' THEN f := ${S}.py_float(v::text);
       WHEN 'string' THEN
         s := regexp_replace(v #>> '{}', '^${PY_SPACE}+|${PY_SPACE}+$', '', 'g');
         IF s !~ '${PY_FLOAT}' THEN RETURN NULL; END IF;
         f := ${S}.py_float(replace(s, '_', ''));
       ELSE RETURN NULL;
     END CASE;
     IF f IS NULL OR f = 'Infinity'::float8 OR f = '-Infinity'::float8 THEN RETURN NULL; END IF;
     RETURN trunc(f)::numeric;
   END $$`,
  `CREATE OR REPLACE FUNCTION ${S}.coerce_timestamp(v json, now bigint) RETURNS bigint LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
   DECLARE x numeric;
   BEGIN
     IF v IS NULL THEN RETURN now; END IF;
     x := ${S}.py_int_of_float(v);
     IF x IS NULL THEN RETURN now; END IF;
     IF x > ${MILLISECONDS_ABOVE} THEN x := floor(x / 1000); END IF;
     IF x < ${MIN_TIMESTAMP} OR x > now + 86400 THEN RETURN now; END IF;
     RETURN x;
   END $$`,

  // psycopg2's rendering of a value into the SQL text (see harness/openwebui/adapt-text.ts): a list as ARRAY[...],
  // an empty list as '{}', a list of only None (at any depth) as one literal; a float as its repr(), typed numeric
  // (a trailing point where the digits have none), infinities as 'Infinity'::float. What psycopg2 itself refuses
  // (an object, a string holding NUL) raises SQLSTATE ${ADAPT_ERROR}.
  `CREATE OR REPLACE FUNCTION ${S}.py_render(v json, hidden boolean) RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
   DECLARE t text; f float8; n text; item json; r text; parts text[] := '{}'; all_nulls boolean := true;
   BEGIN
     CASE json_typeof(v)
       WHEN 'null' THEN RETURN 'NULL';
       WHEN 'boolean' THEN RETURN v::text;
       WHEN 'number' THEN
         t := btrim(v::text);
         IF t !~ '[.eE]' THEN RETURN CASE WHEN t = '-0' THEN '0' ELSE t END; END IF;
         f := ${S}.py_float(t);
         IF f = 'Infinity'::float8 THEN RETURN '''Infinity''::float'; END IF;
         IF f = '-Infinity'::float8 THEN RETURN '''-Infinity''::float'; END IF;
         n := ${S}.py_number_text(t);
         RETURN CASE WHEN strpos(n, '.') > 0 THEN n ELSE n || '.' END;
       WHEN 'string' THEN
         IF hidden AND strpos(v::text, '${NUL_PLACEHOLDER}') > 0 THEN
           RAISE EXCEPTION USING ERRCODE = '${ADAPT_ERROR}', MESSAGE = '${NUL_REASON}';
         END IF;
         RETURN quote_literal(v #>> '{}');
       WHEN 'object' THEN RAISE EXCEPTION USING ERRCODE = '${ADAPT_ERROR}', MESSAGE = 'can''t adapt type ''dict''';
       ELSE
         FOR item IN SELECT e.value FROM json_array_elements(v) WITH ORDINALITY e ORDER BY e.ordinality LOOP
           r := ${S}.py_render(item, hidden);
           IF json_typeof(item) = 'array' THEN
             -- A nested empty list becomes ARRAY[]; a nested all-None list stays a literal.
             IF r = '''{}''' THEN r := 'ARRAY[]'; all_nulls := false;
             ELSIF left(r, 1) = 'A' THEN all_nulls := false;
             END IF;
           ELSIF json_typeof(item) <> 'null' THEN all_nulls := false;
           END IF;
           parts := parts || r;
         END LOOP;
         IF cardinality(parts) = 0 THEN RETURN '''{}'''; END IF;
         IF all_nulls THEN
           RETURN quote_literal('{' || array_to_string(ARRAY(SELECT CASE WHEN p.x = 'NULL' THEN 'NULL' ELSE btrim(p.x, '''') END
                                                             FROM unnest(parts) WITH ORDINALITY p(x, i) ORDER BY p.i), ',') || '}');
         END IF;
         RETURN 'ARRAY[' || array_to_string(parts, ',') || ']';
     END CASE;
   END $$`,

  // What a text column stores for a list, or why the row fails: '1' (psycopg2), '2' (the server parsing) or
  // '3' (the server planning and running) and the message. The server evaluates psycopg2's text itself.
  `CREATE OR REPLACE FUNCTION ${S}.list_text(v json, hidden boolean, OUT value text, OUT failure text) LANGUAGE plpgsql VOLATILE AS $$
   DECLARE expr text;
   BEGIN
     BEGIN
       expr := ${S}.py_render(v, hidden);
     EXCEPTION WHEN SQLSTATE '${ADAPT_ERROR}' THEN
       failure := '1' || SQLERRM;
       RETURN;
     END;
     -- A literal ('{}', '{NULL,...}') is stored as it is.
     IF left(expr, 1) = '''' THEN value := btrim(expr, ''''); RETURN; END IF;
     IF EXISTS (SELECT 1 FROM pg_prepared_statements WHERE name = 'owui_harness_list') THEN DEALLOCATE owui_harness_list; END IF;
     BEGIN
       EXECUTE 'PREPARE owui_harness_list AS SELECT (' || expr || ')::text';
     EXCEPTION WHEN others THEN
       failure := '2' || SQLERRM;
       RETURN;
     END;
     BEGIN
       EXECUTE 'EXECUTE owui_harness_list' INTO value;
     EXCEPTION WHEN others THEN
       failure := '3' || SQLERRM;
     END;
     DEALLOCATE owui_harness_list;
   END $$`,
  // The sort key of a list's failure in `column` (its index in MESSAGE_COLUMNS, two digits): stage, column, reason.
  `CREATE OR REPLACE FUNCTION ${S}.list_failure(v json, hidden boolean, column_key text) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
   DECLARE f text;
   BEGIN
     f := (${S}.list_text(v, hidden)).failure;
     IF f IS NULL THEN RETURN NULL; END IF;
     RETURN left(f, 1) || column_key || substr(f, 2);
   END $$`,

  // Python's exception where upstream calls .get on a document that is truthy but not an object (after parsing
  // a string document once more), or NULL: an object, a falsy document, a string json.loads cannot read.
  `CREATE OR REPLACE FUNCTION ${S}.poison_reason(chat json) RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
   DECLARE doc json; t text; kind text;
   BEGIN
     IF chat IS NULL THEN RETURN NULL; END IF;
     kind := json_typeof(chat);
     IF kind IN ('object', 'null') OR NOT ${S}.py_truthy(chat) THEN RETURN NULL; END IF;
     doc := chat;
     IF kind = 'string' THEN
       BEGIN
         t := chat #>> '{}';
       EXCEPTION WHEN others THEN
         RETURN NULL;
       END;
       BEGIN
         doc := t::json;
       EXCEPTION WHEN others THEN
         -- Python reads NaN, Infinity and -Infinity, which PostgreSQL's json refuses.
         IF btrim(t, E' \\t\\n\\r') ~ '^-?(NaN|Infinity)$' THEN RETURN 'AttributeError: ''float'' object has no attribute ''get'''; END IF;
         BEGIN
           doc := regexp_replace(t, '-?\\m(NaN|Infinity)\\M', '0', 'g')::json;
         EXCEPTION WHEN others THEN
           RETURN NULL;
         END;
       END;
       kind := json_typeof(doc);
       IF kind = 'object' THEN RETURN NULL; END IF;
     END IF;
     RETURN format('AttributeError: ''%s'' object has no attribute ''get''',
       CASE kind WHEN 'array' THEN 'list' WHEN 'boolean' THEN 'bool' WHEN 'string' THEN 'str' WHEN 'null' THEN 'NoneType'
                 ELSE CASE WHEN btrim(doc::text) ~ '[.eE]' THEN 'float' ELSE 'int' END END);
   END $$`,

  // nulHidden: the id's U+10FFFF characters stand for NUL (the reader puts NUL back).
  `CREATE OR REPLACE FUNCTION ${S}.report_failure(id text, chat_id text, reason text, nul_hidden boolean) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
   BEGIN
     RAISE NOTICE USING MESSAGE = '${ROW_FAILURE_NOTICE}',
       DETAIL = json_build_object('id', id, 'chatId', chat_id, 'reason', reason, 'nulHidden', nul_hidden)::text;
     RETURN false;
   END $$`,
];

/** Removes the helpers (the strategy's last step before the stamp). */
export const DROP_SETBASED_HELPERS_SQL = `DROP SCHEMA IF EXISTS ${S} CASCADE`;

/** Message keys the pivot reads, and the name of each in the SELECT. */
const FIELDS = [
  ['role', 'role'],
  ['parent', 'parentId'],
  ['content', 'content'],
  ['output', 'output'],
  ['model', 'model'],
  ['files', 'files'],
  ['sources', 'sources'],
  ['embeds', 'embeds'],
  ['done', 'done'],
  ['status_history', 'statusHistory'],
  ['error', 'error'],
  ['usage', 'usage'],
  ['ts', 'timestamp'],
] as const;

const text = (v: string) => `CASE WHEN ${v} IS NULL THEN NULL WHEN left(${v}::text, 1) = '"' THEN ${v} #>> '{}'
      WHEN left(${v}::text, 1) = '[' THEN (${S}.list_text(${v}, d.hidden)).value ELSE ${S}.py_text(${v}) END`;

/**
 * Failure sort keys: the stage (0 SQLAlchemy's bind processors, 1 psycopg2's
 * rendering, 2 the server parsing, 3 the server planning and running), the
 * column's index in MESSAGE_COLUMNS (two digits), then `column: reason`; the
 * least key is the failure upstream meets first (see messageRow).
 */
const failureKey = (stage: number, column: MessageColumn) => `${stage}${String(MESSAGE_COLUMNS.indexOf(column)).padStart(2, '0')}${column}: `;
const KEY_PREFIX = 3;
const textFailure = (v: string, column: MessageColumn) => `CASE WHEN ${v} IS NULL THEN NULL
      WHEN left(${v}::text, 1) = '"' THEN CASE WHEN d.hidden AND strpos(${v}::text, '${NUL_PLACEHOLDER}') > 0 THEN '${failureKey(1, column)}${NUL_REASON}' END
      WHEN left(${v}::text, 1) = '{' THEN '${failureKey(1, column)}can''t adapt type ''dict'''
      WHEN left(${v}::text, 1) = '[' THEN ${S}.list_failure(${v}, d.hidden, '${failureKey(0, column).slice(1)}') END`;
const json = (v: string) => `CASE WHEN ${v} IS NULL THEN 'null'::json WHEN d.hidden THEN ${S}.unhide_nul(${v}) ELSE ${v} END`;
// The common timestamp, a plain integer of up to 15 digits, is decided inline.
const tsInt = (v: string) => `(${v}::text::bigint)`;
const msRule = (v: string) => `CASE WHEN ${tsInt(v)} > ${MILLISECONDS_ABOVE} THEN ${tsInt(v)} / 1000 ELSE ${tsInt(v)} END`;
const timestamp = (v: string) => `CASE WHEN ${v} IS NULL THEN $3::bigint
      WHEN ${v}::text ~ '^[0-9]{1,15}$' THEN
        CASE WHEN (${msRule(v)}) < ${MIN_TIMESTAMP} OR (${msRule(v)}) > $3::bigint + 86400 THEN $3::bigint ELSE (${msRule(v)}) END
      ELSE ${S}.coerce_timestamp(${v}, $3::bigint) END`;

/** How the page statement finds each chat's `history.messages`: the fast path, or the careful one that hides `\u0000`. */
type SetbasedMode = 'fast' | 'careful';

function documentSource(mode: SetbasedMode): string {
  if (mode === 'careful') return `CROSS JOIN LATERAL ${S}.careful_messages(c.chat) d`;
  return `CROSS JOIN LATERAL (SELECT json_extract_path(c.chat, 'history', 'messages') AS m OFFSET 0) x
  CROSS JOIN LATERAL (
    SELECT CASE WHEN x.m IS NOT NULL THEN x.m WHEN json_typeof(c.chat) = 'string' THEN ${S}.string_document_messages(c.chat) END AS messages,
           false AS hidden
    OFFSET 0) d`;
}

/** The page statement: every message of the chats in `($1, $2]` into chat_message, ON CONFLICT DO NOTHING. */
export function setbasedPageSql(mode: SetbasedMode): string {
  const pivot = FIELDS.map(([name, key]) => `${S}.last_json(f.value) FILTER (WHERE f.key = '${key}') AS ${name}`).join(',\n      ');
  return `INSERT INTO chat_message (id, chat_id, user_id, role, parent_id, content, output, model_id, files, sources, embeds, done, status_history, error, usage, created_at, updated_at)
SELECT r.id, r.chat_id, r.user_id, r.role, r.parent_id, r.content, r.output, r.model_id, r.files, r.sources, r.embeds, r.done, r.status_history, r.error, r.usage, r.ts, r.ts
FROM (
  SELECT
    c.id || '-' || e.key AS id,
    c.id AS chat_id,
    c.user_id,
    d.hidden,
    ${text('m.role')} AS role,
    ${text('m.parent')} AS parent_id,
    ${json('m.content')} AS content,
    ${json('m.output')} AS output,
    ${text('m.model')} AS model_id,
    ${json('m.files')} AS files,
    ${json('m.sources')} AS sources,
    ${json('m.embeds')} AS embeds,
    CASE WHEN m.done IS NULL THEN true WHEN m.done::text = 'true' THEN true WHEN m.done::text = 'false' THEN false ELSE ${S}.py_bool(m.done) END AS done,
    ${json('m.status_history')} AS status_history,
    ${json('m.error')} AS error,
    ${json('m.usage')} AS usage,
    ${timestamp('m.ts')} AS ts,
    CASE WHEN m.role IS NULL THEN false WHEN left(m.role::text, 1) = '"' THEN m.role::text <> '""' ELSE ${S}.py_truthy(m.role) END AS keep,
    substr(LEAST(
      CASE WHEN d.hidden AND strpos(e.key, chr(1114111)) > 0 THEN '${failureKey(1, 'id')}${NUL_REASON}' END,
      ${textFailure('m.role', 'role')},
      ${textFailure('m.parent', 'parent_id')},
      ${textFailure('m.model', 'model_id')},
      CASE WHEN m.done IS NULL OR m.done::text IN ('true', 'false', 'null') THEN NULL ELSE '${failureKey(0, 'done').slice(0, KEY_PREFIX)}' || ${S}.bool_failure(m.done) END
    ) COLLATE "C", ${KEY_PREFIX + 1}) AS fail
  FROM chat c
  ${documentSource(mode)}
  CROSS JOIN LATERAL json_each(CASE WHEN json_typeof(d.messages) = 'object' THEN d.messages END) e
  CROSS JOIN LATERAL (
    SELECT
      ${pivot}
    FROM json_each(CASE WHEN json_typeof(e.value) = 'object' THEN e.value END) f
  ) m
  WHERE c.id > $1 AND c.id <= $2 AND ${MIGRATED_CHATS_WHERE}
) r
WHERE CASE WHEN NOT r.keep THEN false WHEN r.fail IS NULL THEN true ELSE ${S}.report_failure(r.id, r.chat_id, r.fail, r.hidden) END
ON CONFLICT (id) DO NOTHING`;
}

/**
 * The first chat in `($1, $2]` whose document stops upstream (see
 * `poison_reason`), in id order, with Python's exception. Only documents not
 * starting with `{` are looked at (read from the first bytes of the value,
 * so a large document is not read twice).
 */
export const FIRST_POISON_SQL = `SELECT c.id, ${S}.poison_reason(c.chat) AS reason FROM chat c
WHERE c.id > $1 AND c.id <= $2 AND ${MIGRATED_CHATS_WHERE}
  AND left(ltrim(substr(c.chat::text, 1, 64), E' \\t\\n\\r'), 1) <> '{'
  AND ${S}.poison_reason(c.chat) IS NOT NULL
ORDER BY c.id LIMIT 1`;
