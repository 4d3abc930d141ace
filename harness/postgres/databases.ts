/**
 * Databases the harness creates, and only those: each carries a marker
 * comment, and nothing without the marker is ever dropped or written.
 */
import { UsageError } from '../errors.ts';
import { ident, literal, type Sql } from './sql.ts';

const OWNED_MARKER = 'created by owui-migration-harness';

export async function databaseExists(admin: Sql, name: string): Promise<boolean> {
  const r = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  return (r.rowCount ?? 0) > 0;
}

export async function isOwnedDatabase(admin: Sql, name: string): Promise<boolean> {
  const r = await admin.query<{ c: string | null }>(
    "SELECT shobj_description(oid, 'pg_database') AS c FROM pg_database WHERE datname = $1",
    [name],
  );
  return (r.rows[0]?.c ?? '').startsWith(OWNED_MARKER);
}

/** Create a database of the harness's own, empty or as a file copy of `template`. */
export async function createOwnedDatabase(admin: Sql, name: string, opts: { template?: string; note?: string } = {}): Promise<void> {
  if (await databaseExists(admin, name)) {
    if (!(await isOwnedDatabase(admin, name)))
      throw new UsageError(`database ${name} already exists and was not created by the harness; it will not be touched (choose another --scenario or seed)`);
    await dropOwnedDatabase(admin, name);
  }
  const template = opts.template ? ` TEMPLATE ${ident(opts.template)} STRATEGY FILE_COPY` : '';
  await admin.query(`CREATE DATABASE ${ident(name)}${template}`);
  await admin.query(`COMMENT ON DATABASE ${ident(name)} IS ${literal(`${OWNED_MARKER}${opts.note ? `: ${opts.note}` : ''}`)}`);
}

/** Drop a database the harness created; refuse anything else. */
export async function dropOwnedDatabase(admin: Sql, name: string): Promise<void> {
  if (!(await databaseExists(admin, name))) return;
  if (!(await isOwnedDatabase(admin, name))) throw new Error(`refusing to drop ${name}: it was not created by the harness`);
  await admin.query(`DROP DATABASE ${ident(name)} WITH (FORCE)`);
}

/** Sessions connected to a database other than the caller's. */
export async function otherSessions(admin: Sql, name: string): Promise<{ pid: number; application_name: string; usename: string }[]> {
  const r = await admin.query<{ pid: number; application_name: string; usename: string }>(
    'SELECT pid, application_name, usename FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
    [name],
  );
  return r.rows;
}
