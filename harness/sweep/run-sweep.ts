/**
 * A scale sweep: each strategy at each dataset size (each size seeded once;
 * embedded seeds are cached), cost fitted against size, and projected to a
 * production size with a band. Optionally the projection is checked by
 * measuring at the projected size too.
 */
import type { BackendProcessFigures } from '../measure/backend-processes.ts';
import type { SeedSummary } from '../../seed/seeder.ts';
import { deriveManifest } from '../byod/derive-manifest.ts';
import { subsetCopy } from '../byod/subset-copy.ts';
import { dropOwnedDatabase } from '../postgres/databases.ts';
import type { StartedPostgres } from '../postgres/started-postgres.ts';
import { withClient } from '../postgres/with-client.ts';
import type { Projection, RunResult, StrategyResult } from '../result/run-result.ts';
import type { CycleProjection, PointPages, PointRegime, ProjectionCheck, RegimeScaling, SweepPoint } from '../result/sweep-points.ts';
import { REPORTED_SETTINGS, readSettings, resolveStrategy, type RunIO, type RunPlan } from '../run.ts';
import { copySource, datasetResult, prepareData, type PrepareOptions } from '../run/prepare-data.ts';
import { runStrategy } from '../run/run-strategy.ts';
import { formatBytes, parseDuration, pgSize, parseSize } from '../units.ts';
import type { PageTrace } from '../measure/page-trace.ts';
import { atFloor, readSpeedFloor, serverFloorMs, type SpeedFloor, type SpeedFloorReading } from '../measure/speed-floor.ts';
import { estimateAt, imagesAtOwnSpacing, type SizedTrace } from './cycle-images.ts';
import { fitFaultDuration, projectFaultDuration, type FaultPoint } from './fault-duration.ts';
import { backtest, fitGrowth, project, projectLarger, projectLinear, superLinear, type Backtest, type Fit } from './fit.ts';
import { checkpointSpacing, commitsAsItGoes, crossingsOutsideCycles, pointRegime, projectionRegime, scaleSettings, SHARED_BUFFERS_FLOOR, targetRegime, WAL_SEGMENT_BYTES, widenBand, type RegimePoint } from './regime.ts';

export interface SweepPlan extends RunPlan {
  sizes: number[];
  projectBytes?: number;
  /** Also measure at `projectBytes` and report the projection's error. */
  checkProjection: boolean;
  /** Sizes to measure for the check (default: `projectBytes` alone). */
  checkSizes?: number[];
  /** The target server's shared_buffers and max_wal_size, when given as flags. */
  target?: { sharedBuffersBytes?: number; maxWalSizeBytes?: number };
  /** Scale each size's shared_buffers and max_wal_size so its ratios match the target's (--scale-regime). */
  scaleRegime?: boolean;
  /** Runs of each strategy at each fitted size (not at a check size); the point is the fastest run's duration and the medians of WAL and images. Default 1. */
  repeat?: number;
  /** Runs of each strategy at each check size, taken the same way (`--check-repeat`). Default 1. */
  checkRepeat?: number;
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
  /** Fitted to all but the largest size, each model's error there (fit.ts); absent under three sizes. */
  backtest?: Backtest;
}

const METRICS = ['durationMs', 'walBytes', 'fpi'] as const;

function cloneName(runId: string, strategy: string, size: number, rep = 1): string {
  return `owui_run_${runId}_${strategy}_${pgSize(size)}${rep > 1 ? `_r${rep}` : ''}`.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 63);
}

/** The median of counts, itself a count: of an even number, the mean of the middle two rounded (bytes and images are whole in result.json). */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : Math.round((s[m - 1] + s[m]) / 2);
}

/**
 * One point from a strategy's runs at one size. Duration is the fastest run's:
 * on a shared machine another process can only slow a run down, never speed it
 * up, so the fastest is the one least disturbed (measured: two of three 512 MB
 * runs at 31.8 and 32.9 s beside 23.6 s moved a projection 8x out from within
 * 14 % to 85 % high with a median). WAL and full-page images are not slowed by
 * a busy machine but vary with where checkpoints fall: each is the median of
 * the runs. The regime is the fastest run's. A run that did not succeed is a
 * finding, not noise: the point is that run's, as it was.
 */
export function pointOf(
  strategy: string,
  sizeBytes: number,
  runs: { durationMs: number; walBytes: number; fpi: number; outcome: SweepPoint['outcome']; regime?: PointRegime; checkpointIntervals?: { intervals: number; walBytes: number }; speedFloorMs?: number }[],
): SweepPoint {
  const failed = runs.find((r) => r.outcome !== 'succeeded');
  const spans = runs.flatMap((r) => (r.outcome === 'succeeded' && r.checkpointIntervals ? [r.checkpointIntervals] : []));
  const checkpointIntervals = spans.length ? { intervals: spans.reduce((a, x) => a + x.intervals, 0), walBytes: spans.reduce((a, x) => a + x.walBytes, 0) } : null;
  const base = { strategy, sizeBytes };
  const spacing = checkpointIntervals ? { checkpointIntervals } : {};
  if (failed || runs.length === 1) {
    const r = failed ?? runs[0];
    return { ...base, durationMs: r.durationMs, walBytes: r.walBytes, fpi: r.fpi, outcome: r.outcome, ...(r.regime ? { regime: r.regime } : {}), ...spacing, ...floorOf(r), ...(runs.length > 1 ? { runs: runsOf(runs) } : {}) };
  }
  const fastest = runs.reduce((a, b) => (b.durationMs < a.durationMs ? b : a));
  return {
    ...base,
    durationMs: fastest.durationMs,
    walBytes: median(runs.map((r) => r.walBytes)),
    fpi: median(runs.map((r) => r.fpi)),
    outcome: 'succeeded',
    ...(fastest.regime ? { regime: fastest.regime } : {}),
    ...spacing,
    ...floorOf(fastest),
    runs: runsOf(runs),
  };
}

