/**
 * One attempt of a strategy, as a platform runs a migration at start-up:
 * arm the faults (a deadline, a kill or a crash at a share of the rows, a
 * size limit on pg_wal), run the strategy (a port in a process of its own, a
 * command in its process group), and say how it ended. What the attempt
 * left in the database is read by the caller.
 */
import { AttemptFailed, errorMessage } from '../errors.ts';
import { migrationBackendsWhere } from '../measure/harness-roles.ts';
import type { StartedPostgres } from '../postgres/started-postgres.ts';
import { withClient } from '../postgres/with-client.ts';
import type { AttemptEnd } from '../result/run-result.ts';
import type { AttemptReport, PhaseName } from '../strategies/strategy.ts';
import type { StrategyRunOptions } from './run-strategy.ts';
import { scrub, scrubReport, secretsOf } from './scrub-secrets.ts';
import { strategyContext } from './strategy-context.ts';
import { runInChildProcess } from './strategy-process.ts';

export interface AttemptInput {
  n: number;
  /** One-shot faults already fired in an earlier attempt. */
  fired: { kill: boolean; crash: boolean };
  /** The size of pg_wal as last sampled. */
  walDirBytes: () => number | null;
  /** Rows written so far in this attempt, as the strategy reports them. */
  onRows: (rows: number) => void;
  /** Time per phase, summed over attempts. */
  phaseTotals: Map<string, number>;
  clock: () => number;
}

export interface AttemptOutcome {
  ended: AttemptEnd;
  error: string | null;
  /** The strategy's report (a partial one when it failed), if it gave one. */
  report?: AttemptReport;
  /** Peak RSS of a port's process, bytes. */
  portPeakRssBytes: number | null;
  /** Rows the strategy last reported. */
  rows: number;
  startMs: number;
  endMs: number;
  /** The strategy had returned (its work done) when the attempt ended, even if a fault then ended it (a deadline just after the commit). */
  finished: boolean;
}

/** End the migration's connections (a platform deadline, a killed client). */
export async function terminateMigration(server: StartedPostgres, database: string, command: boolean): Promise<number> {
  const r = await withClient(server, server.maintenanceDatabase, 'fault', (admin) =>
    admin.query(`SELECT pg_terminate_backend(a.pid) FROM pg_stat_activity a WHERE ${migrationBackendsWhere(command)}`, [database]),
  );
  return r.rowCount ?? 0;
}

export async function runAttempt(o: StrategyRunOptions, a: AttemptInput): Promise<AttemptOutcome> {
  const { server, strategy, faults, n } = { ...o, n: a.n };
  const command = strategy.runsCommand === true;
  let rowsNow = 0;
  const ac = new AbortController();
  const onRunAbort = () => void endAttempt('interrupted');
  o.signal.addEventListener('abort', onRunAbort, { once: true });
  let faultEnd: AttemptEnd | null = null;
  let crashing: Promise<void> | undefined;
  let phaseName: string | null = null;
  let phaseStart = 0;
  const notePhase = (name: PhaseName | null) => {
    if (phaseName) a.phaseTotals.set(phaseName, (a.phaseTotals.get(phaseName) ?? 0) + (a.clock() - phaseStart));
    phaseName = name;
    phaseStart = a.clock();
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
    } else await terminateMigration(server, o.database, command).catch(() => 0);
  }
  const checkFractions = () => {
    if (!o.expectedRows) return;
    const f = rowsNow / o.expectedRows;
    if (faults.killAt !== undefined && !a.fired.kill && f >= faults.killAt) {
      a.fired.kill = true;
      void endAttempt('killed');
    } else if (faults.crashAt !== undefined && !a.fired.crash && f >= faults.crashAt && server.crash) {
      a.fired.crash = true;
      void endAttempt('crashed');
    }
  };
  // The rows at which the next kill or crash is due (see strategy-child.ts).
  const haltAtRows = () => {
    if (!o.expectedRows) return undefined;
    const at = faults.killAt !== undefined && !a.fired.kill ? faults.killAt : faults.crashAt !== undefined && !a.fired.crash && server.crash ? faults.crashAt : undefined;
    return at === undefined ? undefined : Math.max(1, Math.ceil(at * o.expectedRows));
  };
  const timers: NodeJS.Timeout[] = [];
  if (o.deadlineMs !== null) timers.push(setTimeout(() => void endAttempt('deadline'), o.deadlineMs));
  if (faults.walLimitBytes && !faults.walTmpfs) {
    timers.push(
      setInterval(() => {
        const d = a.walDirBytes();
        if (d !== null && d > faults.walLimitBytes!) void endAttempt('wal-limit');
      }, Math.min(100, o.measure.sampleIntervalMs)),
    );
  }
  const startMs = a.clock();
  let ended: AttemptEnd;
  let error: string | null = null;
  let finished = false;
  let report: AttemptReport | undefined;
  let portPeak: number | null = null;
  const secrets = () => secretsOf(server, o.database);
  try {
    const ctx = strategyContext({
      server,
      database: o.database,
      progress: (rows) => {
        rowsNow = rows;
        a.onRows(rows);
        checkFractions();
      },
      phase: notePhase,
      log: (line) => o.debug?.(`${strategy.name}: ${line}`),
      signal: ac.signal,
      // A command cannot report progress: count its rows as often as the server is sampled.
      options: { progressIntervalMs: o.measure.sampleIntervalMs, ...o.strategyOptions },
      own: o.registry
        ? async (pgid, what) => {
            const id = await o.registry!.record({ kind: 'child-process', pid: pgid, command: what });
            return () => o.registry!.release(id);
          }
        : undefined,
    });
    if (command) report = scrubReport(await strategy.run(ctx), secrets());
    else {
      const r = await runInChildProcess(strategy.name, ctx, haltAtRows());
      report = r.report;
      portPeak = r.maxRssBytes;
    }
    finished = true;
    ended = faultEnd ?? 'completed';
    if (faultEnd) error = `${describeEnd(faultEnd)} (after the migration had finished)`;
  } catch (err) {
    ended = faultEnd ?? (o.signal.aborted ? 'interrupted' : 'error');
    error = faultEnd ? `${describeEnd(faultEnd)} (the migration saw: ${errorMessage(err)})` : errorMessage(err);
    if (command) error = scrub(error, secrets());
    if (err instanceof AttemptFailed) {
      if (err.report) report = command ? scrubReport(err.report, secrets()) : err.report;
      if (err.maxRssBytes) portPeak = err.maxRssBytes;
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
  return { ended, error, report, portPeakRssBytes: portPeak, rows: rowsNow, startMs, endMs: a.clock(), finished };
}
