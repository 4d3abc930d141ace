/**
 * `parallel`: our proposal for a faster safe migration. The chunked plan
 * (same table, same statements, same rows) with the load split over N
 * workers. The chats up to the high-water mark are cut into up to 16×N
 * contiguous id ranges holding about the same document bytes (one quantile
 * query over `pg_column_size`, which reads no document); the ranges are
 * claimed largest first by whichever worker is free, and each is walked with
 * the chunked page loop (keyset pages of at most 100 chats, ON CONFLICT DO
 * NOTHING sub-batches, COMMIT per page) on that worker's own connection.
 * Largest first, because one huge chat makes its range large and cannot be
 * split; many small ranges, so the workers finish together. The indexes,
 * the foreign key and the stamp follow once, after every worker is done.
 * Idempotent and resumable exactly as `chunked` is: a rerun recomputes the
 * ranges and skips the rows already there. Where the fix fails at a chat
 * upstream cannot read (a document that is not an object), it skips that
 * chat, logs it and reports it (see skipped-chats.ts).
 *
 * Workers are async connections in one thread. Measured on 200 MB of seeded
 * data on 2 cores, the server's side of a page (json validation, TOAST, WAL)
 * costs about three times the client's (decoding, parsing with Python's
 * json semantics, encoding the INSERT); moving the parsing to worker threads
 * made the load slower (3.2-3.8 s with one thread, 3.4-4.1 s with two,
 * against 2.8-3.3 s without), as every page then crosses threads twice.
 *
 * Default worker count: the number of cores (`os.availableParallelism()`).
 */
import os from 'node:os';
import { CHAT_MESSAGE_PK_ONLY_DDL } from '../openwebui/schema.ts';
import type { Client } from '../postgres/sql.ts';
import { withClient } from '../postgres/with-client.ts';
import { insertPageEntries } from './ported/chunked-page-insert.ts';
import { FailureLog } from './ported/failure-log.ts';
import { byteBalancedRanges, highWaterMark, nextPage, PAGE_CHATS } from './ported/keyset-pages.ts';
import { environmentOf } from './ported/alembic-stamp.ts';
import { runPostLoadSteps } from './ported/post-load-steps.ts';
import { SavepointNames } from './ported/savepoint-names.ts';
import { entriesOrSkip, SkippedChats } from './skipped-chats.ts';
import type { Strategy, StrategyContext } from './strategy.ts';

/** Most workers `parallel` accepts (each holds a connection and a page of documents in memory). */
const MAX_WORKERS = 64;
/** Id ranges per worker: enough that the last ranges to finish are small. */
const RANGES_PER_WORKER = 16;

/** The worker count a run uses: `options.workers`, or the number of cores. */
function parallelWorkers(ctx: Pick<StrategyContext, 'options'>): number {
  const n = ctx.options.workers ?? os.availableParallelism();
  if (!Number.isInteger(n) || n < 1 || n > MAX_WORKERS) throw new Error(`parallel: workers must be an integer from 1 to ${MAX_WORKERS}, got ${n}`);
  return n;
}

export const parallel: Strategy = {
  name: 'parallel',
  summary: 'the chunked plan with its load split over N workers on disjoint, byte-balanced id ranges (default: one per core), then indexes and FK once; skips and reports a chat upstream cannot read',
  singleTransaction: false,
  resumable: true,
  writesUsage: true,
  commitsInside: true,
  shippedEnv: 'per-migration',
  proposal: true,
  async run(ctx) {
    const workers = parallelWorkers(ctx);
    const now = Math.floor(Date.now() / 1000);
    const failures = new FailureLog(ctx.log);
    const skipped = new SkippedChats(ctx.log);
    const send = ctx.options.sendValues ?? 'inline';
    let inserted = 0;
    await withClient(() => ctx.connect(), async (main) => {
      ctx.phase('schema');
      await main.query(CHAT_MESSAGE_PK_ONLY_DDL);
      ctx.phase('load');
      const high = await highWaterMark(main);
      // More ranges than workers, the largest first, each claimed by whichever worker is free:
      // a range made large by one huge chat starts early, and the small ones even out the end.
      const ranges = (high === null ? [] : await byteBalancedRanges(main, high, workers * RANGES_PER_WORKER)).sort((a, b) => b.bytes - a.bytes);
      ctx.log(`parallel: ${workers} workers on ${ranges.length} byte-balanced id ranges`);
      let next = 0;
      let stop = false;
      // Each worker walks whichever range is next on a connection of its own.
      const walkRanges = async (client: Client) => {
        const savepoints = new SavepointNames();
        for (let r = next++; r < ranges.length; r = next++) {
          const { upTo } = ranges[r];
          let last = ranges[r].after;
          for (;;) {
            if (stop) return;
            ctx.signal.throwIfAborted();
            await client.query('BEGIN');
            const chats = await nextPage(client, last, upTo);
            const entries = chats.flatMap((c) => entriesOrSkip(c.id, c.user_id, c.chat, now, skipped));
            const rows = await insertPageEntries(client, entries, savepoints, failures, send);
            await client.query('COMMIT');
            inserted += rows;
            ctx.progress(inserted, true);
            if (chats.length < PAGE_CHATS || chats[chats.length - 1].id === upTo) break;
            last = chats[chats.length - 1].id;
          }
        }
      };
      const worker = async (n: number) => {
        try {
          await withClient(() => ctx.connect(`worker-${n}`), walkRanges);
        } catch (err) {
          // The other workers commit the page they hold and stop; a rerun does the rest.
          stop = true;
          throw err;
        }
      };
      const results = await Promise.allSettled(Array.from({ length: Math.min(workers, ranges.length) }, (_, n) => worker(n)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      await runPostLoadSteps(main, ctx, environmentOf(ctx, parallel));
    });
    return { rowsInserted: inserted, rowsFailed: failures.count, failures: failures.listed, skippedChats: skipped.list };
  },
};
