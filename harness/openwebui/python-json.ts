/**
 * Python's `json` module, as the upstream migration experiences it.
 *
 * Upstream reads `chat.chat` through `json.loads` and writes every JSON column
 * through `json.dumps` with default arguments. A port that used `JSON.parse` /
 * `JSON.stringify` would write different bytes: JavaScript reorders
 * integer-like keys, forgets whether a number was `1` or `1.0`, loses integers
 * above 2^53 and never escapes non-ASCII. This module keeps exactly the
 * distinctions Python keeps.
 */

/** A Python `float` (a JSON number written with a fraction or an exponent). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** A Python `dict` from `json.loads`: insertion-ordered, last duplicate wins in first position. */
export type PyDict = Map<string, PyValue>;

/**
 * A value as `json.loads` returns it. Python `int` is a `number` when it is a
 * safe integer and a `bigint` otherwise; Python `float` is a {@link PyFloat}.
 */
export type PyValue = null | boolean | number | bigint | PyFloat | string | PyValue[] | PyDict;

/** Raised where Python raises `json.JSONDecodeError`. */
export class PyJsonDecodeError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} (char ${position})`);
    this.name = 'PyJsonDecodeError';
  }
}

export function isDict(v: PyValue | undefined): v is PyDict {
  return v instanceof Map;
}

/** Python truthiness. */
export function truthy(v: PyValue | undefined): boolean {
  if (v === null || v === undefined || v === false) return false;
  if (v === true) return true;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'bigint') return v !== 0n;
  if (v instanceof PyFloat) return v.value !== 0; // NaN is truthy in Python too
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  return v.size > 0;
}

/** Python's `type(v).__name__`, for error messages that match upstream's. */
export function pyTypeName(v: PyValue | undefined): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number' || typeof v === 'bigint') return 'int';
  if (v instanceof PyFloat) return 'float';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return 'list';
  return 'dict';
}

// ---------------------------------------------------------------- loads

const WS = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const CONTROL = /[\x00-\x1f]/;

/** `json.loads(text)` with Python's defaults (strict strings, NaN/Infinity accepted). */
export function loads(text: string): PyValue {
  if (text.charCodeAt(0) === 0xfeff) throw new PyJsonDecodeError('Unexpected UTF-8 BOM (decode using utf-8-sig)', 0);
  const p = new Parser(text);
  p.skipWs();
  const v = p.value();
  p.skipWs();
  if (p.i !== text.length) throw new PyJsonDecodeError('Extra data', p.i);
  return v;
}

class Parser {
  i = 0;
  constructor(readonly s: string) {}

  skipWs(): void {
    const s = this.s;
    while (this.i < s.length && WS(s.charCodeAt(this.i))) this.i++;
  }

  fail(msg: string): never {
    throw new PyJsonDecodeError(msg, this.i);
  }

  value(): PyValue {
    const s = this.s;
    const c = s.charCodeAt(this.i);
    switch (c) {
      case 0x22: // "
        return this.string();
      case 0x7b: // {
        return this.object();
      case 0x5b: // [
        return this.array();
      case 0x6e: // n
        if (s.startsWith('null', this.i)) {
          this.i += 4;
          return null;
        }
        break;
      case 0x74: // t
        if (s.startsWith('true', this.i)) {
          this.i += 4;
          return true;
        }
        break;
      case 0x66: // f
        if (s.startsWith('false', this.i)) {
          this.i += 5;
          return false;
        }
        break;
      case 0x4e: // N
        if (s.startsWith('NaN', this.i)) {
          this.i += 3;
          return new PyFloat(NaN);
        }
        break;
      case 0x49: // I
        if (s.startsWith('Infinity', this.i)) {
          this.i += 8;
          return new PyFloat(Infinity);
        }
        break;
      case 0x2d: // -
        if (s.startsWith('-Infinity', this.i)) {
          this.i += 9;
          return new PyFloat(-Infinity);
        }
        return this.number();
      default:
        if (c >= 0x30 && c <= 0x39) return this.number();
    }
    this.fail('Expecting value');
  }

  number(): PyValue {
    const s = this.s;
    const start = this.i;
    let i = this.i;
    if (s.charCodeAt(i) === 0x2d) i++;
    const intStart = i;
    if (s.charCodeAt(i) === 0x30) i++;
    else {
      if (!isDigit(s.charCodeAt(i))) this.fail('Expecting value');
      while (isDigit(s.charCodeAt(i))) i++;
    }
    if (i === intStart) this.fail('Expecting value');
    let isFloat = false;
    if (s.charCodeAt(i) === 0x2e && isDigit(s.charCodeAt(i + 1))) {
      isFloat = true;
      i += 2;
      while (isDigit(s.charCodeAt(i))) i++;
    }
    const e = s.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      let j = i + 1;
      const sign = s.charCodeAt(j);
      if (sign === 0x2b || sign === 0x2d) j++;
      if (isDigit(s.charCodeAt(j))) {
        while (isDigit(s.charCodeAt(j))) j++;
        isFloat = true;
        i = j;
      }
    }
    this.i = i;
    const lexeme = s.slice(start, i);
    if (isFloat) return new PyFloat(Number(lexeme));
    const n = Number(lexeme);
    if (Number.isSafeInteger(n)) return n === 0 ? 0 : n;
    return BigInt(lexeme);
  }

  string(): string {
    const s = this.s;
    const begin = this.i + 1;
    const close = s.indexOf('"', begin);
    if (close < 0) this.fail('Unterminated string starting at');
    const raw = s.slice(begin, close);
    if (raw.indexOf('\\') < 0) {
      // Fast path: no escapes. Content strings dominate the bytes.
      if (CONTROL.test(raw)) {
        this.i = begin + raw.search(CONTROL);
        this.fail('Invalid control character at');
      }
      this.i = close + 1;
      return raw;
    }
    return this.escapedString(begin);
  }

  escapedString(begin: number): string {
    const s = this.s;
    const parts: string[] = [];
    let i = begin;
    let chunkStart = i;
    for (;;) {
      if (i >= s.length) {
        this.i = begin - 1;
        this.fail('Unterminated string starting at');
      }
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        parts.push(s.slice(chunkStart, i));
        this.i = i + 1;
        return parts.join('');
      }
      if (c < 0x20) {
        this.i = i;
        this.fail('Invalid control character at');
      }
      if (c !== 0x5c) {
        i++;
        continue;
      }
      parts.push(s.slice(chunkStart, i));
      const esc = s[i + 1];
      switch (esc) {
        case '"':
          parts.push('"');
          break;
        case '\\':
          parts.push('\\');
          break;
        case '/':
          parts.push('/');
          break;
        case 'b':
          parts.push('\b');
          break;
        case 'f':
          parts.push('\f');
          break;
        case 'n':
          parts.push('\n');
          break;
        case 'r':
          parts.push('\r');
          break;
        case 't':
          parts.push('\t');
          break;
        case 'u': {
          const hex = s.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
            this.i = i + 1;
            this.fail('Invalid \\uXXXX escape');
          }
          parts.push(String.fromCharCode(parseInt(hex, 16)));
          i += 6;
          chunkStart = i;
          continue;
        }
        default:
          this.i = i;
          this.fail('Invalid \\escape');
      }
      i += 2;
      chunkStart = i;
    }
  }

  object(): PyDict {
    const s = this.s;
    const d: PyDict = new Map();
    this.i++;
    this.skipWs();
    if (s.charCodeAt(this.i) === 0x7d) {
      this.i++;
      return d;
    }
    for (;;) {
      if (s.charCodeAt(this.i) !== 0x22) this.fail('Expecting property name enclosed in double quotes');
      const key = this.string();
      this.skipWs();
      if (s.charCodeAt(this.i) !== 0x3a) this.fail("Expecting ':' delimiter");
      this.i++;
      this.skipWs();
      d.set(key, this.value());
      this.skipWs();
      const c = s.charCodeAt(this.i);
      if (c === 0x7d) {
        this.i++;
        return d;
      }
      if (c !== 0x2c) this.fail("Expecting ',' delimiter");
      this.i++;
      this.skipWs();
    }
  }

  array(): PyValue[] {
    const s = this.s;
    const a: PyValue[] = [];
    this.i++;
    this.skipWs();
    if (s.charCodeAt(this.i) === 0x5d) {
      this.i++;
      return a;
    }
    for (;;) {
      a.push(this.value());
      this.skipWs();
      const c = s.charCodeAt(this.i);
      if (c === 0x5d) {
        this.i++;
        return a;
      }
      if (c !== 0x2c) this.fail("Expecting ',' delimiter");
      this.i++;
      this.skipWs();
    }
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

// ---------------------------------------------------------------- dumps

const NEEDS_ESCAPE = /[^\x20\x21\x23-\x5b\x5d-\x7e]/;
const SHORT_ESCAPES: Record<number, string> = {
  0x22: '\\"',
  0x5c: '\\\\',
  0x08: '\\b',
  0x0c: '\\f',
  0x0a: '\\n',
  0x0d: '\\r',
  0x09: '\\t',
};

// Long strings already found to need no escaping. V8 hashes strings this long
// by their length, so a lookup of the same string is O(1); the seeder dumps
// each message's content three times (two copies in the document, one for
// the manifest) and scanning it once is enough.
const LONG = 16_384;
const verbatim = new Set<string>();
let verbatimChars = 0;

/** A JSON string literal as `json.dumps` writes it (ensure_ascii=True). */
export function dumpString(s: string): string {
  if (s.length >= LONG) {
    if (verbatim.has(s)) return `"${s}"`;
    if (!NEEDS_ESCAPE.test(s)) {
      if (verbatimChars > 64 * 1024 * 1024) {
        verbatim.clear();
        verbatimChars = 0;
      }
      verbatim.add(s);
      verbatimChars += s.length;
      return `"${s}"`;
    }
  } else if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  let out = '"';
  let chunkStart = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c) continue;
    out += s.slice(chunkStart, i);
    out += SHORT_ESCAPES[c] ?? `\\u${c.toString(16).padStart(4, '0')}`;
    chunkStart = i + 1;
  }
  return out + s.slice(chunkStart) + '"';
}

/** Python's `repr(float)`: shortest round-trip digits, exponent when the point is outside [-4, 16). */
export function floatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mant, expPart] = Math.abs(x).toExponential().split('e');
  const digits = mant.replace('.', '');
  const decpt = Number(expPart) + 1;
  if (decpt > 16 || decpt < -3) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = decpt - 1;
    return `${sign}${m}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  if (decpt <= 0) return `${sign}0.${'0'.repeat(-decpt)}${digits}`;
  if (decpt >= digits.length) return `${sign}${digits}${'0'.repeat(decpt - digits.length)}.0`;
  return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
}

