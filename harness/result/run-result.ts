/**
 * `result.json`, schemaVersion 1: the source of truth of a run. Base units
 * (bytes, milliseconds), raw samples; every report is a pure function of it.
 * The JSON Schema in `result.schema.json` describes the same shape and tests
 * validate every report they produce against it.
 */

import type { SpeedFloor } from '../measure/speed-floor.ts';
import type { CycleProjection, ProjectionRegime } from './sweep-points.ts';
import type { AlembicEnvShape, AlembicTarget, CommitVia, StampReading } from '../openwebui/alembic-environment.ts';
import type { AutovacuumPass } from '../measure/server-sampler.ts';
import type { BackendProcessFigures } from '../measure/backend-processes.ts';

export const SCHEMA_VERSION = 1;

/** Whose memory a strategy's client peak RSS is (`clientPeakRssOf`), in words for the reports. */
export const CLIENT_MEMORY_OF = {
  port: 'the TypeScript port’s process, not what upstream’s Python needs',
  upstream: 'upstream’s Python process tree',
  command: 'the command’s process group',
} as const;

export type Outcome = 'succeeded' | 'failed';

/** How an attempt ended. */
export type AttemptEnd =
  | 'completed'
  /** The migration itself failed (an error it raised). */
  | 'error'
  /** Simulated platform deadline: the connection was ended after `deadline`. */
  | 'deadline'
  /** Simulated `kill-at`: the connection was ended at a fraction of the work. */
  | 'killed'
  /** `crash-at`: the server was SIGKILLed, then restarted. */
  | 'crashed'
  /** `wal-limit`: pg_wal outgrew its limit (simulated by ending the connection, or a real full volume). */
  | 'wal-limit'
  /** The harness was interrupted (SIGINT/SIGTERM). */
  | 'interrupted';

export interface Attempt {
  n: number;
  /** Milliseconds since the strategy started. */
  startMs: number;
  endMs: number;
  durationMs: number;
  ended: AttemptEnd;
  error: string | null;
  /** Rows this attempt reported inserting (in its transaction(s)). */
  rowsWritten: number;
  /** Rows in `chat_message` after the attempt (counted), or null when the table is absent. */
  rowsKept: number | null;
  /** `alembic_version` after the attempt. */
  alembicVersion: string | null;
  /** What that stamp means for the next start (absent in results written before the harness read it). */
  stamp?: StampReading;
  /** A sequence (`a>b`): the strategy this start ran. */
  strategy?: string;
  /** WAL the server wrote from this attempt's start to its end (LSN difference): what the attempt cost. */
  walBytes?: number;
}

/** How a strategy's stamp was read: what Open WebUI finds at its next start. */
export interface StampResult extends StampReading {
  /** "stamped 8452d01d26d7: ...", "not stamped: the next start runs it again; ...". */
  nextStart: string;
}

/** The Alembic environment a strategy ran in (modelled by a port, real for `upstream`). */
export interface AlembicEnvironmentResult {
  shape: AlembicEnvShape;
  target: AlembicTarget;
  /** Our proposals: how they commit. */
  commitVia?: CommitVia;
  /** Why this environment. */
  why: string;
}

/** What `upstream` ran: the checkout, the revision file, and the Python that ran it. */
export interface UpstreamResult {
  checkout: string;
  commit: string | null;
  revision: string;
  revisionFile: string;
  /** The port that stands for the file, and why. */
  port: string | null;
  portWhy: string;
  python: { executable: string; version: string; source: string; alembic: string; sqlalchemy: string; psycopg2: string };
}

export interface Sample {
  /** Milliseconds since the strategy started. */
  tMs: number;
  attempt: number;
  /** WAL bytes since the strategy started (LSN difference). */
  walBytes: number;
  /** Rows the migration reports written so far in the current attempt. */
  rows: number;
  /** Size of pg_wal, or null where the server does not let us read it. */
  walDirBytes: number | null;
  /** Checkpoints (timed + requested) since the strategy started. */
  checkpoints: number;
  /** Age of the migration's oldest open transaction, ms. */
  txAgeMs: number | null;
  /** Latency of the write probe's write in flight or last finished, ms. */
  probeMs: number | null;
}

interface WalFigures {
  /** LSN difference over the strategy, minus the probe's own WAL. */
  bytes: number;
  /** pg_stat_wal deltas, minus the probe's own. */
  records: number;
  fpi: number;
  statBytes: number;
}

