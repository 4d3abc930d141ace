/**
 * The regime a measurement ran in, and whether a projection leaves it.
 *
 * Cost per GB is only constant while the ratios that decide it stay put:
 * how `chat_message` and its indexes compare with `shared_buffers` (pages
 * re-read from disk once they no longer fit) and how much WAL comes between
 * checkpoints compared with the indexes (after each checkpoint the first
 * change to every page writes a full-page image, so the shorter the interval
 * against the pages the load touches, the more images per GB). Small runs on
 * a server sized for big ones never leave the first regime; a 68 GB target
 * is deep in the second. Pure functions: the sweep feeds them measurements.
 */
import type { PointRegime, ProjectionRegime, RegimeCrossing, RegimeScaling } from '../result/sweep-points.ts';
import { formatBytes } from '../units.ts';

/** initdb's default WAL segment, which both owned providers use. */
export const WAL_SEGMENT_BYTES = 16 * 1024 * 1024;

/**
 * PostgreSQL requests a checkpoint once the WAL since the last one reaches
 * CheckPointSegments whole segments, max_wal_size / (1 + checkpoint_completion_target)
 * rounded down, at least one (xlog.c); 0.9 is the default target.
 */
export function checkpointSpacing(maxWalSizeBytes: number, segmentBytes = WAL_SEGMENT_BYTES, completionTarget = 0.9): number {
  return Math.max(1, Math.floor(maxWalSizeBytes / segmentBytes / (1 + completionTarget))) * segmentBytes;
}

/** What one measured point's run tells about its regime. */
export interface RegimeInput {
  sharedBuffersBytes: number;
  maxWalSizeBytes: number;
  /** A checkpoint the harness forced every this many bytes of WAL (max_wal_size could not go that low), or null. */
  checkpointEveryBytes: number | null;
  /** chat_message heap + TOAST, and its indexes, after the load (null when the load rolled back). */
  chatMessageBytes: number | null;
  indexBytes: number | null;
  walBytes: number;
  checkpoints: number;
  bufferHitRatio: number | null;
  chatMessageHitRatio: number | null;
  /** The load's duration, autovacuum_naptime (null: autovacuum off), whether the load commits as it goes (null: not known). */
  durationMs?: number | null;
  autovacuumNaptimeMs?: number | null;
  commitsDuringLoad?: boolean | null;
  /** Autovacuum passes over chat_message or its TOAST the samples saw (null: not sampled). */
  autovacuumPasses?: number | null;
  /** The migration backends' page faults and CPU ms per MiB of chat table (null: not read). */
  backendFaultsPerMB?: number | null;
  backendCpuMsPerMB?: number | null;
}

const ratio = (a: number | null, b: number | null): number | null => (a === null || b === null || !(b > 0) ? null : a / b);

export function pointRegime(i: RegimeInput): PointRegime {
  const walPerCheckpointBytes = i.checkpoints > 0 ? i.walBytes / i.checkpoints : null;
  const working = i.chatMessageBytes === null || i.indexBytes === null ? null : i.chatMessageBytes + i.indexBytes;
  return {
    sharedBuffersBytes: i.sharedBuffersBytes,
    maxWalSizeBytes: i.maxWalSizeBytes,
    checkpointEveryBytes: i.checkpointEveryBytes,
    chatMessageBytes: i.chatMessageBytes,
    indexBytes: i.indexBytes,
    chatMessageToSharedBuffers: ratio(working, i.sharedBuffersBytes),
    indexesToSharedBuffers: ratio(i.indexBytes, i.sharedBuffersBytes),
    checkpoints: i.checkpoints,
    walPerCheckpointBytes,
    walPerCheckpointToIndexes: ratio(walPerCheckpointBytes, i.indexBytes),
    bufferHitRatio: i.bufferHitRatio,
    chatMessageHitRatio: i.chatMessageHitRatio,
    durationMs: i.durationMs ?? null,
    autovacuumNaptimeMs: i.autovacuumNaptimeMs ?? null,
    commitsDuringLoad: i.commitsDuringLoad ?? null,
    autovacuumPasses: i.autovacuumPasses ?? null,
    backendFaultsPerMB: i.backendFaultsPerMB ?? null,
    backendCpuMsPerMB: i.backendCpuMsPerMB ?? null,
  };
}

