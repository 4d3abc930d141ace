/**
 * What the harness watches while an upgrade path runs, on connections of
 * its own:
 * - the sampler: every interval (and at once when a revision starts), the
 *   WAL position, full-page images and checkpoints, the relation locks the
 *   migration's backend holds (an index's lock counts for its table), and the
 *   migration process group's RSS. Catalog reads only: it never waits on the
 *   migration's locks.
 * - the probes: one client per hot table (`chat`, `chat_message`, `user`,
 *   `file`, each once it exists), writing a row of it the way Open WebUI does
 *   (an UPDATE by row, which takes the lock an INSERT takes and waits on a
 *   row the migration holds), with no lock timeout, as the application waits.
 */
import { closeQuietly, connect, ident, type Client } from '../postgres/sql.ts';
import type { StartedPostgres } from '../postgres/started-postgres.ts';
import { migrationBackendsWhere } from '../measure/harness-roles.ts';
import { lsnDiff, readCounters, type ServerCounters } from '../measure/server-sampler.ts';

export const HOT_TABLES = ['chat', 'chat_message', 'user', 'file'] as const;

export interface PathSample {
  tMs: number;
  /** WAL bytes since the sampler began (LSN difference). */
  walBytes: number;
  fpi: number;
  checkpoints: number;
  rssBytes: number;
  /** Relation locks the migration held, by table: the modes. */
  locks: Record<string, string[]>;
  /** Set on the sample taken as a revision started (its target id). */
  boundary?: string;
}

export interface ProbeWrite {
  table: string;
  startMs: number;
  latencyMs: number;
  /** Still waiting when the upgrade ended (its latency is how long it had waited). */
  unfinished: boolean;
  error?: string;
}

interface SamplerOptions {
  server: StartedPostgres;
  database: string;
  intervalMs: number;
  clock: () => number;
  rss: () => Promise<number>;
}

const LOCKS_SQL = `SELECT coalesce(t.relname, c.relname) AS rel, l.mode
  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
  JOIN pg_class c ON c.oid = l.relation
  LEFT JOIN pg_index i ON i.indexrelid = c.oid LEFT JOIN pg_class t ON t.oid = i.indrelid
  WHERE ${migrationBackendsWhere(true)} AND l.granted AND l.locktype = 'relation'
    AND c.relnamespace = 'public'::regnamespace`;

export class PathSampler {
  readonly samples: PathSample[] = [];
  private client: Client | undefined;
  /** Its own connection for the reads at revision boundaries, so they never wait behind a periodic sample. */
  private edgeClient: Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private edges: Promise<void> = Promise.resolve();
  private start: ServerCounters | undefined;

  constructor(private readonly o: SamplerOptions) {}

  async begin(): Promise<void> {
    this.client = await connect(this.o.server, this.o.database, 'upgrade-sampler');
    this.edgeClient = await connect(this.o.server, this.o.database, 'upgrade-sampler-edges');
    this.start = await readCounters(this.client);
    this.timer = setInterval(() => void this.tick(), this.o.intervalMs);
  }

  /** A periodic sample: counters, locks, RSS. Skipped while the previous one is still being read. */
  private async tick(): Promise<void> {
    if (this.ticking || !this.client || !this.start) return;
    this.ticking = true;
    try {
      const tMs = this.o.clock();
      const [counters, locks, rss] = await Promise.all([readCounters(this.client), this.client.query<{ rel: string; mode: string }>(LOCKS_SQL, [this.o.database]), this.o.rss()]);
      const byTable: Record<string, string[]> = {};
      for (const l of locks.rows) (byTable[l.rel] ??= []).includes(l.mode) || byTable[l.rel].push(l.mode);
      this.samples.push({ ...this.countersOf(counters), tMs, rssBytes: rss, locks: byTable });
    } catch {
      // A failed read loses one sample; the next tick tries again.
    } finally {
      this.ticking = false;
    }
  }