/** The speed floor of the run a point's duration is from, where it was read. */
function floorOf(r: { speedFloorMs?: number }): { speedFloorMs?: number } {
  return r.speedFloorMs !== undefined && r.speedFloorMs > 0 ? { speedFloorMs: r.speedFloorMs } : {};
}

function runsOf(runs: { durationMs: number; walBytes: number; fpi: number }[]): NonNullable<SweepPoint['runs']> {
  return { durationMs: runs.map((r) => r.durationMs), walBytes: runs.map((r) => r.walBytes), fpi: runs.map((r) => r.fpi) };
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

function prepareOptions(plan: SweepPlan, io: RunIO, sizeBytes: number, provider: string, settings = plan.settings): PrepareOptions {
  return {
    provider: provider as 'embedded' | 'testcontainers' | 'url',
    databaseUrl: plan.databaseUrl,
    force: plan.force,
    source: plan.source,
    settings,
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

async function seededAt(plan: SweepPlan, io: RunIO, result: RunResult, sizeBytes: number, settings: SweepPlan['settings']): Promise<SizedData> {
  const prepared = await prepareData(prepareOptions(plan, io, sizeBytes, result.postgres.provider, settings));
  return { ...prepared, sourceName: null, release: async () => (prepared.server.owned ? prepared.server.stop() : undefined) };
}

async function measureAt(
  plan: SweepPlan,
  io: RunIO,
  result: RunResult,
  sizeBytes: number,
  label: string,
  sources: SourceSizes | null,
  run: { settings: SweepPlan['settings']; checkpointEveryBytes: number | null } = { settings: plan.settings, checkpointEveryBytes: null },
  repeat = 1,
  traces: Map<string, SizedTrace> | null = null,
): Promise<{ points: SweepPoint[]; runs: StrategyResult[] }> {
  io.onStage?.(result, `sweep ${label}`);
  const prepared = sources ? await sources.at(sizeBytes) : await seededAt(plan, io, result, sizeBytes, run.settings);
  const { server, template, summary } = prepared;
  try {
    // What this size's server runs with (SHOW): scaled sizes differ from one another and from the target.
    const shown = await readSettings(server, ['shared_buffers', 'max_wal_size', 'autovacuum', 'autovacuum_naptime']);
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
    const runs: StrategyResult[] = [];
    const measured = new Map<string, Parameters<typeof pointOf>[2]>(plan.strategies.map((name) => [name, []]));
    const pages = new Map<string, PointPages>();
    // In rounds: each strategy once, then each again. A stretch of a busy
    // machine then slows one run of several strategies, not every run of one,
    // and the fastest of each is undisturbed (measured: three chunked runs in
    // a row at 256 MB and at 512 MB, each 15-34 % slower than the fastest at
    // its size in the next sweep).
    for (let rep = 1; rep <= repeat && !io.signal.aborted; rep++) {
      for (const name of plan.strategies) {
        const mine = measured.get(name)!;
        // A failure is the finding at this size: running it again would only repeat it.
        if (mine.some((m) => m.outcome !== 'succeeded')) continue;
        if (io.signal.aborted) break;
        const { strategy, options, alembic, upstream, parts } = resolveStrategy(plan, name);
        io.log(`sweep ${label}: ${name}${repeat > 1 ? ` (run ${rep} of ${repeat})` : ''}`);
        let trace: PageTrace | null = null;
        const before = await floorReading(server, io);
        const r = await runStrategy({
          server,
          template,
          database: cloneName(plan.runId, name, sizeBytes, rep),
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
          checkpointEveryBytes: run.checkpointEveryBytes,
          // The first run's WAL, read back page by page: images at the target's size come from it (cycle-images.ts).
          ...(traces && rep === 1 && server.owned ? { onPageTrace: (t: PageTrace) => (trace = t) } : {}),
        });
        r.name = `${name}@${label}${repeat > 1 ? ` #${rep}` : ''}`;
        const after = before ? await floorReading(server, io) : null;
        const floor: SpeedFloor | null = before && after ? { before, after } : null;
        if (floor) r.speedFloor = floor;
        if (trace && traces && r.outcome === 'succeeded') {
          const sized: SizedTrace & PageTrace = { ...(trace as PageTrace), walBytes: r.wal.bytes, sizeBytes: summary.chatTableBytes, chats: summary.migratedChats };
          traces.set(`${name}:${summary.chatTableBytes}`, sized);
          pages.set(name, pagesOf(sized, r));
        }
        runs.push(r);
        const regime = regimeOf(r, shown, run.checkpointEveryBytes, plan.measure.sampleIntervalMs, summary.chatTableBytes);
        mine.push({
          durationMs: r.durationMs,
          walBytes: r.wal.bytes,
          fpi: r.wal.fpi,
          outcome: r.outcome,
          ...(regime ? { regime } : {}),
          ...(r.checkpoints.intervals ? { checkpointIntervals: r.checkpoints.intervals } : {}),
          ...(floor ? { speedFloorMs: round1(serverFloorMs(floor)) } : {}),
        });
      }
    }
    const points = plan.strategies.flatMap((name) => {
      const mine = measured.get(name)!;
      if (!mine.length) return [];
      const p = pointOf(name, summary.chatTableBytes, mine);
      const pg = pages.get(name);
      return [pg && p.outcome === 'succeeded' ? { ...p, pages: pg } : p];
    });
    return { points, runs };
  } finally {
    await prepared.release();
  }
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/**
 * The speed floor (speed-floor.ts) beside a run, rounded to 0.1 ms; null,
 * with a line in the log, where it could not be read: the run's figures do
 * not depend on it, only the check's duration at the points' speed does.
 */
async function floorReading(server: StartedPostgres, io: RunIO): Promise<SpeedFloorReading | null> {
  if (io.signal.aborted) return null;
  try {
    const f = await readSpeedFloor(server);
    return { serverMs: round1(f.serverMs), clientMs: round1(f.clientMs), ...(f.serverCpuMs !== undefined ? { serverCpuMs: round1(f.serverCpuMs) } : {}) };
  } catch (e) {
    io.log(`speed floor not read: ${e instanceof Error ? e.message : String(e)}`);
    return null;
  }
}

/** Bytes of a size setting as SHOW prints it (128MB, 1GB, 8kB), or null. */
function shownBytes(v: string | undefined): number | null {
  if (!v) return null;
  const r = parseSize(v);
  return r.ok ? r.bytes : null;
}

/** The migration backends' page faults and CPU per MiB of chat table, or nulls where they were not read. */
export function backendPerMB(b: BackendProcessFigures | null, chatTableBytes: number): { backendFaultsPerMB: number | null; backendCpuMsPerMB: number | null } {
  if (!b || !(chatTableBytes > 0)) return { backendFaultsPerMB: null, backendCpuMsPerMB: null };
  const mib = chatTableBytes / 1024 ** 2;
  return { backendFaultsPerMB: b.minorFaults / mib, backendCpuMsPerMB: (b.userMs + b.systemMs) / mib };
}

/** autovacuum_naptime as SHOW prints it (1min, 10s), or null with autovacuum off or not shown. */
function autovacuumNaptimeMs(shown: Record<string, string>): number | null {
  if (shown.autovacuum !== 'on' || !shown.autovacuum_naptime) return null;
  const d = parseDuration(shown.autovacuum_naptime);
  return d.ok ? d.ms : null;
}

function regimeOf(r: StrategyResult, shown: Record<string, string>, checkpointEveryBytes: number | null, sampleIntervalMs: number, chatTableBytes: number): PointRegime | null {
  const sharedBuffersBytes = shownBytes(shown.shared_buffers);
  const maxWalSizeBytes = shownBytes(shown.max_wal_size);
  if (sharedBuffersBytes === null || maxWalSizeBytes === null) return null;
  return pointRegime({
    sharedBuffersBytes,
    maxWalSizeBytes,
    checkpointEveryBytes,
    chatMessageBytes: r.load?.chatMessageBytes ?? null,
    indexBytes: r.load?.indexBytes ?? null,
    walBytes: r.wal.bytes,
    // Checkpoints completed (redo pointers) where they were read: the counters also count requests that began no checkpoint of their own.
    checkpoints: r.checkpoints.completed ?? r.checkpoints.timed + r.checkpoints.requested,
    bufferHitRatio: r.load?.hitRatio ?? null,
    chatMessageHitRatio: r.load?.chatMessageHitRatio ?? null,
    durationMs: r.durationMs,
    autovacuumNaptimeMs: autovacuumNaptimeMs(shown),
    commitsDuringLoad: commitsAsItGoes(r.longestTransactionMs, r.transactionSpanMs, sampleIntervalMs),
    autovacuumPasses: r.autovacuum ? r.autovacuum.passes.length : null,
    ...backendPerMB(r.backendProcesses ?? null, chatTableBytes),
  });
}

/** What result.json keeps of a point's trace, with the gap model's self-check against the run's own images. */
function pagesOf(t: SizedTrace & Pick<PageTrace, 'changes' | 'checkpointRecords' | 'walPerCheckpointBytes'>, r: StrategyResult): PointPages {
  const checkpoints = t.checkpointRecords;
  const modelled = imagesAtOwnSpacing(t, checkpoints);
  return {
    bodyBytes: t.bodyBytes,
    imageBytes: t.imageBytes,
    images: t.images,
    changes: t.changes,
    revisits: t.gaps.length,
    oldFirstChanges: t.oldFirstChanges,
    newPageImages: t.newPageImages,
    chats: t.chats,
    checkpoints,
    walPerCheckpointBytes: t.walPerCheckpointBytes === null ? null : Math.round(t.walPerCheckpointBytes),
    modelledFpi: Math.round(modelled),
    measuredFpi: r.wal.fpi,
    selfCheckPct: r.wal.fpi > 0 ? (100 * (modelled - r.wal.fpi)) / r.wal.fpi : 0,
  };
}

/** The target server's shared_buffers and max_wal_size: flags, else the --database-url server's SHOW, else the sweep's own settings, else PostgreSQL's defaults. */
export function targetSettings(plan: SweepPlan, urlShown: Record<string, string> | null): { sharedBuffersBytes: number; maxWalSizeBytes: number; source: string } {
  const from = (flag: number | undefined, shownValue: string | undefined, setting: string | undefined, fallback: number) =>
    flag !== undefined ? { v: flag, src: 'flag' } : shownBytes(shownValue) !== null ? { v: shownBytes(shownValue)!, src: '--database-url (SHOW)' } : shownBytes(setting) !== null ? { v: shownBytes(setting)!, src: 'the sweep’s settings' } : { v: fallback, src: 'PostgreSQL’s default' };
  const sb = from(plan.target?.sharedBuffersBytes, urlShown?.shared_buffers, plan.settings.shared_buffers, 128 * 1024 ** 2);
  const mw = from(plan.target?.maxWalSizeBytes, urlShown?.max_wal_size, plan.settings.max_wal_size, 1024 ** 3);
  return { sharedBuffersBytes: sb.v, maxWalSizeBytes: mw.v, source: `shared_buffers from ${sb.src}, max_wal_size from ${mw.src}` };
}

function settingsWith(plan: SweepPlan, sharedBuffersBytes: number, maxWalSizeBytes: number): SweepPlan['settings'] {
  const settings: SweepPlan['settings'] = { ...plan.settings, shared_buffers: pgSize(sharedBuffersBytes), max_wal_size: pgSize(maxWalSizeBytes) };
  const min = shownBytes(settings.min_wal_size);
  if (min !== null && min > maxWalSizeBytes) settings.min_wal_size = pgSize(2 * WAL_SEGMENT_BYTES);
  return settings;
}

export function fitsOf(points: SweepPoint[], strategies: string[]): { fits: FitSummary[]; models: Map<string, Fit>; backtests: Map<string, Backtest> } {
  const fits: FitSummary[] = [];
  const models = new Map<string, Fit>();
  const backtests = new Map<string, Backtest>();
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
      const bt = backtest(
        ps.map((p) => p.sizeBytes),
        ys,
      );
      if (bt) backtests.set(`${s}:${m}`, bt);
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
        ...(bt ? { backtest: bt } : {}),
      });
    }
  }
  return { fits, models, backtests };
}

