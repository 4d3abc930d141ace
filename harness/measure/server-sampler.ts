/**
 * Samples the server every `intervalMs` on a connection of its own: the WAL
 * insert position, pg_stat_wal, checkpoints, the size of pg_wal, the age of
 * the migration's oldest open transaction and the locks it holds on `chat`,
 * and autovacuum's passes over `chat_message` (pg_stat_progress_vacuum);
 * with `readProcesses`, the migration backends' page faults and CPU time
 * (/proc, see backend-processes.ts). Read-only queries that write no WAL,
 * so the sampler does not disturb what it measures. It survives a crashed
 * server: it reconnects and carries on.
 */
import { closeQuietly, connect, type Client } from '../postgres/sql.ts';
import type { StartedPostgres } from '../postgres/started-postgres.ts';
import { BackendProcesses, readProcCounters, type BackendProcessFigures } from './backend-processes.ts';
import { migrationBackendsWhere } from './harness-roles.ts';

export interface ServerCounters {
  lsn: string;
  walRecords: number;
  walFpi: number;
  walBytes: number;
  checkpointsTimed: number;
  checkpointsRequested: number;
}

export interface ServerSample extends ServerCounters {
  tMs: number;
  /** WAL bytes since the first sample (LSN difference; carried across restarts). */
  walSinceStart: number;
  walDirBytes: number | null;
  /** Age of the migration backends' oldest open transaction (0 when they are connected but none is open; null: no migration backend). */
  txAgeMs: number | null;
  /** Whether one of the migration backends had a transaction open. */
  inTransaction: boolean;
  locksOnChat: string[];
  autovacuumWorkers: number;
  /** Backends on the database under test that are neither the harness nor the migration. */
  otherBackends: number;
}

/**
 * One autovacuum pass over `chat_message` or its TOAST table, as the samples
 * saw it: from the first sample that showed it in pg_stat_progress_vacuum to
 * the last (a pass shorter than the sampling interval may go unseen).
 */
export interface AutovacuumPass {
  relation: 'chat_message' | 'chat_message TOAST';
  /** First and last sample that showed it (the clock's milliseconds); lastSeenMs is the end within one interval. */
  startMs: number;
  lastSeenMs: number;
  /** Still running at the last sample. */
  running: boolean;
  /** Pages of the relation the pass had to scan (heap_blks_total, the most the samples saw). */
  pages: number;
}

interface SamplerOptions {
  server: StartedPostgres;
  database: string;
  intervalMs: number;
  external: boolean;
  /** Milliseconds since the strategy started. */
  clock: () => number;
  /** Read the migration backends' page faults and CPU from /proc (the server's processes are this machine's: the embedded provider). */
  readProcesses?: boolean;
}

const COUNTERS_SQL = `SELECT pg_current_wal_insert_lsn()::text AS lsn,
  w.wal_records::bigint AS wal_records, w.wal_fpi::bigint AS wal_fpi, w.wal_bytes::bigint AS wal_bytes,
  b.checkpoints_timed::bigint AS ct, b.checkpoints_req::bigint AS cr
FROM pg_stat_wal w, pg_stat_bgwriter b`;

export async function readCounters(c: Client): Promise<ServerCounters> {
  const r = (await c.query(COUNTERS_SQL)).rows[0];
  return {
    lsn: r.lsn,
    walRecords: Number(r.wal_records),
    walFpi: Number(r.wal_fpi),
    walBytes: Number(r.wal_bytes),
    checkpointsTimed: Number(r.ct),
    checkpointsRequested: Number(r.cr),
  };
}

/**
 * The redo pointer of the last checkpoint completed (pg_control). Each
 * checkpoint moves it once when it completes, where pg_stat_bgwriter's
 * counters also count requests that began no checkpoint of their own
 * (measured: 6 counted over a 256 MB load whose WAL holds 5 redo pointers;
 * 115 over a 4 GB load of 81 checkpoint cycles), so this is the count that
 * says how much WAL lies between checkpoints. A checkpoint still running when
 * sampling ends is not counted. Where pg_control_checkpoint() may not be read
 * (it needs superuser or pg_monitor's privileges) the count is null.
 */
const REDO_SQL = `SELECT redo_lsn::text AS redo FROM pg_control_checkpoint()`;

/** Blocks the database under test found in shared_buffers and read in (pg_stat_database). */
const BLOCKS_SQL = `SELECT blks_hit::bigint AS hit, blks_read::bigint AS read FROM pg_stat_database WHERE datname = current_database()`;

