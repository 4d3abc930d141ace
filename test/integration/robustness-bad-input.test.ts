/**
 * Bad input never hurts anything: through the real command line, each case
 * exits 2 (3 where the environment is at fault) with ONE clear line naming
 * the flag or field and what is allowed, no stack trace, no output
 * directory, no server started, nothing left in TMPDIR and no database
 * changed. Cases needing a server (a URL's wrong password, a database that
 * already holds someone's chat table) use one the test starts itself.
 */
import { randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedPostgresServer, type StartedEmbeddedPostgres } from '../../harness/postgres/embedded-server.ts';
import { withClient } from '../../harness/postgres/with-client.ts';
import type { RunResult } from '../../harness/result/run-result.ts';
import { destroySandbox, isDir, listTree, makeSandbox, runCli, STACK_LINE, tmpLeftovers, waitNoProcesses, type CliExit, type Sandbox } from '../support/cli.ts';
import { TEST_SETTINGS } from '../support/postgres.ts';

const SIZE_ALLOWED = /unit B, kB, MB, GB or TB/;
const DURATION_ALLOWED = /unit ms, s, min or h/;

interface Case {
  name: string;
  /** The arguments, given the sandbox's --out directory and cache. */
  args: (o: { out: string; cache: string; files: string }) => string[];
  /** What the error line must name (the flag or field). */
  names: string;
  /** What it must say is allowed (or what to do). */
  allowed: RegExp;
  exit?: 2 | 3;
}

/** Flags every run-like case carries, so nothing could start outside the sandbox. */
const run = (...args: string[]) => (o: { out: string; cache: string }) => ['run', '--provider', 'embedded', '--cache-dir', o.cache, '--out', o.out, ...args];
const cmd = (command: string, ...args: string[]) => (o: { out: string; cache: string }) => [command, '--provider', 'embedded', '--cache-dir', o.cache, '--out', o.out, ...args];

