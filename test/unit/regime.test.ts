/**
 * The regime bookkeeping and the band widening, from hand-made points whose
 * ratios are worked out in advance: what a point records, what the target
 * is expected to be, which boundaries a projection crosses, how the band
 * widens, how small sizes are scaled to a target's settings and what the
 * reports say about it.
 */
import { describe, expect, it } from 'vitest';
import { renderProjections } from '../../harness/report/render-projections.ts';
import { renderSweep } from '../../harness/report/render-sweep.ts';
import type { RunResult } from '../../harness/result/run-result.ts';
import type { PointRegime, SweepPoint } from '../../harness/result/sweep-points.ts';
import { checkpointSpacing, commitsAsItGoes, crossingsOutsideCycles, pointRegime, regimeCrossings, scaleSettings, SHARED_BUFFERS_FLOOR, targetRegime, widenBand, WIDEN_PER_CROSSING } from '../../harness/sweep/regime.ts';
import { checkpointLag, fitsOf, pointOf, projectionsOf, targetSettings } from '../../harness/sweep/run-sweep.ts';

const MB = 1024 ** 2;
const GB = 1024 ** 3;

/** A point whose chat_message is 1.2x the chat table with indexes of a fifth of it, on the given server. */
function regimeAt(sizeBytes: number, o: { sharedBuffers: number; maxWalSize: number; checkpoints: number; walPerByte?: number }): PointRegime {
  return pointRegime({
    sharedBuffersBytes: o.sharedBuffers,
    maxWalSizeBytes: o.maxWalSize,
    checkpointEveryBytes: null,
    chatMessageBytes: 1.2 * sizeBytes,
    indexBytes: 0.2 * sizeBytes,
    walBytes: (o.walPerByte ?? 0.7) * sizeBytes,
    checkpoints: o.checkpoints,
    bufferHitRatio: 0.99,
    chatMessageHitRatio: 0.98,
  });
}

describe('pointRegime', () => {
  it('works out the ratios from sizes, settings, WAL and checkpoints', () => {
    const r = pointRegime({
      sharedBuffersBytes: 128 * MB,
      maxWalSizeBytes: 64 * MB,
      checkpointEveryBytes: null,
      chatMessageBytes: 200 * MB,
      indexBytes: 56 * MB,
      walBytes: 320 * MB,
      checkpoints: 10,
      bufferHitRatio: 0.9,
      chatMessageHitRatio: 0.8,
    });
    // (200 + 56) / 128 = 2; 56 / 128 = 0.4375; 320 / 10 = 32 MB between checkpoints; 32 / 56 = 0.5714...
    expect(r.chatMessageToSharedBuffers).toBe(2);
    expect(r.indexesToSharedBuffers).toBe(0.4375);
    expect(r.walPerCheckpointBytes).toBe(32 * MB);
    expect(r.walPerCheckpointToIndexes).toBeCloseTo(32 / 56, 12);
    expect(r.bufferHitRatio).toBe(0.9);
  });

  it('leaves unknown what a rolled-back load or a load without checkpoints cannot tell', () => {
    const r = pointRegime({
      sharedBuffersBytes: 128 * MB,
      maxWalSizeBytes: 64 * MB,
      checkpointEveryBytes: null,
      chatMessageBytes: null,
      indexBytes: null,
      walBytes: 10 * MB,
      checkpoints: 0,
      bufferHitRatio: null,
      chatMessageHitRatio: null,
    });
    expect(r.chatMessageToSharedBuffers).toBeNull();
    expect(r.indexesToSharedBuffers).toBeNull();
    expect(r.walPerCheckpointBytes).toBeNull();
    expect(r.walPerCheckpointToIndexes).toBeNull();
  });
});

