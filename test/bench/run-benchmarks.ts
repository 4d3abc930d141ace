/**
 * `npm run bench`: the seeder's figures, each next to a floor measured in
 * the same run on the same machine.
 *
 *   npm run bench -- [--only generator,seed] [--size 512MB] [--repeat 2] [--baseline text|binary]
 *                    [--streams 2] [--gen-time 3s] [--sizes 16MB,64MB,256MB] [--out results/bench]
 *
 * - generator: tinybench over the per-chat document generation (and the
 *   whole load unit: documents, manifest rows, binary COPY encoding), in MB/s
 *   of generated JSON, against two floors: random bytes written as hex, and
 *   JSON.stringify of the same documents prebuilt as objects.
 * - seed: whole-run loading on an embedded server under the settings `seed`
 *   loads with: seedDatabase (generation included: it generates as it
 *   loads) against one plain `COPY chat FROM STDIN` of the same rows,
 *   generated in memory before its timer starts, into a table created
 *   beforehand (default storage, WAL-logged) in another database of the same
 *   server. Alternately, `--repeat` times; MB/s of on-disk table bytes.
 * - accuracy: seeded on-disk size against the target, at `--sizes`.
 * - strategies, values, overhead, projection: test/bench/parallel-vs-chunked.ts,
 *   inline-vs-bound.ts, measurement-overhead.ts and projection-check.ts, each
 *   in a child process (minutes each, the last up to an hour: opt-in).
 *
 * MB is 2^20 bytes. Results on stdout and in <out>/bench.json; progress and
 * warnings on stderr.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { from as copyFrom } from 'pg-copy-streams';
import { Bench } from 'tinybench';
import { errorMessage } from '../../harness/errors.ts';
import { refuseNewResources, runCleanup } from '../../harness/lifecycle/cleanup.ts';
import { CHAT_COPY_COLUMNS, CHAT_TABLE_DDL } from '../../harness/openwebui/schema.ts';
import { createOwnedDatabase, dropOwnedDatabase } from '../../harness/postgres/databases.ts';
import { EmbeddedPostgresServer, type StartedEmbeddedPostgres } from '../../harness/postgres/embedded-server.ts';
import { withClient } from '../../harness/postgres/with-client.ts';
import { SEED_SETTINGS } from '../../harness/run/prepare-data.ts';
import { loadScenario } from '../../harness/scenario/load-scenario.ts';
import { parseDuration, parseSize } from '../../harness/units.ts';
import { generateChat } from '../../seed/chat-generator.ts';
import { copyLine } from '../../seed/copy-text.ts';
import { CHATS_PER_UNIT, planDataset, type DatasetSpec } from '../../seed/dataset-plan.ts';
import { DocumentWriter } from '../../seed/document-writer.ts';
import { chatChecksumOf, defaultGenerators, seedDatabase } from '../../seed/seeder.ts';
import { generateUnit } from '../../seed/unit-generator.ts';
import { stats, type Stats } from './stats.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MB = 1024 * 1024;
const BENCHES = ['generator', 'seed', 'accuracy', 'strategies', 'values', 'overhead', 'projection'] as const;
type BenchName = (typeof BENCHES)[number];

// ------------------------------------------------------------ arguments

const HELP = `Benchmarks with ratios against a floor measured in the same run (never timed tests).

usage: npm run bench -- [options]

  --only <list>        which to run, comma-separated (default: generator,seed)
                         generator   the document generator (tinybench) against hex and JSON.stringify floors
                         seed        seeding on-disk MB/s against one plain COPY of the same rows
                         accuracy    on-disk size against --size targets (--sizes)
                         strategies  parallel against chunked (test/bench/parallel-vs-chunked.ts)
                         values      chunked with values inline, as psycopg2 sends them, against bind parameters (test/bench/inline-vs-bound.ts)
                         overhead    a measured run against a bare one (test/bench/measurement-overhead.ts)
                         projection  sweep projections 128-512 MB to 4 GB and 8 GB against runs measured there (test/bench/projection-check.ts; up to an hour)
  --size <size>        dataset for seed (default: 512MB)
  --repeat <n>         loads of each kind, alternating (default: 2)
  --baseline <format>  the plain COPY's format: text or binary (default: text)
  --streams <n>        the seeder's COPY streams (default: the number of cores)
  --gen-time <dur>     tinybench time per generator task (default: 3s)
  --sizes <list>       targets for accuracy (default: 16MB,64MB,256MB)
  --out <dir>          where bench.json goes (default: results/bench)
  --help               this text
`;

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(HELP);
  process.exit(0);
}

function usage(message: string): never {
  process.stderr.write(`error: ${message}\nusage: npm run bench -- [--only ${BENCHES.join(',')}] [--size 512MB] [--repeat 2] [--baseline text|binary] [--streams n] [--gen-time 3s] [--sizes 16MB,64MB,256MB] [--out dir]\n`);
  process.exit(2);
}

function sizeArg(flag: string, text: string): number {
  const s = parseSize(text);
  if (!s.ok) usage(`${flag}: ${s.reason}`);
  return s.bytes;
}

function positiveInt(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) usage(`${flag}: '${text}' is not a whole number of at least 1`);
  return n;
}

const argv = process.argv.slice(2);
const { values: flags } = (() => {
  try {
    return parseArgs({
      args: argv,
      options: {
        only: { type: 'string', default: 'generator,seed' },
        size: { type: 'string', default: '512MB' },
        repeat: { type: 'string', default: '2' },
        baseline: { type: 'string', default: 'text' },
        streams: { type: 'string' },
        'gen-time': { type: 'string', default: '3s' },
        sizes: { type: 'string', default: '16MB,64MB,256MB' },
        out: { type: 'string', default: path.join(ROOT, 'results', 'bench') },
      },
    });
  } catch (err) {
    usage(errorMessage(err));
  }
})();
const only = flags.only.split(',').map((s) => s.trim()) as BenchName[];
for (const b of only) if (!BENCHES.includes(b)) usage(`--only: unknown benchmark '${b}'; allowed: ${BENCHES.join(', ')}`);
if (flags.baseline !== 'text' && flags.baseline !== 'binary') usage(`--baseline: '${flags.baseline}'; allowed: text, binary`);
const genTime = parseDuration(flags['gen-time']);
if (!genTime.ok) usage(`--gen-time: ${genTime.reason}`);
const options = {
  only,
  size: sizeArg('--size', flags.size),
  repeat: positiveInt('--repeat', flags.repeat),
  baseline: flags.baseline as 'text' | 'binary',
  streams: flags.streams === undefined ? 2 : positiveInt('--streams', flags.streams),
  genTimeMs: genTime.ms,
  sizes: flags.sizes.split(',').map((s) => sizeArg('--sizes', s)),
  out: path.resolve(flags.out),
};

// ------------------------------------------------------------ small helpers

const t0 = performance.now();
const progress = (line: string) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1)} s] ${line}\n`);
const warn = (line: string) => process.stderr.write(`warning: ${line}\n`);
const out = (line = '') => process.stdout.write(`${line}\n`);
const mb = (bytes: number) => bytes / MB;
const f1 = (x: number) => x.toFixed(1);

/** One statistics shape for every measured quantity. */


