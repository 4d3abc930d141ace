/**
 * The sweep section of `report.md`: per-GB cost against size per strategy,
 * as a table and as mermaid charts, from `result.extra.sweep`.
 */
import type { RunResult } from '../result/run-result.ts';
import { sweepPoints, type PointRegime, type ProjectionCheck, type RegimeScaling, type SweepPoint } from '../result/sweep-points.ts';
import { formatBytes, formatDuration } from '../units.ts';
import { autovacuumNaptimes } from '../sweep/regime.ts';
import { markdownTable } from './markdown.ts';
import { mermaidXyChart } from './mermaid-xychart.ts';
import { formatCount, niceMax, signedPct } from './number-format.ts';

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

const ratioText = (x: number | null) => (x === null ? '–' : x.toFixed(2));
const pctText = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(1)} %`);

/** The regime columns of one point (or of a projection's target). */
export function regimeCells(r: PointRegime): string[] {
  return [
    formatBytes(r.sharedBuffersBytes),
    `${formatBytes(r.maxWalSizeBytes)}${r.checkpointEveryBytes ? ` (forced every ${formatBytes(r.checkpointEveryBytes)})` : ''}`,
    r.chatMessageBytes === null || r.indexBytes === null ? '–' : `${formatBytes(r.chatMessageBytes)} + ${formatBytes(r.indexBytes)}`,
    ratioText(r.chatMessageToSharedBuffers),
    ratioText(r.indexesToSharedBuffers),
    Number.isInteger(r.checkpoints) ? String(r.checkpoints) : r.checkpoints.toFixed(1),
    r.walPerCheckpointBytes === null ? '–' : formatBytes(r.walPerCheckpointBytes),
    ratioText(r.walPerCheckpointToIndexes),
    pctText(r.bufferHitRatio),
    pctText(r.chatMessageHitRatio),
    autovacuumText(r),
    backendText(r),
  ];
}

/** The load against autovacuum_naptime, and whether autovacuum may pass over its rows (it commits as it goes). */
function autovacuumText(r: PointRegime): string {
  const naptimes = autovacuumNaptimes(r);
  if (naptimes === null) return r.autovacuumNaptimeMs === null && r.durationMs != null ? 'autovacuum off' : '–';
  const commits = r.commitsDuringLoad === true ? ', commits as it goes' : r.commitsDuringLoad === false ? ', one transaction' : '';
  const passes = r.autovacuumPasses == null ? '' : `, ${r.autovacuumPasses} pass${r.autovacuumPasses === 1 ? '' : 'es'} seen`;
  return `${naptimes.toFixed(1)}${commits}${passes}`;
}

/** The migration backends' page faults and CPU per MiB of chat table. */
function backendText(r: PointRegime): string {
  if (r.backendFaultsPerMB == null || r.backendCpuMsPerMB == null) return '–';
  return `${formatCount(Math.round(r.backendFaultsPerMB))} · ${r.backendCpuMsPerMB.toFixed(1)} ms`;
}

export const REGIME_HEADER = [
  'shared_buffers',
  'max_wal_size',
  'chat_message + indexes',
  '÷ shared_buffers',
  'indexes ÷ shared_buffers',
  'checkpoints',
  'WAL between checkpoints',
  '÷ indexes',
  'buffer hits',
  'chat_message hits',
  'load ÷ autovacuum_naptime',
  'backend faults · CPU per MiB',
];

/** The regime each point ran in, and how the sizes were scaled to the target's. */
function regimeSection(result: RunResult, sorted: SweepPoint[]): string | null {
  const withRegime = sorted.filter((p) => p.regime);
  if (withRegime.length === 0) return null;
  const scaling = (result.extra?.sweep as { regimeScaling?: RegimeScaling } | undefined)?.regimeScaling;
  const lines = [
    '### Regime of each point',
    '',
    "What decides cost per GB: chat_message and its indexes against shared_buffers (pages re-read once they no longer fit), the WAL between checkpoints against the indexes (after each checkpoint every page changed writes a full-page image), and the share of blocks the load found in shared_buffers (pg_stat_database for the database, pg_statio_all_tables for chat_message). Duration also depends on the migration backends' memory: page faults per MiB of chat table show how much memory they gave back to the kernel and faulted in again (each large value detoasted, each INSERT's text parsed), which a short run can do throughout and a long one only at its start (read from /proc where the server runs on this machine: the embedded provider).",
    '',
    markdownTable(
      ['strategy', 'chat table', ...REGIME_HEADER],
      withRegime.map((p) => [p.strategy, formatBytes(p.sizeBytes), ...regimeCells(p.regime!)]),
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  ];
  if (scaling) {
    const t = scaling.target;
    lines.push('', `Target: ${formatBytes(t.sizeBytes)} of chat on a server with shared_buffers ${formatBytes(t.sharedBuffersBytes)} and max_wal_size ${formatBytes(t.maxWalSizeBytes)} (${t.source}).`);
    if (scaling.notScaled) lines.push(`The sizes were not scaled to the target's regime: ${scaling.notScaled}.`);
    else {
      lines.push('Each size ran with shared_buffers and max_wal_size scaled with its data, so these ratios are the target’s:', '');
      for (const z of scaling.sizes) {
        const parts = [`matched: ${z.matched.join('; ') || 'none'}`];
        if (z.unmatched.length) parts.push(`not matched: ${z.unmatched.map((u) => `${u.ratio} (${u.reason})`).join('; ')}`);
        lines.push(`- ${formatBytes(z.sizeBytes)}: shared_buffers ${formatBytes(z.sharedBuffersBytes)}, max_wal_size ${formatBytes(z.maxWalSizeBytes)}; ${parts.join('; ')}`);
      }
    }
  }
  return lines.join('\n');
}

