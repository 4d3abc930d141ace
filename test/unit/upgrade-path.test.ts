/**
 * The upgrade path's pure parts, from hand-made inputs: resolving --from and
 * --to on a chain, charging samples and blocked writes to revisions, naming
 * the tables a revision touches, and the checks' verdicts.
 */
import { describe, expect, it } from 'vitest';
import type { OpenWebuiCheckout, RevisionFile } from '../../harness/upstream/openwebui-checkout.ts';
import type { PathSample, ProbeWrite } from '../../harness/upgrade/path-sampler.ts';
import { revisionFigures, revisionWindows } from '../../harness/upgrade/revision-figures.ts';
import { revisionChecks, tablesNamedIn, type UpgradeThresholds } from '../../harness/upgrade/upgrade-checks.ts';
import { projectRevisions, type Metric, type Projected } from '../../harness/upgrade/sweep-upgrade.ts';
import { resolveUpgradePath } from '../../harness/upgrade/upgrade-path.ts';

const rev = (id: string, ...down: string[]): RevisionFile => ({ id, downRevisions: down, file: `/x/${id}.py`, message: id });
const checkout = (revisions: RevisionFile[]) => ({ revisions, versionsDir: '/x' }) as OpenWebuiCheckout;

describe('resolveUpgradePath', () => {
  // a <- b <- c <- d, and a merge: b <- e, (d, e) <- f
  const chain = checkout([rev('a'), rev('b', 'a'), rev('c', 'b'), rev('d', 'c'), rev('e', 'b'), rev('f', 'd', 'e')]);

  it('runs what lies after --from up to --to, and builds the schema from what lies before', () => {
    const p = resolveUpgradePath(chain, 'b', 'd');
    expect(p.revisions.map((r) => r.id)).toEqual(['c', 'd']);
    expect(p.base.map((r) => r.id)).toEqual(['a', 'b']);
    expect(p.target).toBe('d');
  });

  it('follows both branches of a merge to head', () => {
    const p = resolveUpgradePath(chain, 'b');
    expect(p.to.id).toBe('f');
    expect(p.target).toBe('head');
    expect(p.revisions.map((r) => r.id).sort()).toEqual(['c', 'd', 'e', 'f']);
  });

  it('refuses a --to before --from, off its path, or --from itself, and a --from not in the chain', () => {
    expect(() => resolveUpgradePath(chain, 'c', 'a')).toThrow(/--to a: revision a comes before --from c/);
    expect(() => resolveUpgradePath(chain, 'd', 'e')).toThrow(/--to e: revision e is not on a path from --from d/);
    expect(() => resolveUpgradePath(chain, 'c', 'c')).toThrow(/it is --from itself/);
    expect(() => resolveUpgradePath(chain, 'zz')).toThrow(/--from zz: no such revision/);
  });

  it('refuses head when the chain has two', () => {
    expect(() => resolveUpgradePath(checkout([rev('a'), rev('b', 'a'), rev('c', 'a')]), 'a')).toThrow(/has 2 heads \(b, c\)/);
  });
});

const sample = (tMs: number, walBytes: number, o: Partial<PathSample> = {}): PathSample => ({ tMs, walBytes, fpi: 0, checkpoints: 0, rssBytes: 50e6, locks: {}, ...o });

