/**
 * A small sweep end to end: each strategy at three sizes, fits, a
 * projection with its band, a projection check measured at a fourth size,
 * and the report. (The figures are small and noisy here; the honesty check
 * of the projection at realistic sizes is in the README, with its command.)
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../../harness/result/run-result.ts';
import type { ProjectionCheck, RegimeScaling, SweepPoint } from '../../harness/result/sweep-points.ts';
import { validateResult } from '../../harness/result/validate-result.ts';
import { fitGrowth, project } from '../../harness/sweep/fit.ts';

const execFileP = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let work: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'owui-sweep-test-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** `sweep` on the embedded server with this file's seed cache, writing to `out`; its stdout and result.json. */
async function runSweepCli(out: string, ...args: string[]): Promise<{ stdout: string; result: RunResult }> {
  const cli = [path.join(ROOT, 'harness/cli.ts'), 'sweep', ...args, '--provider', 'embedded', '--cache-dir', path.join(work, 'cache'), '--no-probe', '--out', out];
  const { stdout } = await execFileP(process.execPath, ['--import', 'tsx', ...cli], { cwd: ROOT, env: { ...process.env, CI: 'true' }, maxBuffer: 64 * 1024 * 1024 });
  return { stdout, result: JSON.parse(await readFile(path.join(out, 'result.json'), 'utf8')) as RunResult };
}

describe('fitting growth', () => {
  it('recovers a linear law and a super-linear one, with bands that widen away from the data', () => {
    const xs = [1, 2, 4, 8];
    const lin = fitGrowth(xs, xs.map((x) => 3 * x));
    expect(lin.slope).toBeCloseTo(1, 6);
    expect(lin.r2).toBeCloseTo(1, 6);
    expect(project(lin, 16).value).toBeCloseTo(48, 6);
    const sq = fitGrowth(xs, xs.map((x) => x * x));
    expect(sq.slope).toBeCloseTo(2, 6);
    const noisy = fitGrowth(xs, [3.3, 5.7, 12.6, 23.1]);
    const near = project(noisy, 8);
    const far = project(noisy, 64);
    expect(near.low).toBeLessThan(near.value);
    expect(near.high).toBeGreaterThan(near.value);
    expect((far.high - far.low) / far.value).toBeGreaterThan((near.high - near.low) / near.value);
  });
});

