/**
 * Which chats a dataset holds, and in which load units, decided before any
 * is generated: the chats for a target on-disk size come from the
 * deterministic size draws, never from measuring a load, so a size and a
 * seed name the same bytes on every machine.
 */
import { createHash } from 'node:crypto';
import { chatPlan, GENERATOR_VERSION, type DatasetParams, type PoisonKind } from './chat-generator.ts';
import { DEFAULT_POISON_AT, planPoison } from './poison-plan.ts';

export interface DatasetSpec extends DatasetParams {
  /** Target `pg_total_relation_size('chat')` in bytes. */
  targetBytes?: number;
  /** Or an exact number of chats (each may add a shared snapshot row): chats 0 to n-1. */
  chats?: number;
  /**
   * Poison chats to plant: documents at which upstream raises, so every
   * faithful migration fails there (see poison-plan.ts). Default is 0.
   */
  poisonChats?: number;
  /** Where the first poison chat sits, as a fraction (0 to 1) of the migrated chats in id order. Default is 0.6. */
  poisonAt?: number;
}

/** Chats per load unit: the unit of parallelism and of resumption. */
export const CHATS_PER_UNIT = 16;

/**
 * Documents larger than this are loaded with the column's TOAST compression
 * off: pglz cannot shrink them by the 25% it requires (their two copies of
 * each message are further apart than its 4 kB window, and hex has no other
 * redundancy it can use) but spends most of the load's CPU trying. Smaller
 * documents are loaded with compression on, as the application would.
 */
export const INCOMPRESSIBLE_ABOVE = 32 * 1024;

/**
 * Bytes `pg_total_relation_size('chat')` holds whatever the rows: the first
 * pages of seven btree indexes, of TOAST's index, and the free-space and
 * visibility maps. Measured on seeded tables (PostgreSQL 15, 8 kB pages).
 */
const TABLE_OVERHEAD_BYTES = 200 * 1024;

/**
 * Estimated on-disk bytes (heap, TOAST, indexes) of one `chat` row holding a
 * document of `docBytes`. Fitted to seeded tables of this generator
 * (`npx tsx test/bench/run-benchmarks.ts --only accuracy` shows the fit): a
 * large document is stored out of line uncompressed, in 1996-byte TOAST
 * chunks four to a page plus TOAST index entries; a small one is compressed
 * (each message is stored twice close together) and, once compressed, often
 * fits in the heap page; every row adds its heap tuple and seven index entries.
 */
function onDiskEstimate(docBytes: number): number {
  if (docBytes > INCOMPRESSIBLE_ABOVE) return Math.round(docBytes * 1.0365 + 900);
  return Math.round(docBytes * 0.75 + 700);
}

interface DatasetPlan {
  /** Chats in the dataset. */
  chats: number;
  /** Their chat indices, ascending (a size-targeted dataset leaves some out). */
  indices: Uint32Array;
  /** Planned document bytes of each (a shared chat counts its snapshot too), parallel to `indices`. */
  bytes: Float64Array;
  /** Whether each is loaded with compression off (see {@link INCOMPRESSIBLE_ABOVE}), parallel to `indices`. */
  large: Uint8Array;
  estimatedBytes: number;
  /** The poison chats, by chat index. */
  poison: Map<number, PoisonKind>;
}

/** On-disk estimate of chat `index` and what the plan records of it. */
function planned(spec: DatasetParams, index: number): { bytes: number; large: boolean; estimate: number } {
  const p = chatPlan(spec, index);
  const rows = p.shared ? 2 : 1;
  return { bytes: p.bytes, large: p.docBytes > INCOMPRESSIBLE_ABOVE, estimate: rows * onDiskEstimate(p.docBytes) };
}

/** Indices looked at before a target smaller than any chat settles for the smallest one seen. */
const TINY_SCAN = 1000;

/**
 * The chats of a dataset. With `chats`, chats 0 to n-1. With `targetBytes`,
 * chats in index order, leaving out any that would take the estimate past
 * the target, until the estimate is within a few kB of it: the heavy tail
 * (one chat can be 64 MB) would otherwise overshoot a small target by a
 * whole chat. At least one chat, however small the target.
 */