const pad = (s: string, n: number) => s.padEnd(n);
const lpad = (s: string, n: number) => s.padStart(n);

/** A fresh database; the previous measurement's dirty pages written out first, so neither pays for the other. */
async function freshDatabase(server: StartedEmbeddedPostgres, name: string): Promise<void> {
  await withClient(server, 'postgres', 'bench', async (a) => {
    await createOwnedDatabase(a, name);
    await a.query('CHECKPOINT');
  });
}

async function dropDatabase(server: StartedEmbeddedPostgres, name: string): Promise<void> {
  await withClient(server, 'postgres', 'bench', (a) => dropOwnedDatabase(a, name));
}

/** The headline scenario (its dataset's seed and rates, its shared_buffers). */
const headline = await loadScenario('issue-23273');

/** The headline scenario's dataset at `bytes`. */
function datasetAt(bytes: number): DatasetSpec {
  const d = headline.dataset;
  return { seed: d.seed, targetBytes: bytes, edgeCaseRate: d.edgeCaseRate, sharedRate: d.sharedRate };
}

/** What `seed` loads under (harness/run/prepare-data.ts): the loading settings, with the scenario's shared_buffers. */
const LOAD_SETTINGS = { ...SEED_SETTINGS, ...(headline.server.settings.shared_buffers ? { shared_buffers: headline.server.settings.shared_buffers } : {}) };

