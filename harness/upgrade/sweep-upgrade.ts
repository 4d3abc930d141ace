/**
 * `sweep --from`: the upgrade path measured at several sizes, each
 * revision's duration, WAL and full-page images fitted against the
 * database's size (the bytes of every seeded table before the upgrade) and
 * projected to `--project`, the size of the user's database. Each size runs
 * on a server of its own (seeds cached), without the resumability run.
 */
import { fitGrowth, project, type Fit } from '../sweep/fit.ts';
import type { StartedPostgres } from '../postgres/started-postgres.ts';
import type { RunResult } from '../result/run-result.ts';
import { formatBytes } from '../units.ts';
import type { RunIO } from '../run.ts';
import { runUpgrade, type UpgradePlan } from './run-upgrade.ts';

export interface Metric {
  value: number;
  low: number;
  high: number;
  /** Log-log slope: 1 grows with the data, above 1 faster. */
  slope: number;
  r2: number;
}

export interface UpgradeSweep {
  sizes: number[];
  projectBytes: number | null;
  points: { databaseBytes: number; chatTableBytes: number | null; revisions: { id: string; durationMs: number; walBytes: number; fpi: number; rssGrowthBytes: number }[] }[];
  /** Each figure projected, or why not. */
  projections: { id: string; message: string; durationMs: Projected; walBytes: Projected; fpi: Projected; rssGrowthBytes: Projected }[];
}

/**
 * A projection, or why there is none: `noise` (under {@link FLOORS} at some
 * size), `no trend` (the sizes do not order it: R² under {@link MIN_R2}).
 */
export type Projected = Metric | { unprojected: 'noise' | 'no trend'; r2?: number };

type Figure = keyof SweepFigures;
type SweepFigures = Omit<UpgradeSweep['points'][number]['revisions'][number], 'id'>;

/**
 * Below these a figure is the machine's noise, not the revision's cost (a
 * few milliseconds; WAL is the server's, so other sessions' kilobytes land
 * in a short revision's window; a checkpoint's images land here or there),
 * and a power law fitted to noise projects nonsense: a figure is projected
 * only when it reaches these at every size.
 */
export const FLOORS: SweepFigures = { durationMs: 50, walBytes: 1024 ** 2, fpi: 100, rssGrowthBytes: 16 * 1024 ** 2 };
/** Below this R² the sizes do not explain a figure: no projection. */
export const MIN_R2 = 0.5;

function metric(xs: number[], ys: number[], at: number, floor: number): Projected {
  if (ys.some((y) => !(y >= floor))) return { unprojected: 'noise' };
  const fit: Fit = fitGrowth(xs, ys);
  if (fit.r2 < MIN_R2) return { unprojected: 'no trend', r2: fit.r2 };
  const p = project(fit, at);
  return { value: p.value, low: p.low, high: p.high, slope: fit.slope, r2: fit.r2 };
}

/** Project each revision from `points` (in ascending size): only revisions measured at every size. */
export function projectRevisions(points: UpgradeSweep['points'], messages: Map<string, string>, at: number): UpgradeSweep['projections'] {
  const xs = points.map((p) => p.databaseBytes);
  const ids = points[0]?.revisions.map((r) => r.id).filter((id) => points.every((p) => p.revisions.some((r) => r.id === id))) ?? [];
  return ids.map((id) => {
    const of = (k: Figure) => metric(xs, points.map((p) => p.revisions.find((r) => r.id === id)![k]), at, FLOORS[k]);
    return { id, message: messages.get(id) ?? '', durationMs: of('durationMs'), walBytes: of('walBytes'), fpi: of('fpi'), rssGrowthBytes: of('rssGrowthBytes') };
  });
}

export async function runUpgradeSweep(plan: UpgradePlan, sizes: number[], projectBytes: number | null, io: RunIO, result: RunResult): Promise<RunResult> {
  const points: UpgradeSweep['points'] = [];
  const messages = new Map<string, string>();
  let last: RunResult | null = null;
  for (const size of [...sizes].sort((a, b) => a - b)) {
    if (io.signal.aborted) break;
    io.log(`— the upgrade path at ${formatBytes(size)} of chats —`);
    let server: StartedPostgres | undefined;
    const sized: UpgradePlan = { ...plan, dataset: { ...plan.dataset, targetBytes: size, chats: undefined }, upgrade: { ...plan.upgrade, resumeCheck: false } };
    try {
      last = await runUpgrade(sized, { ...io, onServer: (s) => (server = s) }, { ...result, warnings: [] });
    } finally {
      await (server as StartedPostgres | undefined)?.stop().catch(() => undefined);
    }
    const u = last.upgrade!;
    if (u.outcome !== 'succeeded') io.warn(`at ${formatBytes(size)} the upgrade failed (${u.error}); its revisions are projected from what ran`);
    for (const r of u.revisions) messages.set(r.id, r.message);
    points.push({
      databaseBytes: u.tables.reduce((a, t) => a + (t.bytesBefore ?? 0), 0),
      chatTableBytes: last.dataset?.chatTableBytes ?? null,
      // Memory a revision added: one process runs the path, so its peak carries what earlier revisions kept.
      revisions: u.revisions.map((r) => ({ id: r.id, durationMs: r.durationMs, walBytes: r.walBytes, fpi: r.fpi, rssGrowthBytes: Math.max(0, r.peakRssBytes - r.startRssBytes) })),
    });
  }
  if (!last) return result;
  const sweep: UpgradeSweep = { sizes, projectBytes, points, projections: projectBytes && points.length >= 2 ? projectRevisions(points, messages, projectBytes) : [] };
  return { ...last, kind: result.kind, runId: result.runId, command: result.command, startedAt: result.startedAt, extra: { ...(last.extra ?? {}), upgradeSweep: sweep } };
}
