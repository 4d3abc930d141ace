/**
 * Forces a checkpoint every `everyBytes` of WAL. A sweep that runs a small
 * size in a large target's regime needs checkpoints as often per GB of data
 * as the target has them; PostgreSQL will not take a max_wal_size below two
 * WAL segments, so below that the harness issues CHECKPOINT itself. What
 * decides the full-page images is the spacing of the redo pointers, which
 * this reproduces; unlike the server's own checkpoints these are immediate
 * rather than spread, which the report says.
 *
 * It works from the maintenance database, so the sampler never counts it as
 * a session on the database under test, and it stops when told or when the
 * server goes away (a crash fault): then it reconnects on the next tick.
 */
import { closeQuietly, connect, type Client } from '../postgres/sql.ts';
import type { StartedPostgres } from '../postgres/started-postgres.ts';
import { lsnDiff } from './server-sampler.ts';

/** How often the WAL position is polled: well below the spacing the smallest sweep sizes ask for at their WAL rates. */
const POLL_MS = 10;

export class CheckpointPacer {
  private client: Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private stopped = false;
  private lastLsn: string | undefined;
  /** Checkpoints issued so far. */
  forced = 0;

  constructor(
    private readonly server: StartedPostgres,
    private readonly everyBytes: number,
  ) {}

  async begin(): Promise<void> {
    this.client = await connect(this.server, this.server.maintenanceDatabase, 'checkpoint-pacer');
    this.lastLsn = (await this.client.query('SELECT pg_current_wal_insert_lsn()::text AS l')).rows[0].l;
    this.timer = setInterval(() => void this.tick(), POLL_MS);
  }

  private async tick(): Promise<void> {
    if (this.busy || this.stopped) return;
    this.busy = true;
    try {
      if (!this.client) this.client = await connect(this.server, this.server.maintenanceDatabase, 'checkpoint-pacer');
      const lsn: string = (await this.client.query('SELECT pg_current_wal_insert_lsn()::text AS l')).rows[0].l;
      if (this.lastLsn === undefined || lsnDiff(lsn, this.lastLsn) < 0) this.lastLsn = lsn;
      if (lsnDiff(lsn, this.lastLsn) >= this.everyBytes) {
        // The checkpoint's redo pointer is (about) here: count the next spacing from it.
        this.lastLsn = lsn;
        await this.client.query('CHECKPOINT');
        this.forced++;
      }
    } catch {
      await closeQuietly(this.client);
      this.client = undefined;
    } finally {
      this.busy = false;
    }
  }

  async end(): Promise<number> {
    clearInterval(this.timer);
    this.stopped = true;
    while (this.busy) await new Promise((r) => setTimeout(r, 5));
    await closeQuietly(this.client);
    return this.forced;
  }
}