export interface WriteStall {
  /** Probe writes issued (update a chat's title/updated_at, insert a new chat). */
  probes: number;
  timeouts: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  /** Writes that took longer than 1 s. */
  over1s: number;
  /** Longest continuous span in which probe writes were blocked, ms. */
  longestBlockedMs: number;
  /** The probe's own WAL, measured per statement and subtracted from the migration's. */
  wal: { bytes: number; records: number; fpi: number };
}

export interface RowsVerification {
  /** Rows present in `chat_message`. */
  inserted: number;
  expected: number;
  missing: number;
  unexpected: number;
  mismatched: number;
  /** Messages the manifest expects to fail (and that are indeed absent). */
  expectedFailures: number;
  /** Order-independent checksum of the rows' bodies (comparable across strategies). */
  checksum: string | null;
}

export interface SchemaVerification {
  tableExists: boolean;
  indexesMissing: string[];
  fkPresent: boolean;
  fkValidated: boolean;
  /** For a failed single-transaction run: true when the database is exactly as before. */
  untouched: boolean | null;
}

interface PhaseTiming {
  name: string;
  durationMs: number;
}

export interface StrategyResult {
  name: string;
  summary: string;
  outcome: Outcome;
  error: string | null;
  attempts: Attempt[];
  /** Wall time from the first attempt's start to the last attempt's end. */
  durationMs: number;
  phases: PhaseTiming[];
  wal: WalFigures;
  /**
   * pg_stat_bgwriter's counters over the strategy, and `completed`: the
   * checkpoints completed during it, counted by the redo pointer each leaves in
   * pg_control (pg_control_checkpoint()); one still running at the end is not
   * in it. Absent where pg_control could not be read and in results written
   * before it was recorded. `intervals`: with two or more completed, the WAL
   * between the first one's redo pointer and the last one's, and the
   * intervals it holds (completed - 1): walBytes / intervals is how far apart
   * this run's checkpoints came.
   */
  checkpoints: { timed: number; requested: number; completed?: number; intervals?: { intervals: number; walBytes: number } };
  peakWalDirBytes: number | null;
  longestTransactionMs: number | null;
  /**
   * From the first sample that saw a migration transaction open to the last
   * one that did (null: none did): the load as the samples saw it, without
   * the process start before its first transaction or the teardown after its
   * last. A load in one transaction has its longest transaction at least this
   * long. Absent in results written before it was recorded.
   */
  transactionSpanMs?: number | null;
  /**
   * Autovacuum's passes over `chat_message` and its TOAST table while the
   * strategy ran, as the server samples saw them in pg_stat_progress_vacuum
   * (one shorter than --sample-interval may go unseen): a load that commits
   * as it goes is vacuumed while it loads once it outlasts autovacuum_naptime,
   * and the room a pass records in old pages is filled again, each page a
   * full-page image. Absent in results written before it was recorded.
   */
  autovacuum?: { passes: AutovacuumPass[] };
  /** Lock modes the migration's connection(s) held on `chat`. */
  locksOnChat: string[];
  /** In how many samples each of those modes was seen: a mode held briefly (one short DDL) may fall between samples. */
  locksOnChatSamples?: Record<string, number>;
  writeStall: WriteStall;
  clientPeakRssBytes: number | null;
  /**
   * Whose memory that is: a TypeScript port's process (`port`: not what
   * upstream's Python needs), upstream's Python process tree (`upstream`), or
   * a command's process group (`command`).
   */
  clientPeakRssOf?: 'port' | 'upstream' | 'command';
  rows: RowsVerification;
  schema: SchemaVerification;
  /** True when rows and schema verify (a succeeded outcome with nothing missing or wrong). */
  verified: boolean;
  alembicVersion: string | null;
  /** The stamp after the last attempt and what the next start does. */
  stamp?: StampResult;
  alembic?: AlembicEnvironmentResult;
  upstream?: UpstreamResult;
  /** Rows written by attempts and then lost to a rollback. */
  rowsLost: number;
  /** Bytes of `chat_message` (heap + TOAST + indexes) after the run. */
  chatMessageBytes: number | null;
  /** WAL bytes / chat_message bytes. */
  walAmplification: number | null;
  failures: { id: string; reason: string }[];
  /**
   * Our proposals: chats skipped because upstream cannot read them (a
   * document that is not an object, where upstream's migration fails), with
   * Python's exception there. Absent for strategies that never skip.
   */
  skippedChats?: { chatId: string; reason: string }[];
  timeline: Sample[];
  warnings: string[];
  output?: { stdout: string; stderr: string; exitCode: number | null };
  /** Buffer hits and reads over the load, and chat_message's size (absent in results written before the harness read them). */
  load?: LoadFigures;
  /**
   * The migration backends' minor and major page faults and CPU time, summed
   * (/proc/<pid>/stat, each backend up to the last sample that saw it). Null
   * where the server's processes are not this machine's to read (a container,
   * a url); absent in results written before it was recorded.
   */
  backendProcesses?: BackendProcessFigures | null;
  /**
   * In a sweep: the speed floor (harness/measure/speed-floor.ts) timed just
   * before and just after the run, the server's and the client's; absent
   * outside sweeps, where it could not be read, and in results written
   * before it was recorded.
   */
  speedFloor?: SpeedFloor;
  /** Name of the database kept with `--keep`, with its redacted URL. */
  kept?: { database: string; url: string };
}

