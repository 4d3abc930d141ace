/**
 * How flags and a scenario become a plan, for what the hazards added: no
 * faults unless asked (run, seed and sweep measure; repro reproduces), the
 * poison flags in the dataset (and so in its key), a scenario's Alembic
 * environments and labels, a sequence of strategies.
 */
import { describe, expect, it } from 'vitest';
import { buildPlan, type RunFlags } from '../../harness/cli/run-options.ts';
import { NO_FAULTS } from '../../harness/faults/fault-spec.ts';
import { resolveStrategy, type RunPlan } from '../../harness/run.ts';
import { datasetKey } from '../../seed/dataset-plan.ts';

const flags = (f: Partial<RunFlags> = {}) => ({ provider: 'embedded', faults: true, probe: true, cache: false, ...f }) as RunFlags;
const plan = (kind: RunPlan['kind'], f: Partial<RunFlags> = {}, fallback = 'plain') => buildPlan(kind, flags(f), [kind], {}, fallback);

describe('a plain measurement has no faults', () => {
  it('run, seed and sweep default to the plain scenario: the headline data, no deadline, no restarts', async () => {
    for (const kind of ['run', 'seed', 'sweep'] as const) {
      const p = await plan(kind);
      expect(p.scenario.name).toBe('plain');
      expect(p.faults).toEqual(NO_FAULTS);
    }
    const [plain, headline] = [await plan('run'), await plan('repro', {}, 'issue-23273')];
    // The same data as the reproduction: the same seed key, so the same cached seed.
    expect(datasetKey(plain.dataset)).toBe(datasetKey(headline.dataset));
    expect(plain.settings).toEqual(headline.settings);
  });

  it('repro keeps the reproduction’s deadline and restarts', async () => {
    const p = await plan('repro', {}, 'issue-23273');
    expect(p.faults.deadline).toEqual({ kind: 'relative', factor: 0.8 });
    expect(p.faults.restarts).toBe(2);
  });

  it('faults asked for on the command line are in force', async () => {
    const p = await plan('run', { fault: ['restarts=2'] });
    expect(p.faults.restarts).toBe(2);
  });
});

describe('poison chats', () => {
  it('--poison-chats and --poison-at go into the dataset, and into its key', async () => {
    const p = await plan('run', { chats: 300, poisonChats: 2, poisonAt: 0.5 });
    expect(p.dataset).toMatchObject({ chats: 300, poisonChats: 2, poisonAt: 0.5 });
    const none = await plan('run', { chats: 300 });
    expect(none.dataset.poisonChats).toBeUndefined();
    expect(datasetKey(p.dataset)).not.toBe(datasetKey(none.dataset));
    expect(datasetKey(p.dataset)).not.toBe(datasetKey({ ...p.dataset, poisonAt: 0.6 }));
  });

  it('the poison-chat scenario plants one at 60%; the flags override it', async () => {
    expect((await plan('run', { scenario: 'poison-chat' })).dataset).toMatchObject({ poisonChats: 1, poisonAt: 0.6 });
    expect((await plan('run', { scenario: 'poison-chat', poisonAt: 0.3 })).dataset).toMatchObject({ poisonChats: 1, poisonAt: 0.3 });
  });
});

describe('scenario strategies', () => {
  it('lost-stamp: one strategy twice, each label with the Alembic environment the scenario gives it; the flags override it', async () => {
    const p = await plan('run', { scenario: 'lost-stamp' });
    expect(p.strategies).toEqual(['chunked (single)', 'chunked (per-migration)']);
    const envs = p.strategies.map((l) => resolveStrategy(p, l)).map((r) => [r.strategy.name, r.alembic?.shape, r.alembic?.target, r.alembic?.why]);
    expect(envs).toEqual([
      ['chunked', 'single', 'head', 'the scenario lost-stamp sets it'],
      ['chunked', 'per-migration', 'head', 'the scenario lost-stamp sets it'],
    ]);
    const flagged = await plan('run', { scenario: 'lost-stamp', alembicEnv: 'per-migration' });
    expect(flagged.strategies.map((l) => resolveStrategy(flagged, l).alembic?.why)).toEqual(['--alembic-env per-migration', '--alembic-env per-migration']);
  });

  it('mixed-upgrade: a sequence, each part in the environment it shipped with', async () => {
    const p = await plan('run', { scenario: 'mixed-upgrade' });
    expect(p.strategies).toEqual(['chunked>v0.9.6']);
    expect(p.faults).toMatchObject({ killAt: 0.5, restarts: 1 });
    const r = resolveStrategy(p, 'chunked>v0.9.6');
    expect(r.strategy.name).toBe('chunked>v0.9.6');
    expect(r.parts!.map((x) => [x.strategy.name, x.alembic?.shape])).toEqual([
      ['chunked', 'per-migration'],
      ['v0.9.6', 'single'],
    ]);
  });

  it('--strategies takes a sequence too', async () => {
    const p = await plan('run', { strategies: ['chunked>v0.9.6', 'original'] });
    expect(p.strategies).toEqual(['chunked>v0.9.6', 'original']);
    expect(resolveStrategy(p, 'original').parts).toBeUndefined();
  });
});
