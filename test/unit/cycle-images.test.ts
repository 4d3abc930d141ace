/**
 * Images at a checkpoint spacing from the gaps between changes to a page
 * (harness/sweep/cycle-images.ts), on hand-made traces, and on simulated
 * loads whose indexes place each burst of inserts on a random page: there a
 * small load's gaps, scaled, must give a load f times larger its images.
 * Whether real B-trees behave so is the benchmark's question (README, Regimes).
 */
import { describe, expect, it } from 'vitest';
import { GapRecorder } from '../../harness/measure/page-trace.ts';
import { estimateAt, expectedImages, imagesAtOwnSpacing, type SizedTrace } from '../../harness/sweep/cycle-images.ts';
import { checkpointsLateBy } from '../../harness/sweep/run-sweep.ts';
import { Prng } from '../../seed/prng.ts';
import type { SweepPoint } from '../../harness/result/sweep-points.ts';

const trace = (gaps: number[], index: number[], oldFirstChanges = 0, newPageImages = 0) => ({
  gaps: Float64Array.from(gaps),
  index: Uint8Array.from(index),
  oldFirstChanges,
  newPageImages,
});

describe('expected images at a spacing', () => {
  it('counts a change after a gap g with the chance min(1, g / L), plus old pages and pages written whole', () => {
    const t = trace([10, 20, 40], [0, 0, 0], 2, 3);
    expect(expectedImages(t, { factor: 1, cycleBodyBytes: 20, burstBytes: 0 })).toBeCloseTo(0.5 + 1 + 1 + 2 + 3);
    // No checkpoint at all: only what the run's first checkpoint began.
    expect(expectedImages(t, { factor: 1, cycleBodyBytes: 0, burstBytes: 0 })).toBe(5);
  });

  it("at a larger size: f times the changes, an index's gaps beyond a burst f times longer, a table's and a burst's as they are", () => {
    const L = 100;
    const f = 4;
    // An index gap beyond the burst: 10 -> 40 bytes, 0.4 each, times 4 changes.
    expect(expectedImages(trace([10], [1]), { factor: f, cycleBodyBytes: L, burstBytes: 5 })).toBeCloseTo(f * 0.4);
    // The same gap in a table: 0.1 each.
    expect(expectedImages(trace([10], [0]), { factor: f, cycleBodyBytes: L, burstBytes: 5 })).toBeCloseTo(f * 0.1);
    // Within one burst (shorter than it): it does not grow.
    expect(expectedImages(trace([3], [1]), { factor: f, cycleBodyBytes: L, burstBytes: 5 })).toBeCloseTo(f * 0.03);
    // A gap grown past the spacing is one image, never more.
    expect(expectedImages(trace([60], [1]), { factor: f, cycleBodyBytes: L, burstBytes: 5 })).toBeCloseTo(f * 1);
  });
});

/**
 * A load of `chats` bursts: each writes `rows` rows of `rowBytes` WAL, into a
 * table (appended, on its last page) and an index (all of a burst's rows on
 * one page, chosen at random among the index's pages, which grow with the
 * rows). Returns its trace and, by simulating checkpoints every `spacing`
 * bytes at a random phase, the images it really wrote.
 */
function simulate(chats: number, seed: number, spacing: number) {
  const prng = Prng.of('cycle-images simulation', seed);
  const rand = () => prng.next();
  const rows = 20;
  const rowBytes = 1000;
  const rowsPerTablePage = 8;
  const rowsPerIndexPage = 400;
  const recorder = new GapRecorder();
  const lastChange = new Map<number, number>();
  const phase = rand() * spacing;
  let images = 0;
  let pos = 0;
  let tableRows = 0;
  let indexPages = 1;
  let indexRows = 0;
  const change = (rel: number, blk: number, index: boolean, made: boolean) => {
    const key = rel * 2 ** 32 + blk;
    const prev = lastChange.get(key);
    // A checkpoint (at phase + k * spacing) between the previous change and this one writes an image.
    if (prev !== undefined && Math.floor((pos - phase) / spacing) > Math.floor((prev - phase) / spacing)) images++;
    lastChange.set(key, pos);
    recorder.change({ pos, rel, blk, index, image: false, newPageImage: false, existed: !made && prev === undefined });
  };
  for (let c = 0; c < chats; c++) {
    const page = Math.floor(rand() * indexPages);
    for (let r = 0; r < rows; r++) {
      const tablePage = Math.floor(tableRows / rowsPerTablePage);
      change(1, tablePage, false, tableRows % rowsPerTablePage === 0);
      tableRows++;
      change(2, page, true, false);
      indexRows++;
      if (indexRows >= indexPages * rowsPerIndexPage) {
        // A split: a new page made, written as it is made.
        change(2, indexPages, true, true);
        indexPages++;
      }
      pos += rowBytes;
    }
  }
  const t = recorder.result();
  // Its images take no WAL (one image of no bytes stands for that): the spacing is the body's alone.
  const sized: SizedTrace = { ...t, bodyBytes: pos, imageBytes: 0, images: 1, walBytes: pos, sizeBytes: chats, chats };
  return { sized, images };
}

