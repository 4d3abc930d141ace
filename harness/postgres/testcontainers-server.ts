/**
 * PostgreSQL 15 in a container via Testcontainers (`postgres:15`), settings
 * passed as `-c name=value`. A crash is `docker kill -s KILL` of the
 * container (its PID 1 is the postmaster), a restart is `docker start` of
 * the same container: crash recovery then runs on the same data.
 *
 * Ryuk (Testcontainers' reaper) is off unless the user turns it on: its
 * image is not available on air-gapped machines, and the harness removes
 * its containers itself (on exit, on signals, and after a `kill -9` via the
 * owned-resources registry).
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { EnvironmentError, errorMessage } from '../errors.ts';
import { onCleanup } from '../lifecycle/cleanup.ts';
import type { OwnedRegistry } from '../lifecycle/owned-registry.ts';
import { postgresUrl, type ServerSettings, type StartedPostgres } from './started-postgres.ts';

const DEFAULT_IMAGE = 'postgres:15';
const CONTAINER_LABEL = 'owui-migration-harness';
/** Where a size-capped tmpfs for pg_wal is mounted (with `walTmpfsBytes`). */
const WAL_MOUNT = '/var/lib/postgresql/walcap';

interface TestcontainersOptions {
  settings: ServerSettings;
  image?: string;
  /** Mount pg_wal on a tmpfs of this size: a real size-capped WAL volume. */
  walTmpfsBytes?: number;
  registry?: OwnedRegistry;
  startTimeoutMs?: number;
}

type Tc = typeof import('testcontainers');
type TcPg = typeof import('@testcontainers/postgresql');

async function loadTestcontainers(): Promise<{ tc: Tc; tcpg: TcPg }> {
  const [tc, tcpg] = await Promise.all([import('testcontainers'), import('@testcontainers/postgresql')]);
  return { tc, tcpg };
}

export class TestcontainersPostgresServer {
  constructor(private readonly options: TestcontainersOptions) {}

  async start(): Promise<StartedContainerPostgres> {
    const { tc, tcpg } = await loadTestcontainers();
    const password = randomBytes(18).toString('base64url');
    const args = ['postgres'];
    for (const [k, v] of Object.entries(this.options.settings)) args.push('-c', `${k}=${v}`);
    let container = new tcpg.PostgreSqlContainer(this.options.image ?? DEFAULT_IMAGE)
      .withUsername('postgres')
      .withPassword(password)
      .withDatabase('postgres')
      .withCommand(args)
      .withLabels({ [CONTAINER_LABEL]: 'true', [`${CONTAINER_LABEL}.pid`]: String(process.pid) })
      // PostgreSQL's parallel index builds use /dev/shm; Docker's default 64 MB is too small.
      .withSharedMemorySize(512 * 1024 * 1024)
      .withStartupTimeout(this.options.startTimeoutMs ?? 120_000);
    if (this.options.walTmpfsBytes) {
      container = container
        .withTmpFs({ [WAL_MOUNT]: `rw,size=${this.options.walTmpfsBytes},mode=1777` })
        .withEnvironment({ POSTGRES_INITDB_WALDIR: `${WAL_MOUNT}/pg_wal` });
    }
    let started;
    try {
      started = await container.start();
    } catch (err) {
      throw new EnvironmentError(
        `could not start container ${this.options.image ?? DEFAULT_IMAGE}: ${errorMessage(err).split('\n')[0]}; without a registry, build the image locally with harness/postgres/docker/build-postgres-image.sh, or use --provider embedded`,
      );
    }
    const id = started.getId();
    const undo = onCleanup(`container ${id.slice(0, 12)}`, () => started.stop({ timeout: 0, remove: true }).then(() => undefined));
    const regId = await this.options.registry?.record({ kind: 'container', containerId: id });
    const s = new StartedContainerPostgres(tc, started, password, this.options, undo, regId);
    await s.readVersion();
    return s;
  }
}

class StartedContainerPostgres implements StartedPostgres {
  readonly provider = 'testcontainers' as const;
  readonly owned = true;
  readonly maintenanceDatabase = 'postgres';
  version = '';
  private host: string;
  private port: number;

