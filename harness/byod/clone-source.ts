/**
 * Copy a tester's own database into one of the harness's, reading the
 * source and never writing it: `CREATE DATABASE ... TEMPLATE ... STRATEGY
 * FILE_COPY` (needs no other session on the source), or pg_dump/pg_restore
 * when asked. Also restores a dump file into an owned server. Then checks
 * the copy is an Open WebUI database at 374d2f66af06.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { access, constants } from 'node:fs/promises';
import { EnvironmentError, errorMessage, UsageError } from '../errors.ts';
import { REVISION_AFTER, REVISION_BEFORE } from '../openwebui/schema.ts';
import { createOwnedDatabase, databaseExists, dropOwnedDatabase, otherSessions } from '../postgres/databases.ts';
import type { StartedPostgres } from '../postgres/started-postgres.ts';
import { withClient } from '../postgres/with-client.ts';

export type CopyMode = 'template' | 'dump';

function copyName(source: string, kind: 'src' | 'dump'): string {
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
  const env: NodeJS.ProcessEnv = { ...process.env, PGHOST: String(c.host), PGPORT: String(c.port), PGUSER: String(c.user), PGPASSWORD: String(c.password ?? ''), PGDATABASE: database };
  // The URL's sslmode: the client tools would otherwise try TLS and fall back to plain text.
  if (c.ssl) env.PGSSLMODE = 'require';
  return env;
}

async function dropCopy(server: StartedPostgres, database: string): Promise<void> {
  await withClient(server, server.maintenanceDatabase, 'admin', (admin) => dropOwnedDatabase(admin, database));
}

function describeSessions(others: { application_name: string; usename: string }[]): string {
  const names = [...new Set(others.map((o) => `${o.application_name || 'a client'} as ${o.usename}`))];
  return names.slice(0, 3).join(', ') + (names.length > 3 ? ', ...' : '');
}

/**
 * Copy `source` into a new harness database; returns its name. `check`
 * `any-revision` (the upgrade path, which starts at whatever the copy is
 * stamped at) skips the check that it is at 374d2f66af06.
 */
export async function cloneSource(server: StartedPostgres, source: string, mode: CopyMode, log: (l: string) => void, check: 'pre-migration' | 'any-revision' = 'pre-migration'): Promise<string> {
  const target = copyName(source, 'src');
  await withClient(server, server.maintenanceDatabase, 'admin', async (admin) => {
    if (!(await databaseExists(admin, source))) throw new UsageError(`--from-database ${source}: there is no such database on this server`);
    if (mode === 'template') {
      if (source === server.maintenanceDatabase)
        throw new UsageError(
          `--from-database ${source}: --database-url connects to that very database, and a file copy needs no session on it; point --database-url at another database of the server (e.g. /postgres), or pass --copy-mode dump`,
        );
      const others = await otherSessions(admin, source);
      if (others.length)
        throw new UsageError(
          `--from-database ${source}: ${others.length} other session${others.length > 1 ? 's are' : ' is'} connected to it (${describeSessions(others)}), and a file copy needs none; ` +
            'stop them (e.g. stop Open WebUI), or pass --copy-mode dump to copy with pg_dump instead',
        );
      try {
        await createOwnedDatabase(admin, target, { template: source, note: `copy of ${source}` });
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === '55006') throw new UsageError(`--from-database ${source}: another session connected while copying; stop it, or pass --copy-mode dump`);
        if (code === '42501')
          throw new UsageError(`--from-database ${source}: the --database-url user may not use it as a template (${errorMessage(err)}); connect as its owner or a superuser, or pass --copy-mode dump`);
        throw err;
      }
      log(`copied database ${source} into ${target} (file copy; the source was only read)`);
    } else {
      await createOwnedDatabase(admin, target, { note: `dump of ${source}` });
      try {
        const [pgDump, pgRestore] = [await clientBinary('pg_dump'), await clientBinary('pg_restore')];
        const dump = spawn(pgDump, ['--format=custom', '--no-owner', '--no-privileges'], { env: pgEnv(server, source), stdio: ['ignore', 'pipe', 'pipe'] });
        let dumpErr = '';
        dump.stderr.on('data', (d) => (dumpErr = (dumpErr + d).slice(-4000)));
        const dumpDone = new Promise<void>((resolve, reject) => {
          dump.on('error', reject);
          dump.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`pg_dump exited with ${code}: ${dumpErr.trim()}`))));
        });
        await Promise.all([run(pgRestore, ['--no-owner', '--no-privileges', '--exit-on-error', '--dbname', target], pgEnv(server, target), dump.stdout), dumpDone]);
      } catch (err) {
        await dropCopy(server, target).catch(() => undefined);
        if (err instanceof EnvironmentError) throw err;
        throw new EnvironmentError(`--from-database ${source} --copy-mode dump: copying failed (${errorMessage(err)})`);
      }
      log(`copied database ${source} into ${target} with pg_dump/pg_restore (the source was only read)`);
    }
  });
  if (check === 'pre-migration') await checkShape(server, target, `--from-database ${source}`);
  return target;
}

