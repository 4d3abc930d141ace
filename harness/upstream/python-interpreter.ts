/**
 * The Python that runs upstream's revisions: one that imports Alembic,
 * SQLAlchemy and psycopg2, nothing of Open WebUI.
 *
 * Tried in order: `--python` when given (and then only it); `python3` on
 * PATH; the system's own `python3` (a version manager's shim often comes
 * first on PATH without the packages, while a distribution's packages live
 * in the system interpreter); a virtual environment the harness created
 * earlier (cached, like seeds); and last, such a virtual environment created
 * now with the versions the checkout pins. When none works, one
 * EnvironmentError says what is missing and the command that installs it.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, constants, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { EnvironmentError, errorMessage, UsageError } from '../errors.ts';
import type { PinnedVersions } from './openwebui-checkout.ts';

const execFileP = promisify(execFile);

/** The entry script the harness runs with the interpreter it chose. */
export const RUN_ALEMBIC_PY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'python', 'run_alembic.py');

/** Versions Open WebUI pinned when this harness was written; used when a checkout pins none. */
const FALLBACK_PINS: Required<PinnedVersions> = { alembic: '1.18.4', sqlalchemy: '2.0.50', psycopg2: '2.9.12' };

export interface PythonInfo {
  executable: string;
  python: string;
  alembic: string;
  sqlalchemy: string;
  psycopg2: string;
  /** How it was found. */
  source: 'flag' | 'path' | 'system' | 'venv';
}

export interface FindPythonOptions {
  /** `--python`. */
  flag?: string;
  /** PATH, to find `python3` on it. */
  pathEnv: string;
  /** The system's own interpreter (default /usr/bin/python3). */
  systemPython: string;
  /** Where virtual environments are cached (null: never create one). */
  cacheDir: string | null;
  /** The checkout's pins, for a virtual environment. */
  pins: PinnedVersions;
  log: (line: string) => void;
}

interface Probe {
  ok: boolean;
  info?: Omit<PythonInfo, 'source'>;
  /** Why it cannot be used. */
  why?: string;
}

/** Run the probe with `exe`: its versions, or why it cannot run upstream's revisions. */
export async function probePython(exe: string): Promise<Probe> {
  try {
    const { stdout } = await execFileP(exe, [RUN_ALEMBIC_PY, 'probe'], { timeout: 30_000 });
    const p = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { python: string; executable: string; alembic?: string; sqlalchemy?: string; psycopg2?: string; missing: string[] };
    if (p.missing.length) return { ok: false, why: `cannot import ${p.missing.map((m) => m.split(' ')[0]).join(', ')}` };
    const [major, minor] = p.python.split('.').map(Number);
    if (major < 3 || (major === 3 && minor < 8)) return { ok: false, why: `Python ${p.python} is older than 3.8` };
    return { ok: true, info: { executable: exe, python: p.python, alembic: p.alembic!, sqlalchemy: p.sqlalchemy!, psycopg2: p.psycopg2! } };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') return { ok: false, why: 'not found' };
    return { ok: false, why: (e.stderr?.trim().split('\n').pop() || errorMessage(err)).slice(0, 200) };
  }
}

async function onPath(name: string, pathEnv: string): Promise<string | null> {
  for (const dir of pathEnv.split(path.delimiter).filter(Boolean)) {
    const p = path.join(dir, name);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      // Not here.
    }
  }
  return null;
}

function venvKey(pins: Required<PinnedVersions>): string {
  return createHash('sha256').update(`${pins.alembic} ${pins.sqlalchemy} ${pins.psycopg2}`).digest('hex').slice(0, 12);
}

function installHint(pins: Required<PinnedVersions>): string {
  return (
    `install them: apt-get install python3-alembic python3-sqlalchemy python3-psycopg2 (Debian, Ubuntu), ` +
    `or pip install alembic==${pins.alembic} SQLAlchemy==${pins.sqlalchemy} psycopg2-binary==${pins.psycopg2}; or pass --python <interpreter>`
  );
}

/** Find (or create) the interpreter; see the module comment for the order. */
export async function findPython(o: FindPythonOptions): Promise<PythonInfo> {
  const pins = { ...FALLBACK_PINS, ...o.pins };
  if (o.flag) {
    const p = await probePython(o.flag);
    if (p.ok) return { ...p.info!, source: 'flag' };
    if (p.why === 'not found') throw new UsageError(`--python ${o.flag}: no such interpreter; give the path of a python3 that imports alembic, sqlalchemy and psycopg2`);
    throw new EnvironmentError(`--python ${o.flag}: ${p.why}; ${installHint(pins)}`);
  }
  const tried: string[] = [];
  const seen = new Set<string>();
  const candidates: [string | null, PythonInfo['source']][] = [
    [await onPath('python3', o.pathEnv), 'path'],
    [o.systemPython, 'system'],
  ];
  for (const [exe, source] of candidates) {
    if (!exe || seen.has(exe)) continue;
    seen.add(exe);
    const p = await probePython(exe);
    if (p.ok) return { ...p.info!, source };
    tried.push(`${exe} (${p.why})`);
  }
  if (!o.cacheDir) throw new EnvironmentError(`no Python with alembic, SQLAlchemy and psycopg2: tried ${tried.join(', ')}; ${installHint(pins)}`);

  const venv = path.join(o.cacheDir, `venv-${venvKey(pins)}`);
  const cached = await probePython(path.join(venv, 'bin', 'python'));
  if (cached.ok) return { ...cached.info!, source: 'venv' };

  const base = [...seen].find((x) => x) ?? 'python3';
  o.log(`no Python with alembic, SQLAlchemy and psycopg2 (tried ${tried.join(', ')}); creating a virtual environment in ${venv} with alembic ${pins.alembic}, SQLAlchemy ${pins.sqlalchemy}, psycopg2-binary ${pins.psycopg2}`);
  const partial = `${venv}.partial-${process.pid}`;
  try {
    await mkdir(o.cacheDir, { recursive: true });
    await rm(partial, { recursive: true, force: true });
    await execFileP(base, ['-m', 'venv', partial], { timeout: 120_000 });
    await execFileP(
      path.join(partial, 'bin', 'python'),
      ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--retries', '0', '--timeout', '15', `alembic==${pins.alembic}`, `SQLAlchemy==${pins.sqlalchemy}`, `psycopg2-binary==${pins.psycopg2}`],
      { timeout: 600_000 },
    );
    await rm(venv, { recursive: true, force: true });
    await rename(partial, venv);
  } catch (err) {
    await rm(partial, { recursive: true, force: true }).catch(() => undefined);
    const e = err as { stderr?: string };
    const last = (e.stderr ?? errorMessage(err)).trim().split('\n').filter(Boolean).pop() ?? errorMessage(err);
    throw new EnvironmentError(
      `no Python with alembic, SQLAlchemy and psycopg2: tried ${tried.join(', ')}, and creating a virtual environment with ${base} failed (${last.slice(0, 160)}); ${installHint(pins)}`,
    );
  }
  const made = await probePython(path.join(venv, 'bin', 'python'));
  if (!made.ok) throw new EnvironmentError(`the virtual environment ${venv} was created but cannot run upstream's revisions (${made.why}); remove it and ${installHint(pins)}`);
  return { ...made.info!, source: 'venv' };
}

/** Where virtual environments are cached, next to the seed cache. */
export function defaultPythonCacheDir(seedCacheDir: string): string {
  return path.join(path.dirname(seedCacheDir), 'python');
}
