/**
 * The projections section of `report.md`: what a sweep's fit predicts at a
 * larger size, with bounds, said plainly to be projections for this
 * machine's speed.
 */
import type { RunResult } from '../result/run-result.ts';
import { WIDEN_PER_CROSSING } from '../sweep/regime.ts';
import { formatBytes } from '../units.ts';
import { markdownTable } from './markdown.ts';
import { formatCount, formatLongDuration } from './number-format.ts';

function range(value: string, low: string, high: string): string {
  return `${value} (${low} – ${high})`;
}

/** For each projection beyond a boundary: where the points were and where the target is, and what the widening means. */
function crossingNotes(projections: NonNullable<RunResult['projections']>): string[] {
  const lines = projections.flatMap((p) => (p.regime?.crossings ?? []).map((c) => `- ${p.strategy} at ${formatBytes(p.size)}, ${c.boundary}: the target has ${c.target}; the points had ${c.measured}.`));
  if (!lines.length) return [];
  return [
    '',
    `Beyond a boundary no measured point crossed the fit cannot know the cost per GB, only that it does not fall: each band's high end is multiplied by ${WIDEN_PER_CROSSING} per boundary crossed (a heuristic, not a model). Measure at sizes beyond the boundary, or in the target's regime (sweep --scale-regime scales shared_buffers and max_wal_size with the data).`,
    '',
    ...lines,
  ];
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
      ['strategy', 'chat table', 'duration (low – high)', 'WAL (low – high)', 'full-page images (low – high)', 'model', 'regime'],
      projections.map((p) => [
        p.strategy,
        formatBytes(p.size),
        range(formatLongDuration(p.durationMs), formatLongDuration(p.durationMsLow), formatLongDuration(p.durationMsHigh)),
        range(formatBytes(p.walBytes), formatBytes(p.walBytesLow), formatBytes(p.walBytesHigh)),
        range(formatCount(p.fpi), formatCount(p.fpiLow), formatCount(p.fpiHigh)),
        p.model === 'linear' ? 'straight line (sizes run in the target’s regime)' : 'power law',
        !p.regime ? '–' : p.regime.widened ? `⚠️ beyond the measured regimes: ${p.regime.crossings.map((c) => c.boundary).join('; ')} (band widened)` : 'within the measured regimes',
      ]),
      ['l', 'r', 'r', 'r', 'r', 'l', 'l'],
    ),
    ...crossingNotes(projections),
  ].join('\n');
}
