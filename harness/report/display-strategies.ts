/**
 * The strategies as reports show them. A run has one result per strategy; a
 * sweep has one per strategy and size, under the same name. Reports then
 * name each by its dataset (`chunked (87,410 rows)`), and compare and chart
 * only the results on the largest dataset.
 */
import type { RunResult, StrategyResult } from '../result/run-result.ts';
import { formatCount } from './number-format.ts';

function namesAreUnique(strategies: StrategyResult[]): boolean {
  return new Set(strategies.map((s) => s.name)).size === strategies.length;
}

/** `result.strategies` with names unique for display (copies; the result is not changed). */
export function displayStrategies(result: RunResult): StrategyResult[] {
  const strategies = result.strategies;
  if (namesAreUnique(strategies)) return strategies;
  const labels = strategies.map((s) => `${s.name} (${formatCount(s.rows.expected)} rows)`);
  const seen = new Map<string, number>();
  return strategies.map((s, i) => {
    const total = labels.filter((l) => l === labels[i]).length;
    const n = (seen.get(labels[i]) ?? 0) + 1;
    seen.set(labels[i], n);
    return { ...s, name: total > 1 ? `${labels[i]} #${n}` : labels[i] };
  });
}

/**
 * The results compared and charted together: all of a run; of a sweep, those
 * on the largest dataset (under their plain names when that keeps them
 * unique), with a note saying so.
 */
export function largestDataset(result: RunResult): { strategies: StrategyResult[]; note: string | null } {
  const shown = displayStrategies(result);
  const datasets = new Set(result.strategies.map((s) => s.rows.expected)).size;
  // A sweep names its results `chunked@256MB`: unique names, yet several datasets.
  if (namesAreUnique(result.strategies) && !(result.kind === 'sweep' && datasets > 1)) return { strategies: shown, note: null };
  const largest = Math.max(...result.strategies.map((s) => s.rows.expected));
  const plain = result.strategies.filter((s) => s.rows.expected === largest);
  return {
    strategies: namesAreUnique(plain) ? plain : shown.filter((s) => s.rows.expected === largest),
    note: `the runs on the largest dataset (${formatCount(largest)} rows); the sweep section has every size`,
  };
}
