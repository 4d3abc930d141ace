/**
 * A scale sweep: each strategy at each dataset size (each size seeded once;
 * embedded seeds are cached), cost fitted against size, and projected to a
 * production size with a band. Optionally the projection is checked by
 * measuring at the projected size too.
 */
import type { SeedSummary } from '../../seed/seeder.ts';
import { deriveManifest } from '../byod/derive-manifest.ts';
import { subsetCopy } from '../byod/subset-copy.ts';
import { dropOwnedDatabase } from '../postgres/databases.ts';
import type { StartedPostgres } from '../postgres/started-postgres.ts';
import { withClient } from '../postgres/with-client.ts';
import type { Projection, RunResult, StrategyResult } from '../result/run-result.ts';
import type { ProjectionCheck, SweepPoint } from '../result/sweep-points.ts';
import { REPORTED_SETTINGS, readSettings, resolveStrategy, type RunIO, type RunPlan } from '../run.ts';
import { copySource, datasetResult, prepareData, type PrepareOptions } from '../run/prepare-data.ts';
import { runStrategy } from '../run/run-strategy.ts';
import { pgSize } from '../units.ts';
import { fitGrowth, project, superLinear, type Fit } from './fit.ts';

interface SweepPlan extends RunPlan {
  sizes: number[];
  projectBytes?: number;
  /** Also measure at `projectBytes` and report the projection's error. */
  checkProjection: boolean;
}

interface FitSummary {
  strategy: string;
  metric: 'durationMs' | 'walBytes' | 'fpi';
  slope: number;
  r2: number;
  linearR2: number;
  /** Cost per GB at the smallest and the largest size. */
  perGbSmallest: number;
  perGbLargest: number;
  superLinear: boolean;
}

const METRICS = ['durationMs', 'walBytes', 'fpi'] as const;

function cloneName(runId: string, strategy: string, size: number): string {
  return `owui_run_${runId}_${strategy}_${pgSize(size)}`.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 63);
}

interface SizedData {
  server: StartedPostgres;
  template: string;
  summary: SeedSummary;
  reused: 'no' | 'cache' | 'database';
  sourceName: string | null;
  release: () => Promise<void>;
}

/** A tester's database, copied once; each size is a subset of it (chats in id order). */
class SourceSizes {
  private copied: Awaited<ReturnType<typeof copySource>> | undefined;

  constructor(
    private readonly plan: SweepPlan,
    private readonly io: RunIO,
  ) {}

  async at(sizeBytes: number): Promise<SizedData> {
    if (!this.copied) {
      this.copied = await copySource(prepareOptions(this.plan, this.io, sizeBytes, this.plan.provider));
    }
    const { server, copy, name } = this.copied;
    const subset = await subsetCopy(server, copy, sizeBytes);
    if (subset.wholeSource) this.io.warn(`${name} holds less than ${pgSize(sizeBytes)} of chats: that point uses all of it`);
    const { summary } = await deriveManifest(server, subset.database, name);
    return {
      server,
      template: subset.database,
      summary,
      reused: 'no',
      sourceName: name,
      release: () => withClient(server, server.maintenanceDatabase, 'admin', (admin) => dropOwnedDatabase(admin, subset.database)),
    };
  }

  async close(): Promise<void> {
    if (!this.copied) return;
    await this.copied.dispose();
    if (this.copied.server.owned) await this.copied.server.stop();
  }
}

function prepareOptions(plan: SweepPlan, io: RunIO, sizeBytes: number, provider: string): PrepareOptions {
  return {
    provider: provider as 'embedded' | 'testcontainers' | 'url',
    databaseUrl: plan.databaseUrl,
    force: plan.force,
    source: plan.source,
    settings: plan.settings,
    dataset: { ...plan.dataset, targetBytes: sizeBytes, chats: undefined },
    seedStreams: plan.seedStreams,
    cacheDir: plan.cacheDir,
    fresh: plan.fresh,
    registry: io.registry,
    log: io.log,
    onSeedProgress: io.onSeedProgress,
    onServer: io.onServer,
  };
}

async function seededAt(plan: SweepPlan, io: RunIO, result: RunResult, sizeBytes: number): Promise<SizedData> {
  const prepared = await prepareData(prepareOptions(plan, io, sizeBytes, result.postgres.provider));
  return { ...prepared, sourceName: null, release: async () => (prepared.server.owned ? prepared.server.stop() : undefined) };
}

async function measureAt(
  plan: SweepPlan,
  io: RunIO,
  result: RunResult,
  sizeBytes: number,
  label: string,
  sources: SourceSizes | null,
): Promise<{ points: SweepPoint[]; runs: StrategyResult[] }> {
  io.onStage?.(result, `sweep ${label}`);
  const prepared = sources ? await sources.at(sizeBytes) : await seededAt(plan, io, result, sizeBytes);
  const { server, template, summary } = prepared;
  try {
    if (!result.postgres.version) {
      result.postgres = {
        provider: server.provider,
        version: server.version,
        description: server.describe(),
        settings: await readSettings(server, [...REPORTED_SETTINGS, ...Object.keys(plan.settings)]),
        requested: plan.settings,
      };
    }
    result.dataset = datasetResult(summary, prepared.reused, prepared.sourceName);
    const points: SweepPoint[] = [];
    const runs: StrategyResult[] = [];
    for (const name of plan.strategies) {
      const { strategy, options, alembic, upstream, parts } = resolveStrategy(plan, name);
      io.log(`sweep ${label}: ${name}`);
      const r = await runStrategy({
        server,
        template,
        database: cloneName(plan.runId, name, sizeBytes),
        strategy,
        strategyOptions: options,
        alembic,
        upstream,
        parts,
        faults: plan.faults,
        deadlineMs: plan.faults.deadline?.kind === 'fixed' ? plan.faults.deadline.ms : null,
        expectedRows: summary.expectedRows,
        measure: plan.measure,
        keep: plan.keep,
        signal: io.signal,
        log: io.log,
        onSample: (s) => io.onSample?.(`${name}@${label}`, s),
      });
      r.name = `${name}@${label}`;
      runs.push(r);
      points.push({ strategy: name, sizeBytes: summary.chatTableBytes, durationMs: r.durationMs, walBytes: r.wal.bytes, fpi: r.wal.fpi, outcome: r.outcome });
      if (io.signal.aborted) break;
    }
    return { points, runs };
  } finally {
    await prepared.release();
  }
}

