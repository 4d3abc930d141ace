/**
 * Cumulative WAL over time per strategy as a mermaid `xychart-beta` (renders
 * on GitHub), with the line under it that names the series: the chart type
 * has no legend.
 */
import type { RunResult } from '../result/run-result.ts';
import { largestDataset } from './display-strategies.ts';
import { mermaidXyChart } from './mermaid-xychart.ts';
import { formatDecimal, mebibytesOf, niceMax } from './number-format.ts';
import { resampleTimeline } from './resample-timeline.ts';

/** Most points per line: enough for the shape, few enough to read the source. */
const MERMAID_MAX_POINTS = 40;

/** The chart and its caption, or null when no strategy has samples. */
export function renderWalMermaid(result: RunResult): string | null {
  const selection = largestDataset(result);
  const charted = selection.strategies.filter((s) => s.timeline.length > 0);
  const grid = resampleTimeline(
    charted.map((s) => s.timeline),
    (sample) => sample.walBytes,
    MERMAID_MAX_POINTS,
  );
  if (!grid) return null;
  const lines = grid.values.map((values) => values.map(mebibytesOf));
  const last = grid.gridS.at(-1)!;
  const chart = mermaidXyChart({
    title: 'Cumulative WAL per strategy',
    x: { title: 'time since the strategy started (s)', min: 0, max: last },
    y: { title: 'WAL (MB)', max: niceMax(Math.max(0, ...lines.flat())) },
    lines,
  });
  const names = charted.map((s, i) => `${s.name} (ends at ${formatDecimal(lines[i].at(-1)!, 1)} MB)`);
  const missing = selection.strategies.filter((s) => s.timeline.length === 0).map((s) => s.name);
  const caption = [
    `Lines, in order: ${names.join(', ')}; xychart has no legend. One point every ${grid.stepS} s; each strategy's line stays flat after it ended.`,
    missing.length ? `No samples: ${missing.join(', ')}.` : null,
    selection.note ? `Charted: ${selection.note}.` : null,
  ].filter((c): c is string => c !== null);
  return `${chart}\n\n_${caption.join(' ')}_`;
}
