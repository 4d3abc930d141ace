/**
 * The public face of the reports: renderers are pure functions of a
 * `RunResult`; `writeReports` and `reportCommand` are the only writers.
 */
export { renderMarkdown } from './render-markdown.ts';
export { renderChartSvg } from './render-chart-svg.ts';
export { renderJunit } from './render-junit.ts';
export { renderTerminal } from './render-terminal.ts';
export { renderSweep } from './render-sweep.ts';
export { renderProjections } from './render-projections.ts';
export { renderReportFiles, wantsJunit, type ReportFile } from './render-report-files.ts';
export { summarizeRun, type RunSummary, type Verdict } from './summarize-run.ts';
export { reportCommand, writeReports } from './write-reports.ts';
