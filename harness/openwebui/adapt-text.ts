/**
 * What a `text` column of `chat_message` (`role`, `parent_id`, `model_id`)
 * stores for the value upstream binds to it, or why that row's insert fails.
 *
 * psycopg2 renders every value into the SQL text: a number bare, a string
 * quoted, a list as `ARRAY[...]` (an empty list as the literal '{}', a list
 * holding only None, at any depth, as one literal such as '{NULL,{NULL}}').
 * PostgreSQL assigns a literal to the column as it is, and anything else
 * through the value's text output, so an array arrives as its text form
 * (`{a,"b c",NULL}`). Building that array follows PostgreSQL's ARRAY[...]
 * rules, modelled here: one element type chosen from the elements' types,
 * quoted strings read by that type's input function, sub-arrays whose
 * dimensions must match. A list those rules reject fails its row alone.
 *
 * Not modelled (the row is reported failing with a reason saying so):
 * strings holding array literals with explicit bounds (`[1:2]={...}`), read
 * where a list element is itself a list.
 */
import { floatRepr, PyFloat, pyTypeName, type PyValue } from './python-json.ts';

/**
 * Where an insert fails: SQLAlchemy's bind processor, psycopg2 rendering the
 * parameters (both before anything is sent), the server parsing the
 * statement, or the server planning and running it. A row with several bad
 * values reports the earliest stage's error (within a stage, column order).
 */
export type FailureStage = 'bind' | 'adapt' | 'parse' | 'execute';
export const FAILURE_STAGES: readonly FailureStage[] = ['bind', 'adapt', 'parse', 'execute'];

export type Adapted<T> = { ok: true; value: T } | { ok: false; reason: string; stage: FailureStage };

/** What psycopg2 sends for a value bound to a `text` column, as the column then stores it. */
export function adaptText(v: PyValue | undefined): Adapted<string | null> {
  if (v === null || v === undefined) return { ok: true, value: null };
  try {
    if (Array.isArray(v)) {
      const node = renderList(v);
      return { ok: true, value: node.k === 'literal' ? node.text : arrayOut(evaluateArray(node.items)) };
    }
    // A scalar goes through its type's cast to text: `true` becomes `true` (not boolout's `t`).
    if (typeof v === 'boolean') return { ok: true, value: v ? 'true' : 'false' };
    if (typeof v === 'number' || typeof v === 'bigint') return { ok: true, value: String(v) };
    if (v instanceof PyFloat) return { ok: true, value: Number.isFinite(v.value) ? numericText(floatRepr(v.value))! : float8Out(v.value) };
    if (typeof v === 'string') return { ok: true, value: checkedString(v) };
    throw new RowError(`can't adapt type '${pyTypeName(v)}'`, 'adapt');
  } catch (err) {
    if (err instanceof RowError) return { ok: false, reason: err.message, stage: err.stage };
    throw err;
  }
}

/** An error that fails the row: the driver's or the server's message (parse-time unless said otherwise). */
class RowError extends Error {
  constructor(
    message: string,
    readonly stage: FailureStage = 'parse',
  ) {
    super(message);
  }
}

function checkedString(s: string): string {
  if (s.includes('\0')) throw new RowError('A string literal cannot contain NUL (0x00) characters.', 'adapt');
  if (!s.isWellFormed()) throw new RowError("'utf-8' codec can't encode character: surrogates not allowed", 'adapt');
  return s;
}

// ---------------------------------------------------------------- psycopg2's rendering

type Scalar = 'bool' | 'int4' | 'int8' | 'numeric' | 'float8' | 'text';
/** A scalar value: its type and its text as that type's output function writes it. */
interface ScalarValue {
  type: Scalar;
  out: string;
}

type Node =
  | { k: 'null' }
  /** A quoted literal of no type yet (a string, or psycopg2's '{}' and '{NULL,...}'). */
  | { k: 'literal'; text: string }
  | { k: 'const'; value: ScalarValue }
  /** `ARRAY[...]`; with no items, `ARRAY[]`. */
  | { k: 'array'; items: Node[] };

