/**
 * Provision PostgreSQL and the seeded template every strategy is cloned
 * from: reuse a cached seed (embedded) or a harness database on the server
 * (url), resume a partial seed, or seed anew, then make sure the server runs
 * with the scenario's settings before anything is measured.
 */
import { mkdir, stat } from 'node:fs/promises';
import { statfs } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { datasetKey, estimatedDatasetBytes, type DatasetSpec } from '../../seed/dataset-plan.ts';
import { seedDatabase, type SeedProgress, type SeedSummary } from '../../seed/seeder.ts';
import { cloneSource, restoreDump, type CopyMode } from '../byod/clone-source.ts';
import { deriveManifest, type SourceReport } from '../byod/derive-manifest.ts';
import { describeSourceReport } from '../byod/describe-source-report.ts';
import { EnvironmentError, errorMessage, UsageError } from '../errors.ts';
import { isProcessAlive, processStartTicks, type OwnedRegistry } from '../lifecycle/owned-registry.ts';
import type { ProviderChoice } from '../postgres/choose-provider.ts';
import { createOwnedDatabase, databaseExists, dropOwnedDatabase, isOwnedDatabase } from '../postgres/databases.ts';
import { EmbeddedPostgresServer, flushFileSystem, type StartedEmbeddedPostgres } from '../postgres/embedded-server.ts';
import type { ProviderName, ServerSettings, StartedPostgres } from '../postgres/started-postgres.ts';
import { TestcontainersPostgresServer } from '../postgres/testcontainers-server.ts';
import { UrlPostgresServer } from '../postgres/url-server.ts';
import { withClient } from '../postgres/with-client.ts';
import type { RunResult } from '../result/run-result.ts';
import { formatBytes } from '../units.ts';
import { partialSeedDir, readCacheEntry, storeCacheEntry } from './seed-cache.ts';

/** Settings for loading only, where the harness owns the server: nothing here is measured. */
export const SEED_SETTINGS: ServerSettings = {
  wal_level: 'minimal',
  max_wal_senders: '0',
  fsync: 'off',
  full_page_writes: 'off',
  synchronous_commit: 'off',
  autovacuum: 'off',
  max_wal_size: '4GB',
  checkpoint_timeout: '30min',
  shared_buffers: '256MB',
  maintenance_work_mem: '256MB',
};

export interface PrepareOptions {
  provider: ProviderName;
  databaseUrl?: string;
  /** The scenario's server settings (plus command-line overrides). */
  settings: ServerSettings;
  dataset: DatasetSpec;
  seedStreams: number;
  /** Embedded only: where complete seeds are kept; null disables the cache. */
  cacheDir: string | null;
  /** Ignore a cached or existing seed and seed anew. */
  fresh: boolean;
  registry?: OwnedRegistry;
  walTmpfsBytes?: number;
  image?: string;
  log: (line: string) => void;
  onSeedProgress?: (p: SeedProgress) => void;
  /** Proceed on a URL whose database holds a chat table the harness did not create (never touching it). */
  force?: boolean;
  /** Bring your own data: copy this database (or restore this dump) instead of seeding. */
  source?: { database?: string; dump?: string; copyMode: CopyMode };
  /** Called as soon as a server is up, so an interrupted run can still stop it. */
  onServer?: (s: StartedPostgres) => void;
  /**
   * Seed something other than the dataset's own schema (the `upgrade`
   * command: a checkout's schema at a revision, every table filled): the key
   * it is cached and named under, and the work that fills the template.
   */
  build?: { key: string; seed: (server: StartedPostgres, template: string) => Promise<SeedSummary> };
}

export interface Prepared {
  server: StartedPostgres;
  template: string;
  summary: SeedSummary;
  reused: 'no' | 'cache' | 'database';
  /** For a copy of someone's database: what was found in it. */
  source?: { name: string; report: SourceReport };
  /** Remove what only this run needs (a copied source) unless --keep. */
  dispose?: () => Promise<void>;
}

