/**
 * The hyperfine-style summary every report opens with: one verdict per
 * strategy, then sentences comparing each strategy with the baseline
 * (`original` when it ran, else the first; for a sweep, on its largest
 * dataset). Data, not text layout: the Markdown and terminal renderers lay
 * it out.
 */
import { REVISION_AFTER } from '../openwebui/schema.ts';
import type { RunResult, StrategyResult } from '../result/run-result.ts';
import { formatBytes, formatDuration } from '../units.ts';
import { displayStrategies, largestDataset } from './display-strategies.ts';
import { formatCount, formatRatio } from './number-format.ts';

/** One strategy's verdict. */
interface Verdict {
  strategy: string;
  /** Succeeded and verified. */
  ok: boolean;
  /** The verdict without the name: `FAILED after 4 attempts (deadline) · 0 rows kept · stamp 374d2f66af06`. */
  text: string;
}

/** The summary of one result. */
export interface RunSummary {
  /** Where the run stopped, when it did not complete. */
  status: string | null;
  verdicts: Verdict[];
  /** The strategy the others are compared with, or null with fewer than two. */
  baseline: string | null;
  /** Which results the comparisons are between, when not all of them (a sweep). */
  comparedOn: string | null;
  comparisons: string[];
  /** Gate and validate checks, when the result has them. */
  checks: { total: number; failed: number } | null;
  /** The faults in force (simulated), or null when there were none. */
  faults: string | null;
}

/** The strategy others are compared with when it ran; otherwise the first. */
const BASELINE = 'original';

/** Ratios closer to 1 than this read as "about the same". */
const SAME = 1.005;

function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** What stands between a succeeded strategy and a verified one. */
function verificationProblems(s: StrategyResult): string[] {
  const problems: string[] = [];
  if (s.rows.missing > 0) problems.push(`${formatCount(s.rows.missing)} missing`);
  if (s.rows.unexpected > 0) problems.push(`${formatCount(s.rows.unexpected)} unexpected`);
  if (s.rows.mismatched > 0) problems.push(`${formatCount(s.rows.mismatched)} mismatched`);
  if (!s.schema.tableExists) problems.push('no chat_message table');
  if (s.schema.indexesMissing.length > 0) problems.push(`indexes missing: ${s.schema.indexesMissing.join(', ')}`);
  if (!s.schema.fkPresent) problems.push('no foreign key');
  else if (!s.schema.fkValidated) problems.push('foreign key not validated');
  return problems;
}

/** Rows in `chat_message` when the strategy stopped. */
function rowsKept(s: StrategyResult): number | null {
  const last = s.attempts.at(-1);
  return last ? last.rowsKept : s.rows.inserted;
}

/**
 * The migration exited 0 and left the revision stamped, yet rows are
 * missing: Open WebUI never runs it again, so they are missing for good.
 */
export function silentDataLoss(s: StrategyResult): boolean {
  const stamped = s.stamp ? s.stamp.verdict === 'stamped' : s.alembicVersion === REVISION_AFTER;
  return s.outcome === 'succeeded' && s.attempts.at(-1)?.ended === 'completed' && stamped && s.rows.missing > 0;
}

/** "· 1 chat skipped (named in the report)", or nothing. */
function skippedNote(s: StrategyResult): string {
  const n = s.skippedChats?.length ?? 0;
  return n ? ` · ${plural(n, 'chat')} skipped (named in the report)` : '';
}

