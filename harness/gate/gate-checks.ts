/**
 * The gate's checks: each compares one measured figure with its limit and
 * says both. Pure: results in, checks out.
 */
import { CLIENT_MEMORY_OF, type Check, type StrategyResult } from '../result/run-result.ts';
import { formatBytes, formatDuration } from '../units.ts';

export interface Thresholds {
  walAmplification: number;
  maxWriteStallMs: number;
  clientPeakRssBytes: number;
  /** Run the kill-and-rerun check. */
  resumable: boolean;
}

export const RESUME_KILL_AT = 0.5;

/** Checks for one strategy; `resume` is its kill-at-half run (when thresholds.resumable). */
export function gateChecks(s: StrategyResult, resume: StrategyResult | undefined, t: Thresholds): Check[] {
  const checks: Check[] = [];
  const attempts = s.attempts.length;
  checks.push({
    name: 'finishes',
    strategy: s.name,
    passed: s.outcome === 'succeeded',
    measured: s.outcome === 'succeeded' ? `succeeded in ${attempts} attempt${attempts > 1 ? 's' : ''} (${formatDuration(s.durationMs)})` : `failed after ${attempts} attempt${attempts > 1 ? 's' : ''}: ${s.attempts[attempts - 1]?.ended ?? 'no attempt'}`,
    limit: "within the scenario's deadline and restarts",
    detail: s.error ?? undefined,
  });
  const r = s.rows;
  const schemaOk = s.schema.tableExists && s.schema.indexesMissing.length === 0 && s.schema.fkValidated;
  checks.push({
    name: 'rows verify',
    strategy: s.name,
    passed: s.verified,
    measured: `${r.inserted} rows: ${r.missing} missing, ${r.unexpected} unexpected, ${r.mismatched} mismatched; ${schemaOk ? '7 indexes and a validated FK' : `indexes missing: ${s.schema.indexesMissing.join(', ') || 'none'}, FK ${s.schema.fkPresent ? (s.schema.fkValidated ? 'validated' : 'not validated') : 'absent'}`}; stamp ${s.alembicVersion}`,
    limit: `all ${r.expected} expected rows, nothing else; 7 indexes; FK validated; stamp 8452d01d26d7`,
  });
  checks.push({
    name: 'WAL amplification',
    strategy: s.name,
    passed: s.walAmplification !== null && s.walAmplification <= t.walAmplification,
    measured: s.walAmplification === null ? 'not measured (no chat_message)' : `${s.walAmplification.toFixed(2)} (${formatBytes(s.wal.bytes)} WAL / ${formatBytes(s.chatMessageBytes)} chat_message)`,
    limit: `<= ${t.walAmplification}`,
  });
  const stall = s.writeStall.maxMs;
  checks.push({
    name: 'write stall on chat',
    strategy: s.name,
    passed: s.writeStall.probes > 0 && stall !== null && stall <= t.maxWriteStallMs && s.writeStall.timeouts === 0,
    measured:
      s.writeStall.probes === 0
        ? 'not measured (write probe off)'
        : `longest write ${formatDuration(stall)}; blocked for ${formatDuration(s.writeStall.longestBlockedMs)} at most; ${s.writeStall.timeouts} timeouts over ${s.writeStall.probes} writes`,
    limit: `every write <= ${formatDuration(t.maxWriteStallMs)}`,
  });
  if (t.resumable) {
    const kill = resume?.attempts.find((a) => a.ended === 'killed');
    const keptAfterKill = kill?.rowsKept ?? 0;
    const passed = !!resume && resume.outcome === 'succeeded' && resume.verified && keptAfterKill > 0;
    checks.push({
      name: 'resumable',
      strategy: s.name,
      passed,
      measured: !resume
        ? 'not run'
        : `killed at ${RESUME_KILL_AT} of the rows: ${keptAfterKill} rows kept; the rerun ${resume.outcome === 'succeeded' ? 'finished' : 'failed'}${resume.verified ? ' and verified' : ''} (${resume.rows.missing} missing)`,
      limit: 'work kept after a kill, and a rerun finishes with nothing lost',
      detail: resume?.error ?? undefined,
    });
  }
  checks.push({
    name: 'client memory',
    strategy: s.name,
    passed: s.clientPeakRssBytes !== null && s.clientPeakRssBytes <= t.clientPeakRssBytes,
    measured: s.clientPeakRssBytes === null ? 'not measured' : `peak RSS ${formatBytes(s.clientPeakRssBytes)}${s.clientPeakRssOf ? ` (${CLIENT_MEMORY_OF[s.clientPeakRssOf]})` : ''}`,
    limit: `<= ${formatBytes(t.clientPeakRssBytes)}`,
  });
  return checks;
}
