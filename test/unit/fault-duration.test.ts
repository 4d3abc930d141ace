/**
 * Duration with the migration backends' page faults as a cost of their own:
 * the fit recovers parameters worked out in advance, refuses what it cannot
 * tell, projects at the points' lowest rate, and the sweep and its report use
 * it where the points carry faults.
 */
import { describe, expect, it } from 'vitest';
import { renderProjections } from '../../harness/report/render-projections.ts';
import type { RunResult } from '../../harness/result/run-result.ts';
import type { SweepPoint } from '../../harness/result/sweep-points.ts';
import { durationAt, fitFaultDuration, projectFaultDuration, type FaultPoint } from '../../harness/sweep/fault-duration.ts';
import { pointRegime } from '../../harness/sweep/regime.ts';
import { fitsOf, projectionsOf } from '../../harness/sweep/run-sweep.ts';

const MB = 1024 ** 2;
const GB = 1024 ** 3;

/** 0.3 s, 45 ms per MiB and 19 µs per fault, at rates that do not follow size. */
const truth = { fixedMs: 300, msPerMiB: 45, msPerFault: 0.019 };
const at = (sizeBytes: number, faultsPerMiB: number): FaultPoint => ({
  sizeBytes,
  faultsPerMiB,
  durationMs: truth.fixedMs + (sizeBytes / MB) * (truth.msPerMiB + truth.msPerFault * faultsPerMiB),
});
const points = [at(128 * MB, 919), at(256 * MB, 400), at(512 * MB, 645)];

describe('fitFaultDuration', () => {
  it('recovers the fixed part, the cost per MiB and the cost per fault', () => {
    const f = fitFaultDuration(points)!;
    expect(f.fixedMs).toBeCloseTo(300, 3);
    expect(f.msPerMiB).toBeCloseTo(45, 6);
    expect(f.msPerFault).toBeCloseTo(0.019, 9);
    expect(f.faultsPerMiB).toEqual({ low: 400, high: 919 });
    expect(f.n).toBe(3);
  });

  it('projects at the lowest rate the points showed, its band from no faults to the highest', () => {
    const f = fitFaultDuration(points)!;
    const p = projectFaultDuration(f, 4 * GB);
    expect(p.value).toBeCloseTo(300 + 4096 * (45 + 0.019 * 400), 3);
    expect(p.low).toBeCloseTo(300 + 4096 * 45, 3);
    expect(p.high).toBeCloseTo(300 + 4096 * (45 + 0.019 * 919), 3);
    expect(durationAt(f, 4 * GB, 151)).toBeCloseTo(300 + 4096 * (45 + 0.019 * 151), 3);
  });

  it('says nothing where size alone explains the points or the fit is not a cost', () => {
    // Two sizes (repeats of one size do not count).
    expect(fitFaultDuration([points[0], points[1], { ...points[1], durationMs: points[1].durationMs * 1.01 }])).toBeNull();
    // Rates within 10 % of one another: faults cannot be told from size.
    expect(fitFaultDuration([at(128 * MB, 600), at(256 * MB, 620), at(512 * MB, 650)])).toBeNull();
    // More faults, less time: not a cost per fault.
    expect(fitFaultDuration([at(128 * MB, 400), { ...at(256 * MB, 900), durationMs: at(256 * MB, 100).durationMs }, at(512 * MB, 645)])).toBeNull();
  });
});

describe('a sweep whose points carry faults', () => {
  const regime = (sizeBytes: number, faultsPerMiB: number) =>
    pointRegime({
      sharedBuffersBytes: 128 * MB,
      maxWalSizeBytes: 64 * MB,
      checkpointEveryBytes: null,
      chatMessageBytes: 0.55 * sizeBytes,
      indexBytes: 0.03 * sizeBytes,
      walBytes: 0.6 * sizeBytes,
      checkpoints: Math.round((0.6 * sizeBytes) / (40 * MB)),
      bufferHitRatio: 0.9,
      chatMessageHitRatio: 0.95,
      backendFaultsPerMB: faultsPerMiB,
      backendCpuMsPerMB: 30,
    });
  const sweepPoints: SweepPoint[] = points.map((p) => ({
    strategy: 'chunked',
    sizeBytes: p.sizeBytes,
    durationMs: p.durationMs,
    walBytes: 0.6 * p.sizeBytes,
    fpi: (7000 * p.sizeBytes) / GB,
    outcome: 'succeeded',
    regime: regime(p.sizeBytes, p.faultsPerMiB),
  }));
  const server = { sharedBuffersBytes: 128 * MB, maxWalSizeBytes: 64 * MB };

  it('projects duration from size and faults, and says so', () => {
    const [p] = projectionsOf(fitsOf(sweepPoints, ['chunked']), sweepPoints, ['chunked'], 4 * GB, server, 'larger');
    expect(p.modelOf!.durationMs).toBe('faults');
    expect(p.faults!.msPerFault).toBeCloseTo(0.019, 9);
    // The centre at 400 faults per MiB; the curve through the points, which carries their faults to the target, lies above it, inside the band.
    const curve = projectionsOf(fitsOf(sweepPoints, ['chunked']), sweepPoints.map((x) => ({ ...x, regime: { ...x.regime!, backendFaultsPerMB: null } })), ['chunked'], 4 * GB, server, 'larger')[0];
    expect(curve.modelOf!.durationMs).not.toBe('faults');
    expect(p.durationMs).toBe(Math.round(300 + 4096 * (45 + 0.019 * 400)));
    expect(curve.durationMs).toBeGreaterThan(p.durationMs);
    expect(p.durationMsHigh).toBeGreaterThanOrEqual(curve.durationMs);
    expect(p.durationMsLow).toBe(Math.round(300 + 4096 * 45));
    const md = renderProjections({ projections: [p], harness: { cpus: 2, memoryBytes: 8 * GB }, postgres: { version: '15.18', provider: 'embedded' } } as unknown as RunResult)!;
    expect(md).toContain('duration from size and backend page faults');
    expect(md).toContain('- chunked at 4.00 GB: 300 ms + 45.0 ms per MiB of chat + 19.0 µs per backend page fault, at 400 faults per MiB (the points showed 400–919).');
  });

  it('keeps the curve for sizes run in the target’s regime (the straight line)', () => {
    const [p] = projectionsOf(fitsOf(sweepPoints, ['chunked']), sweepPoints, ['chunked'], 4 * GB, server, 'linear');
    expect(p.faults).toBeUndefined();
  });
});