// ------------------------------------------------------------ generator

interface GeneratorTask {
  name: string;
  /** MB of generated JSON per second, from the mean time per batch. */
  mbPerSecond: number;
  /** Milliseconds per batch. */
  ms: Stats;
  error?: string;
}

interface GeneratorFigures {
  batch: { seed: number; chats: number; documentBytes: number };
  timePerTaskMs: number;
  tasks: GeneratorTask[];
  ratios: { documentsToHexFloor: number; documentsToStringifyFloor: number; unitsToHexFloor: number };
}

async function benchGenerator(): Promise<GeneratorFigures> {
  // A batch the size of a few load units, with the report's size distribution.
  const spec = datasetAt(32 * MB);
  const indices = Array.from(planDataset(spec).indices);
  const writer = new DocumentWriter();
  // Each chat's document as the seeder writes it (a shared chat's snapshot repeats it: generated once, counted once).
  const docs: Buffer[] = [];
  for (const i of indices) {
    const g = generateChat(spec, i);
    if (g.rows[0].doc !== null) docs.push(Buffer.from(writer.write(g.rows[0].doc, g.rawContent)));
  }
  const documentBytes = docs.reduce((a, d) => a + d.length, 0);
  const objects = docs.map((d) => JSON.parse(d.toString('latin1')) as unknown);
  const units: number[][] = [];
  for (let k = 0; k < indices.length; k += CHATS_PER_UNIT) units.push(indices.slice(k, k + CHATS_PER_UNIT));
  progress(`generator: a batch of ${indices.length} chats, ${f1(mb(documentBytes))} MB of JSON; tinybench, ${options.genTimeMs / 1000} s per task`);

  let sink = 0;
  const bench = new Bench({ time: options.genTimeMs, iterations: 5, warmupTime: 300, warmupIterations: 1, retainSamples: true });
  bench
    .add('documents: generateChat + DocumentWriter', () => {
      for (const i of indices) {
        const g = generateChat(spec, i);
        if (g.rows[0].doc !== null) sink += writer.write(g.rows[0].doc, g.rawContent).length;
      }
    })
    .add('load units: documents + manifest + binary COPY', () => {
      for (const u of units) sink += generateUnit(spec, u).copyBytes;
    })
    .add('floor: randomBytes(n/2).toString("hex")', () => {
      for (const d of docs) sink += randomBytes(d.length >> 1).toString('hex').length;
    })
    .add('floor: JSON.stringify of the documents, prebuilt', () => {
      for (const o of objects) sink += JSON.stringify(o).length;
    });
  const tasks = await bench.run();
  // Read, so that no engine could drop the work as unused.
  if (sink < 0) throw new Error('impossible');
  const figures: GeneratorTask[] = tasks.map((t) => {
    const r = t.result;
    if (r.state !== 'completed') return { name: t.name, mbPerSecond: NaN, ms: stats([NaN]), error: r.state === 'errored' ? r.error.message : r.state };
    const l = r.latency;
    const ms: Stats = { n: l.samplesCount, mean: l.mean, sd: l.sd, median: l.p50, min: l.min, max: l.max, samples: Array.from(l.samples ?? []) };
    return { name: t.name, mbPerSecond: mb(documentBytes) / (l.mean / 1000), ms };
  });
  const rate = (prefix: string) => figures.find((t) => t.name.startsWith(prefix))!.mbPerSecond;
  return {
    batch: { seed: spec.seed, chats: indices.length, documentBytes },
    timePerTaskMs: options.genTimeMs,
    tasks: figures,
    ratios: {
      documentsToHexFloor: rate('documents') / rate('floor: randomBytes'),
      documentsToStringifyFloor: rate('documents') / rate('floor: JSON.stringify'),
      unitsToHexFloor: rate('load units') / rate('floor: randomBytes'),
    },
  };
}

