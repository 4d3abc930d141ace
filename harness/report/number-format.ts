/**
 * Number formats the reports share (sizes and durations come from
 * `harness/units.ts`). Fixed to en-US so reports read the same on every
 * machine.
 */
import { formatDuration } from '../units.ts';

const COUNT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** A count with thousands separators (`41,023`); `n/a` for null. */
export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return 'n/a';
  return COUNT.format(n);
}

/** A number with thousands separators and at most `digits` decimals (`1,044.5`). */
export function formatDecimal(n: number, digits: number): string {
  return new Intl.NumberFormat('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 }).format(n);
}

/** A ratio of at least 1 (`1.45`, `12.3`, `140`): three significant figures, then whole numbers. */
export function formatRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return '∞';
  if (ratio < 10) return ratio.toFixed(2);
  if (ratio < 100) return ratio.toFixed(1);
  return formatCount(Math.round(ratio));
}

/** Seconds for chart axes: whole or one decimal. */
export function secondsOf(ms: number): number {
  return Math.round(ms / 100) / 10;
}

/** Mebibytes for chart axes (MB in the reports, 1024-based like PostgreSQL's). */
export function mebibytesOf(bytes: number): number {
  return Math.round((bytes / 1024 ** 2) * 10) / 10;
}

/** A duration that may run to hours (`8 h 32 min`); below an hour as `formatDuration`. */
export function formatLongDuration(ms: number): string {
  if (!(ms >= 3_600_000)) return formatDuration(ms);
  const totalMin = Math.round(ms / 60_000);
  return `${Math.floor(totalMin / 60)} h ${totalMin % 60} min`;
}

/** An axis end that is a round number at or above `max` (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × a power of ten). */
export function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
    if (step * magnitude >= max) return Number((step * magnitude).toPrecision(12));
  }
  return 10 * magnitude;
}

/** A signed percentage with a true minus sign: "+4.2 %", "−13.0 %". */
export function signedPct(pct: number, digits = 1): string {
  return `${pct >= 0 ? '+' : '−'}${Math.abs(pct).toFixed(digits)} %`;
}
