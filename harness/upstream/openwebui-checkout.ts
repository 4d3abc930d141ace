/**
 * An Open WebUI checkout as the harness reads it, without importing it: where
 * its Alembic revisions are, the chain they form, the transaction shape its
 * own `env.py` gives an upgrade, and the versions of Alembic, SQLAlchemy and
 * psycopg2 its `backend/requirements.txt` pins.
 *
 * Everything is read from the files' text (a revision's `revision` and
 * `down_revision` assignments, the `transaction_per_migration=True` keyword
 * in `env.py`), so a checkout of any release, or a pull request's branch,
 * can be inspected with no Python at all.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { UsageError } from '../errors.ts';
import type { AlembicEnvShape } from '../openwebui/alembic-environment.ts';

const execFileP = promisify(execFile);

/** Where revisions live inside a checkout's backend directory. */
const VERSIONS_UNDER_BACKEND = path.join('open_webui', 'migrations', 'versions');

export interface RevisionFile {
  /** The revision id (`revision = '...'`). */
  id: string;
  /** The ids it revises: none for the first revision, two or more for a merge. */
  downRevisions: string[];
  /** Absolute path of the file. */
  file: string;
  /** The first line of its docstring ("Add chat_message table"). */
  message: string;
}

export interface PinnedVersions {
  alembic?: string;
  sqlalchemy?: string;
  psycopg2?: string;
}

