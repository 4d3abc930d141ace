/**
 * Worker thread body: generates whole load units on request, so generation
 * runs on its own core while the main thread only moves bytes into COPY
 * streams. The COPY chunks are transferred, not copied.
 */
import { parentPort } from 'node:worker_threads';
import type { DatasetParams } from './chat-generator.ts';
import { generateUnit, type GeneratedUnit, type UnitPoison } from './unit-generator.ts';

export type WorkerRequest = { type: 'unit'; id: number; spec: DatasetParams; indices: number[]; poison: UnitPoison };

export type WorkerReply = { type: 'unit'; id: number; unit: GeneratedUnit } | { type: 'error'; id: number; message: string };

parentPort?.on('message', (req: WorkerRequest) => {
  try {
    const unit = generateUnit(req.spec, req.indices, req.poison);
    parentPort!.postMessage({ type: 'unit', id: req.id, unit } satisfies WorkerReply, unit.chunks.map((c) => c.buffer as ArrayBuffer));
  } catch (err) {
    parentPort!.postMessage({ type: 'error', id: req.id, message: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies WorkerReply);
  }
});
