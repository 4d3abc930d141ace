/**
 * The harness's command line, spawned for real (`node --import tsx
 * harness/cli.ts`) in a sandbox of its own: a private TMPDIR (where
 * the harness puts its servers, its registry and partial seeds), a private
 * XDG_CACHE_HOME (so the user's seed cache is never read or written), no
 * inherited PG* or DATABASE_URL, and a marker in the environment every
 * process it starts inherits, so that what a run leaves alive can be found
 * exactly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/**
 * How the harness is started: Node with tsx's loader, one process. Not the
 * `tsx` launcher: it relays a signal to the harness and SIGKILLs it when the
 * harness has not acknowledged within about 60 ms (a busy or CPU-starved
 * event loop), so Ctrl-C could skip every cleanup; see the Safety section.
 */
export const LAUNCH = [process.execPath, '--import', 'tsx', 'harness/cli.ts'];
/** The variable every process of a sandboxed run inherits. */
const MARKER_VAR = 'OWUI_HARNESS_TEST_SANDBOX';
/**
 * What libraries keep in TMPDIR by design, not the harness's data: tsx's
 * compile cache, and testcontainers-node's (empty) lock file that serialises
 * its reaper set-up between processes.
 */
const uid = process.geteuid?.() ?? os.userInfo().username;
const LIBRARY_TMP = new Set([`tsx-${uid}`, `testcontainers-node-${uid}.lock`]);

export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A private directory tree for one test: TMPDIR, cache, outputs. Remove it with {@link Sandbox.remove}. */
export interface Sandbox {
  /** The parent of everything below; removed at the end. */
  root: string;
  /** The harness's TMPDIR: holds nothing the test did not put there, before and after a run. */
  tmp: string;
  /** XDG_CACHE_HOME (and a place for --cache-dir). */
  cache: string;
  /** Where tests put --out directories and files of their own. */
  work: string;
  marker: string;
  remove(): Promise<void>;
}

export async function makeSandbox(): Promise<Sandbox> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'owui-test-cli-'));
  // When the harness runs as root, its embedded server runs as `postgres`: it must be able to traverse down to its data.
  await chmod(root, 0o755);
  const sub = async (name: string) => {
    const dir = path.join(root, name);
    await mkdir(dir);
    await chmod(dir, 0o755);
    return dir;
  };
  const sandbox: Sandbox = {
    root,
    tmp: await sub('tmp'),
    cache: await sub('cache'),
    work: await sub('work'),
    marker: randomBytes(8).toString('hex'),
    remove: () => rm(root, { recursive: true, force: true }),
  };
  return sandbox;
}

interface StartOptions {
  /** Variables added to (or, when undefined, removed from) the controlled environment. */
  env?: Record<string, string | undefined>;
  cwd?: string;
}