/** `json.dumps(v)` with Python's defaults: `", "` and `": "` separators, ASCII only, NaN allowed. */
export function dumps(v: PyValue | undefined): string {
  return dumpValue(v, new WeakMap());
}

// A dict that appears twice in one value (Open WebUI documents hold every
// message of the current branch twice) is serialised once and reused; the
// output is the same text Python writes for both occurrences.
function dumpValue(v: PyValue | undefined, seen: WeakMap<PyDict, string>): string {
  if (v === null || v === undefined) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (typeof v === 'string') return dumpString(v);
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (v instanceof PyFloat) {
    const x = v.value;
    if (Number.isNaN(x)) return 'NaN';
    if (x === Infinity) return 'Infinity';
    if (x === -Infinity) return '-Infinity';
    return floatRepr(x);
  }
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    let out = '[';
    for (let i = 0; i < v.length; i++) out += (i ? ', ' : '') + dumpValue(v[i], seen);
    return out + ']';
  }
  if (v.size === 0) return '{}';
  const cached = seen.get(v);
  if (cached !== undefined) return cached;
  let out = '{';
  let first = true;
  for (const [k, val] of v) {
    out += (first ? '' : ', ') + dumpString(k) + ': ' + dumpValue(val, seen);
    first = false;
  }
  out += '}';
  seen.set(v, out);
  return out;
}

/**
 * Build a {@link PyDict}. Pass an array of pairs when a key looks like an
 * integer: a JavaScript object literal would move such keys to the front.
 */
export function dict(entries: Record<string, PyValue> | [string, PyValue][]): PyDict {
  return new Map(Array.isArray(entries) ? entries : Object.entries(entries));
}
