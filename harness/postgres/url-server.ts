/**
 * An existing server by URL (`--database-url`): a staging copy, a managed
 * service. The harness does not own it: no crash or restart, no settings
 * changed; it works only in databases it creates there (see databases.ts)
 * and never prints the password.
 */
import pg from 'pg';
import { EnvironmentError, errorMessage, UsageError } from '../errors.ts';
import { postgresUrl, type StartedPostgres } from './started-postgres.ts';

export interface ParsedUrl {
  host: string;
  port: number;
  user: string;
  password?: string;
  database: string;
  ssl: boolean | undefined;
}

/** Parse a `postgres://` URL; bad input is a UsageError that never echoes the password. */
export function parseDatabaseUrl(text: string): ParsedUrl {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new UsageError("--database-url: not a URL; use postgres://user:password@host:5432/database");
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:')
    throw new UsageError(`--database-url: scheme '${u.protocol.replace(/:$/, '')}' is not allowed; use postgres:// or postgresql://`);
  if (!u.hostname) throw new UsageError('--database-url: no host; use postgres://user:password@host:5432/database');
  const port = u.port ? Number(u.port) : 5432;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--database-url: port '${u.port}' is not between 1 and 65535`);
  const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres';
  const sslmode = u.searchParams.get('sslmode');
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port,
    user: decodeURIComponent(u.username) || 'postgres',
    password: u.password ? decodeURIComponent(u.password) : undefined,
    database,
    ssl: sslmode === null ? undefined : sslmode !== 'disable',
  };
}

export class UrlPostgresServer {
  constructor(private readonly url: string) {}

  async start(): Promise<StartedUrlPostgres> {
    const parsed = parseDatabaseUrl(this.url);
    const s = new StartedUrlPostgres(parsed);
    const c = new pg.Client({ ...s.connection(parsed.database), connectionTimeoutMillis: 10_000 });
    try {
      await c.connect();
      s.version = (await c.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version;
    } catch (err) {
      const e = err as { code?: string };
      const why =
        e.code === '28P01' || e.code === '28000'
          ? 'authentication failed (check the user and password)'
          : e.code === '3D000'
            ? `database ${parsed.database} does not exist`
            : e.code === 'ECONNREFUSED'
              ? 'connection refused (is the server running and listening there?)'
              : e.code === 'ENOTFOUND'
                ? 'host not found'
                : errorMessage(err);
      throw new EnvironmentError(`--database-url: could not connect to ${s.redactedUrl(parsed.database)}: ${why}`);
    } finally {
      await c.end().catch(() => undefined);
    }
    const major = Number(s.version.split(/[.\s]/)[0]);
    if (major < 14 || major > 16)
      throw new EnvironmentError(`--database-url: server is PostgreSQL ${s.version}; the harness measures PostgreSQL 14 to 16 (pg_stat_wal and pg_stat_bgwriter), 15 being the reference`);
    return s;
  }
}

export class StartedUrlPostgres implements StartedPostgres {
  readonly provider = 'url' as const;
  readonly owned = false;
  version = '';

  constructor(private readonly parsed: ParsedUrl) {}

  get maintenanceDatabase(): string {
    return this.parsed.database;
  }

  connection(database: string): pg.ClientConfig {
    const { host, port, user, password, ssl } = this.parsed;
    return { host, port, user, password, database, ssl: ssl ? { rejectUnauthorized: false } : undefined };
  }

  url(database: string): string {
    const base = postgresUrl({ ...this.parsed, database });
    return this.parsed.ssl ? `${base}?sslmode=require` : base;
  }

  redactedUrl(database: string): string {
    return postgresUrl({ ...this.parsed, database }, true);
  }

  describe(): string {
    return `PostgreSQL ${this.version} at ${this.parsed.host}:${this.parsed.port} (user ${this.parsed.user})`;
  }

  async stop(): Promise<void> {
    /* not ours to stop */
  }
}
