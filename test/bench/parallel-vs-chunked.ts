/**
 * Benchmark: `parallel` against `chunked` on the same seeded data, in one
 * run. An embedded PostgreSQL 15 with the headline settings, one seed of
 * about 200 MB, then each strategy on its own fresh clone, several times in
 * alternating order, every run verified against the manifest. Prints each
 * duration, then mean ± σ and range per strategy and the ratio of the
 * medians (target: parallel ≤ 0.6 × chunked on 2 cores).
 *
 *   npx tsx test/bench/parallel-vs-chunked.ts [--bytes 200000000] [--seed 7] [--runs 3] [--workers 2,4]
 *
 * `--seed` picks the dataset (7, the project's small-dataset seed, by default;
 * seed 1 at 200 MB holds one 65 MB chat, a third of all bytes, which no
 * split can share between workers). `--workers` lists the worker counts to run `parallel` with; default is the
 * strategy's own default (the number of cores). Results on stdout, progress
 * on stderr.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { createOwnedDatabase, dropOwnedDatabase } from '../../harness/postgres/databases.ts';
import { EmbeddedPostgresServer } from '../../harness/postgres/embedded-server.ts';
import { withClient } from '../../harness/postgres/with-client.ts';
import { chunked } from '../../harness/strategies/chunked.ts';
import { parallel } from '../../harness/strategies/parallel.ts';
import type { Strategy, StrategyOptions } from '../../harness/strategies/strategy.ts';
import { verifyMigration } from '../../harness/verify/verify-migration.ts';
import { seedDatabase } from '../../seed/seeder.ts';
import { directContext } from '../support/direct-context.ts';
import { BENCH_SERVER_SETTINGS, stats } from './stats.ts';


const { values: args } = parseArgs({
  options: { bytes: { type: 'string', default: '200000000' }, seed: { type: 'string', default: '7' }, runs: { type: 'string', default: '3' }, workers: { type: 'string' } },
});
const targetBytes = Number(args.bytes);
const runs = Number(args.runs);
const seed = Number(args.seed);
const workerCounts = args.workers ? args.workers.split(',').map(Number) : [undefined];
if (!(targetBytes > 0) || !(runs >= 1) || !Number.isInteger(seed) || workerCounts.some((w) => w !== undefined && !(w >= 1)))
  throw new Error(`bad arguments: --bytes ${args.bytes} --seed ${args.seed} --runs ${args.runs} --workers ${args.workers} (positive numbers expected)`);

const progress = (line: string) => process.stderr.write(`${line}\n`);

interface Variant {
  label: string;
  strategy: Strategy;
  options: StrategyOptions;
}
const variants: Variant[] = [
  { label: 'chunked', strategy: chunked, options: {} },
  ...workerCounts.map((w) => ({ label: w === undefined ? 'parallel' : `parallel (${w} workers)`, strategy: parallel, options: w === undefined ? {} : { workers: w } })),
];


const server = await new EmbeddedPostgresServer({ settings: BENCH_SERVER_SETTINGS }).start();
try {
  await withClient(server, 'postgres', 'bench-admin', (admin) => createOwnedDatabase(admin, 'bench_template'));
  progress(`seeding about ${Math.round(targetBytes / 1e6)} MB on ${server.describe()}`);
  const seeded = await seedDatabase({ server, database: 'bench_template', dataset: { seed, targetBytes, edgeCaseRate: 0.01, sharedRate: 0.03 } });
  const largest = await withClient(
    server,
    'bench_template',
    'bench-admin',
    async (c) => (await c.query<{ b: string; t: string }>(`SELECT max(pg_column_size(chat)) AS b, sum(pg_column_size(chat)) AS t FROM chat WHERE user_id NOT LIKE 'shared-%'`)).rows[0],
  );
  progress(`seeded ${seeded.chats} chats, ${seeded.expectedRows} rows to migrate, chat table ${Math.round(seeded.chatTableBytes / 1e6)} MB, in ${seeded.seedSeconds.toFixed(1)} s`);

  const times = new Map<string, number[]>(variants.map((v) => [v.label, []]));
  for (let r = 0; r < runs; r++) {
    const order = r % 2 ? [...variants].reverse() : variants;
    for (const v of order) {
      const db = 'bench_run';
      await withClient(server, 'postgres', 'bench-admin', async (a) => {
        await createOwnedDatabase(a, db, { template: 'bench_template' });
        // The clone's files are in the OS cache like the template's; start every run from a checkpoint.
        await a.query('CHECKPOINT');
      });
      const fromSec = Math.floor(Date.now() / 1000);
      const started = performance.now();
      await v.strategy.run(directContext(server, db, { options: v.options }));
      const ms = performance.now() - started;
      await withClient(server, db, 'bench-verify', async (c) => {
        const check = await verifyMigration(c, { writesUsage: v.strategy.writesUsage, window: { fromSec, toSec: Math.ceil(Date.now() / 1000) } });
        if (!check.verified) throw new Error(`${v.label} did not verify: ${check.notes.join('; ')}`);
      });
      await withClient(server, 'postgres', 'bench-admin', (b) => dropOwnedDatabase(b, db));
      times.get(v.label)!.push(ms);
      progress(`run ${r + 1}/${runs}: ${v.label} ${Math.round(ms)} ms (verified)`);
    }
  }

  console.log(
    `parallel vs chunked: seed ${seed}, ${seeded.chats} chats, ${seeded.expectedRows} rows, chat table ${Math.round(seeded.chatTableBytes / 1e6)} MB ` +
      `(largest document ${(Number(largest.b) / 1e6).toFixed(1)} MB of ${(Number(largest.t) / 1e6).toFixed(0)} MB migrated), ${os.availableParallelism()} cores, ${runs} runs each`,
  );
  console.log(`server: ${server.describe().replace(/ \(data .*\)$/, '')}, ${Object.entries(BENCH_SERVER_SETTINGS).map(([k, x]) => `${k}=${x}`).join(' ')}`);
  const base = stats(times.get('chunked')!);
  for (const v of variants) {
    const s = stats(times.get(v.label)!);
    console.log(
      `${v.label.padEnd(24)} ${(s.mean / 1000).toFixed(2)} s ± ${(s.sd / 1000).toFixed(2)} s   range ${(s.min / 1000).toFixed(2)} … ${(s.max / 1000).toFixed(2)} s   runs ${times
        .get(v.label)!
        .map((t) => (t / 1000).toFixed(2))
        .join(', ')}`,
    );
  }
  for (const v of variants.slice(1)) {
    const s = stats(times.get(v.label)!);
    console.log(`${v.label}: median ratio to chunked ${(s.median / base.median).toFixed(2)} (target ≤ 0.60)`);
  }
} finally {
  await server.stop();
}
