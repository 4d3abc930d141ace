/**
 * Deterministic randomness that is the same on every machine: a small
 * counter-based PRNG (sfc32) for decisions, and an AES-128-CTR keystream for
 * bulk bytes (hardware-accelerated, so hex content costs almost nothing).
 */
import { createCipheriv, createHash } from 'node:crypto';

/** 32 bytes derived from any number of labelled parts. */
export function derive(...parts: (string | number)[]): Buffer {
  return createHash('sha256').update(parts.join('\u0000')).digest();
}

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: Buffer) {
    this.a = seed.readUInt32LE(0);
    this.b = seed.readUInt32LE(4);
    this.c = seed.readUInt32LE(8);
    this.d = seed.readUInt32LE(12) | 1;
    for (let i = 0; i < 12; i++) this.u32();
  }

  static of(...parts: (string | number)[]): Prng {
    return new Prng(derive(...parts));
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** A version-4 UUID string. */
  uuid(): string {
    const h = [this.u32(), this.u32(), this.u32(), this.u32()].map((x) => x.toString(16).padStart(8, '0')).join('');
    const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}

const ZEROES = Buffer.alloc(1 << 20);

/** Incompressible hex text from an AES-128-CTR keystream. */
export class HexStream {
  private readonly cipher;

  constructor(key: Buffer) {
    this.cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  }

  /** `chars` hex characters (rounded down to even). */
  hex(chars: number): string {
    const bytes = Math.floor(chars / 2);
    if (bytes <= ZEROES.length) return this.cipher.update(ZEROES.subarray(0, bytes)).toString('hex');
    const parts: string[] = [];
    for (let left = bytes; left > 0; left -= ZEROES.length) parts.push(this.cipher.update(ZEROES.subarray(0, Math.min(left, ZEROES.length))).toString('hex'));
    return parts.join('');
  }
}