/**
 * chat_message after the load: heap + TOAST, indexes, and its own block
 * counts (heap, indexes, TOAST and TOAST index); the table is new, so its
 * counts are the load's alone.
 */
const CHAT_MESSAGE_SQL = `SELECT pg_table_size(c.oid)::bigint AS table_bytes, pg_indexes_size(c.oid)::bigint AS index_bytes,
  (coalesce(s.heap_blks_hit, 0) + coalesce(s.idx_blks_hit, 0) + coalesce(s.toast_blks_hit, 0) + coalesce(s.tidx_blks_hit, 0))::bigint AS hit,
  (coalesce(s.heap_blks_read, 0) + coalesce(s.idx_blks_read, 0) + coalesce(s.toast_blks_read, 0) + coalesce(s.tidx_blks_read, 0))::bigint AS read
FROM pg_class c LEFT JOIN pg_statio_all_tables s ON s.relid = c.oid WHERE c.oid = to_regclass('public.chat_message')`;

/** What the load did to shared_buffers, and chat_message's size after it. */
export interface LoadCounters {
  blocksHit: number;
  blocksRead: number;
  chatMessage: { tableBytes: number; indexBytes: number; blocksHit: number; blocksRead: number } | null;
}

async function readBlocks(c: Client): Promise<{ hit: number; read: number }> {
  const r = (await c.query(BLOCKS_SQL)).rows[0];
  return { hit: Number(r?.hit ?? 0), read: Number(r?.read ?? 0) };
}

/** Bytes between two LSNs (`X/Y` text). */
export function lsnDiff(a: string, b: string): number {
  const v = (l: string) => {
    const [hi, lo] = l.split('/');
    return BigInt('0x' + hi) * 0x100000000n + BigInt('0x' + lo);
  };
  return Number(v(a) - v(b));
}

export class ServerSampler {
  readonly samples: ServerSample[] = [];
  private client: Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;
  private walDirReadable = true;
  private start: ServerCounters | undefined;
  /** WAL written before the last server restart (the LSN continues, but stats reset after a crash). */
  private counterBase = { walRecords: 0, walFpi: 0, walBytes: 0, ct: 0, cr: 0 };
  private last: ServerCounters | undefined;
  private blocksAtStart: { hit: number; read: number } | undefined;
  private redoReadable = true;
  private redo: string | undefined;
  private redoMoves = 0;
  /** The redo pointer of the first checkpoint completed since begin(): with the last, it spans redoMoves - 1 intervals. */
  private firstRedo: string | undefined;
  /** Autovacuum passes over chat_message and its TOAST table, in the order seen, and those still running by worker and relation. */
  private readonly passes: AutovacuumPass[] = [];
  private readonly openPasses = new Map<string, AutovacuumPass>();
  private readonly backends = new BackendProcesses();
  readonly warnings = new Set<string>();

  constructor(private readonly opts: SamplerOptions) {}

  async begin(): Promise<ServerCounters> {
    this.client = await connect(this.opts.server, this.opts.database, 'sampler');
    this.start = await readCounters(this.client);
    this.blocksAtStart = await readBlocks(this.client);
    await this.readRedo(this.client);
    this.last = this.start;
    this.timer = setInterval(() => void this.tick(), this.opts.intervalMs);
    await this.tick();
    return this.start;
  }

