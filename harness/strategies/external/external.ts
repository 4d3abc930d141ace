/**
 * `external`: any shell command run against the database under test, e.g. a
 * real `alembic upgrade 8452d01d26d7` from a full Open WebUI install, run as
 * `/bin/sh -c <command>` and measured like the built-in strategies (see
 * run-command.ts for what is measured and how it is stopped).
 *
 * The flags below are what the harness can promise without knowing the
 * command: it is not assumed to be resumable nor a single transaction.
 */
import type { Strategy } from '../strategy.ts';
import { runCommand } from './run-command.ts';

export const external: Strategy = {
  name: 'external',
  summary: 'any shell command against the seeded database (DATABASE_URL and PG* set), e.g. a real alembic upgrade',
  singleTransaction: false,
  resumable: false,
  writesUsage: true,
  commitsInside: false,
  shippedEnv: null,
  runsCommand: true,
  async run(ctx) {
    const command = ctx.options.command;
    if (!command?.trim())
      throw new Error("external: no command to run (options.command is empty); give the shell command, e.g. 'cd open-webui/backend && alembic upgrade 8452d01d26d7'");
    ctx.phase('command');
    return runCommand(ctx, { label: 'external command', file: '/bin/sh', args: ['-c', command], display: command });
  },
};

