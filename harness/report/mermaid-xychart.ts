/**
 * A mermaid `xychart-beta` block (renders on GitHub). The chart has no
 * legend: callers name the lines in the text under it.
 */

/** One chart: a numeric x range or categories, and lines of equal length. */
interface XyChart {
  title: string;
  x: { title: string; min: number; max: number } | { title: string; categories: string[] };
  y: { title: string; max: number };
  lines: number[][];
}

function quote(text: string): string {
  return `"${text.replace(/"/g, "'")}"`;
}

/** The fenced block, ```mermaid … ```. */
export function mermaidXyChart(chart: XyChart): string {
  const x =
    'categories' in chart.x
      ? `x-axis ${quote(chart.x.title)} [${chart.x.categories.map(quote).join(', ')}]`
      : `x-axis ${quote(chart.x.title)} ${chart.x.min} --> ${chart.x.max}`;
  return [
    '```mermaid',
    'xychart-beta',
    `    title ${quote(chart.title)}`,
    `    ${x}`,
    `    y-axis ${quote(chart.y.title)} 0 --> ${chart.y.max}`,
    ...chart.lines.map((values) => `    line [${values.map((v) => String(Number(v.toFixed(1)))).join(', ')}]`),
    '```',
  ].join('\n');
}