describe('a small load scaled stands for a larger one (simulated B-tree-like index: a burst per random page)', () => {
  it('gives the images of a load 8x larger within 10 %, where leaving the gaps unscaled falls far short', () => {
    // A hundred bursts between checkpoints, against an index of 100 pages at the small size and 800 at the large.
    const spacing = 2_000_000;
    const small = simulate(2_000, 1, spacing);
    const large = simulate(16_000, 2, spacing);
    const truth = expectedImages(large.sized, { factor: 1, cycleBodyBytes: spacing, burstBytes: large.sized.bodyBytes / large.sized.chats });
    // The simulated checkpoints agree with the gap model on the large load itself.
    expect(Math.abs(large.images - truth) / truth).toBeLessThan(0.05);
    const est = estimateAt(small.sized, { sizeBytes: large.sized.sizeBytes, walPerCheckpointBytes: spacing });
    expect(Math.abs(est.fpi - truth) / truth).toBeLessThan(0.1);
    expect(est.checkpoints).toBeCloseTo(large.sized.bodyBytes / spacing, 0);
    // Without growing the index's gaps, the small load says far fewer: why small runs under-project.
    const unscaled = 8 * expectedImages(small.sized, { factor: 1, cycleBodyBytes: spacing, burstBytes: 0 });
    expect(unscaled).toBeLessThan(0.8 * truth);
  });

  it('a self-check at the run\'s own checkpoint count, and images making WAL that spaces checkpoints out', () => {
    const spacing = 200_000;
    const run = simulate(4_000, 3, spacing);
    const own = imagesAtOwnSpacing(run.sized, run.sized.bodyBytes / spacing);
    expect(Math.abs(own - run.images) / run.images).toBeLessThan(0.05);
    // With 8 kB per image, a cycle's WAL holds less body: more checkpoints, more images than without images' WAL.
    const heavy = estimateAt({ ...run.sized, imageBytes: 8192, images: 1, walBytes: run.sized.bodyBytes + 8192 }, { sizeBytes: 8 * run.sized.sizeBytes, walPerCheckpointBytes: spacing });
    const light = estimateAt(run.sized, { sizeBytes: 8 * run.sized.sizeBytes, walPerCheckpointBytes: spacing });
    expect(heavy.fpi).toBeGreaterThan(light.fpi);
    expect(heavy.walBytes).toBeCloseTo(8 * run.sized.bodyBytes + heavy.fpi * 8192, -3);
    expect(heavy.cycleBodyBytes).toBeLessThan(spacing);
    expect(heavy.checkpoints).toBeCloseTo(heavy.walBytes / spacing, 6);
  });
});

describe('how late the checkpoints come (the target\'s spacing)', () => {
  const MB = 1024 * 1024;
  const point = (checkpoints: number, walPerCheckpointBytes: number | null, withPages = true) =>
    ({
      strategy: 's',
      sizeBytes: 1,
      durationMs: 1,
      walBytes: 1,
      fpi: 1,
      outcome: 'succeeded',
      regime: { maxWalSizeBytes: 64 * MB },
      ...(withPages ? { pages: { checkpoints, walPerCheckpointBytes } } : {}),
    }) as unknown as SweepPoint;

  it('pools every interval between checkpoint records of every point, against what max_wal_size asks (64MB: 32 MB)', () => {
    // 2 intervals of 40 MB and 4 of 36 MB: 37.33 MB, 1.167 times 32 MB; a point without pages, and one without an interval, count for nothing.
    expect(checkpointsLateBy([point(3, 40 * MB), point(5, 36 * MB), point(9, 99 * MB, false), point(1, null)])).toBeCloseTo(37.333 / 32, 3);
  });

  it('is 1 (as asked) with fewer than two intervals', () => {
    expect(checkpointsLateBy([point(2, 50 * MB)])).toBe(1);
    expect(checkpointsLateBy([])).toBe(1);
  });

  // Every run's intervals at a point (redo pointers), by strategy.
  const spaced = (strategy: string, intervals: number, perInterval: number, outcome = 'succeeded') =>
    ({ ...point(9, 99 * MB), strategy, outcome, checkpointIntervals: { intervals, walBytes: intervals * perInterval } }) as unknown as SweepPoint;

  it("takes a strategy's own intervals, over all its runs, before its first run's records", () => {
    const points = [spaced('original', 4, 40 * MB), spaced('original', 8, 37 * MB), spaced('chunked', 6, 34 * MB)];
    expect(checkpointsLateBy(points, 'original')).toBeCloseTo((4 * 40 + 8 * 37) / 12 / 32, 6);
    expect(checkpointsLateBy(points, 'chunked')).toBeCloseTo(34 / 32, 6);
    // Without a strategy: every interval of every strategy.
    expect(checkpointsLateBy(points)).toBeCloseTo((4 * 40 + 8 * 37 + 6 * 34) / 18 / 32, 6);
  });

  it("falls back to every strategy's pool when one has fewer than two intervals, and leaves out failed points", () => {
    const points = [spaced('original', 4, 40 * MB), spaced('chunked', 1, 60 * MB), spaced('original', 5, 90 * MB, 'failed')];
    expect(checkpointsLateBy(points, 'chunked')).toBeCloseTo((4 * 40 + 60) / 5 / 32, 6);
    expect(checkpointsLateBy(points, 'original')).toBeCloseTo(40 / 32, 6);
  });
});