describe('revisionFigures', () => {
  const windows = revisionWindows(
    [
      { atMs: 0, from: 'a', to: 'b', message: 'index' },
      { atMs: 1000, from: 'b', to: 'c', message: 'backfill' },
      { atMs: 5000, from: 'c', to: 'd', message: 'quick' },
    ],
    5200,
  );
  const samples = [
    sample(0, 0, { boundary: 'b' }),
    sample(500, 100, { locks: { chat: ['ShareLock'] } }),
    sample(1000, 200, { boundary: 'c', locks: { chat: ['ShareLock'] } }),
    sample(3000, 5000, { locks: { chat: ['ShareLock', 'RowExclusiveLock'], chat_message: ['AccessExclusiveLock'] }, rssBytes: 900e6 }),
    sample(5000, 9000, { boundary: 'd', locks: { chat: ['ShareLock'] } }),
    sample(5200, 9100, { boundary: 'end' }),
  ];

  it('reads each window from the samples taken as its revision started and the next one did', () => {
    const f = revisionFigures(windows, samples, []);
    expect(f.map((x) => [x.id, x.durationMs, x.walBytes])).toEqual([
      ['b', 1000, 200],
      ['c', 4000, 8800],
      ['d', 200, 100],
    ]);
    expect(f[1].peakRssBytes).toBe(900e6);
  });

  it('charges a lock to the revision that first held it', () => {
    const f = revisionFigures(windows, samples, []);
    expect(f[0].locks).toEqual({ chat: 'ShareLock' });
    expect(f[1].locks).toEqual({ chat: 'RowExclusiveLock', chat_message: 'AccessExclusiveLock' });
    expect(f[2].locks).toEqual({});
  });

  it('charges a blocked write to the revision whose lock it waited on, else to the one its wait overlapped most', () => {
    const writes: ProbeWrite[] = [
      // Waited from 3.5 s to 5.1 s on chat while SHARE (taken in b) was held: b's.
      { table: 'chat', startMs: 3500, latencyMs: 1600, unfinished: false },
      // On user, no lock seen: the revision it waited in, c.
      { table: 'user', startMs: 2000, latencyMs: 700, unfinished: false },
      // Sent just before c started, waiting through most of c: c's, not b's.
      { table: 'file', startMs: 990, latencyMs: 900, unfinished: false },
      { table: 'chat', startMs: 5100, latencyMs: 5, unfinished: false, error: 'relation "chat" does not exist' },
    ];
    const f = revisionFigures(windows, samples, writes);
    expect(f[0].blockedWrite).toEqual({ table: 'chat', ms: 1600, unfinished: false });
    expect(f[1].blockedWrite).toEqual({ table: 'file', ms: 900, unfinished: false });
    expect(f[2].blockedWrite).toBeNull();
  });
});

describe('tablesNamedIn', () => {
  it('finds tables in strings and after SQL keywords, not in comments or longer names', () => {
    const text = `# chat_file is only mentioned here\nop.add_column("chat", sa.Column("x"))\nop.execute("UPDATE \\"user\\" SET a = 1")\nconn.execute(text("INSERT INTO chat_message SELECT * FROM chat_message_old"))`;
    expect(tablesNamedIn(text, ['chat', 'user', 'chat_message', 'chat_file', 'file'])).toEqual(['chat', 'user', 'chat_message']);
  });
});

describe('revisionChecks', () => {
  const t: UpgradeThresholds = { secondsPerGb: 30, walAmplification: 2, maxBlockedWriteMs: 5000, clientPeakRssBytes: 1e9, resumable: true, judgeFromMs: 1000, judgeWalFromBytes: 16 * 2 ** 20 };
  const [w] = revisionWindows([{ atMs: 0, from: 'a', to: 'b', message: 'm' }], 60_000);
  const fig = { ...revisionFigures([w], [sample(0, 0, { boundary: 'b' }), sample(60_000, 3 * 2 ** 30, { boundary: 'end' })], [])[0] };

  it('judges time and WAL per GB of the tables touched, and says both figures', () => {
    const c = revisionChecks(fig, 1 * 2 ** 30, t, null, 'b');
    const byName = Object.fromEntries(c.map((x) => [x.name, x]));
    expect(byName['time per GB'].passed).toBe(false);
    expect(byName['time per GB'].measured).toMatch(/^60\.0 s\/GB/);
    expect(byName['WAL amplification'].passed).toBe(false);
    expect(byName['WAL amplification'].measured).toMatch(/^3\.00 /);
    expect(byName['blocked write'].passed).toBe(true);
    expect(c.map((x) => x.name)).not.toContain('resumable');
  });

  it('does not judge a revision too short or too small, and passes it', () => {
    const quick = { ...fig, durationMs: 300, walBytes: 1e6 };
    const c = revisionChecks(quick, 1000, t, null, 'b');
    expect(c.filter((x) => !x.passed)).toEqual([]);
    expect(c[0].measured).toMatch(/too short to judge/);
  });

  it('holds a revision to the memory limit only when it grew the process itself', () => {
    const memory = (peakRssBytes: number, startRssBytes: number) => revisionChecks({ ...fig, peakRssBytes, startRssBytes }, 2 ** 40, t, null, 'b').find((x) => x.name === 'client memory')!;
    const grew = memory(2e9, 1e8);
    expect(grew.passed).toBe(false);
    expect(grew.measured).toMatch(/^1\.86 GB peak RSS of the migration process, 1\.77 GB of it added here/);
    const carried = memory(2e9, 1.99e9);
    expect(carried.passed).toBe(true);
    expect(carried.measured).toMatch(/kept from earlier revisions/);
  });

  it('holds resumability to the uninterrupted run’s stamp, schema and rows', () => {
    const base = { revision: 'b', killedAfterMs: 30_000, killedInside: true, rerunExit: 0, rerunError: null, stamp: 'b', schemaDifferences: [], rowDifferences: [] };
    const ok = revisionChecks(fig, 2 ** 40, t, base, 'b').find((x) => x.name === 'resumable')!;
    expect(ok.passed).toBe(true);
    const lost = revisionChecks(fig, 2 ** 40, t, { ...base, schemaDifferences: ['missing index x'] }, 'b').find((x) => x.name === 'resumable')!;
    expect(lost.passed).toBe(false);
    expect(lost.measured).toMatch(/schema differs: missing index x/);
    const after = revisionChecks(fig, 2 ** 40, t, { ...base, killedInside: false }, 'b').find((x) => x.name === 'resumable')!;
    expect(after.measured).toMatch(/the kill came after the revision had ended/);
  });
});

