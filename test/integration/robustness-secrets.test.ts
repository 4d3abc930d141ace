/**
 * No password from a URL or the environment appears in anything the harness
 * writes: stdout, stderr, result.json, report.md, junit.xml, chart.svg, nor
 * anything it leaves in TMPDIR. Each run goes against a real server the test
 * started, with distinctive passwords (one with characters a URL must
 * percent-encode), through `run`, `gate` and `validate`, and with
 * PGPASSWORD in the environment, which the external command inherits.
 */
import { randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedPostgresServer, type StartedEmbeddedPostgres } from '../../harness/postgres/embedded-server.ts';
import { withClient } from '../../harness/postgres/with-client.ts';
import type { RunResult } from '../../harness/result/run-result.ts';
import { destroySandbox, listTree, makeSandbox, runCli, type CliExit, type Sandbox } from '../support/cli.ts';
import { TEST_SETTINGS } from '../support/postgres.ts';

const hex = () => randomBytes(6).toString('hex');
/** The superuser's, given in --database-url. */
const URL_PASSWORD = `S3cr3t-${hex()}`;
/** A role's with characters a URL must encode, given in --database-url. */
const ENCODED_PASSWORD = `p@ss:w/rd%${hex()}`;
/** A role's given only as PGPASSWORD in the environment. */
const ENV_PASSWORD = `EnvS3cr3t-${hex()}`;
const SECRETS = [URL_PASSWORD, ENCODED_PASSWORD, ENV_PASSWORD];

let host: StartedEmbeddedPostgres;
let sandbox: Sandbox;
let script: string;

beforeAll(async () => {
  host = await new EmbeddedPostgresServer({ settings: TEST_SETTINGS, password: URL_PASSWORD }).start();
  await withClient(host, 'postgres', 'test', async (c) => {
    // Superusers: the harness creates databases, reads pg_stat_* and runs CHECKPOINT.
    await c.query(`CREATE ROLE owui_tester LOGIN SUPERUSER PASSWORD '${ENCODED_PASSWORD}'`);
    await c.query(`CREATE ROLE owui_env LOGIN SUPERUSER PASSWORD '${ENV_PASSWORD}'`);
  });
  sandbox = await makeSandbox();
  // An external "migration" that talks about where it runs, as real tools do, without printing credentials.
  script = path.join(sandbox.work, 'migrate.sh');
  await writeFile(script, '#!/bin/sh\necho "migrating $PGDATABASE on $PGHOST:$PGPORT as $PGUSER"\necho "nothing to migrate here" >&2\nexit 0\n');
  await chmod(script, 0o755);
});
afterAll(async () => {
  await host?.stop();
  if (sandbox) await destroySandbox(sandbox);
});

const url = (user: string, password?: string) =>
  `postgres://${user}${password === undefined ? '' : `:${encodeURIComponent(password)}`}@127.0.0.1:${host.port}/postgres`;

