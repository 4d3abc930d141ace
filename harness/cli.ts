#!/usr/bin/env node
/**
 * The command line: parses, dispatches, and maps what escapes to the exit
 * codes of DESIGN.md (0 done, 1 a check failed, 2 bad input, 3 no
 * PostgreSQL). The only module that reads argv and the environment.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import type { CliContext } from './cli/cli-context.ts';
import { sweepOrphans } from './cli/sweep-orphans.ts';
import { CheckFailed, EnvironmentError, UsageError } from './errors.ts';
import { runCleanup } from './lifecycle/cleanup.ts';
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
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) {
      // A second signal: stop waiting for anything.
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
    interrupted = sig;
    ctx.stderr(`\nreceived ${sig}: stopping; cleaning up servers, containers, child processes and temp directories`);
    controller.abort(new Error(sig));
    void (async () => {
      for (const h of interruptHooks) await h().catch(() => undefined);
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

  try {
    await sweepOrphans(ctx);
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (interrupted) return interrupted === 'SIGINT' ? 130 : 143;
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 2;
    }
    if (err instanceof UsageError) {
      ctx.stderr(`error: ${err.message}`);
      return 2;
    }
    if (err instanceof EnvironmentError) {
      ctx.stderr(`error: ${err.message}`);
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
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`harness error: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