export function planDataset(spec: DatasetSpec): DatasetPlan {
  const indices: number[] = [];
  const bytes: number[] = [];
  const large: number[] = [];
  let est = TABLE_OVERHEAD_BYTES;
  const take = (i: number, c: { bytes: number; large: boolean; estimate: number }) => {
    indices.push(i);
    bytes.push(c.bytes);
    large.push(c.large ? 1 : 0);
    est += c.estimate;
  };
  if (spec.chats !== undefined) {
    for (let i = 0; i < spec.chats; i++) take(i, planned(spec, i));
  } else {
    const target = spec.targetBytes ?? 0;
    // Close enough: a fraction of a percent, or a few small chats for a tiny target.
    const slack = Math.max(target * 0.002, 8 * 1024);
    let smallest: { i: number; c: ReturnType<typeof planned> } | undefined;
    // Termination: most chats are a few kB, so one fits any gap wider than the slack.
    for (let i = 0; ; i++) {
      if (indices.length && est >= target - slack) break;
      if (!indices.length && i >= TINY_SCAN) {
        take(smallest!.i, smallest!.c);
        break;
      }
      const c = planned(spec, i);
      if (est + c.estimate <= target) take(i, c);
      else if (!indices.length && (!smallest || c.estimate < smallest.c.estimate)) smallest = { i, c };
    }
  }
  return {
    chats: indices.length,
    indices: Uint32Array.from(indices),
    bytes: Float64Array.from(bytes),
    large: Uint8Array.from(large),
    estimatedBytes: est,
    poison: planPoison(spec, indices),
  };
}

/**
 * Bytes the dataset will take, without planning it when a target is given:
 * planning 100 TB would take hours, refusing it must not.
 */
export function estimatedDatasetBytes(spec: DatasetSpec): number {
  if (spec.chats === undefined) return spec.targetBytes ?? 0;
  if (spec.chats <= ESTIMATE_SAMPLE_CHATS) return planDataset(spec).estimatedBytes;
  // Many chats: the first ones, scaled (chat sizes are drawn independently).
  const sample = planDataset({ ...spec, chats: ESTIMATE_SAMPLE_CHATS });
  return TABLE_OVERHEAD_BYTES + ((sample.estimatedBytes - TABLE_OVERHEAD_BYTES) * spec.chats) / ESTIMATE_SAMPLE_CHATS;
}

/** Chats planned to estimate a larger `--chats` dataset. */
const ESTIMATE_SAMPLE_CHATS = 100_000;

/** Whether a unit holds large documents (compression off) or small ones (compression on). */
export type UnitPhase = 'x' | 'c';

export interface LoadUnit {
  /** Stable name, recorded in `harness.load_units` when the unit commits. */
  name: string;
  phase: UnitPhase;
  /** Chat indices. */
  indices: number[];
  plannedBytes: number;
  /** Poison chats among them, by chat index. */
  poison: Record<number, PoisonKind>;
}

/**
 * Blocks of {@link CHATS_PER_UNIT} chats whose units load together: the
 * large documents of these blocks, then their small ones. Storage is a
 * column attribute, so the streams switch it between groups, not between
 * chats; a group this small keeps large and small chats mixed in the
 * table's physical order, as in a table the application filled over time.
 */
export const BLOCKS_PER_GROUP = 4;

/**
 * The load units of a plan, in load order: each run of {@link CHATS_PER_UNIT}
 * planned chats gives at most two units, its large documents (phase `x`,
 * compression off) and its small ones (phase `c`); every
 * {@link BLOCKS_PER_GROUP} blocks load their `x` units, then their `c`
 * units. Same plan, same units, same order: a resumed seed skips those
 * already recorded.
 */
export function planUnits(plan: DatasetPlan): LoadUnit[] {
  const units: LoadUnit[] = [];
  const group = CHATS_PER_UNIT * BLOCKS_PER_GROUP;
  for (let first = 0; first < plan.chats; first += group) {
    for (const phase of ['x', 'c'] as UnitPhase[]) {
      for (let start = first; start < Math.min(plan.chats, first + group); start += CHATS_PER_UNIT) {
        const indices: number[] = [];
        const poison: Record<number, PoisonKind> = {};
        let planned = 0;
        for (let k = start; k < Math.min(plan.chats, start + CHATS_PER_UNIT); k++) {
          if ((plan.large[k] === 1) === (phase === 'x')) {
            const index = plan.indices[k];
            indices.push(index);
            planned += plan.bytes[k];
            const kind = plan.poison.get(index);
            if (kind) poison[index] = kind;
          }
        }
        if (indices.length) units.push({ name: `${phase}${start / CHATS_PER_UNIT}`, phase, indices, plannedBytes: planned, poison });
      }
    }
  }
  return units;
}

/** A short stable name for a dataset: generator version, seed and shape. */
export function datasetKey(spec: DatasetSpec): string {
  const shape = spec.chats !== undefined ? `c${spec.chats}` : `b${spec.targetBytes}`;
  const h = createHash('sha256')
    .update(
      JSON.stringify({
        v: GENERATOR_VERSION,
        seed: spec.seed,
        shape,
        e: spec.edgeCaseRate,
        s: spec.sharedRate,
        ...(spec.sizeScale !== undefined && spec.sizeScale !== 1 ? { k: spec.sizeScale } : {}),
        ...(spec.poisonChats ? { p: spec.poisonChats, pa: spec.poisonAt ?? DEFAULT_POISON_AT } : {}),
      }),
    )
    .digest('hex')
    .slice(0, 10);
  return `g${GENERATOR_VERSION}_s${spec.seed}_${shape}_${h}`;
}