function printGenerator(g: GeneratorFigures): void {
  out(`document generator: ${g.batch.chats} chats (seed ${g.batch.seed}), ${f1(mb(g.batch.documentBytes))} MB of JSON per batch; tinybench, ${g.timePerTaskMs / 1000} s per task`);
  out(`  ${pad('task', 50)} ${lpad('MB/s', 8)}   ${pad('time per batch: mean ± σ', 26)} range (min … max)      batches`);
  for (const t of g.tasks) {
    if (t.error) {
      out(`  ${pad(t.name, 50)} failed: ${t.error}`);
      continue;
    }
    out(
      `  ${pad(t.name, 50)} ${lpad(f1(t.mbPerSecond), 8)}   ${pad(`${f1(t.ms.mean)} ms ± ${f1(t.ms.sd)} ms`, 26)} ${pad(`${f1(t.ms.min)} ms … ${f1(t.ms.max)} ms`, 22)} ${lpad(String(t.ms.n), 7)}`,
    );
  }
  out(`  documents run at ${g.ratios.documentsToHexFloor.toFixed(2)}× the hex floor and ${g.ratios.documentsToStringifyFloor.toFixed(2)}× the JSON.stringify floor; whole load units at ${g.ratios.unitsToHexFloor.toFixed(2)}× the hex floor`);
}

// ------------------------------------------------------------ seed vs plain COPY

interface LoadRun {
  run: number;
  kind: 'baseline' | 'seeder';
  seconds: number;
  tableBytes: number;
  rows: number;
  /** On-disk MB of `chat` per second of the run. */
  mbPerSecond: number;
}

interface SeedFigures {
  server: string;
  settings: Record<string, string>;
  dataset: DatasetSpec & { chats: number; chatRows: number; documentBytes: number };
  baseline: { format: 'text' | 'binary'; copyBytes: number; sameRows: boolean; description: string };
  seeder: { streams: number; generators: number; description: string };
  runs: LoadRun[];
  median: { baselineMbPerSecond: number; seederMbPerSecond: number; baselineSeconds: number; seederSeconds: number };
  /** Seeder on-disk MB/s over baseline on-disk MB/s (medians). Target ≥ 2.0. */
  ratio: number;
  /** Baseline time over seeder time for the same rows (medians). */
  timeRatio: number;
}

/** The rows of `spec` as one plain COPY's input, built before any timer starts. */
function baselineInput(spec: DatasetSpec, format: 'text' | 'binary'): { chunks: Buffer[]; bytes: number; rows: number } {
  const plan = planDataset(spec);
  if (format === 'binary') {
    // One COPY stream in the seeder's own format (signature, rows, trailer).
    const u = generateUnit(spec, Array.from(plan.indices));
    return { chunks: u.chunks, bytes: u.copyBytes, rows: u.manifest.chatRows };
  }
  const chunks: Buffer[] = [];
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let bytes = 0;
  let rows = 0;
  const flush = () => {
    if (!pending.length) return;
    chunks.push(pending.length === 1 ? pending[0] : Buffer.concat(pending));
    pending = [];
    pendingBytes = 0;
  };
  for (const i of plan.indices) {
    for (const r of generateChat(spec, i).rows) {
      const line = Buffer.from(copyLine([r.id, r.userId, r.title, r.chatText, r.createdAt, r.updatedAt, r.shareId, r.archived, r.pinned, r.meta, r.folderId]), 'utf8');
      pending.push(line);
      pendingBytes += line.length;
      bytes += line.length;
      rows++;
      // About the seeder's chunk size (4 MB), so neither side pays for more writes than the other.
      if (pendingBytes >= 4 * MB) flush();
    }
  }
  flush();
  return { chunks, bytes, rows };
}

async function plainCopy(server: StartedEmbeddedPostgres, database: string, input: { chunks: Buffer[] }, format: 'text' | 'binary'): Promise<Omit<LoadRun, 'run' | 'kind'>> {
  await freshDatabase(server, database);
  return withClient(server, database, 'bench', async (c) => {
    // Created beforehand, as a loader finds the application's table: default storage, and the COPY is WAL-logged.
    await c.query(CHAT_TABLE_DDL);
    const sql = `COPY chat (${CHAT_COPY_COLUMNS.join(', ')}) FROM STDIN${format === 'binary' ? ' (FORMAT binary)' : ''}`;
    const started = performance.now();
    const stream = c.query(copyFrom(sql));
    await pipeline(Readable.from(input.chunks), stream);
    const seconds = (performance.now() - started) / 1000;
    const tableBytes = Number((await c.query("SELECT pg_total_relation_size('chat') AS s")).rows[0].s);
    return { seconds, tableBytes, rows: stream.rowCount, mbPerSecond: mb(tableBytes) / seconds };
  });
}

