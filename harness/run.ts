/**
 * One run, top to bottom: provision PostgreSQL and the seeded template →
 * record what the server reports → calibrate a relative deadline → for each
 * strategy: clone, measure, run under faults, verify → the result as data.
 * The caller writes the reports; an interrupted run's partial result says
 * where it stopped (`stoppedAt`).
 */
import os from 'node:os';
import type { DatasetSpec } from '../seed/dataset-plan.ts';
import type { SeedProgress } from '../seed/seeder.ts';
import { describeFaults, type FaultSpec } from './faults/fault-spec.ts';
import type { OwnedRegistry } from './lifecycle/owned-registry.ts';
import { chooseProvider, type ProviderChoice } from './postgres/choose-provider.ts';
import { createOwnedDatabase, dropOwnedDatabase } from './postgres/databases.ts';
import type { ServerSettings, StartedPostgres } from './postgres/started-postgres.ts';
import { withClient } from './postgres/with-client.ts';
import type { RunResult, Sample, UpstreamResult } from './result/run-result.ts';
import { SCHEMA_VERSION } from './result/run-result.ts';
import { datasetResult, prepareData, prepareOnChosen } from './run/prepare-data.ts';
import { runStrategy, type MeasureOptions, type StrategyPart, type StrategyRunOptions } from './run/run-strategy.ts';
import { strategyContext } from './run/strategy-context.ts';
import { environmentFor, modelled, type EnvironmentChoice } from './run/strategy-environment.ts';
import { runInChildProcess } from './run/strategy-process.ts';
import type { Scenario } from './scenario/scenario-schema.ts';
import { strategyByName } from './strategies/strategy-registry.ts';
import { sequenceNames, sequenceStrategy } from './strategies/strategy-sequence.ts';
import type { StrategyOptions, UpstreamSetup } from './strategies/strategy.ts';
import { upstreamStrategy } from './strategies/upstream.ts';
import { formatDuration } from './units.ts';
import { HARNESS_VERSION } from './version.ts';

export interface RunPlan {
  kind: RunResult['kind'];
  runId: string;
  /** The command line, passwords redacted. */
  command: string;
  scenario: Scenario;
  provider: ProviderChoice;
  databaseUrl?: string;
  settings: ServerSettings;
  dataset: DatasetSpec;
  seedStreams: number;
  strategies: string[];
  strategyOptions: StrategyOptions;
  faults: FaultSpec;
  calibrationStrategy: string;
  /** Share of the backfill the calibration runs before extrapolating (1: all of it). */
  calibrationSample?: number;
  measure: MeasureOptions;
  cacheDir: string | null;
  fresh: boolean;
  keep: boolean;
  /** See --force. */
  force?: boolean;
  /** Bring your own data (--from-database / --from-dump). */
  source?: { database?: string; dump?: string; copyMode: 'template' | 'dump' };
  /** Stop after seeding (the `seed` command). */
  seedOnly?: boolean;
  /**
   * After the strategies, run each again killed at this fraction of the rows
   * with one restart (the gate's resumability check); reported as `<name>:resume`.
   */
  resumeCheckAt?: number;
  /** Which strategies get the resumability check (default: all). */
  resumeCheckStrategies?: string[];
  /** The Alembic environment asked for (flags) and the checkout's own. */
  environment?: EnvironmentChoice;
  /**
   * Strategies the scenario names with a label of their own (`as`), or runs
   * in an Alembic environment of its choosing: by label (the name in
   * `strategies`). The flags' environment overrides theirs.
   */
  strategyEntries?: Record<string, { strategy: string; environment?: Pick<EnvironmentChoice, 'shape' | 'target' | 'shapeWhy'> }>;
  /** `--openwebui`: what `upstream` runs, and the port its file stands for. */
  upstream?: { setup: UpstreamSetup; result: UpstreamResult };
}

export interface RunIO {
  log: (line: string) => void;
  /** Lines only --verbose shows (a strategy's own log, e.g. each failing message). */
  debug?: (line: string) => void;
  warn: (line: string) => void;
  signal: AbortSignal;
  registry?: OwnedRegistry;
  onSeedProgress?: (p: SeedProgress) => void;
  onSample?: (strategy: string, s: Sample) => void;
  /** The result so far, after each stage (for a partial result.json on interruption). */
  onStage?: (result: RunResult, stage: string) => void;
  /** The server once it is up (the caller keeps it running with --keep). */
  onServer?: (s: StartedPostgres) => void;
  /**
   * After the strategies, with each one's database still there (by strategy
   * name): `fidelity` compares them. They are dropped afterwards unless --keep.
   */
  onStrategiesDone?: (server: StartedPostgres, databases: Map<string, string>) => Promise<void>;
}