/** A strategy's verdict line (without its name). */
function verdictOf(s: StrategyResult): Verdict {
  const attempts = plural(s.attempts.length, 'attempt');
  if (s.outcome === 'failed') {
    const endings = [...new Set(s.attempts.map((a) => (a.ended === 'completed' && a.stamp?.verdict === 'not-stamped' ? 'completed without its stamp' : a.ended)).filter((e) => e !== 'completed'))];
    const how = s.attempts.length === 0 ? 'FAILED before its first attempt' : `FAILED after ${attempts}${endings.length ? ` (${endings.join(', ')})` : ''}`;
    const kept = rowsKept(s);
    const keptText = kept === null ? '0 rows kept (no chat_message table)' : `${plural(kept, 'row')} kept`;
    return { strategy: s.name, ok: false, text: `${how} · ${keptText} · stamp ${s.alembicVersion ?? 'none'}` };
  }
  if (silentDataLoss(s)) {
    const rest = verificationProblems(s).filter((p) => !p.endsWith(' missing'));
    return {
      strategy: s.name,
      ok: false,
      text:
        `SILENT DATA LOSS: exit 0 and stamped ${s.alembicVersion ?? 'none'} after ${attempts} · ` +
        `${formatCount(s.rows.missing)} of ${plural(s.rows.expected, 'row')} missing for good (the next start skips the migration)${rest.length ? ` · ${rest.join(', ')}` : ''}`,
    };
  }
  const head = `succeeded in ${attempts} · ${formatDuration(s.durationMs)}`;
  if (s.verified) return { strategy: s.name, ok: true, text: `${head} · ${plural(s.rows.inserted, 'row')} verified${skippedNote(s)}` };
  const problems = verificationProblems(s);
  return { strategy: s.name, ok: false, text: `${head} · NOT VERIFIED${problems.length ? `: ${problems.join(', ')}` : ''}${skippedNote(s)}` };
}

/** A quantity both strategies wrote, and the words for it. */
interface Written {
  noun: string;
  less: string;
  more: string;
  format: (n: number) => string;
  value: (x: StrategyResult) => number;
}

const WAL: Written = { noun: 'WAL', less: 'less', more: 'more', format: formatBytes, value: (x) => x.wal.bytes };
const FPI: Written = { noun: 'full-page images', less: 'fewer', more: 'more', format: formatCount, value: (x) => x.wal.fpi };

/** "chunked wrote 1.45× less WAL than original (1.02 GB vs 1.48 GB; original did not finish)". */
function writtenSentence(what: Written, s: StrategyResult, b: StrategyResult, note: string | null): string | null {
  const sv = what.value(s);
  const bv = what.value(b);
  if (sv === 0 && bv === 0) return null;
  const tail = note ? `; ${note}` : '';
  if (sv === 0) return `${s.name} wrote no ${what.noun}; ${b.name} wrote ${what.format(bv)}${tail}`;
  if (bv === 0) return `${b.name} wrote no ${what.noun}; ${s.name} wrote ${what.format(sv)}${tail}`;
  const figures = `(${what.format(sv)} vs ${what.format(bv)}${tail})`;
  const ratio = bv / sv;
  if (ratio >= SAME) return `${s.name} wrote ${formatRatio(ratio)}× ${what.less} ${what.noun} than ${b.name} ${figures}`;
  if (ratio <= 1 / SAME) return `${s.name} wrote ${formatRatio(1 / ratio)}× ${what.more} ${what.noun} than ${b.name} ${figures}`;
  return `${s.name} wrote about as much ${what.noun} as ${b.name} ${figures}`;
}

/** Said next to figures of a strategy that was stopped before it finished. */
function unfinishedNote(s: StrategyResult, b: StrategyResult): string | null {
  const unfinished = [b, s].filter((x) => x.outcome === 'failed').map((x) => x.name);
  if (unfinished.length === 0) return null;
  return `${unfinished.join(' and ')} did not finish`;
}

/** Every attempt completed, yet the stamp was never recorded: the next start runs it again. */
function neverStamped(s: StrategyResult): boolean {
  return s.outcome === 'failed' && s.attempts.length > 0 && s.attempts.every((a) => a.ended === 'completed' && a.stamp?.verdict === 'not-stamped');
}

function stoppedAfter(s: StrategyResult): string {
  const how = neverStamped(s) ? ', each completed without its stamp' : '';
  return `stopped after ${plural(s.attempts.length, 'attempt')}${how}, ${formatDuration(s.durationMs)}`;
}

