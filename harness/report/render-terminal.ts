/**
 * The summary printed on stdout at the end of a run: a verdict per strategy
 * and the comparison sentences. The caller adds "report: <paths>" and
 * decides about colour (none without a TTY or under CI).
 */
import type { RunResult } from '../result/run-result.ts';
import { formatBytes } from '../units.ts';
import { formatCount, formatLongDuration, signedPct } from './number-format.ts';
import { projectionChecks } from './render-sweep.ts';
import { renderUpgradeTerminal } from './render-upgrade.ts';
import { summarizeRun } from './summarize-run.ts';

const ANSI = { bold: '\x1b[1m', dim: '\x1b[2m', red: '\x1b[31m', green: '\x1b[32m', yellow: '\x1b[33m', reset: '\x1b[0m' };
type Style = keyof typeof ANSI;

/** The summary, lines joined with `\n` (no newline at the end: the caller prints it as a line). */
export function renderTerminal(result: RunResult, opts: { color: boolean }): string {
  // An upgrade path has no strategies to compare: its own lines say how each revision did.
  if (result.upgrade) return renderUpgradeTerminal(result);
  const paint = (style: Style, text: string) => (opts.color ? `${ANSI[style]}${text}${ANSI.reset}` : text);
  const summary = summarizeRun(result);
  const width = Math.max(0, ...summary.verdicts.map((v) => v.strategy.length));
  const lines: string[] = [];
  if (summary.status) lines.push(paint('yellow', summary.status));
  // Failures a simulated platform caused are not the migration's: say which faults were in force.
  if (summary.faults) lines.push(paint('yellow', `faults in force: ${summary.faults}`));
  for (const v of summary.verdicts) {
    lines.push(`${paint('bold', v.strategy.padEnd(width))}  ${paint(v.ok ? 'green' : 'red', v.text)}`);
  }
  if (summary.verdicts.length === 0) lines.push(paint('dim', 'no strategy ran'));
  if (summary.comparisons.length) {
    lines.push('', ...(summary.comparedOn ? [paint('dim', `compared: ${summary.comparedOn}`)] : []), ...summary.comparisons.map((c) => `  ${c}`));
  }
  if (summary.checks) {
    const text = `checks: ${summary.checks.failed} of ${summary.checks.total} failed`;
    lines.push('', paint(summary.checks.failed ? 'red' : 'green', text));
    for (const c of result.checks ?? []) {
      if (!c.passed) lines.push(`  ${paint('red', '✗')} ${c.strategy} ${c.name}: measured ${c.measured}, limit ${c.limit}`);
    }
  }
  lines.push(...projectionLines(result));
  // A sweep copies its strategies' warnings into the run's, prefixed with the name: count those once.
  const own = result.strategies.flatMap((s) => s.warnings.map((w) => `${s.name}: ${w}`)).filter((w) => !result.warnings.includes(w));
  const warnings = result.warnings.length + own.length;
  if (warnings) lines.push('', paint('yellow', `${warnings} warning${warnings === 1 ? '' : 's'}: see report.md`));
  return lines.join('\n');
}

/** A sweep's projections, one line per strategy and size, and its projection check's errors; the bands are in report.md. */
function projectionLines(result: RunResult): string[] {
  const projections = result.projections ?? [];
  const lines: string[] = [];
  const width = Math.max(0, ...projections.map((p) => p.strategy.length));
  for (const size of [...new Set(projections.map((p) => p.size))]) {
    lines.push('', `projected to ${formatBytes(size)} (report.md has the bands and how far to trust them):`);
    for (const p of projections.filter((x) => x.size === size))
      lines.push(`  ${p.strategy.padEnd(width)}  ${formatLongDuration(p.durationMs)} · WAL ${formatBytes(p.walBytes)} · ${formatCount(p.fpi)} full-page images${p.regime?.widened ? ' · beyond the measured regimes' : ''}`);
  }
  const checks = projectionChecks(result);
  if (checks.length) {
    lines.push('', 'projection check (projected against measured):');
    for (const c of checks)
      lines.push(
        `  ${c.strategy.padEnd(width)}  at ${formatBytes(c.sizeBytes)}: duration ${signedPct(c.durationErrorPct)} · WAL ${signedPct(c.walErrorPct)}${c.fpiErrorPct === undefined ? '' : ` · full-page images ${signedPct(c.fpiErrorPct)}`}`,
      );
  }
  return lines;
}