/** The projection check a sweep may keep in `extra.sweep.projectionCheck` (the well-formed entries; none when absent). */
export function projectionChecks(result: RunResult): ProjectionCheck[] {
  const raw = (result.extra?.sweep as { projectionCheck?: unknown } | undefined)?.projectionCheck;
  return Array.isArray(raw) ? raw.filter(isProjectionCheck) : [];
}

/** The lowest and highest of some runs' figures. */
const spread = (xs: number[], f: (x: number) => string) => `${f(Math.min(...xs))} – ${f(Math.max(...xs))}`;

/** The projection check: projected against measured. */
function projectionCheckTable(result: RunResult): string | null {
  const checks = projectionChecks(result);
  if (checks.length === 0) return null;
  const fpiCells = (c: ProjectionCheck) =>
    c.projectedFpi !== undefined && c.measuredFpi !== undefined && c.fpiErrorPct !== undefined ? [formatCount(c.projectedFpi), formatCount(c.measuredFpi), signedPct(c.fpiErrorPct)] : ['–', '–', '–'];
  const band = (c: ProjectionCheck) =>
    c.withinBand ? (['durationMs', 'walBytes', 'fpi'] as const).map((k) => (c.withinBand![k] ? '✓' : '✗')).join(' ') : '–';
  const numbers = (xs: unknown) => Array.isArray(xs) && xs.length > 1 && xs.every((x) => typeof x === 'number' && Number.isFinite(x));
  const repeated = checks.filter((c) => c.measuredRuns && numbers(c.measuredRuns.durationMs) && numbers(c.measuredRuns.walBytes) && numbers(c.measuredRuns.fpi));
  const crossed = checks.flatMap((c) => (c.crossings ?? []).map((x) => `${c.strategy} at ${formatBytes(c.sizeBytes)}: ${x.boundary} (${x.target}; measured: ${x.measured})`));
  const followed = checks.map(checkCauses).filter((x): x is string => x !== null);
  const floored = checks.some((c) => c.atSpeedFloor);
  const atOneSpeed = (c: ProjectionCheck) => (floored ? [c.atSpeedFloor ? signedPct(c.atSpeedFloor.durationErrorPct) : '–'] : []);
  return [
    '### Projection check',
    '',
    `The fit projected to a size that was then measured too; the error is projected minus measured, over measured. "In band": duration, WAL, full-page images inside the (possibly widened) band.${
      floored
        ? ' "At one speed": the duration\'s error with every fitted point brought to the check run\'s machine speed, by a speed floor (a fixed query and a fixed client workload, timed just before and after every run): what the model missed, without how much faster or slower the machine ran in one stretch of minutes than in another.'
        : ''
    }`,
    '',
    markdownTable(
      ['strategy', 'chat table', 'duration projected', 'measured', 'error', ...(floored ? ['at one speed'] : []), 'WAL projected', 'measured', 'error', 'FPI projected', 'measured', 'error', 'in band'],
      checks.map((c) => [
        c.strategy,
        formatBytes(c.sizeBytes),
        formatDuration(c.projectedDurationMs),
        formatDuration(c.measuredDurationMs),
        signedPct(c.durationErrorPct),
        ...atOneSpeed(c),
        formatBytes(c.projectedWalBytes),
        formatBytes(c.measuredWalBytes),
        signedPct(c.walErrorPct),
        ...fpiCells(c),
        band(c),
      ]),
      ['l', 'r', 'r', 'r', 'r', ...(floored ? (['r'] as const) : []), 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
    ),
    ...(repeated.length
      ? [
          '',
          'Each check size ran several times (sweep --check-repeat); measured is the fastest run’s duration and the median of the runs’ WAL and full-page images, as for a point. The runs ranged:',
          '',
          ...repeated.map(
            (c) =>
              `- ${c.strategy} at ${formatBytes(c.sizeBytes)}, ${c.measuredRuns!.durationMs.length} runs: duration ${spread(c.measuredRuns!.durationMs, formatDuration)}, WAL ${spread(c.measuredRuns!.walBytes, formatBytes)}, full-page images ${spread(c.measuredRuns!.fpi, formatCount)}`,
          ),
        ]
      : []),
    ...(crossed.length ? ['', 'Checked sizes beyond a regime boundary no fitted point crossed (their bands were widened):', '', ...crossed.map((x) => `- ${x}`)] : []),
    ...(followed.length
      ? [
          '',
          "What the images followed in the check runs: a page's first change after each checkpoint writes one, so checkpoints further apart than projected give fewer; and a load that commits as it goes writes one on each old page in which an autovacuum pass found room, which the sizes fitted cannot show if no pass came during theirs (the regime table says).",
          '',
          ...followed.map((x) => `- ${x}`),
        ]
      : []),
  ].join('\n');
}

/** One check's checkpoint spacing (projected and measured) and autovacuum's passes in its runs, or null when it recorded neither. */
export function checkCauses(c: ProjectionCheck): string | null {
  const parts: string[] = [];
  const s = c.checkpointSpacing;
  if (s && s.projectedBytes > 0 && s.measuredBytes > 0)
    parts.push(`checkpoints ${formatBytes(s.measuredBytes)} apart, ${formatBytes(s.projectedBytes)} projected (${signedPct((100 * (s.projectedBytes - s.measuredBytes)) / s.measuredBytes)})`);
  const av = c.autovacuumPasses;
  if (Array.isArray(av) && av.length) {
    const each = av.map((p) => `${p.heap} over chat_message, ${p.toast} over its TOAST table`);
    parts.push(`autovacuum passes ${av.length > 1 ? `per run: ${each.join('; ')}` : each[0]}`);
  }
  const f = c.backendFaultsPerMB;
  if (f) parts.push(`the migration backends' page faults per MiB of chat ${formatCount(Math.round(f.measured))}, ${formatCount(Math.round(f.point))} at ${formatBytes(f.pointSizeBytes)}`);
  const floor = c.atSpeedFloor;
  if (floor) parts.push(`speed floor ${floor.measuredFloorMs.toFixed(0)} ms beside the check, ${floor.pointFloorsMs.map((x) => x.toFixed(0)).join(', ')} ms beside the points' runs (smallest size first)`);
  return parts.length ? `${c.strategy} at ${formatBytes(c.sizeBytes)}: ${parts.join('; ')}` : null;
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
  const regime = regimeSection(result, sorted);
  const repeated = sorted.filter((p) => p.runs && p.runs.durationMs.length > 1);
  const repeats = repeated.length
    ? [
        '',
        'Each point above is its fastest run’s duration (another process can only slow a run) and the median of its runs’ WAL and full-page images (sweep --repeat); the runs ranged:',
        '',
        ...repeated.map(
          (p) =>
            `- ${p.strategy} at ${formatBytes(p.sizeBytes)}, ${p.runs!.durationMs.length} runs: duration ${spread(p.runs!.durationMs, formatDuration)}, WAL ${spread(p.runs!.walBytes, formatBytes)}, full-page images ${spread(p.runs!.fpi, formatCount)}`,
        ),
      ]
    : [];
  return [
    '## Sweep: cost per GB against size',
    '',
    table,
    ...repeats,
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
    ...(regime ? ['', regime] : []),
    ...(check ? ['', check] : []),
  ].join('\n');
}