describe('checkpointSpacing', () => {
  it('is max_wal_size / 1.9 in whole 16 MB segments, at least one', () => {
    expect(checkpointSpacing(64 * MB)).toBe(32 * MB); // 4 segments / 1.9 = 2.1 -> 2
    expect(checkpointSpacing(32 * MB)).toBe(16 * MB); // 2 / 1.9 -> 1
    expect(checkpointSpacing(GB)).toBe(33 * 16 * MB); // 64 / 1.9 = 33.7 -> 33
    expect(checkpointSpacing(2 * MB)).toBe(16 * MB);
  });
});

describe('commitsAsItGoes', () => {
  it('reads a load as committing as it goes when its longest transaction is under half the span the samples saw one open', () => {
    // chunked: pages of 100 chats, each a short transaction, over a 20 s load.
    expect(commitsAsItGoes(400, 20_000, 250)).toBe(true);
    // original: one transaction, its longest at least the span however slow the process was to open it.
    expect(commitsAsItGoes(20_010, 20_000, 250)).toBe(false);
    // A load whose one long page makes up most of it is taken for one transaction (the regime's passes seen stand over that).
    expect(commitsAsItGoes(12_000, 20_000, 250)).toBe(false);
  });

  it('cannot tell under ten sample intervals of load, or where no sample saw a transaction open', () => {
    // A one-second run whose transaction opened late: its span, not its duration, is what the samples saw.
    expect(commitsAsItGoes(600, 600, 250)).toBeNull();
    expect(commitsAsItGoes(2_400, 2_499, 250)).toBeNull();
    expect(commitsAsItGoes(2_500, 2_500, 250)).toBe(false);
    expect(commitsAsItGoes(null, null, 250)).toBeNull();
    // Results written before the span was recorded.
    expect(commitsAsItGoes(19_000, undefined, 250)).toBeNull();
  });
});

describe('targetRegime', () => {
  it('grows chat_message and its indexes with the chat table from the largest point, and counts checkpoints by the target server’s spacing', () => {
    const points = [128 * MB, 512 * MB].map((s) => ({ sizeBytes: s, regime: regimeAt(s, { sharedBuffers: 128 * MB, maxWalSize: 64 * MB, checkpoints: 3 }) }));
    const t = targetRegime(points, { sizeBytes: 4 * GB, sharedBuffersBytes: 128 * MB, maxWalSizeBytes: 64 * MB, walBytes: 2.8 * GB });
    expect(t.chatMessageBytes).toBeCloseTo(1.2 * 4 * GB, 0);
    expect(t.indexBytes).toBeCloseTo(0.2 * 4 * GB, 0);
    expect(t.indexesToSharedBuffers).toBeCloseTo((0.2 * 4 * GB) / (128 * MB), 9); // 6.4
    expect(t.checkpoints).toBeCloseTo((2.8 * GB) / (32 * MB), 9); // 89.6
    expect(t.walPerCheckpointBytes).toBeCloseTo(32 * MB, 0);
  });
});