/** How one strategy of a sequence, or a strategy alone, runs: what runStrategy needs of it. */
function resolveOne(plan: Pick<RunPlan, 'strategyOptions' | 'upstream'>, name: string, choice: EnvironmentChoice): StrategyPart & { upstream?: UpstreamResult } {
  const registered = strategyByName(name);
  if (!registered) throw new Error(`no strategy named ${name}`);
  const port = plan.upstream?.result.port ? strategyByName(plan.upstream.result.port) : undefined;
  const strategy = name === 'upstream' ? upstreamStrategy(port) : registered;
  const alembic = environmentFor(strategy, choice);
  const strategyOptions: StrategyOptions = { ...plan.strategyOptions, alembic: modelled(alembic), ...(name === 'upstream' && plan.upstream ? { upstream: plan.upstream.setup } : {}) };
  return { strategy, strategyOptions, alembic, upstream: name === 'upstream' ? plan.upstream?.result : undefined };
}

/**
 * A strategy as this run runs it, by its label in the plan: `upstream` with
 * its checkout, each in its Alembic environment (the flags', else the
 * scenario's for it, else the one it shipped with); a sequence (`a>b`) as
 * one strategy whose parts run one per start.
 */
export function resolveStrategy(plan: Pick<RunPlan, 'strategyOptions' | 'environment' | 'upstream' | 'strategyEntries'>, label: string) {
  const entry = plan.strategyEntries?.[label];
  const flags = plan.environment ?? {};
  const choice: EnvironmentChoice = {
    ...flags,
    shape: flags.shape ?? entry?.environment?.shape,
    target: flags.target ?? entry?.environment?.target,
    ...(flags.shape ? {} : entry?.environment?.shapeWhy ? { shapeWhy: entry.environment.shapeWhy } : {}),
  };
  const name = entry?.strategy ?? label;
  const names = sequenceNames(name);
  if (!names) {
    const one = resolveOne(plan, name, choice);
    return { strategy: one.strategy, options: one.strategyOptions, alembic: one.alembic, upstream: one.upstream, parts: undefined };
  }
  const parts = names.map((n) => resolveOne(plan, n, choice));
  const last = parts[parts.length - 1];
  return { strategy: sequenceStrategy(parts.map((p) => p.strategy)), options: parts[0].strategyOptions, alembic: last.alembic, upstream: undefined, parts };
}

/** Settings recorded in every result, as the server reports them. */
export const REPORTED_SETTINGS = [
  'max_wal_size',
  'min_wal_size',
  'wal_level',
  'shared_buffers',
  'checkpoint_timeout',
  'checkpoint_completion_target',
  'log_checkpoints',
  'full_page_writes',
  'wal_compression',
  'fsync',
  'synchronous_commit',
  'autovacuum',
  'maintenance_work_mem',
  'work_mem',
  'max_replication_slots',
  'wal_segment_size',
  'data_checksums',
  'lc_collate',
  'default_toast_compression',
];

export function newResult(plan: RunPlan): RunResult {
  return {
    schemaVersion: SCHEMA_VERSION,
    runId: plan.runId,
    command: plan.command,
    kind: plan.kind,
    startedAt: new Date().toISOString(),
    finishedAt: null,
    status: 'interrupted',
    stoppedAt: 'starting',
    error: null,
    scenario: { name: plan.scenario.name, description: plan.scenario.description },
    harness: { version: HARNESS_VERSION, node: process.version, platform: `${os.platform()}-${os.arch()}`, cpus: os.cpus().length, memoryBytes: os.totalmem() },
    postgres: { provider: plan.provider, version: '', description: '', settings: {}, requested: plan.settings },
    dataset: null,
    faults: null,
    strategies: [],
    warnings: [],
  };
}

export async function readSettings(server: StartedPostgres, extra: string[]): Promise<Record<string, string>> {
  const names = [...new Set([...REPORTED_SETTINGS, ...extra])];
  const r = await withClient(server, server.maintenanceDatabase, 'settings', (c) =>
    c.query<{ name: string; v: string }>("SELECT name, current_setting(name) AS v FROM pg_settings WHERE name = ANY($1) ORDER BY name", [names]),
  );
  return Object.fromEntries(r.rows.map((x) => [x.name, x.v]));
}

/** The database a run's copy of the template for `label` is called. */
export function cloneName(runId: string, label: string): string {
  return `owui_run_${runId}_${label}`.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 63);
}