/** Every form a password could leak in: as typed, percent-encoded, and in base64 (as in a basic-auth header). */
function forms(secret: string): string[] {
  return [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')];
}

/** stdout, stderr, every file under `out` and every file the harness left in TMPDIR: none holds a secret. */
async function expectNoSecrets(r: CliExit, out: string): Promise<string[]> {
  const files = await listTree(out);
  const texts: [string, string][] = [
    ['stdout', r.stdout],
    ['stderr', r.stderr],
    ...(await Promise.all(files.map(async (f): Promise<[string, string]> => [f, await readFile(path.join(out, f), 'utf8')]))),
    ...(await Promise.all((await listTree(sandbox.tmp)).filter((f) => !f.startsWith('tsx-')).map(async (f): Promise<[string, string]> => [`TMPDIR/${f}`, await readFile(path.join(sandbox.tmp, f), 'utf8')]))),
  ];
  for (const [where, text] of texts) for (const secret of SECRETS) for (const form of forms(secret)) expect(text.includes(form), `${where} holds a password (${form})`).toBe(false);
  return files;
}

async function resultOf(out: string): Promise<RunResult> {
  return JSON.parse(await readFile(path.join(out, 'result.json'), 'utf8')) as RunResult;
}

const SMALL = ['--chats', '20', '--no-probe', '--no-faults', '--no-cache'];

describe('passwords never appear in the outputs', () => {
  it('run, password in --database-url, PGPASSWORD set too, with an external command', async () => {
    const out = path.join(sandbox.work, 'run');
    const r = await runCli(sandbox, ['run', ...SMALL, '--strategies', 'chunked,external', '--cmd', script, '--out', out, '--database-url', url('postgres', URL_PASSWORD)], {
      env: { PGPASSWORD: ENV_PASSWORD },
    });
    expect(r.code, r.stderr).toBe(0);
    const files = await expectNoSecrets(r, out);
    expect(files).toEqual(expect.arrayContaining(['result.json', 'report.md', 'chart.svg']));
    const result = await resultOf(out);
    // What the files would have leaked is there, redacted: the URL in the command line, the command's own output.
    expect(result.command).toContain(`postgres://postgres:***@127.0.0.1:${host.port}/postgres`);
    const external = result.strategies.find((s) => s.name === 'external');
    expect(JSON.stringify(external)).toContain('migrating owui_run_');
    expect(result.strategies.find((s) => s.name === 'chunked')?.outcome).toBe('succeeded');
  });

  it('gate, the password only in PGPASSWORD', async () => {
    const out = path.join(sandbox.work, 'gate');
    const r = await runCli(sandbox, ['gate', ...SMALL, '--strategies', 'chunked', '--no-resume-check', '--out', out, '--database-url', url('owui_env')], {
      env: { PGPASSWORD: ENV_PASSWORD },
    });
    expect([0, 1], r.stderr).toContain(r.code);
    expect(r.stdout).toMatch(/^gate: \d+\/\d+ checks hold/m);
    const files = await expectNoSecrets(r, out);
    expect(files).toEqual(expect.arrayContaining(['result.json', 'report.md', 'chart.svg', 'junit.xml']));
    expect((await resultOf(out)).postgres.description).toMatch(/user owui_env/);
  });

  it('validate, a password that must be percent-encoded in the URL, an external command', async () => {
    const out = path.join(sandbox.work, 'validate');
    const r = await runCli(sandbox, ['validate', ...SMALL, '--strategies', 'external', '--no-resume-check', '--cmd', script, '--out', out, '--database-url', url('owui_tester', ENCODED_PASSWORD)]);
    // The command migrates nothing: the rows do not verify and validation fails, saying so.
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^validation failed:/m);
    const files = await expectNoSecrets(r, out);
    expect(files).toEqual(expect.arrayContaining(['result.json', 'report.md', 'chart.svg', 'junit.xml']));
  });

  it('validate --dry-run, which prints the plan and the command line to reproduce it', async () => {
    const out = path.join(sandbox.work, 'dry-run');
    const r = await runCli(sandbox, ['validate', '--dry-run', ...SMALL, '--cmd', script, '--out', out, '--database-url', url('owui_tester', ENCODED_PASSWORD)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^to run it: npm run harness -- validate .*postgres:\/\/owui_tester:\*\*\*@/m);
    await expectNoSecrets(r, out);
  });

  it('a connection error, the password in the URL', async () => {
    const out = path.join(sandbox.work, 'refused');
    const r = await runCli(sandbox, ['run', ...SMALL, '--out', out, '--database-url', `postgres://postgres:${encodeURIComponent(URL_PASSWORD)}@127.0.0.1:1/postgres`]);
    expect(r.code).toBe(3);
    await expectNoSecrets(r, out);
  });

  /*
   * A command that prints its own connection settings: the harness keeps an
   * external command's output in result.json (`strategies[].output`) and
   * report.md, after replacing every secret it handed the command (the
   * URL's password, PGPASSWORD; as typed, percent-encoded and base64) with ***.
   */
  let leaky: { r: CliExit; out: string } | undefined;
  it('an external command that prints DATABASE_URL and PGPASSWORD: the run completes, its output captured', async () => {
    const cmd = path.join(sandbox.work, 'leaky.sh');
    await writeFile(cmd, '#!/bin/sh\necho "connecting to $DATABASE_URL"\necho "PGPASSWORD is $PGPASSWORD" >&2\nexit 1\n');
    await chmod(cmd, 0o755);
    const out = path.join(sandbox.work, 'leaky');
    const r = await runCli(sandbox, ['run', ...SMALL, '--strategies', 'external', '--cmd', cmd, '--out', out, '--database-url', url('postgres', URL_PASSWORD)]);
    expect(r.code, r.stderr).toBe(0);
    // The harness's own lines hold no password.
    for (const form of forms(URL_PASSWORD)) expect(r.stdout + r.stderr).not.toContain(form);
    expect(JSON.stringify((await resultOf(out)).strategies[0])).toContain('connecting to postgres://postgres:***@');
    leaky = { r, out };
  });

  it('... and that output, kept in result.json and report.md, holds no password', async () => {
    expect(leaky).toBeDefined();
    await expectNoSecrets(leaky!.r, leaky!.out);
  });
});
