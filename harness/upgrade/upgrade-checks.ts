/**
 * The checks each revision of an upgrade path gets, each a measured figure
 * against a limit (the scenario's defaults, every one overridable by a
 * flag). Pure: figures in, checks out.
 *
 * "The tables it touches" are the tables the revision's file names (in a
 * string or after FROM, INTO, UPDATE, TABLE, ON, JOIN, quoted or not) plus those its
 * backend was seen locking, each at the larger of its size before and after
 * the upgrade (a table the revision creates and fills counts full). Time and
 * WAL are judged against their bytes; a revision quicker than `judgeFromMs`
 * or writing less WAL than `judgeWalFromBytes` is too small to judge.
 */
import type { Check, UpgradeResult } from '../result/run-result.ts';
import { formatBytes, formatDuration } from '../units.ts';
import type { RevisionFigures } from './revision-figures.ts';

/** The limits (result.json's `upgrade.thresholds`); revisions under `judgeFromMs` or `judgeWalFromBytes` are too small to judge per GB. */
export type UpgradeThresholds = UpgradeResult['thresholds'];
/** The kill-and-rerun of the costliest revision (result.json's `upgrade.resume`). */
export type ResumeOutcome = NonNullable<UpgradeResult['resume']>;

const GB = 1024 ** 3;
/** Growth below this during a revision is the allocator's noise, not the revision's memory. */
const MEMORY_GROWTH_FLOOR = 16 * 1024 ** 2;

/** Tables a revision's file names, among `known`. */
export function tablesNamedIn(text: string, known: string[]): string[] {
  const code = text.replace(/^\s*#.*$/gm, '');
  return known.filter((t) => {
    const e = t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return new RegExp(`(['"\`])${e}\\1`).test(code) || new RegExp(`\\b(?:FROM|INTO|UPDATE|TABLE|ON|JOIN)\\s+(?:\\\\?")?${e}(?![\\w])`, 'i').test(code);
  });
}

/**
 * `referenceStamp` is what the uninterrupted upgrade left: a rerun after the
 * kill must end the same way (a path that loses its stamp even uninterrupted
 * fails on that, not on resumability).
 */
export function revisionChecks(f: RevisionFigures, touchedBytes: number, t: UpgradeThresholds, resume: ResumeOutcome | null, referenceStamp: string | null): Check[] {
  const checks: Check[] = [];
  const gb = touchedBytes / GB;
  const sPerGb = gb > 0 ? f.durationMs / 1000 / gb : null;
  const judgedTime = f.durationMs >= t.judgeFromMs && sPerGb !== null;
  checks.push({
    name: 'time per GB',
    strategy: f.id,
    passed: !judgedTime || sPerGb! <= t.secondsPerGb,
    measured: judgedTime
      ? `${sPerGb!.toFixed(1)} s/GB (${formatDuration(f.durationMs)} over ${formatBytes(touchedBytes)})`
      : `${formatDuration(f.durationMs)}${touchedBytes ? ` over ${formatBytes(touchedBytes)}` : ', no table touched'}: too short to judge`,
    limit: `${t.secondsPerGb} s/GB of the tables it touches (judged from ${formatDuration(t.judgeFromMs)})`,
  });
  const amp = touchedBytes > 0 ? f.walBytes / touchedBytes : null;
  const judgedWal = f.walBytes >= t.judgeWalFromBytes && amp !== null;
  checks.push({
    name: 'WAL amplification',
    strategy: f.id,
    passed: !judgedWal || amp! <= t.walAmplification,
    measured: judgedWal ? `${amp!.toFixed(2)} (${formatBytes(f.walBytes)} of WAL over ${formatBytes(touchedBytes)})` : `${formatBytes(f.walBytes)} of WAL: too little to judge`,
    limit: `${t.walAmplification} WAL bytes per byte of the tables it touches (judged from ${formatBytes(t.judgeWalFromBytes)})`,
  });
  const bw = f.blockedWrite;
  checks.push({
    name: 'blocked write',
    strategy: f.id,
    passed: !bw || bw.ms <= t.maxBlockedWriteMs,
    measured: bw ? `${formatDuration(bw.ms)} on ${bw.table}${bw.unfinished ? ' (still waiting when the upgrade ended)' : ''}` : 'no write charged to it',
    limit: `${formatDuration(t.maxBlockedWriteMs)} for any write to chat, chat_message, user or file`,
  });
  // One Python process runs the whole path and keeps what it allocated: a revision is held to the
  // peak only when it grew the process itself, not for memory an earlier revision left behind.
  const added = Math.max(0, f.peakRssBytes - f.startRssBytes);
  const itsOwn = added >= MEMORY_GROWTH_FLOOR;
  checks.push({
    name: 'client memory',
    strategy: f.id,
    passed: f.peakRssBytes <= t.clientPeakRssBytes || !itsOwn,
    measured: `${formatBytes(f.peakRssBytes)} peak RSS of the migration process, ${itsOwn ? `${formatBytes(added)} of it added here` : `kept from earlier revisions (${formatBytes(added)} added here)`}`,
    limit: `${formatBytes(t.clientPeakRssBytes)} (a revision is held to it when it adds ${formatBytes(MEMORY_GROWTH_FLOOR)} or more)`,
  });
  if (resume && resume.revision === f.id) {
    const ok = resume.killedInside && resume.rerunExit === 0 && resume.stamp === referenceStamp && !resume.schemaDifferences.length && !resume.rowDifferences.length;
    const problems = [
      !resume.killedInside ? 'the kill came after the revision had ended' : null,
      resume.rerunExit !== 0 ? `the rerun exited ${resume.rerunExit ?? 'by a signal'}${resume.rerunError ? `: ${resume.rerunError}` : ''}` : null,
      resume.stamp !== referenceStamp ? `stamp ${resume.stamp ?? 'missing'}, uninterrupted ${referenceStamp ?? 'missing'}` : null,
      resume.schemaDifferences.length ? `schema differs: ${resume.schemaDifferences.slice(0, 3).join('; ')}${resume.schemaDifferences.length > 3 ? ` (+${resume.schemaDifferences.length - 3})` : ''}` : null,
      resume.rowDifferences.length ? `rows differ: ${resume.rowDifferences.slice(0, 3).join('; ')}` : null,
    ].filter(Boolean);
    checks.push({
      name: 'resumable',
      strategy: f.id,
      passed: ok,
      measured: ok ? `killed ${formatDuration(resume.killedAfterMs)} in, the rerun finished; stamp ${resume.stamp}, schema and rows as uninterrupted` : problems.join('; '),
      limit: 'killed half-way, a rerun finishes with the stamp, schema and rows of an uninterrupted upgrade',
    });
  }
  return checks;
}
