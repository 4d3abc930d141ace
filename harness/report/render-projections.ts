/**
 * The projections section of `report.md`: what a sweep's fit predicts at a
 * larger size, with bounds, said plainly to be projections for this
 * machine's speed.
 */
import type { RunResult } from '../result/run-result.ts';
import { sweepPoints, type SweepPoint } from '../result/sweep-points.ts';
import { WIDEN_PER_CROSSING } from '../sweep/regime.ts';
import { formatBytes, formatDuration } from '../units.ts';
import { markdownTable } from './markdown.ts';
import { formatCount, formatLongDuration, signedPct } from './number-format.ts';

function range(value: string, low: string, high: string): string {
  return `${value} (${low} – ${high})`;
}

/** For each projection beyond a boundary: where the points were and where the target is, and what the widening means. */
function crossingNotes(projections: NonNullable<RunResult['projections']>): string[] {
  const lines = projections.flatMap((p) => (p.regime?.crossings ?? []).map((c) => `- ${p.strategy} at ${formatBytes(p.size)}, ${c.boundary}: the target has ${c.target}; the points had ${c.measured}.`));
  if (!lines.length) return [];
  return [
    '',
    `Beyond a boundary no measured point crossed the fit cannot know the cost per GB, only that it does not fall: each band's high end is multiplied by ${WIDEN_PER_CROSSING} per boundary crossed (a heuristic, not a model). WAL and images from checkpoint cycles already follow the target's checkpoints and buffers, so theirs widen only past autovacuum's boundary: a load that commits as it goes and outlasts autovacuum_naptime has autovacuum pass over its rows, after which inserts fill room left in old pages, each page an image, which no shorter run shows. Measure at sizes beyond the boundary, or in the target's regime (sweep --scale-regime scales shared_buffers and max_wal_size with the data).`,
    '',
    ...lines,
  ];
}

const FIT_NAME = { 'power-law': 'power law', linear: 'straight line', cycles: 'checkpoint cycles', faults: 'size and backend page faults' } as const;

/** A note's explanation followed by its lines, or nothing when there are no lines. */
function explained(explanation: string, lines: string[]): string[] {
  return lines.length ? ['', explanation, '', ...lines] : [];
}

/** How a duration came from the points' sizes and their backends' page faults, where it did. */
function faultNotes(projections: NonNullable<RunResult['projections']>): string[] {
  const lines = projections.flatMap((p) => {
    const f = p.faults;
    if (!f) return [];
    return [
      `- ${p.strategy} at ${formatBytes(p.size)}: ${formatDuration(f.fixedMs)} + ${f.msPerMiB.toFixed(1)} ms per MiB of chat + ${(1000 * f.msPerFault).toFixed(1)} µs per backend page fault, at ${formatCount(Math.round(f.faultsPerMiB.low))} faults per MiB (the points showed ${formatCount(Math.round(f.faultsPerMiB.low))}–${formatCount(Math.round(f.faultsPerMiB.high))}).`,
    ];
  });
  return explained(
    "Duration from size and the migration backends' page faults: a backend that gives memory back to the kernel faults it in again for the next large value, at a rate the chats it meets set (mostly the same run after run on one data set), which a curve through the points would carry to the target as cost per byte. So each point's duration is split into a fixed part, a part per MiB and a part per fault (least squares over the points), and the target is taken at the lowest rate any point showed: a long run settles below what short ones pay (measured: README, Regimes). The band runs from no faults to the highest rate, and up to the curve's own figure.",
    lines,
  );
}

/** Which model a projection's figures came from, said per figure when they differ. */
function modelCell(p: NonNullable<RunResult['projections']>[number]): string {
  if (p.model === 'linear') return 'straight line (sizes run in the target’s regime)';
  if (p.model !== 'larger' || !p.modelOf) return 'power law';
  const m = p.modelOf;
  if (m.durationMs === 'faults') return `duration from ${FIT_NAME.faults}; WAL ${FIT_NAME[m.walBytes]}, images ${FIT_NAME[m.fpi]}${m.walBytes === 'cycles' ? '' : ' (the larger of both)'}`;
  if (m.durationMs === m.walBytes && m.walBytes === m.fpi) return `larger of both: ${FIT_NAME[m.durationMs]}`;
  return `larger of both: duration ${FIT_NAME[m.durationMs]}, WAL ${FIT_NAME[m.walBytes]}, images ${FIT_NAME[m.fpi]}`;
}