/**
 * Whether a load commits as it goes, from the sampled ages of its open
 * transactions: its longest one shorter than half the span over which the
 * samples saw one open. The span, not the run's duration: a run also counts
 * the process start before its first transaction, which at a second's load
 * can be half of it. A load in one transaction has its longest at least the
 * span (the last sample's age counts from before the first sample), so it
 * never reads as committing. Null where nothing was sampled or the span is
 * under ten sample intervals (a short load's commits can fall between samples).
 */
export function commitsAsItGoes(longestTransactionMs: number | null, transactionSpanMs: number | null | undefined, sampleIntervalMs: number): boolean | null {
  if (longestTransactionMs === null || transactionSpanMs == null || transactionSpanMs < 10 * sampleIntervalMs) return null;
  return longestTransactionMs < transactionSpanMs / 2;
}

/** The target of a projection: its size and the server it will run on. */
export interface RegimeTarget {
  sizeBytes: number;
  sharedBuffersBytes: number;
  maxWalSizeBytes: number;
  /** WAL the projection expects there. */
  walBytes: number;
  /** The duration it expects there (autovacuum's naptime and whether the load commits are the largest point's: the same server). */
  durationMs?: number;
}

/** A point of the fit: its size (the chat table) and its regime. */
export interface RegimePoint {
  sizeBytes: number;
  regime: PointRegime;
}

/**
 * The regime expected at the target: chat_message and its indexes grow in
 * proportion to the chat table (as at the largest point that kept them),
 * checkpoints come every checkpointSpacing(max_wal_size) of the projected WAL.
 */
export function targetRegime(points: RegimePoint[], t: RegimeTarget): PointRegime {
  const kept = points.filter((p) => p.regime.chatMessageBytes !== null && p.regime.indexBytes !== null).sort((a, b) => a.sizeBytes - b.sizeBytes);
  const largest = kept[kept.length - 1];
  const scale = largest ? t.sizeBytes / largest.sizeBytes : null;
  const chatMessageBytes = largest && scale !== null ? largest.regime.chatMessageBytes! * scale : null;
  const indexBytes = largest && scale !== null ? largest.regime.indexBytes! * scale : null;
  const spacing = checkpointSpacing(t.maxWalSizeBytes);
  return pointRegime({
    sharedBuffersBytes: t.sharedBuffersBytes,
    maxWalSizeBytes: t.maxWalSizeBytes,
    checkpointEveryBytes: null,
    chatMessageBytes,
    indexBytes,
    walBytes: t.walBytes,
    // Fractions of a checkpoint count: the ratio of WAL to spacing is what matters here.
    checkpoints: t.walBytes / spacing,
    bufferHitRatio: null,
    chatMessageHitRatio: null,
    durationMs: t.durationMs ?? null,
    autovacuumNaptimeMs: largest?.regime.autovacuumNaptimeMs ?? null,
    commitsDuringLoad: largest?.regime.commitsDuringLoad ?? null,
  });
}

interface Boundary {
  name: string;
  /**
   * Whether WAL and images from checkpoint cycles (cycle-images.ts) already
   * follow the target across it (they know its checkpoints); those from the
   * fits never do.
   */
  inCycles: boolean;
  /** Which side of the boundary a regime is on (null: not known). */
  side: (r: PointRegime) => boolean | null;
  describe: (r: PointRegime) => string;
}

const fmt = (x: number | null, digits = 2) => (x === null ? 'unknown' : x.toFixed(digits));