export async function runScenario(plan: RunPlan, io: RunIO, result: RunResult = newResult(plan)): Promise<RunResult> {
  const stage = (name: string) => {
    result.stoppedAt = name;
    io.onStage?.(result, name);
  };

  // 1. PostgreSQL and the seeded template.
  stage('provisioning');
  const chosen = await chooseProvider(plan.provider, plan.databaseUrl);
  io.log(`PostgreSQL provider: ${chosen.provider} (${chosen.why})`);
  const prepareWith = (provider: typeof chosen.provider) =>
    prepareData({
      provider,
      databaseUrl: plan.databaseUrl,
      force: plan.force,
      source: plan.source,
      settings: plan.settings,
      dataset: plan.dataset,
      seedStreams: plan.seedStreams,
      cacheDir: plan.cacheDir,
      fresh: plan.fresh,
      registry: io.registry,
      walTmpfsBytes: plan.faults.walTmpfs ? plan.faults.walLimitBytes : undefined,
      log: io.log,
      onSeedProgress: (p) => {
        if (result.stoppedAt !== 'seeding') stage('seeding');
        io.onSeedProgress?.(p);
      },
      onServer: io.onServer,
    });
  const prepared = await prepareOnChosen(plan.provider, chosen.provider, prepareWith, io.warn);
  const { server, template, summary } = prepared;
  result.postgres = {
    provider: server.provider,
    version: server.version,
    description: server.describe(),
    settings: await readSettings(server, Object.keys(plan.settings)),
    requested: plan.settings,
  };
  if (server.provider === 'url') {
    for (const [k, v] of Object.entries(plan.settings)) {
      if (result.postgres.settings[k] !== undefined && normalize(result.postgres.settings[k]) !== normalize(v))
        result.warnings.push(`${k} is ${result.postgres.settings[k]} on this server, not the scenario's ${v} (the harness does not change a server it does not own)`);
    }
  }
  result.dataset = datasetResult(summary, prepared.reused, prepared.source?.name ?? null);
  if (prepared.source) result.extra = { ...(result.extra ?? {}), source: prepared.source.report };
  io.log(
    `dataset ${summary.key}: ${summary.chats} chats, ${summary.expectedRows} expected rows, chat table ${(summary.chatTableBytes / 1048576).toFixed(0)} MB` +
      (prepared.reused === 'no' ? `, seeded in ${summary.seedSeconds.toFixed(1)} s` : ` (reused from the ${prepared.reused})`),
  );
  if (plan.seedOnly) {
    result.status = 'complete';
    result.stoppedAt = null;
    result.finishedAt = new Date().toISOString();
    return result;
  }

  // 2. A deadline relative to this machine's speed needs one uninterrupted backfill first.
  let deadlineMs: number | null = plan.faults.deadline?.kind === 'fixed' ? plan.faults.deadline.ms : null;
  let calibration: { strategy: string; durationMs: number } | null = null;
  if (plan.faults.deadline?.kind === 'relative') {
    stage('calibrating');
    const calibrated = await calibrate(server, template, plan, io, summary.expectedRows);
    calibration = { strategy: calibrated.strategy, durationMs: calibrated.durationMs };
    deadlineMs = Math.round(plan.faults.deadline.factor * calibration.durationMs);
    io.log(
      `calibration: one uninterrupted ${calibration.strategy} backfill takes ${formatDuration(calibration.durationMs)} here` +
        `${calibrated.sample < 1 ? ` (extrapolated from its first ${Math.round(calibrated.sample * 100)}%)` : ''}` +
        `${deadlineMs !== null ? `; deadline per attempt ${formatDuration(deadlineMs)}` : ''}`,
    );
  }
  result.faults = { description: describeFaults(plan.faults, deadlineMs), deadlineMs, restarts: plan.faults.restarts, calibration };

  // 3. Each strategy on its own copy of the template (named after `label` in the results).
  const compare = io.onStrategiesDone;
  const databases = new Map<string, string>();
  const runOnClone = async (name: string, label: string, change: Partial<StrategyRunOptions> = {}) => {
    const { strategy, options, alembic, upstream, parts } = resolveStrategy(plan, name);
    databases.set(label, cloneName(plan.runId, label));
    const r = await runStrategy({
      server,
      template,
      database: cloneName(plan.runId, label),
      strategy,
      strategyOptions: options,
      alembic,
      upstream,
      parts,
      label,
      faults: plan.faults,
      deadlineMs,
      expectedRows: summary.expectedRows,
      measure: plan.measure,
      keep: plan.keep,
      signal: io.signal,
      log: io.log,
      debug: io.debug,
      registry: io.registry,
      onSample: (s) => io.onSample?.(label, s),
      ...(compare ? { keep: true } : {}),
      ...change,
    });
    r.name = label;
    return r;
  };
  for (const name of plan.strategies) {
    stage(`strategy ${name}`);
    const { strategy, alembic, parts } = resolveStrategy(plan, name);
    const envOf = (e: typeof alembic) => (e ? `${e.shape}, upgrading to ${e.target === 'head' ? 'head' : 'this revision'}` : 'its own');
    const environment = parts ? parts.map((p) => `${p.strategy.name}: ${envOf(p.alembic)}`).join('; ') : alembic ? envOf(alembic) : null;
    io.log(`${name}: ${strategy.summary}${environment ? ` (Alembic environment: ${environment})` : ''}`);
    const r = await runOnClone(name, name);
    result.strategies.push(r);
    for (const w of r.warnings) result.warnings.push(`${name}: ${w}`);
    if (io.signal.aborted) break;
  }
  // 4. The gate's resumability check: killed half-way, then rerun.
  if (plan.resumeCheckAt !== undefined && !io.signal.aborted) {
    for (const name of plan.resumeCheckStrategies ?? plan.strategies) {
      const label = `${name}:resume`;
      stage(`strategy ${label}`);
      const r = await runOnClone(name, label, {
        faults: { ...plan.faults, deadline: undefined, killAt: plan.resumeCheckAt, crashAt: undefined, restarts: Math.max(1, plan.faults.restarts) },
        deadlineMs: null,
        measure: { ...plan.measure, probe: false },
        keep: false,
      });
      r.name = label;
      r.summary = `${name} killed at ${plan.resumeCheckAt} of the rows, then rerun`;
      result.strategies.push(r);
      if (io.signal.aborted) break;
    }
  }
  if (compare && !io.signal.aborted) {
    stage('comparing');
    try {
      await compare(server, databases);
    } finally {
      if (!plan.keep)
        await withClient(server, server.maintenanceDatabase, 'admin', async (admin) => {
          for (const db of databases.values()) await dropOwnedDatabase(admin, db);
        });
    }
  }
  // The copy of a tester's database is the run's scratch: only the strategies' databases are kept (--keep).
  if (prepared.dispose) await prepared.dispose();
  result.status = io.signal.aborted ? 'interrupted' : 'complete';
  if (!io.signal.aborted) result.stoppedAt = null;
  result.finishedAt = new Date().toISOString();
  return result;
}

