/**
 * The speed floor's arithmetic and the projection check's duration at one
 * machine speed, on hand-made points (the floor's timing itself runs in the
 * sweep's integration test, against a real server).
 */
import { describe, expect, it } from 'vitest';
import { atFloor, clientWork, serverFloorMs } from '../../harness/measure/speed-floor.ts';
import type { SweepPoint } from '../../harness/result/sweep-points.ts';
import { atSpeedFloorOf, pointOf } from '../../harness/sweep/run-sweep.ts';

const MB = 1024 ** 2;
const GB = 1024 ** 3;
const server = { sharedBuffersBytes: 128 * MB, maxWalSizeBytes: GB };

/** What the work takes on a machine whose floor is 300 ms: a fixed part and a part per MiB. */
const trueMs = (sizeBytes: number) => 2_000 + 40 * (sizeBytes / MB);

function point(sizeBytes: number, speedFloorMs: number | undefined, strategy = 'original'): SweepPoint {
  const slower = (speedFloorMs ?? 300) / 300;
  return { strategy, sizeBytes, durationMs: Math.round(trueMs(sizeBytes) * slower), walBytes: sizeBytes, fpi: 1000, outcome: 'succeeded', ...(speedFloorMs ? { speedFloorMs } : {}) };
}

describe('speed floor', () => {
  it('brings a duration from one floor to another in proportion, and refuses a floor that is not positive', () => {
    expect(atFloor(10_000, 300, 330)).toBeCloseTo(11_000, 6);
    expect(atFloor(11_000, 330, 300)).toBeCloseTo(10_000, 6);
    expect(() => atFloor(10_000, 0, 300)).toThrow(/positive/);
    expect(() => atFloor(10_000, 300, Number.NaN)).toThrow(/positive/);
  });

  it("takes a run's floor as the lower of its two readings: a reading is only ever slowed", () => {
    expect(serverFloorMs({ before: { serverMs: 343, clientMs: 140 }, after: { serverMs: 414, clientMs: 180 } })).toBe(343);
    expect(serverFloorMs({ before: { serverMs: 351, clientMs: 140 }, after: { serverMs: 338, clientMs: 180 } })).toBe(338);
  });

  it("takes the backend's CPU time where both readings have it (a busy neighbour slows the wall time, not the CPU time), else the wall time", () => {
    expect(serverFloorMs({ before: { serverMs: 495, serverCpuMs: 340, clientMs: 140 }, after: { serverMs: 336, serverCpuMs: 346.7, clientMs: 180 } })).toBe(340);
    expect(serverFloorMs({ before: { serverMs: 495, serverCpuMs: 340, clientMs: 140 }, after: { serverMs: 336, clientMs: 180 } })).toBe(336);
  });

  it("does the client's work in full every time (a figure that depends on every pass)", () => {
    const n = clientWork();
    expect(n).toBeGreaterThan(1_000_000);
    expect(clientWork()).toBe(n);
  });

  it("keeps on a point the floor of the run whose duration it took, and none where a run read none", () => {
    const run = (durationMs: number, speedFloorMs?: number) => ({ durationMs, walBytes: 10, fpi: 1, outcome: 'succeeded' as const, ...(speedFloorMs ? { speedFloorMs } : {}) });
    expect(pointOf('original', 128 * MB, [run(9_000, 340), run(8_000, 310), run(8_500, 320)]).speedFloorMs).toBe(310);
    expect(pointOf('original', 128 * MB, [run(9_000, 340)]).speedFloorMs).toBe(340);
    expect(pointOf('original', 128 * MB, [run(9_000, 340), run(8_000)])).not.toHaveProperty('speedFloorMs');
  });
});

describe("a projection check's duration at one speed", () => {
  it("takes out the machine's drift: a middle point on a stretch 10 % slower, and a check on it too, miss raw and hold at one speed", () => {
    // 256 MB ran on a stretch 10 % slower, as did the check; 128 and 512 MB did not.
    const points = [point(128 * MB, 300), point(256 * MB, 330), point(512 * MB, 300)];
    const check: SweepPoint = { ...point(4 * GB, 330), outcome: 'succeeded' };
    const { atSpeedFloor } = atSpeedFloorOf(points, check, server, 'larger', undefined);
    expect(atSpeedFloor).toBeDefined();
    expect(atSpeedFloor!.measuredFloorMs).toBe(330);
    expect(atSpeedFloor!.pointFloorsMs).toEqual([300, 330, 300]);
    // At the check's speed every point lies on one straight line, which the projection then follows to the check.
    expect(Math.abs(atSpeedFloor!.durationErrorPct)).toBeLessThan(0.5);
    expect(atSpeedFloor!.projectedDurationMs).toBeCloseTo(check.durationMs, -2);
    // Raw, the same points project low: two of three ran faster than the check.
    const raw = atSpeedFloorOf(points.map((p) => ({ ...p, speedFloorMs: 330 })), check, server, 'larger', undefined).atSpeedFloor!;
    expect(raw.durationErrorPct).toBeLessThan(-5);
  });

  it('is absent where a point of the strategy or the check read no floor, and ignores the other strategies', () => {
    const points = [point(128 * MB, 300), point(256 * MB, 330), point(512 * MB, 300)];
    const check = point(4 * GB, 330);
    expect(atSpeedFloorOf([...points.slice(0, 2), point(512 * MB, undefined)], check, server, 'larger', undefined)).toEqual({});
    expect(atSpeedFloorOf(points, point(4 * GB, undefined), server, 'larger', undefined)).toEqual({});
    const other = [point(128 * MB, undefined, 'chunked'), point(512 * MB, undefined, 'chunked')];
    expect(atSpeedFloorOf([...points, ...other], check, server, 'larger', undefined).atSpeedFloor!.pointFloorsMs).toEqual([300, 330, 300]);
  });

  it('leaves a failed point out, as the projection does', () => {
    const points = [point(128 * MB, 300), point(256 * MB, 330), point(512 * MB, 300), { ...point(1 * GB, undefined), outcome: 'failed' as const }];
    expect(atSpeedFloorOf(points, point(4 * GB, 330), server, 'larger', undefined).atSpeedFloor!.pointFloorsMs).toEqual([300, 330, 300]);
  });
});
