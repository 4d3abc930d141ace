/**
 * Signals and crashes never leave a mess. SIGINT (to the whole process
 * group, as Ctrl-C in a terminal sends it) and SIGTERM (to the launcher
 * only, as a supervisor sends it) during start-up, seeding, a migration, an
 * external command and reporting: exit 130/143, no process of the run alive
 * (servers, strategy processes, commands), no server data or temp directory
 * in TMPDIR, no container, and a partial result.json that says where the run
 * stopped. A `kill -9` of the harness leaves its (detached) server running:
 * the next run stops it and says so.
 *
 * What may stay in TMPDIR: a seed interrupted with a seed cache in use, in
 * `owui-harness-seed-<key>` (harness/run/seed-cache.ts: "a killed seed is
 * found and resumed by the next run"); the test resumes it.
 */
import { existsSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../../harness/result/run-result.ts';
import { validateResult } from '../../harness/result/validate-result.ts';
import {
  destroySandbox,
  listTree,
  makeSandbox,
  runCli,
  sandboxProcesses,
  STACK_LINE,
  startCli,
  tmpLeftovers,
  waitNoProcesses,
  waitPidGone,
  type CliExit,
  type CliProcess,
  type Sandbox,
} from '../support/cli.ts';

const execFileP = promisify(execFile);

/** A seed in progress kept for resumption (with a cache dir): allowed in TMPDIR after an interruption. */
const PARTIAL_SEED = /^owui-harness-seed-g\d+_[a-z0-9_]+$/;

/** The 64 MB dataset the migration cases run on, seeded once into a cache shared by the file. */
let shared: Sandbox;
const MIGRATION = ['--provider', 'embedded', '--size', '64MB', '--strategies', 'original', '--no-probe', '--fault', 'deadline=10min'];

beforeAll(async () => {
  shared = await makeSandbox();
  const r = await runCli(shared, ['seed', '--provider', 'embedded', '--size', '64MB', '--cache-dir', shared.cache, '--out', path.join(shared.work, 'seed')]);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(async () => {
  if (shared) await destroySandbox(shared);
});

/** Sandboxes of tests still running: torn down after each test even when it timed out. */
const live = new Set<Sandbox>();
afterEach(async () => {
  // Whatever a failing test left running is stopped, so that it cannot disturb the next.
  for (const s of live) await destroySandbox(s);
  live.clear();
});

async function withSandbox(fn: (s: Sandbox) => Promise<void>): Promise<void> {
  const s = await makeSandbox();
  live.add(s);
  await fn(s);
}

async function resultOf(out: string): Promise<RunResult> {
  const value: unknown = JSON.parse(await readFile(path.join(out, 'result.json'), 'utf8'));
  const checked = validateResult(value);
  expect(checked.ok, JSON.stringify(checked)).toBe(true);
  return value as RunResult;
}

/**
 * Start `args`, send `signal` once stderr matches `when`, and check what every
 * interruption must leave: the exit code, the messages, no process of the run
 * alive, nothing in TMPDIR but `allowed`, a partial result.json (valid, no
 * half-written files beside it) stopped at `stage`.
 */
async function interrupt(
  sandbox: Sandbox,
  args: string[],
  o: {
    when: RegExp;
    signal: 'SIGINT' | 'SIGTERM';
    stage: string | RegExp;
    allowed?: RegExp;
    env?: Record<string, string>;
    waitOn?: 'stdout' | 'stderr';
    afterSignal?: () => Promise<unknown>;
  },
): Promise<{ exit: CliExit; result: RunResult; out: string; p: CliProcess }> {
  const out = path.join(sandbox.work, 'out');
  const p = startCli(sandbox, [...args, '--out', out], { env: o.env });
  await (o.waitOn === 'stdout' ? p.waitForStdout(o.when) : p.waitForStderr(o.when));
  p.kill(o.signal);
  await o.afterSignal?.();
  const exit = await p.wait();
  expect(exit.code, exit.stderr).toBe(o.signal === 'SIGINT' ? 130 : 143);
  expect(exit.stderr).toContain(`received ${o.signal}: stopping`);
  expect(exit.stderr).not.toMatch(STACK_LINE);
  expect(exit.stderr).not.toMatch(/harness error|could not write partial results|cleanup of .* failed/);
  const stoppedLine = /^interrupted during (.+); partial results: (.+)$/m.exec(exit.stderr);
  expect(stoppedLine, exit.stderr).not.toBeNull();
  expect(stoppedLine![2]).toBe(path.join(out, 'result.json'));

  expect(await waitNoProcesses(sandbox), 'no process of the run is alive').toEqual([]);
  const left = await tmpLeftovers(sandbox);
  expect(left.filter((e) => !(o.allowed && o.allowed.test(e))), `TMPDIR holds ${left.join(', ')}`).toEqual([]);
  // A partial seed keeps its data, its password and its lock file (naming a process that is gone, so not held).
  for (const e of left) expect((await readdir(path.join(sandbox.tmp, e))).filter((f) => f !== 'password' && f !== 'data' && f !== 'lock')).toEqual([]);

  const result = await resultOf(out);
  expect(result.status).toBe('interrupted');
  if (typeof o.stage === 'string') expect(result.stoppedAt).toBe(o.stage);
  else expect(result.stoppedAt).toMatch(o.stage);
  expect(stoppedLine![1]).toBe(result.stoppedAt);
  expect(await listTree(out), 'no half-written report').toEqual(expect.arrayContaining(['result.json', 'report.md', 'chart.svg']));
  expect((await listTree(out)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  return { exit, result, out, p };
}

/** What the run printed after it received the signal. */
function afterSignal(exit: CliExit): string {
  return exit.stderr.slice(exit.stderr.search(/received SIG(INT|TERM): stopping/));
}

describe('during start-up', () => {
  const args = (s: Sandbox) => ['run', '--provider', 'embedded', '--chats', '20', '--strategies', 'chunked', '--no-probe', '--no-faults', '--cache-dir', s.cache];

  it('SIGINT (Ctrl-C, the whole group) right after the provider is chosen: 130, nothing left, stopped at provisioning', () =>
    withSandbox(async (s) => {
      const { exit } = await interrupt(s, args(s), { when: /^PostgreSQL provider: embedded/m, signal: 'SIGINT', stage: 'provisioning', allowed: PARTIAL_SEED });
      expect(afterSignal(exit), 'nothing new starts after the signal').not.toMatch(/^seeding: /m);
    }));

  it('SIGTERM (to the harness only) right after the provider is chosen: 143, nothing left, stopped at provisioning', () =>
    withSandbox(async (s) => {
      const { exit } = await interrupt(s, args(s), { when: /^PostgreSQL provider: embedded/m, signal: 'SIGTERM', stage: 'provisioning', allowed: PARTIAL_SEED });
      expect(afterSignal(exit), 'nothing new starts after the signal').not.toMatch(/^seeding: /m);
    }));
});

describe('during seeding', () => {
  const args = (s: Sandbox) => ['seed', '--provider', 'embedded', '--chats', '400', '--cache-dir', s.cache];

  it('SIGINT while seeding: 130, the partial seed kept for resumption and nothing else; the next run resumes it and leaves nothing', () =>
    withSandbox(async (s) => {
      await interrupt(s, args(s), { when: /^seeding: /m, signal: 'SIGINT', stage: 'seeding', allowed: PARTIAL_SEED });
      const again = await runCli(s, [...args(s), '--out', path.join(s.work, 'again')]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toMatch(/^resuming the seed in /m);
      expect(again.stderr).toMatch(/stored in the cache/);
      expect(await tmpLeftovers(s)).toEqual([]);
      expect(await waitNoProcesses(s)).toEqual([]);
    }));

  it('SIGTERM while seeding: 143, stopped at seeding', () =>
    withSandbox(async (s) => {
      await interrupt(s, args(s), { when: /^seeding: /m, signal: 'SIGTERM', stage: 'seeding', allowed: PARTIAL_SEED });
    }));
});

describe('during a migration', () => {
  it('SIGINT while original runs (in its own process): 130, the server and the strategy process gone, stopped at strategy original', () =>
    withSandbox(async (s) => {
      const { result } = await interrupt(s, ['run', ...MIGRATION, '--cache-dir', shared.cache], { when: /^original: /m, signal: 'SIGINT', stage: 'strategy original' });
      expect(result.dataset?.reused).toBe('cache');
    }));

  it('SIGTERM while original runs: 143, stopped at strategy original', () =>
    withSandbox(async (s) => {
      await interrupt(s, ['run', ...MIGRATION, '--cache-dir', shared.cache], { when: /^original: /m, signal: 'SIGTERM', stage: 'strategy original' });
    }));

  it('SIGTERM while an external command runs: its whole process group is gone too', () =>
    withSandbox(async (s) => {
      const args = ['run', '--provider', 'embedded', '--chats', '20', '--no-probe', '--no-faults', '--cache-dir', s.cache, '--strategies', 'external', '--cmd', 'sleep 600 & sleep 600; wait'];
      const out = path.join(s.work, 'out');
      const p = startCli(s, [...args, '--out', out]);
      await p.waitForStderr(/^external: /m);
      // The command (a shell and its two sleeps) is running: it must be found alive, then gone.
      let commands: number[] = [];
      for (let i = 0; i < 100 && commands.length < 3; i++) {
        commands = (await sandboxProcesses(s)).filter((x) => /^(\/bin\/sh -c sleep|sleep 600)/.test(x.cmdline)).map((x) => x.pid);
        if (commands.length < 3) await new Promise((r) => setTimeout(r, 100));
      }
      expect(commands).toHaveLength(3);
      p.kill('SIGTERM');
      const exit = await p.wait();
      expect(exit.code, exit.stderr).toBe(143);
      for (const pid of commands) expect(await waitPidGone(pid)).toBe(true);
      expect(await waitNoProcesses(s)).toEqual([]);
      expect(await tmpLeftovers(s)).toEqual([]);
      const result = await resultOf(out);
      expect(result.status).toBe('interrupted');
      expect(result.stoppedAt).toBe('strategy external');
    }));
});

describe('during reporting', () => {
  // The last thing `gate` does is append its Markdown to $GITHUB_STEP_SUMMARY: a FIFO nobody reads yet holds it there.
  it('SIGINT while the gate writes its step summary: 130, the result kept with every measurement, stopped at reporting', () =>
    withSandbox(async (s) => {
      const fifo = path.join(s.work, 'step-summary');
      await execFileP('mkfifo', [fifo]);
      const { result, out } = await interrupt(
        s,
        ['gate', '--provider', 'embedded', '--chats', '20', '--strategies', 'chunked', '--no-probe', '--no-resume-check', '--cache-dir', s.cache],
        {
          when: /^report: /m,
          waitOn: 'stdout',
          signal: 'SIGINT',
          stage: 'reporting',
          env: { GITHUB_STEP_SUMMARY: fifo },
          // Then let the write through: a process blocked in open(2) on a FIFO cannot exit (libuv joins its threads).
          afterSignal: () => readFile(fifo, 'utf8'),
        },
      );
      expect(result.strategies.map((x) => [x.name, x.outcome])).toEqual([['chunked', 'succeeded']]);
      expect(result.checks?.length).toBeGreaterThan(0);
      expect(await listTree(out)).toContain('junit.xml');
    }));
});

describe('kill -9', () => {
  it('of the harness mid-migration leaves its detached server running; the next run stops it, removes its data and says so', () =>
    withSandbox(async (s) => {
      const p = startCli(s, ['run', ...MIGRATION, '--cache-dir', shared.cache, '--out', path.join(s.work, 'killed')]);
      await p.waitForStderr(/^original: /m);
      const postmaster = (await sandboxProcesses(s)).find((x) => x.pgrp === x.pid && / -D \S+\/owui-harness-pg-\S+\/data\b/.test(x.cmdline));
      expect(postmaster, 'the embedded postmaster is running').toBeDefined();
      const dataDir = / -D (\S+)/.exec(postmaster!.cmdline)![1];
      p.kill('SIGKILL', 'group');
      const killed = await p.wait();
      expect(killed.signal).toBe('SIGKILL');
      // The point of the test: it survived its harness.
      expect(await waitPidGone(postmaster!.pid, 1000)).toBe(false);
      expect(existsSync(dataDir)).toBe(true);

      const next = await runCli(s, ['run', '--provider', 'embedded', '--chats', '20', '--strategies', 'chunked', '--no-probe', '--no-faults', '--cache-dir', s.cache, '--out', path.join(s.work, 'next')]);
      expect(next.code, next.stderr).toBe(0);
      expect(next.stderr).toMatch(
        new RegExp(`^cleaned up after an earlier run \\(pid \\d+, [^)]+\\) that was killed: embedded PostgreSQL \\(pid ${postmaster!.pid}\\) stopped, data ${dataDir} removed$`, 'm'),
      );
      expect(next.stderr).toMatch(/^cleaned up after an earlier run \(pid \d+, [^)]+\) that was killed: temp dir \S+owui-harness-pg-\S+ removed$/m);
      expect(await waitPidGone(postmaster!.pid)).toBe(true);
      expect(existsSync(dataDir)).toBe(false);
      expect(await waitNoProcesses(s)).toEqual([]);
      expect(await tmpLeftovers(s)).toEqual([]);
    }));
});

describe('an external command after a kill -9, and --no-cache leftovers', () => {
  /*
   * harness/strategies/external.ts runs the command in a process group of its
   * own (detached, so that it can be killed as a whole) and records it in the
   * owned-resources registry: after a kill -9 of the harness the next run's
   * sweep stops it.
   */
  let survivors: number[] = [];
  it('a kill -9 during an external command: the next run still starts cleanly and stops the server', () =>
    withSandbox(async (s) => {
      const base = ['run', '--provider', 'embedded', '--chats', '20', '--no-probe', '--no-faults', '--cache-dir', s.cache];
      const p = startCli(s, [...base, '--strategies', 'external', '--cmd', 'sleep 600', '--out', path.join(s.work, 'killed')]);
      await p.waitForStderr(/^external: /m);
      let command: number[] = [];
      for (let i = 0; i < 100 && command.length < 2; i++) {
        command = (await sandboxProcesses(s)).filter((x) => /^(\/bin\/sh -c sleep 600|sleep 600)$/.test(x.cmdline)).map((x) => x.pid);
        if (command.length < 2) await new Promise((r) => setTimeout(r, 100));
      }
      expect(command).toHaveLength(2);
      p.kill('SIGKILL', 'group');
      await p.wait();
      const next = await runCli(s, [...base, '--strategies', 'chunked', '--out', path.join(s.work, 'next')]);
      expect(next.code, next.stderr).toBe(0);
      expect(next.stderr).toMatch(/^cleaned up after an earlier run .* embedded PostgreSQL \(pid \d+\) stopped/m);
      survivors = [];
      for (const pid of command) if (!(await waitPidGone(pid, 1000))) survivors.push(pid);
    }));
  it('... and stops the command that run was running', () => {
    expect(survivors).toEqual([]);
  });

  /*
   * harness/run/prepare-data.ts seeds into TMPDIR/owui-harness-seed-<key>
   * (data, password file, lock). With --no-cache the finished seed is the
   * run's only: the whole directory goes when its server stops.
   */
  let noCache: { code: number | null; left: string[] } | undefined;
  it('a complete seed with --no-cache', () =>
    withSandbox(async (s) => {
      const r = await runCli(s, ['seed', '--provider', 'embedded', '--chats', '3', '--no-cache', '--out', path.join(s.work, 'out')]);
      expect(r.code, r.stderr).toBe(0);
      expect(await waitNoProcesses(s)).toEqual([]);
      noCache = { code: r.code, left: await tmpLeftovers(s) };
    }));
  it('... leaves nothing in TMPDIR', () => {
    expect(noCache?.left).toEqual([]);
  });
});

// ------------------------------------------------------------ containers

const DOCKER_HOST = process.env.DOCKER_HOST ?? (existsSync('/var/tmp/owui-harness-docker/docker.sock') ? 'unix:///var/tmp/owui-harness-docker/docker.sock' : undefined);
if (DOCKER_HOST) process.env.DOCKER_HOST = DOCKER_HOST;
const { containerRuntimeAnswers, imagePresent } = await import('../../harness/postgres/testcontainers-server.ts');
const docker = DOCKER_HOST ? await containerRuntimeAnswers(5000) : { ok: false as const, detail: 'no DOCKER_HOST' };
const image = docker.ok ? await imagePresent().catch(() => false) : false;

async function containersOf(pids: number[]): Promise<string[]> {
  const { getContainerRuntimeClient } = await import('testcontainers');
  const client = await getContainerRuntimeClient();
  const all = await client.container.dockerode.listContainers({ all: true, filters: { label: ['owui-migration-harness'] } });
  return all.filter((c) => pids.includes(Number(c.Labels['owui-migration-harness.pid']))).map((c) => `${c.Id.slice(0, 12)} ${c.State}`);
}

describe.skipIf(!docker.ok || !image)('with Testcontainers', () => {
  it('SIGINT while the container starts: 130, no container left, stopped at provisioning', () =>
    withSandbox(async (s) => {
      const args = ['run', '--provider', 'testcontainers', '--chats', '20', '--strategies', 'chunked', '--no-probe', '--no-faults', '--cache-dir', s.cache];
      const out = path.join(s.work, 'out');
      const p = startCli(s, [...args, '--out', out], { env: { DOCKER_HOST: DOCKER_HOST! } });
      await p.waitForStderr(/^PostgreSQL provider: testcontainers/m);
      const pids = (await sandboxProcesses(s)).map((x) => x.pid);
      p.kill('SIGINT');
      const exit = await p.wait();
      expect(exit.code, exit.stderr).toBe(130);
      // The container that was starting as the signal came is removed as soon as it is up, and nothing is seeded into it.
      expect(afterSignal(exit)).not.toMatch(/^seeding: /m);
      expect(await containersOf(pids)).toEqual([]);
      expect(await waitNoProcesses(s)).toEqual([]);
      expect(await tmpLeftovers(s)).toEqual([]);
      const result = await resultOf(out);
      expect(result.status).toBe('interrupted');
      expect(result.stoppedAt).toBe('provisioning');
    }));

  it('SIGTERM while seeding into the container: 143, no container left, stopped at seeding', () =>
    withSandbox(async (s) => {
      const args = ['seed', '--provider', 'testcontainers', '--chats', '400', '--cache-dir', s.cache];
      const out = path.join(s.work, 'out');
      const p = startCli(s, [...args, '--out', out], { env: { DOCKER_HOST: DOCKER_HOST! } });
      await p.waitForStderr(/^seeding: /m);
      const pids = (await sandboxProcesses(s)).map((x) => x.pid);
      expect((await containersOf(pids)).length).toBe(1);
      p.kill('SIGTERM');
      const exit = await p.wait();
      expect(exit.code, exit.stderr).toBe(143);
      expect(await containersOf(pids)).toEqual([]);
      expect(await tmpLeftovers(s)).toEqual([]);
      const result = await resultOf(out);
      expect(result.stoppedAt).toBe('seeding');
    }));
});