describe('regimeCrossings', () => {
  const small = [128 * MB, 256 * MB, 512 * MB].map((s) => regimeAt(s, { sharedBuffers: 128 * MB, maxWalSize: 64 * MB, checkpoints: Math.round((0.7 * s) / (32 * MB)) }));

  it('names each boundary the target lies beyond where no point went, with both sides in figures', () => {
    // The points: indexes 25.6-102.4 MB against 128 MB of buffers; the target's 819 MB do not fit.
    const target = regimeAt(4 * GB, { sharedBuffers: 128 * MB, maxWalSize: 64 * MB, checkpoints: 90 });
    const crossings = regimeCrossings(small, target);
    const names = crossings.map((c) => c.boundary);
    expect(names).toContain("chat_message's indexes outgrow shared_buffers");
    // chat_message + indexes already outgrew 128 MB at 128 MB (1.4 x 128 MB): not a crossing.
    expect(names).not.toContain('chat_message and its indexes outgrow shared_buffers');
    const idx = crossings.find((c) => c.boundary === "chat_message's indexes outgrow shared_buffers")!;
    expect(idx.target).toBe('indexes / shared_buffers = 6.40');
    expect(idx.measured).toContain('indexes / shared_buffers = 0.20');
  });

  it('finds none when the target is in the points’ regime (each size scaled with its data)', () => {
    const scaled = [128 * MB, 256 * MB, 512 * MB].map((s) => regimeAt(s, { sharedBuffers: (128 * MB * s) / (4 * GB), maxWalSize: 32 * MB, checkpoints: 90 }));
    const target = regimeAt(4 * GB, { sharedBuffers: 128 * MB, maxWalSize: 64 * MB, checkpoints: 90 });
    expect(regimeCrossings(scaled, target)).toEqual([]);
  });

  it("names autovacuum's boundary for a load that commits as it goes and, at the target, outlasts autovacuum_naptime; never for one transaction or with autovacuum off", () => {
    const AV = 'autovacuum passes over the rows the load has committed';
    const at = (s: number, durationMs: number, commitsDuringLoad: boolean | null, autovacuumNaptimeMs: number | null = 60_000) => ({
      ...regimeAt(s, { sharedBuffers: 128 * MB, maxWalSize: 64 * MB, checkpoints: 9 }),
      durationMs,
      autovacuumNaptimeMs,
      commitsDuringLoad,
    });
    // chunked: 6-24 s runs against a 1 min naptime; the 4 GB target's 170 s spans almost three.
    const chunked = [at(128 * MB, 6_000, true), at(256 * MB, 12_000, true), at(512 * MB, 24_000, true)];
    const crossing = regimeCrossings(chunked, at(4 * GB, 170_000, true)).find((c) => c.boundary === AV)!;
    expect(crossing.target).toBe('load / autovacuum_naptime = 2.8');
    expect(crossing.measured).toContain('load / autovacuum_naptime = 0.4');
    expect(crossingsOutsideCycles([crossing])).toBe(1);
    // A point that outlasted the naptime has been there: no crossing.
    expect(regimeCrossings([...chunked, at(GB, 70_000, true)], at(4 * GB, 170_000, true)).map((c) => c.boundary)).not.toContain(AV);
    // original: one transaction, so autovacuum cannot touch its rows however long it runs.
    const original = [at(512 * MB, 22_000, false)];
    expect(regimeCrossings(original, at(4 * GB, 160_000, false)).map((c) => c.boundary)).not.toContain(AV);
    // Autovacuum off, or results from before the harness recorded it: not known, not a crossing.
    expect(regimeCrossings([at(512 * MB, 24_000, true, null)], at(4 * GB, 170_000, true, null)).map((c) => c.boundary)).not.toContain(AV);
    expect(regimeCrossings([regimeAt(512 * MB, { sharedBuffers: 128 * MB, maxWalSize: 64 * MB, checkpoints: 9 })], at(4 * GB, 170_000, true)).map((c) => c.boundary)).not.toContain(AV);
    // What a point's samples saw stands over what its duration suggests: a 70 s point that saw no pass has not been there.
    const unseen = { ...at(GB, 70_000, true), autovacuumPasses: 0 };
    const crossed = regimeCrossings([...chunked, unseen], at(4 * GB, 170_000, true)).find((c) => c.boundary === AV)!;
    expect(crossed.measured).toContain('load / autovacuum_naptime = 1.2, 0 passes over chat_message seen');
    // ... and a 24 s point whose samples saw one (a short naptime, say) has.
    expect(regimeCrossings([...chunked, { ...at(512 * MB, 24_000, true), autovacuumPasses: 1 }], at(4 * GB, 170_000, true)).map((c) => c.boundary)).not.toContain(AV);
    // Passes seen stand over the heuristic that took a load for one transaction (one of chunked's pages of 100 chats making up most of a 128 MB run):
    // autovacuum comes to the new table only once inserts into it have committed.
    expect(regimeCrossings([...chunked, { ...at(128 * MB, 6_000, false), autovacuumPasses: 2 }], at(4 * GB, 170_000, true)).map((c) => c.boundary)).not.toContain(AV);
    // Without passes recorded, a load taken for one transaction is not there.
    expect(regimeCrossings([at(GB, 70_000, false)], at(4 * GB, 170_000, true)).map((c) => c.boundary)).toContain(AV);
    // The boundaries checkpoint cycles follow do not count there.
    expect(crossingsOutsideCycles(regimeCrossings(small, regimeAt(4 * GB, { sharedBuffers: 128 * MB, maxWalSize: 64 * MB, checkpoints: 90 })))).toBe(0);
  });

  it('counts a load with no checkpoint as another regime than one with many', () => {
    const none = [64 * MB, 128 * MB].map((s) => regimeAt(s, { sharedBuffers: 4 * GB, maxWalSize: 16 * GB, checkpoints: 0 }));
    const target = regimeAt(GB, { sharedBuffers: 4 * GB, maxWalSize: 64 * MB, checkpoints: 22 });
    expect(regimeCrossings(none, target).map((c) => c.boundary)).toContain('checkpoints come during the load');
  });
});

