/**
 * What the migration's server processes cost the machine: page faults and
 * CPU time of each backend serving the migration, read from /proc/<pid>/stat
 * while it runs. Only where the server's processes are this machine's own
 * (the embedded provider): a container's or another host's backend pids are
 * not ours to read.
 *
 * Why it is recorded: a backend gives memory back to the kernel or keeps it
 * as its allocator decides, and one that gives it back faults it in again for
 * the next large value (a chat detoasted, an INSERT's text parsed). How much
 * of that a run does depends on the sizes it has met so far, so a short run
 * can spend much more per byte on it than a long one: a regime of its own,
 * shown next to the WAL and buffer figures.
 */
import { readFile } from 'node:fs/promises';

/** One reading of a process's cumulative counters. */
export interface ProcessCounters {
  minorFaults: number;
  majorFaults: number;
  userMs: number;
  systemMs: number;
}

/** The migration backends' counters summed over the run (each backend from its start to its last reading). */
export interface BackendProcessFigures extends ProcessCounters {
  /** How many backends were read. */
  backends: number;
}

/** Linux reports CPU times in USER_HZ ticks, 100 a second on every mainstream architecture. */
const MS_PER_TICK = 10;

/**
 * Parses the text of /proc/<pid>/stat. The command name (field 2) may hold
 * spaces and parentheses, so the fields are counted from its last ')'.
 * Null when the text is not such a line.
 */
export function parseProcStat(text: string): ProcessCounters | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  // After the name: state(0) ppid(1) pgrp(2) session(3) tty_nr(4) tpgid(5) flags(6) minflt(7) cminflt(8) majflt(9) cmajflt(10) utime(11) stime(12).
  const f = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  if (f.length < 13) return null;
  const n = [f[7], f[9], f[11], f[12]].map(Number);
  if (n.some((x) => !Number.isFinite(x) || x < 0)) return null;
  return { minorFaults: n[0], majorFaults: n[1], userMs: n[2] * MS_PER_TICK, systemMs: n[3] * MS_PER_TICK };
}

/** Reads /proc/<pid>/stat; null when the process has gone or cannot be read. */
export async function readProcCounters(pid: number): Promise<ProcessCounters | null> {
  try {
    return parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * The latest reading of every backend seen. A backend's counters start at
 * zero when it is forked for the migration's connection, so its last reading
 * is what it cost; what it did after that reading (less than one sampling
 * interval) is not counted. A pid the kernel reuses for a new backend shows
 * counters that went down: it counts as another backend.
 */
export class BackendProcesses {
  private readonly last = new Map<number, ProcessCounters>();
  private readonly done: ProcessCounters[] = [];

  note(pid: number, c: ProcessCounters): void {
    const prev = this.last.get(pid);
    if (prev && (c.minorFaults < prev.minorFaults || c.userMs < prev.userMs || c.systemMs < prev.systemMs)) this.done.push(prev);
    this.last.set(pid, c);
  }

  /** Null when no backend was read. */
  totals(): BackendProcessFigures | null {
    const all = [...this.done, ...this.last.values()];
    if (!all.length) return null;
    const sum = (k: keyof ProcessCounters) => all.reduce((s, c) => s + c[k], 0);
    return { minorFaults: sum('minorFaults'), majorFaults: sum('majorFaults'), userMs: sum('userMs'), systemMs: sum('systemMs'), backends: all.length };
  }
}