/** The measured points of a strategy that carry a regime. */
function regimePoints(points: SweepPoint[], strategy: string): RegimePoint[] {
  return points.filter((p) => p.strategy === strategy && p.outcome === 'succeeded' && p.regime).map((p) => ({ sizeBytes: p.sizeBytes, regime: p.regime! }));
}

/**
 * How a projection extrapolates: a power law (sizes on one server, the
 * default before regimes), or a straight line for sizes run in the target's
 * regime, where each size has the same number of checkpoints (see projectLinear).
 */
type ProjectionModel = NonNullable<Projection['model']>;

interface Target {
  sharedBuffersBytes: number;
  maxWalSizeBytes: number;
}

/** The fits of a sweep (fitsOf): per `strategy:metric`, the model and, from three sizes, its backtest. */
export interface Fitted {
  models: Map<string, Fit>;
  backtests?: Map<string, Backtest>;
  /** Page traces of the points whose WAL was read back, by `strategy:sizeBytes`: WAL and images then come from them. */
  traces?: Map<string, SizedTrace>;
}

/**
 * The fit at `size` for one strategy, with its backtest (how the model did
 * at the sweep's own largest size when fitted without it), and its band
 * widened for each regime boundary the size lies beyond on the target's
 * server (see regime.ts).
 */