  private async tick(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      if (!this.client) this.client = await connect(this.opts.server, this.opts.database, 'sampler');
      const c = this.client;
      const counters = await readCounters(c);
      // Cumulative statistics restart from zero after a crash: keep what came before.
      if (this.last && counters.walBytes < this.last.walBytes) {
        this.counterBase = {
          walRecords: this.counterBase.walRecords + this.last.walRecords,
          walFpi: this.counterBase.walFpi + this.last.walFpi,
          walBytes: this.counterBase.walBytes + this.last.walBytes,
          ct: this.counterBase.ct + this.last.checkpointsTimed,
          cr: this.counterBase.cr + this.last.checkpointsRequested,
        };
      }
      this.last = counters;
      await this.readRedo(c);
      let walDirBytes: number | null = null;
      if (this.walDirReadable) {
        try {
          walDirBytes = Number((await c.query('SELECT coalesce(sum(size), 0)::bigint AS s FROM pg_ls_waldir()')).rows[0].s);
        } catch {
          this.walDirReadable = false;
          this.warnings.add('pg_wal size not measured: pg_ls_waldir() needs superuser or pg_monitor');
        }
      }
      const act = (
        await c.query(
          `SELECT
             (SELECT greatest(0, extract(epoch FROM (clock_timestamp() - min(a.xact_start))) * 1000)::float8 FROM pg_stat_activity a WHERE ${migrationBackendsWhere(this.opts.external)}) AS tx_age,
             (SELECT coalesce(bool_or(a.xact_start IS NOT NULL), false) FROM pg_stat_activity a WHERE ${migrationBackendsWhere(this.opts.external)}) AS in_tx,
             (SELECT coalesce(array_agg(DISTINCT l.mode), '{}') FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE ${migrationBackendsWhere(this.opts.external)} AND l.granted AND l.locktype = 'relation' AND l.relation = to_regclass('public.chat')) AS locks,
             (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker')::int AS av,
             (SELECT coalesce(json_agg(json_build_object('pid', p.pid, 'toast', p.relid <> to_regclass('public.chat_message'), 'pages', p.heap_blks_total)), '[]')
                FROM pg_stat_progress_vacuum p JOIN pg_stat_activity a ON a.pid = p.pid
                WHERE a.backend_type = 'autovacuum worker' AND p.datname = current_database()
                  AND p.relid IN (SELECT oid FROM pg_class WHERE oid = to_regclass('public.chat_message') UNION ALL
                                  SELECT reltoastrelid FROM pg_class WHERE oid = to_regclass('public.chat_message'))) AS vac,
             (SELECT count(*) FROM pg_stat_activity a WHERE a.datname = $1 AND a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()
                AND coalesce(a.application_name, '') NOT LIKE 'owui-harness:%' AND NOT (${this.opts.external ? 'true' : 'false'}))::int AS others,
             (SELECT coalesce(string_agg(a.pid::text, ','), '') FROM pg_stat_activity a WHERE ${migrationBackendsWhere(this.opts.external)}) AS pids`,
          [this.opts.database],
        )
      ).rows[0];
      const tMs = this.opts.clock();
      this.notePasses(tMs, act.vac);
      if (this.opts.readProcesses) await this.readBackends(String(act.pids ?? ''));
      this.samples.push({
        ...this.cumulative(counters),
        tMs,
        walSinceStart: lsnDiff(counters.lsn, this.start!.lsn),
        walDirBytes,
        txAgeMs: act.tx_age === null ? null : Number(act.tx_age),
        inTransaction: act.in_tx === true,
        locksOnChat: parsePgArray(act.locks),
        autovacuumWorkers: act.av,
        otherBackends: act.others,
      });
    } catch {
      // The server may be down (a crash fault) or the connection ended: reconnect next tick.
      await closeQuietly(this.client);
      this.client = undefined;
    } finally {
      this.running = false;
    }
  }

  /** Opens a pass for each worker and relation not running at the last sample; ends those no longer shown. */
  private notePasses(tMs: number, vac: unknown): void {
    const shown = new Set<string>();
    // json comes back as text on the harness's connections.
    const rows: unknown = typeof vac === 'string' ? JSON.parse(vac) : vac;
    for (const v of Array.isArray(rows) ? (rows as { pid: number; toast: boolean; pages: number | string }[]) : []) {
      const key = `${v.pid}:${v.toast}`;
      shown.add(key);
      const open = this.openPasses.get(key);
      if (open) {
        open.lastSeenMs = tMs;
        // heap_blks_total is 0 until the pass has begun scanning.
        open.pages = Math.max(open.pages, Number(v.pages));
      } else {
        const pass: AutovacuumPass = { relation: v.toast ? 'chat_message TOAST' : 'chat_message', startMs: tMs, lastSeenMs: tMs, running: true, pages: Number(v.pages) };
        this.openPasses.set(key, pass);
        this.passes.push(pass);
      }
    }
    for (const [key, p] of this.openPasses)
      if (!shown.has(key)) {
        p.running = false;
        this.openPasses.delete(key);
      }
  }

  private async readBackends(pids: string): Promise<void> {
    for (const pid of pids.split(',').filter(Boolean).map(Number)) {
      const c = await readProcCounters(pid);
      if (c) this.backends.note(pid, c);
    }
  }

  /** The migration backends' page faults and CPU over the run; null unless readProcesses and a backend was read. */
  backendProcesses(): BackendProcessFigures | null {
    return this.opts.readProcesses ? this.backends.totals() : null;
  }

  /** Autovacuum's passes over chat_message and its TOAST table while sampling, in the order they began. */
  autovacuumPasses(): AutovacuumPass[] {
    return this.passes.map((p) => ({ ...p }));
  }

  /** Notes whether the last completed checkpoint's redo pointer moved since the previous reading. */
  private async readRedo(c: Client): Promise<void> {
    if (!this.redoReadable) return;
    try {
      const redo: string = (await c.query(REDO_SQL)).rows[0].redo;
      if (this.redo !== undefined && redo !== this.redo && ++this.redoMoves === 1) this.firstRedo = redo;
      this.redo = redo;
    } catch {
      // Privileges (or a server that hides pg_control): the count falls back to
      // pg_stat_bgwriter's. Never rethrown, so the rest of the sampling goes on;
      // a lost connection shows in the caller's next query.
      this.redoReadable = false;
    }
  }

  /** Checkpoints completed since begin(), counted by their redo pointers; null where pg_control_checkpoint() may not be read. */
  checkpointsCompleted(): number | null {
    return this.redoReadable && this.redo !== undefined ? this.redoMoves : null;
  }

  /**
   * The WAL between the redo pointers of the first and the last checkpoint
   * completed since begin(), and the intervals it holds (completed - 1): the
   * mean spacing of this run's checkpoints, measured where each began, so
   * that several runs' spacings pool by interval. Null with fewer than two,
   * or where pg_control_checkpoint() may not be read. Two checkpoints
   * completing between samples would count as one (samples come every
   * --sample-interval; checkpoints, seconds apart).
   */
  checkpointIntervals(): { intervals: number; walBytes: number } | null {
    if (!this.redoReadable || this.redo === undefined || this.firstRedo === undefined || this.redoMoves < 2) return null;
    return { intervals: this.redoMoves - 1, walBytes: lsnDiff(this.redo, this.firstRedo) };
  }

  private cumulative(c: ServerCounters): ServerCounters {
    return {
      lsn: c.lsn,
      walRecords: this.counterBase.walRecords + c.walRecords,
      walFpi: this.counterBase.walFpi + c.walFpi,
      walBytes: this.counterBase.walBytes + c.walBytes,
      checkpointsTimed: this.counterBase.ct + c.checkpointsTimed,
      checkpointsRequested: this.counterBase.cr + c.checkpointsRequested,
    };
  }

  /** Latest pg_wal size seen. */
  lastWalDirBytes(): number | null {
    for (let i = this.samples.length - 1; i >= 0; i--) if (this.samples[i].walDirBytes !== null) return this.samples[i].walDirBytes;
    return null;
  }

  /** Stop sampling after one final sample; returns start and end counters. */
  async end(): Promise<{ start: ServerCounters; end: ServerCounters; load: LoadCounters | null }> {
    clearInterval(this.timer);
    while (this.running) await new Promise((r) => setTimeout(r, 10));
    await this.tick();
    this.stopped = true;
    let end: ServerCounters;
    try {
      if (!this.client) this.client = await connect(this.opts.server, this.opts.database, 'sampler');
      end = this.cumulative(await readCounters(this.client));
      await this.readRedo(this.client);
    } catch {
      end = this.cumulative(this.last!);
    }
    const load = await this.readLoad().catch(() => null);
    await closeQuietly(this.client);
    return { start: this.start!, end, load };
  }

  /** Block counts since begin() (null after a restart reset them) and chat_message as the load left it. */
  private async readLoad(): Promise<LoadCounters | null> {
    if (!this.client || !this.blocksAtStart) return null;
    // Statistics of the load's backends reach shared memory when they end or go idle; ask for a fresh snapshot.
    await this.client.query('SELECT pg_stat_clear_snapshot()');
    const now = await readBlocks(this.client);
    if (now.hit < this.blocksAtStart.hit || now.read < this.blocksAtStart.read) return null;
    const cm = (await this.client.query(CHAT_MESSAGE_SQL)).rows[0];
    return {
      blocksHit: now.hit - this.blocksAtStart.hit,
      blocksRead: now.read - this.blocksAtStart.read,
      chatMessage: cm ? { tableBytes: Number(cm.table_bytes), indexBytes: Number(cm.index_bytes), blocksHit: Number(cm.hit), blocksRead: Number(cm.read) } : null,
    };
  }
}

function parsePgArray(v: unknown): string[] {
  if (Array.isArray(v)) return v as string[];
  if (typeof v !== 'string') return [];
  const inner = v.replace(/^\{|\}$/g, '');
  return inner ? inner.split(',').map((s) => s.replace(/^"|"$/g, '')) : [];
}