function fitsOf(points: SweepPoint[], strategies: string[]): { fits: FitSummary[]; models: Map<string, Fit> } {
  const fits: FitSummary[] = [];
  const models = new Map<string, Fit>();
  for (const s of strategies) {
    const ps = points.filter((p) => p.strategy === s && p.outcome === 'succeeded').sort((a, b) => a.sizeBytes - b.sizeBytes);
    if (ps.length < 2) continue;
    for (const m of METRICS) {
      const ys = ps.map((p) => Math.max(1, p[m]));
      const fit = fitGrowth(
        ps.map((p) => p.sizeBytes),
        ys,
      );
      models.set(`${s}:${m}`, fit);
      const gb = (p: SweepPoint) => p.sizeBytes / 1024 ** 3;
      fits.push({
        strategy: s,
        metric: m,
        slope: fit.slope,
        r2: fit.r2,
        linearR2: fit.linear.r2,
        perGbSmallest: ps[0][m] / gb(ps[0]),
        perGbLargest: ps[ps.length - 1][m] / gb(ps[ps.length - 1]),
        superLinear: superLinear(fit),
      });
    }
  }
  return { fits, models };
}

function projectionsOf(models: Map<string, Fit>, strategies: string[], size: number): Projection[] {
  const out: Projection[] = [];
  for (const s of strategies) {
    const d = models.get(`${s}:durationMs`);
    const w = models.get(`${s}:walBytes`);
    const f = models.get(`${s}:fpi`);
    if (!d || !w || !f) continue;
    const pd = project(d, size);
    const pw = project(w, size);
    const pf = project(f, size);
    out.push({
      strategy: s,
      size,
      durationMs: Math.round(pd.value),
      durationMsLow: Math.round(pd.low),
      durationMsHigh: Math.round(pd.high),
      walBytes: Math.round(pw.value),
      walBytesLow: Math.round(pw.low),
      walBytesHigh: Math.round(pw.high),
      fpi: Math.round(pf.value),
      fpiLow: Math.round(pf.low),
      fpiHigh: Math.round(pf.high),
    });
  }
  return out;
}

export async function runSweep(plan: SweepPlan, io: RunIO, result: RunResult): Promise<RunResult> {
  const sizes = [...plan.sizes].sort((a, b) => a - b);
  const points: SweepPoint[] = [];
  const sources = plan.source ? new SourceSizes(plan, io) : null;
  try {
    return await sweepSizes(plan, io, result, sizes, points, sources);
  } finally {
    await sources?.close();
  }
}

async function sweepSizes(plan: SweepPlan, io: RunIO, result: RunResult, sizes: number[], points: SweepPoint[], sources: SourceSizes | null): Promise<RunResult> {
  for (const size of sizes) {
    const { points: p, runs } = await measureAt(plan, io, result, size, pgSize(size), sources);
    points.push(...p);
    result.strategies.push(...runs);
    for (const r of runs) for (const w of r.warnings) result.warnings.push(`${r.name}: ${w}`);
    if (io.signal.aborted) break;
  }
  const { fits, models } = fitsOf(points, plan.strategies);
  for (const f of fits.filter((x) => x.superLinear))
    result.warnings.push(`${f.strategy}: ${f.metric} grows faster than size (log-log slope ${f.slope.toFixed(2)}): cost per GB rises with size`);
  const extra: Record<string, unknown> = { points, fits };
  if (plan.projectBytes) {
    result.projections = projectionsOf(models, plan.strategies, plan.projectBytes);
    if (plan.checkProjection && !io.signal.aborted) {
      const { points: measured, runs } = await measureAt(plan, io, result, plan.projectBytes, `${pgSize(plan.projectBytes)} (projection check)`, sources);
      result.strategies.push(...runs);
      const checks: ProjectionCheck[] = [];
      for (const m of measured) {
        const p = result.projections.find((x) => x.strategy === m.strategy);
        if (!p || m.outcome !== 'succeeded') continue;
        // Project again at the size actually seeded, which differs a little from the target.
        const d = project(models.get(`${m.strategy}:durationMs`)!, m.sizeBytes).value;
        const w = project(models.get(`${m.strategy}:walBytes`)!, m.sizeBytes).value;
        checks.push({
          strategy: m.strategy,
          sizeBytes: m.sizeBytes,
          projectedDurationMs: Math.round(d),
          measuredDurationMs: m.durationMs,
          durationErrorPct: (100 * (d - m.durationMs)) / m.durationMs,
          projectedWalBytes: Math.round(w),
          measuredWalBytes: m.walBytes,
          walErrorPct: (100 * (w - m.walBytes)) / m.walBytes,
        });
      }
      extra.projectionCheck = checks;
    }
  }
  result.extra = { ...(result.extra ?? {}), sweep: extra };
  return result;
}