const CASES: Case[] = [
  // Sizes, in every wrong form.
  { name: '--size 0', args: run('--size', '0'), names: '--size', allowed: SIZE_ALLOWED },
  { name: '--size 0MB', args: run('--size', '0MB'), names: '--size', allowed: /is zero/ },
  { name: '--size -1GB', args: run('--size', '-1GB'), names: '--size', allowed: /negative.*unit B, kB/ },
  { name: '--size 12QB', args: run('--size', '12QB'), names: '--size', allowed: /unknown unit 'QB'.*unit B, kB/ },
  { name: '--size abc', args: run('--size', 'abc'), names: '--size', allowed: SIZE_ALLOWED },
  { name: '--size 1.5 (no unit)', args: run('--size', '1.5'), names: '--size', allowed: /no unit.*unit B, kB/ },
  { name: '--size (empty)', args: run('--size', ''), names: '--size', allowed: SIZE_ALLOWED },
  { name: '--size with no value', args: (o) => ['run', '--provider', 'embedded', '--cache-dir', o.cache, '--out', o.out, '--size'], names: '--size', allowed: /argument missing.*--help/ },
  { name: '--max-wal-size 64XB', args: run('--max-wal-size', '64XB'), names: '--max-wal-size', allowed: SIZE_ALLOWED },
  { name: '--max-wal-size 1MB (below two WAL segments)', args: run('--max-wal-size', '1MB'), names: '--max-wal-size', allowed: /at least 2MB/ },
  { name: '--shared-buffers 10YB', args: run('--shared-buffers', '10YB'), names: '--shared-buffers', allowed: SIZE_ALLOWED },
  { name: 'sweep --sizes 1GB,abc', args: cmd('sweep', '--sizes', '1GB,abc'), names: '--sizes', allowed: SIZE_ALLOWED },
  { name: 'sweep --project 1XB', args: cmd('sweep', '--project', '1XB'), names: '--project', allowed: SIZE_ALLOWED },
  { name: 'gate --max-client-memory 1', args: cmd('gate', '--max-client-memory', '1'), names: '--max-client-memory', allowed: SIZE_ALLOWED },
  // Durations.
  { name: '--checkpoint-timeout 10 (no unit)', args: run('--checkpoint-timeout', '10'), names: '--checkpoint-timeout', allowed: DURATION_ALLOWED },
  { name: '--checkpoint-timeout 10parsecs', args: run('--checkpoint-timeout', '10parsecs'), names: '--checkpoint-timeout', allowed: /unknown unit 'parsecs'/ },
  { name: '--checkpoint-timeout 5s (PostgreSQL allows 30s..1d)', args: run('--checkpoint-timeout', '5s'), names: '--checkpoint-timeout', allowed: /30s to 1d/ },
  { name: '--sample-interval 0ms', args: run('--sample-interval', '0ms'), names: '--sample-interval', allowed: DURATION_ALLOWED },
  { name: 'gate --max-write-stall 0s', args: cmd('gate', '--max-write-stall', '0s'), names: '--max-write-stall', allowed: DURATION_ALLOWED },
  // Counts, seeds and rates.
  { name: '--chats 1.5', args: run('--chats', '1.5'), names: '--chats', allowed: /whole number of at least 1/ },
  { name: '--chats 0', args: run('--chats', '0'), names: '--chats', allowed: /whole number of at least 1/ },
  { name: '--chats -3', args: run('--chats', '-3'), names: '--chats', allowed: /whole number of at least 1/ },
  { name: '--size and --chats together', args: run('--size', '16MB', '--chats', '3'), names: '--size and --chats', allowed: /give one of them/ },
  { name: '--seed -1', args: run('--seed', '-1'), names: '--seed', allowed: /whole number of 0 or more/ },
  { name: '--seed x', args: run('--seed', 'x'), names: '--seed', allowed: /whole number of 0 or more/ },
  { name: '--edge-case-rate 2', args: run('--edge-case-rate', '2'), names: '--edge-case-rate', allowed: /from 0 to 1/ },
  { name: '--poison-chats -1', args: run('--poison-chats', '-1'), names: '--poison-chats', allowed: /whole number of 0 or more/ },
  { name: '--poison-chats 1.5', args: run('--poison-chats', '1.5'), names: '--poison-chats', allowed: /whole number of 0 or more/ },
  { name: '--poison-at 1.5', args: run('--poison-chats', '1', '--poison-at', '1.5'), names: '--poison-at', allowed: /from 0 to 1/ },
  { name: '--poison-at without --poison-chats', args: run('--poison-at', '0.5'), names: '--poison-at', allowed: /give --poison-chats <n> too/ },
  { name: '--poison-chats more than fit after --poison-at', args: run('--chats', '10', '--poison-chats', '50'), names: '--poison-chats 50', allowed: /does not fit.*plant fewer or lower --poison-at/ },
  { name: '--poison-chats with --from-dump', args: run('--from-dump', 'x.dump', '--poison-chats', '1'), names: '--poison-chats', allowed: /seeded data only/ },
  { name: '--workers 0', args: run('--workers', '0'), names: '--workers', allowed: /at least 1/ },
  { name: 'gate --wal-amplification -1', args: cmd('gate', '--wal-amplification', '-1'), names: '--wal-amplification', allowed: /positive number/ },
  // Server settings not allowed for measurement.
  { name: '--wal-level minimal', args: run('--wal-level', 'minimal'), names: '--wal-level', allowed: /replica, logical/ },
  { name: '--pg-setting wal_level=minimal', args: run('--pg-setting', 'wal_level=minimal'), names: '--pg-setting wal_level', allowed: /replica or logical/ },
  { name: '--pg-setting without =', args: run('--pg-setting', 'fsync'), names: '--pg-setting', allowed: /name=value/ },
  // Unknown names.
  { name: '--provider docker', args: (o) => ['run', '--provider', 'docker', '--out', o.out], names: '--provider', allowed: /auto, testcontainers, embedded, url/ },
  { name: '--strategies chunky', args: run('--strategies', 'chunky'), names: '--strategies', allowed: /original, v0\.8\.0, v0\.9\.6, chunked, setbased, parallel, resuming, external, upstream/ },
  { name: '--strategies chunked>nope', args: run('--strategies', 'chunked>nope'), names: "unknown strategy 'nope'", allowed: /or a sequence of them such as chunked>v0\.9\.6/ },
  { name: '--strategies chunked>external', args: run('--strategies', 'chunked>external'), names: '--strategies', allowed: /a sequence runs ports only/ },
  { name: '--strategies external without --cmd', args: run('--strategies', 'external'), names: '--cmd', allowed: /needs --cmd/ },
  { name: '--scenario nope', args: run('--scenario', 'nope'), names: '--scenario', allowed: /ci-gate, issue-23273, lost-stamp, mixed-upgrade, plain, poison-chat, small, upgrade-path or a path to a \.json file/ },
  { name: '--copy-mode x', args: run('--copy-mode', 'x'), names: '--copy-mode', allowed: /template, dump/ },
  { name: 'seed --strategies (seed runs none)', args: cmd('seed', '--strategies', 'chunked'), names: '--strategies', allowed: /seed --help/ },
  { name: 'an unknown flag', args: run('--sise', '1GB'), names: '--sise', allowed: /did you mean --size\?.*run --help/ },
  // Scenario files.
  { name: '--scenario file with a wrong field type', args: (o) => run('--scenario', path.join(o.files, 'wrong-type.json'))(o), names: 'dataset.size', allowed: /expected string/ },
  { name: '--scenario file with a JSON syntax error', args: (o) => run('--scenario', path.join(o.files, 'syntax.json'))(o), names: '--scenario', allowed: /not valid JSON/ },
  { name: '--scenario file that does not exist', args: (o) => run('--scenario', path.join(o.files, 'missing.json'))(o), names: '--scenario', allowed: /cannot read it \(ENOENT\)/ },
  { name: '--scenario file with an unknown strategy', args: (o) => run('--scenario', path.join(o.files, 'unknown-strategy.json'))(o), names: "unknown strategy 'quick'", allowed: /allowed: original/ },
  { name: '--scenario file naming a strategy twice', args: (o) => run('--scenario', path.join(o.files, 'twice.json'))(o), names: 'strategies.1', allowed: /listed twice; give one of them a label of its own \(as\)/ },
  { name: '--scenario file with an unknown Alembic environment', args: (o) => run('--scenario', path.join(o.files, 'bad-alembic.json'))(o), names: 'alembic.shape', allowed: /single.*per-migration/ },
  // Faults.
  { name: '--fault deadline=soon', args: run('--fault', 'deadline=soon'), names: '--fault deadline', allowed: /unit ms, s, min or h.*0\.5x/ },
  { name: '--fault restarts=-1', args: run('--fault', 'restarts=-1'), names: '--fault restarts', allowed: /whole number from 0 to 100/ },
  { name: '--fault kill-at=1.5', args: run('--fault', 'kill-at=1.5'), names: '--fault kill-at', allowed: /strictly between 0 and 1/ },
  { name: '--fault bogus', args: run('--fault', 'bogus'), names: '--fault', allowed: /unknown fault 'bogus'; allowed: deadline=/ },
  { name: '--fault wal-tmpfs without wal-limit', args: run('--fault', 'wal-tmpfs'), names: '--fault wal-tmpfs', allowed: /wal-limit=<size>/ },
  {
    name: '--fault crash-at with --database-url (not the harness’s server to kill)',
    args: (o) => ['run', '--cache-dir', o.cache, '--out', o.out, '--fault', 'crash-at=0.5', '--database-url', 'postgres://u:NotPrinted-1@127.0.0.1:1/db'],
    names: '--fault crash-at',
    allowed: /use --provider embedded or testcontainers/,
  },
  // Database URLs.
  { name: '--database-url notaurl', args: (o) => ['run', '--cache-dir', o.cache, '--out', o.out, '--database-url', 'notaurl'], names: '--database-url', allowed: /postgres:\/\/user:password@host:5432\/database/ },
  { name: '--database-url mysql://x@y/z', args: (o) => ['run', '--cache-dir', o.cache, '--out', o.out, '--database-url', 'mysql://x@y/z'], names: '--database-url', allowed: /scheme 'mysql' is not allowed; use postgres:\/\// },
  { name: '--provider url without --database-url', args: (o) => ['run', '--provider', 'url', '--cache-dir', o.cache, '--out', o.out], names: '--database-url', allowed: /needs --database-url/ },
  { name: '--database-url with --provider embedded', args: run('--database-url', 'postgres://a@127.0.0.1:1/c'), names: '--database-url', allowed: /use --provider url/ },
  // Output directory.
  { name: '--out under a regular file', args: (o) => run('--chats', '3')({ ...o, out: path.join(o.files, 'a-file', 'x') }), names: '--out', allowed: /not a writable directory \(ENOTDIR\); choose another --out/ },
  // Command-specific.
  { name: 'sweep --sizes with one size', args: cmd('sweep', '--sizes', '1GB'), names: '--sizes', allowed: /at least two sizes/ },
  { name: 'sweep --check-projection without --project', args: cmd('sweep', '--check-projection'), names: '--check-projection', allowed: /needs --project/ },
  { name: 'sweep --check-projection 4GB,4XB', args: cmd('sweep', '--project', '4GB', '--check-projection', '4GB,4XB'), names: '--check-projection', allowed: SIZE_ALLOWED },
  { name: 'sweep --target-shared-buffers without --project', args: cmd('sweep', '--target-shared-buffers', '1GB'), names: '--target-shared-buffers', allowed: /give --project/ },
  { name: 'sweep --target-max-wal-size 1MB (below two WAL segments)', args: cmd('sweep', '--project', '4GB', '--target-max-wal-size', '1MB'), names: '--target-max-wal-size', allowed: /at least 2MB/ },
  { name: 'sweep --repeat 0', args: cmd('sweep', '--repeat', '0'), names: '--repeat', allowed: /at least 1/ },
  { name: 'sweep --repeat 12', args: cmd('sweep', '--repeat', '12'), names: '--repeat', allowed: /use 1 to 9/ },
  { name: 'sweep --repeat with --from (the upgrade path)', args: cmd('sweep', '--openwebui', '.', '--from', '374d2f66af06', '--repeat', '3'), names: '--repeat', allowed: /applies to strategies/ },
  { name: 'sweep --check-repeat 0', args: cmd('sweep', '--project', '1GB', '--check-projection', '--check-repeat', '0'), names: '--check-repeat', allowed: /at least 1/ },
  { name: 'sweep --check-repeat 10', args: cmd('sweep', '--project', '1GB', '--check-projection', '--check-repeat', '10'), names: '--check-repeat', allowed: /use 1 to 9/ },
  { name: 'sweep --check-repeat without --check-projection', args: cmd('sweep', '--project', '1GB', '--check-repeat', '2'), names: '--check-repeat', allowed: /give --check-projection too/ },
  { name: 'sweep --check-repeat with --from (the upgrade path)', args: cmd('sweep', '--openwebui', '.', '--from', '374d2f66af06', '--check-repeat', '2'), names: '--check-repeat', allowed: /applies to strategies/ },
  { name: 'sweep --target-shared-buffers 64kB (below PostgreSQL’s minimum)', args: cmd('sweep', '--project', '4GB', '--target-shared-buffers', '64kB'), names: '--target-shared-buffers', allowed: /at least 128kB/ },
  { name: 'validate without --cmd', args: cmd('validate'), names: '--cmd', allowed: /validate needs the migration to validate: --openwebui .* or --cmd/ },
  { name: 'report on a missing file', args: (o) => ['report', path.join(o.files, 'missing-result.json')], names: 'missing-result.json', allowed: /ENOENT.*results\/<run-id>\/result\.json/ },
  { name: 'report on a file that is not JSON', args: (o) => ['report', path.join(o.files, 'not-json.txt')], names: 'not-json.txt', allowed: /is not JSON/ },
  { name: 'report on JSON that fails the schema', args: (o) => ['report', path.join(o.files, 'bad-result.json')], names: '$.dataset.chats', allowed: /not a valid result\.json/ },
  { name: 'an unknown command', args: () => ['frobnicate'], names: "'frobnicate'", allowed: /commands: repro, run, seed, gate, validate, sweep, fidelity, upgrade, report/ },
  // The environment, not the input: exit 3.
  {
    name: '--database-url where nothing listens (exit 3)',
    args: (o) => ['run', '--cache-dir', o.cache, '--out', o.out, '--chats', '3', '--database-url', 'postgres://u:NotPrinted-2@127.0.0.1:1/db'],
    names: '--database-url',
    allowed: /connection refused/,
    exit: 3,
  },
];

/** Files the cases point at, written once into each sandbox. */
async function writeInputFiles(dir: string): Promise<void> {
  const scenario = { name: 'x', description: 'd', server: { settings: {} }, strategies: ['chunked'] };
  await writeFile(path.join(dir, 'wrong-type.json'), JSON.stringify({ ...scenario, dataset: { size: 5 } }));
  await writeFile(path.join(dir, 'unknown-strategy.json'), JSON.stringify({ ...scenario, dataset: { chats: 3 }, strategies: ['quick'] }));
  await writeFile(path.join(dir, 'twice.json'), JSON.stringify({ ...scenario, dataset: { chats: 3 }, strategies: ['chunked', { strategy: 'chunked' }] }));
  await writeFile(path.join(dir, 'bad-alembic.json'), JSON.stringify({ ...scenario, dataset: { chats: 3 }, alembic: { shape: 'nested' } }));
  await writeFile(path.join(dir, 'syntax.json'), '{"name": "x", ');
  await writeFile(path.join(dir, 'not-json.txt'), 'not json at all\n');
  await writeFile(path.join(dir, 'a-file'), 'a regular file where a directory is expected\n');
  const good = JSON.parse(await readFile(new URL('../fixtures/results/repro.json', import.meta.url), 'utf8')) as { dataset: { chats: unknown } };
  good.dataset.chats = 'many';
  await writeFile(path.join(dir, 'bad-result.json'), JSON.stringify(good));
}

/** Everything a rejected run must (not) have done. */
async function expectRejected(sandbox: Sandbox, r: CliExit, c: Pick<Case, 'names' | 'allowed' | 'exit'>, o: { oneLine: boolean; out?: string }): Promise<void> {
  const lines = r.stderr.split('\n').filter((l) => l.trim());
  expect(r.code, r.stderr).toBe(c.exit ?? 2);
  expect(r.stderr).not.toMatch(STACK_LINE);
  expect(r.stderr).not.toMatch(/harness error/);
  const errors = lines.filter((l) => l.startsWith('error: '));
  expect(errors, r.stderr).toHaveLength(1);
  if (o.oneLine) expect(lines, 'nothing but the error line').toHaveLength(1);
  expect(errors[0]).toContain(c.names);
  expect(errors[0]).toMatch(c.allowed);
  expect(r.stdout).toBe('');
  expect(await waitNoProcesses(sandbox), 'no process of the run is alive').toEqual([]);
  expect(await tmpLeftovers(sandbox), 'nothing left in TMPDIR').toEqual([]);
  if (o.out) expect(await isDir(o.out), 'no output directory for bad input').toBe(false);
}

describe.concurrent('bad input: exit 2, one line naming the flag and what is allowed, nothing started', () => {
  it.each(CASES)('$name', async (c) => {
    const sandbox = await makeSandbox();
    try {
      await writeInputFiles(sandbox.work);
      const out = path.join(sandbox.work, 'out');
      const r = await runCli(sandbox, c.args({ out, cache: sandbox.cache, files: sandbox.work }));
      // Exit 3 means a server was asked for: its one progress line ("PostgreSQL provider: url") comes first.
      await expectRejected(sandbox, r, c, { oneLine: c.exit !== 3, out: c.exit === 3 ? undefined : out });
      expect(r.stderr).not.toMatch(/NotPrinted/);
      if (c.exit === 3) {
        // The environment failed, not the input: the result says so, without the password.
        for (const f of await listTree(out)) expect(await readFile(path.join(out, f), 'utf8')).not.toMatch(/NotPrinted/);
        const result = JSON.parse(await readFile(path.join(out, 'result.json'), 'utf8')) as RunResult;
        expect(result.status).toBe('error');
      }
    } finally {
      await destroySandbox(sandbox);
    }
  });

  it('has at least 30 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });
});

describe('against a real server the test started', () => {
  const password = `S3cr3t-${randomBytes(6).toString('hex')}`;
  let host: StartedEmbeddedPostgres;
  let sandbox: Sandbox;

  beforeAll(async () => {
    host = await new EmbeddedPostgresServer({ settings: TEST_SETTINGS, password }).start();
    sandbox = await makeSandbox();
    await withClient(host, 'postgres', 'test', async (c) => {
      await c.query('CREATE DATABASE someones_openwebui');
    });
    await withClient(host, 'someones_openwebui', 'test', async (d) => {
      await d.query("CREATE TABLE chat (id varchar PRIMARY KEY, user_id varchar, chat json); INSERT INTO chat VALUES ('keep-me', 'u1', '{\"title\": \"mine\"}')");
    });
  });
  afterAll(async () => {
    await host?.stop();
    if (sandbox) await destroySandbox(sandbox);
  });

  async function databases(): Promise<string[]> {
    return withClient(host, 'postgres', 'test', async (c) => {
      return (await c.query<{ datname: string }>('SELECT datname FROM pg_database ORDER BY datname')).rows.map((r) => r.datname);
    });
  }

  async function chatTable(): Promise<{ tables: string[]; rows: unknown[] }> {
    return withClient(host, 'someones_openwebui', 'test', async (d) => {
      const tables = (await d.query<{ t: string }>("SELECT relname AS t FROM pg_class WHERE relnamespace = 'public'::regnamespace ORDER BY 1")).rows.map((r) => r.t);
      const rows = (await d.query('SELECT id, user_id, chat::text AS chat, xmin::text AS xmin FROM chat ORDER BY id')).rows;
      return { tables, rows };
    });
  }

  it('a wrong password: exit 3, neither password printed, nothing changed', async () => {
    const wrong = `Wr0ng-${randomBytes(6).toString('hex')}`;
    const before = await databases();
    const out = path.join(sandbox.work, 'wrong-password');
    const r = await runCli(sandbox, ['run', '--chats', '3', '--no-cache', '--out', out, '--database-url', `postgres://postgres:${wrong}@127.0.0.1:${host.port}/postgres`]);
    await expectRejected(sandbox, r, { names: '--database-url', allowed: /authentication failed \(check the user and password\)/, exit: 3 }, { oneLine: false });
    expect(r.stderr).toContain('postgres://postgres:***@127.0.0.1');
    for (const text of [r.stdout, r.stderr, ...(await Promise.all((await listTree(out)).map((f) => readFile(path.join(out, f), 'utf8'))))]) {
      expect(text).not.toContain(wrong);
      expect(text).not.toContain(password);
    }
    expect(await databases()).toEqual(before);
  });

  it('a wrong password from PGPASSWORD: exit 3, not printed', async () => {
    const wrong = `Wr0ngEnv-${randomBytes(6).toString('hex')}`;
    const out = path.join(sandbox.work, 'wrong-pgpassword');
    const r = await runCli(sandbox, ['run', '--chats', '3', '--no-cache', '--out', out, '--database-url', `postgres://postgres@127.0.0.1:${host.port}/postgres`], { env: { PGPASSWORD: wrong } });
    await expectRejected(sandbox, r, { names: '--database-url', allowed: /authentication failed/, exit: 3 }, { oneLine: false });
    for (const text of [r.stdout, r.stderr, ...(await Promise.all((await listTree(out)).map((f) => readFile(path.join(out, f), 'utf8'))))]) expect(text).not.toContain(wrong);
  });

  it('a database holding a chat table the harness did not create: refused (exit 2) unless --force; with --force that table is untouched', async () => {
    const url = `postgres://postgres:${password}@127.0.0.1:${host.port}/someones_openwebui`;
    const before = { databases: await databases(), chat: await chatTable() };
    const refusedOut = path.join(sandbox.work, 'refused');
    const refused = await runCli(sandbox, ['run', '--chats', '20', '--strategies', 'chunked', '--no-faults', '--no-probe', '--no-cache', '--out', refusedOut, '--database-url', url]);
    await expectRejected(sandbox, refused, { names: '--database-url', allowed: /already holds a chat table the harness did not create.*--force/ }, { oneLine: false });
    expect(refused.stderr).not.toContain(password);
    expect(await databases(), 'no database created or dropped').toEqual(before.databases);
    expect(await chatTable()).toEqual(before.chat);

    const forcedOut = path.join(sandbox.work, 'forced');
    const forced = await runCli(sandbox, ['run', '--chats', '20', '--strategies', 'chunked', '--no-faults', '--no-probe', '--no-cache', '--force', '--out', forcedOut, '--database-url', url]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr + forced.stdout).not.toContain(password);
    // The table, its rows (even their row versions) and the database's other relations: as they were.
    expect(await chatTable()).toEqual(before.chat);
    // The harness worked in a database of its own, marked as such; the per-strategy copy was dropped.
    const added = (await databases()).filter((d) => !before.databases.includes(d));
    expect(added).toHaveLength(1);
    expect(added[0]).toMatch(/^owui_harness_tpl_/);
    await withClient(host, 'postgres', 'test', async (c) => {
      const comment = (await c.query<{ c: string }>("SELECT shobj_description(oid, 'pg_database') AS c FROM pg_database WHERE datname = $1", [added[0]])).rows[0].c;
      expect(comment).toMatch(/^created by owui-migration-harness/);
    });
    const result = JSON.parse(await readFile(path.join(forcedOut, 'result.json'), 'utf8')) as RunResult;
    expect(result.strategies.map((s) => [s.name, s.outcome])).toEqual([['chunked', 'succeeded']]);
    expect(await tmpLeftovers(sandbox)).toEqual([]);
  });
});

describe('the environment', () => {
  it.skipIf(process.getuid?.() !== 0)('as root, a TMPDIR the postgres user cannot enter: exit 3, naming the directory and what to do', async () => {
    const sandbox = await makeSandbox();
    try {
      await chmod(sandbox.tmp, 0o700);
      const r = await runCli(sandbox, ['run', '--provider', 'embedded', '--chats', '3', '--no-probe', '--cache-dir', sandbox.cache, '--out', path.join(sandbox.work, 'out')]);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).not.toMatch(STACK_LINE);
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
      expect(errors).toEqual([expect.stringContaining(`${sandbox.tmp} (mode 0700) does not let other users through; set TMPDIR to a directory it can reach`)]);
      expect(await waitNoProcesses(sandbox)).toEqual([]);
      // Only the seed directory prepare-data creates before any server (the known --no-cache/early-failure leftover: see robustness-signals).
      expect((await tmpLeftovers(sandbox)).filter((e) => !/^owui-harness-seed-/.test(e))).toEqual([]);
    } finally {
      await destroySandbox(sandbox);
    }
  });
});

describe('ports', () => {
  it('two runs at the same time, sharing TMPDIR and registry, both succeed, each on its own port', async () => {
    const sandbox = await makeSandbox();
    try {
      const outs = [1, 2].map((i) => path.join(sandbox.work, `out-${i}`));
      const runs = await Promise.all(
        outs.map((out, i) => runCli(sandbox, ['seed', '--provider', 'embedded', '--chats', '3', '--seed', String(i + 1), '--cache-dir', sandbox.cache, '--out', out])),
      );
      for (const r of runs) {
        expect(r.code, r.stderr).toBe(0);
        // Neither took the other's server for something an earlier, killed run left behind.
        expect(r.stderr).not.toMatch(/cleaned up after an earlier run/);
      }
      const ports = await Promise.all(
        outs.map(async (out) => {
          const result = JSON.parse(await readFile(path.join(out, 'result.json'), 'utf8')) as RunResult;
          expect(result.status).toBe('complete');
          return /127\.0\.0\.1:(\d+)/.exec(result.postgres.description)?.[1];
        }),
      );
      expect(ports[0]).toMatch(/^\d+$/);
      expect(ports[1]).toMatch(/^\d+$/);
      expect(ports[0]).not.toBe(ports[1]);
      expect(await waitNoProcesses(sandbox)).toEqual([]);
      expect(await tmpLeftovers(sandbox)).toEqual([]);
    } finally {
      await destroySandbox(sandbox);
    }
  });
});
