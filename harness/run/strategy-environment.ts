/**
 * The Alembic environment each strategy runs in, decided once per run:
 * `--alembic-env`/`--alembic-target` when given, else the scenario's for it;
 * otherwise `upstream` takes
 * the shape its checkout's env.py gives an upgrade, and each port the one
 * its upstream counterpart shipped with (v0.8.0, v0.8.12, v0.9.6: one
 * transaction; the fix and our proposals built on it: the pull request's
 * transaction per migration), upgrading to head as Open WebUI does at
 * start-up. A command (`external`) brings its own.
 */
import type { AlembicEnvShape, AlembicTarget, CommitVia, ModelledEnvironment } from '../openwebui/alembic-environment.ts';
import type { AlembicEnvironmentResult } from '../result/run-result.ts';
import type { Strategy } from '../strategies/strategy.ts';

export interface EnvironmentChoice {
  /** `--alembic-env`. */
  shape?: AlembicEnvShape;
  /** Why `shape`: a scenario that sets it, fidelity matching upstream (default: "--alembic-env <shape>"). */
  shapeWhy?: string;
  /** `--alembic-target`. */
  target?: AlembicTarget;
  /** `--commit-via` (our proposals only). */
  commitVia?: CommitVia;
  /** The checkout's own env.py, for `upstream`. */
  checkout?: { shape: AlembicEnvShape; evidence: string };
}

export function environmentFor(strategy: Strategy, choice: EnvironmentChoice = {}): AlembicEnvironmentResult | null {
  const target = choice.target ?? 'head';
  const commitVia = strategy.proposal && strategy.commitsInside ? choice.commitVia : undefined;
  const withVia = (e: AlembicEnvironmentResult): AlembicEnvironmentResult => (commitVia ? { ...e, commitVia } : e);
  if (choice.shape) return withVia({ shape: choice.shape, target, why: choice.shapeWhy ?? `--alembic-env ${choice.shape}` });
  if (strategy.name === 'upstream') {
    const c = choice.checkout ?? { shape: 'single', evidence: 'no env.py read: Alembic’s default, one transaction' };
    return { shape: c.shape, target, why: `the checkout's own: ${c.evidence}` };
  }
  if (!strategy.shippedEnv) return null;
  const shipped = strategy.shippedEnv === 'single' ? 'one transaction, as Open WebUI’s env.py ships' : 'a transaction per migration, as the fix’s pull request sets';
  return withVia({ shape: strategy.shippedEnv, target, why: `the environment its upstream counterpart shipped with: ${shipped}` });
}

/** The part of it a port's process needs. */
export function modelled(e: AlembicEnvironmentResult | null): ModelledEnvironment | undefined {
  return e ? { shape: e.shape, target: e.target, ...(e.commitVia ? { commitVia: e.commitVia } : {}) } : undefined;
}