export interface Check {
  name: string;
  strategy: string;
  passed: boolean;
  /** Measured value, human-readable. */
  measured: string;
  /** The limit, human-readable. */
  limit: string;
  detail?: string;
}

/** `projections[].backtest`. */
export interface ProjectionBacktest {
  /** The largest size fitted, and the size predicted (the sweep's largest), bytes. */
  fittedUpTo: number;
  predicted: number;
  durationMsPct: number;
  walBytesPct: number;
  fpiPct: number;
}

export interface Projection {
  strategy: string;
  size: number;
  durationMs: number;
  durationMsLow: number;
  durationMsHigh: number;
  walBytes: number;
  walBytesLow: number;
  walBytesHigh: number;
  fpi: number;
  fpiLow: number;
  fpiHigh: number;
  /**
   * How it extrapolates: a power law through the points (results written
   * before 'larger'), a straight line (points run in the target's regime,
   * sweep --scale-regime), or the larger of the two at the projected size,
   * each figure on its own (harness/sweep/fit.ts projectLarger; `modelOf`
   * says which gave each). Absent in older results, which used the power law.
   */
  model?: 'power-law' | 'linear' | 'larger';
  /** With model 'larger': which fit each figure came from. */
  modelOf?: { durationMs: 'power-law' | 'linear' | 'faults'; walBytes: 'power-law' | 'linear' | 'cycles'; fpi: 'power-law' | 'linear' | 'cycles' };
  /**
   * Duration with the migration backends' page faults as a cost of their own
   * ('faults' in modelOf; harness/sweep/fault-duration.ts): fixed ms, ms per
   * MiB of chat and per fault, fitted to the points, and the lowest and
   * highest faults per MiB they showed (the centre takes the lowest).
   */
  faults?: { fixedMs: number; msPerMiB: number; msPerFault: number; faultsPerMiB: { low: number; high: number } };
  /** WAL and images from the points' page changes, where their WAL was read back ('cycles' in modelOf; harness/sweep/cycle-images.ts). */
  cycles?: CycleProjection;
  /**
   * The model fitted to all sizes but the largest, and its error there for
   * each figure (signed percent of the measured value): how well it
   * extrapolated one step within the sweep. The band is at least that miss
   * compounded to the target (harness/sweep/fit.ts). Absent under three sizes.
   */
  backtest?: ProjectionBacktest;
  /** Where the target lies against the measured points' regimes (absent before the harness recorded regimes). */
  regime?: ProjectionRegime;
}

/** What the load did to shared_buffers, and the table it wrote (read by the sampler before and after the load). */
export interface LoadFigures {
  /** pg_stat_database of the strategy's database: blocks found in shared_buffers and read in, over the load. */
  blocksHit: number;
  blocksRead: number;
  hitRatio: number | null;
  /** chat_message's heap + TOAST and its indexes after the load (null when it is absent). */
  chatMessageBytes: number | null;
  indexBytes: number | null;
  /** pg_statio_all_tables of chat_message (heap, TOAST, indexes); null when it is absent. */
  chatMessageBlocksHit: number | null;
  chatMessageBlocksRead: number | null;
  chatMessageHitRatio: number | null;
  /** Checkpoints the harness forced (a max_wal_size below its floor), 0 when none. */
  forcedCheckpoints: number;
}

