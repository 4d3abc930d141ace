/**
 * `report.md`: one page to paste into a pull request. A pure function of
 * `result.json`: the summary first (hyperfine style), then a chart that
 * renders on GitHub, each strategy's figures, checks, projections, the sweep,
 * and what the run ran on.
 */
import { describeSourceReport } from '../byod/describe-source-report.ts';
import type { SourceReport } from '../byod/derive-manifest.ts';
import type { RunResult } from '../result/run-result.ts';
import { formatBytes, formatDuration } from '../units.ts';
import { markdownCode, markdownFence, markdownTable, markdownText } from './markdown.ts';
import { displayStrategies } from './display-strategies.ts';
import { formatCount } from './number-format.ts';
import { renderFidelity } from './render-fidelity.ts';
import { renderProjections } from './render-projections.ts';
import { renderStrategySection } from './render-strategy-section.ts';
import { renderSweep } from './render-sweep.ts';
import { renderWalMermaid } from './render-wal-mermaid.ts';
import { summarizeRun, type RunSummary } from './summarize-run.ts';

/** `2026-05-01T10:00:00.000Z` as `2026-05-01 10:00:00 UTC`. */
function formatTimestamp(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function header(result: RunResult): string {
  const started = formatTimestamp(result.startedAt);
  const finished = result.finishedAt
    ? `${formatTimestamp(result.finishedAt)} (${formatDuration(Date.parse(result.finishedAt) - Date.parse(result.startedAt))})`
    : 'not finished';
  const status =
    result.status === 'complete'
      ? 'complete'
      : `⚠️ ${result.status}${result.stoppedAt ? ` at ${markdownText(result.stoppedAt)}` : ''}${result.error ? `: ${markdownText(result.error)}` : ''}`;
  const h = result.harness;
  return [
    `# Migration harness report: ${markdownText(result.scenario.name)}`,
    '',
    ...(result.scenario.description ? [markdownText(result.scenario.description), ''] : []),
    `- **Command:** ${markdownCode(result.command)}`,
    `- **Run:** ${markdownCode(result.runId)} (${result.kind}), ${started} → ${finished}`,
    `- **Status:** ${status}`,
    `- **PostgreSQL:** ${markdownText(result.postgres.version)} via ${markdownText(result.postgres.provider)}${result.postgres.description ? ` (${markdownText(result.postgres.description)})` : ''}`,
    `- **Machine:** ${markdownText(h.platform)}, ${h.cpus} CPUs, ${formatBytes(h.memoryBytes)} of memory, Node ${markdownText(h.node)}, harness ${markdownText(h.version)}`,
  ].join('\n');
}

/** The verdicts (names aligned) and comparison sentences, as plain text. */
function summaryText(summary: RunSummary): string {
  const width = Math.max(0, ...summary.verdicts.map((v) => v.strategy.length));
  const lines = [
    ...(summary.status ? [summary.status, ''] : []),
    ...summary.verdicts.map((v) => `${v.strategy.padEnd(width)}  ${v.text}`),
  ];
  if (summary.comparisons.length) lines.push('', ...(summary.comparedOn ? [`compared: ${summary.comparedOn}`] : []), ...summary.comparisons);
  if (summary.checks) lines.push('', `checks: ${summary.checks.failed} of ${summary.checks.total} failed`);
  if (lines.length === 0) lines.push('no strategy ran');
  return lines.join('\n');
}

function checksSection(result: RunResult): string | null {
  if (!result.checks) return null;
  if (result.checks.length === 0) return '## Checks\n\n_No checks were configured._';
  return [
    '## Checks',
    '',
    markdownTable(
      ['', 'strategy', 'check', 'measured', 'limit', 'detail'],
      result.checks.map((c) => [
        c.passed ? '✅' : '❌',
        markdownText(c.strategy),
        markdownText(c.name),
        markdownText(c.measured),
        markdownText(c.limit),
        c.detail ? markdownText(c.detail) : '',
      ]),
    ),
  ].join('\n');
}

function settingsSection(result: RunResult): string {
  const { settings, requested } = result.postgres;
  const names = [...new Set([...Object.keys(settings), ...Object.keys(requested)])].sort();
  if (names.length === 0) return '## Settings\n\n_The server reported no settings._';
  return [
    '## Settings',
    '',
    'As the server reports them (`SHOW`); the requested value is shown where it differs.',
    '',
    markdownTable(
      ['setting', 'value', 'requested'],
      names.map((name) => {
        const shown = settings[name];
        const asked = requested[name];
        return [
          markdownCode(name),
          shown === undefined ? 'not reported' : markdownCode(shown),
          asked !== undefined && asked !== shown ? markdownCode(asked) : '',
        ];
      }),
    ),
  ].join('\n');
}

function datasetSection(result: RunResult): string {
  const d = result.dataset;
  if (!d) {
    const where = result.stoppedAt ? ` (the run stopped at ${markdownText(result.stoppedAt)})` : '';
    return `## Dataset\n\n_No dataset${where}._`;
  }
  const edgeCases = Object.entries(d.edgeCases)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, n]) => `${markdownText(name)} ${formatCount(n)}`)
    .join(' · ');
  const rows: [string, string][] = [
    ['source', d.source === 'seed' ? 'generated (seed)' : `database ${markdownCode(d.sourceDatabase ?? '?')}`],
    ['seed', d.seed === null ? 'n/a' : String(d.seed)],
    ['key', markdownCode(d.key)],
    ['chats', formatCount(d.chats)],
    ['chats with messages to migrate', formatCount(d.migratedChats)],
    ['messages', formatCount(d.messages)],
    ['expected rows', formatCount(d.expectedRows)],
    ['expected failures', formatCount(d.expectedFailures)],
    ['rows stamped with the migration time', formatCount(d.nowRows)],
    ['chat table size', formatBytes(d.chatTableBytes)],
    ['bytes generated', formatBytes(d.generatedBytes)],
    ['seed time', formatDuration(d.seedSeconds * 1000)],
    ['reused', d.reused],
    ['edge cases', edgeCases || 'none'],
  ];
  const parts = ['## Dataset', '', markdownTable(['', 'value'], rows)];
  const source = result.extra?.source as SourceReport | undefined;
  if (d.source === 'database' && source) {
    // What the copy of the tester's database holds, read once before any strategy ran.
    parts.push('', 'What the copy holds (read once, before any strategy ran):', '', '```text', ...describeSourceReport(d.sourceDatabase ?? 'source', source), '```');
  }
  return parts.join('\n');
}