async function seederRun(server: StartedEmbeddedPostgres, database: string, spec: DatasetSpec): Promise<Omit<LoadRun, 'run' | 'kind'> & { chatChecksum: string; documentBytes: number; chats: number }> {
  await freshDatabase(server, database);
  const started = performance.now();
  const s = await seedDatabase({ server, database, dataset: spec, streams: options.streams });
  const seconds = (performance.now() - started) / 1000;
  return { seconds, tableBytes: s.chatTableBytes, rows: s.chats, mbPerSecond: mb(s.chatTableBytes) / seconds, chatChecksum: s.chatChecksum, documentBytes: s.generatedBytes, chats: s.chats };
}

async function benchSeed(): Promise<SeedFigures> {
  const spec = datasetAt(options.size);
  const plan = planDataset(spec);
  progress(`seed: generating the baseline's ${f1(mb(options.size))} MB of rows in memory (${options.baseline} COPY format), before any timer`);
  const input = baselineInput(spec, options.baseline);
  const server = await new EmbeddedPostgresServer({ settings: LOAD_SETTINGS }).start();
  try {
    progress(`seed: ${server.describe()}`);
    const runs: LoadRun[] = [];
    let seederChecksum: string | undefined;
    let baselineChecksum: string | undefined;
    let chatRows = 0;
    let documentBytes = 0;
    for (let r = 1; r <= options.repeat; r++) {
      // Alternate which goes first: the second of a pair finds the machine warmer, or its disk cache fuller.
      const order: LoadRun['kind'][] = r % 2 ? ['baseline', 'seeder'] : ['seeder', 'baseline'];
      for (const kind of order) {
        const db = `bench_${kind}_${r}`;
        if (kind === 'baseline') {
          const x = await plainCopy(server, db, input, options.baseline);
          baselineChecksum ??= await withClient(server, db, 'bench', (c) => chatChecksumOf(c));
          runs.push({ run: r, kind, ...x });
        } else {
          const x = await seederRun(server, db, spec);
          seederChecksum ??= x.chatChecksum;
          chatRows = x.chats;
          documentBytes = x.documentBytes;
          runs.push({ run: r, kind, seconds: x.seconds, tableBytes: x.tableBytes, rows: x.rows, mbPerSecond: x.mbPerSecond });
        }
        await dropDatabase(server, db);
        const last = runs[runs.length - 1];
        progress(`  run ${r} ${kind}: ${f1(last.seconds)} s, ${f1(mb(last.tableBytes))} MB on disk, ${f1(last.mbPerSecond)} MB/s`);
      }
    }
    const sameRows = seederChecksum === baselineChecksum && runs.every((x) => x.rows === chatRows);
    if (!sameRows) warn(`the baseline loaded other rows than the seeder (chat checksum ${baselineChecksum} vs ${seederChecksum}): its figures do not compare`);
    const of = (kind: LoadRun['kind']) => runs.filter((x) => x.kind === kind);
    const median = {
      baselineMbPerSecond: stats(of('baseline').map((x) => x.mbPerSecond)).median,
      seederMbPerSecond: stats(of('seeder').map((x) => x.mbPerSecond)).median,
      baselineSeconds: stats(of('baseline').map((x) => x.seconds)).median,
      seederSeconds: stats(of('seeder').map((x) => x.seconds)).median,
    };
    for (const kind of ['baseline', 'seeder'] as const) {
      const s = stats(of(kind).map((x) => x.seconds));
      if (s.n > 1 && s.sd / s.mean > 0.1) warn(`${kind} times spread ${((100 * s.sd) / s.mean).toFixed(0)}% around their mean: the machine is busy; rerun on a quiet machine or with more --repeat`);
    }
    return {
      server: server.describe().replace(/ \(data .*\)$/, ''),
      settings: LOAD_SETTINGS,
      dataset: { ...spec, chats: plan.chats, chatRows, documentBytes },
      baseline: {
        format: options.baseline,
        copyBytes: input.bytes,
        sameRows,
        description: `one COPY chat FROM STDIN (${options.baseline} format) of the same rows, generated in memory before the timer, into a table created beforehand (default storage, WAL-logged); timed: the COPY`,
      },
      seeder: {
        streams: options.streams,
        generators: defaultGenerators(),
        description: `seedDatabase: plan, generation (${defaultGenerators()} worker thread${defaultGenerators() > 1 ? 's' : ''}), ${options.streams} COPY streams, manifest, constraints and indexes, VACUUM (FREEZE, ANALYZE), CHECKPOINT; timed: all of it`,
      },
      runs,
      median,
      ratio: median.seederMbPerSecond / median.baselineMbPerSecond,
      timeRatio: median.baselineSeconds / median.seederSeconds,
    };
  } finally {
    await server.stop();
  }
}

