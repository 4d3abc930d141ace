/**
 * Duration with the migration backends' page faults as a cost of their own.
 *
 * A backend that gives memory back to the kernel faults it in again for the
 * next large value; how often depends on the sizes of the chats it has met,
 * so faults per MiB of chat differ from one data set to the next (mostly the
 * same run after run on one data set; some runs settle lower) and a long run
 * settles below what short ones pay. A curve through the points' durations takes that cost as part
 * of the cost per byte and carries it to the target. Here each point's
 * duration is a fixed part, a part per MiB and a part per fault:
 *
 *   duration = c + S · (a + b · f)      S: MiB of chat, f: faults per MiB
 *
 * fitted by least squares over the points (three sizes or more, with faults
 * that do not move in step with size). At the target, f is not known: the
 * centre takes the lowest rate any point showed (a long run faulted less per
 * MiB than every point in the runs measured: README, Regimes), the band runs
 * from no faults to the highest rate. Pure functions.
 */

const MiB = 1024 ** 2;

export interface FaultPoint {
  sizeBytes: number;
  durationMs: number;
  /** The migration backends' minor page faults per MiB of chat table. */
  faultsPerMiB: number;
}

export interface FaultFit {
  /** c, a and b above: ms, ms per MiB, ms per fault. */
  fixedMs: number;
  msPerMiB: number;
  msPerFault: number;
  /** The lowest and highest faults per MiB among the points. */
  faultsPerMiB: { low: number; high: number };
  n: number;
}

/** Solves the 3x3 system m·x = v (Gaussian elimination with pivoting); null when it is singular. */
function solve3(m: number[][], v: number[]): number[] | null {
  const a = m.map((row, i) => [...row, v[i]]);
  const scale = Math.max(...m.flat().map(Math.abs));
  for (let col = 0; col < 3; col++) {
    let pivot = col;
    for (let r = col + 1; r < 3; r++) if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) pivot = r;
    if (!(Math.abs(a[pivot][col]) > 1e-12 * scale)) return null;
    [a[col], a[pivot]] = [a[pivot], a[col]];
    for (let r = 0; r < 3; r++) {
      if (r === col) continue;
      const k = a[r][col] / a[col][col];
      for (let c = col; c < 4; c++) a[r][c] -= k * a[col][c];
    }
  }
  return [0, 1, 2].map((i) => a[i][3] / a[i][i]);
}

/**
 * The fit, or null where it cannot say anything the size alone does not:
 * fewer than three sizes, faults in step with size (a singular system, or
 * rates within 10 % of one another), or a fit whose cost per MiB or per
 * fault comes out not positive (noise, not a cost).
 */
export function fitFaultDuration(points: FaultPoint[]): FaultFit | null {
  const ps = points.filter((p) => p.sizeBytes > 0 && p.durationMs > 0 && Number.isFinite(p.faultsPerMiB) && p.faultsPerMiB >= 0);
  if (new Set(ps.map((p) => p.sizeBytes)).size < 3) return null;
  const low = Math.min(...ps.map((p) => p.faultsPerMiB));
  const high = Math.max(...ps.map((p) => p.faultsPerMiB));
  if (!(high > 1.1 * low)) return null;
  // Normal equations of y = c + a·S + b·(S·f).
  const rows = ps.map((p) => {
    const s = p.sizeBytes / MiB;
    return [1, s, s * p.faultsPerMiB];
  });
  const m = [0, 1, 2].map((i) => [0, 1, 2].map((j) => rows.reduce((sum, r) => sum + r[i] * r[j], 0)));
  const v = [0, 1, 2].map((i) => rows.reduce((sum, r, k) => sum + r[i] * ps[k].durationMs, 0));
  const x = solve3(m, v);
  if (!x || !(x[1] > 0) || !(x[2] > 0)) return null;
  return { fixedMs: x[0], msPerMiB: x[1], msPerFault: x[2], faultsPerMiB: { low, high }, n: ps.length };
}

/** The duration at `sizeBytes` for a rate of faults per MiB. */
export function durationAt(fit: FaultFit, sizeBytes: number, faultsPerMiB: number): number {
  return fit.fixedMs + (sizeBytes / MiB) * (fit.msPerMiB + fit.msPerFault * faultsPerMiB);
}

/** The projection: the centre at the points' lowest rate, the band from no faults to their highest. */
export function projectFaultDuration(fit: FaultFit, sizeBytes: number): { value: number; low: number; high: number } {
  return {
    value: durationAt(fit, sizeBytes, fit.faultsPerMiB.low),
    low: Math.max(0, durationAt(fit, sizeBytes, 0)),
    high: durationAt(fit, sizeBytes, fit.faultsPerMiB.high),
  };
}
