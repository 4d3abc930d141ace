/**
 * Every file a run's report consists of, rendered from `result.json`: the
 * pure half of writing reports (the writers only put these on disk).
 */
import type { RunResult } from '../result/run-result.ts';
import { renderChartSvg } from './render-chart-svg.ts';
import { renderJunit } from './render-junit.ts';
import { renderMarkdown } from './render-markdown.ts';
import { renderUpgradeChartSvg, renderUpgradeJunit, renderUpgradeMarkdown } from './render-upgrade.ts';

/** A file to write next to `result.json`. */
interface ReportFile {
  name: 'report.md' | 'chart.svg' | 'junit.xml';
  content: string;
}

/** True when the run gets a `junit.xml`: `gate`, `validate`, or any result with checks. */
function wantsJunit(result: RunResult): boolean {
  return result.kind === 'gate' || result.kind === 'validate' || (result.checks?.length ?? 0) > 0;
}

/** `report.md`, `chart.svg` and, for gates, validations and upgrade paths, `junit.xml`. */
export function renderReportFiles(result: RunResult): ReportFile[] {
  // An upgrade path is judged revision by revision: its checks always make a junit.xml.
  if (result.upgrade) {
    return [
      { name: 'report.md', content: renderUpgradeMarkdown(result) },
      { name: 'chart.svg', content: renderUpgradeChartSvg(result) },
      { name: 'junit.xml', content: renderUpgradeJunit(result) },
    ];
  }
  const files: ReportFile[] = [
    { name: 'report.md', content: renderMarkdown(result) },
    { name: 'chart.svg', content: renderChartSvg(result) },
  ];
  if (wantsJunit(result)) files.push({ name: 'junit.xml', content: renderJunit(result) });
  return files;
}
