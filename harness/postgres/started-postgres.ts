/**
 * What every provider hands the rest of the harness: where to connect, what
 * the server reports, and (where the harness owns the server) stop, crash
 * and restart.
 */
import type { ClientConfig } from 'pg';

export type ProviderName = 'testcontainers' | 'embedded' | 'url';

/** PostgreSQL settings by name (`max_wal_size` → `64MB`), as asked or as `SHOW` reports them. */
export type ServerSettings = Record<string, string>;

export interface StartedPostgres {
  readonly provider: ProviderName;
  /** `server_version` as the server reports it. */
  readonly version: string;
  /** True when the harness started this server and may crash and restart it. */
  readonly owned: boolean;
  /** The database admin connections use (`postgres`, or the URL's own database). */
  readonly maintenanceDatabase: string;
  /** Connection settings for `pg` (holds the password: never print it). */
  connection(database: string): ClientConfig;
  /** A `postgres://` URL for child processes (holds the password: never print it). */
  url(database: string): string;
  /** The same URL with the password replaced by `***`. */
  redactedUrl(database: string): string;
  /** A one-line description for logs and reports (no secrets). */
  describe(): string;
  /** SIGKILL the server (all its processes), as a crashed machine would. */
  crash?(): Promise<void>;
  /** Start it again on the same data, optionally with other settings; crash recovery runs if needed. */
  restart?(settings?: ServerSettings): Promise<void>;
  /** Directory the server writes its log to, where the harness can read it. */
  readonly logFile?: string;
  stop(): Promise<void>;
}

/** Build a `postgres://` URL, percent-encoding credentials. */
export function postgresUrl(c: { host: string; port: number; user: string; password?: string; database: string }, redact = false): string {
  const auth = c.password === undefined ? encodeURIComponent(c.user) : `${encodeURIComponent(c.user)}:${redact ? '***' : encodeURIComponent(c.password)}`;
  return `postgres://${auth}@${c.host}:${c.port}/${encodeURIComponent(c.database)}`;
}