/** The boundaries at which cost per GB changes, each a yes/no question about a regime. */
export const BOUNDARIES: Boundary[] = [
  {
    name: 'chat_message and its indexes outgrow shared_buffers',
    inCycles: true,
    side: (r) => (r.chatMessageToSharedBuffers === null ? null : r.chatMessageToSharedBuffers > 1),
    describe: (r) => `chat_message + indexes / shared_buffers = ${fmt(r.chatMessageToSharedBuffers)}`,
  },
  {
    name: "chat_message's indexes outgrow shared_buffers",
    inCycles: true,
    side: (r) => (r.indexesToSharedBuffers === null ? null : r.indexesToSharedBuffers > 1),
    describe: (r) => `indexes / shared_buffers = ${fmt(r.indexesToSharedBuffers)}`,
  },
  {
    name: 'checkpoints come during the load',
    inCycles: true,
    // Below one checkpoint the load's pages are imaged at most once: a different law.
    side: (r) => r.checkpoints >= 1,
    describe: (r) => `checkpoints during the load = ${fmt(r.checkpoints, 1)}`,
  },
  {
    name: 'a checkpoint comes before the WAL of one pass over the indexes',
    inCycles: true,
    side: (r) => (r.walPerCheckpointToIndexes === null ? null : r.walPerCheckpointToIndexes < 1),
    describe: (r) =>
      `WAL between checkpoints / indexes = ${fmt(r.walPerCheckpointToIndexes)}${r.walPerCheckpointBytes !== null ? ` (${formatBytes(r.walPerCheckpointBytes)} between checkpoints)` : ''}`,
  },
  {
    // Read back from a 4 GB chunked run's WAL (test/bench/fpi-sources.ts; about 3 min, autovacuum_naptime
    // 1min): autovacuum passed twice over chat_message while the load went on; after each pass its free
    // space map pointed the inserts at room left in pages written long before, and each such page took an
    // image: 3,103 of the run's 24,753 images came on heap and TOAST pages last changed more than two
    // checkpoint spacings before, after a pass began. A 512 MB run (26 s) had no pass and none of them.
    name: 'autovacuum passes over the rows the load has committed',
    inCycles: false,
    // A measured point says what its samples saw; the target (and an older result) only what its duration and transactions let happen.
    // Seen passes stand over the longest-transaction heuristic: autovacuum comes to the new table only for inserts committed.
    side: (r) => {
      if (r.autovacuumPasses != null) return r.autovacuumPasses > 0;
      const naptimes = autovacuumNaptimes(r);
      return naptimes === null || r.commitsDuringLoad == null ? null : r.commitsDuringLoad && naptimes > 1;
    },
    describe: (r) => {
      const naptimes = autovacuumNaptimes(r);
      const what = naptimes === null ? (r.autovacuumNaptimeMs === null ? 'autovacuum off' : 'load / autovacuum_naptime unknown') : `load / autovacuum_naptime = ${fmt(naptimes, 1)}`;
      const seen = r.autovacuumPasses == null ? '' : `, ${r.autovacuumPasses} pass${r.autovacuumPasses === 1 ? '' : 'es'} over chat_message seen`;
      return `${what}${seen}${r.commitsDuringLoad === false ? ' (one transaction: autovacuum cannot touch its rows)' : ''}`;
    },
  },
];

/** How many autovacuum naptimes the load lasts (the launcher comes by about once each); null when not known or autovacuum is off. */
export function autovacuumNaptimes(r: PointRegime): number | null {
  if (r.durationMs == null || r.autovacuumNaptimeMs == null || !(r.autovacuumNaptimeMs > 0)) return null;
  return r.durationMs / r.autovacuumNaptimeMs;
}

/** How many of the crossings WAL and images from checkpoint cycles do not follow (they widen those bands too). */
export function crossingsOutsideCycles(crossings: RegimeCrossing[]): number {
  return crossings.filter((c) => BOUNDARIES.find((b) => b.name === c.boundary)?.inCycles === false).length;
}

/** The boundaries the target lies beyond, where no measured point went. */
export function regimeCrossings(points: PointRegime[], target: PointRegime): RegimeCrossing[] {
  const out: RegimeCrossing[] = [];
  for (const b of BOUNDARIES) {
    const t = b.side(target);
    if (t === null) continue;
    const sides = points.map(b.side).filter((s): s is boolean => s !== null);
    if (sides.length === 0 || sides.includes(t)) continue;
    out.push({ boundary: b.name, measured: points.map(b.describe).join('; '), target: b.describe(target) });
  }
  return out;
}

/**
 * How far a band widens per boundary crossed: its high end doubles. Past a
 * boundary the points say nothing about the cost per GB, only that it does
 * not fall (re-reads and full-page images add work, they never remove it),
 * so the low end stays the fit's and the high end is opened; a factor of two
 * is the size of the one crossing measured here (full-page images per GB
 * doubled from 512 MB to 4 GB at a fixed max_wal_size: read back from the WAL,
 * most of the rise is index leaf pages imaged in the checkpoint cycles that
 * load the many small chats, which image about a leaf page per chat and
 * index, as many as the indexes hold: more the larger they are). A
 * heuristic, said so in the report, not a model.
 */
export const WIDEN_PER_CROSSING = 2;

/** A band [low, high] around value, widened for the crossings. */
export function widenBand(band: { value: number; low: number; high: number }, crossings: number): { value: number; low: number; high: number } {
  if (crossings === 0) return band;
  return { value: band.value, low: band.low, high: Math.max(band.high, band.value) * WIDEN_PER_CROSSING ** crossings };
}

