/**
 * The three hazards, each a built-in scenario, run small: the scenario file
 * read and planned as the command line plans it (its strategies, their
 * Alembic environments, a sequence, its faults), on a few hundred small
 * chats, each strategy run, measured and verified by the runner as `run`
 * does it. What each must show:
 *
 * - poison-chat: original fails every attempt keeping nothing; chunked keeps
 *   the pages before the chat and fails at the same chat on every restart,
 *   never stamping; resuming finishes and names the chat it skipped.
 * - lost-stamp: under one transaction every start completes, finds the old
 *   stamp and runs the whole backfill again (writing nothing new); with a
 *   transaction per migration and a revision after it, stamped once.
 * - mixed-upgrade: the fix killed at half the rows, then v0.9.6 exits 0 and
 *   stamps: rows missing for good, no indexes, no foreign key: silent data
 *   loss.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPlan, type RunFlags } from '../../harness/cli/run-options.ts';
import { REVISION_AFTER, REVISION_BEFORE } from '../../harness/openwebui/schema.ts';
import type { StartedEmbeddedPostgres } from '../../harness/postgres/embedded-server.ts';
import { withClient } from '../../harness/postgres/with-client.ts';
import { renderTerminal } from '../../harness/report/index.ts';
import type { RunResult, StrategyResult } from '../../harness/result/run-result.ts';
import { newResult, resolveStrategy, type RunPlan } from '../../harness/run.ts';
import { runStrategy } from '../../harness/run/run-strategy.ts';
import type { SeedSummary } from '../../seed/seeder.ts';
import { seedTemplate, startTestServer } from '../support/postgres.ts';

let server: StartedEmbeddedPostgres;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

/** Three pages of the fix's 100 chats, each chat small. */
const CHATS = 300;
const SIZE_SCALE = 0.03;

/** The scenario as `run --scenario <name> --chats 300` plans it, seeded small; every strategy run as the runner runs it. */
async function runScenarioSmall(name: string): Promise<{ plan: RunPlan; seeded: SeedSummary; template: string; results: StrategyResult[] }> {
  const flags = { scenario: name, provider: 'embedded', chats: CHATS, faults: true, probe: false, cache: false } as RunFlags;
  const plan = await buildPlan('run', flags, ['run', '--scenario', name], process.env, 'plain');
  const template = `tpl_${name.replace(/\W/g, '_')}`;
  const seeded = await seedTemplate(server, template, { ...plan.dataset, sizeScale: SIZE_SCALE });
  const results: StrategyResult[] = [];
  for (const label of plan.strategies) {
    const { strategy, options, alembic, upstream, parts } = resolveStrategy(plan, label);
    const r = await runStrategy({
      server,
      template,
      database: `hz_${template}_${results.length}`,
      strategy,
      strategyOptions: options,
      alembic,
      upstream,
      parts,
      label,
      faults: { ...plan.faults, restartDelayMs: 50 },
      deadlineMs: null,
      expectedRows: seeded.expectedRows,
      measure: { sampleIntervalMs: 100, probe: false, probeIntervalMs: 100, probeLockTimeoutMs: 10_000 },
      keep: false,
      signal: new AbortController().signal,
      log: () => undefined,
    });
    r.name = label;
    results.push(r);
  }
  return { plan, seeded, template, results };
}

const byName = (results: StrategyResult[], name: string) => results.find((r) => r.name === name)!;

