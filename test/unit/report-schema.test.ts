import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, expectTypeOf, it } from 'vitest';
import type { SpeedFloorReading } from '../../harness/measure/speed-floor.ts';
import { writeReports } from '../../harness/report/index.ts';
import schema from '../../harness/result/result.schema.json' with { type: 'json' };
import type { Attempt, Check, LoadFigures, Projection, ProjectionBacktest, RunResult, Sample, StrategyResult, WriteStall } from '../../harness/result/run-result.ts';
import type { PointRegime, ProjectionRegime, SweepPoint } from '../../harness/result/sweep-points.ts';
import { readResult, validateResult } from '../../harness/result/validate-result.ts';
import { pointRegime } from '../../harness/sweep/regime.ts';

const MB = 1024 ** 2;

const FIXTURES = ['repro', 'gate', 'sweep', 'interrupted', 'upgrade'] as const;
const fixtureDir = join(import.meta.dirname, '../fixtures/results');

async function fixture(name: (typeof FIXTURES)[number]): Promise<RunResult> {
  return JSON.parse(await readFile(join(fixtureDir, `${name}.json`), 'utf8')) as RunResult;
}

/** A deep copy to break. */
async function broken(mutate: (r: any) => void): Promise<unknown> {
  const r = structuredClone(await fixture('repro'));
  mutate(r);
  return r;
}

function errorsOf(value: unknown): string[] {
  const checked = validateResult(value);
  expect(checked.ok).toBe(false);
  return checked.ok ? [] : checked.errors;
}

describe('result.schema.json accepts what the harness writes', () => {
  it.each(FIXTURES)('the %s fixture validates', async (name) => {
    const checked = validateResult(await fixture(name));
    expect(checked.ok ? [] : checked.errors).toEqual([]);
  });

  it('accepts a run that stopped before seeding (dataset null, no strategies)', async () => {
    const r = await fixture('interrupted');
    expect(r.dataset).toBeNull();
    expect(r.strategies).toEqual([]);
    expect(validateResult(r).ok).toBe(true);
  });

  it('accepts the optional strategy fields (output of an external command, a kept database)', async () => {
    const r = structuredClone(await fixture('repro'));
    r.strategies[1].output = { stdout: 'INFO  [alembic] Running upgrade', stderr: '', exitCode: 0 };
    r.strategies[1].kept = { database: 'owui_keep_chunked', url: 'postgres://harness:***@127.0.0.1:5432/owui_keep_chunked' };
    expect(validateResult(r).ok).toBe(true);
  });

  it('accepts the hazards’ fields: chats a proposal skipped, what each start of a sequence ran and the WAL of each attempt', async () => {
    const r = structuredClone(await fixture('repro'));
    r.strategies[1].skippedChats = [{ chatId: 'c1', reason: "AttributeError: 'list' object has no attribute 'get'" }];
    r.strategies[1].attempts[0] = { ...r.strategies[1].attempts[0], strategy: 'chunked', walBytes: 1024 };
    expect(validateResult(r).ok).toBe(true);
    r.strategies[1].attempts[0].walBytes = -1;
    expect(validateResult(r).ok).toBe(false);
  });

  it('lets a sweep keep its own keys next to the points', async () => {
    const r = structuredClone(await fixture('sweep'));
    (r.extra!.sweep as Record<string, unknown>).projectionCheck = [];
    expect(validateResult(r).ok).toBe(true);
  });

  it('accepts the regime of each point, the load figures of a strategy and the regime of a projection; rejects a hit ratio above 1', async () => {
    const r = structuredClone(await fixture('sweep'));
    const regime = pointRegime({
      sharedBuffersBytes: 4 * MB,
      maxWalSizeBytes: 32 * MB,
      checkpointEveryBytes: MB,
      chatMessageBytes: 100 * MB,
      indexBytes: 20 * MB,
      walBytes: 90 * MB,
      checkpoints: 90,
      bufferHitRatio: 0.97,
      chatMessageHitRatio: 0.9,
    });
    const points = (r.extra!.sweep as { points: SweepPoint[] }).points;
    points[0].regime = regime;
    r.strategies[0].load = { blocksHit: 970, blocksRead: 30, hitRatio: 0.97, chatMessageBytes: 100 * MB, indexBytes: 20 * MB, chatMessageBlocksHit: 9, chatMessageBlocksRead: 1, chatMessageHitRatio: 0.9, forcedCheckpoints: 90 };
    r.projections![0].regime = { target: { ...regime, checkpoints: 1.5 }, crossings: [{ boundary: 'b', measured: 'm', target: 't' }], widened: true };
    const checked = validateResult(r);
    expect(checked.ok ? [] : checked.errors).toEqual([]);
    points[0].regime = { ...regime, bufferHitRatio: 1.2 };
    expect(errorsOf(r).join('\n')).toMatch(/points\[0\]\.regime\.bufferHitRatio/);
  });
});