/** What `result.json` says of the data a run used: a seed, or the database it was copied from. */
export function datasetResult(summary: SeedSummary, reused: Prepared['reused'], sourceName: string | null): NonNullable<RunResult['dataset']> {
  return {
    source: sourceName ? 'database' : 'seed',
    sourceDatabase: sourceName,
    seed: sourceName ? null : summary.seed,
    key: summary.key,
    chats: summary.chats,
    migratedChats: summary.migratedChats,
    messages: summary.messages,
    expectedRows: summary.expectedRows,
    expectedFailures: summary.expectedFailures,
    nowRows: summary.nowRows,
    chatTableBytes: summary.chatTableBytes,
    generatedBytes: summary.generatedBytes,
    seedSeconds: summary.seedSeconds,
    reused,
    edgeCases: summary.edgeCases,
  };
}

/**
 * A URL pointing at a database that holds someone's `chat` table (an Open
 * WebUI database, say) is most likely a mistake: refuse unless --force, and
 * even then work only in databases of the harness's own.
 */
async function refuseForeignChatTable(server: StartedPostgres, force: boolean): Promise<void> {
  await withClient(server, server.maintenanceDatabase, 'admin', async (c) => {
    const hasChat = (await c.query("SELECT to_regclass('public.chat') IS NOT NULL AS e")).rows[0].e as boolean;
    if (!hasChat || (await isOwnedDatabase(c, server.maintenanceDatabase))) return;
    if (!force)
      throw new UsageError(
        `--database-url: database ${server.maintenanceDatabase} already holds a chat table the harness did not create; the harness will not work there. ` +
          `To migrate a copy of it use --from-database ${server.maintenanceDatabase}; to seed next to it anyway pass --force (the harness then works only in databases of its own and never touches that table)`,
      );
  });
}

/**
 * One harness at a time seeds into a dataset's resumable directory: a lock
 * file with the owner's pid and start time (a pid alone can be reused).
 * Returns false when a live process holds it.
 */
async function takeSeedLock(dir: string): Promise<boolean> {
  const { readFile, writeFile, mkdir: mk } = await import('node:fs/promises');
  await mk(dir, { recursive: true, mode: 0o711 });
  const lock = path.join(dir, 'lock');
  const mine = JSON.stringify({ pid: process.pid, ticks: processStartTicks(process.pid) });
  try {
    const held = JSON.parse(await readFile(lock, 'utf8')) as { pid: number; ticks: string | null };
    if (held.pid !== process.pid && isProcessAlive(held.pid) && processStartTicks(held.pid) === held.ticks) return false;
  } catch {
    /* no lock, or unreadable: take it */
  }
  await writeFile(lock, mine);
  return true;
}

export function templateName(key: string): string {
  return `owui_harness_tpl_${key}`.toLowerCase().slice(0, 63);
}

async function checkFreeDisk(dir: string, needBytes: number, what: string): Promise<void> {
  try {
    const s = await statfs(dir);
    const free = s.bavail * s.bsize;
    if (free < needBytes)
      throw new UsageError(`${what}: needs about ${formatBytes(needBytes)} of free disk in ${dir}, only ${formatBytes(free)} is free; choose a smaller --size or free some space`);
  } catch (err) {
    if (err instanceof UsageError) throw err;
  }
}

async function ensureTemplate(server: StartedPostgres, template: string, fresh: boolean): Promise<void> {
  await withClient(server, server.maintenanceDatabase, 'admin', async (admin) => {
    if (await databaseExists(admin, template)) {
      if (!(await isOwnedDatabase(admin, template))) throw new UsageError(`database ${template} exists and was not created by the harness; it will not be touched`);
      if (fresh) await createOwnedDatabase(admin, template, { note: 'seeded template' });
      return;
    }
    await createOwnedDatabase(admin, template, { note: 'seeded template' });
  });
}

async function seedInto(server: StartedPostgres, template: string, o: PrepareOptions): Promise<SeedSummary> {
  if (o.build) return o.build.seed(server, template);
  return seedDatabase({ server, database: template, dataset: o.dataset, streams: o.seedStreams, onProgress: o.onSeedProgress });
}

