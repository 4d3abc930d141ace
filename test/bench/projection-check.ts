/**
 * Benchmark: how far a sweep's projection holds. One sweep of small sizes
 * (`sweep --project <check> --check-projection <checks>`, embedded server,
 * no probe) measures each strategy at each check size too, and this prints
 * the error of its projected duration, WAL and full-page images against
 * what was measured there. By default 128-512 MB projected to 4 GB (8x) and
 * to 8 GB (16x), each size on the same server settings (the sweep's default
 * model: the larger of a power law and a straight line); each small size
 * runs five times (`--repeat`) and each check size twice (`--check-repeat`),
 * in rounds, each taken as its fastest duration and its median WAL and
 * images. Beside the raw duration error it prints the error "at one speed":
 * every point brought to the check run's machine speed by the speed floor
 * timed beside each run (harness/measure/speed-floor.ts), which leaves the
 * model's miss without the machine's drift between stretches of minutes.
 * `--scale-regime` runs the small sizes in each check size's regime
 * instead (straight line), a sweep per check. A check whose data the disk cannot hold
 * is skipped, saying so. About an hour by default: a benchmark, not a test.
 *
 *   npx tsx test/bench/projection-check.ts [--sizes 128MB,256MB,512MB] [--checks 4GB,8GB]
 *       [--strategies original,chunked] [--seed 23273] [--repeat 5] [--check-repeat 2]
 *       [--scale-regime] [--out results/bench/projection]
 */
import { spawn } from 'node:child_process';
import { readFile, statfs } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkCauses } from '../../harness/report/render-sweep.ts';
import type { RunResult } from '../../harness/result/run-result.ts';
import type { ProjectionCheck } from '../../harness/result/sweep-points.ts';
import { formatBytes, parseSize, pgSize } from '../../harness/units.ts';
import { benchArgs } from './bench-args.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The error the issue asks a projection to stay within. */
const TARGET_PCT = 15;

const USAGE = `usage: npx tsx test/bench/projection-check.ts [--sizes 128MB,256MB,512MB] [--checks 4GB,8GB]
    [--strategies original,chunked] [--seed 23273] [--repeat 5] [--check-repeat 2]
    [--scale-regime] [--out results/bench/projection]
`;

const flags = benchArgs(
  {
    sizes: { type: 'string', default: '128MB,256MB,512MB' },
    checks: { type: 'string', default: '4GB,8GB' },
    strategies: { type: 'string', default: 'original,chunked' },
    seed: { type: 'string', default: '23273' },
    'scale-regime': { type: 'boolean', default: false },
    repeat: { type: 'string', default: '5' },
    'check-repeat': { type: 'string', default: '2' },
    out: { type: 'string', default: path.join('results', 'bench', 'projection') },
  },
  USAGE,
);

function sizeList(flag: string, v: string): number[] {
  return v.split(',').map((x) => {
    const r = parseSize(x.trim());
    if (!r.ok) {
      process.stderr.write(`error: --${flag}: ${r.reason}\n`);
      process.exit(2);
    }
    return r.bytes;
  });
}
const checks = sizeList('checks', flags.checks!);
const sizes = sizeList('sizes', flags.sizes!);
for (const f of ['repeat', 'check-repeat'] as const)
  if (!/^[1-9]$/.test(flags[f]!)) {
    process.stderr.write(`error: --${f}: '${flags[f]}' is not a repeat count; use 1 to 9\n`);
    process.exit(2);
  }

/**
 * What a check needs on disk, about: its seed in the cache takes twice its
 * chat table (7.9 GB for 4 GB here), the run's copy of that data directory as
 * much again, and a strategy's clone, its chat_message and WAL one more
 * chat table. Counted as if the seed were not cached yet: a bound, not a fit.
 */
function diskNeeded(sizeBytes: number): number {
  return 5 * sizeBytes;
}