  /**
   * Read the counters now, as revision `boundary` starts (or `end`): the WAL
   * position a moment after Python logged the line, before a revision of any
   * length has written much. In order, on the edge connection.
   */
  mark(boundary: string): Promise<void> {
    const tMs = this.o.clock();
    this.edges = this.edges.then(async () => {
      if (!this.edgeClient || !this.start) return;
      try {
        const [counters, rss] = await Promise.all([readCounters(this.edgeClient), this.o.rss()]);
        this.samples.push({ ...this.countersOf(counters), tMs, rssBytes: rss, locks: {}, boundary });
      } catch {
        // The window falls back to the nearest periodic sample.
      }
    });
    return this.edges;
  }

  private countersOf(c: ServerCounters): Pick<PathSample, 'walBytes' | 'fpi' | 'checkpoints'> {
    const s = this.start!;
    const checkpoints = (x: ServerCounters) => x.checkpointsTimed + x.checkpointsRequested;
    return { walBytes: lsnDiff(c.lsn, s.lsn), fpi: c.walFpi - s.walFpi, checkpoints: checkpoints(c) - checkpoints(s) };
  }

  async end(): Promise<void> {
    clearInterval(this.timer);
    while (this.ticking) await new Promise((r) => setTimeout(r, 10));
    await this.mark('end');
    await Promise.all([closeQuietly(this.client), closeQuietly(this.edgeClient)]);
    this.client = this.edgeClient = undefined;
  }
}

/** One probe per hot table: writes until stopped. */
export class HotTableProbes {
  readonly writes: ProbeWrite[] = [];
  private stopped = false;
  private loops: Promise<void>[] = [];
  private clients: Client[] = [];
  private inFlight = new Map<string, number>();

  constructor(private readonly o: { server: StartedPostgres; database: string; intervalMs: number; clock: () => number; tables?: readonly string[] }) {}

  async begin(): Promise<void> {
    for (const table of this.o.tables ?? HOT_TABLES) {
      const c = await connect(this.o.server, this.o.database, `probe-${table}`);
      this.clients.push(c);
      this.loops.push(this.loop(c, table));
    }
  }

  private async loop(c: Client, table: string): Promise<void> {
    let sql: string | null = null;
    while (!this.stopped) {
      const started = this.o.clock();
      try {
        if (!sql) sql = await writeSql(c, table);
        if (sql) {
          this.inFlight.set(table, started);
          await c.query(sql);
          this.inFlight.delete(table);
          if (!this.stopped) this.writes.push({ table, startMs: started, latencyMs: this.o.clock() - started, unfinished: false });
        }
      } catch (err) {
        this.inFlight.delete(table);
        if (this.stopped) break;
        // A table renamed or dropped under the probe: find its columns again next time.
        this.writes.push({ table, startMs: started, latencyMs: this.o.clock() - started, unfinished: false, error: (err as Error).message });
        sql = null;
      }
      await new Promise((r) => setTimeout(r, this.o.intervalMs));
    }
  }

  /** The write that has waited longest so far, if one is in flight. */
  waiting(): { table: string; ms: number } | null {
    let out: { table: string; ms: number } | null = null;
    const now = this.o.clock();
    for (const [table, startMs] of this.inFlight) if (!out || now - startMs > out.ms) out = { table, ms: now - startMs };
    return out;
  }

  /** Stop: a write still waiting is recorded with how long it had waited, and its connection closed. */
  async end(): Promise<void> {
    this.stopped = true;
    const now = this.o.clock();
    for (const [table, startMs] of this.inFlight) this.writes.push({ table, startMs, latencyMs: now - startMs, unfinished: true });
    await Promise.race([Promise.all(this.loops), new Promise((r) => setTimeout(r, 2000))]);
    await Promise.all(this.clients.map(closeQuietly));
  }
}

/** The probe's write on `table`, or null while the table does not exist (or has no column to write). */
async function writeSql(c: Client, table: string): Promise<string | null> {
  const cols = (
    await c.query<{ column_name: string }>(
      "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
      [table],
    )
  ).rows.map((r) => r.column_name);
  if (!cols.length) return null;
  // The column Open WebUI touches on every write to these tables, else the first one.
  const col = ['updated_at', 'last_active_at'].find((x) => cols.includes(x)) ?? cols[0];
  const t = ident(table);
  return `UPDATE ${t} SET ${ident(col)} = ${ident(col)} WHERE ctid = (SELECT ctid FROM ${t} LIMIT 1)`;
}