describe('result.schema.json rejects broken results, naming the JSON path', () => {
  it('a missing required field', async () => {
    const errors = errorsOf(await broken((r) => delete r.strategies[0].wal));
    expect(errors).toContain("$.strategies[0]: missing required field 'wal'");
  });

  it('a missing top-level field', async () => {
    const errors = errorsOf(await broken((r) => delete r.scenario));
    expect(errors).toContain("$: missing required field 'scenario'");
  });

  it('an outcome outside the enum', async () => {
    const errors = errorsOf(await broken((r) => (r.strategies[1].outcome = 'success')));
    expect(errors).toContain('$.strategies[1].outcome: must be one of "succeeded", "failed"');
  });

  it('a string where a number belongs', async () => {
    const errors = errorsOf(await broken((r) => (r.strategies[0].durationMs = '362550')));
    expect(errors.some((e) => e.startsWith('$.strategies[0].durationMs: must be number'))).toBe(true);
  });

  it('bytes that are not whole', async () => {
    const errors = errorsOf(await broken((r) => (r.strategies[0].timeline[3].walBytes = 1.5)));
    expect(errors.some((e) => e.startsWith('$.strategies[0].timeline[3].walBytes: must be integer'))).toBe(true);
  });

  it('a typo in a field name', async () => {
    const errors = errorsOf(await broken((r) => (r.strategies[0].writeStall.p99ms = r.strategies[0].writeStall.p99Ms)));
    expect(errors).toContain("$.strategies[0].writeStall: unknown field 'p99ms'");
  });

  it('another schema version', async () => {
    const errors = errorsOf(await broken((r) => (r.schemaVersion = 2)));
    expect(errors).toContain('$.schemaVersion: must be 1');
  });

  it('a malformed sweep point', async () => {
    const r = structuredClone(await fixture('sweep'));
    ((r.extra!.sweep as { points: unknown[] }).points[0] as Record<string, unknown>).sizeBytes = '32MB';
    const errors = errorsOf(r);
    expect(errors.some((e) => e.startsWith('$.extra.sweep.points[0].sizeBytes: must be integer'))).toBe(true);
  });
});