function projectOne(fitted: Fitted, points: SweepPoint[], s: string, size: number, target: Target, model: ProjectionModel = 'power-law') {
  const { models, backtests } = fitted;
  const d = models.get(`${s}:durationMs`);
  const w = models.get(`${s}:walBytes`);
  const f = models.get(`${s}:fpi`);
  if (!d || !w || !f) return null;
  const rp = regimePoints(points, s);
  type Figure = { value: number; low: number; high: number; from?: 'power-law' | 'linear' | 'cycles' | 'faults' };
  const at = (fit: Fit, x: number): { value: number; low: number; high: number; from?: 'power-law' | 'linear' } =>
    model === 'linear' ? projectLinear(fit, x) : model === 'larger' ? projectLarger(fit, x) : project(fit, x);
  const missOf = (m: (typeof METRICS)[number]) => {
    const bt = backtests?.get(`${s}:${m}`);
    return bt ? { bt, pct: model === 'linear' ? bt.linearPct : model === 'larger' ? bt.largerPct : bt.powerLawPct } : null;
  };
  let d0: Figure = at(d, size);
  // Where the points' backends faulted at rates that differ by more than their size explains: that cost on its own (fault-duration.ts).
  const faultFit = model === 'linear' ? null : fitFaultDuration(faultPoints(points, s));
  if (faultFit) {
    const f = projectFaultDuration(faultFit, size);
    d0 = { value: f.value, low: f.low, high: Math.max(f.high, d0.value), from: 'faults' as const };
  }
  let w0: Figure = at(w, size);
  let f0: Figure = at(f, size);
  const cycles = model === 'linear' ? null : cycleProjection(fitted, points, s, size, target);
  if (cycles) {
    w0 = { ...cycles.wal, from: 'cycles' as const };
    f0 = { ...cycles.fpi, from: 'cycles' as const };
  }
  const regime = rp.length ? projectionRegime(rp.map((p) => p.regime), targetRegime(rp, { sizeBytes: size, ...target, walBytes: w0.value, durationMs: d0.value })) : undefined;
  const n = regime?.crossings.length ?? 0;
  const outside = regime ? crossingsOutsideCycles(regime.crossings) : 0;
  const [md, mw, mf] = METRICS.map(missOf);
  const backtest =
    md && mw && mf
      ? { fittedUpTo: md.bt.fittedUpTo, predicted: md.bt.predicted, durationMsPct: md.pct, walBytesPct: mw.pct, fpiPct: mf.pct }
      : undefined;
  const modelOf =
    d0.from && w0.from && f0.from && d0.from !== 'cycles' && w0.from !== 'faults' && f0.from !== 'faults' ? { durationMs: d0.from, walBytes: w0.from, fpi: f0.from } : undefined;
  return {
    pd: widenBand(d0, n),
    // From page traces, WAL and images already know the target's checkpoints: those boundaries are inside the model, not beyond it; autovacuum's is not.
    pw: widenBand(w0, cycles ? outside : n),
    pf: widenBand(f0, cycles ? outside : n),
    regime,
    backtest,
    modelOf,
    cycles: cycles?.projection,
    faults: faultFit ? { fixedMs: faultFit.fixedMs, msPerMiB: faultFit.msPerMiB, msPerFault: faultFit.msPerFault, faultsPerMiB: faultFit.faultsPerMiB } : undefined,
  };
}