function environment(sandbox: Sandbox, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // Nothing from the user's database setup, CI job or terminal leaks into the run.
    if (/^PG[A-Z]+$/.test(k) || k === 'DATABASE_URL' || k === 'GITHUB_STEP_SUMMARY' || k === 'FORCE_COLOR') continue;
    if (k.startsWith('VITEST') || k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  Object.assign(env, {
    TMPDIR: sandbox.tmp,
    XDG_CACHE_HOME: sandbox.cache,
    NO_COLOR: '1',
    CI: '',
    [MARKER_VAR]: sandbox.marker,
  });
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** A running harness process. */
export class CliProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<CliExit>;
  private exit: CliExit | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly args: string[],
    readonly child: ChildProcess,
  ) {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.stdout += d;
      this.notify();
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
      this.notify();
    });
    this.exited = new Promise((resolve) =>
      child.on('close', (code, signal) => {
        this.exit = { code, signal, stdout: this.stdout, stderr: this.stderr };
        this.notify();
        resolve(this.exit);
      }),
    );
  }

  /** The harness, leader of its process group (with its non-detached children: initdb, strategy processes). */
  get pid(): number {
    return this.child.pid!;
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  private waitFor(stream: 'stdout' | 'stderr', re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = this[stream].match(re);
        if (m) return done(() => resolve(m));
        if (this.exit)
          return done(() => reject(new Error(`harness ${this.args.join(' ')} exited (${this.exit!.signal ?? this.exit!.code}) before ${stream} matched ${re}; stderr:\n${this.stderr}`)));
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`${stream} did not match ${re} within ${timeoutMs} ms; stderr so far:\n${this.stderr}`))),
        timeoutMs,
      );
      const done = (f: () => void) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        f();
      };
      this.listeners.add(check);
      check();
    });
  }

  /**
   * The exit, within `timeoutMs`: a harness still running then (a hung
   * shutdown) is SIGKILLed with its group and the wait rejects, so a failing
   * test never leaves it behind.
   */
  async wait(timeoutMs = 90_000): Promise<CliExit> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.kill('SIGKILL', 'group');
        reject(new Error(`harness ${this.args.join(' ')} did not exit within ${timeoutMs} ms; stderr:\n${this.stderr}`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.exited, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves once stderr (all of it so far) matches `re`; rejects if the process exits first. */
  waitForStderr(re: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    return this.waitFor('stderr', re, timeoutMs);
  }

  waitForStdout(re: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    return this.waitFor('stdout', re, timeoutMs);
  }

  /**
   * Send a signal. `group` (the default for SIGINT) is what Ctrl-C in a
   * terminal does: every process in the foreground group gets it. Otherwise
   * only the harness (as a supervisor's `kill` would).
   */
  kill(signal: NodeJS.Signals, to: 'group' | 'process' = signal === 'SIGINT' ? 'group' : 'process'): void {
    if (this.exit) return;
    try {
      process.kill(to === 'group' ? -this.pid : this.pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/** Spawn the harness with `args` in `sandbox`; returns at once. */
export function startCli(sandbox: Sandbox, args: string[], o: StartOptions = {}): CliProcess {
  const child = spawn(LAUNCH[0], [...LAUNCH.slice(1), ...args], {
    cwd: o.cwd ?? ROOT,
    env: environment(sandbox, o.env),
    stdio: ['ignore', 'pipe', 'pipe'],
    // A process group of its own: signals can reach it as a terminal's would, and nothing else.
    detached: true,
  });
  return new CliProcess(args, child);
}

/** Run to completion (killing the group if it takes longer than `timeoutMs`). */
export async function runCli(sandbox: Sandbox, args: string[], o: StartOptions & { timeoutMs?: number } = {}): Promise<CliExit> {
  const p = startCli(sandbox, args, o);
  const timer = setTimeout(() => p.kill('SIGKILL', 'group'), o.timeoutMs ?? 150_000);
  try {
    return await p.exited;
  } finally {
    clearTimeout(timer);
  }
}

// ------------------------------------------------------------ what a run leaves behind

/**
 * Entries of the sandbox's TMPDIR the harness left behind. Not counted: the
 * libraries' own entries (LIBRARY_TMP), and the harness's registry directory
 * when it holds no record (a record there is something owned and not
 * released: it is reported, as `owui-harness-registry/<record>`).
 */
export async function tmpLeftovers(sandbox: Sandbox): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir(sandbox.tmp)) {
    if (LIBRARY_TMP.has(name)) continue;
    if (name === 'owui-harness-registry') {
      for (const rec of await readdir(path.join(sandbox.tmp, name))) out.push(`${name}/${rec}`);
      continue;
    }
    out.push(name);
  }
  return out.sort();
}

/** The files under `dir`, relative to it, recursively. */
export async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  await walk(dir).catch(() => undefined);
  return out.sort();
}

interface ProcInfo {
  pid: number;
  pgrp: number;
  state: string;
  cmdline: string;
}

async function procInfo(pid: number): Promise<(ProcInfo & { environ: string }) | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replace(/\0/g, ' ').trim();
    const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
    return { pid, state: fields[0], pgrp: Number(fields[2]), cmdline, environ };
  } catch {
    return null;
  }
}

/**
 * Live processes of the sandbox's runs: any whose environment carries its
 * marker or whose command line names its directories (an embedded
 * postmaster, `-D <TMPDIR>/...`), and every process in a group one of those
 * leads (a postmaster's backends, which rewrite their command line and
 * environment area).
 */
export async function sandboxProcesses(sandbox: Sandbox): Promise<ProcInfo[]> {
  const all: (ProcInfo & { environ: string })[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const info = await procInfo(Number(name));
    if (info && info.state !== 'Z' && info.state !== 'X') all.push(info);
  }
  const direct = all.filter((p) => p.environ.includes(`${MARKER_VAR}=${sandbox.marker}`) || p.cmdline.includes(sandbox.root));
  const leaders = new Set(direct.filter((p) => p.pgrp === p.pid).map((p) => p.pid));
  return all.filter((p) => direct.includes(p) || leaders.has(p.pgrp)).map(({ pid, pgrp, state, cmdline }) => ({ pid, pgrp, state, cmdline }));
}

/** SIGKILL every live process of the sandbox (a failing test's leftovers) and remove its directory. */
export async function destroySandbox(sandbox: Sandbox): Promise<void> {
  for (const p of await sandboxProcesses(sandbox)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  await waitNoProcesses(sandbox, 5000);
  await sandbox.remove();
}

/** Wait (up to `timeoutMs`) until no process of the sandbox is alive; returns those still alive then. */
export async function waitNoProcesses(sandbox: Sandbox, timeoutMs = 20_000): Promise<ProcInfo[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const alive = await sandboxProcesses(sandbox);
    if (!alive.length || Date.now() > until) return alive;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Wait until the process `pid` is gone (or a zombie); true if it went. */
export async function waitPidGone(pid: number, timeoutMs = 20_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const info = await procInfo(pid);
    if (!info || info.state === 'Z' || info.state === 'X') return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** True when `p` is a directory. */
export async function isDir(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** A stack trace line, as Node prints one (`    at fn (file:line:col)`). */
export const STACK_LINE = /^\s+at .+[:(]/m;