describe('reading and writing validate', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  async function tempDir(): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), 'report-schema-'));
    dirs.push(d);
    return d;
  }

  it('readResult returns a valid result', async () => {
    const r = await readResult(join(fixtureDir, 'gate.json'));
    expect(r.runId).toBe('20260502T080000Z-ci-small');
  });

  it('readResult names the file and the first errors of an invalid result', async () => {
    const path = join(await tempDir(), 'result.json');
    await writeFile(path, JSON.stringify(await broken((r) => (r.strategies[1].outcome = 'success'))));
    await expect(readResult(path)).rejects.toThrow(new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a valid result.json.*\\$\\.strategies\\[1\\]\\.outcome`));
  });

  it('readResult says when the file is missing or not JSON', async () => {
    const dir = await tempDir();
    await expect(readResult(join(dir, 'nope.json'))).rejects.toThrow(/cannot read .*nope\.json \(ENOENT\)/);
    await writeFile(join(dir, 'bad.json'), '{"schemaVersion": 1,');
    await expect(readResult(join(dir, 'bad.json'))).rejects.toThrow(/bad\.json is not JSON/);
  });

  it('writeReports refuses an invalid result and writes nothing', async () => {
    const dir = join(await tempDir(), 'run');
    const bad = (await broken((r) => delete r.postgres.settings)) as RunResult;
    await expect(writeReports(bad, dir)).rejects.toThrow(/invalid result\.json.*\$\.postgres: missing required field 'settings'/);
    await expect(readFile(join(dir, 'result.json'))).rejects.toThrow(/ENOENT/);
  });
});

/** Keys of T that are not optional. */
type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];
type OptionalKeys<T> = Exclude<keyof T, RequiredKeys<T>>;
type Props<S> = S extends { properties: infer P } ? keyof P : never;
type Defs = typeof schema.$defs;

describe('the TypeScript type and the schema agree', () => {
  it('on every key (checked by tsc)', () => {
    expectTypeOf<keyof RunResult>().toEqualTypeOf<keyof typeof schema.properties>();
    expectTypeOf<keyof StrategyResult>().toEqualTypeOf<Props<Defs['strategy']>>();
    expectTypeOf<keyof Attempt>().toEqualTypeOf<Props<Defs['attempt']>>();
    expectTypeOf<keyof Sample>().toEqualTypeOf<Props<Defs['sample']>>();
    expectTypeOf<keyof WriteStall>().toEqualTypeOf<Props<Defs['writeStall']>>();
    expectTypeOf<keyof StrategyResult['wal']>().toEqualTypeOf<Props<Defs['walFigures']>>();
    expectTypeOf<keyof StrategyResult['rows']>().toEqualTypeOf<Props<Defs['rows']>>();
    expectTypeOf<keyof StrategyResult['schema']>().toEqualTypeOf<Props<Defs['schemaVerification']>>();
    expectTypeOf<keyof NonNullable<RunResult['dataset']>>().toEqualTypeOf<Props<Defs['dataset']>>();
    expectTypeOf<keyof NonNullable<RunResult['faults']>>().toEqualTypeOf<Props<Defs['faults']>>();
    expectTypeOf<keyof RunResult['postgres']>().toEqualTypeOf<keyof typeof schema.properties.postgres.properties>();
    expectTypeOf<keyof RunResult['harness']>().toEqualTypeOf<keyof typeof schema.properties.harness.properties>();
    expectTypeOf<keyof Check>().toEqualTypeOf<Props<Defs['check']>>();
    expectTypeOf<keyof Projection>().toEqualTypeOf<Props<Defs['projection']>>();
    expectTypeOf<keyof SweepPoint>().toEqualTypeOf<Props<Defs['sweep']['properties']['points']['items']>>();
    expectTypeOf<OptionalKeys<RunResult>>().toEqualTypeOf<'checks' | 'projections' | 'extra' | 'upgrade'>();
    expectTypeOf<OptionalKeys<StrategyResult>>().toEqualTypeOf<'output' | 'kept' | 'stamp' | 'alembic' | 'upstream' | 'clientPeakRssOf' | 'locksOnChatSamples' | 'skippedChats' | 'load' | 'autovacuum' | 'backendProcesses' | 'transactionSpanMs' | 'speedFloor'>();
    expectTypeOf<keyof LoadFigures>().toEqualTypeOf<Props<Defs['loadFigures']>>();
    expectTypeOf<keyof SpeedFloorReading>().toEqualTypeOf<Props<Defs['speedFloorReading']>>();
    expectTypeOf<keyof PointRegime>().toEqualTypeOf<Props<Defs['pointRegime']>>();
    expectTypeOf<keyof ProjectionRegime>().toEqualTypeOf<Props<Defs['projectionRegime']>>();
    expectTypeOf<OptionalKeys<SweepPoint>>().toEqualTypeOf<'regime' | 'runs' | 'pages' | 'checkpointIntervals' | 'speedFloorMs'>();
    expectTypeOf<OptionalKeys<Projection>>().toEqualTypeOf<'regime' | 'model' | 'modelOf' | 'backtest' | 'cycles' | 'faults'>();
    expectTypeOf<keyof ProjectionBacktest>().toEqualTypeOf<Props<Defs['projection']['properties']['backtest']>>();
    expectTypeOf<OptionalKeys<Check>>().toEqualTypeOf<'detail'>();
  });

  it('on the top-level keys of a fully populated result, and on which are required', async () => {
    const [repro, gate, sweep, upgrade] = [await fixture('repro'), await fixture('gate'), await fixture('sweep'), await fixture('upgrade')];
    const full: Required<RunResult> = { ...repro, checks: gate.checks!, projections: sweep.projections!, extra: sweep.extra!, upgrade: upgrade.upgrade! };
    expect(validateResult(full).ok).toBe(true);
    expect(Object.keys(full).sort()).toEqual(Object.keys(schema.properties).sort());
    const optional: OptionalKeys<RunResult>[] = ['checks', 'projections', 'extra', 'upgrade'];
    expect([...schema.required].sort()).toEqual(Object.keys(full).filter((k) => !(optional as string[]).includes(k)).sort());
  });

  it('on which strategy fields are required', async () => {
    const s = (await fixture('repro')).strategies[0];
    const optional: OptionalKeys<StrategyResult>[] = ['output', 'kept', 'stamp', 'alembic', 'upstream', 'clientPeakRssOf', 'locksOnChatSamples', 'skippedChats', 'load'];
    expect([...schema.$defs.strategy.required].sort()).toEqual(Object.keys(s).filter((k) => !(optional as string[]).includes(k)).sort());
  });
});