/** A strategy's succeeded points whose backends' faults were read. */
function faultPoints(points: SweepPoint[], strategy: string): FaultPoint[] {
  return points
    .filter((p) => p.strategy === strategy && p.outcome === 'succeeded' && p.regime?.backendFaultsPerMB != null)
    .map((p) => ({ sizeBytes: p.sizeBytes, durationMs: p.durationMs, faultsPerMiB: p.regime!.backendFaultsPerMB! }));
}

/**
 * How much later than max_wal_size asks a strategy's checkpoints came: the
 * WAL between two of them over checkpointSpacing(max_wal_size), pooled over
 * every interval of every run of its points (checkpointIntervals, by redo
 * pointer). Per strategy, because how far apart checkpoints come depends on
 * what is written between them (max_wal_size 64MB, in the projection-check
 * benchmark: original's 38.2 MB apart over its runs at 128-512 MB, 37.7 and
 * 38.7 MB in its 4 and 8 GB checks; chunked's 40.5 MB, and 36.2 MB in both
 * checks: its small runs space them wider than its large ones, not
 * explained, README); and over every run, because one run's few intervals
 * range 29-54 MB. A strategy with fewer than two intervals takes
 * every strategy's pool; 1 (as asked) without two at all. A point without
 * checkpointIntervals counts its first run's checkpoint records (pages).
 */
export function checkpointsLateBy(points: SweepPoint[], strategy?: string): number {
  const pool = (ps: SweepPoint[]): number | null => {
    let bytes = 0;
    let asked = 0;
    let intervals = 0;
    for (const p of ps) {
      const pg = p.pages;
      const span = p.checkpointIntervals ?? (pg && pg.walPerCheckpointBytes !== null && pg.checkpoints >= 2 ? { intervals: pg.checkpoints - 1, walBytes: pg.walPerCheckpointBytes * (pg.checkpoints - 1) } : null);
      if (!span || !p.regime || p.outcome !== 'succeeded') continue;
      bytes += span.walBytes;
      asked += checkpointSpacing(p.regime.maxWalSizeBytes) * span.intervals;
      intervals += span.intervals;
    }
    return intervals >= 2 && asked > 0 ? bytes / asked : null;
  };
  return (strategy === undefined ? null : pool(points.filter((p) => p.strategy === strategy))) ?? pool(points) ?? 1;
}

/**
 * WAL and images at `size` from the page traces of a strategy's points
 * (cycle-images.ts): the largest point's estimate, in a band spanning every
 * traced point's estimate, widened by the largest point's self-check (how far
 * its gaps at its own checkpoints missed its own images). Checkpoints
 * at the target come every checkpointSpacing(its max_wal_size) of WAL,
 * times how much later than that the strategy's own came at the points
 * (checkpointsLateBy).
 * Null without traces.
 */
