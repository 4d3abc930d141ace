/**
 * Every strategy against one embedded PostgreSQL 15 and one seeded template
 * (every edge case, and more rows than one of original's 5000-row batches),
 * each on its own clone, verified against the seed's manifest: the same
 * rows, byte for byte, whatever the strategy. Then the situations the
 * strategies exist for: original's lock on `chat`, a rerun of chunked, a
 * chunked run ended midway and resumed, a failed original leaving nothing
 * behind, an external psql script, and setbased on documents the seeder
 * does not write. v0.8.0, which lacks the later releases' guards, stops at
 * that dataset's irregular data, as it did for users, and writes the
 * manifest's rows on data without any. A planted poison chat (a document
 * that is not an object) stops every faithful port there, naming it, and
 * is skipped and reported by our proposals.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttemptFailed } from '../../harness/errors.ts';
import { PoisonChatError } from '../../harness/openwebui/chat-to-rows.ts';
import { dumps } from '../../harness/openwebui/python-json.ts';
import { ALEMBIC_VERSION_DDL, CHAT_TABLE_DDL, REVISION_AFTER, REVISION_BEFORE } from '../../harness/openwebui/schema.ts';
import { createOwnedDatabase } from '../../harness/postgres/databases.ts';
import type { StartedEmbeddedPostgres } from '../../harness/postgres/embedded-server.ts';
import { closeQuietly, connect, type Client } from '../../harness/postgres/sql.ts';
import { withClient } from '../../harness/postgres/with-client.ts';
import { chunked } from '../../harness/strategies/chunked.ts';
import { external } from '../../harness/strategies/external/external.ts';
import { original, ORIGINAL_BATCH_MESSAGES } from '../../harness/strategies/original.ts';
import { parallel } from '../../harness/strategies/parallel.ts';
import { resuming } from '../../harness/strategies/resuming.ts';
import { SETBASED_HELPERS_DDL, setbasedPageSql } from '../../harness/strategies/setbased/setbased-sql.ts';
import { setbased } from '../../harness/strategies/setbased/setbased.ts';
import { STRATEGIES, strategyByName } from '../../harness/strategies/strategy-registry.ts';
import type { AttemptReport, Strategy } from '../../harness/strategies/strategy.ts';
import { v080 } from '../../harness/strategies/v080.ts';
import { verifyMigration, type MigrationVerification } from '../../harness/verify/verify-migration.ts';
import { EDGE_CASES } from '../../seed/chat-generator.ts';
import type { SeedSummary } from '../../seed/seeder.ts';
import { directContext, type DirectContextOptions } from '../support/direct-context.ts';
import { cloneDatabase, seedTemplate, startTestServer } from '../support/postgres.ts';

const TEMPLATE = 'tpl_strategies';
/** 560 chats with every edge case planted (seed 104 holds all of them) and about 5,300 rows to migrate. */
const DATASET = { seed: 104, chats: 560, edgeCaseRate: 0.3, sharedRate: 0.05 };
/** Small chats without any edge case: what v0.8.0 completes on. */
const CLEAN_TEMPLATE = 'tpl_clean';
const CLEAN_DATASET = { seed: 5, chats: 120, edgeCaseRate: 0, sharedRate: 0.05, sizeScale: 0.05 };
/** Three pages of small chats, one poison chat at 60% (in the second page). */
const POISON_TEMPLATE = 'tpl_poison';
const POISON_DATASET = { seed: 9, chats: 300, edgeCaseRate: 0.02, sharedRate: 0.03, sizeScale: 0.03, poisonChats: 1, poisonAt: 0.6 };
const FIXTURE = fileURLToPath(new URL('../fixtures/chunked-migration-psql.sh', import.meta.url));

let server: StartedEmbeddedPostgres;
let seeded: SeedSummary;
let clean: SeedSummary;
let poisoned: SeedSummary;
const checksums = new Map<string, string | null>();

beforeAll(async () => {
  server = await startTestServer();
  seeded = await seedTemplate(server, TEMPLATE, DATASET);
  clean = await seedTemplate(server, CLEAN_TEMPLATE, CLEAN_DATASET);
  poisoned = await seedTemplate(server, POISON_TEMPLATE, POISON_DATASET);
});
afterAll(async () => {
  await server?.stop();
});

