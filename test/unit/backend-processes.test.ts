/**
 * The migration backends' page faults and CPU: reading /proc/<pid>/stat,
 * summing backends (one that ended, a pid used again), and how a sweep
 * point shows them per MiB of chat table.
 */
import { describe, expect, it } from 'vitest';
import { BackendProcesses, parseProcStat, readProcCounters } from '../../harness/measure/backend-processes.ts';
import { renderSweep } from '../../harness/report/render-sweep.ts';
import type { RunResult } from '../../harness/result/run-result.ts';
import type { SweepPoint } from '../../harness/result/sweep-points.ts';
import { pointRegime } from '../../harness/sweep/regime.ts';
import { backendPerMB } from '../../harness/sweep/run-sweep.ts';

const MB = 1024 ** 2;

/** A /proc/<pid>/stat line as Linux writes it: minflt 4321, majflt 7, utime 250 and stime 60 ticks. */
function statLine(name: string, minflt: number, utime: number, stime: number, majflt = 7): string {
  return `12345 (${name}) S 100 12345 12345 0 -1 4194560 ${minflt} 0 ${majflt} 0 ${utime} ${stime} 0 0 20 0 1 0 5000 300000000 4000 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n`;
}

describe('parseProcStat', () => {
  it('takes minor and major faults and CPU ticks (10 ms each) after the command name', () => {
    expect(parseProcStat(statLine('postgres', 4321, 250, 60))).toEqual({ minorFaults: 4321, majorFaults: 7, userMs: 2500, systemMs: 600 });
  });

  it('counts fields from the last parenthesis, so a name with spaces and parentheses does not shift them', () => {
    expect(parseProcStat(statLine('postgres: me db (x) 1) idle', 10, 1, 2))).toEqual({ minorFaults: 10, majorFaults: 7, userMs: 10, systemMs: 20 });
  });

  it('gives null for text that is not such a line', () => {
    expect(parseProcStat('')).toBeNull();
    expect(parseProcStat('12345 (postgres) S 1 2 3')).toBeNull();
    expect(parseProcStat(statLine('postgres', -1, 1, 1))).toBeNull();
  });

  it("reads this process's own counters from /proc", async () => {
    const c = await readProcCounters(process.pid);
    expect(c).not.toBeNull();
    expect(c!.minorFaults).toBeGreaterThan(0);
    expect(c!.userMs + c!.systemMs).toBeGreaterThan(0);
    // A process that is not there reads as null, not as an error.
    expect(await readProcCounters(2 ** 22 + 17)).toBeNull();
  });
});

describe('BackendProcesses', () => {
  it('sums the last reading of every backend', () => {
    const b = new BackendProcesses();
    expect(b.totals()).toBeNull();
    b.note(1, { minorFaults: 100, majorFaults: 0, userMs: 10, systemMs: 5 });
    b.note(1, { minorFaults: 300, majorFaults: 1, userMs: 40, systemMs: 20 });
    b.note(2, { minorFaults: 50, majorFaults: 0, userMs: 30, systemMs: 10 });
    expect(b.totals()).toEqual({ minorFaults: 350, majorFaults: 1, userMs: 70, systemMs: 30, backends: 2 });
  });

  it('keeps an ended backend when its pid comes back with counters that went down (a new backend)', () => {
    const b = new BackendProcesses();
    b.note(7, { minorFaults: 1000, majorFaults: 0, userMs: 500, systemMs: 100 });
    b.note(7, { minorFaults: 20, majorFaults: 0, userMs: 10, systemMs: 0 });
    expect(b.totals()).toEqual({ minorFaults: 1020, majorFaults: 0, userMs: 510, systemMs: 100, backends: 2 });
  });
});

describe('backend figures of a sweep point', () => {
  it('are per MiB of chat table, or null where the backends were not read', () => {
    expect(backendPerMB({ minorFaults: 51_200, majorFaults: 0, userMs: 8_000, systemMs: 2_240, backends: 1 }, 512 * MB)).toEqual({ backendFaultsPerMB: 100, backendCpuMsPerMB: 20 });
    expect(backendPerMB(null, 512 * MB)).toEqual({ backendFaultsPerMB: null, backendCpuMsPerMB: null });
  });

  it('show in the regime table next to the other ratios', () => {
    const regime = (faults: number | null, cpu: number | null) =>
      pointRegime({
        sharedBuffersBytes: 128 * MB,
        maxWalSizeBytes: 64 * MB,
        checkpointEveryBytes: null,
        chatMessageBytes: 600 * MB,
        indexBytes: 100 * MB,
        walBytes: 300 * MB,
        checkpoints: 9,
        bufferHitRatio: 0.9,
        chatMessageHitRatio: 0.95,
        backendFaultsPerMB: faults,
        backendCpuMsPerMB: cpu,
      });
    const points = [
      { strategy: 'chunked', sizeBytes: 512 * MB, durationMs: 30_000, walBytes: 1, fpi: 1, outcome: 'succeeded', regime: regime(690.4, 35.26) },
      { strategy: 'original', sizeBytes: 512 * MB, durationMs: 90_000, walBytes: 1, fpi: 1, outcome: 'succeeded', regime: regime(null, null) },
    ] as SweepPoint[];
    const sweep = renderSweep({ harness: { cpus: 2, memoryBytes: 8 * 1024 * MB }, postgres: { version: '15.18', provider: 'embedded' }, extra: { sweep: { points } } } as unknown as RunResult)!;
    expect(sweep).toContain('backend faults · CPU per MiB');
    expect(sweep).toContain('| 690 · 35.3 ms |');
    // Not read (another provider, an older result): a dash, as for the autovacuum cell before it.
    expect(sweep).toMatch(/^\| original \| 512 MB \| 128 MB \|.*\| – \| – \|$/m);
  });
});
