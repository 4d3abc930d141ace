/**
 * One strategy, start to finish: clone the seeded template, start the
 * samplers and the write probe, run attempts under the faults (restarting
 * as the platform would), stop measuring, verify the rows, and return the
 * figures as data.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { AttemptFailed, errorMessage } from '../errors.ts';
import type { FaultSpec } from '../faults/fault-spec.ts';
import type { OwnedRegistry } from '../lifecycle/owned-registry.ts';
import { migrationBackendsWhere } from '../measure/harness-roles.ts';
import { lsnDiff, ServerSampler, type ServerSample } from '../measure/server-sampler.ts';
import { summarizeProbe, WriteProbe } from '../measure/write-probe.ts';
import { createOwnedDatabase, dropOwnedDatabase } from '../postgres/databases.ts';
import type { Client } from '../postgres/sql.ts';
import type { StartedPostgres } from '../postgres/started-postgres.ts';
import { withClient } from '../postgres/with-client.ts';
import type { Attempt, AttemptEnd, Sample, StrategyResult } from '../result/run-result.ts';
import type { AttemptReport, PhaseName, Strategy, StrategyOptions } from '../strategies/strategy.ts';
import { verifyMigration } from '../verify/verify-migration.ts';
import { scrub, scrubReport, secretsOf } from './scrub-secrets.ts';
import { strategyContext } from './strategy-context.ts';
import { runInChildProcess } from './strategy-process.ts';

export interface MeasureOptions {
  sampleIntervalMs: number;
  probe: boolean;
  probeIntervalMs: number;
  probeLockTimeoutMs: number;
}

export interface StrategyRunOptions {
  server: StartedPostgres;
  template: string;
  /** Name of the database this strategy runs in (a clone of the template). */
  database: string;
  strategy: Strategy;
  strategyOptions: StrategyOptions;
  faults: FaultSpec;
  deadlineMs: number | null;
  expectedRows: number;
  measure: MeasureOptions;
  keep: boolean;
  signal: AbortSignal;
  log: (line: string) => void;
  /** The strategy's own log (each failing message, ...): shown with --verbose. */
  debug?: (line: string) => void;
  /** Where owned processes are recorded (for cleanup after a kill -9). */
  registry?: OwnedRegistry;
  /** Live view of the timeline (for progress output). */
  onSample?: (s: Sample) => void;
}

const REPLICATION_SLOT_PREFIX = 'owui_harness_';

async function tableExists(c: Client, name: string): Promise<boolean> {
  return (await c.query('SELECT to_regclass($1) IS NOT NULL AS e', [name])).rows[0].e as boolean;
}

async function dbState(server: StartedPostgres, database: string): Promise<{ rows: number | null; stamp: string | null }> {
  return withClient(server, database, 'verify', async (c) => {
    const rows = (await tableExists(c, 'public.chat_message')) ? Number((await c.query('SELECT count(*) AS n FROM chat_message')).rows[0].n) : null;
    const stamp = (await c.query<{ v: string }>('SELECT version_num AS v FROM alembic_version')).rows[0]?.v ?? null;
    return { rows, stamp };
  });
}

/** End the migration's connections (a platform deadline, a killed client). */
async function terminateMigration(server: StartedPostgres, database: string, external: boolean): Promise<number> {
  const r = await withClient(server, server.maintenanceDatabase, 'fault', (admin) =>
    admin.query(`SELECT pg_terminate_backend(a.pid) FROM pg_stat_activity a WHERE ${migrationBackendsWhere(external)}`, [database]),
  );
  return r.rowCount ?? 0;
}