function faultsSection(result: RunResult): string {
  const f = result.faults;
  if (!f) return '## Faults\n\n_No faults injected._';
  const rows: [string, string][] = [
    ['faults', markdownText(f.description)],
    ['deadline', f.deadlineMs === null ? 'none' : `${formatDuration(f.deadlineMs)} (simulated: the harness ends the migration's connection)`],
    ['restarts allowed', formatCount(f.restarts)],
    ['calibration', f.calibration ? `${markdownText(f.calibration.strategy)} took ${formatDuration(f.calibration.durationMs)}` : 'none'],
  ];
  return ['## Faults', '', markdownTable(['', 'value'], rows)].join('\n');
}

/** The whole `report.md`. */
export function renderMarkdown(result: RunResult): string {
  const summary = summarizeRun(result);
  const chart = renderWalMermaid(result);
  const stopped = result.stoppedAt ? `: the run stopped at ${markdownText(result.stoppedAt)}` : '';
  const sections: (string | null)[] = [
    header(result),
    ['## Summary', '', markdownFence(summaryText(summary), 'text')].join('\n'),
    chart ? `## WAL over time\n\n${chart}` : null,
    [
      '## Strategies',
      ...(result.strategies.length ? displayStrategies(result).map(renderStrategySection) : [`_No strategy ran${stopped}._`]),
    ].join('\n\n'),
    // A fidelity run's checks are its own section.
    renderFidelity(result) ?? checksSection(result),
    renderProjections(result),
    renderSweep(result),
    settingsSection(result),
    datasetSection(result),
    faultsSection(result),
    result.warnings.length ? ['## Warnings', '', ...result.warnings.map((w) => `- ⚠️ ${markdownText(w)}`)].join('\n') : null,
    '<sub>Figures come from `result.json` next to this file (bytes and milliseconds, with every sample); `npm run harness -- report <result.json>` renders this page again.</sub>',
  ];
  return `${sections.filter((s): s is string => s !== null).join('\n\n')}\n`;
}