function cycleProjection(fitted: Fitted, points: SweepPoint[], s: string, size: number, target: Target) {
  const traced = points
    .filter((p) => p.strategy === s && p.outcome === 'succeeded' && p.pages && fitted.traces?.has(`${s}:${p.sizeBytes}`))
    .sort((a, b) => a.sizeBytes - b.sizeBytes);
  if (!traced.length) return null;
  const largest = traced[traced.length - 1];
  const walPerCheckpointBytes = checkpointSpacing(target.maxWalSizeBytes) * checkpointsLateBy(points, s);
  const estimates = traced.map((p) => ({ sizeBytes: p.sizeBytes, ...estimateAt(fitted.traces!.get(`${s}:${p.sizeBytes}`)!, { sizeBytes: size, walPerCheckpointBytes }) }));
  const main = estimates[estimates.length - 1];
  // The largest point's self-check: a small point's few checkpoints fall where they fall (two at 128 MB missed by 30 % either way).
  const miss = Math.abs(largest.pages!.selfCheckPct) / 100;
  const band = (xs: number[], v: number) => ({ value: v, low: Math.min(...xs) * (1 - Math.min(miss, 0.9)), high: Math.max(...xs) * (1 + miss) });
  const projection: CycleProjection = {
    fromSizeBytes: largest.sizeBytes,
    walPerCheckpointBytes: Math.round(walPerCheckpointBytes),
    checkpoints: main.checkpoints,
    estimates: estimates.map((e) => ({ sizeBytes: e.sizeBytes, walBytes: Math.round(e.walBytes), fpi: Math.round(e.fpi) })),
  };
  return {
    wal: band(
      estimates.map((e) => e.walBytes),
      main.walBytes,
    ),
    fpi: band(
      estimates.map((e) => e.fpi),
      main.fpi,
    ),
    projection,
  };
}

export function projectionsOf(fitted: Fitted, points: SweepPoint[], strategies: string[], size: number, target: Target, model: ProjectionModel = 'power-law'): Projection[] {
  const out: Projection[] = [];
  for (const s of strategies) {
    const one = projectOne(fitted, points, s, size, target, model);
    if (!one) continue;
    const { pd, pw, pf, regime, backtest, modelOf, cycles, faults } = one;
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
      model,
      ...(modelOf ? { modelOf } : {}),
      ...(cycles ? { cycles } : {}),
      ...(faults ? { faults } : {}),
      ...(backtest ? { backtest } : {}),
      ...(regime ? { regime } : {}),
    });
  }
  return out;
}

export async function runSweep(given: SweepPlan, io: RunIO, result: RunResult): Promise<RunResult> {
  const sizes = [...given.sizes].sort((a, b) => a - b);
  // A projection's WAL and images come from the points' WAL read back: keep it until then (1.5x the largest size; a run writes up to about 0.8x).
  const plan = tracing(given) && given.settings.wal_keep_size === undefined ? { ...given, settings: { ...given.settings, wal_keep_size: pgSize(Math.ceil((1.5 * sizes[sizes.length - 1]) / 1024 ** 2) * 1024 ** 2) } } : given;
  const points: SweepPoint[] = [];
  const sources = plan.source ? new SourceSizes(plan, io) : null;
  try {
    return await sweepSizes(plan, io, result, sizes, points, sources);
  } finally {
    await sources?.close();
  }
}

