/**
 * The pages a strategy changed, read back from its own WAL with
 * pg_walinspect (shipped with PostgreSQL 15): for every change to a page of
 * the strategy's database, how much WAL had passed since the same page was
 * last changed. That gap is what decides full-page images: after each
 * checkpoint the first change to a page writes the whole page, so a change
 * writes an image exactly when a checkpoint fell inside its gap. With
 * checkpoints every L bytes of WAL, a change after a gap g writes an image
 * with probability min(1, g / L) (harness/sweep/cycle-images.ts), whatever
 * the phase of the checkpoints: a run's gaps give its images at any
 * checkpoint spacing, and, scaled, a larger run's (README, Regimes).
 *
 * WAL is measured without its images ("body" bytes: record lengths less
 * image lengths), so that the gaps do not depend on where this run's own
 * checkpoints fell.
 */
import { to as copyTo } from 'pg-copy-streams';
import { withClient } from '../postgres/with-client.ts';
import type { Client } from '../postgres/sql.ts';
import type { StartedPostgres } from '../postgres/started-postgres.ts';

/** What a run's WAL says about the pages it changed (in memory only: the sweep keeps a summary in result.json). */
export interface PageTrace {
  /** WAL record bytes without images over the strategy's run. */
  bodyBytes: number;
  /** Image bytes in that WAL and their count (every database's), and the images of this database's pages. */
  imageBytes: number;
  images: number;
  imagesRead: number;
  /** Changes read: every block reference to a page of the strategy's database (main fork). */
  changes: number;
  /**
   * One entry per change to a page changed before in the run: the WAL
   * body bytes since that previous change, and whether the page belongs to
   * an index (a B-tree places entries by key, so how long until a page is
   * changed again grows with the index; a table's inserts go where there is
   * room, near its end, so its gaps do not grow).
   */
  gaps: Float64Array;
  index: Uint8Array;
  /**
   * The run's checkpoints as its WAL records them (CHECKPOINT_ONLINE, written as each ends), and
   * the mean WAL between two of them: a count of checkpoints completed misses the one still
   * running at the end, so a run of 7 spaced them 15-20 % too far apart; the records do not.
   * Null with fewer than two.
   */
  checkpointRecords: number;
  walPerCheckpointBytes: number | null;
  /** First changes to pages that existed before the run (each writes an image after the run's first checkpoint). */
  oldFirstChanges: number;
  /** Images of pages written whole when they are made (CREATE INDEX, a database copy): as many at any checkpoint spacing. */
  newPageImages: number;
}

/** The strategy database's relations (by file node: mapped catalogs too) and their size in blocks before the run: a first change to a block beyond its relation's size is a new page. */
export type BlocksBefore = Map<number, number>;

export async function blocksBefore(client: Client): Promise<BlocksBefore> {
  const rows = (await client.query<{ f: string; n: string }>(`SELECT pg_relation_filenode(oid)::text AS f, (pg_relation_size(oid) / current_setting('block_size')::int)::text AS n FROM pg_class WHERE pg_relation_filenode(oid) IS NOT NULL`)).rows;
  return new Map(rows.map((r) => [Number(r.f), Number(r.n)]));
}

/** Indexes of the strategy's database (TOAST's own excluded: a TOAST table is filled in order, like a table). */
async function indexFilenodes(client: Client): Promise<Set<number>> {
  const rows = (await client.query<{ f: string }>(`SELECT pg_relation_filenode(oid)::text AS f FROM pg_class WHERE relkind = 'i' AND pg_relation_filenode(oid) IS NOT NULL AND relnamespace <> 'pg_toast'::regnamespace`)).rows;
  return new Set(rows.map((r) => Number(r.f)));
}

const PAGE_KEY = 2 ** 32;

/** One change to a page, in WAL order. */
export interface PageChange {
  /** WAL body bytes before its record. */
  pos: number;
  rel: number;
  blk: number;
  index: boolean;
  /** The record carries an image of the page. */
  image: boolean;
  /** The record is the page written whole as it is made (XLOG FPI: CREATE INDEX, a database copy). */
  newPageImage: boolean;
  /** The page existed before the run (its relation was at least this long then). */
  existed: boolean;
}

/** Turns changes, in WAL order, into a trace's gaps and counts. */
export class GapRecorder {
  private readonly last = new Map<number, number>();
  private readonly gaps: number[] = [];
  private readonly index: number[] = [];
  private changes = 0;
  private imagesRead = 0;
  private oldFirstChanges = 0;
  private newPageImages = 0;

