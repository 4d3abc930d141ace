/**
 * One strategy, start to finish: clone the seeded template, start the
 * samplers and the write probe, run attempts under the faults (restarting
 * as the platform would: after a failure, and after a run that completed
 * without its stamp, which Open WebUI's next start runs again), read what
 * each attempt left, stop measuring, verify the rows, and return the
 * figures as data.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../errors.ts';
import type { FaultSpec } from '../faults/fault-spec.ts';
import type { OwnedRegistry } from '../lifecycle/owned-registry.ts';
import { CheckpointPacer } from '../measure/checkpoint-pacer.ts';
import { blocksBefore, readPageTrace, type BlocksBefore, type PageTrace } from '../measure/page-trace.ts';
import { lsnDiff, ServerSampler, type LoadCounters, type ServerSample } from '../measure/server-sampler.ts';
import { summarizeProbe, WriteProbe } from '../measure/write-probe.ts';
import { followingStandIn, nextStartSentence, readStamp, type StampReading } from '../openwebui/alembic-environment.ts';
import { REVISION_AFTER, REVISION_BEFORE } from '../openwebui/schema.ts';
import { createOwnedDatabase, dropOwnedDatabase } from '../postgres/databases.ts';
import type { Client } from '../postgres/sql.ts';
import type { StartedPostgres } from '../postgres/started-postgres.ts';
import { withClient } from '../postgres/with-client.ts';
import type { AlembicEnvironmentResult, Attempt, Sample, StrategyResult, UpstreamResult } from '../result/run-result.ts';
import type { AttemptReport, Strategy, StrategyOptions } from '../strategies/strategy.ts';
import { verifyMigration } from '../verify/verify-migration.ts';
import { runAttempt } from './run-attempt.ts';
import { environmentFor, modelled } from './strategy-environment.ts';

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
  /** The Alembic environment it runs in (null: a command's own); default: the one it shipped with (see strategy-environment.ts). */
  alembic?: AlembicEnvironmentResult | null;
  /** `upstream`: what it runs. */
  upstream?: UpstreamResult;
  /** The name its results carry, when not the strategy's (a scenario's label), for the log. */
  label?: string;
  /**
   * A sequence (see strategies/strategy-sequence.ts): what each start runs,
   * in order, the last one for every later start. `strategy` is then the
   * sequence as a whole (its name, summary and what verification expects).
   */
  parts?: StrategyPart[];
  /** Force a checkpoint every this many bytes of WAL during the load (a sweep in a larger target's regime); default none. */
  checkpointEveryBytes?: number | null;
  /**
   * Read the run's WAL back (pg_walinspect; needs the WAL kept and a
   * superuser) and hand over its page trace: a sweep projects images from it
   * (harness/sweep/cycle-images.ts). A trace that cannot be read is a warning.
   */
  onPageTrace?: (trace: PageTrace) => void;
}

/** What one start runs: a strategy, its options, its Alembic environment. */
export interface StrategyPart {
  strategy: Strategy;
  strategyOptions: StrategyOptions;
  alembic: AlembicEnvironmentResult | null;
}

const REPLICATION_SLOT_PREFIX = 'owui_harness_';

async function tableExists(c: Client, name: string): Promise<boolean> {
  return (await c.query('SELECT to_regclass($1) IS NOT NULL AS e', [name])).rows[0].e as boolean;
}

interface DbState {
  rows: number | null;
  stamp: string | null;
  /** Whether the stand-in revision after it left its table. */
  followingTable: boolean | null;
}

/** What an attempt left: the rows, the stamp, and whether the revisions after it were kept. */
async function dbState(server: StartedPostgres, database: string): Promise<DbState> {
  return withClient(server, database, 'verify', async (c) => {
    const rows = (await tableExists(c, 'public.chat_message')) ? Number((await c.query('SELECT count(*) AS n FROM chat_message')).rows[0].n) : null;
    const stamp = (await c.query<{ v: string }>('SELECT version_num AS v FROM alembic_version')).rows[0]?.v ?? null;
    return { rows, stamp, followingTable: await tableExists(c, `public.${followingStandIn(REVISION_AFTER).table}`) };
  });
}

