/**
 * Help a stranger can use: the program and every command answer --help
 * with exit 0, their key flags and at least one example; an unknown command
 * is one line saying which commands exist. Help starts nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { destroySandbox, makeSandbox, runCli, STACK_LINE, tmpLeftovers, type Sandbox } from '../support/cli.ts';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await makeSandbox();
});
afterAll(async () => {
  if (sandbox) await destroySandbox(sandbox);
});

const RUN_FLAGS = ['--scenario', '--provider', '--database-url', '--size', '--chats', '--seed', '--poison-chats', '--poison-at', '--max-wal-size', '--out', '--no-cache', '--cache-dir', '--force'];

const COMMANDS: { command: string; flags: string[]; example: RegExp }[] = [
  { command: 'repro', flags: [...RUN_FLAGS, '--strategies', '--fault'], example: /npm run repro -- --size 2GB/ },
  { command: 'run', flags: [...RUN_FLAGS, '--strategies', '--cmd', '--fault', '--no-faults', '--no-probe', '--keep'], example: /npm run harness -- run --strategies original,chunked/ },
  { command: 'seed', flags: RUN_FLAGS, example: /npm run harness -- seed --size 2GB/ },
  { command: 'gate', flags: [...RUN_FLAGS, '--cmd', '--wal-amplification', '--max-write-stall', '--max-client-memory', '--no-resume-check'], example: /npm run harness -- gate/ },
  { command: 'validate', flags: [...RUN_FLAGS, '--cmd', '--dry-run'], example: /npm run harness -- validate --cmd/ },
  { command: 'sweep', flags: [...RUN_FLAGS, '--sizes', '--project', '--check-projection'], example: /npm run harness -- sweep --sizes/ },
  { command: 'upgrade', flags: [...RUN_FLAGS, '--openwebui', '--from', '--to', '--python', '--alembic-env', '--seconds-per-gb', '--wal-amplification', '--max-write-stall', '--no-resume-check'], example: /npm run harness -- upgrade --openwebui ~\/open-webui --from 374d2f66af06/ },
  { command: 'report', flags: ['<result.json>'], example: /npm run harness -- report results\/.*\/result\.json/ },
];

describe.concurrent('--help', () => {
  it('the program: every command, the exit codes and examples', async () => {
    const r = await runCli(sandbox, ['--help']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Usage: harness \[options\] \[command\]/);
    for (const { command } of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    expect(r.stdout).toMatch(/Exit codes: 0 done .* 1 .* 2 bad input .* 3 PostgreSQL could not be provided/);
    expect(r.stdout).toMatch(/Examples:\n {2}npm run repro/);
    expect(r.stderr).toBe('');
  });

  it.each(COMMANDS)('$command --help: its key flags and an example', async ({ command, flags, example }) => {
    const r = await runCli(sandbox, [command, '--help']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: harness ${command} `));
    for (const flag of flags) expect(r.stdout, flag).toContain(flag);
    expect(r.stdout).toMatch(/\nExamples?:\n/);
    expect(r.stdout).toMatch(example);
    expect(r.stderr).toBe('');
  });

  it('help <command> is the same as <command> --help', async () => {
    const [a, b] = await Promise.all([runCli(sandbox, ['help', 'gate']), runCli(sandbox, ['gate', '--help'])]);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
  });

  it('--version prints the version', async () => {
    const r = await runCli(sandbox, ['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe.concurrent('unknown commands and flags', () => {
  it('an unknown command: exit 2, one line naming it and the commands there are', async () => {
    const r = await runCli(sandbox, ['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      "error: unknown command 'frobnicate'; commands: repro, run, seed, gate, validate, sweep, fidelity, upgrade, report; see 'npm run harness -- --help'",
    ]);
  });

  it('a mistyped command: exit 2, one line with the suggestion', async () => {
    const r = await runCli(sandbox, ['rn']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: unknown command 'rn' \(did you mean run\?\); commands: /);
  });

  it('an unknown flag: exit 2, one line naming it and where the flags are listed', async () => {
    const r = await runCli(sandbox, ['gate', '--max-wal', '64MB']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: unknown option '--max-wal'.*; see 'npm run harness -- gate --help'$/m);
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it('a stray argument: exit 2, one line', async () => {
    const r = await runCli(sandbox, ['run', 'original']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(["error: too many arguments for 'run'. Expected 0 arguments but got 1; see 'npm run harness -- run --help'"]);
  });
});

it('help and usage errors start nothing and leave nothing in TMPDIR', async () => {
  expect(await tmpLeftovers(sandbox)).toEqual([]);
});