describe('widenBand', () => {
  it('keeps the band without crossings and doubles its high end per crossing, keeping the low end', () => {
    const b = { value: 100, low: 90, high: 110 };
    expect(widenBand(b, 0)).toEqual(b);
    expect(widenBand(b, 1)).toEqual({ value: 100, low: 90, high: 110 * WIDEN_PER_CROSSING });
    expect(widenBand(b, 2)).toEqual({ value: 100, low: 90, high: 110 * WIDEN_PER_CROSSING ** 2 });
  });
});

describe('scaleSettings', () => {
  const target = { sizeBytes: 4 * GB, sharedBuffersBytes: 128 * MB, maxWalSizeBytes: 64 * MB };
  const floors = { sharedBuffersBytes: SHARED_BUFFERS_FLOOR, maxWalSizeBytes: 32 * MB, canForceCheckpoints: true };

  it('scales shared_buffers with the data and forces checkpoints where max_wal_size cannot go low enough', () => {
    const s = scaleSettings(512 * MB, target, floors);
    expect(s.sharedBuffersBytes).toBe(16 * MB); // 128 MB x 1/8
    // The target checkpoints every 32 MB of WAL: 4 MB here, far below the 16 MB the 32 MB floor gives.
    expect(s.checkpointEveryBytes).toBe(4 * MB);
    expect(s.maxWalSizeBytes).toBeGreaterThanOrEqual(32 * MB);
    expect(checkpointSpacing(s.maxWalSizeBytes)).toBeGreaterThan(s.checkpointEveryBytes!);
    expect(s.matched).toHaveLength(2);
    expect(s.unmatched).toEqual([]);
  });

  it('lets the server checkpoint by itself where the scaled max_wal_size spaces checkpoints as the target’s do', () => {
    const s = scaleSettings(GB, { sizeBytes: 8 * GB, sharedBuffersBytes: 8 * GB, maxWalSizeBytes: 8 * GB }, floors);
    expect(s.sharedBuffersBytes).toBe(GB);
    expect(s.maxWalSizeBytes).toBe(GB);
    expect(s.checkpointEveryBytes).toBeNull();
  });

  it('says which ratio is not matched, and why, below the shared_buffers floor or where checkpoints may not be forced', () => {
    const s = scaleSettings(128 * MB, { sizeBytes: 68 * GB, sharedBuffersBytes: 128 * MB, maxWalSizeBytes: 64 * MB }, { ...floors, canForceCheckpoints: false });
    expect(s.sharedBuffersBytes).toBe(SHARED_BUFFERS_FLOOR);
    expect(s.checkpointEveryBytes).toBeNull();
    expect(s.matched).toEqual([]);
    expect(s.unmatched.map((u) => u.ratio)).toEqual(['chat_message and indexes / shared_buffers', 'WAL between checkpoints / data']);
    expect(s.unmatched[0].reason).toMatch(/below the harness's floor of 2\.00 MB/);
  });
});

describe('projections from hand-made points', () => {
  // Linear costs with a little noise, so the fit has a band: 1 s, 0.7 GB of WAL and 10k full-page images per GB.
  const noise = [1.02, 0.97, 1.01];
  const point = (sizeBytes: number, i: number, regime: PointRegime): SweepPoint => ({
    strategy: 'original',
    sizeBytes,
    durationMs: (1000 * sizeBytes * noise[i]) / GB,
    walBytes: 0.7 * sizeBytes * noise[i],
    fpi: (10_000 * sizeBytes * noise[i]) / GB,
    outcome: 'succeeded',
    regime,
  });
  const sizes = [128 * MB, 256 * MB, 512 * MB];
  const server = { sharedBuffersBytes: 128 * MB, maxWalSizeBytes: 64 * MB };

  it('a target in the points’ regime keeps the fit’s band', () => {
    const points = sizes.map((s, i) => point(s, i, regimeAt(s, { sharedBuffers: (128 * MB * s) / (4 * GB), maxWalSize: 32 * MB, checkpoints: 90 })));
    const fitted = fitsOf(points, ['original']);
    const [p] = projectionsOf(fitted, points, ['original'], 4 * GB, server);
    expect(p.regime!.crossings).toEqual([]);
    expect(p.regime!.widened).toBe(false);
    expect(p.walBytesHigh / p.walBytes).toBeLessThan(1.5);
  });

  it('a target beyond the points’ regime says which boundaries and widens every band', () => {
    const points = sizes.map((s, i) => point(s, i, regimeAt(s, { ...{ sharedBuffers: 128 * MB, maxWalSize: 64 * MB }, checkpoints: Math.max(1, Math.round((0.7 * s) / (32 * MB))) })));
    const fitted = fitsOf(points, ['original']);
    const [narrow] = projectionsOf(fitted, points.map((p) => ({ ...p, regime: undefined })), ['original'], 4 * GB, server);
    const [p] = projectionsOf(fitted, points, ['original'], 4 * GB, server);
    expect(narrow.regime).toBeUndefined();
    expect(p.regime!.widened).toBe(true);
    const n = p.regime!.crossings.length;
    expect(n).toBeGreaterThan(0);
    expect(p.walBytes).toBe(narrow.walBytes);
    expect(p.walBytesLow).toBe(narrow.walBytesLow);
    expect(p.walBytesHigh).toBeCloseTo(narrow.walBytesHigh * WIDEN_PER_CROSSING ** n, -3);
    expect(p.fpiHigh).toBeGreaterThan(narrow.fpiHigh * 1.9);
    expect(p.durationMsHigh).toBeGreaterThan(narrow.durationMsHigh * 1.9);

    // The reports say it next to the figures.
    const result = {
      projections: [p],
      harness: { cpus: 2, memoryBytes: 8 * GB },
      postgres: { version: '15.18', provider: 'embedded' },
      extra: { sweep: { points } },
    } as unknown as RunResult;
    const projections = renderProjections(result)!;
    expect(projections).toContain('beyond the measured regimes');
    expect(projections).toContain("chat_message's indexes outgrow shared_buffers");
    const sweep = renderSweep(result)!;
    expect(sweep).toContain('### Regime of each point');
    expect(sweep).toContain('99.0 %');
  });
});

describe('the regime table', () => {
  it('gives each point its load against autovacuum_naptime and whether it commits as it goes', () => {
    const regime = (durationMs: number, commitsDuringLoad: boolean | null, autovacuumNaptimeMs: number | null = 60_000) => ({
      ...regimeAt(512 * MB, { sharedBuffers: 128 * MB, maxWalSize: 64 * MB, checkpoints: 9 }),
      durationMs,
      autovacuumNaptimeMs,
      commitsDuringLoad,
    });
    const points = [
      { strategy: 'chunked', sizeBytes: 512 * MB, durationMs: 24_000, walBytes: 1, fpi: 1, outcome: 'succeeded', regime: regime(24_000, true) },
      { strategy: 'original', sizeBytes: 512 * MB, durationMs: 90_000, walBytes: 1, fpi: 1, outcome: 'succeeded', regime: regime(90_000, false) },
      { strategy: 'setbased', sizeBytes: 512 * MB, durationMs: 30_000, walBytes: 1, fpi: 1, outcome: 'succeeded', regime: regime(30_000, true, null) },
    ] as SweepPoint[];
    const sweep = renderSweep({ harness: { cpus: 2, memoryBytes: 8 * GB }, postgres: { version: '15.18', provider: 'embedded' }, extra: { sweep: { points } } } as unknown as RunResult)!;
    expect(sweep).toContain('load ÷ autovacuum_naptime');
    expect(sweep).toContain('| 0.4, commits as it goes |');
    expect(sweep).toContain('| 1.5, one transaction |');
    expect(sweep).toContain('| autovacuum off |');
    // With the passes the run's samples saw.
    const seen = renderSweep({ harness: { cpus: 2, memoryBytes: 8 * GB }, postgres: { version: '15.18', provider: 'embedded' }, extra: { sweep: { points: [{ ...points[0], regime: { ...regime(180_000, true), autovacuumPasses: 2 } }] } } } as unknown as RunResult)!;
    expect(seen).toContain('| 3.0, commits as it goes, 2 passes seen |');
  });
});

describe('backtest in projections, from hand-made points', () => {
  // Cost per GB that rises at the largest size: fitted to 128 and 256 MB alone, 512 MB comes out low.
  const at = (sizeBytes: number, perGb: number): SweepPoint => ({
    strategy: 'original',
    sizeBytes,
    durationMs: (1000 * sizeBytes * perGb) / GB,
    walBytes: 0.7 * sizeBytes * perGb,
    fpi: (10_000 * sizeBytes * perGb) / GB,
    outcome: 'succeeded',
  });
  const server = { sharedBuffersBytes: 128 * MB, maxWalSizeBytes: 64 * MB };

  it('keeps each model’s miss at the largest size, for the report', () => {
    const points = [at(128 * MB, 1), at(256 * MB, 1), at(512 * MB, 1.25)];
    const fitted = fitsOf(points, ['original']);
    const bt = fitted.fits.find((f) => f.metric === 'walBytes')!.backtest!;
    // The first two lie on y = 0.7x: both models say 0.7 × 512 MB at 512 MB, where 0.875 × 512 MB was measured: −20 %.
    expect(bt.powerLawPct).toBeCloseTo(-20, 8);
    expect(bt.linearPct).toBeCloseTo(-20, 8);
    const [p] = projectionsOf(fitted, points, ['original'], 4 * GB, server, 'larger');
    expect(p.backtest).toMatchObject({ fittedUpTo: 256 * MB, predicted: 512 * MB });
    expect(p.backtest!.fpiPct).toBeCloseTo(-20, 8);
    // Fitted to all three sizes, the larger of the two models is the power law here: cost per GB grew, its slope is above 1.
    expect(p.model).toBe('larger');
    expect(p.modelOf).toEqual({ durationMs: 'power-law', walBytes: 'power-law', fpi: 'power-law' });

    const result = { projections: [p], harness: { cpus: 2, memoryBytes: 8 * GB }, postgres: { version: '15.18', provider: 'embedded' } } as unknown as RunResult;
    const text = renderProjections(result)!;
    expect(text).toContain('Backtest');
    expect(text).toContain('original: fitted up to 256 MB, it predicted 512 MB with duration −20 %, WAL −20 %, full-page images −20 %');
  });

  it('is absent with two sizes: nothing to check the fit against', () => {
    const points = [at(128 * MB, 1), at(256 * MB, 1)];
    const fitted = fitsOf(points, ['original']);
    expect(fitted.fits.every((f) => f.backtest === undefined)).toBe(true);
    const [p] = projectionsOf(fitted, points, ['original'], 4 * GB, server);
    expect(p.backtest).toBeUndefined();
    expect(renderProjections({ projections: [p], harness: { cpus: 2, memoryBytes: 8 * GB }, postgres: { version: '15.18', provider: 'embedded' } } as unknown as RunResult)).not.toContain('Backtest');
  });
});

describe('checkpointLag', () => {
  /** 96 MB of WAL at 128 MB with this many checkpoints, forced every 1 MB. */
  const at = (strategy: string, checkpoints: number): SweepPoint => ({
    strategy,
    sizeBytes: 128 * MB,
    durationMs: 9000,
    walBytes: 96 * MB,
    fpi: 3000,
    outcome: 'succeeded',
    regime: pointRegime({
      sharedBuffersBytes: 4 * MB,
      maxWalSizeBytes: 32 * MB,
      checkpointEveryBytes: MB,
      chatMessageBytes: 70 * MB,
      indexBytes: 5 * MB,
      walBytes: 96 * MB,
      checkpoints,
      bufferHitRatio: null,
      chatMessageHitRatio: null,
    }),
  });

  it('names the strategies whose forced checkpoints came over 1.5x further apart than asked, with the figures', () => {
    // 39 checkpoints are 2.46 MB apart against 1 MB asked; 90 are 1.07 MB apart.
    const lag = checkpointLag({ checkpointEveryBytes: MB }, [at('original', 39), at('chunked', 90)]);
    expect(lag).toHaveLength(1);
    expect(lag[0].ratio).toBe('WAL between checkpoints / data (original)');
    expect(lag[0].reason).toMatch(/39 came, 2\.46 MB of WAL apart, where every 1\.00 MB was asked/);
  });

  it('says nothing where no checkpoint was forced', () => {
    expect(checkpointLag({ checkpointEveryBytes: null }, [at('original', 1)])).toEqual([]);
  });
});

describe('targetSettings', () => {
  const plan = (target: { sharedBuffersBytes?: number; maxWalSizeBytes?: number } = {}, settings: Record<string, string> = { shared_buffers: '128MB', max_wal_size: '64MB' }) =>
    ({ target, settings }) as unknown as Parameters<typeof targetSettings>[0];

  it('takes the flags first, then the --database-url server’s SHOW, then the sweep’s settings, then PostgreSQL’s defaults', () => {
    expect(targetSettings(plan({ sharedBuffersBytes: 16 * GB, maxWalSizeBytes: 4 * GB }), { shared_buffers: '1GB', max_wal_size: '2GB' })).toMatchObject({ sharedBuffersBytes: 16 * GB, maxWalSizeBytes: 4 * GB });
    const shown = targetSettings(plan(), { shared_buffers: '1GB', max_wal_size: '2GB' });
    expect(shown).toMatchObject({ sharedBuffersBytes: GB, maxWalSizeBytes: 2 * GB });
    expect(shown.source).toBe('shared_buffers from --database-url (SHOW), max_wal_size from --database-url (SHOW)');
    expect(targetSettings(plan({ maxWalSizeBytes: 4 * GB }), null)).toMatchObject({ sharedBuffersBytes: 128 * MB, maxWalSizeBytes: 4 * GB });
    const defaults = targetSettings(plan({}, {}), null);
    expect(defaults).toMatchObject({ sharedBuffersBytes: 128 * MB, maxWalSizeBytes: GB });
    expect(defaults.source).toMatch(/PostgreSQL’s default/);
  });
});

describe('pointOf: a size run several times (sweep --repeat)', () => {
  const run = (durationMs: number, walBytes: number, fpi: number, outcome: SweepPoint['outcome'] = 'succeeded') => ({ durationMs, walBytes, fpi, outcome });

  it('takes the fastest run’s duration (a busy machine only slows), the medians of WAL and images, and keeps every run', () => {
    const regime = (n: number) => ({ checkpoints: n }) as unknown as PointRegime;
    const p = pointOf('chunked', 128 * MB, [
      { ...run(9000, 80 * MB, 700), regime: regime(1) },
      { ...run(30_000, 70 * MB, 650), regime: regime(2) },
      { ...run(8000, 75 * MB, 2000), regime: regime(3) },
    ]);
    expect(p).toMatchObject({ strategy: 'chunked', sizeBytes: 128 * MB, durationMs: 8000, walBytes: 75 * MB, fpi: 700, outcome: 'succeeded' });
    // The regime recorded is the fastest run's, the one whose duration the point carries.
    expect(p.regime).toEqual(regime(3));
    expect(p.runs).toEqual({ durationMs: [9000, 30_000, 8000], walBytes: [80 * MB, 70 * MB, 75 * MB], fpi: [700, 650, 2000] });
    // An even count: the fastest for duration, the mean of the middle two for the others.
    expect(pointOf('chunked', MB, [run(1, 1, 1), run(3, 3, 3)])).toMatchObject({ durationMs: 1, walBytes: 2, fpi: 2 });
  });

  it('an even count of runs still gives whole bytes and images (result.json takes integers only; --repeat 2 once wrote 505.5 images)', () => {
    const p = pointOf('chunked', MB, [run(6091, 76_201_565, 517), run(6200, 76_201_562, 494)]);
    expect(p.fpi).toBe(506);
    expect(p.walBytes).toBe(76_201_564);
    expect(Number.isInteger(p.fpi) && Number.isInteger(p.walBytes)).toBe(true);
  });

  it('a failed run is the point, as it was: a failure is a finding, not noise', () => {
    const p = pointOf('original', 128 * MB, [run(9000, 80 * MB, 700), run(4000, 30 * MB, 100, 'failed')]);
    expect(p).toMatchObject({ durationMs: 4000, walBytes: 30 * MB, fpi: 100, outcome: 'failed' });
  });

  it("sums every succeeded run's checkpoint intervals (redo pointers), and has none when no run had two checkpoints", () => {
    const p = pointOf('chunked', 512 * MB, [
      { ...run(24_000, 300 * MB, 2200), checkpointIntervals: { intervals: 6, walBytes: 6 * 36 * MB } },
      { ...run(25_000, 300 * MB, 2800) },
      { ...run(26_000, 300 * MB, 2700), checkpointIntervals: { intervals: 5, walBytes: 5 * 38 * MB } },
    ]);
    expect(p.checkpointIntervals).toEqual({ intervals: 11, walBytes: (6 * 36 + 5 * 38) * MB });
    expect(pointOf('chunked', MB, [run(1, 1, 1), run(2, 2, 2)]).checkpointIntervals).toBeUndefined();
  });

  it('one run is the point without a runs list, as before --repeat', () => {
    expect(pointOf('original', MB, [run(5, 6, 7)])).toEqual({ strategy: 'original', sizeBytes: MB, durationMs: 5, walBytes: 6, fpi: 7, outcome: 'succeeded' });
  });

  it('the report gives each repeated point’s range', () => {
    const points = [pointOf('chunked', 128 * MB, [run(9000, 80 * MB, 700), run(8000, 75 * MB, 650), run(10_000, 70 * MB, 800)]), pointOf('chunked', 256 * MB, [run(18_000, 150 * MB, 1400)])];
    const text = renderSweep({ extra: { sweep: { points } }, projections: [] } as unknown as RunResult)!;
    expect(text).toContain('fastest run’s duration');
    expect(text).toContain('- chunked at 128 MB, 3 runs: duration 8.00 s – 10.0 s');
    expect(text).not.toContain('chunked at 256 MB, 1 runs');
  });
});
