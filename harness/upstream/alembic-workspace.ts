/**
 * A minimal Alembic environment of the harness's own, written into a
 * temporary directory for one run of upstream's code: `alembic.ini`, the
 * harness's `env.py` (see python/env.py), and a `versions/` folder holding
 * the checkout's revision file under test, a stand-in for the revision(s) it
 * revises (the seeded database is already there), and, when the target is
 * `head`, a stand-in for the revisions after it.
 *
 * Upstream's file is copied byte for byte; nothing of Open WebUI is
 * imported but what the file itself imports, which the stand-in package
 * (python/standins/open_webui) provides.
 */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { followingStandIn, type AlembicEnvShape, type AlembicTarget } from '../openwebui/alembic-environment.ts';
import type { RevisionFile } from './openwebui-checkout.ts';

const PYTHON_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'python');
/** Put on PYTHONPATH: the stand-in `open_webui` package. */
const STANDINS_DIR = path.join(PYTHON_DIR, 'standins');

/** What every run of upstream's code gets: the stand-ins importable, log lines as they happen, no __pycache__ written next to anyone's files. */
export const PYTHON_ENV = { PYTHONPATH: STANDINS_DIR, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' } as const;

export interface AlembicWorkspace {
  dir: string;
  /** The argument to `alembic upgrade`. */
  upgradeTarget: string;
  /** The stand-in after the revision under test (target `head`). */
  following: { id: string; table: string } | null;
  /** Environment variables the Python process needs (besides DATABASE_URL). */
  env: Record<string, string>;
  dispose(): Promise<void>;
}

function pyString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function beforeStandIn(id: string): string {
  return `"""Harness stand-in for revision ${id}: the seeded database is already at it."""

revision = ${pyString(id)}
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
`;
}

function afterStandIn(id: string, revises: string, table: string): string {
  return `"""Harness stand-in for the revisions after ${revises}: one empty table, so the database shows whether they were kept."""

from alembic import op

revision = ${pyString(id)}
down_revision = ${pyString(revises)}
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE TABLE IF NOT EXISTS ${table} (id integer PRIMARY KEY)")


def downgrade():
    op.execute("DROP TABLE IF EXISTS ${table}")
`;
}

/** Write the workspace for `revision`, run under `shape` up to `target`. */
export async function writeWorkspace(o: { revision: RevisionFile; shape: AlembicEnvShape; target: AlembicTarget; tmpDir?: string }): Promise<AlembicWorkspace> {
  const dir = await mkdtemp(path.join(o.tmpDir ?? os.tmpdir(), 'owui-harness-alembic-'));
  try {
    const versions = path.join(dir, 'versions');
    await mkdir(versions);
    // ConfigParser interpolation: a % in the path must be doubled.
    await writeFile(path.join(dir, 'alembic.ini'), `[alembic]\nscript_location = ${dir.replace(/%/g, '%%')}\n`);
    await copyFile(path.join(PYTHON_DIR, 'env.py'), path.join(dir, 'env.py'));
    await copyFile(o.revision.file, path.join(versions, path.basename(o.revision.file)));
    for (const down of o.revision.downRevisions) await writeFile(path.join(versions, `harness_before_${down}.py`), beforeStandIn(down));
    const following = o.target === 'head' ? followingStandIn(o.revision.id) : null;
    if (following) await writeFile(path.join(versions, `${following.id}.py`), afterStandIn(following.id, o.revision.id, following.table));
    return {
      dir,
      upgradeTarget: following ? 'head' : o.revision.id,
      following,
      env: {
        OWUI_HARNESS_ALEMBIC_ENV: o.shape,
        ...PYTHON_ENV,
      },
      dispose: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
