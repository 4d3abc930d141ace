/**
 * `upstream`: an Open WebUI checkout's own revision file, run by real
 * Alembic against the strategy's clone, in the environment the harness
 * models (see harness/upstream/: the workspace with the file, its stand-in
 * neighbours and the harness's env.py; the interpreter; the stand-in
 * `open_webui` package). Measured like `external`: the Python process tree's
 * peak RSS, its output, the rows it commits; the stamp is read afterwards.
 *
 * Nothing of Open WebUI is imported but what the file imports itself, so
 * only Alembic, SQLAlchemy and psycopg2 are needed. Its flags come from the
 * port the file stands for (v0.8.0 writes no `usage`; v0.8.12 is one
 * transaction), read from the file's text when the run is planned.
 */
import { RUN_ALEMBIC_PY } from '../upstream/python-interpreter.ts';
import { writeWorkspace } from '../upstream/alembic-workspace.ts';
import { runCommand } from './external/run-command.ts';
import type { Strategy } from './strategy.ts';

export const UPSTREAM_SUMMARY = "the checkout's own revision file, run by real Alembic in the modelled Open WebUI environment";

/** `upstream`, with the flags of the port the checkout's file stands for (or none known). */
export function upstreamStrategy(like?: Pick<Strategy, 'singleTransaction' | 'resumable' | 'writesUsage' | 'commitsInside'>): Strategy {
  return {
    name: 'upstream',
    summary: UPSTREAM_SUMMARY,
    singleTransaction: like?.singleTransaction ?? false,
    resumable: like?.resumable ?? false,
    writesUsage: like?.writesUsage ?? true,
    commitsInside: like?.commitsInside ?? false,
    shippedEnv: null,
    runsCommand: true,
    async run(ctx) {
      const u = ctx.options.upstream;
      if (!u) throw new Error('upstream: no checkout to run (options.upstream is empty); give --openwebui <dir>');
      ctx.phase('command');
      const ws = await writeWorkspace({ revision: u.revision, shape: u.shape, target: u.target });
      try {
        return await runCommand(ctx, {
          label: `upstream's alembic upgrade ${ws.upgradeTarget}`,
          file: u.python.executable,
          args: [RUN_ALEMBIC_PY, 'upgrade', ws.dir, ws.upgradeTarget],
          display: `alembic upgrade ${ws.upgradeTarget} (${u.checkout}, ${u.shape})`,
          env: { ...ws.env, PGAPPNAME: 'owui-upstream' },
        });
      } finally {
        await ws.dispose();
      }
    },
  };
}

/** The registry's entry (for names and help); a run uses {@link upstreamStrategy} with the checkout's flags. */
export const upstream = upstreamStrategy();
