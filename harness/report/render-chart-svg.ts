/**
 * `chart.svg`: WAL and rows over time per strategy, readable without the
 * Markdown. Rendered with echarts on the server (no DOM), animation off, at a
 * fixed size; the per-instance ids echarts embeds are renumbered so the same
 * result always gives the same bytes.
 */
import * as echarts from 'echarts';
import type { RunResult, StrategyResult } from '../result/run-result.ts';
import { largestDataset } from './display-strategies.ts';
import { formatCount, mebibytesOf, niceMax, secondsOf } from './number-format.ts';

/** Width of the SVG, px. */
const CHART_WIDTH = 960;
/** Height of the SVG, px: two panels, a title, a legend and a caption. */
const CHART_HEIGHT = 790;

/** One colour per strategy, in the order they ran (both panels use the same). */
export const PALETTE = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#7f7f7f'];
/** Where restart labels sit, by strategy, so labels at the same time do not overlap. */
const LABEL_POSITIONS = ['insideEndTop', 'insideEndBottom', 'insideMiddleTop', 'insideMiddleBottom'] as const;

const TOP_GRID = { left: 96, right: 48, top: 132, height: 230 };
const BOTTOM_GRID = { left: 96, right: 48, top: 452, height: 230 };

type Point = [number, number | null];

function walPoints(s: StrategyResult): Point[] {
  return s.timeline.map((sample) => [secondsOf(sample.tMs), mebibytesOf(sample.walBytes)]);
}

/** Rows per attempt, with a gap where one attempt ends and the next starts. */
function rowPoints(s: StrategyResult): Point[] {
  const points: Point[] = [];
  let attempt: number | null = null;
  for (const sample of s.timeline) {
    if (attempt !== null && sample.attempt !== attempt) points.push([secondsOf(sample.tMs), null]);
    attempt = sample.attempt;
    points.push([secondsOf(sample.tMs), sample.rows]);
  }
  return points;
}

/** Dashed vertical lines where a restarted attempt began. */
function restartLines(s: StrategyResult, index: number) {
  const restarts = s.attempts.filter((a) => a.n > 1);
  if (restarts.length === 0) return undefined;
  return {
    silent: true,
    symbol: 'none',
    lineStyle: { type: 'dashed' as const, width: 1 },
    label: { position: LABEL_POSITIONS[index % LABEL_POSITIONS.length], fontSize: 10 },
    data: restarts.map((a) => ({ xAxis: secondsOf(a.startMs), label: { formatter: `${s.name} #${a.n}` } })),
  };
}

/** A marker where an attempt was ended by a fault or failed, labelled with how it ended. */
function attemptEnds(s: StrategyResult) {
  const ends = s.attempts.filter((a) => a.ended !== 'completed');
  if (ends.length === 0) return undefined;
  return {
    silent: true,
    symbol: 'circle',
    symbolSize: 7,
    label: { position: 'top' as const, fontSize: 10, color: '#333333' },
    data: ends.map((a) => {
      const last = s.timeline.filter((sample) => sample.attempt === a.n).at(-1);
      return {
        name: `${s.name} attempt ${a.n}`,
        coord: [secondsOf(a.endMs), last ? mebibytesOf(last.walBytes) : 0],
        value: a.ended,
        label: { formatter: a.ended },
      };
    }),
  };
}

/** Makes echarts' per-instance ids (`zr3-c0`, `zr3-cls-17`) independent of how many charts the process drew before. */
function normalizeSvgIds(svg: string): string {
  const ids = new Map<string, string>();
  const counters = new Map<string, number>();
  return svg.replace(/\bzr\d+-([a-z]+-?)(\d+)\b/g, (id, kind: string) => {
    let canonical = ids.get(id);
    if (canonical === undefined) {
      const n = counters.get(kind) ?? 0;
      counters.set(kind, n + 1);
      canonical = `zr0-${kind}${n}`;
      ids.set(id, canonical);
    }
    return canonical;
  });
}

/** Longest subtitle line, characters: the SVG does not wrap text. */
const SUBTITLE_WIDTH = 140;

function clip(text: string): string {
  return text.length > SUBTITLE_WIDTH ? `${text.slice(0, SUBTITLE_WIDTH - 1)}…` : text;
}

function subtitle(result: RunResult): string {
  const lines = [`run ${result.runId} (${result.kind}) · PostgreSQL ${result.postgres.version} via ${result.postgres.provider}`];
  lines.push(result.faults ? `faults: ${result.faults.description}` : 'no faults injected');
  return lines.map(clip).join('\n');
}