/** Bring your own data: the server and a harness-owned copy of the tester's data (a database on a url server, or a restored dump), before any manifest. */
export async function copySource(o: PrepareOptions, check: 'pre-migration' | 'any-revision' = 'pre-migration'): Promise<{ server: StartedPostgres; copy: string; name: string; dispose: () => Promise<void> }> {
  const src = o.source!;
  let server: StartedPostgres;
  if (o.provider === 'url') server = await new UrlPostgresServer(o.databaseUrl!).start();
  else if (!src.dump)
    throw new UsageError(
      `--from-database ${src.database} needs --database-url (the server that holds it), or --from-dump <file> to restore a dump into the harness's own server`,
    );
  else if (o.provider === 'testcontainers') server = await new TestcontainersPostgresServer({ settings: o.settings, registry: o.registry, image: o.image }).start();
  else server = await new EmbeddedPostgresServer({ settings: o.settings, registry: o.registry }).start();
  o.onServer?.(server);
  const template = src.dump ? await restoreDump(server, src.dump, o.log, check) : await cloneSource(server, src.database!, src.copyMode, o.log, check);
  const name = src.dump ? src.dump : src.database!;
  const dispose = () => withClient(server, server.maintenanceDatabase, 'admin', (admin) => dropOwnedDatabase(admin, template));
  return { server, copy: template, name, dispose };
}

async function prepareSource(o: PrepareOptions): Promise<Prepared> {
  const { server, copy: template, name, dispose } = await copySource(o);
  o.log(`reading every chat of the copy once to derive the rows a correct migration must write`);
  let derived: Awaited<ReturnType<typeof deriveManifest>>;
  try {
    derived = await deriveManifest(server, template, o.source!.database ?? path.basename(o.source!.dump!));
  } catch (err) {
    // Never leave a copy of someone's database behind on their server.
    await dispose().catch(() => undefined);
    throw err;
  }
  const { summary, report } = derived;
  for (const line of describeSourceReport(name, report)) o.log(line);
  return { server, template, summary, reused: 'no', source: { name, report }, dispose };
}

/**
 * `prepare` on the provider chosen; when the user left the choice to the
 * harness (`auto`) and Testcontainers then fails to provide a server, on the
 * embedded one instead, with a warning.
 */
export async function prepareOnChosen(
  asked: ProviderChoice,
  chosen: ProviderName,
  prepare: (p: ProviderName) => Promise<Prepared>,
  warn: (line: string) => void,
  /** Whether another provider could do better (default: any EnvironmentError). */
  providerFailed: (err: unknown) => boolean = (err) => err instanceof EnvironmentError,
): Promise<Prepared> {
  try {
    return await prepare(chosen);
  } catch (err) {
    if (asked !== 'auto' || chosen !== 'testcontainers' || !providerFailed(err)) throw err;
    warn(`${errorMessage(err)}; falling back to the embedded server`);
    return prepare('embedded');
  }
}