export async function runStrategy(o: StrategyRunOptions): Promise<StrategyResult> {
  const { server, strategy, faults } = o;
  const external = strategy.name === 'external';
  const warnings: string[] = [];
  const slot = `${REPLICATION_SLOT_PREFIX}${o.database}`.slice(0, 63);
  await withClient(server, server.maintenanceDatabase, 'admin', async (admin) => {
    await createOwnedDatabase(admin, o.database, { template: o.template, note: `strategy ${strategy.name}` });
    if (faults.walRetention) {
      await admin.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [slot]);
      await admin.query('SELECT pg_create_physical_replication_slot($1, true)', [slot]);
    }
  });

  const t0 = performance.now();
  const clock = () => performance.now() - t0;
  let attemptNo = 0;
  let rowsNow = 0;
  const timeline: Sample[] = [];
  const probe = o.measure.probe
    ? new WriteProbe({ server, database: o.database, intervalMs: o.measure.probeIntervalMs, lockTimeoutMs: o.measure.probeLockTimeoutMs, clock })
    : undefined;
  let startCounters: { walBytes: number; checkpoints: number } | undefined;
  const sampler = new ServerSampler({ server, database: o.database, intervalMs: o.measure.sampleIntervalMs, external, clock });
  const startC = await sampler.begin();
  startCounters = { walBytes: 0, checkpoints: startC.checkpointsTimed + startC.checkpointsRequested };
  let seen = 0;
  const timelineTimer = setInterval(() => {
    const fresh = sampler.samples.slice(seen);
    seen = sampler.samples.length;
    for (const s of fresh) pushSample(s);
  }, o.measure.sampleIntervalMs);
  const pushSample = (s: ServerSample) => {
    const sample: Sample = {
      tMs: Math.round(s.tMs),
      attempt: attemptNo,
      walBytes: s.walSinceStart,
      rows: rowsNow,
      walDirBytes: s.walDirBytes,
      checkpoints: s.checkpointsTimed + s.checkpointsRequested - startCounters!.checkpoints,
      txAgeMs: s.txAgeMs === null ? null : Math.round(s.txAgeMs),
      probeMs: probe ? roundOrNull(probe.currentLatencyMs()) : null,
    };
    timeline.push(sample);
    o.onSample?.(sample);
  };
  await probe?.begin();

  const attempts: Attempt[] = [];
  const phaseTotals = new Map<string, number>();
  const failures: { id: string; reason: string }[] = [];
  let lastReport: AttemptReport | undefined;
  let killDone = false;
  let crashDone = false;
  let keptBefore = 0;
  let rowsLost = 0;
  let childPeak: number | null = null;
  let clientPeak: number | null = null;
  const wallStart: number[] = [];
  const wallEnd: number[] = [];

  for (let n = 1; n <= faults.restarts + 1; n++) {
    attemptNo = n;
    rowsNow = 0;
    const ac = new AbortController();
    const onRunAbort = () => void endAttempt('interrupted');
    o.signal.addEventListener('abort', onRunAbort, { once: true });
    let faultEnd: AttemptEnd | null = null;
    let crashing: Promise<void> | undefined;
    let phaseName: string | null = null;
    let phaseStart = 0;
    const notePhase = (name: PhaseName | null) => {
      if (phaseName) phaseTotals.set(phaseName, (phaseTotals.get(phaseName) ?? 0) + (clock() - phaseStart));
      phaseName = name;
      phaseStart = clock();
    };
    const describeEnd = (why: AttemptEnd): string => {
      switch (why) {
        case 'deadline':
          return `simulated platform deadline: the connection was ended after ${o.deadlineMs} ms`;
        case 'killed':
          return `simulated kill: the connection was ended at ${Math.round((faults.killAt ?? 0) * 100)}% of the rows`;
        case 'crashed':
          return `server SIGKILLed at ${Math.round((faults.crashAt ?? 0) * 100)}% of the rows, then restarted (crash recovery)`;
        case 'wal-limit':
          return `pg_wal outgrew the ${faults.walLimitBytes} byte limit${faults.walTmpfs ? '' : ' (simulated: the connection was ended)'}`;
        case 'interrupted':
          return 'the harness was interrupted';
        default:
          return why;
      }
    };
    async function endAttempt(why: AttemptEnd) {
      if (faultEnd) return;
      faultEnd = why;
      o.log(`${strategy.name}: attempt ${n} ended: ${why}`);
      ac.abort(new Error(why));
      if (why === 'crashed') {
        crashing = server.crash!();
        await crashing;
      } else await terminateMigration(server, o.database, external).catch(() => 0);
    }
    const checkFractions = () => {
      if (!o.expectedRows) return;
      const f = rowsNow / o.expectedRows;
      if (faults.killAt !== undefined && !killDone && f >= faults.killAt) {
        killDone = true;
        void endAttempt('killed');
      } else if (faults.crashAt !== undefined && !crashDone && f >= faults.crashAt && server.crash) {
        crashDone = true;
        void endAttempt('crashed');
      }
    };
    const timers: NodeJS.Timeout[] = [];
    if (o.deadlineMs !== null) timers.push(setTimeout(() => void endAttempt('deadline'), o.deadlineMs));
    if (faults.walLimitBytes && !faults.walTmpfs) {
      timers.push(
        setInterval(() => {
          const d = sampler.lastWalDirBytes();
          if (d !== null && d > faults.walLimitBytes!) void endAttempt('wal-limit');
        }, Math.min(100, o.measure.sampleIntervalMs)),
      );
    }
    const startMs = clock();
    wallStart.push(Date.now());
    let ended: AttemptEnd;
    let error: string | null = null;
    try {
      const ctx = strategyContext({
        server,
        database: o.database,
        progress: (rows) => {
          rowsNow = rows;
          checkFractions();
        },
        phase: notePhase,
        log: (line) => o.debug?.(`${strategy.name}: ${line}`),
        signal: ac.signal,
        // The command cannot report progress: count its rows as often as the server is sampled.
        options: { progressIntervalMs: o.measure.sampleIntervalMs, ...o.strategyOptions },
        own: o.registry
          ? async (pgid, command) => {
              const id = await o.registry!.record({ kind: 'child-process', pid: pgid, command });
              return () => o.registry!.release(id);
            }
          : undefined,
      });
      if (external) lastReport = scrubReport(await strategy.run(ctx), secretsOf(server, o.database));
      else {
        const r = await runInChildProcess(strategy.name, ctx);
        lastReport = r.report;
        clientPeak = Math.max(clientPeak ?? 0, r.maxRssBytes);
      }
      ended = faultEnd ?? 'completed';
      if (faultEnd) error = `${describeEnd(faultEnd)} (after the migration had finished)`;
    } catch (err) {
      ended = faultEnd ?? (o.signal.aborted ? 'interrupted' : 'error');
      error = faultEnd ? `${describeEnd(faultEnd)} (the migration saw: ${errorMessage(err)})` : errorMessage(err);
      if (external) error = scrub(error, secretsOf(server, o.database));
      if (err instanceof AttemptFailed) {
        if (err.report) lastReport = external ? scrubReport(err.report, secretsOf(server, o.database)) : err.report;
        if (err.maxRssBytes) clientPeak = Math.max(clientPeak ?? 0, err.maxRssBytes);
      }
    }
    notePhase(null);
    for (const t of timers) clearTimeout(t), clearInterval(t);
    o.signal.removeEventListener('abort', onRunAbort);
    if (crashing) {
      await crashing;
      o.log(`${strategy.name}: restarting the server after the crash (crash recovery)`);
      await server.restart!();
    }
    if (faults.walTmpfs && ended === 'error' && /No space left on device|PANIC|server closed the connection/i.test(error ?? '')) ended = 'wal-limit';
    wallEnd.push(Date.now());
    const endMs = clock();
    let state: { rows: number | null; stamp: string | null } = { rows: null, stamp: null };
    try {
      state = await dbState(server, o.database);
    } catch (err) {
      warnings.push(`could not read the database after attempt ${n}: ${errorMessage(err)}`);
    }
    const written = lastReport && ended === 'completed' ? Math.max(rowsNow, lastReport.rowsInserted) : rowsNow;
    const keptNow = state.rows ?? 0;
    rowsLost += Math.max(0, written - Math.max(0, keptNow - keptBefore));
    keptBefore = keptNow;
    if (lastReport) {
      for (const f of lastReport.failures) if (failures.length < 100 && !failures.some((x) => x.id === f.id)) failures.push({ id: f.id, reason: f.reason });
      if (lastReport.childPeakRssBytes) childPeak = Math.max(childPeak ?? 0, lastReport.childPeakRssBytes);
    }
    attempts.push({
      n,
      startMs: Math.round(startMs),
      endMs: Math.round(endMs),
      durationMs: Math.round(endMs - startMs),
      ended,
      error,
      rowsWritten: written,
      rowsKept: state.rows,
      alembicVersion: state.stamp,
    });
    o.log(`${strategy.name}: attempt ${n} ${ended} after ${Math.round(endMs - startMs)} ms; ${state.rows ?? 0} rows kept; stamp ${state.stamp}`);
    if (ended === 'completed' || ended === 'interrupted' || o.signal.aborted) break;
    if (n <= faults.restarts) await sleep(faults.restartDelayMs);
  }

  await probe?.end();
  const { start, end } = await sampler.end();
  clearInterval(timelineTimer);
  for (const s of sampler.samples.slice(seen)) pushSample(s);
  for (const w of sampler.warnings) warnings.push(w);

  const probeSummary = probe ? summarizeProbe(probe.writes, o.measure.probeIntervalMs) : null;
  const probeWal = probe?.wal ?? { bytes: 0, records: 0, fpi: 0 };
  const lastSample = sampler.samples[sampler.samples.length - 1];
  const lsnBytes = lastSample ? lsnDiff(end.lsn, start.lsn) : 0;
  const av = sampler.samples.filter((s) => s.autovacuumWorkers > 0).length;
  if (av) warnings.push(`autovacuum was running in ${av} of ${sampler.samples.length} samples: its WAL is included in ${strategy.name}'s figures`);
  const others = sampler.samples.filter((s) => s.otherBackends > 0).length;
  if (others) warnings.push(`other sessions were active on the database under test in ${others} samples: their work is included in ${strategy.name}'s figures`);

  const last = attempts[attempts.length - 1];
  const outcome = last?.ended === 'completed' ? 'succeeded' : 'failed';
  const verification = await withClient(server, o.database, 'verify', (vc) =>
    verifyMigration(vc, {
      writesUsage: strategy.writesUsage,
      window: { fromSec: Math.floor(Math.min(...wallStart) / 1000), toSec: Math.ceil(Math.max(...wallEnd) / 1000) },
    }),
  );
  // A failed single transaction is expected to leave no table and the old stamp; say so only when it matters.
  if (outcome === 'succeeded' || verification.schema.untouched === false) for (const note of verification.notes) warnings.push(note);

  const kept = await withClient(server, server.maintenanceDatabase, 'admin', async (admin): Promise<StrategyResult['kept']> => {
    if (faults.walRetention) await admin.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    if (o.keep) return { database: o.database, url: server.redactedUrl(o.database) };
    await dropOwnedDatabase(admin, o.database);
    return undefined;
  });

  const walBytes = Math.max(0, lsnBytes - probeWal.bytes);
  const chatMessageBytes = verification.chatMessageBytes;
  const locks = new Set<string>();
  for (const s of sampler.samples) for (const l of s.locksOnChat) locks.add(l);
  const txAges = sampler.samples.map((s) => s.txAgeMs).filter((x): x is number => x !== null);
  const walDirs = sampler.samples.map((s) => s.walDirBytes).filter((x): x is number => x !== null);
  return {
    name: strategy.name,
    summary: strategy.summary,
    outcome,
    error: outcome === 'failed' ? (last?.error ?? 'no attempt ran') : null,
    attempts,
    durationMs: last ? last.endMs - attempts[0].startMs : 0,
    phases: [...phaseTotals].map(([name, ms]) => ({ name, durationMs: Math.round(ms) })),
    wal: {
      bytes: walBytes,
      records: Math.max(0, end.walRecords - start.walRecords - probeWal.records),
      fpi: Math.max(0, end.walFpi - start.walFpi - probeWal.fpi),
      statBytes: Math.max(0, end.walBytes - start.walBytes - probeWal.bytes),
    },
    checkpoints: { timed: end.checkpointsTimed - start.checkpointsTimed, requested: end.checkpointsRequested - start.checkpointsRequested },
    peakWalDirBytes: walDirs.length ? Math.max(...walDirs) : null,
    longestTransactionMs: txAges.length ? Math.round(Math.max(...txAges)) : null,
    locksOnChat: [...locks].sort(),
    writeStall: {
      probes: probeSummary?.probes ?? 0,
      timeouts: probeSummary?.timeouts ?? 0,
      p50Ms: roundOrNull(probeSummary?.p50Ms ?? null),
      p99Ms: roundOrNull(probeSummary?.p99Ms ?? null),
      maxMs: roundOrNull(probeSummary?.maxMs ?? null),
      over1s: probeSummary?.over1s ?? 0,
      longestBlockedMs: Math.round(probeSummary?.longestBlockedMs ?? 0),
      wal: probeWal,
    },
    clientPeakRssBytes: external ? childPeak : clientPeak,
    rows: verification.rows,
    schema: verification.schema,
    verified: outcome === 'succeeded' && verification.verified,
    alembicVersion: verification.alembicVersion,
    rowsLost,
    chatMessageBytes,
    walAmplification: chatMessageBytes ? walBytes / chatMessageBytes : null,
    failures,
    timeline,
    warnings,
    ...(external && lastReport ? { output: { stdout: lastReport.stdout ?? '', stderr: lastReport.stderr ?? '', exitCode: lastReport.exitCode ?? null } } : {}),
    ...(kept ? { kept } : {}),
  };
}

function roundOrNull(x: number | null): number | null {
  return x === null ? null : Math.round(x);
}