describe('projectRevisions', () => {
  const point = (databaseBytes: number, k: number) => ({
    databaseBytes,
    chatTableBytes: null,
    revisions: [
      { id: 'grows', durationMs: 100 * k, walBytes: 2e6 * k, fpi: 500 * k, rssGrowthBytes: 20e6 * k },
      { id: 'flat', durationMs: 60, walBytes: 0, fpi: 0, rssGrowthBytes: 0 },
      { id: 'noise', durationMs: 10 * k, walBytes: 1000 * k, fpi: 5 * k, rssGrowthBytes: 1e6 * k },
    ],
  });

  it('projects what grows with the data along its slope, and leaves a figure that is zero, or noise, unprojected', () => {
    const [grows, flat, noise] = projectRevisions([point(1e8, 1), point(2e8, 2), point(4e8, 4)], new Map([['grows', 'a backfill']]), 4e9);
    expect(grows.message).toBe('a backfill');
    const m = (x: Projected) => x as Metric;
    expect(m(grows.durationMs).value).toBeCloseTo(4000, 6);
    expect(m(grows.durationMs).slope).toBeCloseTo(1, 6);
    expect(m(grows.walBytes).value).toBeCloseTo(80e6, 0);
    expect(m(grows.rssGrowthBytes).value).toBeCloseTo(800e6, 0);
    // The same at every size: a constant cost, projected as such.
    expect(m(flat.durationMs).value).toBeCloseTo(60, 6);
    expect(flat.walBytes).toEqual({ unprojected: 'noise' });
    // Growing, but milliseconds and kilobytes: noise, not projected.
    expect([noise.durationMs, noise.walBytes, noise.fpi, noise.rssGrowthBytes]).toEqual(Array(4).fill({ unprojected: 'noise' }));
  });

  it('does not project a figure the sizes do not order', () => {
    const at = (databaseBytes: number, durationMs: number) => ({ databaseBytes, chatTableBytes: null, revisions: [{ id: 'x', durationMs, walBytes: 0, fpi: 0, rssGrowthBytes: 0 }] });
    const [x] = projectRevisions([at(1e8, 300), at(2e8, 100), at(4e8, 280)], new Map(), 4e9);
    expect(x.durationMs).toEqual({ unprojected: 'no trend', r2: expect.any(Number) });
  });

  it('projects only revisions measured at every size', () => {
    const partial = { ...point(2e8, 2), revisions: point(2e8, 2).revisions.slice(0, 1) };
    expect(projectRevisions([point(1e8, 1), partial], new Map(), 1e9).map((p) => p.id)).toEqual(['grows']);
  });
});