/** Restore a dump file (pg_dump custom format, or plain SQL) into a new harness database. */
export async function restoreDump(server: StartedPostgres, file: string, log: (l: string) => void, check: 'pre-migration' | 'any-revision' = 'pre-migration'): Promise<string> {
  let head: Buffer;
  try {
    const fh = await open(file, 'r');
    head = Buffer.alloc(5);
    await fh.read(head, 0, 5, 0);
    await fh.close();
  } catch (err) {
    throw new UsageError(`--from-dump ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)})`);
  }
  const target = copyName(file, 'dump');
  await withClient(server, server.maintenanceDatabase, 'admin', (admin) => createOwnedDatabase(admin, target, { note: `restored from ${file}` }));
  try {
    if (head.toString('latin1') === 'PGDMP') await run(await clientBinary('pg_restore'), ['--no-owner', '--no-privileges', '--exit-on-error', '--dbname', target, file], pgEnv(server, target));
    else await run(await clientBinary('psql'), ['--quiet', '--no-psqlrc', '--set', 'ON_ERROR_STOP=1', '--file', file], pgEnv(server, target));
  } catch (err) {
    await dropCopy(server, target).catch(() => undefined);
    if (err instanceof EnvironmentError) throw err;
    throw new UsageError(`--from-dump ${file}: restoring it failed (${errorMessage(err)}); is it a pg_dump of an Open WebUI database (custom format or plain SQL)?`);
  }
  log(`restored ${file} into ${target}`);
  if (check === 'pre-migration') await checkShape(server, target, `--from-dump ${file}`);
  return target;
}

/** The copy must look like an Open WebUI database at 374d2f66af06; otherwise say what is missing (and drop the copy). */
async function checkShape(server: StartedPostgres, database: string, what: string): Promise<void> {
  const problem = await withClient(server, database, 'check', async (c): Promise<string | null> => {
    const chat = (await c.query("SELECT to_regclass('public.chat') IS NOT NULL AS t")).rows[0].t as boolean;
    const columns = chat
      ? new Set((await c.query<{ n: string }>("SELECT column_name AS n FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'chat'")).rows.map((r) => r.n))
      : new Set<string>();
    const missing = ['id', 'user_id'].filter((n) => !columns.has(n));
    const alembic = (await c.query("SELECT to_regclass('public.alembic_version') IS NOT NULL AS t")).rows[0].t as boolean;
    const stamp = alembic ? ((await c.query<{ v: string }>('SELECT version_num AS v FROM alembic_version')).rows[0]?.v ?? null) : null;
    const migrated = (await c.query("SELECT to_regclass('public.chat_message') IS NOT NULL AS t")).rows[0].t as boolean;
    if (!chat) return 'it has no chat table (public.chat): is this an Open WebUI database?';
    if (!columns.has('chat')) return 'its chat table has no chat column (the JSON document the migration reads)';
    if (missing.length) return `its chat table has no ${missing.join(' or ')} column`;
    if (!alembic) return 'it has no alembic_version table (Open WebUI databases are stamped by Alembic)';
    if (stamp === REVISION_AFTER) return `it is already migrated (revision ${REVISION_AFTER}); use a copy taken before the upgrade`;
    if (migrated)
      return `it already has a chat_message table at revision ${stamp ?? '(none)'} (an earlier migration that ran but was not stamped?); use a copy taken before any upgrade was attempted`;
    if (stamp !== REVISION_BEFORE) return `it is at revision ${stamp ?? '(none)'}, not ${REVISION_BEFORE} (the parent of ${REVISION_AFTER}); upgrade it to ${REVISION_BEFORE} first`;
    return null;
  });
  if (problem) {
    await dropCopy(server, database);
    throw new UsageError(`${what}: ${problem}`);
  }
}