export interface RunResult {
  schemaVersion: 1;
  runId: string;
  /** The command line that produced it (passwords redacted). */
  command: string;
  kind: 'run' | 'repro' | 'seed' | 'gate' | 'validate' | 'sweep' | 'fidelity' | 'upgrade';
  startedAt: string;
  finishedAt: string | null;
  /** `complete`, or where the run stopped. */
  status: 'complete' | 'interrupted' | 'error';
  stoppedAt: string | null;
  error: string | null;
  scenario: { name: string; description: string };
  harness: { version: string; node: string; platform: string; cpus: number; memoryBytes: number };
  postgres: {
    provider: string;
    version: string;
    description: string;
    /** What the server reports (`SHOW`), not what was asked. */
    settings: Record<string, string>;
    requested: Record<string, string>;
  };
  dataset: {
    source: 'seed' | 'database';
    sourceDatabase: string | null;
    seed: number | null;
    key: string;
    chats: number;
    migratedChats: number;
    messages: number;
    expectedRows: number;
    expectedFailures: number;
    nowRows: number;
    chatTableBytes: number;
    generatedBytes: number;
    seedSeconds: number;
    reused: 'no' | 'cache' | 'database';
    edgeCases: Record<string, number>;
  } | null;
  faults: { description: string; deadlineMs: number | null; restarts: number; calibration: { strategy: string; durationMs: number } | null } | null;
  strategies: StrategyResult[];
  checks?: Check[];
  projections?: Projection[];
  /** Free-form per-kind extras (sweep points, validate verdicts). */
  extra?: Record<string, unknown>;
  /** `upgrade` (and `gate`/`validate` with --from): a checkout's upgrade path, revision by revision. */
  upgrade?: UpgradeResult;
  warnings: string[];
}

/** One revision of an upgrade path, measured (see harness/upgrade/revision-figures.ts). */
export interface UpgradeRevision {
  id: string;
  from: string;
  message: string;
  file: string | null;
  /** On the run's clock (ms since the sampler began). */
  startMs: number;
  endMs: number;
  durationMs: number;
  walBytes: number;
  fpi: number;
  checkpoints: number;
  peakRssBytes: number;
  /** RSS as it started: one process runs the whole path, so what earlier revisions kept is in its peak too. */
  startRssBytes: number;
  /** Locks first seen in this revision: table → strongest mode. */
  locks: Record<string, string>;
  blockedWrite: { table: string; ms: number; unfinished: boolean } | null;
  /** Tables it touches, each at the larger of its sizes before and after the upgrade. */
  touched: { table: string; bytes: number }[];
  touchedBytes: number;
  checks: Check[];
}

export interface UpgradeResult {
  checkout: string;
  commit: string | null;
  from: string;
  to: string;
  /** The argument given to `alembic upgrade`. */
  target: string;
  /** --from-database (or --from-dump): the database (or dump file) the upgrade ran on a copy of. */
  fromDatabase: string | null;
  shape: string;
  shapeWhy: string;
  python: UpstreamResult['python'];
  outcome: 'succeeded' | 'failed';
  error: string | null;
  stamp: string | null;
  durationMs: number;
  totals: { walBytes: number; fpi: number; checkpoints: number; peakRssBytes: number; longestBlockedWrite: { table: string; ms: number } | null };
  /** Revisions of the path that never started (the upgrade failed before them). */
  notRun: string[];
  tables: { name: string; bytesBefore: number | null; bytesAfter: number | null; seeded: string | null; rows: number | null; genericColumns: string[] }[];
  revisions: UpgradeRevision[];
  resume: {
    revision: string;
    killedAfterMs: number;
    killedInside: boolean;
    rerunExit: number | null;
    rerunError: string | null;
    stamp: string | null;
    schemaDifferences: string[];
    rowDifferences: string[];
  } | null;
  thresholds: {
    secondsPerGb: number;
    walAmplification: number;
    maxBlockedWriteMs: number;
    clientPeakRssBytes: number;
    resumable: boolean;
    judgeFromMs: number;
    judgeWalFromBytes: number;
  };
  timeline: { tMs: number; walBytes: number; fpi: number; rssBytes: number }[];
  /** Probe writes that waited at least 100 ms. */
  blockedWrites: { table: string; startMs: number; latencyMs: number; unfinished: boolean }[];
}