function sweep(checks: number[], out: string): Promise<number | null> {
  const args = [
    '--import',
    'tsx',
    path.join(ROOT, 'harness/cli.ts'),
    'sweep',
    '--provider',
    'embedded',
    '--seed',
    flags.seed!,
    '--sizes',
    flags.sizes!,
    '--strategies',
    flags.strategies!,
    '--project',
    pgSize(checks[0]),
    '--check-projection',
    checks.map(pgSize).join(','),
    '--repeat',
    flags.repeat!,
    '--check-repeat',
    flags['check-repeat']!,
    ...(flags['scale-regime'] ? ['--scale-regime'] : []),
    '--no-probe',
    '--out',
    out,
  ];
  process.stderr.write(`npm run harness -- ${args.slice(3).join(' ')}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('close', resolve);
  });
}

const pct = (x: number | undefined) => (x === undefined ? '–' : `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(1)} %`);
const within = (x: number | undefined) => x !== undefined && Math.abs(x) <= TARGET_PCT;

console.log(`projection check: sizes ${flags.sizes} projected to ${checks.map(pgSize).join(', ')}; strategies ${flags.strategies}; seed ${flags.seed}; ${flags.repeat} run(s) per small size, ${flags['check-repeat']} per check size; ${flags['scale-regime'] ? 'sizes scaled to each check size\'s regime' : 'every size on the same server settings'}`);
console.log(`machine: ${os.availableParallelism()} cpus, load average at start ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
const fs = await statfs(os.tmpdir());
const free = fs.bavail * fs.bsize;
const largest = Math.max(...sizes);
const ratio = (check: number) => `${(check / largest).toFixed(0)}x`;
// The checks run one after another, each clone dropped before the next: the largest that fits bounds the disk.
const fitting = checks.filter((check) => {
  if (free >= diskNeeded(check)) return true;
  console.log(`${pgSize(check)} (${ratio(check)}): skipped, the disk has ${formatBytes(free)} free and a check at this size needs about ${formatBytes(diskNeeded(check))}`);
  return false;
});
if (!fitting.length) process.exit(0);
// One sweep measures the small sizes once for every check; with --scale-regime
// the small sizes run in one check size's regime, so each check has its own sweep.
const groups = flags['scale-regime'] ? fitting.map((c) => [c]) : [fitting];
let exitCode = 0;
for (const group of groups) {
  const out = groups.length > 1 ? path.join(flags.out!, pgSize(group[0])) : flags.out!;
  const t0 = performance.now();
  const code = await sweep(group, out);
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0) {
    exitCode = 1;
    console.log(`the sweep exited ${code} after ${seconds.toFixed(0)} s; see ${out}`);
    continue;
  }
  const result = JSON.parse(await readFile(path.join(out, 'result.json'), 'utf8')) as RunResult;
  const all = (result.extra?.sweep as { projectionCheck?: ProjectionCheck[] } | undefined)?.projectionCheck ?? [];
  console.log(`${group.map(pgSize).join(', ')}: ${seconds.toFixed(0)} s, ${out}/report.md`);
  for (const check of group) {
    // The check's data is seeded to about the asked size: its rows are the checks within a few percent of it.
    const rows = all.filter((c) => Math.abs(c.sizeBytes - check) < 0.05 * check).map((c) => ({
      c,
      ok: within(c.durationErrorPct) && within(c.walErrorPct) && within(c.fpiErrorPct),
      // The same with the duration at one machine speed (each point brought to the check run's speed floor).
      okAtOneSpeed: c.atSpeedFloor ? within(c.atSpeedFloor.durationErrorPct) && within(c.walErrorPct) && within(c.fpiErrorPct) : undefined,
    }));
    if (!rows.length) exitCode = 1;
    console.log(`${pgSize(check)} (${ratio(check)}):`);
    console.log('  strategy   chat table   duration   at one speed   WAL        full-page images   within ±15 %   at one speed');
    const yes = (x: boolean | undefined) => (x === undefined ? '–' : x ? 'yes' : 'no (missed)');
    for (const { c, ok, okAtOneSpeed } of rows)
      console.log(
        `  ${c.strategy.padEnd(10)} ${formatBytes(c.sizeBytes).padStart(10)}   ${pct(c.durationErrorPct).padStart(8)}   ${pct(c.atSpeedFloor?.durationErrorPct).padStart(12)}   ${pct(c.walErrorPct).padStart(8)}   ${pct(c.fpiErrorPct).padStart(8)}           ${yes(ok).padEnd(12)}   ${yes(okAtOneSpeed)}`,
      );
    // What the images followed in the check's runs: the spacing of its checkpoints and autovacuum's passes.
    for (const { c } of rows) {
      const causes = checkCauses(c);
      if (causes) console.log(`  ${causes}`);
    }
  }
}
process.exit(exitCode);
