/**
 * The only way into report/ from the rest of the project: renderers are pure
 * functions of a `RunResult` (resampleTimeline is the one step of theirs a
 * test checks alone); `writeReports` and `reportCommand` are the only
 * writers.
 */
export { renderChartSvg } from './render-chart-svg.ts';
export { renderJunit } from './render-junit.ts';
export { renderMarkdown } from './render-markdown.ts';
export { renderTerminal } from './render-terminal.ts';
export { resampleTimeline } from './resample-timeline.ts';
export { reportCommand, writeReports } from './write-reports.ts';
