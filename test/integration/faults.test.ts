/**
 * Nothing is lost: each resumable strategy killed (its connection ended) at
 * 10%, 50% and 90% of the rows, or with the server SIGKILLed at 30% and
 * 70%, then resumed, verifies completely; the single-transaction original
 * leaves the database exactly as it was; a deadline shorter than any
 * backfill fails every strategy cleanly instead of hanging.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_FAULTS, type FaultSpec } from '../../harness/faults/fault-spec.ts';
import type { StartedEmbeddedPostgres } from '../../harness/postgres/embedded-server.ts';
import { runStrategy } from '../../harness/run/run-strategy.ts';
import { strategyByName } from '../../harness/strategies/strategy-registry.ts';
import type { SeedSummary } from '../../seed/seeder.ts';
import { seedTemplate, startTestServer } from '../support/postgres.ts';

let server: StartedEmbeddedPostgres;
let summary: SeedSummary;
const TEMPLATE = 'tpl_faults';
let n = 0;

beforeAll(async () => {
  server = await startTestServer();
  // Enough rows that a fraction lands mid-load, small enough to stay quick.
  // Many small chats: enough pages (and 5000-row batches) for a fraction to land mid-load.
  summary = await seedTemplate(server, TEMPLATE, { seed: 11, chats: 2400, sizeScale: 0.03, edgeCaseRate: 0.05, sharedRate: 0.05 });
});
afterAll(async () => {
  await server?.stop();
});

function run(strategy: string, faults: Partial<FaultSpec>, deadlineMs: number | null = null) {
  return runStrategy({
    server,
    template: TEMPLATE,
    database: `faults_${strategy}_${n++}`,
    strategy: strategyByName(strategy)!,
    strategyOptions: { workers: 2 },
    faults: { ...NO_FAULTS, restartDelayMs: 50, ...faults },
    deadlineMs,
    expectedRows: summary.expectedRows,
    measure: { sampleIntervalMs: 100, probe: false, probeIntervalMs: 100, probeLockTimeoutMs: 10_000 },
    keep: false,
    signal: new AbortController().signal,
    log: () => undefined,
  });
}

describe.each(['chunked', 'setbased', 'parallel', 'resuming'])('%s resumes after faults with nothing lost', (name) => {
  it.each([
    ['kill-at', 0.1],
    ['kill-at', 0.5],
    ['kill-at', 0.9],
    ['crash-at', 0.3],
    ['crash-at', 0.7],
  ] as const)('%s=%s', async (fault, at) => {
    const r = await run(name, fault === 'kill-at' ? { killAt: at, restarts: 1 } : { crashAt: at, restarts: 1 });
    expect(r.attempts.map((a) => a.ended)).toEqual([fault === 'kill-at' ? 'killed' : 'crashed', 'completed']);
    // The fault hit mid-load: some rows were committed before it, none lost after the resume.
    expect(r.attempts[0].rowsKept ?? 0).toBeGreaterThan(0);
    expect(r.attempts[0].rowsKept ?? 0).toBeLessThan(summary.expectedRows);
    expect(r.outcome).toBe('succeeded');
    expect(r.rows).toMatchObject({ expected: summary.expectedRows, missing: 0, unexpected: 0, mismatched: 0 });
    expect(r.schema.fkValidated).toBe(true);
    expect(r.schema.indexesMissing).toEqual([]);
    expect(r.alembicVersion).toBe('8452d01d26d7');
    expect(r.verified).toBe(true);
  });
});

describe('original after a fault', () => {
  it.each([
    ['kill-at', 0.5],
    ['crash-at', 0.5],
  ] as const)('%s=%s leaves the database exactly as before', async (fault, at) => {
    const r = await run('original', fault === 'kill-at' ? { killAt: at } : { crashAt: at });
    expect(r.attempts).toHaveLength(1);
    expect(r.attempts[0].ended).toBe(fault === 'kill-at' ? 'killed' : 'crashed');
    expect(r.attempts[0].rowsWritten).toBeGreaterThan(0);
    expect(r.attempts[0].rowsKept).toBeNull();
    expect(r.outcome).toBe('failed');
    expect(r.schema.untouched).toBe(true);
    expect(r.alembicVersion).toBe('374d2f66af06');
    expect(r.rowsLost).toBe(r.attempts[0].rowsWritten);
  });
});

describe('a deadline shorter than any backfill, no restarts', () => {
  it.each(['original', 'v0.8.0', 'chunked', 'setbased', 'parallel', 'resuming'])('%s fails with a clear outcome, never a hang', async (name) => {
    const started = Date.now();
    const r = await run(name, { restarts: 0 }, 150);
    expect(r.outcome).toBe('failed');
    expect(r.attempts).toHaveLength(1);
    expect(r.attempts[0].ended).toBe('deadline');
    expect(r.error).toMatch(/deadline|terminat/i);
    expect(Date.now() - started).toBeLessThan(60_000);
  });
});
