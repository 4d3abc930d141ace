import { describe, expect, it } from 'vitest';
import { compareLocks, fidelityChecks } from '../../harness/fidelity/fidelity-checks.ts';
import type { StrategyResult } from '../../harness/result/run-result.ts';

/** Only what the lock comparison reads: the modes, in how many samples each, and how many samples there were. */
function side(samples: number, locks: Record<string, number> | undefined, modes = Object.keys(locks ?? {})): StrategyResult {
  return { locksOnChat: [...modes].sort(), locksOnChatSamples: locks, timeline: Array.from({ length: samples }, (_, i) => ({ tMs: i * 50 })) } as unknown as StrategyResult;
}

describe('the lock comparison of fidelity', () => {
  it('a mode in two samples on one side and none on the other is missing; in one sample, transient', () => {
    expect(compareLocks(side(20, { AccessShareLock: 9, ShareRowExclusiveLock: 2 }), side(20, { AccessShareLock: 9 }))).toEqual({ missing: ['ShareRowExclusiveLock'], transient: [], longer: [] });
    expect(compareLocks(side(20, { AccessShareLock: 9, RowShareLock: 1 }), side(20, { AccessShareLock: 9 }))).toEqual({ missing: [], transient: ['RowShareLock'], longer: [] });
  });

  it('a mode both take, one through the load and the other for a moment, is held far longer (the foreign key before the load against after it)', () => {
    const r = compareLocks(side(25, { AccessShareLock: 10, ShareRowExclusiveLock: 10 }), side(24, { AccessShareLock: 9, ShareRowExclusiveLock: 1 }));
    expect(r).toEqual({ missing: [], transient: [], longer: ['ShareRowExclusiveLock (in 10 of 25 samples against 1 of 24)'] });
    // Either way round.
    expect(compareLocks(side(24, { ShareRowExclusiveLock: 1 }), side(25, { ShareRowExclusiveLock: 10 })).longer).toEqual(['ShareRowExclusiveLock (in 1 of 24 samples against 10 of 25)']);
  });

  it('a slower port holds each mode for the same share of its run: not a difference', () => {
    expect(compareLocks(side(80, { AccessShareLock: 40, ShareRowExclusiveLock: 40 }), side(20, { AccessShareLock: 10, ShareRowExclusiveLock: 10 })).longer).toEqual([]);
  });

  it('short runs are not judged on length: fewer than four samples of the mode on the longer side', () => {
    expect(compareLocks(side(6, { AccessShareLock: 3 }), side(30, { AccessShareLock: 1 })).longer).toEqual([]);
    expect(compareLocks(side(6, { AccessShareLock: 4 }), side(30, { AccessShareLock: 1 })).longer).toEqual(['AccessShareLock (in 4 of 6 samples against 1 of 30)']);
  });

  it('results without the per-sample counts are compared on the modes alone', () => {
    expect(compareLocks(side(25, undefined, ['ShareRowExclusiveLock']), side(24, { ShareRowExclusiveLock: 1 }))).toEqual({ missing: [], transient: [], longer: [] });
  });

  it('the check fails on a mode held far longer and says which, port against upstream', () => {
    const port = { ...side(25, { AccessShareLock: 10, ShareRowExclusiveLock: 10 }), name: 'original', durationMs: 1, clientPeakRssBytes: null, wal: { bytes: 100, fpi: 10 }, outcome: 'succeeded', attempts: [{}], alembicVersion: 'x' } as unknown as StrategyResult;
    const upstream = { ...side(24, { AccessShareLock: 9, ShareRowExclusiveLock: 1 }), name: 'upstream', durationMs: 1, clientPeakRssBytes: null, wal: { bytes: 100, fpi: 10 }, outcome: 'succeeded', attempts: [{}], alembicVersion: 'x' } as unknown as StrategyResult;
    const { checks } = fidelityChecks(port, upstream, { identical: 1, differing: 0, portRows: 1, upstreamRows: 1, differences: [] } as never, 'test');
    const locks = checks.find((c) => c.name === 'locks on chat')!;
    expect(locks.passed).toBe(false);
    expect(locks.measured).toContain('held far longer by one side, port against upstream: ShareRowExclusiveLock (in 10 of 25 samples against 1 of 24)');
    expect(checks.filter((c) => !c.passed).map((c) => c.name)).toEqual(['locks on chat']);
  });
});
