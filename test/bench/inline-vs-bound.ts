/**
 * Benchmark: the fix's INSERTs with their values inline in the statement's
 * text, as psycopg2 sends them (how `chunked` sends them), against the same
 * statements with bind parameters (`sendValues: 'bound'`), on the same
 * seeded data in one run. An embedded PostgreSQL 15 with the headline
 * settings, one seed of about 200 MB, then each variant on its own fresh
 * clone, several times in alternating order, every run verified against the
 * manifest (the rows are the same either way). Prints each duration, mean ±
 * σ and range per variant and the ratio of the medians (inline / bound).
 *
 *   npx tsx test/bench/inline-vs-bound.ts [--bytes 200000000] [--seed 7] [--runs 3]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { createOwnedDatabase, dropOwnedDatabase } from '../../harness/postgres/databases.ts';
import { EmbeddedPostgresServer } from '../../harness/postgres/embedded-server.ts';
import { withClient } from '../../harness/postgres/with-client.ts';
import { chunked } from '../../harness/strategies/chunked.ts';
import type { SendValues } from '../../harness/strategies/ported/chunked-page-insert.ts';
import { verifyMigration } from '../../harness/verify/verify-migration.ts';
import { seedDatabase } from '../../seed/seeder.ts';
import { directContext } from '../support/direct-context.ts';
import { BENCH_SERVER_SETTINGS, stats } from './stats.ts';


const { values: args } = parseArgs({ options: { bytes: { type: 'string', default: '200000000' }, seed: { type: 'string', default: '7' }, runs: { type: 'string', default: '3' } } });
const targetBytes = Number(args.bytes);
const runs = Number(args.runs);
const seed = Number(args.seed);
if (!(targetBytes > 0) || !(runs >= 1) || !Number.isInteger(seed)) throw new Error(`bad arguments: --bytes ${args.bytes} --seed ${args.seed} --runs ${args.runs} (positive numbers expected)`);

const progress = (line: string) => process.stderr.write(`${line}\n`);
const VARIANTS: SendValues[] = ['inline', 'bound'];


const server = await new EmbeddedPostgresServer({ settings: BENCH_SERVER_SETTINGS }).start();
try {
  await withClient(server, 'postgres', 'bench-admin', (admin) => createOwnedDatabase(admin, 'bench_template'));
  progress(`seeding about ${Math.round(targetBytes / 1e6)} MB on ${server.describe()}`);
  const seeded = await seedDatabase({ server, database: 'bench_template', dataset: { seed, targetBytes, edgeCaseRate: 0.01, sharedRate: 0.03 } });
  progress(`seeded ${seeded.chats} chats, ${seeded.expectedRows} rows to migrate, chat table ${Math.round(seeded.chatTableBytes / 1e6)} MB, in ${seeded.seedSeconds.toFixed(1)} s`);

  const times = new Map<SendValues, number[]>(VARIANTS.map((v) => [v, []]));
  for (let r = 0; r < runs; r++) {
    const order = r % 2 ? [...VARIANTS].reverse() : VARIANTS;
    for (const v of order) {
      const db = 'bench_run';
      await withClient(server, 'postgres', 'bench-admin', async (a) => {
        await createOwnedDatabase(a, db, { template: 'bench_template' });
        await a.query('CHECKPOINT');
      });
      const fromSec = Math.floor(Date.now() / 1000);
      const started = performance.now();
      await chunked.run(directContext(server, db, { options: { sendValues: v } }));
      const ms = performance.now() - started;
      await withClient(server, db, 'bench-verify', async (c) => {
        const check = await verifyMigration(c, { writesUsage: true, window: { fromSec, toSec: Math.ceil(Date.now() / 1000) } });
        if (!check.verified) throw new Error(`chunked (${v}) did not verify: ${check.notes.join('; ')}`);
      });
      await withClient(server, 'postgres', 'bench-admin', (b) => dropOwnedDatabase(b, db));
      times.get(v)!.push(ms);
      progress(`run ${r + 1}/${runs}: chunked, values ${v}: ${Math.round(ms)} ms (verified)`);
    }
  }

  console.log(`inline vs bound values (chunked): seed ${seed}, ${seeded.chats} chats, ${seeded.expectedRows} rows, chat table ${Math.round(seeded.chatTableBytes / 1e6)} MB, ${os.availableParallelism()} cores, ${runs} runs each`);
  console.log(`server: ${server.describe().replace(/ \(data .*\)$/, '')}, ${Object.entries(BENCH_SERVER_SETTINGS).map(([k, x]) => `${k}=${x}`).join(' ')}`);
  for (const v of VARIANTS) {
    const s = stats(times.get(v)!);
    console.log(
      `values ${v.padEnd(8)} ${(s.mean / 1000).toFixed(2)} s ± ${(s.sd / 1000).toFixed(2)} s   range ${(s.min / 1000).toFixed(2)} … ${(s.max / 1000).toFixed(2)} s   runs ${times
        .get(v)!
        .map((t) => (t / 1000).toFixed(2))
        .join(', ')}`,
    );
  }
  const ratio = stats(times.get('inline')!).median / stats(times.get('bound')!).median;
  console.log(`inline / bound: median ratio ${ratio.toFixed(2)} (above 1: sending values inline, as psycopg2 does, is slower than binding them)`);
} finally {
  await server.stop();
}
process.exit(0);
