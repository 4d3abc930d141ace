#!/usr/bin/env node
/**
 * The command line: parses, dispatches, and maps what escapes to the exit
 * codes the README lists under "Commands" (0 done, 1 a check failed, 2 bad
 * input, 3 no PostgreSQL). The only module that reads argv and the
 * environment.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import type { CliContext } from './cli/cli-context.ts';
import { sweepOrphans } from './cli/sweep-orphans.ts';
import { CheckFailed, EnvironmentError, UsageError } from './errors.ts';
import { refuseNewResources, runCleanup } from './lifecycle/cleanup.ts';
import { OwnedRegistry } from './lifecycle/owned-registry.ts';
import { HARNESS_VERSION } from './version.ts';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  const interruptHooks: (() => Promise<void>)[] = [];
  const env = process.env;
  // Testcontainers' reaper image cannot be pulled on air-gapped machines; the harness removes its own containers.
  if (env.TESTCONTAINERS_RYUK_DISABLED === undefined) env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  const ctx: CliContext = {
    argv,
    env,
    projectRoot,
    stdoutIsTTY: !!process.stdout.isTTY,
    stderrIsTTY: !!process.stderr.isTTY,
    ci: !!env.CI && env.CI !== 'false' && env.CI !== '0',
    stdout: (l) => process.stdout.write(l + '\n'),
    stderr: (l) => process.stderr.write(l + '\n'),
    signal: controller.signal,
    onInterrupt: (fn) => interruptHooks.push(fn),
    registry: new OwnedRegistry(path.join(os.tmpdir(), 'owui-harness-registry')),
  };

  let interrupted: NodeJS.Signals | undefined;
  let interruptedAt = 0;
  let settled: () => void = () => undefined;
  const mainSettled = new Promise<void>((r) => (settled = r));
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) {
      // Ctrl-C reaches every process of the terminal's group, and launchers (npm, tsx) relay it once more:
      // a repeat within moments is the same interruption, not a request to quit at once.
      if (performance.now() - interruptedAt < REPEAT_WINDOW_MS) return;
      // A second signal: stop waiting for anything (the next run cleans up what is left; see sweep-orphans).
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
    interrupted = sig;
    interruptedAt = performance.now();
    ctx.stderr(`\nreceived ${sig}: stopping; cleaning up servers, containers, child processes and temp directories (send it again to quit at once)`);
    controller.abort(new Error(sig));
    refuseNewResources(sig);
    void (async () => {
      for (const h of interruptHooks) await h().catch(() => undefined);
      await runCleanup((l) => ctx.stderr(l));
      // A server or child process the run was starting as the signal came registers itself after the cleanup above:
      // let the run unwind, then clean up again.
      let timer: NodeJS.Timeout | undefined;
      const unwound = await Promise.race([
        mainSettled.then(() => true),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(false), UNWIND_LIMIT_MS))),
      ]);
      clearTimeout(timer);
      if (!unwound) ctx.stderr(`the run did not stop within ${UNWIND_LIMIT_MS} ms of ${sig}; exiting anyway`);
      await runCleanup((l) => ctx.stderr(l));
      process.exit(sig === 'SIGINT' ? 130 : 143);
    })();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const program = new Command('harness')
    .description(
      'Reproduce and measure Open WebUI migration 8452d01d26d7 ("Add chat_message table") on PostgreSQL 15: ' +
        'seed realistic chats, run the migration variants under platform faults, measure WAL, checkpoints, ' +
        'write stalls and memory, verify every row, and write reports (Markdown, JSON, JUnit, SVG).',
    )
    .version(HARNESS_VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s), outputError: (s, write) => write(s) })
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `
Examples:
  npm run repro                                   the headline reproduction (about 1 GB, a few minutes)
  npm run harness -- run --strategies original,chunked --size 200MB
  npm run harness -- seed --size 2GB
  npm run harness -- gate --scenario ci-gate --strategies chunked
  npm run harness -- validate --cmd "alembic upgrade 8452d01d26d7"
  npm run harness -- sweep --sizes 256MB,512MB,1GB --strategies original,chunked --project 68GB
  npm run harness -- report results/<run-id>/result.json

Exit codes: 0 done · 1 a gate/validation check failed (or an unexpected harness error) · 2 bad input · 3 PostgreSQL could not be provided`,
    );

  const { defineCommands } = await import('./cli/commands.ts');
  defineCommands(program, ctx);
  // Commander's usage errors as one line that also says where the allowed values are.
  for (const cmd of [program, ...program.commands]) {
    cmd.configureOutput({
      writeOut: (s) => process.stdout.write(s),
      writeErr: (s) => process.stderr.write(s),
      outputError: (s, write) => write(usageLine(s, cmd === program ? null : cmd.name(), program.commands.map((c) => c.name()))),
    });
  }

  try {
    await sweepOrphans(ctx);
    await program.parseAsync(argv, { from: 'user' });
    if (interrupted) return interrupted === 'SIGINT' ? 130 : 143;
    return 0;
  } catch (err) {
    if (interrupted) return interrupted === 'SIGINT' ? 130 : 143;
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 2;
    }
    // One line each, even when the message quotes something multi-line (a JSON parser's excerpt, a server's log).
    if (err instanceof UsageError) {
      ctx.stderr(`error: ${err.message.replace(/\s*\n\s*/g, ' ')}`);
      return 2;
    }
    if (err instanceof EnvironmentError) {
      ctx.stderr(`error: ${err.message.replace(/\s*\n\s*/g, ' ')}`);
      return 3;
    }
    if (err instanceof CheckFailed) {
      ctx.stderr(err.message);
      return 1;
    }
    ctx.stderr(`harness error (a bug; please report it with this output): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 1;
  } finally {
    await runCleanup((l) => ctx.stderr(l));
    settled();
  }
}

/** One line: Commander's message, its suggestion, and where to look for what is allowed. */
function usageLine(message: string, command: string | null, commands: string[]): string {
  let line = message.trim().replace(/\s*\n\(Did you mean (.+)\?\)/, ' (did you mean $1?)').replace(/\s*\n\s*/g, ' ');
  line = line.replace(/\.$/, '');
  if (/unknown command/.test(line)) line += `; commands: ${commands.join(', ')}; see 'npm run harness -- --help'`;
  else if (/unknown option|too many arguments|missing required argument|argument missing/.test(line))
    line += `; see 'npm run harness -- ${command ? `${command} ` : ''}--help'`;
  return line + '\n';
}

/** Signals arriving this soon after the first are the same interruption (see onSignal). */
const REPEAT_WINDOW_MS = 2000;
/** How long an interrupted run may take to unwind before the harness exits anyway. */
const UNWIND_LIMIT_MS = 20_000;

main(process.argv.slice(2)).then(
  // After a signal (130, 143) the signal handler exits, once the partial results are written and everything is stopped.
  (code) => (code === 130 || code === 143 ? undefined : process.exit(code)),
  (err) => {
    process.stderr.write(`harness error: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