/** The server's WAL insert position now. */
async function currentLsn(server: StartedPostgres): Promise<string> {
  return withClient(server, server.maintenanceDatabase, 'admin', async (c) => (await c.query<{ l: string }>('SELECT pg_current_wal_insert_lsn()::text AS l')).rows[0].l);
}

/** For the sentence of a strategy whose environment the harness does not know (a command). */
const DEFAULT_SENTENCE_ENV = { shape: 'single', target: 'revision' } as const;

export async function runStrategy(given: StrategyRunOptions): Promise<StrategyResult> {
  const alembic = given.alembic !== undefined ? given.alembic : environmentFor(given.strategy);
  const o = { ...given, alembic, strategyOptions: { ...given.strategyOptions, alembic: modelled(alembic) } };
  const { server, strategy, faults } = o;
  // What each start runs: the strategy itself, or a sequence's parts in turn.
  const parts: StrategyPart[] = (given.parts ?? [{ strategy: given.strategy, strategyOptions: given.strategyOptions, alembic }]).map((p) => {
    const env = p.alembic !== undefined ? p.alembic : environmentFor(p.strategy);
    return { strategy: p.strategy, alembic: env, strategyOptions: { ...p.strategyOptions, alembic: modelled(env) } };
  });
  const partFor = (n: number) => parts[Math.min(n, parts.length) - 1];
  const command = parts.some((p) => p.strategy.runsCommand === true);
  const warnings: string[] = [];
  const slot = `${REPLICATION_SLOT_PREFIX}${o.database}`.slice(0, 63);
  await withClient(server, server.maintenanceDatabase, 'admin', async (admin) => {
    await createOwnedDatabase(admin, o.database, { template: o.template, note: `strategy ${strategy.name}` });
    if (faults.walRetention) {
      await admin.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [slot]);
      await admin.query('SELECT pg_create_physical_replication_slot($1, true)', [slot]);
    }
  });

  let before: BlocksBefore | null = null;
  if (o.onPageTrace)
    before = await withClient(server, o.database, 'verify', blocksBefore).catch((err) => {
      warnings.push(`could not read the relations' sizes before the run, so its WAL is not read back: ${errorMessage(err)}`);
      return null;
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
  const sampler = new ServerSampler({ server, database: o.database, intervalMs: o.measure.sampleIntervalMs, external: command, clock, readProcesses: server.provider === 'embedded' });
  const startC = await sampler.begin();
  startCounters = { walBytes: 0, checkpoints: startC.checkpointsTimed + startC.checkpointsRequested };
  const pacer = o.checkpointEveryBytes ? new CheckpointPacer(server, o.checkpointEveryBytes) : undefined;
  await pacer?.begin();
  let seen = 0;
  const timelineTimer = setInterval(() => {
    const fresh = sampler.samples.slice(seen);
    seen = sampler.samples.length;
    for (const s of fresh) pushSample(s);
  }, o.measure.sampleIntervalMs);
  const pushSample = (s: ServerSample) => {
    const sample: Sample = {
      tMs: Math.round(s.tMs),
      // A sample taken before the first attempt began (a slow start) counts as the first attempt's.
      attempt: Math.max(1, attemptNo),
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
  const skippedChats: { chatId: string; reason: string }[] = [];
  // Whether the strategy skips chats it cannot read (our proposals say so in their reports, even when none was skipped).
  let skips = false;
  let lastReport: AttemptReport | undefined;
  const fired = { kill: false, crash: false };
  let stamp: StampReading | null = null;
  let doneBeforeFault = false;
  let keptBefore = 0;
  let rowsLost = 0;
  let childPeak: number | null = null;
  let clientPeak: number | null = null;
  const wallStart: number[] = [];
  const wallEnd: number[] = [];

  for (let n = 1; n <= faults.restarts + 1; n++) {
    attemptNo = n;
    rowsNow = 0;
    const part = partFor(n);
    const lsnBefore = await currentLsn(server).catch(() => null);
    wallStart.push(Date.now());
    const a = await runAttempt({ ...o, strategy: part.strategy, strategyOptions: part.strategyOptions, alembic: part.alembic }, {
      n,
      fired,
      walDirBytes: () => sampler.lastWalDirBytes(),
      onRows: (rows) => (rowsNow = rows),
      phaseTotals,
      clock,
    });
    wallEnd.push(Date.now());
    if (a.portPeakRssBytes) clientPeak = Math.max(clientPeak ?? 0, a.portPeakRssBytes);
    const lsnAfter = await currentLsn(server).catch(() => null);
    let state: DbState = { rows: null, stamp: null, followingTable: null };
    try {
      state = await dbState(server, o.database);
    } catch (err) {
      warnings.push(`could not read the database after attempt ${n}: ${errorMessage(err)}`);
    }
    const report = a.report;
    const written = report && a.ended === 'completed' ? Math.max(a.rows, report.rowsInserted) : a.rows;
    const keptNow = state.rows ?? 0;
    rowsLost += Math.max(0, written - Math.max(0, keptNow - keptBefore));
    keptBefore = keptNow;
    if (report) {
      for (const f of report.failures) if (failures.length < 100 && !failures.some((x) => x.id === f.id)) failures.push({ id: f.id, reason: f.reason });
      if (report.skippedChats) skips = true;
      for (const c of report.skippedChats ?? []) if (!skippedChats.some((x) => x.chatId === c.chatId)) skippedChats.push({ chatId: c.chatId, reason: c.reason });
      if (report.childPeakRssBytes) childPeak = Math.max(childPeak ?? 0, report.childPeakRssBytes);
      lastReport = report;
    }
    stamp = readStamp(state.stamp, { before: REVISION_BEFORE, after: REVISION_AFTER, followingTablePresent: part.alembic?.target === 'head' ? state.followingTable : null });
    // Completed without its stamp: Open WebUI's next start runs it again, and a platform restarts it.
    const unstamped = a.ended === 'completed' && stamp.verdict === 'not-stamped';
    const error = unstamped ? `completed, but ${nextStartSentence(stamp, part.alembic ?? DEFAULT_SENTENCE_ENV, REVISION_AFTER)}` : a.error;
    attempts.push({
      n,
      ...(given.parts ? { strategy: part.strategy.name } : {}),
      startMs: Math.round(a.startMs),
      endMs: Math.round(a.endMs),
      durationMs: Math.round(a.endMs - a.startMs),
      ended: a.ended,
      error,
      rowsWritten: written,
      rowsKept: state.rows,
      alembicVersion: state.stamp,
      stamp,
      ...(lsnBefore !== null && lsnAfter !== null ? { walBytes: Math.max(0, lsnDiff(lsnAfter, lsnBefore)) } : {}),
    });
    o.log(`${o.label ?? strategy.name}${given.parts ? ` (${part.strategy.name})` : ''}: attempt ${n} ${a.ended} after ${Math.round(a.endMs - a.startMs)} ms; ${state.rows ?? 0} rows kept; stamp ${state.stamp}${unstamped ? ' (not stamped: the next start runs it again)' : ''}`);
    // A fault that came after the migration had finished and stamped: the next start finds nothing to run.
    doneBeforeFault = finishedBeforeFault(a, stamp);
    if (doneBeforeFault) warnings.push(`attempt ${n}: ${a.error}; it was stamped, so the next start has nothing to run: the migration is done`);
    if ((a.ended === 'completed' && !unstamped) || doneBeforeFault || a.ended === 'interrupted' || o.signal.aborted) break;
    if (n <= faults.restarts) await sleep(faults.restartDelayMs);
  }

  await probe?.end();
  const forcedCheckpoints = (await pacer?.end()) ?? 0;
  const { start, end, load } = await sampler.end();
  const completed = sampler.checkpointsCompleted();
  const intervals = sampler.checkpointIntervals();
  const passes = sampler.autovacuumPasses();
  clearInterval(timelineTimer);
  for (const s of sampler.samples.slice(seen)) pushSample(s);
  for (const w of sampler.warnings) warnings.push(w);

  const probeSummary = probe ? summarizeProbe(probe.writes, o.measure.probeIntervalMs) : null;
  const probeWal = probe?.wal ?? { bytes: 0, records: 0, fpi: 0 };
  const lastSample = sampler.samples[sampler.samples.length - 1];
  const lsnBytes = lastSample ? lsnDiff(end.lsn, start.lsn) : 0;
  const av = sampler.samples.filter((s) => s.autovacuumWorkers > 0).length;
  const overChatMessage = passes.length ? `; ${passes.length} of its passes were over chat_message or its TOAST table (the room a pass finds in old pages, a load that commits as it goes fills again: a full-page image per page)` : '';
  if (av) warnings.push(`autovacuum was running in ${av} of ${sampler.samples.length} samples: its WAL is included in ${strategy.name}'s figures${overChatMessage}`);
  const others = sampler.samples.filter((s) => s.otherBackends > 0).length;
  if (others) warnings.push(`other sessions were active on the database under test in ${others} samples: their work is included in ${strategy.name}'s figures`);

  const last = attempts[attempts.length - 1];
  // The environment of the start that ran last: its stamp is the one Open WebUI finds next.
  const lastPart = partFor(Math.max(1, attempts.length));
  // A run that completed without its stamp is not a success: the next start runs it again.
  const outcome = (last?.ended === 'completed' && stamp?.verdict !== 'not-stamped') || doneBeforeFault ? 'succeeded' : 'failed';
  const verification = await withClient(server, o.database, 'verify', (vc) =>
    verifyMigration(vc, {
      writesUsage: strategy.writesUsage,
      window: { fromSec: Math.floor(Math.min(...wallStart) / 1000), toSec: Math.ceil(Math.max(...wallEnd) / 1000) },
    }),
  );
  // A failed single transaction is expected to leave no table and the old stamp; say so only when it matters.
  if (outcome === 'succeeded' || verification.schema.untouched === false) for (const note of verification.notes) warnings.push(note);

  if (o.onPageTrace && before && lastSample) {
    const t = performance.now();
    try {
      const trace = await readPageTrace(server, o.database, start.lsn, end.lsn, before);
      o.log(`${o.label ?? strategy.name}: read its WAL back (${trace.changes.toLocaleString('en-US')} page changes) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      o.onPageTrace(trace);
    } catch (err) {
      warnings.push(`could not read the run's WAL back (pg_walinspect, the WAL kept by wal_keep_size): ${errorMessage(err)}`);
    }
  }

  const kept = await withClient(server, server.maintenanceDatabase, 'admin', async (admin): Promise<StrategyResult['kept']> => {
    if (faults.walRetention) await admin.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    if (o.keep) return { database: o.database, url: server.redactedUrl(o.database) };
    await dropOwnedDatabase(admin, o.database);
    return undefined;
  });

  const walBytes = Math.max(0, lsnBytes - probeWal.bytes);
  const chatMessageBytes = verification.chatMessageBytes;
  const lockSamples: Record<string, number> = {};
  for (const s of sampler.samples) for (const l of new Set(s.locksOnChat)) lockSamples[l] = (lockSamples[l] ?? 0) + 1;
  const locks = Object.keys(lockSamples);
  const txAges = sampler.samples.map((s) => s.txAgeMs).filter((x): x is number => x !== null);
  const inTransaction = sampler.samples.filter((s) => s.inTransaction);
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
    checkpoints: {
      timed: end.checkpointsTimed - start.checkpointsTimed,
      requested: end.checkpointsRequested - start.checkpointsRequested,
      ...(completed !== null ? { completed } : {}),
      ...(intervals ? { intervals } : {}),
    },
    peakWalDirBytes: walDirs.length ? Math.max(...walDirs) : null,
    longestTransactionMs: txAges.length ? Math.round(Math.max(...txAges)) : null,
    transactionSpanMs: inTransaction.length ? Math.round(inTransaction[inTransaction.length - 1].tMs - inTransaction[0].tMs) : null,
    autovacuum: { passes: passes.map((p) => ({ ...p, startMs: Math.round(p.startMs), lastSeenMs: Math.round(p.lastSeenMs) })) },
    locksOnChat: [...locks].sort(),
    locksOnChatSamples: lockSamples,
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
    clientPeakRssBytes: command ? childPeak : clientPeak,
    clientPeakRssOf: strategy.name === 'upstream' ? 'upstream' : command ? 'command' : 'port',
    rows: verification.rows,
    schema: verification.schema,
    verified: outcome === 'succeeded' && verification.verified,
    alembicVersion: verification.alembicVersion,
    ...(stamp ? { stamp: { ...stamp, nextStart: nextStartSentence(stamp, lastPart.alembic ?? DEFAULT_SENTENCE_ENV, REVISION_AFTER) } } : {}),
    ...(lastPart.alembic ? { alembic: lastPart.alembic } : {}),
    ...(o.upstream ? { upstream: o.upstream } : {}),
    rowsLost,
    chatMessageBytes,
    walAmplification: chatMessageBytes ? walBytes / chatMessageBytes : null,
    failures,
    ...(skips ? { skippedChats } : {}),
    timeline,
    warnings,
    ...(load ? { load: loadFigures(load, forcedCheckpoints) } : {}),
    backendProcesses: sampler.backendProcesses(),
    ...(command && lastReport ? { output: { stdout: lastReport.stdout ?? '', stderr: lastReport.stderr ?? '', exitCode: lastReport.exitCode ?? null } } : {}),
    ...(kept ? { kept } : {}),
  };
}

function hitRatio(hit: number, read: number): number | null {
  return hit + read > 0 ? hit / (hit + read) : null;
}

/** The sampler's block counts as result.json keeps them. Its own catalog reads are in them too: a few blocks a sample, against the load's millions. */
function loadFigures(l: LoadCounters, forcedCheckpoints: number): NonNullable<StrategyResult['load']> {
  const cm = l.chatMessage;
  return {
    blocksHit: l.blocksHit,
    blocksRead: l.blocksRead,
    hitRatio: hitRatio(l.blocksHit, l.blocksRead),
    chatMessageBytes: cm ? cm.tableBytes : null,
    indexBytes: cm ? cm.indexBytes : null,
    chatMessageBlocksHit: cm ? cm.blocksHit : null,
    chatMessageBlocksRead: cm ? cm.blocksRead : null,
    chatMessageHitRatio: cm ? hitRatio(cm.blocksHit, cm.blocksRead) : null,
    forcedCheckpoints,
  };
}

function roundOrNull(x: number | null): number | null {
  return x === null ? null : Math.round(x);
}

/**
 * Whether an attempt that a fault ended (a deadline, a kill) had in fact
 * finished first, with the revision stamped: the platform cut it off between
 * the commit and the service coming up, and Open WebUI's next start finds the
 * database at the revision and runs nothing. Measured in a fresh clone's
 * `npm run repro`: original's second attempt committed within the 43.5 s
 * deadline and was ended just after; a third start of the port then failed on
 * the table it had made.
 */
export function finishedBeforeFault(a: { ended: string; finished: boolean }, stamp: { verdict: string }): boolean {
  // A strategy that returned ended 'completed' unless a fault fired: error and interrupted never follow it.
  return a.finished && a.ended !== 'completed' && stamp.verdict === 'stamped';
}
