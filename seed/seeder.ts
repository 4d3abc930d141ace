/**
 * Fill `chat` with a dataset: generated chats streamed through COPY FROM
 * STDIN, several streams at once over disjoint chat ranges, each range
 * committed together with its share of the manifest, so a killed seed
 * resumes where it stopped and ends with the same bytes.
 *
 * Data flow: plan (which chats) → units (16 chats, in two passes: large
 * documents with compression off, then small ones with it on) → per unit one
 * transaction: COPY chat, COPY manifest rows, record the unit → constraints
 * and indexes → VACUUM (FREEZE, ANALYZE) → CHECKPOINT → summary.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { chatChecksumSql } from '../harness/openwebui/row-digest.ts';
import { ALEMBIC_VERSION_DDL, CHAT_CONSTRAINT_DDL, CHAT_COPY_COLUMNS, CHAT_INDEX_DDL, CHAT_TABLE_DDL } from '../harness/openwebui/schema.ts';
import { closeQuietly, connect, type Client } from '../harness/postgres/sql.ts';
import type { StartedPostgres } from '../harness/postgres/started-postgres.ts';
import { chatPlan, GENERATOR_VERSION } from './chat-generator.ts';
import { ChatWorker } from './chat-worker.ts';
import { CHATS_PER_UNIT, datasetKey, INCOMPRESSIBLE_ABOVE, planDataset, type DatasetSpec } from './dataset-plan.ts';
import { MANIFEST_DDL, MANIFEST_TOTALS_SQL } from './manifest.ts';

export interface SeedProgress {
  phase: 'plan' | 'load' | 'indexes' | 'vacuum' | 'checkpoint' | 'done';
  bytesDone: number;
  bytesTotal: number;
  unitsDone: number;
  unitsTotal: number;
}

export interface SeedOptions {
  server: StartedPostgres;
  database: string;
  dataset: DatasetSpec;
  /** Parallel COPY streams. Default is 2. */
  streams?: number;
  onProgress?: (p: SeedProgress) => void;
  /** Stop (as if killed) after this many units commit: for resumption tests. */
  stopAfterUnits?: number;
}

export interface SeedSummary {
  key: string;
  generatorVersion: number;
  seed: number;
  edgeCaseRate: number;
  sharedRate: number;
  /** Rows in `chat` (chats and their shared snapshots). */
  chats: number;
  /** Chats the migration reads (not shared snapshots, not NULL owners). */
  migratedChats: number;
  /** Messages in `history.messages` across migrated chats. */
  messages: number;
  expectedRows: number;
  /** Messages whose insert fails upstream (logged and skipped). */
  expectedFailures: number;
  /** Expected rows whose timestamp is the migration's own `now`. */
  nowRows: number;
  /** Order-independent checksum of the expected rows' bodies. */
  checksum: string;
  /** Order-independent checksum of every chat's id and document (`chatChecksumSql`): tells an untouched database. */
  chatChecksum: string;
  generatedBytes: number;
  chatTableBytes: number;
  edgeCases: Record<string, number>;
  /** Seconds spent seeding in this call (0 when the dataset was already complete). */
  seedSeconds: number;
  /** True when this call found the dataset complete and did nothing. */
  reused: boolean;
  /** Units this call loaded, and units found already loaded (a resumed seed). */
  unitsLoaded: number;
  unitsResumed: number;
}

export class SeedStopped extends Error {
  constructor(readonly units: number) {
    super(`seeding stopped after ${units} units (stopAfterUnits)`);
  }
}

type Phase = 'x' | 'c';

interface Unit {
  name: string;
  phase: Phase;
  indices: number[];
  plannedBytes: number;
}

function docBytes(spec: DatasetSpec, i: number): number {
  const p = chatPlan(spec, i);
  return p.shared ? p.bytes / 2 : p.bytes;
}

function unitsOf(spec: DatasetSpec, chats: number, planBytes: Float64Array): Unit[] {
  const units: Unit[] = [];
  for (const phase of ['x', 'c'] as Phase[]) {
    for (let start = 0; start < chats; start += CHATS_PER_UNIT) {
      const indices: number[] = [];
      let planned = 0;
      for (let i = start; i < Math.min(chats, start + CHATS_PER_UNIT); i++) {
        const large = docBytes(spec, i) > INCOMPRESSIBLE_ABOVE;
        if (large === (phase === 'x')) {
          indices.push(i);
          planned += planBytes[i];
        }
      }
      if (indices.length) units.push({ name: `${phase}${start / CHATS_PER_UNIT}`, phase, indices, plannedBytes: planned });
    }
  }
  return units;
}

