/**
 * The main thread's handle on one generator worker thread: one unit at a
 * time, as a promise. Chunks arrive as Uint8Arrays over the transferred
 * memory and are turned back into Buffers.
 */
import { Worker } from 'node:worker_threads';
import type { DatasetParams } from './chat-generator.ts';
import type { GeneratedUnit, UnitPoison } from './unit-generator.ts';
import type { WorkerReply, WorkerRequest } from './unit-worker.ts';

export class ChatWorker {
  private readonly worker: Worker;
  private pending: { id: number; resolve: (u: GeneratedUnit) => void; reject: (e: Error) => void } | undefined;
  private failed: Error | undefined;
  private seq = 0;

  constructor() {
    // The worker is TypeScript too: load it through the same loader as the CLI and the tests.
    this.worker = new Worker(new URL('./unit-worker-entry.mjs', import.meta.url));
    this.worker.on('message', (r: WorkerReply) => {
      const p = this.pending;
      if (!p || p.id !== r.id) return;
      this.pending = undefined;
      if (r.type === 'error') p.reject(new Error(`chat generator worker failed: ${r.message}`));
      else p.resolve({ ...r.unit, chunks: r.unit.chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)) });
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`chat generator worker exited (code ${code})`)));
  }

  private fail(err: Error): void {
    this.failed ??= err;
    const p = this.pending;
    this.pending = undefined;
    p?.reject(err);
  }

  /** Generate one unit; one at a time per worker. */
  generate(spec: DatasetParams, indices: number[], poison: UnitPoison): Promise<GeneratedUnit> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.pending) return Promise.reject(new Error('ChatWorker.generate: a unit is already in progress'));
    const id = this.seq++;
    return new Promise((resolve, reject) => {
      this.pending = { id, resolve, reject };
      this.worker.postMessage({ type: 'unit', id, spec, indices, poison } satisfies WorkerRequest);
    });
  }

  async close(): Promise<void> {
    this.failed ??= new Error('chat generator worker closed');
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}
