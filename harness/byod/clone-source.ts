/**
 * Copy a tester's own database into one of the harness's, reading the
 * source and never writing it: `CREATE DATABASE ... TEMPLATE ... STRATEGY
 * FILE_COPY` (needs no other session on the source), or pg_dump/pg_restore
 * when asked. Also restores a dump file into an owned server. Then checks
 * the copy is an Open WebUI database at 374d2f66af06.
 */
import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { access, constants } from 'node:fs/promises';
import { EnvironmentError, UsageError } from '../errors.ts';
import { REVISION_AFTER, REVISION_BEFORE } from '../openwebui/schema.ts';
import { createOwnedDatabase, databaseExists, dropOwnedDatabase, otherSessions } from '../postgres/databases.ts';
import { closeQuietly, connect } from '../postgres/sql.ts';
import type { StartedPostgres } from '../postgres/started-postgres.ts';

export type CopyMode = 'template' | 'dump';

export function copyName(source: string, kind: 'src' | 'dump'): string {
  const h = createHash('sha256').update(source).digest('hex').slice(0, 8);
  return `owui_harness_${kind}_${source.toLowerCase().replace(/[^a-z0-9]/g, '_').slice(0, 30)}_${h}`;
}

/** A client binary (pg_dump, pg_restore, psql) from PATH or Debian's PostgreSQL 15 directory. */
async function clientBinary(name: string): Promise<string> {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/lib/postgresql/15/bin'])) {
    const p = `${dir}/${name}`;
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  throw new EnvironmentError(`${name} was not found (needed to copy or restore a database); install the PostgreSQL 15 client (Debian: apt-get install postgresql-client-15)`);
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, stdin?: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: [stdin ? 'pipe' : 'ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr?.on('data', (d) => (err = (err + d).slice(-4000)));
    if (stdin && child.stdin) stdin.pipe(child.stdin);
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd.split('/').pop()} exited with ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`))));
  });
}

function pgEnv(server: StartedPostgres, database: string): NodeJS.ProcessEnv {
  const c = server.connection(database);
  return { ...process.env, PGHOST: String(c.host), PGPORT: String(c.port), PGUSER: String(c.user), PGPASSWORD: String(c.password ?? ''), PGDATABASE: database };
}

/** Copy `source` into a new harness database; returns its name. */
export async function cloneSource(server: StartedPostgres, source: string, mode: CopyMode, log: (l: string) => void): Promise<string> {
  const admin = await connect(server, server.maintenanceDatabase, 'admin');
  const target = copyName(source, 'src');
  try {
    if (!(await databaseExists(admin, source))) throw new UsageError(`--from-database ${source}: there is no such database on this server`);
    if (mode === 'template') {
      const others = await otherSessions(admin, source);
      if (others.length)
        throw new UsageError(
          `--from-database ${source}: ${others.length} other session${others.length > 1 ? 's are' : ' is'} connected to it, and a file copy needs none; stop them (e.g. stop Open WebUI), or pass --copy-mode dump to copy with pg_dump instead`,
        );
      try {
        await createOwnedDatabase(admin, target, { template: source, note: `copy of ${source}` });
      } catch (err) {
        if ((err as { code?: string }).code === '55006')
          throw new UsageError(`--from-database ${source}: another session connected while copying; stop it, or pass --copy-mode dump`);
        throw err;
      }
      log(`copied database ${source} into ${target} (file copy; the source was only read)`);
    } else {
      await createOwnedDatabase(admin, target, { note: `dump of ${source}` });
      const dump = spawn(await clientBinary('pg_dump'), ['--format=custom', '--no-owner', '--no-privileges'], { env: pgEnv(server, source), stdio: ['ignore', 'pipe', 'pipe'] });
      let dumpErr = '';
      dump.stderr.on('data', (d) => (dumpErr = (dumpErr + d).slice(-4000)));
      const dumpDone = new Promise<void>((resolve, reject) => dump.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`pg_dump exited with ${code}: ${dumpErr.trim()}`)))));
      await Promise.all([run(await clientBinary('pg_restore'), ['--no-owner', '--no-privileges', '--dbname', target], pgEnv(server, target), dump.stdout), dumpDone]);
      log(`copied database ${source} into ${target} with pg_dump/pg_restore (the source was only read)`);
    }
  } finally {
    await closeQuietly(admin);
  }
  await checkShape(server, target, `--from-database ${source}`);
  return target;
}

/** Restore a dump file (pg_dump custom format, or plain SQL) into a new harness database. */
export async function restoreDump(server: StartedPostgres, file: string, log: (l: string) => void): Promise<string> {
  let head: Buffer;
  try {
    const fh = await open(file, 'r');
    head = Buffer.alloc(5);
    await fh.read(head, 0, 5, 0);
    await fh.close();
  } catch (err) {
    throw new UsageError(`--from-dump ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const target = copyName(file, 'dump');
  const admin = await connect(server, server.maintenanceDatabase, 'admin');
  try {
    await createOwnedDatabase(admin, target, { note: `restored from ${file}` });
  } finally {
    await closeQuietly(admin);
  }
  if (head.toString('latin1') === 'PGDMP') await run(await clientBinary('pg_restore'), ['--no-owner', '--no-privileges', '--dbname', target, file], pgEnv(server, target));
  else await run(await clientBinary('psql'), ['--quiet', '--set', 'ON_ERROR_STOP=1', '--file', file], pgEnv(server, target));
  log(`restored ${file} into ${target}`);
  await checkShape(server, target, `--from-dump ${file}`);
  return target;
}

/** The copy must look like an Open WebUI database at 374d2f66af06; otherwise say what is missing (and drop the copy). */
async function checkShape(server: StartedPostgres, database: string, what: string): Promise<void> {
  const c = await connect(server, database, 'check');
  let problem: string | null = null;
  try {
    const chat = (await c.query("SELECT to_regclass('public.chat') IS NOT NULL AS t")).rows[0].t as boolean;
    const column = chat && ((await c.query("SELECT 1 FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'chat' AND column_name = 'chat'")).rowCount ?? 0) > 0;
    const alembic = (await c.query("SELECT to_regclass('public.alembic_version') IS NOT NULL AS t")).rows[0].t as boolean;
    const stamp = alembic ? ((await c.query<{ v: string }>('SELECT version_num AS v FROM alembic_version')).rows[0]?.v ?? null) : null;
    const migrated = (await c.query("SELECT to_regclass('public.chat_message') IS NOT NULL AS t")).rows[0].t as boolean;
    if (!chat) problem = 'it has no chat table: is this an Open WebUI database?';
    else if (!column) problem = 'its chat table has no chat column';
    else if (!alembic) problem = 'it has no alembic_version table (Open WebUI databases are stamped by Alembic)';
    else if (stamp === REVISION_AFTER || migrated) problem = `it is already migrated (revision ${stamp ?? 'unknown'}${migrated ? ', chat_message exists' : ''}); use a copy taken before the upgrade`;
    else if (stamp !== REVISION_BEFORE) problem = `it is at revision ${stamp ?? '(none)'}, not ${REVISION_BEFORE} (the parent of 8452d01d26d7); upgrade it to ${REVISION_BEFORE} first`;
  } finally {
    await closeQuietly(c);
  }
  if (problem) {
    const admin = await connect(server, server.maintenanceDatabase, 'admin');
    try {
      await dropOwnedDatabase(admin, database);
    } finally {
      await closeQuietly(admin);
    }
    throw new UsageError(`${what}: ${problem}`);
  }
}