async function tx<T>(client: Client, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const out = await fn();
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

async function copyIn(client: Client, sql: string, source: Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>): Promise<number> {
  const stream = client.query(copyFrom(sql));
  await pipeline(Readable.from(source, { objectMode: false }), stream);
  return stream.rowCount;
}

async function loadUnit(client: Client, worker: ChatWorker, spec: DatasetSpec, unit: Unit, onBytes: (n: number) => void): Promise<void> {
  let end: Parameters<Parameters<ChatWorker['unit']>[3]>[0] | undefined;
  await tx(client, async () => {
    const copied = await copyIn(
      client,
      `COPY chat (${CHAT_COPY_COLUMNS.join(', ')}) FROM STDIN`,
      worker.unit(spec, unit.indices, onBytes, (e) => (end = e)),
    );
    if (!end) throw new Error(`generator ended unit ${unit.name} without a manifest`);
    const m = end.manifest;
    // Count what the server says it stored, not what was sent.
    if (copied !== m.chatRows) throw new Error(`COPY chat reported ${copied} rows for unit ${unit.name}, expected ${m.chatRows}`);
    if (end.rowLines) {
      const n = await copyIn(client, 'COPY harness.expected_rows (id, chat_id, body, usage, created_at) FROM STDIN', [end.rowLines]);
      if (n !== m.expectedRows) throw new Error(`COPY expected_rows reported ${n}, expected ${m.expectedRows}`);
    }
    if (end.failureLines) await copyIn(client, 'COPY harness.expected_failures (id, chat_id, reason) FROM STDIN', [end.failureLines]);
    await client.query(
      `INSERT INTO harness.load_units (unit, chats, chat_rows, migrated_chats, messages, expected_rows, now_rows, failures, bytes, checksum, edge_cases)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [unit.name, m.chats, m.chatRows, m.migratedChats, m.messages, m.expectedRows, m.nowRows, m.failures, m.bytes, m.checksum, JSON.stringify(m.edgeCases)],
    );
  });
}

async function tableExists(client: Client, name: string): Promise<boolean> {
  const r = await client.query('SELECT to_regclass($1) IS NOT NULL AS e', [name]);
  return r.rows[0].e as boolean;
}

async function constraintExists(client: Client, name: string): Promise<boolean> {
  const r = await client.query('SELECT 1 FROM pg_constraint WHERE conname = $1', [name]);
  return (r.rowCount ?? 0) > 0;
}

/** Seed `database` (created by the caller) with `dataset`, resuming a partial seed. */
export async function seedDatabase(opts: SeedOptions): Promise<SeedSummary> {
  const spec = opts.dataset;
  const key = datasetKey(spec);
  const started = performance.now();
  const admin = await connect(opts.server, opts.database, 'seed');
  try {
    await admin.query('SET maintenance_work_mem = \'256MB\'');
    for (const ddl of MANIFEST_DDL) await admin.query(ddl);
    const existing = await admin.query<{ key: string; state: string }>('SELECT key, state FROM harness.dataset');
    if (existing.rows.length && existing.rows[0].key !== key)
      throw new Error(`database ${opts.database} already holds dataset ${existing.rows[0].key}, not ${key}`);
    if (existing.rows[0]?.state === 'complete') return await summarize(admin, spec, key, 0, true, 0, 0);

    opts.onProgress?.({ phase: 'plan', bytesDone: 0, bytesTotal: 0, unitsDone: 0, unitsTotal: 0 });
    const plan = planDataset(spec);
    if (!existing.rows.length) {
      await tx(admin, async () => {
        await admin.query(CHAT_TABLE_DDL);
        for (const ddl of ALEMBIC_VERSION_DDL) await admin.query(ddl);
        await admin.query('INSERT INTO harness.dataset (key, params, planned_chats, state) VALUES ($1, $2, $3, $4)', [
          key,
          JSON.stringify({ ...spec, generatorVersion: GENERATOR_VERSION }),
          plan.chats,
          'loading',
        ]);
      });
    }

    const done = new Set((await admin.query<{ unit: string }>('SELECT unit FROM harness.load_units')).rows.map((r) => r.unit));
    const units = unitsOf(spec, plan.chats, plan.bytes);
    const bytesTotal = units.reduce((a, u) => a + u.plannedBytes, 0);
    let bytesDone = units.filter((u) => done.has(u.name)).reduce((a, u) => a + u.plannedBytes, 0);
    let unitsDone = done.size;
    let loadedHere = 0;
    const report = () => opts.onProgress?.({ phase: 'load', bytesDone, bytesTotal, unitsDone, unitsTotal: units.length });
    report();

    for (const phase of ['x', 'c'] as Phase[]) {
      const todo = units.filter((u) => u.phase === phase && !done.has(u.name));
      if (!todo.length) continue;
      // Storage is a column attribute: switch it only while no stream is loading.
      await admin.query(`ALTER TABLE chat ALTER COLUMN chat SET STORAGE ${phase === 'x' ? 'EXTERNAL' : 'EXTENDED'}`);
      let next = 0;
      const worker = async (n: number) => {
        const client = await connect(opts.server, opts.database, `seed-stream-${n}`);
        const gen = new ChatWorker();
        try {
          await client.query('SET synchronous_commit = off');
          for (;;) {
            if (opts.stopAfterUnits !== undefined && loadedHere >= opts.stopAfterUnits) return;
            const unit = todo[next++];
            if (!unit) return;
            await loadUnit(client, gen, spec, unit, () => undefined);
            loadedHere++;
            unitsDone++;
            bytesDone += unit.plannedBytes;
            report();
          }
        } finally {
          await gen.close();
          await closeQuietly(client);
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, opts.streams ?? 2) }, (_, n) => worker(n)));
      if (opts.stopAfterUnits !== undefined && loadedHere >= opts.stopAfterUnits) throw new SeedStopped(loadedHere);
    }
    await admin.query('ALTER TABLE chat ALTER COLUMN chat SET STORAGE EXTENDED');

    opts.onProgress?.({ phase: 'indexes', bytesDone, bytesTotal, unitsDone, unitsTotal: units.length });
    if (!(await constraintExists(admin, 'chat_pkey'))) await admin.query(CHAT_CONSTRAINT_DDL[0]);
    if (!(await constraintExists(admin, 'chat_share_id_key'))) await admin.query(CHAT_CONSTRAINT_DDL[1]);
    for (const ddl of CHAT_INDEX_DDL) await admin.query(ddl);
    if (!(await constraintExists(admin, 'expected_rows_pkey'))) await admin.query('ALTER TABLE harness.expected_rows ADD CONSTRAINT expected_rows_pkey PRIMARY KEY (id)');

    opts.onProgress?.({ phase: 'vacuum', bytesDone, bytesTotal, unitsDone, unitsTotal: units.length });
    await admin.query('VACUUM (FREEZE, ANALYZE) chat');
    await admin.query('VACUUM (FREEZE, ANALYZE) alembic_version');
    await admin.query('VACUUM (FREEZE, ANALYZE) harness.expected_rows');
    await admin.query('VACUUM (FREEZE, ANALYZE) harness.expected_failures');
    const chatChecksum = await chatChecksumOf(admin);
    opts.onProgress?.({ phase: 'checkpoint', bytesDone, bytesTotal, unitsDone, unitsTotal: units.length });
    await admin.query('CHECKPOINT');
    const seconds = (performance.now() - started) / 1000;
    const summary = await summarize(admin, spec, key, seconds, false, loadedHere, units.length - loadedHere, chatChecksum);
    await admin.query("UPDATE harness.dataset SET state = 'complete', summary = $1", [JSON.stringify(summary)]);
    opts.onProgress?.({ phase: 'done', bytesDone, bytesTotal, unitsDone, unitsTotal: units.length });
    return summary;
  } finally {
    await closeQuietly(admin);
  }
}

async function chatChecksumOf(admin: Client): Promise<string> {
  return (await admin.query<{ s: string }>(`SELECT ${chatChecksumSql('c')} AS s FROM chat c`)).rows[0].s;
}

async function summarize(
  admin: Client,
  spec: DatasetSpec,
  key: string,
  seconds: number,
  reused: boolean,
  loaded: number,
  resumed: number,
  chatChecksum?: string,
): Promise<SeedSummary> {
  const t = (await admin.query(MANIFEST_TOTALS_SQL)).rows[0];
  const edges: Record<string, number> = {};
  for (const r of (await admin.query<{ edge_cases: string }>('SELECT edge_cases FROM harness.load_units')).rows) {
    for (const [k, v] of Object.entries(JSON.parse(r.edge_cases) as Record<string, number>)) edges[k] = (edges[k] ?? 0) + v;
  }
  const size = await admin.query<{ s: string }>("SELECT pg_total_relation_size('chat') AS s");
  const stored = reused ? (await admin.query<{ summary: string }>('SELECT summary FROM harness.dataset')).rows[0]?.summary : null;
  const prior = stored ? (JSON.parse(stored) as SeedSummary) : null;
  return {
    key,
    generatorVersion: GENERATOR_VERSION,
    seed: spec.seed,
    edgeCaseRate: spec.edgeCaseRate,
    sharedRate: spec.sharedRate,
    chats: Number(t.chat_rows),
    migratedChats: Number(t.migrated_chats),
    messages: Number(t.messages),
    expectedRows: Number(t.expected_rows),
    expectedFailures: Number(t.failures),
    nowRows: Number(t.now_rows),
    checksum: t.checksum as string,
    chatChecksum: chatChecksum ?? prior?.chatChecksum ?? (await chatChecksumOf(admin)),
    generatedBytes: Number(t.bytes),
    chatTableBytes: Number(size.rows[0].s),
    edgeCases: edges,
    seedSeconds: reused ? (prior?.seedSeconds ?? 0) : seconds,
    reused,
    unitsLoaded: loaded,
    unitsResumed: resumed,
  };
}

export { tableExists };
