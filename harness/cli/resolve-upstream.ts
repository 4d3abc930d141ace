/**
 * `--openwebui <dir>` and its companions, resolved before anything starts:
 * the checkout, the revision file under test, the port that file stands for,
 * and the Python that will run it. Bad input exits 2 and a missing Python 3,
 * each with one line that says what to do; nothing is started either way.
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.ts';
import type { AlembicEnvShape } from '../openwebui/alembic-environment.ts';
import { REVISION_AFTER, REVISION_BEFORE } from '../openwebui/schema.ts';
import type { UpstreamResult } from '../result/run-result.ts';
import type { UpstreamSetup } from '../strategies/strategy.ts';
import { findRevision, readCheckout, type OpenWebuiCheckout } from '../upstream/openwebui-checkout.ts';
import { portOfRevision } from '../upstream/port-of-revision.ts';
import { defaultPythonCacheDir, findPython, type PythonInfo } from '../upstream/python-interpreter.ts';
import type { RunFlags } from './run-options.ts';

export interface ResolvedUpstream {
  setup: UpstreamSetup;
  result: UpstreamResult;
  /** The shape the checkout's env.py gives an upgrade. */
  envShape: { shape: AlembicEnvShape; evidence: string };
}

/** The Python that runs `checkout`'s code: --python, else found or made (see python-interpreter.ts). */
export function pythonFor(checkout: OpenWebuiCheckout, flag: string | undefined, env: NodeJS.ProcessEnv, seedCacheDir: string | null, log: (line: string) => void): Promise<PythonInfo> {
  return findPython({
    flag,
    pathEnv: env.PATH ?? '',
    systemPython: env.OWUI_HARNESS_SYSTEM_PYTHON || '/usr/bin/python3',
    cacheDir: seedCacheDir ? defaultPythonCacheDir(seedCacheDir) : null,
    pins: checkout.pins,
    log,
  });
}

export async function resolveUpstream(flags: RunFlags, env: NodeJS.ProcessEnv, seedCacheDir: string | null): Promise<ResolvedUpstream> {
  const checkout = await readCheckout(flags.openwebui!);
  const revision = findRevision(checkout, flags.revision ?? REVISION_AFTER);
  // The seeded (or brought) database is at 374d2f66af06: a revision runs on it only if it revises that one.
  if (!revision.downRevisions.includes(REVISION_BEFORE))
    throw new UsageError(
      `--revision ${revision.id}: it revises ${revision.downRevisions.join(', ') || 'nothing'}, but the database under test is at ${REVISION_BEFORE}; give ${REVISION_AFTER} (the migration this harness seeds for)`,
    );
  const port = portOfRevision(await readFile(revision.file, 'utf8'));
  const python = await pythonFor(checkout, flags.python, env, seedCacheDir, (line) => process.stderr.write(`${line}\n`));
  const shape = flags.alembicEnv ?? checkout.envShape.shape;
  const target = flags.alembicTarget ?? 'head';
  return {
    setup: { checkout: checkout.given, commit: checkout.commit, revision, python, shape, target },
    result: {
      checkout: checkout.given,
      commit: checkout.commit,
      revision: revision.id,
      revisionFile: revision.file,
      port: port.port,
      portWhy: port.why,
      python: { executable: python.executable, version: python.python, source: python.source, alembic: python.alembic, sqlalchemy: python.sqlalchemy, psycopg2: python.psycopg2 },
    },
    envShape: checkout.envShape,
  };
}
