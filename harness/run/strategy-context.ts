/**
 * Every {@link StrategyContext} is built here: the measured attempts', the
 * calibration's, the strategy process's and the tests'. One place names a
 * strategy's connections (`owui-harness:migration[:role]`), which is how the
 * runner finds the migration's backends to measure them and to end them
 * when a fault says so; whatever a caller leaves out does nothing.
 */
import { MIGRATION_ROLE } from '../measure/harness-roles.ts';
import { connect } from '../postgres/sql.ts';
import type { StartedPostgres } from '../postgres/started-postgres.ts';
import type { StrategyContext, StrategyOptions } from '../strategies/strategy.ts';

interface StrategyContextOptions {
  server: StartedPostgres;
  database: string;
  options?: StrategyOptions;
  signal?: AbortSignal;
  progress?: StrategyContext['progress'];
  phase?: StrategyContext['phase'];
  log?: StrategyContext['log'];
  own?: StrategyContext['own'];
}

const ignore = () => undefined;

export function strategyContext(o: StrategyContextOptions): StrategyContext {
  return {
    server: o.server,
    database: o.database,
    connect: (role) => connect(o.server, o.database, role ? `${MIGRATION_ROLE}:${role}` : MIGRATION_ROLE),
    progress: o.progress ?? ignore,
    phase: o.phase ?? ignore,
    log: o.log ?? ignore,
    signal: o.signal ?? new AbortController().signal,
    options: o.options ?? {},
    ...(o.own ? { own: o.own } : {}),
  };
}