function render(v: PyValue): Node {
  if (v === null) return { k: 'null' };
  if (typeof v === 'boolean') return { k: 'const', value: { type: 'bool', out: v ? 't' : 'f' } };
  if (typeof v === 'number' || typeof v === 'bigint') return { k: 'const', value: { type: integerType(BigInt(v)), out: String(v) } };
  if (v instanceof PyFloat) {
    // A finite float is its repr, a numeric constant; NaN and infinities are sent as 'NaN'::float.
    if (Number.isFinite(v.value)) return { k: 'const', value: { type: 'numeric', out: numericText(floatRepr(v.value))! } };
    return { k: 'const', value: { type: 'float8', out: float8Out(v.value) } };
  }
  if (typeof v === 'string') return { k: 'literal', text: checkedString(v) };
  if (Array.isArray(v)) return renderList(v);
  throw new RowError(`can't adapt type '${pyTypeName(v)}'`, 'adapt');
}

function renderList(list: PyValue[]): { k: 'literal'; text: string } | { k: 'array'; items: Node[] } {
  if (!list.length) return { k: 'literal', text: '{}' };
  let allNulls = true;
  const items = list.map((v): Node => {
    const n = render(v);
    if (Array.isArray(v)) {
      // Nested: an empty list becomes ARRAY[]; an all-None list stays a literal and keeps this one all-None.
      if (n.k === 'literal' && n.text === '{}') {
        allNulls = false;
        return { k: 'array', items: [] };
      }
      if (n.k === 'array') allNulls = false;
      return n;
    }
    if (n.k !== 'null') allNulls = false;
    return n;
  });
  if (allNulls) return { k: 'literal', text: `{${items.map((n) => (n.k === 'literal' ? n.text : 'NULL')).join(',')}}` };
  return { k: 'array', items };
}

/** The type PostgreSQL gives an integer constant. */
function integerType(n: bigint): Scalar {
  if (n >= -2147483648n && n <= 2147483647n) return 'int4';
  if (n >= -9223372036854775808n && n <= 9223372036854775807n) return 'int8';
  return 'numeric';
}

// ---------------------------------------------------------------- PostgreSQL's ARRAY[...]

interface PgType {
  scalar: Scalar;
  array: boolean;
}

/** An array value: dimensions (none for an empty array), elements in row-major order. */
interface ArrayValue {
  dims: number[];
  elems: (ScalarValue | null)[];
  /** An error raised when the statement executes (after every parse-time error). */
  execError?: string;
}

type Typed = { k: 'null' } | { k: 'literal'; text: string } | { k: 'scalar'; value: ScalarValue } | { k: 'array'; type: PgType; value: ArrayValue };

const MAXDIM = 6;
const DIMENSIONS_MISMATCH = 'multidimensional arrays must have array expressions with matching dimensions';

const TYPE_NAMES: Record<Scalar, string> = { bool: 'boolean', int4: 'integer', int8: 'bigint', numeric: 'numeric', float8: 'double precision', text: 'text' };
const typeName = (t: PgType) => TYPE_NAMES[t.scalar] + (t.array ? '[]' : '');
const CATEGORY: Record<Scalar, string> = { bool: 'B', int4: 'N', int8: 'N', numeric: 'N', float8: 'N', text: 'S' };
const WIDENS_TO: Record<Scalar, Scalar[]> = { bool: [], int4: ['int8', 'numeric', 'float8'], int8: ['numeric', 'float8'], numeric: ['float8'], float8: [], text: [] };

function implicitCast(from: PgType, to: PgType): boolean {
  if (from.array !== to.array) return false;
  return from.scalar === to.scalar || WIDENS_TO[from.scalar].includes(to.scalar);
}

/** PostgreSQL's select_common_type for ARRAY[...]: the first type, moved along implicit casts, never across categories. */
function commonType(types: PgType[]): PgType {
  if (!types.length) return { scalar: 'text', array: false };
  let p = types[0];
  for (const t of types.slice(1)) {
    if (t.scalar === p.scalar && t.array === p.array) continue;
    const category = (x: PgType) => (x.array ? 'A' : CATEGORY[x.scalar]);
    if (category(t) !== category(p)) throw new RowError(`ARRAY types ${typeName(p)} and ${typeName(t)} cannot be matched`);
    const preferred = !p.array && p.scalar === 'float8';
    if (!preferred && implicitCast(p, t) && !implicitCast(t, p)) p = t;
  }
  return p;
}

function leaf(n: Node): Typed {
  switch (n.k) {
    case 'null':
      return n;
    case 'literal':
      return n;
    case 'const':
      return { k: 'scalar', value: n.value };
    case 'array': {
      const value = evaluateArray(n.items);
      return { k: 'array', type: value.type, value: value.value };
    }
  }
}

