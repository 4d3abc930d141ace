/**
 * The sweep section of `report.md`: per-GB cost against size per strategy,
 * as a table and as mermaid charts, from `result.extra.sweep`.
 */
import type { RunResult } from '../result/run-result.ts';
import { sweepPoints, type ProjectionCheck, type SweepPoint } from '../result/sweep-points.ts';
import { formatBytes, formatDuration } from '../units.ts';
import { markdownTable } from './markdown.ts';
import { mermaidXyChart } from './mermaid-xychart.ts';
import { formatCount, niceMax } from './number-format.ts';

const GiB = 1024 ** 3;

function perGb(value: number, p: SweepPoint): number {
  return value / (p.sizeBytes / GiB);
}

function isProjectionCheck(value: unknown): value is ProjectionCheck {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const numbers = ['sizeBytes', 'projectedDurationMs', 'measuredDurationMs', 'durationErrorPct', 'projectedWalBytes', 'measuredWalBytes', 'walErrorPct'];
  return typeof v.strategy === 'string' && numbers.every((k) => typeof v[k] === 'number' && Number.isFinite(v[k]));
}

function signedPct(pct: number): string {
  return `${pct >= 0 ? '+' : '−'}${Math.abs(pct).toFixed(1)} %`;
}

/** The projection check a sweep may keep in `extra.sweep.projectionCheck`: projected against measured. */
function projectionCheckTable(result: RunResult): string | null {
  const raw = (result.extra?.sweep as { projectionCheck?: unknown } | undefined)?.projectionCheck;
  if (!Array.isArray(raw)) return null;
  const checks = raw.filter(isProjectionCheck);
  if (checks.length === 0) return null;
  return [
    '### Projection check',
    '',
    'The fit projected to a size that was then measured too; the error is projected minus measured, over measured.',
    '',
    markdownTable(
      ['strategy', 'chat table', 'duration projected', 'measured', 'error', 'WAL projected', 'measured', 'error'],
      checks.map((c) => [
        c.strategy,
        formatBytes(c.sizeBytes),
        formatDuration(c.projectedDurationMs),
        formatDuration(c.measuredDurationMs),
        signedPct(c.durationErrorPct),
        formatBytes(c.projectedWalBytes),
        formatBytes(c.measuredWalBytes),
        signedPct(c.walErrorPct),
      ]),
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  ].join('\n');
}

/** The section (starting with `## Sweep`), or null when the result holds no sweep points. */
export function renderSweep(result: RunResult): string | null {
  const points = sweepPoints(result);
  if (!points) return null;
  const strategies = [...new Set(points.map((p) => p.strategy))];
  const sizes = [...new Set(points.map((p) => p.sizeBytes))].sort((a, b) => a - b);
  const sorted = strategies.flatMap((s) => points.filter((p) => p.strategy === s).sort((a, b) => a.sizeBytes - b.sizeBytes));

  const table = markdownTable(
    ['strategy', 'chat table', 'outcome', 'duration', 'per GB', 'WAL', 'WAL per GB', 'full-page images', 'FPI per GB'],
    sorted.map((p) => [
      p.strategy,
      formatBytes(p.sizeBytes),
      p.outcome === 'succeeded' ? '✅ succeeded' : '❌ failed',
      formatDuration(p.durationMs),
      formatDuration(perGb(p.durationMs, p)),
      formatBytes(p.walBytes),
      formatBytes(perGb(p.walBytes, p)),
      formatCount(p.fpi),
      formatCount(perGb(p.fpi, p)),
    ]),
    ['l', 'r', 'l', 'r', 'r', 'r', 'r', 'r', 'r'],
  );

  const complete = strategies.filter((s) => sizes.every((size) => points.some((p) => p.strategy === s && p.sizeBytes === size)));
  const left = strategies.filter((s) => !complete.includes(s));
  const at = (s: string, size: number) => points.find((p) => p.strategy === s && p.sizeBytes === size)!;
  const categories = sizes.map((b) => formatBytes(b));
  const chart = (title: string, yTitle: string, value: (p: SweepPoint) => number) => {
    const lines = complete.map((s) => sizes.map((size) => value(at(s, size))));
    return mermaidXyChart({
      title,
      x: { title: 'chat table size', categories },
      y: { title: yTitle, max: niceMax(Math.max(0, ...lines.flat())) },
      lines,
    });
  };
  const failed = sorted.filter((p) => p.outcome === 'failed');
  const notes = [
    complete.length ? `Lines, in order: ${complete.join(', ')} (xychart has no legend).` : 'No strategy ran at every size: nothing to chart.',
    left.length ? `Not charted (missing sizes): ${left.join(', ')}.` : null,
    failed.length
      ? `Failed points (${failed.map((p) => `${p.strategy} at ${formatBytes(p.sizeBytes)}`).join(', ')}) are charted with their cost up to where they stopped.`
      : null,
  ].filter((n): n is string => n !== null);

  const check = projectionCheckTable(result);
  return [
    '## Sweep: cost per GB against size',
    '',
    table,
    '',
    ...(complete.length
      ? [
          chart('WAL per GB of chat (GB)', 'GB of WAL per GB', (p) => perGb(p.walBytes, p) / GiB),
          '',
          chart('Seconds per GB of chat', 's per GB', (p) => perGb(p.durationMs, p) / 1000),
          '',
        ]
      : []),
    `_${notes.join(' ')}_`,
    ...(check ? ['', check] : []),
  ].join('\n');
}
