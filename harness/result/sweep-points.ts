/**
 * What a sweep keeps in `result.extra.sweep`: one point per strategy and
 * size, in base units. The sweep writes it; the reports read it with
 * `sweepPoints()`. `result.schema.json` describes the same shape.
 */
import type { Outcome, RunResult } from './run-result.ts';

/** One strategy run at one dataset size. */
export interface SweepPoint {
  strategy: string;
  /** Size of the `chat` table the strategy migrated, bytes. */
  sizeBytes: number;
  durationMs: number;
  walBytes: number;
  fpi: number;
  outcome: Outcome;
}

/** A measurement at the projected size (`extra.sweep.projectionCheck[]`), kept by `sweep --check-projection`. */
export interface ProjectionCheck {
  strategy: string;
  sizeBytes: number;
  projectedDurationMs: number;
  measuredDurationMs: number;
  durationErrorPct: number;
  projectedWalBytes: number;
  measuredWalBytes: number;
  walErrorPct: number;
}

/** `result.extra.sweep`: the points, plus whatever else the sweep keeps (fits, a projection check). */
interface SweepExtra {
  points: SweepPoint[];
  [key: string]: unknown;
}

/**
 * The sweep points of a result, or null when it holds none. Trusts the
 * shape: `readResult()`/`validateResult()` have checked it against the schema.
 */
export function sweepPoints(result: RunResult): SweepPoint[] | null {
  const sweep = result.extra?.sweep as SweepExtra | undefined;
  if (!sweep || !Array.isArray(sweep.points) || sweep.points.length === 0) return null;
  return sweep.points;
}