/** `ARRAY[items]`: its type and value (parse-time errors thrown, execution errors kept in the value). */
function evaluateArray(items: Node[]): { type: PgType; value: ArrayValue } {
  if (!items.length) throw new RowError('cannot determine type of empty array');
  const children = items.map(leaf);
  const typed = children.flatMap((c) => (c.k === 'scalar' ? [{ scalar: c.value.type, array: false }] : c.k === 'array' ? [c.type] : []));
  const multidims = children.some((c) => c.k === 'array');
  const common = commonType(typed);
  if (!multidims) {
    const elems = children.map((c) => coerceScalar(c, common.scalar));
    return { type: { scalar: common.scalar, array: true }, value: { dims: [elems.length], elems } };
  }
  const subs = children.map((c) => coerceArray(c, common));
  let execError = subs.find((s) => s?.execError)?.execError;
  let dims: number[] | undefined;
  let haveEmpty = false;
  const elems: (ScalarValue | null)[] = [];
  let count = 0;
  for (const s of subs) {
    if (!s || !s.dims.length) {
      haveEmpty = true;
      continue;
    }
    if (!dims) dims = s.dims;
    else if (s.dims.length !== dims.length || s.dims.some((d, i) => d !== dims![i])) execError ??= DIMENSIONS_MISMATCH;
    elems.push(...s.elems);
    count++;
  }
  if (!dims) return { type: common, value: { dims: [], elems: [], execError } };
  if (haveEmpty) execError ??= DIMENSIONS_MISMATCH;
  if (dims.length + 1 > MAXDIM) execError ??= `number of array dimensions (${dims.length + 1}) exceeds the maximum allowed (${MAXDIM})`;
  return { type: common, value: { dims: [count, ...dims], elems, execError } };
}

function coerceScalar(c: Typed, to: Scalar): ScalarValue | null {
  if (c.k === 'null') return null;
  if (c.k === 'literal') return scalarInput(c.text, to);
  if (c.k === 'array') throw new RowError(`ARRAY could not convert type ${typeName(c.type)} to ${TYPE_NAMES[to]}`);
  return castScalar(c.value, to);
}

function coerceArray(c: Typed, to: PgType): ArrayValue | null {
  if (c.k === 'null') return null;
  if (c.k === 'literal') return arrayInput(c.text, to.scalar);
  const from: PgType = c.k === 'array' ? c.type : { scalar: c.value.type, array: false };
  if (c.k !== 'array' || !implicitCast(from, to)) throw new RowError(`ARRAY could not convert type ${typeName(from)} to ${typeName(to)}`);
  return { ...c.value, elems: c.value.elems.map((e) => (e ? castScalar(e, to.scalar) : null)) };
}

/** An implicit cast between the scalar types above (same type, or a widening within numbers). */
function castScalar(v: ScalarValue, to: Scalar): ScalarValue {
  if (v.type === to) return v;
  if (!WIDENS_TO[v.type].includes(to)) throw new RowError(`ARRAY could not convert type ${TYPE_NAMES[v.type]} to ${TYPE_NAMES[to]}`);
  if (to !== 'float8') return { type: to, out: v.out };
  const x = Number(v.out);
  // numeric's NaN and infinities become float8's; a finite numeric beyond float8's range does not.
  if (!Number.isFinite(x) && /^-?\d/.test(v.out)) throw new RowError('value out of range: overflow', 'execute');
  if (x === 0 && /[1-9]/.test(v.out)) throw new RowError('value out of range: underflow', 'execute');
  return { type: 'float8', out: float8Out(x) };
}

// ---------------------------------------------------------------- input functions

/** PostgreSQL's scanner_isspace / array_isspace. */
const PG_SPACE = '[ \\t\\n\\r\\x0b\\f]';
const TRIM = new RegExp(`^${PG_SPACE}+|${PG_SPACE}+$`, 'g');

function invalid(type: Scalar, text: string): RowError {
  return new RowError(`invalid input syntax for type ${TYPE_NAMES[type]}: "${text}"`);
}

