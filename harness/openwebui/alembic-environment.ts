/**
 * The Alembic environment an Open WebUI upgrade runs in, and what it does to
 * the stamp of a migration that commits by itself.
 *
 * Open WebUI upgrades at start-up (`alembic upgrade head`) on one connection.
 * Its env.py wraps the whole run in one `begin_transaction()` ("single"); the
 * fix's pull request (https://github.com/open-webui/open-webui/pull/23382)
 * sets `transaction_per_migration=True` ("per-migration"). A migration that
 * calls `conn.commit()` itself (the fix does, after every page and index)
 * commits the transaction Alembic opened; Alembic keeps a handle to that
 * finished transaction, and what follows the migration's last commit (the
 * `alembic_version` update, and in "single" every later revision of the run)
 * runs in a new implicit transaction. Whether anything commits that one
 * decides the stamp:
 *
 *   single, any target           nothing commits it: the stamp and every later
 *                                revision of the run are rolled back when the
 *                                connection closes, without an error
 *   per-migration, a revision    the next revision's transaction commits it
 *   follows
 *   per-migration, the last one  nothing commits it: the stamp is lost
 *
 * Committing through Alembic's own `op.get_context().autocommit_block()`
 * instead keeps the stamp in every case. A migration that never commits by
 * itself (v0.8.0, v0.8.12) is stamped in its own transaction in every case.
 * These were observed by running the fix's own file under real Alembic; the
 * harness runs real Alembic for upstream's code and this model for its ports.
 */

/** The transaction shape of the environment. */
export type AlembicEnvShape = 'single' | 'per-migration';
export const ALEMBIC_ENV_SHAPES: readonly AlembicEnvShape[] = ['single', 'per-migration'];

/**
 * `head`: a revision follows the one under test in the same run (Open WebUI
 * upgrading to head at start-up); `revision`: the one under test is the last
 * one run (`alembic upgrade 8452d01d26d7`).
 */
export type AlembicTarget = 'head' | 'revision';
export const ALEMBIC_TARGETS: readonly AlembicTarget[] = ['head', 'revision'];

/** How a migration that commits by itself does it. */
export type CommitVia = 'connection' | 'autocommit-block';

/** The environment a port models: the shape, the target, and how a committing port commits. */
export interface ModelledEnvironment {
  shape: AlembicEnvShape;
  target: AlembicTarget;
  /** Our proposals only: commit through `autocommit_block()` instead of `conn.commit()`. */
  commitVia?: CommitVia;
}

export interface AlembicEnvironment {
  shape: AlembicEnvShape;
  target: AlembicTarget;
  /** Why this environment: "--alembic-env", "the checkout's env.py ...", "the environment v0.8.12 shipped with". */
  why: string;
}

/**
 * The stand-in for the revisions after the one under test: a revision of
 * the harness's own that creates one empty table, so the database shows
 * whether work after the migration's last commit was kept.
 */
export function followingStandIn(revision: string): { id: string; table: string } {
  return { id: `harness_after_${revision}`.slice(0, 32), table: 'harness_after_revision' };
}

/** What the model says happens to the stamp and to the revisions after it. */
export function stampModel(
  env: Pick<AlembicEnvironment, 'shape' | 'target'>,
  migration: { commitsInside: boolean; commitVia?: CommitVia },
): { stampKept: boolean; followingKept: boolean } {
  const following = env.target === 'head';
  if (!migration.commitsInside || migration.commitVia === 'autocommit-block') return { stampKept: true, followingKept: following };
  if (env.shape === 'single') return { stampKept: false, followingKept: false };
  return { stampKept: following, followingKept: following };
}

/** What Open WebUI finds at its next start, from the stamp read after a run. */
export type StampVerdict = 'stamped' | 'not-stamped' | 'other';

export interface StampReading {
  /** `alembic_version` as read, or null when the table is empty or missing. */
  raw: string | null;
  verdict: StampVerdict;
  /** Whether the stand-in revision after it committed (null when none was run). */
  followingKept: boolean | null;
}

/**
 * Read a stamp: the revision under test or the stand-in after it means it is
 * recorded; the revision before it means the next start runs it again.
 */
export function readStamp(raw: string | null, o: { before: string; after: string; followingTablePresent: boolean | null }): StampReading {
  const standIn = followingStandIn(o.after).id;
  const verdict: StampVerdict = raw === o.after || raw === standIn ? 'stamped' : raw === o.before ? 'not-stamped' : 'other';
  return { raw, verdict, followingKept: o.followingTablePresent };
}

/** The sentence a report gives for what the next start of Open WebUI does. */
export function nextStartSentence(s: StampReading, env: Pick<AlembicEnvironment, 'shape' | 'target'>, after: string): string {
  if (s.verdict === 'stamped') return `stamped ${after}: the next start does not run it again`;
  if (s.verdict === 'other') return `the stamp reads ${s.raw ?? 'nothing'}`;
  const lost = env.target === 'head' && s.followingKept === false ? '; revisions after it in the same run were rolled back' : '';
  return `not stamped: the next start runs it again${lost}`;
}