export interface OpenWebuiCheckout {
  /** The directory as given, resolved. */
  given: string;
  /** `backend/` of the checkout. */
  backendDir: string;
  versionsDir: string;
  /** Revisions in chain order, first to head (a merge's parents before it). */
  revisions: RevisionFile[];
  /** The shape the checkout's own env.py gives an upgrade, and why the harness thinks so. */
  envShape: { shape: AlembicEnvShape; evidence: string };
  pins: PinnedVersions;
  /** `git describe`/commit of the checkout when it is a git work tree. */
  commit: string | null;
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** Resolve `--openwebui <dir>`: the repository root, `backend/`, or `backend/open_webui/`. */
export async function readCheckout(dir: string, flag = '--openwebui'): Promise<OpenWebuiCheckout> {
  const given = path.resolve(dir);
  if (!(await isDir(given))) throw new UsageError(`${flag} ${dir}: not a directory; give an Open WebUI checkout (the repository root or its backend/)`);
  const candidates = [path.join(given, 'backend'), given, path.dirname(given)];
  let backendDir: string | undefined;
  for (const c of candidates) {
    if (await isDir(path.join(c, VERSIONS_UNDER_BACKEND))) {
      backendDir = c;
      break;
    }
  }
  if (!backendDir)
    throw new UsageError(
      `${flag} ${dir}: no Alembic revisions found (looked for backend/${VERSIONS_UNDER_BACKEND.split(path.sep).join('/')}); give an Open WebUI checkout (the repository root or its backend/)`,
    );
  const versionsDir = path.join(backendDir, VERSIONS_UNDER_BACKEND);
  const files = (await readdir(versionsDir)).filter((f) => f.endsWith('.py') && !f.startsWith('__')).sort();
  const parsed: RevisionFile[] = [];
  for (const f of files) {
    const file = path.join(versionsDir, f);
    const r = parseRevisionFile(await readFile(file, 'utf8'), file);
    if (r) parsed.push(r);
  }
  if (!parsed.length) throw new UsageError(`${flag} ${dir}: ${versionsDir} holds no Alembic revision files; give an Open WebUI checkout (the repository root or its backend/)`);
  const envPy = path.join(backendDir, 'open_webui', 'migrations', 'env.py');
  const envText = await readFile(envPy, 'utf8').catch(() => null);
  return {
    given,
    backendDir,
    versionsDir,
    revisions: chainOrder(parsed),
    envShape: detectEnvShape(envText),
    pins: parsePins((await readFile(path.join(backendDir, 'requirements.txt'), 'utf8').catch(() => '')) ?? ''),
    commit: await gitCommit(path.dirname(backendDir)),
  };
}

const ASSIGN = (name: string) => new RegExp(`^${name}\\s*(?::[^=\\n]*)?=\\s*(.+)$`, 'm');

/** The revision a file declares, or null for a Python file that is not a revision. */
export function parseRevisionFile(text: string, file: string): RevisionFile | null {
  const rev = ASSIGN('revision').exec(text);
  const down = ASSIGN('down_revision').exec(text);
  if (!rev || !down) return null;
  const id = /['"]([^'"]+)['"]/.exec(rev[1])?.[1];
  if (!id) return null;
  const downRevisions = [...down[1].matchAll(/['"]([^'"]+)['"]/g)].map((m) => m[1]);
  const doc = /^\s*(?:"""|''')\s*(.*)$/m.exec(text)?.[1]?.trim() ?? '';
  return { id, downRevisions, file, message: doc.replace(/("""|''')$/, '').trim() };
}

/** Parents before children; among siblings, by file name (a stable order for reports). */
function chainOrder(revs: RevisionFile[]): RevisionFile[] {
  const byId = new Map(revs.map((r) => [r.id, r]));
  const out: RevisionFile[] = [];
  const done = new Set<string>();
  const visit = (r: RevisionFile, stack: Set<string>) => {
    if (done.has(r.id) || stack.has(r.id)) return;
    stack.add(r.id);
    for (const d of r.downRevisions) {
      const parent = byId.get(d);
      if (parent) visit(parent, stack);
    }
    done.add(r.id);
    out.push(r);
  };
  for (const r of revs) visit(r, new Set());
  return out;
}

/**
 * `transaction_per_migration=True` in an uncommented line of env.py means
 * per-migration; anything else is Alembic's default, one transaction around
 * the whole run.
 */
export function detectEnvShape(envText: string | null): { shape: AlembicEnvShape; evidence: string } {
  if (envText === null) return { shape: 'single', evidence: 'no migrations/env.py in the checkout: Alembic’s default, one transaction' };
  const code = envText
    .split('\n')
    .map((l) => l.replace(/#.*$/, ''))
    .join('\n');
  if (/transaction_per_migration\s*=\s*True/.test(code)) return { shape: 'per-migration', evidence: 'env.py passes transaction_per_migration=True' };
  return { shape: 'single', evidence: 'env.py wraps the run in one begin_transaction() (no transaction_per_migration)' };
}

/** `alembic==1.18.4`, `sqlalchemy[asyncio]==2.0.50`, `psycopg2-binary==2.9.12`. */
export function parsePins(requirements: string): PinnedVersions {
  const pins: PinnedVersions = {};
  for (const line of requirements.split('\n')) {
    const m = /^\s*([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*==\s*([^\s;#]+)/.exec(line);
    if (!m) continue;
    const name = m[1].toLowerCase();
    if (name === 'alembic') pins.alembic = m[2];
    else if (name === 'sqlalchemy') pins.sqlalchemy = m[2];
    else if (name === 'psycopg2-binary' || name === 'psycopg2') pins.psycopg2 = m[2];
  }
  return pins;
}

/** The checkout's commit, when the checkout is a git work tree of its own (not a folder inside another one). */
async function gitCommit(root: string): Promise<string | null> {
  try {
    const top = (await execFileP('git', ['-C', root, 'rev-parse', '--show-toplevel'], { timeout: 5000 })).stdout.trim();
    if (path.resolve(top) !== path.resolve(root)) return null;
    const { stdout } = await execFileP('git', ['-C', root, 'describe', '--always', '--dirty', '--tags'], { timeout: 5000 });
    return stdout.trim() || null;
  } catch {
    return null;
  }
}

/** The revision `id` of the checkout (a unique prefix is accepted), or a UsageError naming what exists. */
export function findRevision(checkout: OpenWebuiCheckout, id: string, flag = '--revision'): RevisionFile {
  const exact = checkout.revisions.find((r) => r.id === id);
  if (exact) return exact;
  const prefixed = checkout.revisions.filter((r) => r.id.startsWith(id));
  if (prefixed.length === 1) return prefixed[0];
  const head = checkout.revisions[checkout.revisions.length - 1];
  throw new UsageError(
    `${flag} ${id}: ${prefixed.length ? 'matches several revisions' : 'no such revision'} in ${checkout.versionsDir} (${checkout.revisions.length} revisions, from ${checkout.revisions[0].id} to ${head.id}); give one of its revision ids`,
  );
}
