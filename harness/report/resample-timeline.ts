/**
 * Puts strategies' timelines on one time grid, for charts that need one
 * x-axis for every series (mermaid's xychart spreads each line's values
 * evenly across the axis).
 */
import type { Sample } from '../result/run-result.ts';

/** A common grid and each series' values on it. */
interface ResampledTimeline {
  /** Seconds between grid points: a whole number, so the grid is exact. */
  stepS: number;
  /** Grid times, seconds: 0, stepS, 2·stepS, … */
  gridS: number[];
  /** One array per input timeline, `gridS.length` values each. */
  values: number[][];
}

/**
 * Linear interpolation between samples, 0 before the first, the last value
 * after the end (the quantities charted are cumulative). Default for
 * `maxPoints` is 40.
 */
export function resampleTimeline(timelines: Sample[][], value: (s: Sample) => number, maxPoints = 40): ResampledTimeline | null {
  const endMs = Math.max(0, ...timelines.flatMap((t) => t.map((s) => s.tMs)));
  if (timelines.every((t) => t.length === 0)) return null;
  const endS = Math.max(1, Math.ceil(endMs / 1000));
  const stepS = Math.max(1, Math.ceil(endS / (maxPoints - 1)));
  const points = Math.ceil(endS / stepS) + 1;
  const gridS = Array.from({ length: points }, (_, i) => i * stepS);
  const values = timelines.map((timeline) => {
    const samples = [...timeline].sort((a, b) => a.tMs - b.tMs);
    return gridS.map((s) => valueAt(samples, s * 1000, value));
  });
  return { stepS, gridS, values };
}

function valueAt(samples: Sample[], tMs: number, value: (s: Sample) => number): number {
  if (samples.length === 0 || tMs < samples[0].tMs) return 0;
  let i = 0;
  while (i + 1 < samples.length && samples[i + 1].tMs <= tMs) i++;
  const a = samples[i];
  const b = samples[i + 1];
  if (!b || b.tMs === a.tMs) return value(a);
  const f = (tMs - a.tMs) / (b.tMs - a.tMs);
  return value(a) + f * (value(b) - value(a));
}
