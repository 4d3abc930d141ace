/**
 * `harness upgrade`: a checkout's upgrade path, revision by revision, on a
 * realistic full database. Top to bottom:
 *
 * 1. A server and a template at `--from`: the checkout's own revisions run
 *    from an empty database up to `--from` (its first revision creates every
 *    table), then `chat` seeded at `--size` by the seeder and every other
 *    table by seed-tables.ts; cached like any seed. Or, with
 *    `--from-database`, a copy of the tester's database at its own stamp.
 * 2. The measured upgrade: a copy of the template, the sampler and the
 *    hot-table probes running, `alembic upgrade <to>` once; each revision's
 *    figures from Alembic's "Running upgrade" lines (revision-figures.ts).
 * 3. Resumability: another copy, the costliest revision killed half-way, a
 *    rerun; its stamp, schema and rows compared with the uninterrupted run's.
 * 4. Checks per revision (upgrade-checks.ts), into result.json's `upgrade`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { seedDatabase, type SeedSummary } from '../../seed/seeder.ts';
import { datasetKey } from '../../seed/dataset-plan.ts';
import { EnvironmentError, UsageError } from '../errors.ts';
import type { AlembicEnvShape } from '../openwebui/alembic-environment.ts';
import { CHAT_COPY_COLUMNS } from '../openwebui/schema.ts';
import { chooseProvider } from '../postgres/choose-provider.ts';
import { createOwnedDatabase, dropOwnedDatabase } from '../postgres/databases.ts';
import { closeQuietly, connect, type Client } from '../postgres/sql.ts';
import { lsnDiff } from '../measure/server-sampler.ts';
import type { StartedPostgres } from '../postgres/started-postgres.ts';
import { withClient } from '../postgres/with-client.ts';
import type { RunResult, UpgradeResult } from '../result/run-result.ts';
import { copySource, datasetResult, prepareData, prepareOnChosen, type Prepared } from '../run/prepare-data.ts';
import { cloneName, readSettings, type RunIO, type RunPlan } from '../run.ts';
import { terminateMigration } from '../run/run-attempt.ts';
import { formatBytes, formatDuration } from '../units.ts';
import type { OpenWebuiCheckout } from '../upstream/openwebui-checkout.ts';
import type { PythonInfo } from '../upstream/python-interpreter.ts';
import { startChain, type ChainOptions, type ChainOutcome } from './chain-runner.ts';
import { HotTableProbes, PathSampler } from './path-sampler.ts';
import { revisionFigures, revisionWindows, type RevisionFigures } from './revision-figures.ts';
import { seedOtherTables, type TableSeedReport } from './seed-tables.ts';
import { revisionChecks, tablesNamedIn, type ResumeOutcome, type UpgradeThresholds } from './upgrade-checks.ts';
import { baseDigest, resolveUpgradePath, type UpgradePath } from './upgrade-path.ts';

/** Bump when what the template holds changes (seed-tables.ts, the build): cached templates are then rebuilt. */
const UPGRADE_SEED_VERSION = 1;

export interface UpgradeSetup {
  checkout: OpenWebuiCheckout;
  /** Null with --from-database: the copy's stamp decides. */
  fromId: string | null;
  toId: string;
  python: PythonInfo;
  shape: AlembicEnvShape;
  shapeWhy: string;
  thresholds: UpgradeThresholds;
  /** Skip the resumability run (--no-resume-check, or `upgrade` without checks asked). */
  resumeCheck: boolean;
}

export type UpgradePlan = RunPlan & { upgrade: UpgradeSetup };

/** The migration's own backends, ended: a killed client's backend runs on (holding its locks) until it next talks to it. */
async function endMigrationBackends(server: StartedPostgres, database: string): Promise<void> {
  await terminateMigration(server, database, true).catch(() => undefined);
}

async function readStamp(c: Client): Promise<string | null> {
  const exists = (await c.query("SELECT to_regclass('public.alembic_version') IS NOT NULL AS e")).rows[0].e;
  if (!exists) return null;
  const r = await c.query<{ v: string }>('SELECT version_num AS v FROM alembic_version');
  return r.rows.map((x) => x.v).join(',') || null;
}

