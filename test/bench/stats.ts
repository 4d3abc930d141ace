/** Summary statistics of a benchmark's repeated timings (sample standard deviation; median of the middle two for an even count). */
export interface Stats {
  n: number;
  mean: number;
  sd: number;
  median: number;
  min: number;
  max: number;
  samples: number[];
}

export function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1));
  const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { n: xs.length, mean, sd, median, min: s[0], max: s[s.length - 1], samples: xs };
}

/** The headline scenario's server settings, autovacuum off so a strategy's timing is its own. */
export const BENCH_SERVER_SETTINGS = { max_wal_size: '64MB', wal_level: 'replica', shared_buffers: '128MB', autovacuum: 'off' };
