/**
 * What a sweep keeps in `result.extra.sweep`: one point per strategy and
 * size, in base units. The sweep writes it; the reports read it with
 * `sweepPoints()`. `result.schema.json` describes the same shape.
 */
import type { Outcome, RunResult } from './run-result.ts';

/** One strategy run at one dataset size. */
export interface SweepPoint {
  strategy: string;
  /** Size of the `chat` table the strategy migrated, bytes. */
  sizeBytes: number;
  durationMs: number;
  walBytes: number;
  fpi: number;
  outcome: Outcome;
  /** The regime it ran in (absent in results written before the harness recorded it). */
  regime?: PointRegime;
  /**
   * Over every run at this size: the intervals between the checkpoints each
   * completed (redo pointers) and the WAL they span (strategies[].checkpoints.intervals,
   * summed); what spaces the target's checkpoints for this strategy. Absent
   * with no run of two checkpoints.
   */
  checkpointIntervals?: { intervals: number; walBytes: number };
  /** With sweep --repeat: every run's figures, in order; the point's duration is the fastest run's, its WAL and images their medians. */
  runs?: { durationMs: number[]; walBytes: number[]; fpi: number[] };
  /** The server's speed floor beside the run its duration is from (the lower of the readings just before and just after it, ms); absent where not read. */
  speedFloorMs?: number;
  /** Its first run's WAL read back, page by page (absent where it could not be read: see PointPages). */
  pages?: PointPages;
}

/**
 * What a point's first run wrote, read back from its WAL with pg_walinspect
 * (harness/measure/page-trace.ts), and the self-check of the gap model
 * (harness/sweep/cycle-images.ts): the images its page changes give at the
 * run's own checkpoint count against those pg_stat_wal counted.
 */
export interface PointPages {
  /** WAL record bytes without images, image bytes, and images (every database's) in the run's WAL. */
  bodyBytes: number;
  imageBytes: number;
  images: number;
  /** Changes to pages of the strategy's database; those to a page changed before in the run. */
  changes: number;
  revisits: number;
  /** First changes to pages that existed before the run; pages written whole when made (CREATE INDEX). */
  oldFirstChanges: number;
  newPageImages: number;
  /** Chats migrated: the WAL body of one (bodyBytes / chats) is the burst whose gaps do not grow with size. */
  chats: number;
  /** The run's own checkpoints (CHECKPOINT_ONLINE records in its WAL), the images its gaps give at that count, the images pg_stat_wal counted, and the error. */
  checkpoints: number;
  /** Mean WAL between two of its checkpoint records (null with fewer than two): what spaces the target's checkpoints. */
  walPerCheckpointBytes: number | null;
  modelledFpi: number;
  measuredFpi: number;
  selfCheckPct: number;
}

/**
 * The ratios that decide cost per GB at one point (harness/sweep/regime.ts):
 * chat_message and its indexes against shared_buffers, WAL between
 * checkpoints against the indexes, and how often the load found its pages in
 * shared_buffers. Bytes; ratios are plain numbers; null where not known (a
 * load that rolled back leaves no chat_message to measure).
 */
export interface PointRegime {
  /** The server's shared_buffers and max_wal_size during the run (SHOW). */
  sharedBuffersBytes: number;
  maxWalSizeBytes: number;
  /** A checkpoint the harness forced every this many bytes of WAL, standing in for a max_wal_size below its floor; null when none. */
  checkpointEveryBytes: number | null;
  /** chat_message's heap and TOAST after the load, and its indexes. */
  chatMessageBytes: number | null;
  indexBytes: number | null;
  /** (chat_message + indexes) / shared_buffers. */
  chatMessageToSharedBuffers: number | null;
  indexesToSharedBuffers: number | null;
  /** Checkpoints during the load: those completed, by redo pointer (strategies[].checkpoints.completed), else pg_stat_bgwriter's timed + requested; a projected target's may be fractional. */
  checkpoints: number;
  /** WAL / checkpoints, or null without a checkpoint. */
  walPerCheckpointBytes: number | null;
  /** WAL between checkpoints / indexes. */
  walPerCheckpointToIndexes: number | null;
  /**
   * How long the load ran (a target's: projected), autovacuum_naptime (null
   * with autovacuum off), and whether the load commits as it goes (its
   * longest transaction under half the run): a load that commits and outlasts
   * the naptime has autovacuum pass over the rows it wrote. Absent in results
   * written before they were recorded.
   */
  durationMs?: number | null;
  autovacuumNaptimeMs?: number | null;
  commitsDuringLoad?: boolean | null;
  /** Autovacuum passes over chat_message or its TOAST table the run's samples saw (strategies[].autovacuum); null: not sampled (a target, an older result). */
  autovacuumPasses?: number | null;
  /**
   * The migration backends' minor page faults, and their CPU time in ms,
   * per MiB of chat table (strategies[].backendProcesses): how much memory
   * the server's side gave back and faulted in again, which a short run can
   * do throughout and a long one only at its start. Null for a target and
   * where the backends could not be read; absent in older results.
   */
  backendFaultsPerMB?: number | null;
  backendCpuMsPerMB?: number | null;
  /** Blocks found in shared_buffers / blocks asked for, over the load (pg_stat_database of its database). */
  bufferHitRatio: number | null;
  /** The same for chat_message, its TOAST and indexes (pg_statio_all_tables). */
  chatMessageHitRatio: number | null;
}