export async function prepareData(o: PrepareOptions): Promise<Prepared> {
  if (o.source) return prepareSource(o);
  const key = o.build?.key ?? datasetKey(o.dataset);
  const template = templateName(key);
  // Not planDataset: planning a mistaken 900TB would take minutes before refusing it.
  const estimatedBytes = estimatedDatasetBytes(o.dataset);

  if (o.provider === 'url') {
    const server = await new UrlPostgresServer(o.databaseUrl!).start();
    o.onServer?.(server);
    await refuseForeignChatTable(server, !!o.force);
    await ensureTemplate(server, template, o.fresh);
    const summary = await seedInto(server, template, o);
    return { server, template, summary, reused: summary.reused ? 'database' : 'no' };
  }

  if (o.provider === 'testcontainers') {
    const server = await new TestcontainersPostgresServer({ settings: o.settings, registry: o.registry, walTmpfsBytes: o.walTmpfsBytes, image: o.image }).start();
    o.onServer?.(server);
    await ensureTemplate(server, template, false);
    const summary = await seedInto(server, template, o);
    return { server, template, summary, reused: 'no' };
  }

  // Embedded: a cached seed, or seed (resuming a partial one) under loading settings.
  if (o.cacheDir && !o.fresh) {
    const meta = await readCacheEntry(o.cacheDir, key);
    if (meta) {
      o.log(`using the cached seed ${key} from ${o.cacheDir} (pass --fresh to seed anew)`);
      const server = await new EmbeddedPostgresServer({
        settings: o.settings,
        copyFrom: path.join(o.cacheDir, key, 'data'),
        password: meta.password,
        registry: o.registry,
      }).start();
      o.onServer?.(server);
      return { server, template: meta.template, summary: { ...meta.summary, reused: true }, reused: 'cache' };
    }
  }

  const asked = o.dataset.chats === undefined ? `--size ${formatBytes(estimatedBytes)}` : `--chats ${o.dataset.chats} (about ${formatBytes(estimatedBytes)})`;
  await checkFreeDisk(os.tmpdir(), estimatedBytes * (o.cacheDir ? 3.2 : 2.2), asked);
  const { readFile, writeFile, rm, mkdtemp } = await import('node:fs/promises');
  let partial = partialSeedDir(key);
  if (o.fresh) await rm(partial, { recursive: true, force: true });
  if (!(await takeSeedLock(partial))) {
    // Another harness is seeding the same dataset right now: seed privately (not resumable) rather than share its files.
    partial = await mkdtemp(`${partialSeedDir(key)}-private-`);
    await takeSeedLock(partial);
    o.log(`another run is seeding ${key} at the moment; seeding a private copy in ${partial}`);
  }
  const dataDir = path.join(partial, 'data');
  const passwordFile = path.join(partial, 'password');
  let password: string | undefined;
  try {
    password = (await readFile(passwordFile, 'utf8')).trim();
    await stat(path.join(dataDir, 'PG_VERSION'));
    o.log(`resuming the seed in ${partial}`);
  } catch {
    await rm(dataDir, { recursive: true, force: true });
    await mkdir(partial, { recursive: true, mode: 0o711 });
    password = (await import('node:crypto')).randomBytes(18).toString('base64url');
    await writeFile(passwordFile, password, { mode: 0o600 });
  }
  const seeding = await new EmbeddedPostgresServer({
    settings: { ...SEED_SETTINGS, ...pick(o.settings, ['shared_buffers']) },
    dataDir,
    password,
    removeOnStop: !o.cacheDir,
    // Without a cache the finished seed is this run's only: nothing is left to resume.
    removeDirOnStop: o.cacheDir ? undefined : partial,
    registry: o.registry,
  }).start();
  o.onServer?.(seeding);
  await ensureTemplate(seeding, template, false);
  const summary = await seedInto(seeding, template, o);
  // Measured work must not run under the loading settings; this restart also trims pg_wal.
  await seeding.restart(o.settings);
  await withClient(seeding, seeding.maintenanceDatabase, 'admin', (c) => c.query('CHECKPOINT'));
  // Loaded without fsync: write it back now rather than during the first measurement.
  await flushFileSystem(dataDir);
  if (!o.cacheDir) return { server: seeding, template, summary, reused: 'no' };

  await seeding.stop();
  await storeCacheEntry(o.cacheDir, dataDir, { key, template, password, summary, createdAt: new Date().toISOString(), postgresVersion: seeding.version });
  await rm(partial, { recursive: true, force: true });
  o.log(`seed ${key} stored in the cache ${o.cacheDir}`);
  const server: StartedEmbeddedPostgres = await new EmbeddedPostgresServer({
    settings: o.settings,
    copyFrom: path.join(o.cacheDir, key, 'data'),
    password,
    registry: o.registry,
  }).start();
  o.onServer?.(server);
  return { server, template, summary, reused: 'no' };
}

function pick(s: ServerSettings, names: string[]): ServerSettings {
  const out: ServerSettings = {};
  for (const n of names) if (s[n] !== undefined) out[n] = s[n];
  return out;
}
