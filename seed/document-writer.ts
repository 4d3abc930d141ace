/**
 * `json.dumps(document)` written as bytes into a reused buffer, for the
 * seeder's hot path. Same text as `dumps()` of harness/openwebui/python-json
 * (the unit tests compare the two over every edge case), built from its
 * own pieces (`dumpString`, `floatRepr`), but without the string rope that
 * `dumps()` returns: a generated document is mostly hex message content,
 * which here is copied once into the buffer instead of being scanned for
 * escapes, concatenated, flattened and copied again. A message stored twice
 * (the `history.messages` tree and the `messages` list) is serialised once
 * and its bytes copied.
 */
import { dumpString, floatRepr, PyFloat, type PyDict, type PyValue } from '../harness/openwebui/python-json.ts';

/** Pieces shorter than this are gathered into a string first: one native write instead of many. */
const SMALL = 256;
const KEY_CACHE_LIMIT = 4096;

export class DocumentWriter {
  private buf = Buffer.allocUnsafe(1 << 20);
  private at = 0;
  private pending = '';
  private readonly keys = new Map<string, string>();
  private spans = new Map<PyDict, [number, number]>();
  private raw: WeakSet<PyDict> = new WeakSet();

  /**
   * The bytes of `json.dumps(doc)`. `rawContent` holds the message dicts
   * whose `content` string is known to need no escaping (generated hex).
   * The result is a view of a buffer reused by the next call.
   */
  write(doc: PyValue, rawContent: WeakSet<PyDict>): Buffer {
    this.at = 0;
    this.pending = '';
    this.spans = new Map();
    this.raw = rawContent;
    this.value(doc);
    this.flush();
    return this.buf.subarray(0, this.at);
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }

  private flush(): void {
    if (!this.pending) return;
    // Every piece is ASCII (dumpString escapes the rest), so Latin-1 is byte for byte.
    this.room(this.pending.length);
    this.at += this.buf.write(this.pending, this.at, 'latin1');
    this.pending = '';
  }

  private put(s: string): void {
    if (s.length < SMALL) {
      this.pending += s;
      return;
    }
    this.flush();
    this.room(s.length);
    this.at += this.buf.write(s, this.at, 'latin1');
  }

  private key(k: string): string {
    let d = this.keys.get(k);
    if (d === undefined) {
      d = dumpString(k);
      if (this.keys.size < KEY_CACHE_LIMIT) this.keys.set(k, d);
    }
    return d;
  }

  private value(v: PyValue | undefined): void {
    if (v === null || v === undefined) this.pending += 'null';
    else if (v === true) this.pending += 'true';
    else if (v === false) this.pending += 'false';
    else if (typeof v === 'string') this.put(dumpString(v));
    else if (typeof v === 'number' || typeof v === 'bigint') this.pending += String(v);
    else if (v instanceof PyFloat) {
      const x = v.value;
      this.pending += Number.isNaN(x) ? 'NaN' : x === Infinity ? 'Infinity' : x === -Infinity ? '-Infinity' : floatRepr(x);
    } else if (Array.isArray(v)) {
      if (v.length === 0) {
        this.pending += '[]';
        return;
      }
      this.pending += '[';
      for (let i = 0; i < v.length; i++) {
        if (i) this.pending += ', ';
        this.value(v[i]);
      }
      this.pending += ']';
    } else this.dict(v);
  }

  private dict(d: PyDict): void {
    if (d.size === 0) {
      this.pending += '{}';
      return;
    }
    const raw = this.raw.has(d);
    if (raw) {
      const span = this.spans.get(d);
      this.flush();
      if (span) {
        const [from, to] = span;
        this.room(to - from);
        this.buf.copy(this.buf, this.at, from, to);
        this.at += to - from;
        return;
      }
    }
    const start = this.at;
    let first = true;
    this.pending += '{';
    for (const [k, val] of d) {
      this.pending += first ? this.key(k) : ', ' + this.key(k);
      this.pending += ': ';
      first = false;
      if (raw && k === 'content' && typeof val === 'string') {
        this.pending += '"';
        this.flush();
        this.room(val.length);
        this.at += this.buf.write(val, this.at, 'latin1');
        this.pending += '"';
      } else this.value(val);
    }
    this.pending += '}';
    if (raw) {
      this.flush();
      this.spans.set(d, [start, this.at]);
    }
  }
}