const nowSec = () => Math.floor(Date.now() / 1000);

interface Run {
  report: AttemptReport;
  verification: MigrationVerification;
  phases: string[];
}

async function verify(database: string, strategy: Strategy, fromSec: number): Promise<MigrationVerification> {
  return withClient(server, database, 'test', (c) => verifyMigration(c, { writesUsage: strategy.writesUsage, window: { fromSec, toSec: nowSec() + 1 } }));
}

/** Run `strategy` on `database` (cloned from `template` unless `reuse`), then verify it. */
async function run(strategy: Strategy, database: string, opts: DirectContextOptions & { reuse?: boolean; fromSec?: number; template?: string } = {}): Promise<Run> {
  if (!opts.reuse) await cloneDatabase(server, opts.template ?? TEMPLATE, database);
  const fromSec = opts.fromSec ?? nowSec();
  const ctx = directContext(server, database, opts);
  const report = await strategy.run(ctx);
  return { report, verification: await verify(database, strategy, fromSec), phases: [...ctx.phases] };
}

function expectVerified(r: Run, data: SeedSummary = seeded): void {
  const v = r.verification;
  expect(v.notes).toEqual([]);
  expect(v.rows).toMatchObject({ inserted: data.expectedRows, expected: data.expectedRows, missing: 0, unexpected: 0, mismatched: 0, expectedFailures: data.expectedFailures });
  expect(v.rows.checksum).toBe(data.checksum);
  expect(v.schema).toMatchObject({ tableExists: true, indexesMissing: [], fkPresent: true, fkValidated: true, untouched: false });
  expect(v.alembicVersion).toBe(REVISION_AFTER);
  expect(v.verified).toBe(true);
}

/** Terminate the migration's backends on `database` (what the runner's faults do). */
async function terminateMigration(database: string): Promise<number> {
  return withClient(server, 'postgres', 'test-fault', async (admin) => {
    const r = await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'owui-harness:migration%'",
      [database],
    );
    return r.rowCount ?? 0;
  });
}

/** A fingerprint of every row version in chat_message: unchanged only if no row was written. */
async function rowVersions(database: string): Promise<{ n: number; versions: string }> {
  return withClient(server, database, 'test', async (c) => {
    const r = await c.query<{ n: number; versions: string }>("SELECT count(*)::int AS n, md5(string_agg(id || ':' || xmin::text, ',' ORDER BY id)) AS versions FROM chat_message");
    return r.rows[0];
  });
}

describe('the registry', () => {
  it('lists the strategies in report order and finds them by name', () => {
    expect(STRATEGIES.map((s) => s.name)).toEqual(['original', 'v0.8.0', 'v0.9.6', 'chunked', 'setbased', 'parallel', 'resuming', 'external', 'upstream']);
    expect(strategyByName('v0.8.0')).toBe(v080);
    expect(strategyByName('nope')).toBeUndefined();
  });
});

