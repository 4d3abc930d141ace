/**
 * Child process body: runs one attempt of an in-process strategy, as the
 * upstream migration runs in a process of its own, so that its memory is
 * measured alone (peak RSS of this process) and a fault that ends it cannot
 * disturb the harness. Talks to the parent over IPC.
 */
import type { ClientConfig } from 'pg';
import { AttemptFailed, errorMessage } from '../errors.ts';
import type { StartedPostgres } from '../postgres/started-postgres.ts';
import { strategyByName } from '../strategies/strategy-registry.ts';
import type { AttemptReport, PhaseName, StrategyOptions } from '../strategies/strategy.ts';
import { strategyContext } from './strategy-context.ts';

export interface ChildInit {
  type: 'init';
  strategy: string;
  database: string;
  connection: ClientConfig;
  options: StrategyOptions;
  /**
   * A kill or crash is due when the rows written reach this: the strategy
   * stops starting new work there (the parent ends its connections at
   * once), so the fault lands right after the write that crossed it and not
   * wherever a fast strategy got to while the news travelled.
   */
  haltAtRows?: number;
}

export type ChildMessage =
  | { type: 'progress'; rows: number; committed: boolean }
  | { type: 'phase'; name: PhaseName }
  | { type: 'log'; line: string }
  | { type: 'done'; report: AttemptReport; maxRssBytes: number }
  | { type: 'failed'; error: string; report?: AttemptReport; maxRssBytes: number };

function send(m: ChildMessage): void {
  process.send?.(m);
}

const maxRss = () => process.resourceUsage().maxRSS * 1024;

process.on('message', async (m: ChildInit | { type: 'abort' }) => {
  if (m.type === 'abort') {
    controller.abort(new Error('attempt ended'));
    return;
  }
  const strategy = strategyByName(m.strategy);
  if (!strategy) {
    send({ type: 'failed', error: `unknown strategy ${m.strategy}`, maxRssBytes: maxRss() });
    return;
  }
  // Only connection details cross the process boundary; this view of the server offers nothing else.
  const server: StartedPostgres = {
    provider: 'url',
    version: '',
    owned: false,
    maintenanceDatabase: m.database,
    connection: (db) => ({ ...m.connection, database: db }),
    url: () => {
      throw new Error('not available in the strategy process');
    },
    redactedUrl: () => '',
    describe: () => 'strategy process',
    stop: async () => undefined,
  };
  let lastProgress = 0;
  try {
    const report = await strategy.run(
      strategyContext({
        server,
        database: m.database,
        progress: (rows, committed) => {
          if (m.haltAtRows !== undefined && rows >= m.haltAtRows && !controller.signal.aborted) {
            send({ type: 'progress', rows, committed });
            controller.abort(new Error('attempt ended'));
            return;
          }
          // Batches can be small: do not flood the parent.
          const now = Date.now();
          if (now - lastProgress < 50) return;
          lastProgress = now;
          send({ type: 'progress', rows, committed });
        },
        phase: (name) => send({ type: 'phase', name }),
        log: (line) => send({ type: 'log', line }),
        signal: controller.signal,
        options: m.options,
      }),
    );
    send({ type: 'progress', rows: report.rowsInserted, committed: true });
    send({ type: 'done', report, maxRssBytes: maxRss() });
  } catch (err) {
    send({ type: 'failed', error: errorMessage(err), report: err instanceof AttemptFailed ? err.report : undefined, maxRssBytes: maxRss() });
  }
});

const controller = new AbortController();
process.on('disconnect', () => process.exit(0));
