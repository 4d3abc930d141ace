/**
 * "Is the port faithful?": a port and upstream's own code for the same path,
 * run on clones of one template in the same Alembic environment, compared.
 * Rows byte-identical; WAL bytes and full-page images within a tolerance;
 * the same locks on `chat`, held about as long; the same outcome and stamp. Time and memory are
 * where a port can never be upstream (TypeScript against Python): they are
 * reported as ratios, not judged.
 */
import type { Check, StrategyResult } from '../result/run-result.ts';
import { formatBytes } from '../units.ts';
import type { RowComparison } from './row-differences.ts';

/** WAL bytes and full-page images may differ by this share. */
export const WAL_TOLERANCE = 0.1;

export interface FidelityFigures {
  port: string;
  /** Why this port stands for the checkout's file. */
  why: string;
  rows: RowComparison;
  /** port / upstream. */
  durationRatio: number | null;
  clientMemoryRatio: number | null;
  walBytesRatio: number | null;
  fpiRatio: number | null;
}

function ratio(a: number | null, b: number | null): number | null {
  return a === null || b === null || b === 0 ? null : a / b;
}

function within(r: number | null, a: number, b: number): boolean {
  // Both nothing is the same; one nothing is not.
  if (a === 0 && b === 0) return true;
  return r !== null && Math.abs(r - 1) <= WAL_TOLERANCE;
}

const pct = (r: number | null) => (r === null ? 'n/a' : `${r >= 1 ? '+' : '−'}${Math.abs((r - 1) * 100).toFixed(1)} %`);

/** A mode held in this many samples or more on one side was held for a while, not for one short statement. */
const HELD_SAMPLES = 4;
/** …and held for this many times the share of the other side's samples is held far longer there. */
const HELD_RATIO = 4;

/**
 * Lock modes are sampled: one a short statement holds (VALIDATE's ROW SHARE
 * on chat, say) may be seen on one side and fall between samples on the
 * other. A mode seen in two or more samples was held for at least a sample
 * interval; one side holding it and the other never is a difference. Both
 * sides may take the same mode for different lengths of time: a foreign key
 * created before the load holds SHARE ROW EXCLUSIVE on chat (writes blocked)
 * to the end of the transaction, one created after it for a moment. So a mode
 * is also compared by the share of each side's samples that saw it (a slower
 * but faithful port holds each mode for the same share of its run).
 */
export function compareLocks(a: StrategyResult, b: StrategyResult): { missing: string[]; transient: string[]; longer: string[] } {
  const seen = (s: StrategyResult, mode: string) => s.locksOnChatSamples?.[mode] ?? (s.locksOnChat.includes(mode) ? 2 : 0);
  const share = (s: StrategyResult, mode: string) => (s.timeline.length > 0 ? seen(s, mode) / s.timeline.length : null);
  const modes = [...new Set([...a.locksOnChat, ...b.locksOnChat])].sort();
  const missing: string[] = [];
  const transient: string[] = [];
  const longer: string[] = [];
  for (const m of modes) {
    const [x, y] = [seen(a, m), seen(b, m)];
    if (x > 0 && y > 0) {
      const [sx, sy] = [share(a, m), share(b, m)];
      // Only results that record the counts (and a timeline) can say how long.
      if (a.locksOnChatSamples && b.locksOnChatSamples && sx !== null && sy !== null) {
        const [many, manyShare, fewShare] = x >= y ? [x, sx, sy] : [y, sy, sx];
        if (many >= HELD_SAMPLES && manyShare >= HELD_RATIO * fewShare) longer.push(`${m} (in ${x} of ${a.timeline.length} samples against ${y} of ${b.timeline.length})`);
      }
      continue;
    }
    if (Math.max(x, y) >= 2) missing.push(m);
    else transient.push(m);
  }
  return { missing, transient, longer };
}

function stampOf(s: StrategyResult): string {
  return s.stamp ? `${s.stamp.verdict} (${s.stamp.raw ?? 'none'})` : (s.alembicVersion ?? 'none');
}

export function fidelityChecks(port: StrategyResult, upstream: StrategyResult, rows: RowComparison, why: string): { checks: Check[]; figures: FidelityFigures } {
  const name = `${port.name} vs upstream`;
  const figures: FidelityFigures = {
    port: port.name,
    why,
    rows,
    durationRatio: ratio(port.durationMs, upstream.durationMs),
    clientMemoryRatio: ratio(port.clientPeakRssBytes, upstream.clientPeakRssBytes),
    walBytesRatio: ratio(port.wal.bytes, upstream.wal.bytes),
    fpiRatio: ratio(port.wal.fpi, upstream.wal.fpi),
  };
  const locks = compareLocks(port, upstream);
  const checks: Check[] = [
    {
      name: 'rows byte-identical',
      strategy: name,
      passed: rows.differing === 0 && rows.portRows === rows.upstreamRows,
      measured: `${rows.identical} identical, ${rows.differing} differing (port ${rows.portRows} rows, upstream ${rows.upstreamRows})`,
      limit: 'every row identical in every column',
    },
    {
      name: 'WAL bytes',
      strategy: name,
      passed: within(figures.walBytesRatio, port.wal.bytes, upstream.wal.bytes),
      measured: `port ${formatBytes(port.wal.bytes)}, upstream ${formatBytes(upstream.wal.bytes)} (${pct(figures.walBytesRatio)})`,
      limit: `within ±${WAL_TOLERANCE * 100} %`,
    },
    {
      name: 'full-page images',
      strategy: name,
      passed: within(figures.fpiRatio, port.wal.fpi, upstream.wal.fpi),
      measured: `port ${port.wal.fpi}, upstream ${upstream.wal.fpi} (${pct(figures.fpiRatio)})`,
      limit: `within ±${WAL_TOLERANCE * 100} %`,
    },
    {
      name: 'locks on chat',
      strategy: name,
      passed: locks.missing.length === 0 && locks.longer.length === 0,
      measured: `port ${port.locksOnChat.join(', ') || 'none'}; upstream ${upstream.locksOnChat.join(', ') || 'none'}${locks.missing.length ? `; held by one side only: ${locks.missing.join(', ')}` : ''}${locks.longer.length ? `; held far longer by one side, port against upstream: ${locks.longer.join(', ')}` : ''}${locks.transient.length ? `; seen in one sample on one side only (held briefly, between samples on the other): ${locks.transient.join(', ')}` : ''}`,
      limit: `the same lock modes, held about as long (a mode in two samples on one side must be seen on the other; one seen in ${HELD_SAMPLES} samples or more must not be held for ${HELD_RATIO}× the other side's share of its samples)`,
    },
    {
      name: 'outcome and stamp',
      strategy: name,
      passed: port.outcome === upstream.outcome && stampOf(port) === stampOf(upstream) && port.attempts.length === upstream.attempts.length,
      measured: `port ${port.outcome} in ${port.attempts.length} attempt(s), ${stampOf(port)}; upstream ${upstream.outcome} in ${upstream.attempts.length} attempt(s), ${stampOf(upstream)}`,
      limit: 'the same outcome, attempts and stamp',
    },
  ];
  return { checks, figures };
}
