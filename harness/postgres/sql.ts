/**
 * The harness's only door to node-postgres for plain queries: clients whose
 * `json` columns come back as the text the server stores (upstream parses
 * that text with Python's json, and so do the ports), named in
 * `pg_stat_activity` by their role in the run.
 */
import pg from 'pg';
import type { StartedPostgres } from './started-postgres.ts';

const JSON_OID = 114;
const JSONB_OID = 3802;

const rawJsonTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === JSON_OID || oid === JSONB_OID) return (v: string) => v;
    return pg.types.getTypeParser(oid, format);
  },
};

/** A minimal query interface the domain code depends on (a pg Client satisfies it). */
export interface Sql {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

export type Client = pg.Client;

/** Connect to `database` on `server`; `role` shows as `application_name`. */
export async function connect(server: StartedPostgres, database: string, role: string, extra: Partial<pg.ClientConfig> = {}): Promise<pg.Client> {
  const client = new pg.Client({
    ...server.connection(database),
    application_name: `owui-harness:${role}`.slice(0, 63),
    types: rawJsonTypes,
    connectionTimeoutMillis: 15_000,
    ...extra,
  });
  // A terminated backend (a simulated platform deadline) emits 'error' on an idle client.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Quote an identifier for SQL. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quote a string literal for SQL (standard_conforming_strings on). */
export function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Close a client, ignoring a connection that is already gone. */
export async function closeQuietly(client: pg.Client | undefined): Promise<void> {
  if (!client) return;
  await client.end().catch(() => undefined);
}