/**
 * How long one uninterrupted backfill takes on this machine: the calibration
 * strategy on a scratch copy (not measured, not reported as a strategy). With
 * `sample` below 1 it stops once that share of the expected rows is written
 * and extrapolates: only for a strategy that commits page by page (pages are
 * a uniform mix of chats, so the rate holds). One transaction is timed
 * whole: v0.8.12 reads a thousand chats before writing its first row, so its
 * early rate says little about the rest.
 */
async function calibrate(server: StartedPostgres, template: string, plan: RunPlan, io: RunIO, expectedRows: number): Promise<{ strategy: string; durationMs: number; sample: number }> {
  const { strategy, options } = resolveStrategy(plan, plan.calibrationStrategy);
  const sample = strategy.commitsInside ? (plan.calibrationSample ?? 1) : 1;
  const db = cloneName(plan.runId, `calibrate_${strategy.name}`);
  await withClient(server, server.maintenanceDatabase, 'admin', (admin) => createOwnedDatabase(admin, db, { template, note: 'calibration' }));
  const ac = new AbortController();
  const onAbort = () => ac.abort();
  io.signal.addEventListener('abort', onAbort, { once: true });
  const t0 = performance.now();
  let sampled: { ms: number; rows: number } | null = null;
  try {
    const ctx = strategyContext({
      server,
      database: db,
      progress: (rows) => {
        if (sample < 1 && !sampled && expectedRows > 0 && rows >= sample * expectedRows) {
          sampled = { ms: performance.now() - t0, rows };
          ac.abort(new Error('calibration sample reached'));
        }
      },
      signal: ac.signal,
      options,
    });
    // Timed the way measured attempts run: a port in a process of its own, a command in its own process group.
    if (strategy.runsCommand) await strategy.run(ctx);
    else await runInChildProcess(strategy.name, ctx);
  } catch (err) {
    if (!sampled) throw err;
  } finally {
    io.signal.removeEventListener('abort', onAbort);
  }
  const s = sampled as { ms: number; rows: number } | null;
  const durationMs = Math.round(s ? (s.ms * expectedRows) / s.rows : performance.now() - t0);
  await withClient(server, server.maintenanceDatabase, 'admin', async (admin) => {
    await dropOwnedDatabase(admin, db);
    // Start the measured runs from the same place: nothing dirty in shared buffers.
    await admin.query('CHECKPOINT');
  });
  return { strategy: strategy.name, durationMs, sample };
}

function normalize(v: string): string {
  return v.trim().toLowerCase();
}