describe('poison-chat', () => {
  let run: Awaited<ReturnType<typeof runScenarioSmall>>;
  let poison: { chatId: string; reason: string };
  let beforeItsPage: number;

  beforeAll(async () => {
    run = await runScenarioSmall('poison-chat');
    await withClient(server, run.template, 'test', async (c) => {
      const p = (await c.query<{ chat_id: string; reason: string }>("SELECT chat_id, reason FROM harness.poison_chats WHERE rules = 'v0.8.12'")).rows;
      poison = { chatId: p[0].chat_id, reason: p[0].reason };
      const ids = (await c.query<{ id: string }>("SELECT id FROM chat WHERE user_id NOT LIKE 'shared-%' ORDER BY id")).rows.map((r) => r.id);
      const at = ids.indexOf(poison.chatId);
      // The scenario plants it at 60% of the chats in id order: in the fix's second page here.
      expect(at).toBe(Math.floor(0.6 * ids.length));
      beforeItsPage = (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM harness.expected_rows WHERE chat_id <= $1', [ids[Math.floor(at / 100) * 100 - 1]])).rows[0].n;
    });
  });

  it('plans one poison chat and three restarts-worth of attempts for original, chunked and resuming', () => {
    expect(run.plan.dataset).toMatchObject({ poisonChats: 1, poisonAt: 0.6 });
    expect(run.seeded.poisonChats).toBe(1);
    expect(run.plan.strategies).toEqual(['original', 'chunked', 'resuming']);
    expect(run.plan.faults.restarts).toBe(2);
  });

  it('original fails every attempt at that chat, keeping nothing', () => {
    const r = byName(run.results, 'original');
    expect(r.outcome).toBe('failed');
    expect(r.attempts.map((a) => [a.ended, a.rowsKept, a.alembicVersion])).toEqual(Array(3).fill(['error', null, REVISION_BEFORE]));
    for (const a of r.attempts) expect(a.error).toBe(`chat ${poison.chatId} stops the migration: ${poison.reason}`);
    expect(r.schema.untouched).toBe(true);
  });

  it('chunked keeps the pages before it, then fails at the same chat on every restart, never stamping', () => {
    const r = byName(run.results, 'chunked');
    expect(r.outcome).toBe('failed');
    expect(r.attempts.map((a) => [a.ended, a.rowsKept, a.alembicVersion])).toEqual(Array(3).fill(['error', beforeItsPage, REVISION_BEFORE]));
    for (const a of r.attempts) expect(a.error).toBe(`chat ${poison.chatId} stops the migration: ${poison.reason}`);
    expect(r.attempts.map((a) => a.rowsWritten)).toEqual([beforeItsPage, 0, 0]);
  });

  it('resuming finishes in one attempt, every other row verified, and names the chat it skipped', () => {
    const r = byName(run.results, 'resuming');
    expect(r.outcome).toBe('succeeded');
    expect(r.attempts).toHaveLength(1);
    expect(r.verified).toBe(true);
    expect(r.rows).toMatchObject({ expected: run.seeded.expectedRows, missing: 0, mismatched: 0 });
    expect(r.skippedChats).toEqual([poison]);
    expect(r.alembicVersion).toBe(REVISION_AFTER);
  });
});

describe('lost-stamp', () => {
  let run: Awaited<ReturnType<typeof runScenarioSmall>>;
  beforeAll(async () => {
    run = await runScenarioSmall('lost-stamp');
  });

  it('runs the fix twice, in the two Alembic environments the scenario names', () => {
    expect(run.results.map((r) => [r.name, r.alembic?.shape, r.alembic?.target])).toEqual([
      ['chunked (single)', 'single', 'head'],
      ['chunked (per-migration)', 'per-migration', 'head'],
    ]);
    expect(run.results[0].alembic?.why).toBe('the scenario lost-stamp sets it');
  });

  it('one transaction: every start completes, finds 374d2f66af06 and runs the whole backfill again', () => {
    const r = byName(run.results, 'chunked (single)');
    expect(r.outcome).toBe('failed');
    expect(r.attempts.map((a) => [a.ended, a.alembicVersion, a.stamp?.verdict, a.stamp?.followingKept])).toEqual(Array(3).fill(['completed', REVISION_BEFORE, 'not-stamped', false]));
    // Every row stays from the first; each re-run reads every chat again and writes none.
    expect(r.attempts.map((a) => a.rowsWritten)).toEqual([run.seeded.expectedRows, 0, 0]);
    expect(r.attempts.map((a) => a.rowsKept)).toEqual(Array(3).fill(run.seeded.expectedRows));
    for (const a of r.attempts) expect(a.walBytes).toBeGreaterThan(0);
    expect(r.attempts[0].walBytes!).toBeGreaterThan(r.attempts[1].walBytes!);
    expect(r.stamp?.nextStart).toBe('not stamped: the next start runs it again; revisions after it in the same run were rolled back');
  });

  it('a transaction per migration and a revision after it: stamped once', () => {
    const r = byName(run.results, 'chunked (per-migration)');
    expect(r.outcome).toBe('succeeded');
    expect(r.attempts.map((a) => [a.ended, a.stamp?.verdict, a.stamp?.followingKept])).toEqual([['completed', 'stamped', true]]);
    expect(r.verified).toBe(true);
  });
});

describe('mixed-upgrade', () => {
  let run: Awaited<ReturnType<typeof runScenarioSmall>>;
  let r: StrategyResult;
  beforeAll(async () => {
    run = await runScenarioSmall('mixed-upgrade');
    r = run.results[0];
  });

  it('the fix killed at half the rows, then v0.9.6 at the next start, exiting 0', () => {
    expect(run.plan.strategies).toEqual(['chunked>v0.9.6']);
    expect(r.attempts.map((a) => [a.strategy, a.ended])).toEqual([
      ['chunked', 'killed'],
      ['v0.9.6', 'completed'],
    ]);
    expect(r.attempts[1].error).toBeNull();
    expect(r.attempts[1].rowsWritten).toBe(0);
    expect(r.outcome).toBe('succeeded');
  });

  it('verification: the stamp advanced, chat_message incomplete, the rows missing for good counted', () => {
    const kept = r.attempts[0].rowsKept!;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(run.seeded.expectedRows);
    expect(r.attempts[1].rowsKept).toBe(kept);
    expect(r.alembicVersion).toBe(REVISION_AFTER);
    expect(r.stamp?.verdict).toBe('stamped');
    expect(r.rows).toMatchObject({ inserted: kept, expected: run.seeded.expectedRows, missing: run.seeded.expectedRows - kept, unexpected: 0, mismatched: 0 });
    expect(r.schema).toMatchObject({ tableExists: true, fkPresent: false });
    expect(r.schema.indexesMissing).toHaveLength(7);
    expect(r.verified).toBe(false);
  });

  it('says "silent data loss", with the rows missing for good', () => {
    const result: RunResult = { ...newResult(run.plan), status: 'complete', stoppedAt: null, strategies: [r] };
    const line = renderTerminal(result, { color: false }).split('\n').find((l) => l.startsWith('chunked>v0.9.6'))!;
    expect(line).toContain(`SILENT DATA LOSS: exit 0 and stamped ${REVISION_AFTER} after 2 attempts · ${(run.seeded.expectedRows - r.rows.inserted).toLocaleString('en-US')} of ${run.seeded.expectedRows.toLocaleString('en-US')} rows missing for good`);
  });
});