async function tableSizes(c: Client): Promise<Map<string, number>> {
  const r = await c.query<{ t: string; b: string }>("SELECT tablename AS t, pg_total_relation_size(format('public.%I', tablename)) AS b FROM pg_tables WHERE schemaname = 'public'");
  return new Map(r.rows.map((x) => [x.t, Number(x.b)]));
}

/** Tables, columns, indexes and constraints, one line each: what "the same schema" means. */
async function schemaLines(c: Client): Promise<Set<string>> {
  const r = await c.query<{ l: string }>(
    `SELECT format('column %s.%s %s %s default %s', table_name, column_name, data_type, is_nullable, coalesce(column_default, '-')) AS l
       FROM information_schema.columns WHERE table_schema = 'public'
     UNION ALL SELECT format('index %s', indexdef) FROM pg_indexes WHERE schemaname = 'public'
     UNION ALL SELECT format('constraint %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid)) FROM pg_constraint WHERE connamespace = 'public'::regnamespace`,
  );
  return new Set(r.rows.map((x) => x.l));
}

async function rowCounts(c: Client): Promise<Map<string, number>> {
  const tables = (await c.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version' ORDER BY 1")).rows;
  const out = new Map<string, number>();
  for (const { t } of tables) out.set(t, Number((await c.query(`SELECT count(*) AS n FROM public.${JSON.stringify(t)}`)).rows[0].n));
  return out;
}

function diffSets(want: Set<string>, got: Set<string>): string[] {
  return [...[...want].filter((l) => !got.has(l)).map((l) => `missing ${l}`), ...[...got].filter((l) => !want.has(l)).map((l) => `extra ${l}`)];
}

/** The checkout's own revisions could not build the schema (the Python's packages, most often): another server would not help. */
class SchemaBuildFailed extends EnvironmentError {}

/** `alembic upgrade <target>` with the checkout's chain, on `database`. */
function alembicUpgrade(u: UpgradeSetup, server: StartedPostgres, database: string, target: string, more: Pick<ChainOptions, 'onStart' | 'onLine'> = {}) {
  return startChain({ python: u.python.executable, versionsDir: u.checkout.versionsDir, shape: u.shape, target, databaseUrl: server.url(database), ...more });
}

/** The template at `from`: the checkout's revisions up to it, then every table seeded. */
async function buildTemplate(plan: UpgradePlan, path_: UpgradePath, server: StartedPostgres, template: string, io: RunIO): Promise<SeedSummary> {
  const u = plan.upgrade;
  const complete = await withClient(server, template, 'seed', async (c) => {
    const has = (await c.query("SELECT to_regclass('harness.dataset') IS NOT NULL AS e")).rows[0].e;
    return has && (await c.query("SELECT 1 FROM harness.dataset WHERE state = 'complete'")).rowCount === 1;
  });
  if (!complete) {
    io.log(`building the schema at ${path_.from.id}: the checkout's ${path_.base.length} revisions up to it, run by Alembic on an empty database`);
    const run = await alembicUpgrade(u, server, template, path_.from.id);
    const out = await run.done;
    if (out.code !== 0) {
      const hint = /clear_cache|has no attribute/.test(out.stderrTail) ? ` (the checkout pins SQLAlchemy ${u.checkout.pins.sqlalchemy ?? '2.x'}; this Python has ${u.python.sqlalchemy}: give --python an interpreter with the pinned versions)` : '';
      throw new SchemaBuildFailed(`building the schema at ${path_.from.id} failed: ${out.error ?? `alembic exited ${out.code ?? out.signal}`}${hint}`);
    }
  }
  const cols = await withClient(server, template, 'seed', async (c) =>
    (await c.query<{ c: string }>("SELECT column_name AS c FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'chat'")).rows.map((r) => r.c),
  );
  const missing = CHAT_COPY_COLUMNS.filter((c) => !cols.includes(c));
  if (missing.length) throw new UsageError(`--from ${path_.from.id}: the chat table there lacks ${missing.join(', ')}; the seeder writes chat as Open WebUI has it from revision 242a2047eae0 on: give a later --from`);
  const summary = await seedDatabase({ server, database: template, dataset: plan.dataset, streams: plan.seedStreams, existingSchema: true, onProgress: io.onSeedProgress });
  await withClient(server, template, 'seed', async (c) => {
    await c.query('CREATE TABLE IF NOT EXISTS harness.upgrade_tables (report jsonb NOT NULL)');
    if ((await c.query('SELECT 1 FROM harness.upgrade_tables')).rowCount) return;
    io.log('seeding every other table in Open WebUI’s proportions');
    const report = await seedOtherTables(c, { seed: plan.dataset.seed, onProgress: (t, i, n) => io.debug?.(`seeding ${t} (${i}/${n})`) });
    await c.query('INSERT INTO harness.upgrade_tables (report) VALUES ($1)', [JSON.stringify(report)]);
    await c.query('VACUUM (FREEZE, ANALYZE)');
    await c.query('CHECKPOINT');
  });
  return summary;
}

export async function runUpgrade(plan: UpgradePlan, io: RunIO, result: RunResult): Promise<RunResult> {
  const u = plan.upgrade;
  const stage = (name: string) => {
    result.stoppedAt = name;
    io.onStage?.(result, name);
  };

  // 1. The server and the template at --from.
  stage('provisioning');
  const chosen = await chooseProvider(plan.provider, plan.databaseUrl);
  io.log(`PostgreSQL provider: ${chosen.provider} (${chosen.why})`);
  let server: StartedPostgres;
  let template: string;
  let summary: SeedSummary | null = null;
  let reused: Prepared['reused'] = 'no';
  let dispose: (() => Promise<void>) | undefined;
  let upgradePath: UpgradePath;
  if (plan.source) {
    const copied = await copySource({ provider: chosen.provider, databaseUrl: plan.databaseUrl, settings: plan.settings, dataset: plan.dataset, seedStreams: plan.seedStreams, cacheDir: null, fresh: false, registry: io.registry, log: io.log, source: plan.source, onServer: io.onServer }, 'any-revision');
    ({ server, copy: template, dispose } = copied);
    const stamp = await withClient(server, template, 'admin', readStamp);
    if (!stamp) {
      await dispose();
      throw new UsageError(`${plan.source.dump ? '--from-dump' : '--from-database'} ${copied.name}: it has no alembic_version stamp; the upgrade starts from the revision a database is stamped at`);
    }
    io.log(`${copied.name} is stamped at ${stamp}`);
    try {
      upgradePath = resolveUpgradePath(u.checkout, stamp, u.toId);
    } catch (err) {
      await dispose();
      throw err;
    }
  } else {
    upgradePath = resolveUpgradePath(u.checkout, u.fromId!, u.toId);
    const key = `${datasetKey(plan.dataset)}_u${UPGRADE_SEED_VERSION}${await baseDigest(upgradePath)}`;
    const prepareWith = (provider: typeof chosen.provider) =>
      prepareData({
        provider,
        databaseUrl: plan.databaseUrl,
        force: plan.force,
        settings: plan.settings,
        dataset: plan.dataset,
        seedStreams: plan.seedStreams,
        cacheDir: plan.cacheDir,
        fresh: plan.fresh,
        registry: io.registry,
        log: io.log,
        onSeedProgress: (p) => {
          if (result.stoppedAt !== 'seeding') stage('seeding');
          io.onSeedProgress?.(p);
        },
        onServer: io.onServer,
        build: { key, seed: (s, t) => buildTemplate(plan, upgradePath, s, t, io) },
      });
    ({ server, template, summary, reused } = await prepareOnChosen(plan.provider, chosen.provider, prepareWith, io.warn, (err) => err instanceof EnvironmentError && !(err instanceof SchemaBuildFailed)));
  }
  result.postgres = {
    provider: server.provider,
    version: server.version,
    description: server.describe(),
    settings: await readSettings(server, Object.keys(plan.settings)),
    requested: plan.settings,
  };
  if (summary) result.dataset = datasetResult(summary, reused, null);
  const seeded = await withClient(server, template, 'admin', async (c) =>
    (await c.query("SELECT to_regclass('harness.upgrade_tables') IS NOT NULL AS e")).rows[0].e
      ? ((await c.query<{ report: string }>('SELECT report::text AS report FROM harness.upgrade_tables')).rows.map((r) => JSON.parse(r.report) as TableSeedReport[])[0] ?? [])
      : [],
  );
  io.log(
    `upgrade path ${upgradePath.from.id} -> ${upgradePath.to.id}: ${upgradePath.revisions.length} revisions, Alembic environment ${u.shape} (${u.shapeWhy})` +
      (summary ? `; chat table ${formatBytes(summary.chatTableBytes)}${reused === 'no' ? '' : ` (reused from the ${reused})`}` : ''),
  );

  const keepDbs: string[] = [];
  const dropLater: string[] = [];
  try {
    // 2. The measured upgrade.
    stage('upgrade');
    const measuredDb = cloneName(plan.runId, 'upgrade');
    await withClient(server, server.maintenanceDatabase, 'admin', (a) => createOwnedDatabase(a, measuredDb, { template, note: 'upgrade path' }));
    (plan.keep ? keepDbs : dropLater).push(measuredDb);
    const measured = await measuredUpgrade(plan, upgradePath, server, measuredDb, io);
    const byId = new Map(upgradePath.revisions.map((r) => [r.id, r]));
    const known = [...new Set([...measured.sizesBefore.keys(), ...measured.sizesAfter.keys()])];
    const touchedOf = async (f: RevisionFigures) => {
      const file = byId.get(f.id)?.file;
      const named = file ? tablesNamedIn(await readFile(file, 'utf8'), known) : [];
      // The stamp's table is every revision's; it is not data the revision works on.
      const tables = [...new Set([...named, ...Object.keys(f.locks)])].filter((t) => known.includes(t) && t !== 'alembic_version').sort();
      return tables.map((t) => ({ table: t, bytes: Math.max(measured.sizesBefore.get(t) ?? 0, measured.sizesAfter.get(t) ?? 0) }));
    };

    // 3. Resumability: the costliest revision killed half-way, then a rerun.
    let resume: ResumeOutcome | null = null;
    const costliest = [...measured.figures].sort((a, b) => b.durationMs - a.durationMs)[0];
    const tooShort = costliest && costliest.durationMs < u.thresholds.judgeFromMs;
    if (u.resumeCheck && measured.outcome.code !== 0) result.warnings.push('resumability not checked: the upgrade itself failed');
    else if (u.resumeCheck && tooShort)
      result.warnings.push(`resumability not checked: the costliest revision, ${costliest.id}, took ${formatDuration(costliest.durationMs)}, too short to kill half-way`);
    if (u.resumeCheck && measured.outcome.code === 0 && costliest && !tooShort && !io.signal.aborted) {
      stage('resume check');
      const resumeDb = cloneName(plan.runId, 'resume');
      await withClient(server, server.maintenanceDatabase, 'admin', (a) => createOwnedDatabase(a, resumeDb, { template, note: 'upgrade path, resumability' }));
      (plan.keep ? keepDbs : dropLater).push(resumeDb);
      resume = await resumeCheck(plan, upgradePath, server, resumeDb, measuredDb, costliest, io);
    }

    // 4. Checks and the result.
    const expectedStamp = upgradePath.to.id;
    const revisions: UpgradeResult['revisions'] = [];
    for (const f of measured.figures) {
      const touched = await touchedOf(f);
      const touchedBytes = touched.reduce((a, t) => a + t.bytes, 0);
      revisions.push({
        ...f,
        file: byId.get(f.id) ? path.basename(byId.get(f.id)!.file) : null,
        touched,
        touchedBytes,
        checks: revisionChecks(f, touchedBytes, u.thresholds, resume, measured.stamp),
      });
    }
    // Revisions of the path that never started (the upgrade failed before them).
    const started = new Set(measured.figures.map((f) => f.id));
    const notRun = upgradePath.revisions.filter((r) => !started.has(r.id)).map((r) => r.id);
    result.upgrade = {
      checkout: u.checkout.given,
      commit: u.checkout.commit,
      from: upgradePath.from.id,
      to: upgradePath.to.id,
      target: upgradePath.target,
      fromDatabase: plan.source?.database ?? plan.source?.dump ?? null,
      shape: u.shape,
      shapeWhy: u.shapeWhy,
      python: { executable: u.python.executable, version: u.python.python, source: u.python.source, alembic: u.python.alembic, sqlalchemy: u.python.sqlalchemy, psycopg2: u.python.psycopg2 },
      outcome: measured.outcome.code === 0 && measured.stamp === expectedStamp ? 'succeeded' : 'failed',
      error: measured.outcome.code === 0 ? (measured.stamp === expectedStamp ? null : `finished without the stamp ${expectedStamp} (found ${measured.stamp ?? 'none'})`) : (measured.outcome.error ?? `alembic exited ${measured.outcome.code ?? measured.outcome.signal}`),
      stamp: measured.stamp,
      durationMs: measured.durationMs,
      totals: {
        walBytes: measured.walBytes,
        fpi: measured.fpi,
        checkpoints: measured.checkpoints,
        peakRssBytes: Math.max(0, ...measured.figures.map((f) => f.peakRssBytes)),
        longestBlockedWrite: measured.longestWrite,
      },
      notRun,
      tables: [...measured.sizesBefore.keys(), ...[...measured.sizesAfter.keys()].filter((t) => !measured.sizesBefore.has(t))].sort().map((t) => {
        const s = seeded.find((x) => x.table === t);
        return {
          name: t,
          bytesBefore: measured.sizesBefore.get(t) ?? null,
          bytesAfter: measured.sizesAfter.get(t) ?? null,
          seeded: t === 'chat' && summary ? 'chat seeder' : (s?.how ?? null),
          rows: t === 'chat' && summary ? summary.chats : (s?.rows ?? null),
          genericColumns: s?.genericColumns ?? [],
        };
      }),
      revisions,
      resume,
      thresholds: u.thresholds,
      timeline: measured.timeline,
      blockedWrites: measured.blockedWrites,
    };
    result.status = 'complete';
    result.stoppedAt = null;
    result.finishedAt = new Date().toISOString();
    for (const db of keepDbs) io.log(`kept ${db}: psql '${server.owned ? server.url(db) : server.redactedUrl(db)}'`);
    return result;
  } finally {
    await withClient(server, server.maintenanceDatabase, 'admin', async (a) => {
      for (const db of dropLater) await dropOwnedDatabase(a, db).catch(() => undefined);
    }).catch(() => undefined);
    if (dispose && !plan.keep) await dispose().catch(() => undefined);
  }
}

interface Measured {
  outcome: ChainOutcome;
  stamp: string | null;
  durationMs: number;
  figures: RevisionFigures[];
  walBytes: number;
  fpi: number;
  checkpoints: number;
  longestWrite: { table: string; ms: number } | null;
  sizesBefore: Map<string, number>;
  sizesAfter: Map<string, number>;
  timeline: UpgradeResult['timeline'];
  blockedWrites: UpgradeResult['blockedWrites'];
}

/** How often a long revision's progress is reported. */
const HEARTBEAT_MS = 10_000;

/** Writes shorter than this are not kept in result.json's list (they are in the figures). */
const KEEP_WRITE_FROM_MS = 100;

async function measuredUpgrade(plan: UpgradePlan, p: UpgradePath, server: StartedPostgres, db: string, io: RunIO): Promise<Measured> {
  const u = plan.upgrade;
  const sizesBefore = await withClient(server, db, 'admin', tableSizes);
  const t0 = Date.now();
  const clock = () => Date.now() - t0;
  let rss: () => Promise<number> = async () => 0;
  const sampler = new PathSampler({ server, database: db, intervalMs: plan.measure.sampleIntervalMs, clock, rss: () => rss() });
  const probes = new HotTableProbes({ server, database: db, intervalMs: plan.measure.probeIntervalMs, clock });
  await sampler.begin();
  if (plan.measure.probe) await probes.begin();
  io.log(`alembic upgrade ${p.target}: ${p.revisions.length} revisions from ${p.from.id}`);
  let current: { id: string; atMs: number } | null = null;
  // A revision can run for an hour: say what it is doing every so often.
  const heartbeat = setInterval(() => {
    if (!current || clock() - current.atMs < HEARTBEAT_MS) return;
    const from = sampler.samples.find((x) => x.boundary === current!.id);
    const last = sampler.samples[sampler.samples.length - 1];
    const wal = from && last ? `, ${formatBytes(last.walBytes - from.walBytes)} of WAL` : '';
    const w = probes.waiting();
    io.log(`  … ${current.id} running for ${formatDuration(clock() - current.atMs)}${wal}${w && w.ms >= 1000 ? `, a write to ${w.table} waiting ${formatDuration(w.ms)}` : ''}`);
  }, HEARTBEAT_MS);
  const run = await alembicUpgrade(u, server, db, p.target, {
    onStart: (s) => {
      void sampler.mark(s.to);
      current = { id: s.to, atMs: clock() };
      io.log(`  ${formatDuration(clock())}  ${s.to}: ${s.message}`);
    },
    onLine: (l) => io.debug?.(l),
  });
  rss = run.rss;
  const abort = () => run.kill();
  io.signal.addEventListener('abort', abort, { once: true });
  let outcome: ChainOutcome;
  try {
    outcome = await run.done;
  } finally {
    io.signal.removeEventListener('abort', abort);
    clearInterval(heartbeat);
  }
  const endMs = outcome.endedAtMs - t0;
  await endMigrationBackends(server, db);
  await probes.end();
  await sampler.end();
  const stamp = await withClient(server, db, 'admin', readStamp);
  const sizesAfter = await withClient(server, db, 'admin', tableSizes);
  const windows = revisionWindows(
    outcome.starts.map((s) => ({ ...s, atMs: s.atMs - t0 })),
    endMs,
  );
  const samples = [...sampler.samples].sort((a, b) => a.tMs - b.tMs);
  const figures = revisionFigures(windows, samples, probes.writes);
  const last = samples[samples.length - 1];
  const writes = probes.writes.filter((w) => !w.error);
  const longest = writes.reduce<{ table: string; ms: number } | null>((a, w) => (!a || w.latencyMs > a.ms ? { table: w.table, ms: w.latencyMs } : a), null);
  io.log(
    `upgrade ${outcome.code === 0 ? 'finished' : 'failed'} in ${formatDuration(endMs)}; stamp ${stamp ?? 'none'}` + (outcome.code === 0 ? '' : `: ${outcome.error ?? `exit ${outcome.code ?? outcome.signal}`}`),
  );
  return {
    outcome,
    stamp,
    durationMs: windows.length ? endMs - windows[0].startMs : endMs,
    figures,
    walBytes: last?.walBytes ?? 0,
    fpi: last?.fpi ?? 0,
    checkpoints: last?.checkpoints ?? 0,
    longestWrite: longest,
    sizesBefore,
    sizesAfter,
    timeline: samples.map((s) => ({ tMs: s.tMs, walBytes: s.walBytes, fpi: s.fpi, rssBytes: s.rssBytes })),
    blockedWrites: writes.filter((w) => w.latencyMs >= KEEP_WRITE_FROM_MS).map((w) => ({ table: w.table, startMs: w.startMs, latencyMs: w.latencyMs, unfinished: w.unfinished })),
  };
}

/** How often the resumability run reads the WAL position while the revision it will kill runs. */
const KILL_POLL_MS = 100;

/**
 * Half-way is measured in WAL when the revision writes enough of it (the
 * same work at any speed: this machine's timing varies by 2x between runs),
 * else in time.
 */
async function resumeCheck(plan: UpgradePlan, p: UpgradePath, server: StartedPostgres, db: string, referenceDb: string, costliest: RevisionFigures, io: RunIO): Promise<ResumeOutcome> {
  const u = plan.upgrade;
  const byWal = costliest.walBytes >= u.thresholds.judgeWalFromBytes;
  const halfWal = Math.round(costliest.walBytes / 2);
  const halfTime = Math.max(1, Math.round(costliest.durationMs / 2));
  io.log(
    `resumability: the same upgrade on a fresh copy, killed half-way through ${costliest.id} (its costliest revision: ` +
      `${byWal ? `after ${formatBytes(halfWal)} of its WAL` : `after ${formatDuration(halfTime)}`}), then run again`,
  );
  let killedAtMs: number | null = null;
  let startedAt: number | null = null;
  let endedAt: number | null = null;
  let watch: NodeJS.Timeout | undefined;
  let killedInside = false;
  const watcher = await connect(server, db, 'resume-watch');
  try {
    const lsn = async () => (await watcher.query<{ l: string }>('SELECT pg_current_wal_insert_lsn()::text AS l')).rows[0].l;
    const kill = () => {
      if (killedAtMs !== null) return;
      killedAtMs = Date.now();
      first.kill();
    };
    const first = await alembicUpgrade(u, server, db, p.target, {
      onStart: (s) => {
        if (startedAt !== null && endedAt === null) endedAt = Date.now();
        if (s.to !== costliest.id) return;
        startedAt = Date.now();
        if (!byWal) {
          watch = setTimeout(kill, halfTime);
          return;
        }
        void lsn().then((from) => {
          let busy = false;
          watch = setInterval(() => {
            if (busy || killedAtMs !== null) return;
            busy = true;
            void lsn()
              .then((now) => lsnDiff(now, from) >= halfWal && kill())
              .catch(() => undefined)
              .finally(() => (busy = false));
          }, KILL_POLL_MS);
        });
      },
    });
    const out1 = await first.done;
    clearTimeout(watch);
    clearInterval(watch);
    killedInside = killedAtMs !== null && startedAt !== null && (endedAt === null || killedAtMs < endedAt) && out1.code !== 0;
  } finally {
    await closeQuietly(watcher);
  }
  await endMigrationBackends(server, db);
  if (!killedInside) io.warn(`resumability: ${costliest.id} ended before the kill came; the check reports it`);
  const second = await alembicUpgrade(u, server, db, p.target);
  const out2 = await second.done;
  await endMigrationBackends(server, db);
  const [stamp, schemaGot, rowsGot] = await withClient(server, db, 'admin', async (c) => [await readStamp(c), await schemaLines(c), await rowCounts(c)] as const);
  const [schemaWant, rowsWant] = await withClient(server, referenceDb, 'admin', async (c) => [await schemaLines(c), await rowCounts(c)] as const);
  const rowDifferences: string[] = [];
  for (const [t, n] of rowsWant) if ((rowsGot.get(t) ?? 0) !== n) rowDifferences.push(`${t}: ${rowsGot.get(t) ?? 'no table'} rows, uninterrupted ${n}`);
  const outcome: ResumeOutcome = {
    revision: costliest.id,
    killedAfterMs: killedAtMs !== null && startedAt !== null ? killedAtMs - startedAt : halfTime,
    killedInside,
    rerunExit: out2.code,
    rerunError: out2.code === 0 ? null : (out2.error ?? `exit ${out2.code ?? out2.signal}`),
    stamp,
    schemaDifferences: diffSets(schemaWant, schemaGot),
    rowDifferences,
  };
  io.log(`resumability: rerun ${out2.code === 0 ? 'finished' : `failed (${outcome.rerunError})`}; stamp ${stamp ?? 'none'}; ${outcome.schemaDifferences.length} schema and ${rowDifferences.length} row differences`);
  return outcome;
}