function caption(result: RunResult, strategies: StrategyResult[], note: string | null): string {
  if (strategies.length === 0) {
    return `No strategy ran: the run stopped${result.stoppedAt ? ` at ${result.stoppedAt}` : ''} (${result.status})${result.error ? `: ${result.error}` : ''}.`;
  }
  const verdicts = strategies.map((s) => {
    const how = s.outcome === 'succeeded' ? (s.verified ? 'succeeded, verified' : 'succeeded, NOT verified') : 'FAILED';
    return `${s.name}: ${how} after ${s.attempts.length} attempt${s.attempts.length === 1 ? '' : 's'}`;
  });
  const key = 'Dots: an attempt ended by a fault or an error; dashed lines: the next attempt started. Time is since each strategy started.';
  return [clip(verdicts.join(' · ')), key, ...(note ? [`Charted: ${note}.`] : [])].join('\n');
}

/** The echarts option for a result (exported for tests that inspect it). */
function chartOption(result: RunResult): echarts.EChartsOption {
  const { strategies, note } = largestDataset(result);
  const maxS = niceMax(Math.max(1, ...strategies.flatMap((s) => s.timeline.map((sample) => secondsOf(sample.tMs)))));
  const axisCommon = { type: 'value' as const, min: 0, nameLocation: 'middle' as const };
  return {
    animation: false,
    backgroundColor: '#ffffff',
    color: PALETTE,
    textStyle: { fontFamily: 'sans-serif' },
    title: [
      {
        text: `${result.scenario.name}: WAL and rows over time`,
        subtext: subtitle(result),
        left: 'center',
        top: 8,
        textStyle: { fontSize: 18 },
        subtextStyle: { fontSize: 12, color: '#555555' },
      },
      { text: 'Cumulative WAL since the strategy started (MB)', left: TOP_GRID.left, top: TOP_GRID.top - 28, textStyle: { fontSize: 13 } },
      {
        text: 'Rows written by the current attempt (resets at a restart)',
        left: BOTTOM_GRID.left,
        top: BOTTOM_GRID.top - 28,
        textStyle: { fontSize: 13 },
      },
      { text: caption(result, strategies, note), left: 'center', bottom: 8, textStyle: { fontSize: 11, fontWeight: 'normal', color: '#333333' } },
    ],
    graphic: strategies.length
      ? []
      : [
          {
            type: 'text',
            left: 'center',
            top: TOP_GRID.top + TOP_GRID.height / 2,
            style: { text: 'No strategy ran: nothing was measured', fontSize: 16, fill: '#999999' },
          },
        ],
    legend: { top: 72, data: strategies.map((s) => s.name), itemWidth: 24 },
    grid: [TOP_GRID, BOTTOM_GRID],
    xAxis: [
      { ...axisCommon, gridIndex: 0, max: maxS, name: 'time (s)', nameGap: 26 },
      { ...axisCommon, gridIndex: 1, max: maxS, name: 'time (s)', nameGap: 26 },
    ],
    yAxis: [
      { ...axisCommon, gridIndex: 0, name: 'WAL (MB)', nameGap: 62, axisLabel: { formatter: (v: number) => formatCount(v) } },
      { ...axisCommon, gridIndex: 1, name: 'rows', nameGap: 62, axisLabel: { formatter: (v: number) => formatCount(v) } },
    ],
    series: strategies.flatMap((s, i) => [
      {
        name: s.name,
        type: 'line' as const,
        xAxisIndex: 0,
        yAxisIndex: 0,
        showSymbol: false,
        lineStyle: { width: 2 },
        color: PALETTE[i % PALETTE.length],
        data: walPoints(s),
        markLine: restartLines(s, i),
        markPoint: attemptEnds(s),
      },
      {
        name: s.name,
        type: 'line' as const,
        xAxisIndex: 1,
        yAxisIndex: 1,
        showSymbol: false,
        connectNulls: false,
        lineStyle: { width: 2 },
        color: PALETTE[i % PALETTE.length],
        data: rowPoints(s),
      },
    ]),
  };
}

/** The SVG document. */
export function renderChartSvg(result: RunResult): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: CHART_WIDTH, height: CHART_HEIGHT });
  try {
    chart.setOption(chartOption(result));
    return `${normalizeSvgIds(chart.renderToSVGString())}\n`;
  } finally {
    chart.dispose();
  }
}
