/**
 * The write probe: a second client that, during the whole migration, writes
 * to `chat` the way Open WebUI does (rename a chat and touch `updated_at`;
 * create a new chat), every `intervalMs`, each write with a lock timeout.
 * Its latency is what users of the application feel while the migration
 * runs. Its own WAL is measured per statement (EXPLAIN (ANALYZE, WAL)) so
 * it can be reported apart and subtracted from the migration's.
 */
import { randomUUID } from 'node:crypto';
import { PROBE_USER_ID } from '../openwebui/schema.ts';
import { closeQuietly, connect, type Client } from '../postgres/sql.ts';
import type { StartedPostgres } from '../postgres/started-postgres.ts';

interface ProbeWrite {
  /** Milliseconds since the strategy started. */
  startMs: number;
  latencyMs: number;
  kind: 'update' | 'insert';
  outcome: 'ok' | 'timeout' | 'error';
}

interface ProbeOptions {
  server: StartedPostgres;
  database: string;
  intervalMs: number;
  /** `lock_timeout` for each write, ms (0: wait as long as it takes, like the application). */
  lockTimeoutMs: number;
  clock: () => number;
}

interface WalCounts {
  bytes: number;
  records: number;
  fpi: number;
}

export class WriteProbe {
  readonly writes: ProbeWrite[] = [];
  readonly wal: WalCounts = { bytes: 0, records: 0, fpi: 0 };
  private client: Client | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private inFlightSince: number | null = null;
  private chatIds: string[] = [];
  private n = 0;

  constructor(private readonly opts: ProbeOptions) {}

  async begin(): Promise<void> {
    this.client = await connect(this.opts.server, this.opts.database, 'write-probe');
    // Chats the application might rename: a fixed sample, read once.
    this.chatIds = (await this.client.query<{ id: string }>("SELECT id FROM chat WHERE user_id NOT LIKE 'shared-%' ORDER BY id LIMIT 200")).rows.map((r) => r.id);
    this.loop = this.run();
  }

  /** Latency of the write in flight (ms so far), or of the last one. */
  currentLatencyMs(): number | null {
    if (this.inFlightSince !== null) return this.opts.clock() - this.inFlightSince;
    return this.writes.length ? this.writes[this.writes.length - 1].latencyMs : null;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const started = this.opts.clock();
      await this.writeOnce();
      const wait = this.opts.intervalMs - (this.opts.clock() - started);
      if (wait > 0 && !this.stopped) await new Promise((r) => setTimeout(r, wait));
    }
  }

  private async writeOnce(): Promise<void> {
    const kind: ProbeWrite['kind'] = this.n++ % 2 === 0 || this.chatIds.length === 0 ? 'insert' : 'update';
    const startMs = this.opts.clock();
    this.inFlightSince = startMs;
    let outcome: ProbeWrite['outcome'] = 'ok';
    try {
      if (!this.client) this.client = await connect(this.opts.server, this.opts.database, 'write-probe');
      const c = this.client;
      await c.query('BEGIN');
      await c.query(`SET LOCAL lock_timeout = ${Math.max(0, Math.round(this.opts.lockTimeoutMs))}`);
      const now = Math.floor(Date.now() / 1000);
      const plan =
        kind === 'update'
          ? await c.query('EXPLAIN (ANALYZE, WAL, FORMAT JSON) UPDATE chat SET title = $1, updated_at = $2 WHERE id = $3', [
              `renamed ${this.n}`,
              now,
              this.chatIds[this.n % this.chatIds.length],
            ])
          : await c.query(
              'EXPLAIN (ANALYZE, WAL, FORMAT JSON) INSERT INTO chat (id, user_id, title, chat, created_at, updated_at, meta) VALUES ($1, $2, $3, $4, $5, $5, $6)',
              [randomUUID(), PROBE_USER_ID, 'New Chat', JSON.stringify({ history: { messages: {} } }), now, '{}'],
            );
      await c.query('COMMIT');
      this.addWal(plan.rows[0]['QUERY PLAN']);
    } catch (err) {
      const code = (err as { code?: string }).code;
      outcome = code === '55P03' ? 'timeout' : 'error';
      if (this.client) {
        try {
          await this.client.query('ROLLBACK');
        } catch {
          await closeQuietly(this.client);
          this.client = undefined;
        }
      }
      // A crashed server: back off a little before reconnecting.
      if (outcome === 'error') await new Promise((r) => setTimeout(r, 100));
    }
    this.inFlightSince = null;
    if (!this.stopped || outcome === 'ok') this.writes.push({ startMs, latencyMs: this.opts.clock() - startMs, kind, outcome });
  }

  private addWal(planJson: unknown): void {
    const plan = (typeof planJson === 'string' ? JSON.parse(planJson) : planJson) as { Plan: Record<string, number> }[];
    const top = plan[0]?.Plan ?? {};
    this.wal.bytes += Number(top['WAL Bytes'] ?? 0);
    this.wal.records += Number(top['WAL Records'] ?? 0);
    this.wal.fpi += Number(top['WAL FPI'] ?? 0);
  }

  async end(): Promise<void> {
    this.stopped = true;
    // A write blocked behind the migration's lock finishes when the lock goes; do not wait for ever.
    await Promise.race([this.loop, new Promise((r) => setTimeout(r, 2000))]);
    if (this.client) {
      await this.client.query('SELECT 1').catch(() => undefined);
      await closeQuietly(this.client);
    }
  }
}

/** Probe latency figures, and the longest span in which writes could not get through. */
export function summarizeProbe(writes: ProbeWrite[], intervalMs: number) {
  const lat = writes.map((w) => w.latencyMs).sort((a, b) => a - b);
  const q = (p: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.ceil(p * lat.length) - 1)] : null);
  // A write slower than a few intervals was blocked; merge blocked writes that follow each other.
  const threshold = Math.max(100, 2 * intervalMs);
  let longest = 0;
  let spanStart: number | null = null;
  let spanEnd = 0;
  for (const w of [...writes].sort((a, b) => a.startMs - b.startMs)) {
    const blocked = w.latencyMs >= threshold || w.outcome !== 'ok';
    if (!blocked) continue;
    const end = w.startMs + w.latencyMs;
    if (spanStart !== null && w.startMs - spanEnd <= 2 * intervalMs + 50) spanEnd = Math.max(spanEnd, end);
    else {
      if (spanStart !== null) longest = Math.max(longest, spanEnd - spanStart);
      spanStart = w.startMs;
      spanEnd = end;
    }
  }
  if (spanStart !== null) longest = Math.max(longest, spanEnd - spanStart);
  return {
    probes: writes.length,
    timeouts: writes.filter((w) => w.outcome === 'timeout').length,
    p50Ms: q(0.5),
    p99Ms: q(0.99),
    maxMs: lat.length ? lat[lat.length - 1] : null,
    over1s: writes.filter((w) => w.latencyMs > 1000).length,
    longestBlockedMs: longest,
  };
}