/** The regime part of a projection: where the target lies and what that does to the band. */
export function projectionRegime(points: PointRegime[], target: PointRegime): ProjectionRegime {
  const crossings = regimeCrossings(points, target);
  return { target, crossings, widened: crossings.length > 0 };
}

/** What the small runs are told to run with so that their ratios match the target's (one size of `extra.sweep.regimeScaling`). */
export type ScaledSettings = RegimeScaling['sizes'][number];

export interface ScalingFloors {
  /** The smallest shared_buffers the harness runs with (see SHARED_BUFFERS_FLOOR). */
  sharedBuffersBytes: number;
  /** Two WAL segments: PostgreSQL's minimum max_wal_size. */
  maxWalSizeBytes: number;
  /** Whether the harness may force checkpoints (it owns the server). */
  canForceCheckpoints: boolean;
}

/**
 * Below a few hundred buffers concurrent sessions (the load, the sampler,
 * the probe, autovacuum) can run out of unpinned buffers; 2MB is 256.
 */
export const SHARED_BUFFERS_FLOOR = 2 * 1024 * 1024;

const KB = 1024;
const MB = 1024 * KB;
const roundKb = (b: number) => Math.max(KB, Math.round(b / KB) * KB);

/**
 * shared_buffers and max_wal_size for a run at `sizeBytes` so that the
 * ratios deciding re-reads and full-page images are the target's: both scale
 * with the data. Where a setting would fall below its floor it stays at the
 * floor and the ratio is reported unmatched; for max_wal_size the harness can
 * instead force a checkpoint every scaled spacing of WAL (the same redo-pointer
 * spacing, though immediate rather than spread; README, Regimes, has what that
 * gave against a run at the target's size).
 */
export function scaleSettings(sizeBytes: number, target: { sizeBytes: number; sharedBuffersBytes: number; maxWalSizeBytes: number }, floors: ScalingFloors): ScaledSettings {
  const f = sizeBytes / target.sizeBytes;
  const matched: string[] = [];
  const unmatched: { ratio: string; reason: string }[] = [];
  const wantBuffers = roundKb(target.sharedBuffersBytes * f);
  let sharedBuffersBytes = wantBuffers;
  if (wantBuffers < floors.sharedBuffersBytes) {
    sharedBuffersBytes = floors.sharedBuffersBytes;
    unmatched.push({
      ratio: 'chat_message and indexes / shared_buffers',
      reason: `shared_buffers would be ${formatBytes(wantBuffers)}, below the harness's floor of ${formatBytes(floors.sharedBuffersBytes)}: this run's data fits ${(floors.sharedBuffersBytes / wantBuffers).toFixed(1)}x better than the target's`,
    });
  } else matched.push('chat_message and indexes / shared_buffers');
  const wantWal = roundKb(target.maxWalSizeBytes * f);
  let maxWalSizeBytes = Math.max(wantWal, floors.maxWalSizeBytes);
  let checkpointEveryBytes: number | null = null;
  // Whole segments make the server's own spacing coarse: scale the spacing the target will have, not its setting.
  const wantSpacing = checkpointSpacing(target.maxWalSizeBytes) * f;
  if (Math.abs(checkpointSpacing(maxWalSizeBytes) - wantSpacing) > 0.1 * wantSpacing) {
    if (floors.canForceCheckpoints) {
      checkpointEveryBytes = Math.max(8 * KB, Math.round(wantSpacing));
      // The server's own checkpoints must come later than the forced ones, never in between.
      maxWalSizeBytes = Math.max(maxWalSizeBytes, Math.ceil((wantSpacing * 1.9 * 2) / MB) * MB);
      matched.push(
        `WAL between checkpoints / data (max_wal_size ${formatBytes(wantWal)} ${wantWal < floors.maxWalSizeBytes ? `is below its floor of ${formatBytes(floors.maxWalSizeBytes)}` : 'spaces checkpoints by whole WAL segments'}: the harness forces a checkpoint every ${formatBytes(checkpointEveryBytes)} of WAL, immediate rather than spread)`,
      );
    } else
      unmatched.push({
        ratio: 'WAL between checkpoints / data',
        reason: `checkpoints would come every ${formatBytes(wantSpacing)} of WAL (max_wal_size ${formatBytes(wantWal)}; its floor is ${formatBytes(floors.maxWalSizeBytes)}, two WAL segments), and the harness may not force checkpoints on this server`,
      });
  } else matched.push('WAL between checkpoints / data');
  return { sizeBytes, sharedBuffersBytes, maxWalSizeBytes, checkpointEveryBytes, matched, unmatched };
}