async function sweepSizes(plan: SweepPlan, io: RunIO, result: RunResult, sizes: number[], points: SweepPoint[], sources: SourceSizes | null): Promise<RunResult> {
  const extra: Record<string, unknown> = { points };
  // Without flags the target's settings are the --database-url server's own: read them once, first.
  let urlShown: Record<string, string> | null = null;
  if (plan.provider === 'url' && plan.databaseUrl && plan.projectBytes && (!plan.target?.sharedBuffersBytes || !plan.target?.maxWalSizeBytes)) {
    const { UrlPostgresServer } = await import('../postgres/url-server.ts');
    const server = await new UrlPostgresServer(plan.databaseUrl).start();
    try {
      urlShown = await readSettings(server, ['shared_buffers', 'max_wal_size']);
    } finally {
      await server.stop();
    }
  }
  const target = targetSettings(plan, urlShown);
  const scaling = regimeScaling(plan, sources, sizes, target);
  const traces = new Map<string, SizedTrace>();
  if (scaling) extra.regimeScaling = scaling;
  const forced = scaling?.sizes.filter((z) => z.checkpointEveryBytes !== null) ?? [];
  // Immediate checkpoints, as many per run as the target's, cost per checkpoint rather than per byte: small runs took 1.2-4x the target's seconds per GB (README, Regimes).
  if (forced.length)
    result.warnings.push(
      `checkpoints were forced at ${forced.map((z) => pgSize(z.sizeBytes)).join(', ')} (immediate, where the target's are spread, and as many per run as the target's): their spacing is the target's, their time is not; the duration projected is not the target's time`,
    );
  for (const size of sizes) {
    const scaled = scaling?.sizes.find((x) => x.sizeBytes === size);
    const run = scaled ? { settings: settingsWith(plan, scaled.sharedBuffersBytes, scaled.maxWalSizeBytes), checkpointEveryBytes: scaled.checkpointEveryBytes } : undefined;
    if (scaled) io.log(`sweep ${pgSize(size)}: shared_buffers ${pgSize(scaled.sharedBuffersBytes)}, max_wal_size ${pgSize(scaled.maxWalSizeBytes)}${scaled.checkpointEveryBytes ? `, a checkpoint every ${scaled.checkpointEveryBytes} bytes of WAL` : ''} (the target's regime)`);
    const { points: p, runs } = await measureAt(plan, io, result, size, pgSize(size), sources, run, plan.repeat ?? 1, tracing(plan) && !scaled ? traces : null);
    if (scaled) for (const lag of checkpointLag(scaled, p)) {
      scaled.unmatched.push(lag);
      result.warnings.push(`${pgSize(size)}: ${lag.reason}`);
    }
    points.push(...p);
    result.strategies.push(...runs);
    for (const r of runs) for (const w of r.warnings) result.warnings.push(`${r.name}: ${w}`);
    if (io.signal.aborted) break;
  }
  const { fits, models, backtests } = fitsOf(points, plan.strategies);
  const fitted: Fitted = { models, backtests, traces };
  for (const f of fits.filter((x) => x.superLinear))
    result.warnings.push(`${f.strategy}: ${f.metric} grows faster than size (log-log slope ${f.slope.toFixed(2)}): cost per GB rises with size`);
  extra.fits = fits;
  if (plan.projectBytes) {
    const checkSizes = plan.checkProjection ? [...new Set(plan.checkSizes?.length ? plan.checkSizes : [plan.projectBytes])].sort((a, b) => a - b) : [];
    const model: ProjectionModel = scaling && !scaling.notScaled ? 'linear' : 'larger';
    result.projections = [plan.projectBytes, ...checkSizes.filter((c) => c !== plan.projectBytes)].flatMap((size) => projectionsOf(fitted, points, plan.strategies, size, target, model));
    for (const p of result.projections)
      if (p.regime?.widened)
        result.warnings.push(
          `${p.strategy} at ${pgSize(p.size)}: the projection crosses ${p.regime.crossings.map((c) => `"${c.boundary}"`).join(', ')}, which no measured point did: ${
            !p.cycles
              ? 'its band is widened'
              : crossingsOutsideCycles(p.regime.crossings)
                ? "its bands are widened (checkpoint cycles know the target's checkpoints, not what autovacuum's passes add: room it finds again in old pages, each page an image)"
                : "its duration's band is widened (WAL and images come from checkpoint cycles, which know the target's checkpoints)"
          }`,
        );
    const checks: ProjectionCheck[] = [];
    // The check runs on the target's server: its settings, unscaled, and no forced checkpoints.
    const targetRun = { settings: settingsWith(plan, target.sharedBuffersBytes, target.maxWalSizeBytes), checkpointEveryBytes: null };
    for (const checkSize of checkSizes) {
      if (io.signal.aborted) break;
      const { points: measured, runs } = await measureAt(plan, io, result, checkSize, `${pgSize(checkSize)} (projection check)`, sources, sources ? undefined : targetRun, plan.checkRepeat ?? 1);
      result.strategies.push(...runs);
      for (const m of measured) {
        if (m.outcome !== 'succeeded') continue;
        // Project again at the size actually seeded, which differs a little from the target.
        const one = projectOne(fitted, points, m.strategy, m.sizeBytes, target, model);
        if (!one) continue;
        const { pd, pw, pf, regime, cycles } = one;
        const mine = runs.filter((r) => r.name.startsWith(`${m.strategy}@`));
        const passes = mine.filter((r) => r.autovacuum).map((r) => ({
          heap: r.autovacuum!.passes.filter((p) => p.relation === 'chat_message').length,
          toast: r.autovacuum!.passes.filter((p) => p.relation === 'chat_message TOAST').length,
        }));
        const spacing = m.checkpointIntervals && cycles ? { projectedBytes: cycles.walPerCheckpointBytes, measuredBytes: Math.round(m.checkpointIntervals.walBytes / m.checkpointIntervals.intervals) } : null;
        const inBand = (b: { low: number; high: number }, v: number) => v >= b.low && v <= b.high;
        const largest = points.filter((p) => p.strategy === m.strategy && p.outcome === 'succeeded').sort((a, b) => b.sizeBytes - a.sizeBytes)[0];
        const faults =
          largest?.regime?.backendFaultsPerMB != null && m.regime?.backendFaultsPerMB != null
            ? { pointSizeBytes: largest.sizeBytes, point: largest.regime.backendFaultsPerMB, measured: m.regime.backendFaultsPerMB }
            : null;
        checks.push({
          strategy: m.strategy,
          sizeBytes: m.sizeBytes,
          projectedDurationMs: Math.round(pd.value),
          measuredDurationMs: m.durationMs,
          durationErrorPct: (100 * (pd.value - m.durationMs)) / m.durationMs,
          projectedWalBytes: Math.round(pw.value),
          measuredWalBytes: m.walBytes,
          walErrorPct: (100 * (pw.value - m.walBytes)) / m.walBytes,
          projectedFpi: Math.round(pf.value),
          measuredFpi: m.fpi,
          fpiErrorPct: m.fpi > 0 ? (100 * (pf.value - m.fpi)) / m.fpi : 0,
          withinBand: { durationMs: inBand(pd, m.durationMs), walBytes: inBand(pw, m.walBytes), fpi: inBand(pf, m.fpi) },
          crossings: regime?.crossings ?? [],
          ...(m.runs ? { measuredRuns: m.runs } : {}),
          ...(spacing ? { checkpointSpacing: spacing } : {}),
          ...(passes.length ? { autovacuumPasses: passes } : {}),
          ...(faults ? { backendFaultsPerMB: faults } : {}),
          ...atSpeedFloorOf(points, m, target, model, traces),
        });
      }
    }
    if (plan.checkProjection) extra.projectionCheck = checks;
  }
  result.extra = { ...(result.extra ?? {}), sweep: extra };
  return result;
}

