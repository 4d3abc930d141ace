/**
 * Seeded data directories of the embedded server, kept between runs: a
 * repeated `npm run repro` skips seeding. An entry is keyed by the dataset
 * key (generator version, seed, size, rates) and holds a stopped cluster,
 * its superuser password (mode 0600) and the seed summary. An entry is only
 * ever written complete (renamed into place); runs work on a copy.
 *
 * A seed in progress lives in the temp directory under a name derived from
 * the key, so a killed seed is found and resumed by the next run.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { SeedSummary } from '../../seed/seeder.ts';

const execFileP = promisify(execFile);

interface CacheMeta {
  key: string;
  template: string;
  password: string;
  summary: SeedSummary;
  createdAt: string;
  postgresVersion: string;
}

export function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'owui-migration-harness', 'seeds');
}

/** Where a seed in progress for `key` lives (found again after a kill). */
export function partialSeedDir(key: string, tmpDir = os.tmpdir()): string {
  return path.join(tmpDir, `owui-harness-seed-${key}`);
}

export async function readCacheEntry(cacheDir: string, key: string): Promise<CacheMeta | null> {
  try {
    const meta = JSON.parse(await readFile(path.join(cacheDir, key, 'meta.json'), 'utf8')) as CacheMeta;
    await stat(path.join(cacheDir, key, 'data', 'PG_VERSION'));
    return meta;
  } catch {
    return null;
  }
}

/** Copy a directory preserving owners and modes (the server runs as `postgres` under root). */
async function copyTree(from: string, to: string): Promise<void> {
  await mkdir(path.dirname(to), { recursive: true });
  await execFileP('cp', ['-a', '--reflink=auto', from, to]);
}

/** Move a finished seed (its `data` dir) into the cache with its meta, atomically. */
export async function storeCacheEntry(cacheDir: string, dataDir: string, meta: CacheMeta): Promise<string> {
  const finalDir = path.join(cacheDir, meta.key);
  const staging = path.join(cacheDir, `.${meta.key}.incoming-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true, mode: 0o711 });
  try {
    await rename(dataDir, path.join(staging, 'data'));
  } catch {
    // Another file system: copy, then remove the original.
    await copyTree(dataDir, path.join(staging, 'data'));
    await rm(dataDir, { recursive: true, force: true });
  }
  await writeFile(path.join(staging, 'meta.json'), JSON.stringify(meta, null, 2), { mode: 0o600 });
  await rm(finalDir, { recursive: true, force: true });
  await rename(staging, finalDir);
  return finalDir;
}