describe('sweep', () => {
  // Eight and six runs of the harness: on two busy cores (another test file alongside) they have taken over three minutes.
  it('runs each strategy at each size, fits, projects and checks the projection', { timeout: 480_000 }, async () => {
    const out = path.join(work, 'sweep');
    const { stdout, result } = await runSweepCli(out, '--sizes', '4MB,8MB,16MB', '--strategies', 'chunked,setbased', '--project', '32MB', '--check-projection', '--scale-regime', '-q');
    expect(stdout).toMatch(/report: /);
    expect(validateResult(result).ok).toBe(true);
    expect(result.kind).toBe('sweep');
    const sweep = result.extra!.sweep as { points: { strategy: string; sizeBytes: number }[]; fits: { strategy: string; metric: string }[]; projectionCheck: unknown[] };
    expect(sweep.points).toHaveLength(6);
    expect(new Set(sweep.fits.map((f) => `${f.strategy}:${f.metric}`)).size).toBe(6);
    expect(result.projections!.map((p) => p.strategy).sort()).toEqual(['chunked', 'setbased']);
    for (const p of result.projections!) {
      expect(p.size).toBe(32 * 1024 * 1024);
      expect(p.durationMsLow).toBeLessThanOrEqual(p.durationMs);
      expect(p.durationMsHigh).toBeGreaterThanOrEqual(p.durationMs);
      expect(p.walBytesLow).toBeLessThanOrEqual(p.walBytes);
      expect(p.walBytesHigh).toBeGreaterThanOrEqual(p.walBytes);
    }
    expect(sweep.projectionCheck).toHaveLength(2);
    // Each point records its regime; each size ran in the 32MB target's: shared_buffers 128MB x size / 32MB (with this fixture's 4-16MB).
    const regimeSweep = result.extra!.sweep as { points: SweepPoint[]; regimeScaling: RegimeScaling; projectionCheck: ProjectionCheck[] };
    for (const p of regimeSweep.points) {
      expect(p.regime).toBeDefined();
      expect(p.regime!.indexBytes).toBeGreaterThan(0);
      expect(p.regime!.bufferHitRatio).toBeGreaterThan(0);
    }
    expect(regimeSweep.regimeScaling.target.sizeBytes).toBe(32 * 1024 * 1024);
    expect(regimeSweep.regimeScaling.sizes.map((z) => z.sharedBuffersBytes)).toEqual([16, 32, 64].map((m) => m * 1024 * 1024));
    const byBuffers = new Map(regimeSweep.regimeScaling.sizes.map((z) => [z.sizeBytes, z.sharedBuffersBytes]));
    expect(regimeSweep.points.filter((p) => p.strategy === 'chunked').map((p) => p.regime!.sharedBuffersBytes)).toEqual([...byBuffers.values()]);
    for (const c of regimeSweep.projectionCheck) {
      expect(typeof c.fpiErrorPct).toBe('number');
      expect(c.withinBand).toBeDefined();
    }
    expect(result.projections!.every((p) => p.model === 'linear')).toBe(true);
    // Checkpoints are counted by redo pointer too (the embedded server's superuser may read pg_control), and the regime takes that count.
    for (const s of result.strategies) {
      expect(typeof s.checkpoints.completed).toBe('number');
      expect(s.checkpoints.completed!).toBeLessThanOrEqual(s.checkpoints.timed + s.checkpoints.requested + 1);
    }
    // 3 sizes plus the projection check, 2 strategies each: every run verified.
    expect(result.strategies).toHaveLength(8);
    expect(result.strategies.every((s) => s.verified)).toBe(true);
    const md = await readFile(path.join(out, 'report.md'), 'utf8');
    expect(md).toMatch(/projection/i);
    expect(md).toMatch(/this machine/i);
  });

  it('on the same settings at every size (the default), with --repeat and --check-repeat: runs in rounds, fastest durations and median WAL, both fits, a backtest, the projection on the terminal', { timeout: 480_000 }, async () => {
    const out = path.join(work, 'sweep-repeat');
    const { stdout, result } = await runSweepCli(out, '--sizes', '4MB,8MB,16MB', '--strategies', 'setbased,original', '--project', '64MB', '--check-projection', '32MB', '--repeat', '2', '--check-repeat', '2');
    expect(validateResult(result).ok).toBe(true);
    // Two runs of each strategy at each of three sizes and at the check size, in rounds: each strategy once, then each again.
    const names = (size: string) => [`setbased@${size} #1`, `original@${size} #1`, `setbased@${size} #2`, `original@${size} #2`];
    expect(result.strategies.map((s) => s.name)).toEqual([...names('4MB'), ...names('8MB'), ...names('16MB'), ...names('32MB (projection check)')]);
    expect(result.strategies.every((s) => s.verified)).toBe(true);
    const { points, projectionCheck } = result.extra!.sweep as { points: SweepPoint[]; projectionCheck: ProjectionCheck[] };
    expect(points).toHaveLength(6);
    const runsOf = (strategy: string, size: string) => result.strategies.filter((s) => s.name.startsWith(`${strategy}@${size} `));
    // Points by size, each size's strategies in order.
    for (const [i, p] of points.entries()) {
      const runs = runsOf(p.strategy, ['4MB', '8MB', '16MB'][i >> 1]);
      expect(p.strategy).toBe(['setbased', 'original'][i % 2]);
      // Every run's checkpoint intervals (redo pointers), summed: what spaces this strategy's checkpoints at the target.
      const spans = runs.flatMap((r) => (r.checkpoints.intervals ? [r.checkpoints.intervals] : []));
      expect(p.checkpointIntervals ?? null).toEqual(spans.length ? { intervals: spans.reduce((a, x) => a + x.intervals, 0), walBytes: spans.reduce((a, x) => a + x.walBytes, 0) } : null);
      // The regime knows how long the load ran against autovacuum_naptime, and whether it committed as it went (original: one transaction; setbased commits every 100 chats).
      expect(p.regime!.durationMs).toBe(p.durationMs);
      expect(p.regime!.autovacuumNaptimeMs).toBe(60_000);
      // (A load the samples saw for under ten intervals cannot tell: null.) One transaction's longest is the span its samples saw it open, give or take their round trips.
      const ownRun = runs.find((r) => r.durationMs === p.durationMs)!;
      if (p.strategy === 'original') {
        expect(p.regime!.commitsDuringLoad).not.toBe(true);
        // Both come from the same samples: neither or both.
        expect(ownRun.longestTransactionMs === null).toBe(ownRun.transactionSpanMs === null);
        if (ownRun.transactionSpanMs != null) expect(ownRun.longestTransactionMs!).toBeGreaterThan(ownRun.transactionSpanMs - 250);
      }
      expect([true, false, null]).toContain(p.regime!.commitsDuringLoad);
      expect(p.runs!.durationMs).toEqual(runs.map((r) => r.durationMs));
      expect(p.durationMs).toBe(Math.min(runs[0].durationMs, runs[1].durationMs));
      // The passes autovacuum made over chat_message during its run (the fastest, whose regime the point keeps), as its samples saw them.
      const fastest = runs[0].durationMs <= runs[1].durationMs ? runs[0] : runs[1];
      expect(p.regime!.autovacuumPasses).toBe(fastest.autovacuum!.passes.length);
      // On the embedded server the migration backends are this machine's processes: their page faults and CPU were read, per MiB of chat table in the regime.
      const b = fastest.backendProcesses!;
      expect(b.backends).toBeGreaterThanOrEqual(1);
      expect(b.minorFaults).toBeGreaterThan(0);
      expect(b.userMs + b.systemMs).toBeGreaterThan(0);
      expect(p.regime!.backendFaultsPerMB).toBeCloseTo(b.minorFaults / (p.sizeBytes / 1024 ** 2), 6);
      expect(p.regime!.backendCpuMsPerMB).toBeCloseTo((b.userMs + b.systemMs) / (p.sizeBytes / 1024 ** 2), 6);
      expect(p.walBytes).toBe(Math.round((runs[0].wal.bytes + runs[1].wal.bytes) / 2));
      // Every run timed the speed floor just before and after it, on the embedded server in its backend's CPU time too; the point keeps its fastest run's, the lower CPU reading.
      for (const r of runs) for (const reading of [r.speedFloor!.before, r.speedFloor!.after]) expect(Math.min(reading.serverMs, reading.clientMs, reading.serverCpuMs!)).toBeGreaterThan(0);
      expect(p.speedFloorMs).toBe(Math.min(fastest.speedFloor!.before.serverCpuMs!, fastest.speedFloor!.after.serverCpuMs!));
    }
    // The check is taken like a point: the fastest duration, the median WAL and images (of two, their mean rounded: result.json takes whole numbers), every run kept.
    expect(projectionCheck.map((c) => c.strategy)).toEqual(['setbased', 'original']);
    for (const c of projectionCheck) {
      const runs = runsOf(c.strategy, '32MB');
      expect(c.measuredRuns!.durationMs).toEqual(runs.map((r) => r.durationMs));
      expect(c.measuredDurationMs).toBe(Math.min(runs[0].durationMs, runs[1].durationMs));
      expect(c.measuredWalBytes).toBe(Math.round((runs[0].wal.bytes + runs[1].wal.bytes) / 2));
      expect(c.measuredFpi).toBe(Math.round((runs[0].wal.fpi + runs[1].wal.fpi) / 2));
      // What the images followed there: each run's autovacuum passes, and its checkpoints' spacing (every run's intervals pooled) beside the projection's.
      const count = (r: (typeof runs)[number], relation: string) => r.autovacuum!.passes.filter((x) => x.relation === relation).length;
      expect(c.autovacuumPasses).toEqual(runs.map((r) => ({ heap: count(r, 'chat_message'), toast: count(r, 'chat_message TOAST') })));
      const spans = runs.flatMap((r) => (r.checkpoints.intervals ? [r.checkpoints.intervals] : []));
      const projected = result.projections!.find((x) => x.strategy === c.strategy && x.size !== 64 * 1024 ** 2);
      if (spans.length && projected?.cycles)
        expect(c.checkpointSpacing!.measuredBytes).toBe(Math.round(spans.reduce((a, x) => a + x.walBytes, 0) / spans.reduce((a, x) => a + x.intervals, 0)));
      else expect(c.checkpointSpacing).toBeUndefined();
      // The duration at one machine speed: the fastest check run's floor, the points' in size order, and its error against the same measured duration.
      const quickest = runs[0].durationMs <= runs[1].durationMs ? runs[0] : runs[1];
      const f = c.atSpeedFloor!;
      expect(f.measuredFloorMs).toBe(Math.min(quickest.speedFloor!.before.serverCpuMs!, quickest.speedFloor!.after.serverCpuMs!));
      expect(f.pointFloorsMs).toEqual(points.filter((p) => p.strategy === c.strategy).map((p) => p.speedFloorMs));
      expect(f.durationErrorPct).toBeCloseTo((100 * (f.projectedDurationMs - c.measuredDurationMs)) / c.measuredDurationMs, 0);
    }
    // Each point's first run was read back from its WAL, page by page; its self-check compares the images its gaps give at its own checkpoints with pg_stat_wal's.
    for (const p of points) {
      const first = runsOf(p.strategy, ['4MB', '8MB', '16MB'][points.indexOf(p) >> 1])[0];
      expect(p.pages!.changes).toBeGreaterThan(0);
      expect(p.pages!.revisits).toBeLessThanOrEqual(p.pages!.changes);
      expect(p.pages!.measuredFpi).toBe(first.wal.fpi);
      expect(p.pages!.chats).toBeGreaterThan(0);
      expect(Number.isFinite(p.pages!.selfCheckPct)).toBe(true);
    }
    const [proj] = result.projections!;
    expect(proj.model).toBe('larger');
    // Duration from a curve, or from size and the backends' page faults where the points' rates differ enough (fault-duration.ts), which then keeps its fit.
    expect(['power-law', 'linear', 'faults']).toContain(proj.modelOf!.durationMs);
    expect(proj.faults !== undefined).toBe(proj.modelOf!.durationMs === 'faults');
    // WAL and images from the page traces: every point's estimate kept, the figures the largest point's, inside their band.
    expect(proj.modelOf).toMatchObject({ walBytes: 'cycles', fpi: 'cycles' });
    expect(proj.cycles!.fromSizeBytes).toBe(points[4].sizeBytes);
    expect(proj.cycles!.estimates.map((e) => e.sizeBytes)).toEqual([points[0], points[2], points[4]].map((p) => p.sizeBytes));
    expect(proj.fpi).toBe(proj.cycles!.estimates[2].fpi);
    expect(proj.walBytes).toBe(proj.cycles!.estimates[2].walBytes);
    expect(proj.fpiLow).toBeLessThanOrEqual(proj.fpi);
    expect(proj.fpiHigh).toBeGreaterThanOrEqual(proj.fpi);
    expect(proj.cycles!.checkpoints).toBeCloseTo(proj.walBytes / proj.cycles!.walPerCheckpointBytes, 3);
    expect(proj.backtest).toMatchObject({ fittedUpTo: points[2].sizeBytes, predicted: points[4].sizeBytes });
    expect(Number.isFinite(proj.backtest!.walBytesPct)).toBe(true);
    expect(stdout).toMatch(/projected to 64\.0 MB \(report\.md has the bands and how far to trust them\):\n {2}setbased {2}\S.* · WAL \S+ \S+ · [\d,]+ full-page images/);
    const md = await readFile(path.join(out, 'report.md'), 'utf8');
    expect(md).toContain('fastest run’s duration');
    expect(md).toMatch(/setbased at [\d.]+ [kM]B, 2 runs: duration/);
    expect(md).toContain('sweep --check-repeat');
    expect(md).toMatch(/original at 3\d\.\d MB, 2 runs: duration/);
    expect(md).toContain('Backtest');
    // Each projection's model, said in the report: the larger of both curves, or (where the points' page-fault rates decided it) duration from size and faults.
    const fromFaults = result.projections!.map((p) => p.modelOf?.durationMs === 'faults');
    if (fromFaults.includes(false)) expect(md).toContain('larger of both');
    if (fromFaults.includes(true)) expect(md).toContain("Duration from size and the migration backends' page faults");
    expect(md).toContain('Checkpoint cycles (WAL and images)');
    expect(md).toMatch(/\| setbased \| [\d.]+ MB \| [^|]+ \| [^|]+ \| [+−][\d.]+ % \| [+−][\d.]+ % \|/);
    expect(md).toMatch(/speed floor \d+ ms beside the check, \d+, \d+, \d+ ms beside the points' runs/);
  });
});
