/**
 * Every file a run's report consists of, rendered from `result.json`: the
 * pure half of writing reports (the writers only put these on disk).
 */
import type { RunResult } from '../result/run-result.ts';
import { renderChartSvg } from './render-chart-svg.ts';
import { renderJunit } from './render-junit.ts';
import { renderMarkdown } from './render-markdown.ts';

/** A file to write next to `result.json`. */
interface ReportFile {
  name: 'report.md' | 'chart.svg' | 'junit.xml';
  content: string;
}

/** True when the run gets a `junit.xml`: `gate`, `validate`, or any result with checks. */
function wantsJunit(result: RunResult): boolean {
  return result.kind === 'gate' || result.kind === 'validate' || (result.checks?.length ?? 0) > 0;
}

/** `report.md`, `chart.svg` and, for gates and validations, `junit.xml`. */
export function renderReportFiles(result: RunResult): ReportFile[] {
  const files: ReportFile[] = [
    { name: 'report.md', content: renderMarkdown(result) },
    { name: 'chart.svg', content: renderChartSvg(result) },
  ];
  if (wantsJunit(result)) files.push({ name: 'junit.xml', content: renderJunit(result) });
  return files;
}