  constructor(
    private readonly tc: Tc,
    private readonly container: import('testcontainers').StartedTestContainer,
    private readonly password: string,
    private readonly options: TestcontainersOptions,
    private readonly undoCleanup: () => void,
    private readonly registryId: string | undefined,
  ) {
    this.host = container.getHost();
    this.port = container.getMappedPort(5432);
  }

  get containerId(): string {
    return this.container.getId();
  }

  async readVersion(): Promise<void> {
    const c = new pg.Client(this.connection('postgres'));
    await c.connect();
    try {
      this.version = (await c.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version;
    } finally {
      await c.end();
    }
  }

  connection(database: string): pg.ClientConfig {
    return { host: this.host, port: this.port, user: 'postgres', password: this.password, database };
  }

  url(database: string): string {
    return postgresUrl({ host: this.host, port: this.port, user: 'postgres', password: this.password, database });
  }

  redactedUrl(database: string): string {
    return postgresUrl({ host: this.host, port: this.port, user: 'postgres', password: this.password, database }, true);
  }

  describe(): string {
    return `PostgreSQL ${this.version} in container ${this.container.getId().slice(0, 12)} (${this.options.image ?? DEFAULT_IMAGE}) at ${this.host}:${this.port}`;
  }

  private async docker() {
    const client = await this.tc.getContainerRuntimeClient();
    return client.container.dockerode.getContainer(this.container.getId());
  }

  /** SIGKILL the container's PID 1, the postmaster. */
  async crash(): Promise<void> {
    const c = await this.docker();
    await c.kill({ signal: 'SIGKILL' });
    for (let i = 0; i < 200; i++) {
      const info = await c.inspect();
      if (!info.State.Running) return;
      await sleep(50);
    }
  }

  /** Start the same container again (crash recovery runs); settings cannot change here. */
  async restart(settings?: ServerSettings): Promise<void> {
    if (settings && JSON.stringify(settings) !== JSON.stringify(this.options.settings))
      throw new Error('a Testcontainers server keeps the settings it was created with; start a new one to change them');
    const c = await this.docker();
    const info = await c.inspect();
    if (info.State.Running) await c.stop({ t: 60 });
    await c.start();
    const after = await c.inspect();
    const binding = after.NetworkSettings.Ports['5432/tcp']?.[0];
    if (!binding) throw new EnvironmentError('the restarted container has no port binding for 5432/tcp');
    this.port = Number(binding.HostPort);
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 120_000);
    for (;;) {
      const client = new pg.Client({ ...this.connection('postgres'), connectionTimeoutMillis: 2000 });
      try {
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        return;
      } catch {
        await client.end().catch(() => undefined);
      }
      if (Date.now() > deadline) throw new EnvironmentError(`restarted container did not accept connections within ${this.options.startTimeoutMs ?? 120_000} ms`);
      await sleep(200);
    }
  }

  /** The container's log (the server's stderr). */
  async logs(): Promise<string> {
    const c = await this.docker();
    const buf = (await c.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
    // Docker multiplexes stdout/stderr with 8-byte frame headers.
    return buf.toString('utf8').replace(/[\x00-\x08][\s\S]{7}/g, '');
  }

  async stop(): Promise<void> {
    await this.container.stop({ timeout: 10, remove: true }).catch(() => undefined);
    this.undoCleanup();
    if (this.registryId) await this.options.registry?.release(this.registryId);
  }
}

/** True when a container runtime answers (within a few seconds). */
export async function containerRuntimeAnswers(timeoutMs = 8000): Promise<{ ok: true; detail: string } | { ok: false; detail: string }> {
  try {
    const { tc } = await loadTestcontainers();
    const client = await Promise.race([
      tc.getContainerRuntimeClient(),
      sleep(timeoutMs).then(() => {
        throw new Error(`no answer within ${timeoutMs} ms`);
      }),
    ]);
    return { ok: true, detail: `container runtime at ${client.info.containerRuntime.host}` };
  } catch (err) {
    return { ok: false, detail: errorMessage(err).split('\n')[0] };
  }
}

/** True when `image` is present locally (no pull attempted). */
export async function imagePresent(image = DEFAULT_IMAGE): Promise<boolean> {
  const { tc } = await loadTestcontainers();
  const client = await tc.getContainerRuntimeClient();
  return client.image.exists(tc.ImageName.fromString(image));
}
