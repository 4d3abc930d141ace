/**
 * Benchmark (a measurement, not a test): where a strategy's full-page images
 * come from. Runs one strategy at one size on the embedded server with its
 * WAL kept (`--pg-setting wal_keep_size=...`, `--keep`), then reads that WAL
 * back with pg_walinspect (shipped with PostgreSQL 15, installed in the kept
 * clone) and counts the images by relation (chat_message's heap, TOAST and
 * each index, chat) and by checkpoint cycle (between two CHECKPOINT_ONLINE
 * records), in tenths of the load, with what fills the cycles (their WAL, the
 * rows they insert, index and other images), and autovacuum's passes over
 * chat_message during the run with the images on pages last changed far back
 * (room a pass found again in old pages). A sweep says how many images each size
 * wrote; this says which pages they were and when, which is what decides
 * how they grow with size. Minutes: the run itself, plus reading its WAL.
 *
 *   npx tsx test/bench/fpi-sources.ts [--size 1GB] [--strategy original] [--seed 23273] [--pg-setting name=value ...] [--out results/bench/fpi-sources]
 *
 * Needs room for the run's WAL (about 0.75 of the chat table for
 * `original`) besides the usual run; it keeps 1.5x the chat table.
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { WAL_SEGMENT_BYTES } from '../../harness/sweep/regime.ts';
import { formatBytes, parseSize, pgSize } from '../../harness/units.ts';
import { benchArgs } from './bench-args.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const USAGE = `usage: npx tsx test/bench/fpi-sources.ts [--size 1GB] [--strategy original] [--seed 23273] [--pg-setting name=value ...] [--out results/bench/fpi-sources]

Runs one strategy at one size (embedded server, WAL kept), reads its WAL back with pg_walinspect
and prints its full-page images by relation and by checkpoint cycle, with each cycle's WAL,
rows and index images; writes fpi-sources.md and
fpi-sources.json under <out>/<size>-<strategy>/. --pg-setting (repeatable) is passed to the run,
e.g. --pg-setting autovacuum_naptime=5s to see what autovacuum's passes add to a committing load.
`;
const flags = benchArgs(
  {
    size: { type: 'string', default: '1GB' },
    strategy: { type: 'string', default: 'original' },
    seed: { type: 'string', default: '23273' },
    'pg-setting': { type: 'string', multiple: true, default: [] },
    out: { type: 'string', default: path.join('results', 'bench', 'fpi-sources') },
  },
  USAGE,
);

const size = parseSize(flags.size!);
if (!size.ok) {
  process.stderr.write(`error: --size: ${size.reason}\n`);
  process.exit(2);
}
if (!/^[a-z0-9.>-]+$/i.test(flags.strategy!) || !/^\d+$/.test(flags.seed!)) {
  process.stderr.write(`error: --strategy takes one strategy name (e.g. original, chunked) and --seed a whole number\n`);
  process.exit(2);
}
const settings = (flags['pg-setting'] ?? []) as string[];
const badSetting = settings.find((x) => !/^[a-z_][a-z0-9_.]*=.+$/i.test(x));
if (badSetting !== undefined) {
  process.stderr.write(`error: --pg-setting takes name=value (e.g. autovacuum_naptime=5s), not '${badSetting}'\n`);
  process.exit(2);
}
const out = path.join(flags.out!, `${flags.size}-${flags.strategy}`);
await mkdir(out, { recursive: true });

// The run, its server kept until we are done reading its WAL.
const args = [
  '--import',
  'tsx',
  path.join(ROOT, 'harness/cli.ts'),
  'run',
  '--provider',
  'embedded',
  '--seed',
  flags.seed!,
  '--size',
  flags.size!,
  '--strategies',
  flags.strategy!,
  '--no-probe',
  '--pg-setting',
  `wal_keep_size=${pgSize(Math.ceil((1.5 * size.bytes) / 1024) * 1024)}`,
  ...settings.flatMap((setting) => ['--pg-setting', setting]),
  '--keep',
  '--out',
  path.join(out, 'run'),
];
process.stderr.write(`npm run harness -- ${args.slice(3).join(' ')}\n`);
const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
// The run's own error is on stderr already; its exit code (2 for bad input) is this script's.
let kept = false;
const url = await new Promise<string>((resolve) => {
  let buf = '';
  child.stdout.on('data', (d: Buffer) => {
    process.stderr.write(d);
    buf += d.toString();
    const m = buf.match(new RegExp(`kept ${flags.strategy!.replace(/[.>-]/g, '\\$&')}: psql '([^']+)'`));
    if (m && !kept) {
      kept = true;
      resolve(m[1]);
    }
  });
  child.on('close', (code) => {
    if (kept) return;
    process.stderr.write(`error: the run exited ${code} before keeping its database; see ${out}/run\n`);
    process.exit(code || 1);
  });
});

interface Rel {
  relfilenode: string;
  name: string;
  bytes: number;
  images: number;
}

const client = new pg.Client({ connectionString: url });
await client.connect();
try {
  await client.query('CREATE EXTENSION IF NOT EXISTS pg_walinspect');
  const db = (await client.query<{ oid: string }>('SELECT oid::text FROM pg_database WHERE datname = current_database()')).rows[0].oid;
  // The oldest segment still in pg_wal: wal_keep_size kept everything since the run's server started.
  const oldest = (await client.query<{ name: string; now: string }>(
    `SELECT name, pg_current_wal_lsn()::text AS now FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$' ORDER BY name LIMIT 1`,
  )).rows[0];
  // A segment's name is its timeline, then the LSN's high 32 bits, then the segment within them.
  const hi = parseInt(oldest.name.slice(8, 16), 16);
  const lo = parseInt(oldest.name.slice(16, 24), 16) * WAL_SEGMENT_BYTES;
  const from = `${hi.toString(16).toUpperCase()}/${lo.toString(16).toUpperCase()}`;
  process.stderr.write(`reading WAL ${from} .. ${oldest.now} with pg_walinspect\n`);
  // Every record, numbered by the checkpoint cycle it falls in.
  await client.query(
    `CREATE TEMP TABLE recs AS
     SELECT sum(CASE WHEN r.record_type = 'CHECKPOINT_ONLINE' THEN 1 ELSE 0 END) OVER (ORDER BY r.start_lsn) AS cycle,
       r.start_lsn, r.end_lsn, r.resource_manager AS rm, r.record_type AS rt, r.block_ref
     FROM pg_get_wal_records_info($1, $2) r`,
    [from, oldest.now],
  );
  // Each record's block references, one row per image of a page of this database.
  await client.query(
    `CREATE TEMP TABLE images AS
     SELECT r.cycle, m[2] AS relfilenode, m[1] AS db
     FROM recs r
     LEFT JOIN LATERAL regexp_matches(r.block_ref, 'rel \\d+/(\\d+)/(\\d+)(?: fork \\w+)? blk \\d+ \\(?FPW', 'g') m ON true`,
  );
  const rels = (
    await client.query<{ relfilenode: string; name: string | null; bytes: string | null; images: string }>(
      `SELECT i.relfilenode, c.relname AS name, pg_relation_size(c.oid)::text AS bytes, count(*)::text AS images
       FROM images i LEFT JOIN pg_class c ON c.relfilenode = i.relfilenode::oid AND c.relfilenode <> 0
       WHERE i.db = $1 GROUP BY 1, 2, 3 ORDER BY count(*) DESC`,
      [db],
    )
  ).rows.map((r): Rel => ({ relfilenode: r.relfilenode, name: r.name ?? `(relfilenode ${r.relfilenode})`, bytes: Number(r.bytes ?? 0), images: Number(r.images) }));
  // Images per checkpoint cycle, and whether the cycle imaged a page of chat_message (heap, TOAST, indexes).
  const cycles = (
    await client.query<{ cycle: string; images: string; load: boolean }>(
      `WITH cm AS (
         SELECT relfilenode::text AS f FROM pg_class WHERE oid IN (
           SELECT 'chat_message'::regclass UNION SELECT reltoastrelid FROM pg_class WHERE oid = 'chat_message'::regclass
           UNION SELECT indexrelid FROM pg_index WHERE indrelid = 'chat_message'::regclass))
       SELECT cycle, count(relfilenode) FILTER (WHERE db = $1)::text AS images,
         coalesce(bool_or(db = $1 AND relfilenode IN (SELECT f FROM cm)), false) AS load
       FROM images GROUP BY cycle ORDER BY cycle`,
      [db],
    )
  ).rows.map((r) => ({ cycle: Number(r.cycle), images: Number(r.images), load: r.load }));
  // The load: from the first cycle that imaged a page of chat_message to the last.
  const first = cycles.findIndex((c) => c.load);
  const last = cycles.findLastIndex((c) => c.load);
  const load = first < 0 ? [] : cycles.slice(first, last + 1).map(({ cycle, images }) => ({ cycle, images }));
  const total = rels.reduce((a, r) => a + r.images, 0);
  const lines = [
    `${flags.strategy} at ${flags.size} (seed ${flags.seed}): ${total.toLocaleString('en-US')} full-page images of its database's pages in the WAL read, over ${load.length} checkpoint cycles of the load`,
    '',
    '| relation | size after | images | share |',
    '| --- | ---: | ---: | ---: |',
    ...rels.slice(0, 14).map((r) => `| ${r.name} | ${formatBytes(r.bytes)} | ${r.images.toLocaleString('en-US')} | ${((100 * r.images) / total).toFixed(1)} % |`),
    '',
    'Images per checkpoint cycle, the load cut in tenths (cycles in order; mean and highest of each tenth):',
    '',
    '| tenth | cycles | mean | highest |',
    '| ---: | ---: | ---: | ---: |',
  ];
  for (let t = 0; t < 10; t++) {
    const part = load.slice(Math.floor((t * load.length) / 10), Math.floor(((t + 1) * load.length) / 10));
    if (!part.length) continue;
    const mean = part.reduce((a, c) => a + c.images, 0) / part.length;
    lines.push(`| ${t + 1} | ${part.length} | ${Math.round(mean).toLocaleString('en-US')} | ${Math.max(...part.map((c) => c.images)).toLocaleString('en-US')} |`);
  }
  lines.push('', `Every cycle of the load, in order: ${load.map((c) => c.images).join(' ')}`);
  // What fills a cycle: its WAL, the rows it inserted into chat_message, and its images split
  // between chat_message's indexes and the rest; images per 1,000 rows say whether a cycle
  // images more because it holds more rows or because each row lands on more untouched pages.
  const detail = new Map(
    (
      await client.query<{ cycle: string; wal: string; rows: string; idx: string; other: string }>(
        `WITH heap AS (SELECT relfilenode::text AS f FROM pg_class WHERE oid = 'chat_message'::regclass),
           idx AS (SELECT c.relfilenode::text AS f FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'chat_message'::regclass),
           w AS (SELECT cycle, (max(end_lsn) - min(start_lsn))::text AS wal,
                   count(*) FILTER (WHERE rm = 'Heap' AND rt LIKE 'INSERT%' AND block_ref ~ ('/' || (SELECT f FROM heap) || ' (fork main )?blk '))::text AS rows
                 FROM recs GROUP BY cycle),
           im AS (SELECT cycle, count(*) FILTER (WHERE db = $1 AND relfilenode IN (SELECT f FROM idx))::text AS idx,
                   count(*) FILTER (WHERE db = $1 AND relfilenode NOT IN (SELECT f FROM idx))::text AS other
                 FROM images GROUP BY cycle)
         SELECT w.cycle::text, w.wal, w.rows, im.idx, im.other FROM w JOIN im USING (cycle)`,
        [db],
      )
    ).rows.map((r) => [Number(r.cycle), { wal: Number(r.wal), rows: Number(r.rows), idx: Number(r.idx), other: Number(r.other) }]),
  );
  lines.push(
    '',
    'What fills the cycles, by tenth of the load (per cycle, means):',
    '',
    '| tenth | WAL | rows into chat_message | index images | other images | index images per 1,000 rows |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  const perTenth: { tenth: number; walBytes: number; rows: number; indexImages: number; otherImages: number }[] = [];
  for (let t = 0; t < 10; t++) {
    const part = load.slice(Math.floor((t * load.length) / 10), Math.floor(((t + 1) * load.length) / 10)).map((c) => detail.get(c.cycle)).filter((d) => d !== undefined);
    if (!part.length) continue;
    const mean = (f: (d: (typeof part)[number]) => number) => part.reduce((a, d) => a + f(d), 0) / part.length;
    const row = { tenth: t + 1, walBytes: mean((d) => d.wal), rows: mean((d) => d.rows), indexImages: mean((d) => d.idx), otherImages: mean((d) => d.other) };
    perTenth.push(row);
    lines.push(
      `| ${row.tenth} | ${formatBytes(row.walBytes)} | ${Math.round(row.rows).toLocaleString('en-US')} | ${Math.round(row.indexImages).toLocaleString('en-US')} | ${Math.round(row.otherImages).toLocaleString('en-US')} | ${row.rows > 0 ? ((1000 * row.indexImages) / row.rows).toFixed(0) : '–'} |`,
    );
  }
  // Autovacuum over chat_message while the load went on (a load that commits as it goes: chunked): its
  // passes, by the VISIBLE records it writes for heap and TOAST pages, and the images on those pages whose
  // previous change lay more than two checkpoint spacings back: room a pass made findable again in old
  // pages (the free space map), which later inserts filled. A run shorter than autovacuum_naptime has none.
  const spacing = load.length ? load.reduce((a, c) => a + (detail.get(c.cycle)?.wal ?? 0), 0) / load.length : 0;
  const farBytes = Math.round(2 * spacing);
  await client.query(
    `CREATE TEMP TABLE refs AS
     WITH t AS (SELECT relfilenode::text AS f FROM pg_class WHERE oid IN ('chat_message'::regclass, (SELECT reltoastrelid FROM pg_class WHERE oid = 'chat_message'::regclass)))
     SELECT r.start_lsn AS lsn, r.rt, m[1] AS rel, m[2]::bigint AS blk, m[3] IS NOT NULL AS fpw
     FROM recs r CROSS JOIN LATERAL regexp_matches(r.block_ref, 'rel \\d+/' || $1 || '/(\\d+)(?: fork main)? blk (\\d+)( \\(?FPW)?', 'g') m
     WHERE m[1] IN (SELECT f FROM t)`,
    [db],
  );
  const passes = (
    await client.query<{ from_lsn: string; to_lsn: string; pages: string }>(
      `SELECT min(lsn)::text AS from_lsn, max(lsn)::text AS to_lsn, count(*)::text AS pages
       FROM (SELECT lsn, sum(CASE WHEN prev IS NULL OR lsn - prev > $1 THEN 1 ELSE 0 END) OVER (ORDER BY lsn) AS pass
             FROM (SELECT lsn, lag(lsn) OVER (ORDER BY lsn) AS prev FROM refs WHERE rt = 'VISIBLE') v) w
       GROUP BY pass ORDER BY pass`,
      [16 * 1024 * 1024],
    )
  ).rows;
  const far = (
    await client.query<{ images: string; far_images: string; after_pass: string }>(
      `SELECT count(*) FILTER (WHERE fpw)::text AS images, count(*) FILTER (WHERE fpw AND gap > $1)::text AS far_images,
         count(*) FILTER (WHERE fpw AND gap > $1 AND lsn > $2::pg_lsn)::text AS after_pass
       FROM (SELECT lsn, fpw, lsn - lag(lsn) OVER (PARTITION BY rel, blk ORDER BY lsn) AS gap FROM refs WHERE NOT (rt = 'VISIBLE' AND NOT fpw)) c`,
      [farBytes, passes[0]?.from_lsn ?? 'FFFFFFFF/FFFFFFFF'],
    )
  ).rows[0];
  const autovacuum = {
    passes: passes.map((p) => ({ fromLsn: p.from_lsn, toLsn: p.to_lsn, pagesMarkedVisible: Number(p.pages) })),
    farBytes,
    images: Number(far.images),
    farImages: Number(far.far_images),
    farImagesAfterAPass: Number(far.after_pass),
  };
  lines.push(
    '',
    `Autovacuum over chat_message during the run: ${passes.length ? `${passes.length} pass${passes.length > 1 ? 'es' : ''} (${passes.map((p) => `${p.from_lsn}–${p.to_lsn}, ${Number(p.pages).toLocaleString('en-US')} pages marked all-visible`).join('; ')})` : 'none'}. ` +
      `Images of its heap and TOAST pages: ${autovacuum.images.toLocaleString('en-US')}, of which ${autovacuum.farImages.toLocaleString('en-US')} on pages whose previous change lay more than ${formatBytes(farBytes)} of WAL back (two checkpoint spacings), ${autovacuum.farImagesAfterAPass.toLocaleString('en-US')} of those after a pass began.`,
  );
  const text = lines.join('\n') + '\n';
  process.stdout.write(text);
  await writeFile(path.join(out, 'fpi-sources.md'), text);
  await writeFile(path.join(out, 'fpi-sources.json'), JSON.stringify({ strategy: flags.strategy, size: flags.size, seed: Number(flags.seed), relations: rels, cycles: load.map((c) => ({ ...c, ...detail.get(c.cycle) })), tenths: perTenth, autovacuum }, null, 2) + '\n');
  process.stderr.write(`written: ${out}/fpi-sources.md, fpi-sources.json (the run's own report: ${out}/run/report.md)\n`);
} finally {
  await client.end().catch(() => undefined);
  child.kill('SIGINT');
  await new Promise((r) => child.on('close', r));
}
