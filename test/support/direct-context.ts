/**
 * A {@link StrategyContext} without the runner: for tests and benchmarks that
 * run a strategy directly against a database. Built like the runner's
 * (harness/run/strategy-context.ts), so connections carry the same names;
 * phases and progress are recorded, and a test can wrap each client (to
 * pause a statement, or to end a backend at a chosen moment).
 */
import type { Client } from '../../harness/postgres/sql.ts';
import type { StartedPostgres } from '../../harness/postgres/started-postgres.ts';
import { strategyContext } from '../../harness/run/strategy-context.ts';
import type { PhaseName, StrategyContext, StrategyOptions } from '../../harness/strategies/strategy.ts';

export interface DirectContextOptions {
  options?: StrategyOptions;
  signal?: AbortSignal;
  log?: (line: string) => void;
  onProgress?: (rows: number, committed: boolean) => void;
  /** Called with every client the strategy opens, before it is handed over. */
  onConnect?: (client: Client, role: string | undefined) => Client | void;
}

interface DirectContext extends StrategyContext {
  /** Phases in the order they began. */
  readonly phases: PhaseName[];
  /** The last progress report. */
  readonly lastProgress: { rows: number; committed: boolean } | null;
  readonly logLines: string[];
}

export function directContext(server: StartedPostgres, database: string, opts: DirectContextOptions = {}): DirectContext {
  const phases: PhaseName[] = [];
  const logLines: string[] = [];
  let lastProgress: { rows: number; committed: boolean } | null = null;
  const ctx = strategyContext({
    server,
    database,
    options: opts.options,
    signal: opts.signal,
    progress(rows, committed) {
      lastProgress = { rows, committed };
      opts.onProgress?.(rows, committed);
    },
    phase(name) {
      phases.push(name);
    },
    log(line) {
      logLines.push(line);
      opts.log?.(line);
    },
  });
  return {
    ...ctx,
    async connect(role?: string) {
      const client = await ctx.connect(role);
      return opts.onConnect?.(client, role) ?? client;
    },
    phases,
    get lastProgress() {
      return lastProgress;
    },
    logLines,
  };
}