/** How WAL and images were projected from the points' page changes, where they were. */
function cycleNotes(projections: NonNullable<RunResult['projections']>, points: SweepPoint[]): string[] {
  const checked = new Set<string>();
  const lines = projections.flatMap((p) => {
    const c = p.cycles;
    if (!c) return [];
    const others = c.estimates.filter((e) => e.sizeBytes !== c.fromSizeBytes);
    const selfChecks = checked.has(p.strategy)
      ? []
      : points
          .filter((x) => x.strategy === p.strategy && x.pages)
          .map((x) => `${formatBytes(x.sizeBytes)} ${signedPct(x.pages!.selfCheckPct, 0)} (${formatCount(x.pages!.modelledFpi)} modelled, ${formatCount(x.pages!.measuredFpi)} written, ${x.pages!.checkpoints} checkpoint${x.pages!.checkpoints === 1 ? '' : 's'})`);
    checked.add(p.strategy);
    return [
      ...(selfChecks.length ? [`- ${p.strategy}, self-check of each point: ${selfChecks.join('; ')}.`] : []),
      `- ${p.strategy} at ${formatBytes(p.size)}: ${c.checkpoints.toFixed(0)} checkpoints, one every ${formatBytes(c.walPerCheckpointBytes)} of WAL; from the ${formatBytes(c.fromSizeBytes)} point${others.length ? ` (the others gave ${others.map((e) => `${formatBytes(e.walBytes)} and ${formatCount(e.fpi)} images from ${formatBytes(e.sizeBytes)}`).join(', ')})` : ''}.`,
    ];
  });
  return explained(
    "Checkpoint cycles (WAL and images): each point's WAL was read back page by page, and every change to a page that had been changed before counts as an image with the chance that a checkpoint fell since, its gap over the WAL between checkpoints; at the target there are proportionally more changes, and the gaps of index pages (beyond one chat's burst of inserts) grow with the data. So the images follow the checkpoints expected there instead of a curve through the points. The band spans the points' estimates, widened by how far the largest point's own images, so modelled, missed those it wrote (`points[].pages.selfCheckPct`).",
    lines,
  );
}

/**
 * For each strategy, once: how its model did one step out within the sweep
 * (fitted without the largest size, checked there). Said, not applied: the
 * band is the fits' own (see fit.ts backtest).
 */
function backtestNotes(projections: NonNullable<RunResult['projections']>): string[] {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const p of projections) {
    if (!p.backtest || seen.has(p.strategy)) continue;
    seen.add(p.strategy);
    const b = p.backtest;
    lines.push(
      `- ${p.strategy}: fitted up to ${formatBytes(b.fittedUpTo)}, it predicted ${formatBytes(b.predicted)} with duration ${signedPct(b.durationMsPct, 0)}, WAL ${signedPct(b.walBytesPct, 0)}, full-page images ${signedPct(b.fpiPct, 0)} against what was measured there.`,
    );
  }
  if (!lines.length) return [];
  return [
    '',
    'Backtest: the model fitted again without the largest size and checked against it, one step of extrapolation inside the sweep. With three sizes that is a line through two points, so it says first how much the points disagree with one another (a run of seconds is noisy: repeat each size with --repeat), and only then how the curve bends; the projection goes several such steps further, from all the points.',
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
    ...(projections.some((p) => p.model === 'larger')
      ? [
          '',
          'Each figure is the larger of two fits at the projected size: a power law, which a fixed cost at small sizes bends low, and a straight line (a fixed cost plus a cost per GB), which cost per GB that grows with size leaves low. Its band covers both.',
        ]
      : []),
    '',
    markdownTable(
      ['strategy', 'chat table', 'duration (low – high)', 'WAL (low – high)', 'full-page images (low – high)', 'model', 'regime'],
      projections.map((p) => [
        p.strategy,
        formatBytes(p.size),
        range(formatLongDuration(p.durationMs), formatLongDuration(p.durationMsLow), formatLongDuration(p.durationMsHigh)),
        range(formatBytes(p.walBytes), formatBytes(p.walBytesLow), formatBytes(p.walBytesHigh)),
        range(formatCount(p.fpi), formatCount(p.fpiLow), formatCount(p.fpiHigh)),
        modelCell(p),
        !p.regime ? '–' : p.regime.widened ? `⚠️ beyond the measured regimes: ${p.regime.crossings.map((c) => c.boundary).join('; ')} (band widened)` : 'within the measured regimes',
      ]),
      ['l', 'r', 'r', 'r', 'r', 'l', 'l'],
    ),
    ...cycleNotes(projections, sweepPoints(result) ?? []),
    ...faultNotes(projections),
    ...backtestNotes(projections),
    ...crossingNotes(projections),
  ].join('\n');
}