function printSeed(s: SeedFigures): void {
  out(`loading ${f1(mb(s.dataset.targetBytes!))} MB (seed ${s.dataset.seed}: ${s.dataset.chats} chats, ${s.dataset.chatRows} rows with shared snapshots, ${f1(mb(s.dataset.documentBytes))} MB of JSON) on ${s.server}`);
  out(`  settings: ${Object.entries(s.settings).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  out(`  baseline: ${s.baseline.description}`);
  out(`  seeder:   ${s.seeder.description}`);
  out(`  ${pad('run', 5)} ${pad('baseline COPY (on-disk MB/s, time, size)', 44)} seeder (on-disk MB/s, time, size)`);
  const cell = (x: LoadRun | undefined) => (x ? `${lpad(f1(x.mbPerSecond), 6)} MB/s  ${lpad(f1(x.seconds), 6)} s  ${lpad(f1(mb(x.tableBytes)), 7)} MB` : '');
  const repeats = Math.max(...s.runs.map((x) => x.run));
  for (let r = 1; r <= repeats; r++) {
    const b = s.runs.find((x) => x.run === r && x.kind === 'baseline');
    const d = s.runs.find((x) => x.run === r && x.kind === 'seeder');
    out(`  ${pad(`${r}${r % 2 ? ' b→s' : ' s→b'}`, 5)} ${pad(cell(b), 44)} ${cell(d)}`);
  }
  out(`  ${pad('median', 5)} ${pad(`${lpad(f1(s.median.baselineMbPerSecond), 6)} MB/s  ${lpad(f1(s.median.baselineSeconds), 6)} s`, 44)} ${lpad(f1(s.median.seederMbPerSecond), 6)} MB/s  ${lpad(f1(s.median.seederSeconds), 6)} s`);
  out(
    `  the seeder ran at ${s.ratio.toFixed(2)}× the baseline's on-disk MB/s (target ≥ 2.00×), ${s.timeRatio.toFixed(2)}× faster for the same rows${s.baseline.sameRows ? ' (same rows: chat checksums equal)' : ' (ROWS DIFFER: see the warning)'}`,
  );
}

// ------------------------------------------------------------ accuracy

interface AccuracyPoint {
  targetBytes: number;
  plannedBytes: number;
  tableBytes: number;
  chats: number;
  /** (table - target) / target. */
  error: number;
}

async function benchAccuracy(): Promise<AccuracyPoint[]> {
  const server = await new EmbeddedPostgresServer({ settings: LOAD_SETTINGS }).start();
  try {
    const points: AccuracyPoint[] = [];
    for (const size of options.sizes) {
      const spec = datasetAt(size);
      const db = `bench_accuracy_${Math.round(mb(size))}`;
      await freshDatabase(server, db);
      const s = await seedDatabase({ server, database: db, dataset: spec, streams: options.streams });
      await dropDatabase(server, db);
      points.push({ targetBytes: size, plannedBytes: planDataset(spec).estimatedBytes, tableBytes: s.chatTableBytes, chats: s.chats, error: (s.chatTableBytes - size) / size });
      progress(`  accuracy ${f1(mb(size))} MB: ${f1(mb(s.chatTableBytes))} MB on disk`);
    }
    return points;
  } finally {
    await server.stop();
  }
}

