/** The last {@link TAIL_BYTES} of a stream's output: what a report can hold, and what explains a failure. */

/** Bytes of stdout and of stderr kept. Default for {@link TailBuffer}. */
const TAIL_BYTES = 64 * 1024;

export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  /** Bytes dropped from the front. */
  dropped = 0;

  constructor(private readonly limit = TAIL_BYTES) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - this.chunks[0].length >= this.limit) {
      const first = this.chunks.shift()!;
      this.size -= first.length;
      this.dropped += first.length;
    }
  }

  text(): string {
    const all = Buffer.concat(this.chunks);
    const cut = Math.max(0, all.length - this.limit);
    this.dropped += cut;
    this.chunks = [all.subarray(cut)];
    this.size = this.chunks[0].length;
    return (this.dropped ? `[... ${this.dropped} earlier bytes dropped]\n` : '') + this.chunks[0].toString('utf8');
  }
}