/** A projection's WAL and images from the points' page changes (`projections[].cycles`; harness/sweep/cycle-images.ts). */
export interface CycleProjection {
  /** The point the figures come from (the largest with pages read back). */
  fromSizeBytes: number;
  /** WAL between checkpoints at the target (the points' own, scaled by max_wal_size), and the checkpoints expected. */
  walPerCheckpointBytes: number;
  checkpoints: number;
  /** Each point's estimate of the target's WAL and images (the band spans them). */
  estimates: { sizeBytes: number; walBytes: number; fpi: number }[];
}

/** A boundary in cost per GB that a projection's target lies beyond and no measured point did. */
export interface RegimeCrossing {
  boundary: string;
  /** The points' side of it, in figures. */
  measured: string;
  /** The target's. */
  target: string;
}

/** Where a projection's target lies (`projections[].regime`). */
export interface ProjectionRegime {
  /** The regime expected at the target's size on the target's server. */
  target: PointRegime;
  crossings: RegimeCrossing[];
  /** True when the band was widened for the crossings (see harness/sweep/regime.ts). */
  widened: boolean;
}

/** What the sweep did to run small sizes in the target's regime (`extra.sweep.regimeScaling`). */
export interface RegimeScaling {
  /** The target: its size and server settings, and where the settings came from. */
  target: { sizeBytes: number; sharedBuffersBytes: number; maxWalSizeBytes: number; source: string };
  sizes: {
    sizeBytes: number;
    sharedBuffersBytes: number;
    maxWalSizeBytes: number;
    checkpointEveryBytes: number | null;
    matched: string[];
    unmatched: { ratio: string; reason: string }[];
  }[];
  /** Why no size was scaled, when none was (e.g. a server the harness does not own). */
  notScaled?: string;
}

/** A measurement at the projected size (`extra.sweep.projectionCheck[]`), kept by `sweep --check-projection`. */
export interface ProjectionCheck {
  strategy: string;
  sizeBytes: number;
  projectedDurationMs: number;
  measuredDurationMs: number;
  durationErrorPct: number;
  projectedWalBytes: number;
  measuredWalBytes: number;
  walErrorPct: number;
  /** Full-page images (absent in results written before the check compared them). */
  projectedFpi?: number;
  measuredFpi?: number;
  fpiErrorPct?: number;
  /** Whether the measured figures fell inside the (possibly widened) band. */
  withinBand?: { durationMs: boolean; walBytes: boolean; fpi: boolean };
  /** Boundaries the check's size lies beyond, where no measured point went. */
  crossings?: RegimeCrossing[];
  /** With `--check-repeat`: every run's figures at the check size; the measured duration is the fastest, WAL and images the medians (as for a point). */
  measuredRuns?: { durationMs: number[]; walBytes: number[]; fpi: number[] };
  /**
   * What the figures follow, to tell a miss's cause: the WAL between two
   * checkpoints projected (checkpoint cycles) and measured in the check's runs
   * (redo pointers, pooled), and autovacuum's passes over chat_message and its
   * TOAST table in each of the check's runs (strategies[].autovacuum).
   */
  checkpointSpacing?: { projectedBytes: number; measuredBytes: number };
  autovacuumPasses?: { heap: number; toast: number }[];
  /**
   * The migration backends' page faults per MiB of chat table at the
   * strategy's largest point and in the check's fastest run (regime
   * backendFaultsPerMB): a point whose backends gave memory back and faulted
   * it in again throughout paid more per byte than the check did.
   */
  backendFaultsPerMB?: { pointSizeBytes: number; point: number; measured: number };
  /**
   * The duration projected again with each point brought to the check run's
   * machine speed (its duration times the check's speed floor over its own,
   * harness/measure/speed-floor.ts), and that projection's error: the model's
   * miss without the machine's drift between the runs. The points' floors in
   * size order. Absent where a floor was not read.
   */
  atSpeedFloor?: { measuredFloorMs: number; pointFloorsMs: number[]; projectedDurationMs: number; durationErrorPct: number };
}

/** `result.extra.sweep`: the points, plus whatever else the sweep keeps (fits, a projection check). */
interface SweepExtra {
  points: SweepPoint[];
  [key: string]: unknown;
}

/**
 * The sweep points of a result, or null when it holds none. Trusts the
 * shape: `readResult()`/`validateResult()` have checked it against the schema.
 */
export function sweepPoints(result: RunResult): SweepPoint[] | null {
  const sweep = result.extra?.sweep as SweepExtra | undefined;
  if (!sweep || !Array.isArray(sweep.points) || sweep.points.length === 0) return null;
  return sweep.points;
}