/**
 * The check's duration error with the small sizes brought to the check's
 * machine speed: each point's duration times the check run's speed floor over
 * the floor of the point's own run (speed-floor.ts), fitted and projected
 * again the same way. The raw error mixes the model's miss with the machine
 * running faster or slower in one stretch of minutes than in another; this
 * one leaves the model's. Absent unless every point of the strategy and the
 * check read a floor.
 */
export function atSpeedFloorOf(points: SweepPoint[], m: SweepPoint, target: Target, model: ProjectionModel, traces: Map<string, SizedTrace> | undefined): Pick<ProjectionCheck, 'atSpeedFloor'> {
  const mine = points.filter((p) => p.strategy === m.strategy && p.outcome === 'succeeded');
  const to = m.speedFloorMs;
  if (!mine.length || !to || mine.some((p) => !p.speedFloorMs)) return {};
  const scaled = points.map((p) => (p.strategy === m.strategy && p.outcome === 'succeeded' ? { ...p, durationMs: atFloor(p.durationMs, p.speedFloorMs!, to) } : p));
  const { models, backtests } = fitsOf(scaled, [m.strategy]);
  const one = projectOne({ models, backtests, traces }, scaled, m.strategy, m.sizeBytes, target, model);
  if (!one) return {};
  return {
    atSpeedFloor: {
      measuredFloorMs: to,
      pointFloorsMs: mine.sort((a, b) => a.sizeBytes - b.sizeBytes).map((p) => p.speedFloorMs!),
      projectedDurationMs: Math.round(one.pd.value),
      durationErrorPct: (100 * (one.pd.value - m.durationMs)) / m.durationMs,
    },
  };
}

/**
 * Whether the sweep reads its points' WAL back: when it projects, on a server
 * it owns (a --database-url server keeps its WAL as it sees fit), and not in
 * a scaled regime (forced checkpoints and scaled settings are not the
 * target's; there the straight line projects).
 */
function tracing(plan: SweepPlan): boolean {
  return !!plan.projectBytes && plan.provider !== 'url' && !plan.scaleRegime;
}

/** A forced checkpoint that came this much later than asked no longer stands for the target's spacing. */
const LAG_FACTOR = 1.5;

/**
 * Forced checkpoints that could not keep up: each immediate CHECKPOINT took
 * longer than the WAL it was spaced by, so the point had fewer checkpoints
 * than the target's regime asks for. Said, per strategy, as a ratio not matched.
 */
export function checkpointLag(scaled: { checkpointEveryBytes: number | null }, points: SweepPoint[]): { ratio: string; reason: string }[] {
  const every = scaled.checkpointEveryBytes;
  if (!every) return [];
  return points
    .filter((p) => p.regime?.walPerCheckpointBytes != null && p.regime.walPerCheckpointBytes > LAG_FACTOR * every)
    .map((p) => ({
      ratio: `WAL between checkpoints / data (${p.strategy})`,
      reason: `${p.strategy}'s checkpoints could not keep up: ${p.regime!.checkpoints} came, ${formatBytes(p.regime!.walPerCheckpointBytes!)} of WAL apart, where every ${formatBytes(every)} was asked (each immediate CHECKPOINT took longer than that much WAL)`,
    }));
}

/** Each size's settings for the target's regime, or why none are scaled (null: nothing to scale to). */
function regimeScaling(plan: SweepPlan, sources: SourceSizes | null, sizes: number[], target: ReturnType<typeof targetSettings>): RegimeScaling | null {
  if (!plan.projectBytes) return null;
  const t = { sizeBytes: plan.projectBytes, ...target };
  const notScaled =
    !plan.scaleRegime
      ? 'without --scale-regime every size runs with the same settings'
      : plan.provider === 'url'
        ? 'the --database-url server is not the harness’s: its shared_buffers and max_wal_size stay as they are at every size'
        : sources
          ? 'the sizes are prefixes of one copied database on one server, started once'
          : null;
  if (notScaled) return { target: t, sizes: [], notScaled };
  return {
    target: t,
    sizes: sizes.map((size) => scaleSettings(size, t, { sharedBuffersBytes: SHARED_BUFFERS_FLOOR, maxWalSizeBytes: 2 * WAL_SEGMENT_BYTES, canForceCheckpoints: true })),
  };
}
