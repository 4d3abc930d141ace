/**
 * Full-page images and WAL at a larger size, from the gaps between changes
 * to the same page in a small run's WAL (harness/measure/page-trace.ts).
 *
 * A change writes an image when a checkpoint fell since the page's previous
 * change. With checkpoints every L bytes of WAL, at whatever phase, a change
 * after a gap g does so with probability min(1, g / L); summed over a run's
 * changes this gives its images at any spacing. Read back at 128 MB-4 GB
 * (README, Regimes), the sum at a run's own spacing came within a few
 * percent of the images it wrote.
 *
 * At a size f times larger, there are f times as many changes; the gaps
 * of an index's pages grow f-fold (a B-tree places entries by key, so a page
 * is changed again once the inserts have come round to its keys, and there
 * are f times as many pages to come round to), except the short gaps of one
 * burst of inserts (one chat's messages, written one after another), which
 * stay as they are; a table's gaps stay as they are (its inserts go where
 * there is room, near its end). The burst is the WAL of one chat.
 * Pure functions: the sweep feeds them traces.
 */
import type { PageTrace } from '../measure/page-trace.ts';

/** What images at a spacing need of a trace (a PageTrace, or a hand-made one in tests). */
export type GapTrace = Pick<PageTrace, 'gaps' | 'index' | 'oldFirstChanges' | 'newPageImages'>;

export interface Scaling {
  /** Target size / the run's size (1: the run itself). */
  factor: number;
  /** WAL body bytes between two checkpoints. */
  cycleBodyBytes: number;
  /** An index's gaps shorter than this are one burst's and do not grow (the WAL body of one chat). */
  burstBytes: number;
}

/** Expected images over the run scaled by `factor`, with a checkpoint every `cycleBodyBytes` of WAL body. */
export function expectedImages(t: GapTrace, s: Scaling): number {
  if (!(s.cycleBodyBytes > 0)) return s.factor * (t.oldFirstChanges + t.newPageImages);
  let sum = 0;
  const { gaps, index } = t;
  for (let i = 0; i < gaps.length; i++) {
    const g = index[i] && gaps[i] >= s.burstBytes ? gaps[i] * s.factor : gaps[i];
    sum += g >= s.cycleBodyBytes ? 1 : g / s.cycleBodyBytes;
  }
  // A page that existed before the run: its first change follows the checkpoint that began it.
  return s.factor * (sum + t.oldFirstChanges + t.newPageImages);
}

/** A trace with the figures the projection needs besides its gaps. */
export interface SizedTrace extends GapTrace {
  bodyBytes: number;
  imageBytes: number;
  images: number;
  /** The run's WAL (LSN span): body and images plus page headers and padding. */
  walBytes: number;
  sizeBytes: number;
  chats: number;
}

export interface CycleEstimate {
  /** WAL and images expected at the target size. */
  walBytes: number;
  fpi: number;
  /** Checkpoints expected there, and the WAL body between two of them. */
  checkpoints: number;
  cycleBodyBytes: number;
}

/** The WAL body of one chat: an index's gaps shorter than it are one chat's burst of inserts. */
function burstOf(t: SizedTrace): number {
  return t.chats > 0 ? t.bodyBytes / t.chats : 0;
}

/** Bytes of one image when a trace holds none (a page, less nothing). */
const PAGE_BYTES = 8192;

/**
 * WAL and images at `sizeBytes` with a checkpoint every `walPerCheckpointBytes`
 * of WAL. Images make WAL, and more WAL between the same checkpoints means
 * less body per cycle, so more images: solved by a few rounds of
 * substitution (each round's change is a fraction of the last one's).
 */
export function estimateAt(t: SizedTrace, target: { sizeBytes: number; walPerCheckpointBytes: number }): CycleEstimate {
  const factor = target.sizeBytes / t.sizeBytes;
  const body = factor * t.bodyBytes;
  const perImage = t.images > 0 ? t.imageBytes / t.images : PAGE_BYTES;
  // Page headers and alignment: what the LSN span holds beyond records.
  const overhead = t.bodyBytes + t.imageBytes > 0 ? t.walBytes / (t.bodyBytes + t.imageBytes) : 1;
  const burstBytes = burstOf(t);
  let fpi = 0;
  let cycleBodyBytes = target.walPerCheckpointBytes;
  for (let round = 0; round < 8; round++) {
    const wal = overhead * (body + fpi * perImage);
    cycleBodyBytes = (target.walPerCheckpointBytes * body) / wal;
    const next = expectedImages(t, { factor, cycleBodyBytes, burstBytes });
    const settled = Math.abs(next - fpi) <= 0.001 * next;
    fpi = next;
    if (settled) break;
  }
  const walBytes = overhead * (body + fpi * perImage);
  return { walBytes, fpi, checkpoints: walBytes / target.walPerCheckpointBytes, cycleBodyBytes };
}

/** The run's own images by its gaps at its own checkpoint count: how well the trace stands for it (the self-check). */
export function imagesAtOwnSpacing(t: SizedTrace, checkpoints: number): number {
  return expectedImages(t, { factor: 1, cycleBodyBytes: checkpoints > 0 ? t.bodyBytes / checkpoints : 0, burstBytes: burstOf(t) });
}