function printAccuracy(points: AccuracyPoint[]): void {
  out('size accuracy: on-disk pg_total_relation_size(chat) against the target (seed of the headline scenario)');
  out(`  ${lpad('target', 10)} ${lpad('planned', 10)} ${lpad('on disk', 10)} ${lpad('chats', 7)} ${lpad('error', 8)}`);
  for (const p of points) out(`  ${lpad(`${f1(mb(p.targetBytes))} MB`, 10)} ${lpad(`${f1(mb(p.plannedBytes))} MB`, 10)} ${lpad(`${f1(mb(p.tableBytes))} MB`, 10)} ${lpad(String(p.chats), 7)} ${lpad(`${(100 * p.error).toFixed(2)}%`, 8)}`);
}

// ------------------------------------------------------------ the other benches, in child processes

async function childBench(script: string): Promise<{ script: string; exitCode: number | null; seconds: number; stdout: string[] }> {
  const started = performance.now();
  progress(`${script}: running in a child process (its progress follows)`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test', 'bench', script)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ script, exitCode: code, seconds: (performance.now() - started) / 1000, stdout: text.split('\n').filter((l) => l.trim()) }));
  });
}

// ------------------------------------------------------------ main

let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    refuseNewResources(sig);
    progress(`received ${sig}: stopping the benchmark's server`);
    void runCleanup(progress).finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  });
}

const command = `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
const cpus = os.cpus();
const machine = {
  cpus: os.availableParallelism(),
  cpuModel: cpus[0]?.model ?? 'unknown',
  memoryBytes: os.totalmem(),
  node: process.version,
  platform: `${os.platform()}-${os.arch()}`,
  loadAverageAtStart: os.loadavg(),
};
out(`command: ${command}`);
out(`machine: ${machine.cpus} cpus (${machine.cpuModel}), ${f1(machine.memoryBytes / 1024 ** 3)} GB memory, Node ${machine.node}, ${machine.platform}, load average ${machine.loadAverageAtStart.map((x) => x.toFixed(2)).join(' ')}`);
out(`benchmarks: ${options.only.join(', ')} (opt-in: ${BENCHES.filter((b) => !options.only.includes(b)).join(', ') || 'none'})`);
if (machine.loadAverageAtStart[0] > machine.cpus / 2) warn(`load average ${machine.loadAverageAtStart[0].toFixed(2)} on ${machine.cpus} cpus: the machine is busy and the figures will be low; rerun when it is quiet`);

const started = new Date();
const report: Record<string, unknown> = { schemaVersion: 1, command, startedAt: started.toISOString(), machine, options: { ...options, out: undefined } };
let exitCode = 0;
try {
  if (options.only.includes('generator')) {
    out();
    const g = await benchGenerator();
    report.generator = g;
    printGenerator(g);
  }
  if (options.only.includes('seed')) {
    out();
    const s = await benchSeed();
    report.seed = s;
    printSeed(s);
  }
  if (options.only.includes('accuracy')) {
    out();
    const a = await benchAccuracy();
    report.accuracy = a;
    printAccuracy(a);
  }
  for (const [name, script] of [
    ['strategies', 'parallel-vs-chunked.ts'],
    ['values', 'inline-vs-bound.ts'],
    ['overhead', 'measurement-overhead.ts'],
    ['projection', 'projection-check.ts'],
  ] as const) {
    if (!options.only.includes(name)) continue;
    out();
    const r = await childBench(script);
    report[name] = r;
    out(`${script} (${f1(r.seconds)} s${r.exitCode ? `, exit ${r.exitCode}` : ''}):`);
    for (const l of r.stdout) out(`  ${l}`);
  }
} catch (err) {
  exitCode = 1;
  report.error = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`error: ${errorMessage(err)}\n`);
} finally {
  report.finishedAt = new Date().toISOString();
  report.loadAverageAtEnd = os.loadavg();
  await mkdir(options.out, { recursive: true });
  const file = path.join(options.out, 'bench.json');
  await writeFile(file, JSON.stringify(report, null, 2) + '\n');
  out();
  out(`written: ${path.relative(process.cwd(), file) || file}`);
}
// Exit now: a stopped server leaves a timer of its stop timeout behind (harness/postgres/embedded-server.ts), which would hold the process a minute.
process.exit(exitCode);
