/**
 * The main thread's handle on one generator worker thread: a unit's COPY
 * bytes as an async iterable (pulling one batch ahead), then its manifest.
 */
import { Worker } from 'node:worker_threads';
import type { DatasetParams } from './chat-generator.ts';
import type { WorkerReply, WorkerRequest } from './unit-worker.ts';

type EndReply = Extract<WorkerReply, { type: 'end' }>;

export class ChatWorker {
  private readonly worker: Worker;
  private pending: ((r: WorkerReply) => void) | undefined;
  private failed: Error | undefined;

  constructor() {
    // The worker is TypeScript too: load it through the same loader as the CLI and the tests.
    this.worker = new Worker(new URL('./unit-worker-entry.mjs', import.meta.url));
    this.worker.on('message', (r: WorkerReply) => {
      const p = this.pending;
      this.pending = undefined;
      p?.(r);
    });
    this.worker.on('error', (err) => {
      this.failed = err;
      const p = this.pending;
      this.pending = undefined;
      p?.({ type: 'error', message: err.message });
    });
  }

  private request(req: WorkerRequest): Promise<WorkerReply> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve) => {
      this.pending = resolve;
      this.worker.postMessage(req);
    });
  }

  /**
   * Stream the COPY lines of `indices`; `onBatch` sees each batch's document
   * bytes; the manifest of the unit is delivered to `onEnd`.
   */
  async *unit(spec: DatasetParams, indices: number[], onBatch: (docBytes: number) => void, onEnd: (end: EndReply) => void): AsyncGenerator<Uint8Array> {
    this.worker.postMessage({ type: 'start', spec, indices } satisfies WorkerRequest);
    let next = this.request({ type: 'next' });
    for (;;) {
      const reply = await next;
      if (reply.type === 'error') throw new Error(`chat generator worker failed: ${reply.message}`);
      if (reply.type === 'end') {
        onEnd(reply);
        return;
      }
      next = this.request({ type: 'next' });
      onBatch(reply.bytes);
      yield reply.data;
    }
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
