/**
 * The projections section of `report.md`: what a sweep's fit predicts at a
 * larger size, with bounds, said plainly to be projections for this
 * machine's speed.
 */
import type { RunResult } from '../result/run-result.ts';
import { formatBytes } from '../units.ts';
import { markdownTable } from './markdown.ts';
import { formatCount, formatLongDuration } from './number-format.ts';

function range(value: string, low: string, high: string): string {
  return `${value} (${low} – ${high})`;
}

/** The section (starting with `## Projections`), or null when there are none. */
export function renderProjections(result: RunResult): string | null {
  const projections = result.projections;
  if (!projections || projections.length === 0) return null;
  const machine = `${result.harness.cpus} CPUs, ${formatBytes(result.harness.memoryBytes)} of memory, PostgreSQL ${result.postgres.version} (${result.postgres.provider})`;
  return [
    '## Projections',
    '',
    `These are projections, not measurements: figures extrapolated from the sizes this run measured, for this machine's speed (${machine}) and these server settings. Another machine, disk or configuration will give other figures; the bounds are the fit's low and high estimates.`,
    '',
    markdownTable(
      ['strategy', 'chat table', 'duration (low – high)', 'WAL (low – high)', 'full-page images (low – high)'],
      projections.map((p) => [
        p.strategy,
        formatBytes(p.size),
        range(formatLongDuration(p.durationMs), formatLongDuration(p.durationMsLow), formatLongDuration(p.durationMsHigh)),
        range(formatBytes(p.walBytes), formatBytes(p.walBytesLow), formatBytes(p.walBytesHigh)),
        range(formatCount(p.fpi), formatCount(p.fpiLow), formatCount(p.fpiHigh)),
      ]),
      ['l', 'r', 'r', 'r', 'r'],
    ),
  ].join('\n');
}