function durationSentence(s: StrategyResult, b: StrategyResult): string {
  if (s.outcome === 'succeeded' && b.outcome === 'succeeded') {
    const [fast, slow] = s.durationMs <= b.durationMs ? [s, b] : [b, s];
    const figures = `(${formatDuration(fast.durationMs)} vs ${formatDuration(slow.durationMs)})`;
    if (fast.durationMs === 0) return `${fast.name} took no measurable time; ${slow.name} took ${formatDuration(slow.durationMs)}`;
    const ratio = slow.durationMs / fast.durationMs;
    if (ratio < SAME) return `${s.name} and ${b.name} took about as long ${figures}`;
    return `${fast.name} ran ${formatRatio(ratio)}× faster than ${slow.name} ${figures}`;
  }
  if (s.outcome === 'failed' && b.outcome === 'failed') {
    return `neither ${b.name} nor ${s.name} finished (${b.name} ${stoppedAfter(b)}; ${s.name} ${stoppedAfter(s)})`;
  }
  const [failed, done] = s.outcome === 'failed' ? [s, b] : [b, s];
  return `${failed.name} never finished (${stoppedAfter(failed)}); ${done.name} finished in ${formatDuration(done.durationMs)}`;
}

function stallSentence(s: StrategyResult, b: StrategyResult): string | null {
  if (s.writeStall.probes === 0 && b.writeStall.probes === 0) return null;
  const [lead, other] = s.writeStall.longestBlockedMs > b.writeStall.longestBlockedMs ? [s, b] : [b, s];
  if (lead.writeStall.longestBlockedMs < 1) return `neither ${b.name} nor ${s.name} blocked writes to chat`;
  return `${lead.name} blocked writes to chat for ${formatDuration(lead.writeStall.longestBlockedMs)} (longest); ${other.name}: ${formatDuration(other.writeStall.longestBlockedMs)}`;
}

function checkpointSentence(s: StrategyResult, b: StrategyResult): string | null {
  const total = (x: StrategyResult) => x.checkpoints.timed + x.checkpoints.requested;
  if (total(s) === 0 && total(b) === 0) return null;
  return `checkpoints requested during ${b.name}: ${formatCount(b.checkpoints.requested)}; during ${s.name}: ${formatCount(s.checkpoints.requested)} (timed: ${formatCount(b.checkpoints.timed)} and ${formatCount(s.checkpoints.timed)})`;
}

/** Sentences comparing `s` with the baseline `b`. */
function compareStrategies(s: StrategyResult, b: StrategyResult): string[] {
  const note = unfinishedNote(s, b);
  return [
    writtenSentence(WAL, s, b, note),
    writtenSentence(FPI, s, b, null),
    checkpointSentence(s, b),
    stallSentence(s, b),
    durationSentence(s, b),
  ].filter((line): line is string => line !== null);
}

/** The summary of a whole result. */
export function summarizeRun(result: RunResult): RunSummary {
  const status =
    result.status === 'complete'
      ? null
      : `run ${result.status}${result.stoppedAt ? ` at ${result.stoppedAt}` : ''}${result.error ? `: ${result.error}` : ''}`;
  const verdicts = displayStrategies(result).map(verdictOf);
  const compared = largestDataset(result);
  // A gate's `<name>:resume` run (killed, then rerun) is a check of that strategy, not a rival to compare it with.
  const group = compared.strategies.filter((s) => !(s.name.endsWith(':resume') && compared.strategies.some((o) => `${o.name}:resume` === s.name)));
  const base = group.length > 1 ? (group.find((s) => s.name === BASELINE) ?? group[0]) : null;
  const comparisons = base ? group.filter((s) => s !== base).flatMap((s) => compareStrategies(s, base)) : [];
  const checks = result.checks ? { total: result.checks.length, failed: result.checks.filter((c) => !c.passed).length } : null;
  const faults = result.faults && result.faults.description !== 'none' ? result.faults.description : null;
  return { status, verdicts, baseline: base?.name ?? null, comparedOn: base ? compared.note : null, comparisons, checks, faults };
}
