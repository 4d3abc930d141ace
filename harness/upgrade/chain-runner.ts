/**
 * `alembic upgrade <target>` over a checkout's whole chain, as one process
 * the harness watches: the workspace points Alembic at the checkout's own
 * `versions/` (nothing copied, nothing written there) with the harness's
 * env.py in the transaction shape chosen; every "Running upgrade A -> B" line
 * is handed to the caller as it arrives, with the time Python logged it; the
 * process group's RSS is sampled; and the caller can kill the group, as a
 * platform restarting the container would.
 */
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { onCleanup } from '../lifecycle/cleanup.ts';
import type { AlembicEnvShape } from '../openwebui/alembic-environment.ts';
import { processGroupRssBytes } from '../strategies/external/process-group-rss.ts';
import { killGroup } from '../strategies/external/run-command.ts';
import { TailBuffer } from '../strategies/external/tail-buffer.ts';
import { revisionStartOf, type RevisionStart } from '../upstream/alembic-log.ts';
import { PYTHON_ENV } from '../upstream/alembic-workspace.ts';
import { RUN_ALEMBIC_PY } from '../upstream/python-interpreter.ts';

/** How the migration's connection shows in pg_stat_activity (the harness finds it as the one that is not its own). */
const APP_NAME = 'owui-upgrade';

export interface ChainRun {
  /** Resolves when the process has exited and its output is read. */
  done: Promise<ChainOutcome>;
  /** SIGKILL the whole process group. */
  kill(): void;
  /** The group's RSS now (bytes; 0 once it has exited). */
  rss(): Promise<number>;
}

export interface ChainOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Unix ms at exit. */
  endedAtMs: number;
  starts: RevisionStart[];
  /** The last lines of its stderr (the log and any traceback). */
  stderrTail: string;
  /** The last error line Alembic or Python printed, if any. */
  error: string | null;
}

export interface ChainOptions {
  python: string;
  versionsDir: string;
  shape: AlembicEnvShape;
  target: string;
  databaseUrl: string;
  onStart?: (s: RevisionStart) => void;
  onLine?: (line: string) => void;
}

/** Write the workspace, start Alembic; the workspace is removed when the process ends. */
export async function startChain(o: ChainOptions): Promise<ChainRun> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'owui-harness-chain-'));
  // ConfigParser interpolation: a % in a path must be doubled.
  const esc = (p: string) => p.replace(/%/g, '%%');
  await writeFile(path.join(dir, 'alembic.ini'), `[alembic]\nscript_location = ${esc(dir)}\nversion_locations = ${esc(o.versionsDir)}\n`);
  await copyFile(path.join(path.dirname(RUN_ALEMBIC_PY), 'env.py'), path.join(dir, 'env.py'));

  const child = spawn(o.python, [RUN_ALEMBIC_PY, 'upgrade', dir, o.target], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      DATABASE_URL: o.databaseUrl,
      PGAPPNAME: APP_NAME,
      OWUI_HARNESS_ALEMBIC_ENV: o.shape,
      ...PYTHON_ENV,
    },
  });
  const starts: RevisionStart[] = [];
  const tail = new TailBuffer();
  let partial = '';
  let lastError: string | null = null;
  const onText = (d: Buffer) => {
    tail.push(d);
    const text = partial + d.toString('utf8');
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) handle(line);
  };
  const handle = (line: string) => {
    o.onLine?.(line);
    if (/^\w*(Error|Exception)\b.*:/.test(line) || /^[a-z_.]+\.\w*(Error|Exception):/.test(line)) lastError = line.trim();
    const s = revisionStartOf(line);
    if (!s) return;
    starts.push(s);
    o.onStart?.(s);
  };
  child.stdout.on('data', (d: Buffer) => tail.push(d));
  child.stderr.on('data', onText);
  const pgid = child.pid;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const unregister = pgid ? onCleanup(`alembic upgrade ${o.target} (process group ${pgid})`, () => killGroup(pgid, 'SIGKILL')) : () => undefined;
  let alive = true;
  const done = (async (): Promise<ChainOutcome> => {
    try {
      const { code, signal } = await exited;
      alive = false;
      const endedAtMs = Date.now();
      await closed;
      if (partial) handle(partial);
      return { code, signal, endedAtMs, starts, stderrTail: tail.text(), error: lastError };
    } finally {
      unregister();
      await rm(dir, { recursive: true, force: true });
    }
  })();
  return {
    done,
    kill: () => pgid !== undefined && killGroup(pgid, 'SIGKILL'),
    rss: async () => (alive && pgid !== undefined ? processGroupRssBytes(pgid) : 0),
  };
}