  change(c: PageChange): void {
    this.changes++;
    if (c.image) this.imagesRead++;
    const key = c.rel * PAGE_KEY + c.blk;
    const prev = this.last.get(key);
    this.last.set(key, c.pos);
    if (c.newPageImage) this.newPageImages++;
    else if (prev !== undefined) {
      this.gaps.push(c.pos - prev);
      this.index.push(c.index ? 1 : 0);
    } else if (c.existed) this.oldFirstChanges++;
  }

  result(): Pick<PageTrace, 'changes' | 'imagesRead' | 'gaps' | 'index' | 'oldFirstChanges' | 'newPageImages'> {
    return {
      changes: this.changes,
      imagesRead: this.imagesRead,
      gaps: Float64Array.from(this.gaps),
      index: Uint8Array.from(this.index),
      oldFirstChanges: this.oldFirstChanges,
      newPageImages: this.newPageImages,
    };
  }
}

/**
 * Reads the WAL from `fromLsn` to `toLsn` (the strategy's run) and returns
 * its trace. Needs pg_walinspect (created in the maintenance database if
 * missing; superuser) and the WAL still in pg_wal (wal_keep_size): either
 * missing throws, with PostgreSQL's message.
 */
export async function readPageTrace(server: StartedPostgres, database: string, fromLsn: string, toLsn: string, before: BlocksBefore): Promise<PageTrace> {
  const { dbOid, indexes } = await withClient(server, database, 'verify', async (c) => ({
    dbOid: Number((await c.query<{ oid: string }>('SELECT oid::text FROM pg_database WHERE datname = current_database()')).rows[0].oid),
    indexes: await indexFilenodes(c),
  }));
  return withClient(server, server.maintenanceDatabase, 'admin', async (admin) => {
    await admin.query('CREATE EXTENSION IF NOT EXISTS pg_walinspect');
    const totals = (
      await admin.query<{ body: string | null; image_bytes: string | null; images: string | null; checkpoints: string[] | null }>(
        `SELECT sum(record_length - fpi_length)::text AS body, sum(fpi_length)::text AS image_bytes,
           sum((length(block_ref) - length(replace(block_ref, 'FPW', ''))) / 3)::text AS images,
           array_agg((start_lsn - $1::pg_lsn)::text ORDER BY start_lsn) FILTER (WHERE resource_manager = 'XLOG' AND record_type = 'CHECKPOINT_ONLINE') AS checkpoints
         FROM pg_get_wal_records_info($1::pg_lsn, $2::pg_lsn)`,
        [fromLsn, toLsn],
      )
    ).rows[0];
    // One row per block reference to a main-fork page of this database, with the body bytes before its record.
    // Not a heap page marked all-visible (vacuum's VISIBLE record): without data checksums it carries no image
    // and leaves the page's LSN as it was, so it is no change in this sense (measured: 402,182 such references
    // from autovacuum in a 4 GB chunked run, every TOAST page again, 34 of them with an image: those are kept).
    const sql = `COPY (
      SELECT w.pos, m[1], m[2], m[3] IS NOT NULL, w.newpage
      FROM (SELECT sum(record_length - fpi_length) OVER (ORDER BY start_lsn) - (record_length - fpi_length) AS pos,
                   resource_manager = 'XLOG' AND record_type = 'FPI' AS newpage, resource_manager = 'Heap2' AND record_type = 'VISIBLE' AS visible, block_ref
            FROM pg_get_wal_records_info('${fromLsn}'::pg_lsn, '${toLsn}'::pg_lsn)) w
      CROSS JOIN LATERAL regexp_matches(w.block_ref, 'rel \\d+/${dbOid}/(\\d+)(?: fork main)? blk (\\d+)( \\(?FPW)?', 'g') m
      WHERE NOT (w.visible AND m[3] IS NULL)
      ORDER BY w.pos) TO STDOUT`;
    const recorder = new GapRecorder();
    const onRow = (line: string) => {
      const [pos, rel, blk, fpw, newpage] = line.split('\t');
      const r = Number(rel);
      const b = Number(blk);
      recorder.change({ pos: Number(pos), rel: r, blk: b, index: indexes.has(r), image: fpw === 't', newPageImage: newpage === 't', existed: b < (before.get(r) ?? 0) });
    };
    const stream = admin.query(copyTo(sql));
    let rest = '';
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) if (l) onRow(l);
    }
    if (rest) onRow(rest);
    const at = (totals.checkpoints ?? []).map(Number);
    return {
      bodyBytes: Number(totals.body ?? 0),
      imageBytes: Number(totals.image_bytes ?? 0),
      images: Number(totals.images ?? 0),
      checkpointRecords: at.length,
      walPerCheckpointBytes: at.length >= 2 ? (at[at.length - 1] - at[0]) / (at.length - 1) : null,
      ...recorder.result(),
    };
  });
}