/** The type's input function applied to a quoted literal. */
function scalarInput(text: string, type: Scalar): ScalarValue {
  const t = text.replace(TRIM, '');
  switch (type) {
    case 'text':
      return { type, out: text };
    case 'bool': {
      const b = boolInput(t);
      if (b === undefined) throw invalid(type, text);
      return { type, out: b ? 't' : 'f' };
    }
    case 'int4':
    case 'int8': {
      if (!/^[+-]?\d+$/.test(t)) throw invalid(type, text);
      const n = BigInt(t);
      const bits = type === 'int4' ? 31n : 63n;
      if (n < -(1n << bits) || n >= 1n << bits) throw new RowError(`value "${text}" is out of range for type ${TYPE_NAMES[type]}`);
      return { type, out: String(n) };
    }
    case 'numeric': {
      const special = /^([+-]?)(nan|inf|infinity)$/i.exec(t);
      if (special) {
        if (special[2].toLowerCase() === 'nan') {
          if (special[1]) throw invalid(type, text);
          return { type, out: 'NaN' };
        }
        return { type, out: special[1] === '-' ? '-Infinity' : 'Infinity' };
      }
      const out = numericText(t);
      if (out === undefined) throw invalid(type, text);
      return { type, out };
    }
    case 'float8': {
      const x = float8Input(t);
      if (x === 'invalid') throw invalid(type, text);
      if (x === 'range') throw new RowError(`"${text}" is out of range for type double precision`);
      return { type, out: float8Out(x) };
    }
  }
}

/** PostgreSQL's boolin: any prefix of true/false/yes/no, on/off (two letters at least), 1/0. */
function boolInput(t: string): boolean | undefined {
  const s = t.toLowerCase();
  if (!s) return undefined;
  if ('true'.startsWith(s) || 'yes'.startsWith(s) || s === '1') return true;
  if ('false'.startsWith(s) || 'no'.startsWith(s) || s === '0') return false;
  if (s.length >= 2 && 'on'.startsWith(s)) return true;
  if (s.length >= 2 && 'off'.startsWith(s)) return false;
  return undefined;
}

/** strtod as float8in uses it: decimal, hexadecimal, infinities and NaN; out of range where it over- or underflows. */
function float8Input(t: string): number | 'invalid' | 'range' {
  const special = /^([+-]?)(nan|inf|infinity)$/i.exec(t);
  if (special) return special[2].toLowerCase() === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity;
  let x: number;
  let mantissaDigits: string;
  const hex = /^([+-]?)0x([0-9a-f]*)(?:\.([0-9a-f]*))?(?:p([+-]?\d+))?$/i.exec(t);
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) {
    x = Number(t);
    mantissaDigits = t.split(/[eE]/)[0];
  } else if (hex && (hex[2] || hex[3])) {
    const frac = hex[3] ?? '';
    mantissaDigits = hex[2] + frac;
    x = Number.parseInt(mantissaDigits || '0', 16) * 2 ** (Number(hex[4] ?? 0) - 4 * frac.length);
    if (hex[1] === '-') x = -x;
  } else return 'invalid';
  if (!Number.isFinite(x) || (x === 0 && /[1-9a-f]/i.test(mantissaDigits.replace(/^[+-]/, '')))) return 'range';
  return x;
}

/**
 * numeric's output for a numeric literal (`1.50e1` is `15.0`, `-0.0` is
 * `0.0`): the digits, with as many after the point as the literal implies.
 * Undefined when the text is no numeric literal.
 */
function numericText(literal: string): string | undefined {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(literal);
  if (!m || !(m[2] || m[3])) return undefined;
  const [, sign, int, frac = '', exp = '0'] = m;
  const digits = int + frac;
  const scale = Math.max(0, frac.length - Number(exp));
  const shift = frac.length - Number(exp);
  let text: string;
  if (shift <= 0) text = (digits + '0'.repeat(-shift)).replace(/^0+(?=\d)/, '');
  else {
    const padded = digits.padStart(shift + 1, '0');
    const whole = padded.slice(0, padded.length - shift).replace(/^0+(?=\d)/, '');
    text = `${whole}.${padded.slice(padded.length - shift).padEnd(scale, '0')}`;
  }
  return /[1-9]/.test(text) && sign === '-' ? `-${text}` : text;
}

