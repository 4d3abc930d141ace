/**
 * Benchmark: what measuring costs. The same migration on identical copies of
 * one seeded template, alternately bare (the strategy's process alone) and
 * measured (server sampler every 250 ms and the write probe every 100 ms),
 * reported as a ratio of medians measured in the same run.
 *
 *   npx tsx test/bench/measurement-overhead.ts [--size 256MB] [--runs 5] [--strategy chunked]
 */
import { NO_FAULTS } from '../../harness/faults/fault-spec.ts';
import { createOwnedDatabase, dropOwnedDatabase } from '../../harness/postgres/databases.ts';
import { EmbeddedPostgresServer } from '../../harness/postgres/embedded-server.ts';
import { withClient } from '../../harness/postgres/with-client.ts';
import { runStrategy } from '../../harness/run/run-strategy.ts';
import { strategyContext } from '../../harness/run/strategy-context.ts';
import { runInChildProcess } from '../../harness/run/strategy-process.ts';
import { strategyByName } from '../../harness/strategies/strategy-registry.ts';
import { parseSize } from '../../harness/units.ts';
import { seedDatabase } from '../../seed/seeder.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

const size = parseSize(arg('size', '256MB'));
if (!size.ok) throw new Error(`--size: ${size.reason}`);
const runs = Number(arg('runs', '5'));
const strategy = strategyByName(arg('strategy', 'chunked'))!;

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1));
  return { median: s[Math.floor(s.length / 2)], mean, sd, min: s[0], max: s[s.length - 1] };
};

const settings = { max_wal_size: '64MB', min_wal_size: '32MB', wal_level: 'replica', shared_buffers: '128MB', autovacuum: 'off' };
const server = await new EmbeddedPostgresServer({ settings }).start();
try {
  await withClient(server, 'postgres', 'bench', (admin) => createOwnedDatabase(admin, 'tpl'));
  const seeded = await seedDatabase({ server, database: 'tpl', dataset: { seed: 1, targetBytes: size.bytes, edgeCaseRate: 0.01, sharedRate: 0.03 }, streams: 2 });
  process.stderr.write(`seeded ${(seeded.chatTableBytes / 1048576).toFixed(0)} MB, ${seeded.expectedRows} rows\n`);
  const bare: number[] = [];
  const measured: number[] = [];
  for (let i = 0; i < runs; i++) {
    for (const mode of i % 2 ? (['measured', 'bare'] as const) : (['bare', 'measured'] as const)) {
      const db = `run_${mode}_${i}`;
      await withClient(server, 'postgres', 'bench', async (admin) => {
        await createOwnedDatabase(admin, db, { template: 'tpl' });
        await admin.query('CHECKPOINT');
      });
      if (mode === 'bare') {
        const t0 = performance.now();
        await runInChildProcess(strategy.name, strategyContext({ server, database: db }));
        bare.push(performance.now() - t0);
      } else {
        const r = await runStrategy({
          server,
          template: 'tpl',
          database: db,
          strategy,
          strategyOptions: {},
          faults: NO_FAULTS,
          deadlineMs: null,
          expectedRows: seeded.expectedRows,
          measure: { sampleIntervalMs: 250, probe: true, probeIntervalMs: 100, probeLockTimeoutMs: 300_000 },
          keep: true,
          signal: new AbortController().signal,
          log: () => undefined,
        });
        if (!r.verified) throw new Error(`${strategy.name} did not verify`);
        measured.push(r.durationMs);
      }
      await withClient(server, 'postgres', 'bench', (admin) => dropOwnedDatabase(admin, db));
      process.stderr.write(`  run ${i + 1} ${mode}: ${((mode === 'bare' ? bare : measured).at(-1)! / 1000).toFixed(2)} s\n`);
    }
  }
  const b = stats(bare);
  const m = stats(measured);
  const fmt = (x: ReturnType<typeof stats>) => `${(x.mean / 1000).toFixed(2)} s ± ${(x.sd / 1000).toFixed(2)} s   Range (min … max): ${(x.min / 1000).toFixed(2)} s … ${(x.max / 1000).toFixed(2)} s`;
  console.log(`${strategy.name}, ${(seeded.chatTableBytes / 1048576).toFixed(0)} MB, ${runs} runs each`);
  console.log(`  bare:     ${fmt(b)}`);
  console.log(`  measured: ${fmt(m)}`);
  const ratio = m.median / b.median;
  console.log(`  measured/bare (medians): ${ratio.toFixed(3)} → overhead ${((ratio - 1) * 100).toFixed(1)}% (target <= 2%)`);
  if (b.sd / b.mean > 0.05 || m.sd / m.mean > 0.05) process.stderr.write('warning: run-to-run spread above 5%: the machine is busy; rerun with more --runs on a quiet machine\n');
} finally {
  await server.stop();
}
