/**
 * From one measured upgrade (its log's revision starts, the samples, the
 * probes' writes) to figures per revision. Pure, so it is tested with
 * hand-made samples.
 *
 * A revision runs from its "Running upgrade" line to the next one (the last
 * to the process's exit, so with one transaction around the path, the final
 * COMMIT counts for the last revision). Counters are read from the sample
 * taken as each line arrived: WAL bytes from the WAL position (exact), but
 * full-page images from pg_stat_wal, which a busy backend reports only when
 * its transaction ends (PostgreSQL 15 has no live per-backend figure), so
 * under one transaction they land late. A lock is charged to the revision during which
 * it was first seen. A blocked write is charged to the revision that took a
 * lock on its table that conflicts with a write (SHARE or stronger) and was
 * held while the write waited, which under one transaction for the whole
 * path can be a revision that finished long before; failing that (a row it
 * waited for, or a lock held between two samples), to the revision its wait
 * overlapped most.
 */

import type { UpgradeRevision } from '../result/run-result.ts';
import type { PathSample, ProbeWrite } from './path-sampler.ts';

export interface RevisionWindow {
  id: string;
  from: string;
  message: string;
  startMs: number;
  endMs: number;
}

/** A revision's measured figures: result.json's revision without what the checks add. */
export type RevisionFigures = Omit<UpgradeRevision, 'file' | 'touched' | 'touchedBytes' | 'checks'>;

/** Lock modes that make a writer (ROW EXCLUSIVE) wait, weakest first. */
const WRITE_BLOCKING = ['ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock'];
const MODE_ORDER = ['AccessShareLock', 'RowShareLock', 'RowExclusiveLock', 'ShareUpdateExclusiveLock', ...WRITE_BLOCKING];

export function strongestMode(modes: string[]): string {
  return modes.reduce((a, b) => (MODE_ORDER.indexOf(b) > MODE_ORDER.indexOf(a) ? b : a));
}

/** Windows from the starts (ms on the run's clock) and the end of the process. */
export function revisionWindows(starts: { atMs: number; from: string; to: string; message: string }[], endMs: number): RevisionWindow[] {
  return starts.map((s, i) => ({
    id: s.to,
    from: s.from,
    message: s.message,
    startMs: s.atMs,
    endMs: i + 1 < starts.length ? starts[i + 1].atMs : Math.max(s.atMs, endMs),
  }));
}

/** The last sample taken at or before `t` (the first one if none). */
function sampleAt(samples: PathSample[], t: number): PathSample | undefined {
  let found: PathSample | undefined;
  for (const s of samples) {
    if (s.tMs <= t) found = s;
    else break;
  }
  return found ?? samples[0];
}

/** Counters at a window's edge: the boundary sample for that revision when there is one. */
function edge(samples: PathSample[], boundary: string | null, t: number): PathSample | undefined {
  if (boundary) {
    const b = samples.find((s) => s.boundary === boundary);
    if (b) return b;
  }
  return sampleAt(samples, t);
}

/** The window a span overlaps most (the one running at its start for a span of no length). */
function mostOverlapped(windows: RevisionWindow[], from: number, to: number): number {
  let best = -1;
  let bestMs = -1;
  for (const [i, w] of windows.entries()) {
    const ms = Math.min(to, w.endMs) - Math.max(from, w.startMs);
    if (ms > bestMs || (ms === bestMs && from >= w.startMs)) [best, bestMs] = [i, ms];
  }
  return bestMs >= 0 ? best : -1;
}

export function revisionFigures(windows: RevisionWindow[], samples: PathSample[], writes: ProbeWrite[]): RevisionFigures[] {
  const sorted = [...samples].sort((a, b) => a.tMs - b.tMs);
  // Which revision first held which mode on which table.
  const firstSeen = new Map<string, { revision: number; atMs: number }>();
  const windowOf = (t: number) => {
    for (let i = windows.length - 1; i >= 0; i--) if (t >= windows[i].startMs) return i;
    return -1;
  };
  for (const s of sorted) {
    const w = windowOf(s.tMs);
    if (w < 0) continue;
    for (const [table, modes] of Object.entries(s.locks))
      for (const mode of modes) {
        const key = `${table}\0${mode}`;
        if (!firstSeen.has(key)) firstSeen.set(key, { revision: w, atMs: s.tMs });
      }
  }
  const figures: RevisionFigures[] = windows.map((w, i) => {
    const a = edge(sorted, w.id, w.startMs);
    const b = edge(sorted, i + 1 < windows.length ? windows[i + 1].id : 'end', w.endMs);
    const inside = sorted.filter((s) => s.tMs >= w.startMs && s.tMs <= w.endMs);
    const locks: Record<string, string[]> = {};
    for (const [key, seen] of firstSeen) {
      if (seen.revision !== i) continue;
      const [table, mode] = key.split('\0');
      (locks[table] ??= []).push(mode);
    }
    return {
      ...w,
      durationMs: w.endMs - w.startMs,
      walBytes: a && b ? Math.max(0, b.walBytes - a.walBytes) : 0,
      fpi: a && b ? Math.max(0, b.fpi - a.fpi) : 0,
      checkpoints: a && b ? Math.max(0, b.checkpoints - a.checkpoints) : 0,
      peakRssBytes: Math.max(0, ...inside.map((s) => s.rssBytes), ...(a ? [a.rssBytes] : [])),
      startRssBytes: a?.rssBytes ?? 0,
      locks: Object.fromEntries(Object.entries(locks).map(([t, m]) => [t, strongestMode(m)])),
      blockedWrite: null,
    };
  });
  for (const wr of writes) {
    if (wr.error) continue;
    const endMs = wr.startMs + wr.latencyMs;
    let blame = -1;
    // A blocking lock on its table held while it waited: charged to the revision that took it.
    for (const s of sorted) {
      if (s.tMs < wr.startMs || s.tMs > endMs) continue;
      for (const mode of s.locks[wr.table] ?? []) {
        const seen = WRITE_BLOCKING.includes(mode) ? firstSeen.get(`${wr.table}\0${mode}`) : undefined;
        if (seen && (blame < 0 || seen.revision < blame)) blame = seen.revision;
      }
    }
    if (blame < 0) blame = mostOverlapped(windows, wr.startMs, endMs);
    if (blame < 0) continue;
    const f = figures[blame];
    if (!f.blockedWrite || wr.latencyMs > f.blockedWrite.ms) f.blockedWrite = { table: wr.table, ms: wr.latencyMs, unfinished: wr.unfinished };
  }
  return figures;
}