describe('every strategy writes the rows upstream writes', () => {
  it('runs on a dataset with every edge case and more than one batch of rows', () => {
    expect(EDGE_CASES.filter((e) => !seeded.edgeCases[e])).toEqual([]);
    expect(seeded.expectedRows).toBeGreaterThan(ORIGINAL_BATCH_MESSAGES);
    expect(seeded.expectedFailures).toBeGreaterThan(0);
  });

  it('original holds SHARE ROW EXCLUSIVE on chat until COMMIT; writes to chat wait for it', async () => {
    const db = 'st_original';
    let reachedCommit!: () => void;
    const atCommit = new Promise<void>((r) => (reachedCommit = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let committedAt = 0;
    await cloneDatabase(server, TEMPLATE, db);
    const watch = await connect(server, db, 'test-observer');
    const writer = await connect(server, db, 'test-writer');
    const locksOnChat = async () =>
      (
        await watch.query<{ mode: string }>(
          `SELECT l.mode FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
           WHERE l.relation = 'chat'::regclass AND l.granted AND a.application_name LIKE 'owui-harness:migration%'`,
        )
      ).rows.map((r) => r.mode);
    let duringLoad: Promise<string[]> | undefined;
    try {
      const fromSec = nowSec();
      const batches: boolean[] = [];
      const ctx = directContext(server, db, {
        onProgress: (_rows, committed) => {
          batches.push(committed);
          duringLoad ??= locksOnChat();
        },
        onConnect: (client) => {
          const query = client.query.bind(client) as (...a: unknown[]) => Promise<unknown>;
          client.query = (async (...args: unknown[]) => {
            if (args[0] === 'COMMIT') {
              reachedCommit();
              await gate;
              const out = await query(...args);
              committedAt = performance.now();
              return out;
            }
            return query(...args);
          }) as unknown as Client['query'];
        },
      });
      const migration = original.run(ctx);
      await atCommit;

      expect(await duringLoad).toContain('ShareRowExclusiveLock');
      expect(await locksOnChat()).toContain('ShareRowExclusiveLock');
      // The application writes a chat: it must wait for the migration's COMMIT.
      let updatedAt = 0;
      const update = writer.query('UPDATE chat SET title = title WHERE id = (SELECT min(id) FROM chat)').then(() => (updatedAt = performance.now()));
      await new Promise((r) => setTimeout(r, 500));
      const waiting = await watch.query<{ wait_event_type: string | null }>(
        "SELECT wait_event_type FROM pg_stat_activity WHERE application_name = 'owui-harness:test-writer' AND datname = $1",
        [db],
      );
      expect(waiting.rows[0]?.wait_event_type).toBe('Lock');
      expect(updatedAt).toBe(0);

      release();
      const report = await migration;
      await update;
      expect(updatedAt).toBeGreaterThanOrEqual(committedAt);
      expect(await locksOnChat()).toEqual([]);
      // One transaction: progress was never committed before the end, and committed once at the end.
      expect(batches.slice(0, -1).every((c) => !c)).toBe(true);
      expect(batches.filter((c) => !c).length).toBeGreaterThan(1);
      expect(batches[batches.length - 1]).toBe(true);
      expect(report.rowsInserted).toBe(seeded.expectedRows);
      expect(report.rowsFailed).toBe(seeded.expectedFailures);
      expect(ctx.phases).toEqual(['schema', 'indexes', 'load', 'stamp']);
      const r: Run = { report, verification: await verify(db, original, fromSec), phases: ctx.phases };
      expectVerified(r);
      checksums.set('original', r.verification.rows.checksum);
    } finally {
      release();
      await closeQuietly(watch);
      await closeQuietly(writer);
    }
  });

  it.each([
    [chunked, ['schema', 'load', 'indexes', 'constraint', 'stamp']],
    [setbased, ['schema', 'load', 'indexes', 'constraint', 'stamp']],
    [parallel, ['schema', 'load', 'indexes', 'constraint', 'stamp']],
    [resuming, ['schema', 'load', 'indexes', 'constraint', 'stamp']],
  ] as const)('$name writes the manifest rows', async (strategy, phases) => {
    const r = await run(strategy, `st_${strategy.name.replace(/\W/g, '')}`);
    expectVerified(r);
    expect(r.report.rowsInserted).toBe(seeded.expectedRows);
    expect(r.report.rowsFailed).toBe(seeded.expectedFailures);
    expect(r.report.failures).toHaveLength(Math.min(100, seeded.expectedFailures));
    expect(r.phases).toEqual(phases);
    checksums.set(strategy.name, r.verification.rows.checksum);
  });

  it('v0.8.0 stops at the first chat its missing guards trip on, as released, and leaves the database as it was', async () => {
    const db = 'st_v080_edge';
    await cloneDatabase(server, TEMPLATE, db);
    const stops = await withClient(server, db, 'test', async (c) => (await c.query<{ chat_id: string; reason: string }>("SELECT chat_id, reason FROM harness.poison_chats WHERE rules = 'v0.8.0'")).rows);
    expect(seeded.poisonChats).toBe(0);
    expect(stops.length).toBe(seeded.v080PoisonChats);
    expect(stops.length).toBeGreaterThan(0);
    const err = (await v080.run(directContext(server, db)).then(
      () => new Error('v0.8.0 finished'),
      (e: unknown) => e,
    )) as Error;
    expect(err).toBeInstanceOf(PoisonChatError);
    // fetchall() reads in the table's order: whichever of them comes first; the error names it and Python's exception.
    const at = (err as PoisonChatError).poison;
    expect(stops).toContainEqual({ chat_id: at.chatId, reason: at.reason });
    expect(err.message).toBe(`chat ${at.chatId} stops the migration: ${at.reason}`);
    const v = await verify(db, v080, nowSec());
    expect(v.schema).toMatchObject({ tableExists: false, untouched: true });
    expect(v.alembicVersion).toBe(REVISION_BEFORE);
  });

  it('v0.8.0 writes the manifest rows (usage NULL) on data without irregular values', async () => {
    const r = await run(v080, 'st_v080', { template: CLEAN_TEMPLATE });
    expectVerified(r, clean);
    expect(r.report.rowsInserted).toBe(clean.expectedRows);
    expect(r.phases).toEqual(['schema', 'indexes', 'load', 'stamp']);
    const usage = (db: string) => withClient(server, db, 'test', async (c) => (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM chat_message WHERE usage IS NOT NULL')).rows[0].n);
    expect(await usage('st_v080')).toBe(0);
    expect(await usage('st_chunked')).toBe(seeded.expectedRows);
  });

  it('the released migrations create done without a server default; the fix with DEFAULT true', async () => {
    const defaultOf = (db: string) =>
      withClient(server, db, 'test', async (c) => (await c.query<{ d: string | null }>("SELECT column_default AS d FROM information_schema.columns WHERE table_name = 'chat_message' AND column_name = 'done'")).rows[0].d);
    expect(await defaultOf('st_original')).toBeNull();
    expect(await defaultOf('st_v080')).toBeNull();
    expect(await defaultOf('st_chunked')).toBe('true');
  });
});

describe('the fix is idempotent and resumable', () => {
  it('a rerun of a completed chunked migration changes nothing', async () => {
    const before = await rowVersions('st_chunked');
    const fromSec = nowSec() - 600;
    const r = await run(chunked, 'st_chunked', { reuse: true, fromSec });
    expect(r.report.rowsInserted).toBe(0);
    expect(await rowVersions('st_chunked')).toEqual(before);
    expectVerified(r);
  });

  /** Run `strategy` on a fresh copy and end its connection after two committed pages; what it kept. */
  async function endAfterTwoPages(strategy: Strategy, db: string): Promise<{ fromSec: number; rows: number; last: string; stamp: string }> {
    await cloneDatabase(server, TEMPLATE, db);
    const fromSec = nowSec();
    let pages = 0;
    let killing: Promise<number> | undefined;
    const ctx = directContext(server, db, {
      onProgress: (_rows, committed) => {
        if (committed && ++pages === 2) killing = terminateMigration(db);
      },
    });
    await expect(strategy.run(ctx)).rejects.toThrow();
    expect(await killing).toBe(1);
    const kept = await withClient(server, db, 'test', async (c) => ({
      ...(await c.query<{ rows: number; last: string }>('SELECT count(*)::int AS rows, max(chat_id) AS last FROM chat_message')).rows[0],
      stamp: (await c.query<{ v: string }>('SELECT version_num AS v FROM alembic_version')).rows[0].v,
    }));
    expect(kept.rows).toBeGreaterThan(0);
    expect(kept.rows).toBeLessThan(seeded.expectedRows);
    expect(kept.stamp).toBe(REVISION_BEFORE);
    return { fromSec, ...kept };
  }

  /** Run `strategy` again on `db`, noting where each keyset page it reads starts. */
  async function rerunNotingPages(strategy: Strategy, db: string, fromSec: number): Promise<{ r: Run; pageStarts: string[] }> {
    const pageStarts: string[] = [];
    const r = await run(strategy, db, {
      reuse: true,
      fromSec,
      onConnect: (client) => {
        const query = client.query.bind(client) as (...a: unknown[]) => Promise<unknown>;
        client.query = ((...args: unknown[]) => {
          if (typeof args[0] === 'string' && args[0].startsWith('SELECT id, user_id, chat FROM chat WHERE id > $1')) pageStarts.push((args[1] as string[])[0]);
          return query(...args);
        }) as unknown as Client['query'];
      },
    });
    return { r, pageStarts };
  }

  it('chunked ended after two pages, then run again, completes the job, reading again from the first chat', async () => {
    const kept = await endAfterTwoPages(chunked, 'st_chunked_killed');
    const { r, pageStarts } = await rerunNotingPages(chunked, 'st_chunked_killed', kept.fromSec);
    // The restart tax: the walk starts over ('' sorts before every id).
    expect(pageStarts[0]).toBe('');
    expect(r.report.rowsInserted).toBe(seeded.expectedRows - kept.rows);
    expectVerified(r);
  });

  it('resuming, ended after two pages, continues after the last migrated chat instead of the first', async () => {
    const kept = await endAfterTwoPages(resuming, 'st_resuming_killed');
    const { r, pageStarts } = await rerunNotingPages(resuming, 'st_resuming_killed', kept.fromSec);
    expect(pageStarts[0]).toBe(kept.last);
    expect(r.report.rowsInserted).toBe(seeded.expectedRows - kept.rows);
    expectVerified(r);
  });

  it('a failed original leaves the database exactly as it was', async () => {
    const db = 'st_original_failed';
    await cloneDatabase(server, TEMPLATE, db);
    let killing: Promise<number> | undefined;
    const ctx = directContext(server, db, {
      // End the backend while the first batch's INSERT runs: mid-load, deep inside the one transaction.
      onConnect: (client) => {
        const query = client.query.bind(client) as (...a: unknown[]) => Promise<unknown>;
        client.query = ((...args: unknown[]) => {
          const out = query(...args);
          if (typeof args[0] === 'string' && args[0].startsWith('INSERT')) killing ??= terminateMigration(db);
          return out;
        }) as unknown as Client['query'];
      },
    });
    await expect(original.run(ctx)).rejects.toThrow();
    expect(await killing).toBe(1);
    expect(ctx.phases).toEqual(['schema', 'indexes', 'load']);
    const v = await verify(db, original, nowSec());
    expect(v.schema.untouched).toBe(true);
    expect(v.schema.tableExists).toBe(false);
    expect(v.rows).toMatchObject({ inserted: 0, missing: seeded.expectedRows, checksum: null });
    expect(v.alembicVersion).toBe(REVISION_BEFORE);
    expect(v.verified).toBe(false);
    // And the check can fail: a changed document is noticed.
    await withClient(server, db, 'test', (c) => c.query(`UPDATE chat SET chat = '{}' WHERE id = (SELECT min(id) FROM chat)`));
    expect((await verify(db, original, nowSec())).schema.untouched).toBe(false);
  });
});

describe('external', () => {
  it('runs a psql script doing the chunked migration, with the same verified result', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'owui-external-'));
    try {
      const rowsSql = path.join(dir, 'rows.sql');
      const pageSql = `${setbasedPageSql('careful')} RETURNING 1`;
      await writeFile(
        rowsSql,
        [
          ...SETBASED_HELPERS_DDL,
          `CREATE OR REPLACE FUNCTION owui_harness.migrate_page(after text, up_to text, now bigint) RETURNS bigint LANGUAGE sql AS $page$ WITH inserted AS (${pageSql}) SELECT count(*) FROM inserted $page$`,
        ].join(';\n') + ';\n',
      );
      const r = await run(external, 'st_external', { options: { command: `sh '${FIXTURE}' '${rowsSql}'` } });
      expect(r.report.exitCode).toBe(0);
      expect(r.report.stdout).toMatch(/loaded \d+ pages of chats\nstamped 8452d01d26d7/);
      // The rows upstream fails are reported by the SQL as notices, which psql prints on stderr.
      expect(r.report.stderr!.match(/owui-harness row failure/g)).toHaveLength(seeded.expectedFailures);
      expect(r.report.rowsInserted).toBe(seeded.expectedRows);
      expect(r.report.childPeakRssBytes).toBeGreaterThan(0);
      expect(r.phases).toEqual(['command']);
      expectVerified(r);
      checksums.set('external', r.verification.rows.checksum);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails with the exit status and the last stderr lines, keeping the output', async () => {
    await cloneDatabase(server, TEMPLATE, 'st_external_fails');
    const err = (await external
      .run(directContext(server, 'st_external_fails', { options: { command: 'echo "$PGDATABASE"; echo "no such revision" >&2; exit 3' } }))
      .then(
        () => new Error('the command did not fail'),
        (e: unknown) => e,
      )) as AttemptFailed;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/exited with status 3; last stderr lines: no such revision/);
    expect(err.report).toMatchObject({ exitCode: 3, stdout: 'st_external_fails\n', rowsInserted: 0 });
  });

  it('sees the end and keeps the output of a command that exits while the harness is still registering it', async () => {
    await cloneDatabase(server, TEMPLATE, 'st_external_quick');
    const ctx = directContext(server, 'st_external_quick', { options: { command: 'echo "quick $PGDATABASE"; echo "gone" >&2; exit 4' } });
    // The registry (kill -9 safety) is written after spawning: make that slow enough for the command to be gone by then.
    ctx.own = async () => {
      await new Promise((r) => setTimeout(r, 500));
      return async () => undefined;
    };
    const err = (await Promise.race([
      external.run(ctx).then(
        () => new Error('the command did not fail'),
        (e: unknown) => e,
      ),
      new Promise((r) => setTimeout(() => r(new Error('hung: the exit was missed')), 15_000)),
    ])) as AttemptFailed;
    expect(err.message).toMatch(/exited with status 4; last stderr lines: gone/);
    expect(err.report).toMatchObject({ exitCode: 4, stdout: 'quick st_external_quick\n', stderr: 'gone\n' });
  });

  it('kills the whole process group when the attempt is aborted', async () => {
    await cloneDatabase(server, TEMPLATE, 'st_external_aborted');
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const started = performance.now();
    const err = (await external
      .run(directContext(server, 'st_external_aborted', { signal: ac.signal, options: { command: 'sleep 30 & sleep 30; wait' } }))
      .then(
        () => new Error('the command was not stopped'),
        (e: unknown) => e,
      )) as Error;
    expect(err.message).toMatch(/stopped because the attempt was aborted/);
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});

describe('the same rows from every strategy', () => {
  it('gives one checksum, the manifest\u2019s', () => {
    expect([...checksums.keys()].sort()).toEqual(['chunked', 'external', 'original', 'parallel', 'resuming', 'setbased']);
    expect(new Set(checksums.values())).toEqual(new Set([seeded.checksum]));
  });
});

describe('setbased on documents the seeder does not write', () => {
  // Python semantics beyond the seeded edge cases, each chat in json.dumps format
  // (the format setbased promises byte-identical rows for); rows compared with chunked's.
  const msg = (extra: string) => `{"id": "m", "parentId": null, "role": "user", "content": "hi", "timestamp": 1700000000, ${extra}}`;
  const docOf = (messages: string) => `{"history": {"currentId": null, "messages": ${messages}}, "messages": []}`;
  const variants = [
    '"role": 0', '"role": 0.0', '"role": -0.0', '"role": false', '"role": null', '"role": []', '"role": {}', '"role": ""', '"role": "0"',
    '"role": 7', '"role": 2.5', '"role": true', '"role": 1e400', '"role": 1e-400', '"role": [0]', '"role": {"a": 1}',
    '"parentId": 5', '"parentId": -0', '"parentId": 1e16', '"parentId": 100.0', '"parentId": 1e-05', '"parentId": false',
    '"parentId": 1234567890123456.0', '"parentId": 1e22', '"parentId": 0.1', '"parentId": 12345678901234567890', '"parentId": 1e400',
    '"model": {"id": "x"}', '"model": ["a"]', '"model": "gpt-4o"',
    '"done": null', '"done": 0', '"done": 1', '"done": 1.0', '"done": 0.0', '"done": false', '"done": "yes"', '"done": 2', '"done": []', '"done": -0.0',
    '"timestamp": " 1700000003 "', '"timestamp": "1.7e9"', '"timestamp": "abc"', '"timestamp": null', '"timestamp": 1700000000.9',
    '"timestamp": true', '"timestamp": "inf"', '"timestamp": "nan"', '"timestamp": "1_700_000_000"', '"timestamp": "1__7"', '"timestamp": "1.7e12"',
    '"timestamp": [1]', '"timestamp": 1577836800', '"timestamp": 1577836799', '"timestamp": 10000000001', '"timestamp": 1e400',
    '"timestamp": "\\t1700000000\\n"', '"timestamp": "+1700000000"', '"timestamp": ".17e10"', '"timestamp": "1700000000."',
    '"timestamp": "\\u00a01700000000"', '"timestamp": 1700000000123', '"timestamp": -1700000000', '"timestamp": 17000000001234567',
    '"content": "h\\u00e9llo \\u2713 \\ud834\\udd1e"', '"content": "a\\u0000b"', '"content": "a\\\\u0000b"', '"output": [{"t": "x\\u0000"}]',
    '"usage": {"n": 12345678901234567890, "f": 1.5e-07, "g": 1e+22}', '"error": {"content": "boom"}', '"statusHistory": []',
    '"files": {"2": 1, "1": 2}', '"embeds": "e"', '"content": "tab\\there \\"q\\" back\\\\slash"',
  ];
  const chats: [id: string, userId: string | null, text: string | null][] = [
    ...variants.map((v, i) => [`v${String(i).padStart(3, '0')}`, 'u1', docOf(`{"m1": ${msg(v)}, "m2": ${msg('"role": "assistant"')}}`)] as [string, string, string]),
    ['w001', 'u1', docOf(`{"a\\u0000b": ${msg('"role": "user"')}, "ok": ${msg('"role": "user"')}}`)],
    ['w002', 'u1', dumps(docOf(`{"m1": ${msg('"content": "x\\u0000"')}, "m2": ${msg('"role": "us\\u0000er"')}}`))],
    ['w003', 'u1', JSON.stringify('{"history": {"messages": {"m1": {"role": "user", "content": "\u0000"}}}}')],
    ['w004', 'u1', JSON.stringify('{"history": ')],
    ['w005', 'u1', '{"history": {"messages": {"m1": {"role": "user", "content": "a", "role": "assistant"}}}}'],
    ['w006', null, docOf(`{"m1": ${msg('"role": "user"')}}`)],
    ['w007', 'shared-w001', docOf(`{"m1": ${msg('"role": "user"')}}`)],
    ['w008', 'u1', docOf('{"m1": "not a message", "m2": null, "m3": []}')],
    ['w009', 'u1', '{"history": {"messages": null}}'],
    ['w010', 'u1', 'null'],
    ['w011', 'u1', null],
    ['w012', 'u1', '{"history": {"messages": {"m1": {"role": "user", "content": "lone \\ud800 surrogate"}, "m2": {"role": "user"}}}}'],
  ];
  const LONE = 'w012';

  async function craftedTemplate(): Promise<void> {
    await withClient(server, 'postgres', 'test-admin', async (admin) => {
      await createOwnedDatabase(admin, 'tpl_crafted');
    });
    await withClient(server, 'tpl_crafted', 'test', async (c) => {
      await c.query(CHAT_TABLE_DDL);
      await c.query('ALTER TABLE chat ADD CONSTRAINT chat_pkey PRIMARY KEY (id)');
      for (const ddl of ALEMBIC_VERSION_DDL) await c.query(ddl);
      for (const [id, userId, text] of chats) await c.query('INSERT INTO chat (id, user_id, chat) VALUES ($1, $2, $3)', [id, userId, text]);
    });
  }

  async function rowsOf(db: string, fromSec: number): Promise<string[]> {
    return withClient(server, db, 'test', async (c) => {
      const r = await c.query<{ line: string }>(
        `SELECT concat_ws(' | ', id, chat_id, user_id, role, coalesce(parent_id, '<null>'), content, output, coalesce(model_id, '<null>'), files, sources, embeds,
                coalesce(done::text, '<null>'), status_history, error, usage,
                CASE WHEN created_at >= $1 THEN 'now' ELSE created_at::text END, (updated_at = created_at)::text) AS line
         FROM chat_message ORDER BY id`,
        [fromSec - 1],
      );
      return r.rows.map((x) => x.line);
    });
  }

  it('writes the same rows and fails the same messages as chunked, and reports what it cannot read', async () => {
    await craftedTemplate();
    const fromSec = nowSec();
    await cloneDatabase(server, 'tpl_crafted', 'cr_chunked');
    await cloneDatabase(server, 'tpl_crafted', 'cr_setbased');
    const a = await chunked.run(directContext(server, 'cr_chunked'));
    const b = await setbased.run(directContext(server, 'cr_setbased'));

    const rowsA = (await rowsOf('cr_chunked', fromSec)).filter((l) => !l.startsWith(`${LONE}-`));
    const rowsB = await rowsOf('cr_setbased', fromSec);
    expect(rowsB).toEqual(rowsA);
    expect(rowsA.length).toBeGreaterThan(variants.length);
    const idsA = a.failures.map((f) => f.id).filter((id) => !id.startsWith(`${LONE}-`));
    const idsB = b.failures.map((f) => f.id).filter((id) => id !== LONE);
    expect(idsB.sort()).toEqual(idsA.sort());
    // The documented divergence: upstream stores a lone surrogate escape (the json type accepts it, never de-escaping),
    // while SQL must de-escape the document to read it and fails the whole chat.
    expect(a.failures.filter((f) => f.id.startsWith(`${LONE}-`))).toEqual([]);
    expect((await rowsOf('cr_chunked', fromSec)).filter((l) => l.startsWith(`${LONE}-`)).map((l) => l.split(' | ')[0])).toEqual([`${LONE}-m1`, `${LONE}-m2`]);
    expect(b.failures.filter((f) => f.id === LONE)).toHaveLength(1);
    expect(b.failures.find((f) => f.id === LONE)!.reason).toMatch(/could not read this chat's messages in SQL/);
    // The helpers are gone once it is done.
    await withClient(server, 'cr_setbased', 'test', async (c) => {
      expect((await c.query("SELECT 1 FROM pg_namespace WHERE nspname = 'owui_harness'")).rowCount).toBe(0);
    });
  });
});

describe('a chat upstream cannot read (a document that is not an object)', () => {
  let poison: { chatId: string; reason: string };
  /** Rows of the chats in the pages before the one holding the poison chat: what the fix keeps. */
  let beforeItsPage: number;

  beforeAll(async () => {
    await withClient(server, POISON_TEMPLATE, 'test', async (c) => {
      const p = (await c.query<{ chat_id: string; reason: string }>("SELECT chat_id, reason FROM harness.poison_chats WHERE rules = 'v0.8.12'")).rows;
      expect(p).toHaveLength(1);
      poison = { chatId: p[0].chat_id, reason: p[0].reason };
      const ids = (await c.query<{ id: string }>("SELECT id FROM chat WHERE user_id NOT LIKE 'shared-%' ORDER BY id")).rows.map((r) => r.id);
      const page = Math.floor(ids.indexOf(poison.chatId) / 100);
      expect(page).toBeGreaterThan(0);
      beforeItsPage = (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM harness.expected_rows WHERE chat_id <= $1', [ids[page * 100 - 1]])).rows[0].n;
    });
    expect(poisoned.poisonChats).toBe(1);
    expect(beforeItsPage).toBeGreaterThan(0);
  });

  async function failsAt(strategy: Strategy, db: string): Promise<void> {
    const err = (await strategy.run(directContext(server, db)).then(
      () => new Error(`${strategy.name} finished`),
      (e: unknown) => e,
    )) as Error;
    expect(err).toBeInstanceOf(PoisonChatError);
    expect(err.message).toBe(`chat ${poison.chatId} stops the migration: ${poison.reason}`);
  }

  it('original fails there and keeps nothing', async () => {
    const db = 'po_original';
    await cloneDatabase(server, POISON_TEMPLATE, db);
    await failsAt(original, db);
    const v = await verify(db, original, nowSec());
    expect(v.schema).toMatchObject({ tableExists: false, untouched: true });
  });

  it.each([chunked, setbased])('$name keeps the pages before it and fails there again on every rerun, never stamping', async (strategy) => {
    const db = `po_${strategy.name}`;
    await cloneDatabase(server, POISON_TEMPLATE, db);
    for (let attempt = 1; attempt <= 2; attempt++) {
      await failsAt(strategy, db);
      const kept = await withClient(server, db, 'test', async (c) => ({
        rows: (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM chat_message')).rows[0].n,
        stamp: (await c.query<{ v: string }>('SELECT version_num AS v FROM alembic_version')).rows[0].v,
      }));
      expect(kept).toEqual({ rows: beforeItsPage, stamp: REVISION_BEFORE });
    }
  });

  it.each([resuming, parallel])('$name skips it, names it in its report and log, and migrates the rest', async (strategy) => {
    const logs: string[] = [];
    const r = await run(strategy, `po_${strategy.name}`, { template: POISON_TEMPLATE, options: { workers: 2 }, log: (l) => logs.push(l) });
    expect(r.report.skippedChats).toEqual([poison]);
    expect(logs.filter((l) => l.includes(poison.chatId))).toHaveLength(1);
    expectVerified(r, poisoned);
  });
});