/** float8out (shortest round-trip digits): fixed notation for decimal exponents -4 to 14, else `1e+15`. */
function float8Out(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const sign = x < 0 ? '-' : '';
  const [mant, expPart] = Math.abs(x).toExponential().split('e');
  const digits = mant.replace('.', '');
  const e = Number(expPart);
  if (e < -4 || e >= 15) {
    return `${sign}${digits[0]}${digits.length > 1 ? `.${digits.slice(1)}` : ''}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  const point = e + 1;
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** array_in: a quoted literal read as an array of `elem`. */
function arrayInput(text: string, elem: Scalar): ArrayValue {
  const malformed = () => new RowError(`malformed array literal: "${text}"`);
  let i = 0;
  const skip = () => {
    while (i < text.length && /[ \t\n\r\x0b\f]/.test(text[i])) i++;
  };
  skip();
  if (text[i] === '[') throw new RowError(`not modelled by the harness: an array literal with explicit bounds ("${text}")`);
  if (text[i] !== '{') throw malformed();
  // Each level is a list of sub-levels or of elements (raw text, null for NULL).
  type Level = { subs: Level[] } | { elems: (string | null)[] };
  const level = (): Level => {
    i++; // '{'
    skip();
    if (text[i] === '}') {
      i++;
      return { elems: [] };
    }
    const subs: Level[] = [];
    const elems: (string | null)[] = [];
    for (;;) {
      skip();
      if (text[i] === '{') {
        if (elems.length) throw malformed();
        subs.push(level());
      } else {
        if (subs.length) throw malformed();
        elems.push(element());
      }
      skip();
      const c = text[i++];
      if (c === '}') break;
      if (c !== ',') throw malformed();
    }
    return subs.length ? { subs } : { elems };
  };
  const element = (): string | null => {
    let out = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw malformed();
        const c = text[i++];
        if (c === '"') return out;
        out += c === '\\' ? (text[i++] ?? '') : c;
      }
    }
    let escaped = false;
    let kept = 0; // length of `out` up to its last escaped or non-space character
    while (i < text.length && text[i] !== ',' && text[i] !== '}') {
      const c = text[i++];
      if (c === '{' || c === '"') throw malformed();
      if (c === '\\') {
        out += text[i++] ?? '';
        escaped = true;
        kept = out.length;
      } else {
        out += c;
        if (!/[ \t\n\r\x0b\f]/.test(c)) kept = out.length;
      }
    }
    out = out.slice(0, kept);
    if (!out && !escaped) throw malformed();
    return !escaped && out.toLowerCase() === 'null' ? null : out;
  };
  const top = level();
  skip();
  if (i < text.length) throw malformed();
  // Dimensions: the first path down gives them; every level must match (PostgreSQL: "matching dimensions").
  const dims: number[] = [];
  for (let l: Level = top; ; l = (l as { subs: Level[] }).subs[0]) {
    dims.push('subs' in l ? l.subs.length : l.elems.length);
    if (!('subs' in l)) break;
  }
  if (dims[0] === 0) return { dims: [], elems: [] };
  const flat: (string | null)[] = [];
  const check = (l: Level, depth: number) => {
    const leafLevel = depth === dims.length - 1;
    if (('subs' in l ? l.subs.length : l.elems.length) !== dims[depth] || dims[depth] === 0 || 'subs' in l === leafLevel) throw malformed();
    if ('subs' in l) for (const s of l.subs) check(s, depth + 1);
    else flat.push(...l.elems);
  };
  check(top, 0);
  if (dims.length > MAXDIM) throw new RowError(`number of array dimensions (${dims.length}) exceeds the maximum allowed (${MAXDIM})`);
  return { dims, elems: flat.map((e) => (e === null ? null : scalarInput(e, elem))) };
}

// ---------------------------------------------------------------- array_out

/** The array's text form, as PostgreSQL's array output writes it; an execution error fails the row. */
function arrayOut(a: { value: ArrayValue }): string {
  const { dims, elems, execError } = a.value;
  // PostgreSQL folds an ARRAY[...] of constants while planning: these errors come after every parse-time one.
  if (execError) throw new RowError(execError, 'execute');
  if (!dims.length) return '{}';
  let k = 0;
  const level = (d: number): string => {
    const parts: string[] = [];
    for (let j = 0; j < dims[d]; j++) parts.push(d === dims.length - 1 ? quoteElement(elems[k++]) : level(d + 1));
    return `{${parts.join(',')}}`;
  };
  return level(0);
}

function quoteElement(e: ScalarValue | null): string {
  if (e === null) return 'NULL';
  const s = e.out;
  if (s === '' || s.toLowerCase() === 'null' || /["\\{},\t\n\r\x0b\f ]/.test(s)) return `"${s.replace(/["\\]/g, '\\$&')}"`;
  return s;
}
