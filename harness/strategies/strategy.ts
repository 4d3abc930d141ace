/**
 * A migration under test: one entry point that runs one attempt against a
 * database stamped at 374d2f66af06 and either returns (the attempt finished)
 * or throws (the attempt failed: a terminated connection, a crash, an error).
 * The runner decides about retries, faults, measurements and verification.
 */
import type { AlembicEnvShape, AlembicTarget, ModelledEnvironment } from '../openwebui/alembic-environment.ts';
import type { RowFailure } from '../openwebui/chat-to-rows.ts';
import type { Client } from '../postgres/sql.ts';
import type { StartedPostgres } from '../postgres/started-postgres.ts';
import type { RevisionFile } from '../upstream/openwebui-checkout.ts';
import type { PythonInfo } from '../upstream/python-interpreter.ts';
import type { SendValues } from './ported/chunked-page-insert.ts';
import type { SkippedChat } from './skipped-chats.ts';

/** Names of the phases a strategy reports, for per-phase durations. */
export type PhaseName = 'schema' | 'load' | 'indexes' | 'constraint' | 'stamp' | 'command';

export interface StrategyContext {
  server: StartedPostgres;
  /** The database under test (a clone of the seeded template). */
  database: string;
  /**
   * Connect to the database under test. Every connection a strategy uses
   * must come from here: the runner finds the migration's backends by the
   * `application_name` this sets (`owui-harness:migration…`) to measure
   * them and to end them when a fault says so.
   */
  connect(role?: string): Promise<Client>;
  /**
   * Rows written so far in this attempt (cumulative), and whether they are
   * committed. Cheap: called per batch, feeds the timeline and `kill-at`.
   */
  progress(rows: number, committed: boolean): void;
  /** The attempt entered a phase. */
  phase(name: PhaseName): void;
  /** A line for the run's log (stderr when verbose). */
  log(line: string): void;
  /**
   * Aborted when this attempt must end: a fault ended it (the runner also
   * terminates the migration's backends) or the run was interrupted.
   * In-process strategies see their queries fail anyway; `external` must
   * kill its child process group.
   */
  signal: AbortSignal;
  /** Strategy-specific options from the scenario or the command line. */
  options: StrategyOptions;
  /**
   * Record a process group the strategy started (`external`), so that a
   * harness killed with `kill -9` has it killed by the next run; returns the
   * release to call once the group is gone. Absent outside the runner.
   */
  own?: (pgid: number, command: string) => Promise<() => Promise<void>>;
}

export interface StrategyOptions {
  /** `parallel`: worker count. Default is the number of cores. */
  workers?: number;
  /** `external`: the shell command to run. */
  command?: string;
  /** `external`: kill the command after this long (ms); the runner's faults usually decide instead. */
  commandTimeoutMs?: number;
  /** `external`: how often committed rows are counted while the command runs (ms). Default is 2000. */
  progressIntervalMs?: number;
  /**
   * The Alembic environment the port models (the runner resolves it: a flag,
   * else the one the port's upstream counterpart shipped with). Absent when a
   * strategy is run directly: then its `shippedEnv`, upgrading to head.
   */
  alembic?: ModelledEnvironment;
  /** `upstream`: the checkout's revision file and how to run it. */
  upstream?: UpstreamSetup;
  /**
   * The fix's ports (`chunked`, `resuming`, `parallel`): how INSERT values
   * travel, inline in the statement's text as psycopg2 sends them (the
   * default), or as bind parameters (the benchmark's comparison).
   */
  sendValues?: SendValues;
}

/** What the `upstream` strategy runs: plain data, resolved by the command line. */
export interface UpstreamSetup {
  /** The checkout as given, for reports. */
  checkout: string;
  /** `git describe` of the checkout, when it is a git work tree. */
  commit: string | null;
  revision: RevisionFile;
  python: PythonInfo;
  shape: AlembicEnvShape;
  target: AlembicTarget;
}

export interface AttemptReport {
  /** Rows this attempt inserted (as the server reported them). */
  rowsInserted: number;
  /** Messages whose insert failed and was skipped (upstream logs and counts these). */
  rowsFailed: number;
  /** The first failures, for the report. */
  failures: RowFailure[];
  /**
   * Our proposals: chats skipped because upstream cannot read them (a
   * document that is not an object, where upstream's migration fails).
   */
  skippedChats?: SkippedChat[];
  /** Peak RSS of a child process (`external`), bytes. */
  childPeakRssBytes?: number;
  /** Captured output (`external`), truncated. */
  stdout?: string;
  stderr?: string;
  exitCode?: number | null;
}

export interface Strategy {
  name: string;
  /** One line for `--help` and reports. */
  summary: string;
  /** True when the whole migration is one transaction (a failure keeps nothing). */
  singleTransaction: boolean;
  /** True when rerunning after an interruption continues instead of starting over. */
  resumable: boolean;
  /** Verification expects `usage` to be NULL (v0.8.0 never wrote it). */
  writesUsage: boolean;
  /** True when the migration commits by itself (the fix's `conn.commit()`): its stamp depends on the environment. */
  commitsInside: boolean;
  /**
   * The Alembic environment its upstream counterpart shipped with (v0.8.0,
   * v0.8.12: single; the fix's pull request: per-migration); null for a
   * command, whose own environment decides.
   */
  shippedEnv: AlembicEnvShape | null;
  /** True when it runs an outside command (its own process tree, its own connections). */
  runsCommand?: boolean;
  /** One of our proposals (not a port of upstream): it may commit through `autocommit_block()`. */
  proposal?: boolean;
  run(ctx: StrategyContext): Promise<AttemptReport>;
}
