/**
 * The upgrade path on a fixture chain written for the tests
 * (test/fixtures/checkouts/upgrade-chain): a table created, a backfill in one
 * transaction, a plain CREATE INDEX on chat holding its lock, an UPDATE of a
 * whole table, a revision that commits itself. Which revision fails which
 * check is written by hand from what each fixture does (see their
 * docstrings), with limits chosen so each failure has a wide margin at 4 MB,
 * also on a loaded machine.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedEmbeddedPostgres } from '../../harness/postgres/embedded-server.ts';
import { createOwnedDatabase } from '../../harness/postgres/databases.ts';
import { withClient } from '../../harness/postgres/with-client.ts';
import type { RunResult } from '../../harness/result/run-result.ts';
import { validateResult } from '../../harness/result/validate-result.ts';
import { startChain } from '../../harness/upgrade/chain-runner.ts';
import { makeSandbox, ROOT, runCli, tmpLeftovers, type Sandbox } from '../support/cli.ts';
import { startTestServer } from '../support/postgres.ts';

const CHAIN = path.join(ROOT, 'test', 'fixtures', 'checkouts', 'upgrade-chain');
const VERSIONS = path.join(CHAIN, 'backend', 'open_webui', 'migrations', 'versions');
// Wide margins on a loaded machine: the sleeping revision is at ~40,000 s/GB, the backfill and the index
// (4 MB of chat) under 1,100 when idle;
// the CREATE INDEX holds chat for 4 s; any other write is quick, though a commit can take a second or
// more when two test files load the disk at once (seen in CI).
// Autovacuum off: its WAL and locks would land in whichever revision runs when it wakes.
const LIMITS = ['--seconds-per-gb', '5000', '--max-write-stall', '2500ms', '--pg-setting', 'autovacuum=off'];

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await makeSandbox();
});
afterAll(async () => {
  await sandbox?.remove();
});

const failedChecks = (r: RunResult) => Object.fromEntries(r.upgrade!.revisions.map((x) => [x.id, x.checks.filter((c) => !c.passed).map((c) => c.name)]));

describe('gate --from on a fixture chain', () => {
  let result: RunResult;
  let exit: Awaited<ReturnType<typeof runCli>>;
  const out = () => path.join(sandbox.work, 'gate');

  beforeAll(async () => {
    exit = await runCli(sandbox, ['gate', '--openwebui', CHAIN, '--from', '1a0000000001', '--provider', 'embedded', '--size', '4MB', ...LIMITS, '--out', out()], { timeoutMs: 300_000 });
    result = JSON.parse(await readFile(path.join(out(), 'result.json'), 'utf8')) as RunResult;
  }, 320_000);

  it('exits 1 and names what failed', () => {
    expect(exit.stderr).not.toMatch(/harness error/);
    expect(exit.code).toBe(1);
    expect(exit.stderr).toMatch(/gate failed:/);
    expect(exit.stderr).toMatch(/the upgrade did not finish: finished without the stamp 6f0000000006 \(found 5e0000000005\)/);
    expect(validateResult(result).ok).toBe(true);
    expect(result.kind).toBe('gate');
  });

  it('runs every revision after --from, in order, timed from Alembic’s own lines', () => {
    const u = result.upgrade!;
    expect(u.from).toBe('1a0000000001');
    expect(u.to).toBe('6f0000000006');
    expect(u.revisions.map((r) => r.id)).toEqual(['2b0000000002', '3c0000000003', '4d0000000004', '5e0000000005', '6f0000000006']);
    for (const [a, b] of u.revisions.slice(0, -1).map((r, i) => [r, u.revisions[i + 1]] as const)) expect(a.endMs).toBe(b.startMs);
    // The sleeps in the fixtures bound their revisions from below.
    expect(u.revisions[2].durationMs).toBeGreaterThanOrEqual(4000);
    expect(u.revisions[4].durationMs).toBeGreaterThanOrEqual(8000);
  });

  it('fails exactly the checks the fixtures were written to fail', () => {
    expect(failedChecks(result)).toEqual({
      '2b0000000002': [],
      '3c0000000003': ['WAL amplification'],
      '4d0000000004': ['blocked write'],
      '5e0000000005': [],
      '6f0000000006': ['time per GB', 'resumable'],
    });
  });

  it('charges the figures to the revision that caused them', () => {
    const u = result.upgrade!;
    const [, backfill, index, update] = u.revisions;
    // Six copies of chat's documents: most of the path's WAL, and more than twice its tables' bytes.
    expect(backfill.walBytes).toBeGreaterThan(0.7 * u.totals.walBytes);
    expect(backfill.walBytes).toBeGreaterThan(2 * backfill.touchedBytes);
    expect(backfill.touched.map((t) => t.table)).toEqual(['chat', 'chat_note']);
    // The plain CREATE INDEX took SHARE on chat and a chat write waited for it.
    expect(index.locks.chat).toBe('ShareLock');
    expect(index.blockedWrite?.table).toBe('chat');
    expect(index.blockedWrite!.ms).toBeGreaterThanOrEqual(3900);
    expect(update.touched.map((t) => t.table)).toEqual(['user']);
  });

  it('kills the costliest revision half-way and reruns', () => {
    const r = result.upgrade!.resume!;
    expect(r.revision).toBe('6f0000000006');
    expect(r.killedInside).toBe(true);
    expect(r.rerunExit).toBe(1);
    expect(r.rerunError).toMatch(/audit_log" already exists/);
  });

  it('seeds every table at --from and says how', () => {
    const t = Object.fromEntries(result.upgrade!.tables.map((x) => [x.name, x]));
    expect(t.chat.seeded).toBe('chat seeder');
    expect(t.user.seeded).toBe('realistic');
    expect(t.user.rows).toBeGreaterThan(0);
    expect(t.file.seeded).toBe('realistic');
    // Created by the path, not seeded.
    expect(t.chat_note.bytesBefore).toBeNull();
    expect(t.chat_note.seeded).toBeNull();
  });

  it('writes a JUnit test case per revision and a report costliest first', async () => {
    const junit = await readFile(path.join(out(), 'junit.xml'), 'utf8');
    for (const r of result.upgrade!.revisions) expect(junit).toContain(r.id);
    expect((junit.match(/<testcase /g) ?? []).length).toBe(6);
    const md = await readFile(path.join(out(), 'report.md'), 'utf8');
    expect(md.indexOf('6f0000000006')).toBeLessThan(md.indexOf('3c0000000003'));
    expect(await readFile(path.join(out(), 'chart.svg'), 'utf8')).toMatch(/^<svg/);
    expect(await tmpLeftovers(sandbox)).toEqual([]);
  });
});

describe('upgrade --to, one transaction per revision, the cached template', () => {
  it('stops at --to, exits 0, and blames the CREATE INDEX inside its own transaction', async () => {
    const out = path.join(sandbox.work, 'to');
    const r = await runCli(
      sandbox,
      ['upgrade', '--openwebui', CHAIN, '--from', '1a0000000001', '--to', '5e0000000005', '--alembic-env', 'per-migration', '--provider', 'embedded', '--size', '4MB', '--no-resume-check', ...LIMITS, '--out', out],
      { timeoutMs: 300_000 },
    );
    expect(r.stderr).not.toMatch(/harness error/);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/reused from the cache/);
    const result = JSON.parse(await readFile(path.join(out, 'result.json'), 'utf8')) as RunResult;
    const u = result.upgrade!;
    expect(u.outcome).toBe('succeeded');
    expect(u.stamp).toBe('5e0000000005');
    expect(u.shape).toBe('per-migration');
    expect(u.resume).toBeNull();
    expect(failedChecks(result)).toEqual({ '2b0000000002': [], '3c0000000003': ['WAL amplification'], '4d0000000004': ['blocked write'], '5e0000000005': [] });
    // Its own transaction ends with it: the wait is the sleep, not the rest of the path.
    expect(u.revisions[2].blockedWrite!.ms).toBeLessThan(u.revisions[2].durationMs + 1000);
  }, 320_000);
});

describe('validate --from: the same path for a community tester', () => {
  it('exits 0 when every revision holds; the backfill is killed half-way through its WAL and the rerun finishes', async () => {
    const out = path.join(sandbox.work, 'validate');
    const r = await runCli(
      sandbox,
      ['validate', '--openwebui', CHAIN, '--from', '1a0000000001', '--to', '3c0000000003', ...LIMITS, '--wal-amplification', '10', '--provider', 'embedded', '--size', '4MB', '--out', out],
      { timeoutMs: 300_000 },
    );
    expect(r.stderr).not.toMatch(/harness error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/validate: the upgrade succeeded from 1a0000000001 to 3c0000000003; 9\/9 checks hold over 2 revisions$/m);
    expect(r.stderr).toMatch(/killed half-way through 3c0000000003 \(its costliest revision: after [\d.]+ MB of its WAL\)/);
    const u = (JSON.parse(await readFile(path.join(out, 'result.json'), 'utf8')) as RunResult).upgrade!;
    // One transaction around the path: the kill rolls everything back and the rerun starts over.
    expect(u.resume).toMatchObject({ revision: '3c0000000003', killedInside: true, rerunExit: 0, stamp: '3c0000000003', schemaDifferences: [], rowDifferences: [] });
    expect(((await readFile(path.join(out, 'junit.xml'), 'utf8')).match(/<testcase /g) ?? []).length).toBe(3);
  }, 320_000);
});

describe('--from-database: a copy of your own database, from its stamp', () => {
  let server: StartedEmbeddedPostgres;
  beforeAll(async () => {
    server = await startTestServer();
    await withClient(server, 'postgres', 'test-admin', (a) => a.query('CREATE DATABASE mine'));
    const run = await startChain({ python: '/usr/bin/python3', versionsDir: VERSIONS, shape: 'single', target: '3c0000000003', databaseUrl: server.url('mine') });
    expect((await run.done).code).toBe(0);
    await withClient(server, 'mine', 'test-admin', (c) => c.query(`INSERT INTO chat (id, user_id, title, chat) VALUES ('c1', 'u1', 'hello', '{"history": {"messages": {}}}')`));
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('upgrades the copy from 3c0000000003 and leaves the original as it was', async () => {
    const out = path.join(sandbox.work, 'mine');
    const r = await runCli(sandbox, ['upgrade', '--openwebui', CHAIN, '--from-database', 'mine', '--database-url', server.url('postgres'), '--to', '5e0000000005', '--no-resume-check', '--out', out], {
      timeoutMs: 300_000,
    });
    expect(r.stderr).not.toMatch(/harness error/);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/mine is stamped at 3c0000000003/);
    const u = (JSON.parse(await readFile(path.join(out, 'result.json'), 'utf8')) as RunResult).upgrade!;
    expect(u.fromDatabase).toBe('mine');
    expect(u.revisions.map((x) => x.id)).toEqual(['4d0000000004', '5e0000000005']);
    expect(u.stamp).toBe('5e0000000005');
    const stamp = await withClient(server, 'mine', 'test-admin', async (c) => (await c.query('SELECT version_num FROM alembic_version')).rows[0].version_num);
    expect(stamp).toBe('3c0000000003');
    const left = await withClient(server, 'postgres', 'test-admin', async (c) => (await c.query("SELECT datname FROM pg_database WHERE datname LIKE 'owui%'")).rows);
    expect(left).toEqual([]);
  }, 320_000);
});

describe('sweep --from: each revision at several sizes, projected', () => {
  it('fits each revision against database size and projects it', async () => {
    const out = path.join(sandbox.work, 'sweep');
    const r = await runCli(
      sandbox,
      ['sweep', '--openwebui', CHAIN, '--from', '1a0000000001', '--to', '3c0000000003', '--sizes', '4MB,8MB', '--project', '64MB', '--provider', 'embedded', '--no-probe', '--out', out],
      { timeoutMs: 300_000 },
    );
    expect(r.stderr).not.toMatch(/harness error/);
    expect(r.code).toBe(0);
    const result = JSON.parse(await readFile(path.join(out, 'result.json'), 'utf8')) as RunResult;
    expect(validateResult(result).ok).toBe(true);
    expect(result.kind).toBe('sweep');
    const sweep = result.extra!.upgradeSweep as { points: { databaseBytes: number }[]; projections: { id: string; walBytes: { value: number; slope: number } }[] };
    expect(sweep.points).toHaveLength(2);
    expect(sweep.points[1].databaseBytes).toBeGreaterThan(sweep.points[0].databaseBytes);
    expect(sweep.projections.map((p) => p.id)).toEqual(['2b0000000002', '3c0000000003']);
    // The backfill copies chat six times: its WAL grows with the data.
    const backfill = sweep.projections[1].walBytes;
    expect(backfill.slope).toBeGreaterThan(0.7);
    expect(backfill.slope).toBeLessThan(1.3);
    expect(await readFile(path.join(out, 'report.md'), 'utf8')).toMatch(/### Projected to 64\.0 MB/);
  }, 320_000);
});

describe('bad input exits 2 with one line, nothing started', () => {
  it.each([
    [['upgrade', '--openwebui', CHAIN, '--from', 'ffffffffffff'], /^error: --from ffffffffffff: no such revision in .*\(6 revisions, from 1a0000000001 to 6f0000000006\)/],
    [['upgrade', '--openwebui', CHAIN, '--from', '4d0000000004', '--to', '2b0000000002'], /^error: --to 2b0000000002: revision 2b0000000002 comes before --from 4d0000000004/],
    [['upgrade', '--openwebui', CHAIN, '--from', '4d0000000004', '--to', '4d0000000004'], /^error: --to 4d0000000004: it is --from itself/],
    [['upgrade', '--openwebui', path.join(ROOT, 'test', 'fixtures'), '--from', '1a0000000001'], /^error: --openwebui .*: no Alembic revisions found/],
    [['upgrade', '--openwebui', CHAIN], /^error: upgrade needs --from <revision>/],
    [['upgrade', '--openwebui', CHAIN, '--from', '1a0000000001', '--from-database', 'x'], /^error: --from and --from-database conflict/],
    [['gate', '--from', '1a0000000001'], /^error: gate --from needs --openwebui <dir>/],
    [['upgrade', '--openwebui', CHAIN, '--from', '1a0000000001', '--seconds-per-gb', '-3'], /^error: option '--seconds-per-gb <n>' argument '-3' is invalid/],
    [['sweep', '--openwebui', CHAIN, '--from', '1a0000000001', '--sizes', '8MB'], /^error: sweep --from: give --sizes with at least two sizes/],
  ])('%j', async (args, message) => {
    const r = await runCli(sandbox, [...args, '--provider', 'embedded', '--out', path.join(sandbox.work, 'bad')], { timeoutMs: 60_000 });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(await tmpLeftovers(sandbox)).toEqual([]);
  });
});
