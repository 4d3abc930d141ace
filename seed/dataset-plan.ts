/**
 * Which chats a dataset holds, decided before any is generated: the chat
 * count for a target on-disk size comes from the deterministic size draws,
 * never from measuring a load, so a size and a seed name the same bytes on
 * every machine.
 */
import { createHash } from 'node:crypto';
import { chatPlan, GENERATOR_VERSION, type DatasetParams } from './chat-generator.ts';

export interface DatasetSpec extends DatasetParams {
  /** Target `pg_total_relation_size('chat')` in bytes. */
  targetBytes?: number;
  /** Or an exact number of chats (each may add a shared snapshot row). */
  chats?: number;
}

/** Chats per load unit: the unit of parallelism and of resumption. */
export const CHATS_PER_UNIT = 16;

/**
 * Documents larger than this are loaded with the column's TOAST compression
 * off: pglz cannot shrink them by the 25% it requires (their two copies of
 * each message are further apart than its 4 kB window, and hex has no other
 * redundancy it can use) but spends most of the load's CPU trying. Smaller
 * documents are loaded with compression on, as the application would.
 * Measured: see README ("How the seeder stays fast").
 */
export const INCOMPRESSIBLE_ABOVE = 32 * 1024;

/** Estimated on-disk bytes (heap, TOAST, indexes) of a chat document of `bytes`. */
export function onDiskEstimate(bytes: number): number {
  return Math.round(bytes * 1.03 + 700);
}

export interface DatasetPlan {
  chats: number;
  /** Planned document bytes per chat (including a shared snapshot). */
  bytes: Float64Array;
  estimatedBytes: number;
}

export function planDataset(spec: DatasetSpec): DatasetPlan {
  if (spec.chats !== undefined) {
    const bytes = new Float64Array(spec.chats);
    let est = 0;
    for (let i = 0; i < spec.chats; i++) {
      bytes[i] = chatPlan(spec, i).bytes;
      est += onDiskEstimate(bytes[i]);
    }
    return { chats: spec.chats, bytes, estimatedBytes: est };
  }
  const target = spec.targetBytes ?? 0;
  const sizes: number[] = [];
  let est = 0;
  while (est < target) {
    const b = chatPlan(spec, sizes.length).bytes;
    sizes.push(b);
    est += onDiskEstimate(b);
  }
  return { chats: sizes.length, bytes: Float64Array.from(sizes), estimatedBytes: est };
}

/** A short stable name for a dataset: generator version, seed and shape. */
export function datasetKey(spec: DatasetSpec): string {
  const shape = spec.chats !== undefined ? `c${spec.chats}` : `b${spec.targetBytes}`;
  const h = createHash('sha256')
    .update(JSON.stringify({ v: GENERATOR_VERSION, seed: spec.seed, shape, e: spec.edgeCaseRate, s: spec.sharedRate, ...(spec.sizeScale !== undefined && spec.sizeScale !== 1 ? { k: spec.sizeScale } : {}) }))
    .digest('hex')
    .slice(0, 10);
  return `g${GENERATOR_VERSION}_s${spec.seed}_${shape}_${h}`;
}
