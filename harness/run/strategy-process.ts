/**
 * Run one attempt of an in-process strategy in a child process of its own
 * (see strategy-child.ts): its peak RSS is then the migration client's
 * memory alone, as upstream's migration is a process of its own.
 */
import { fork } from 'node:child_process';
import { AttemptFailed } from '../errors.ts';
import { onCleanup } from '../lifecycle/cleanup.ts';
import type { AttemptReport, StrategyContext } from '../strategies/strategy.ts';
import type { ChildInit, ChildMessage } from './strategy-child.ts';

const ENTRY = new URL('./strategy-child-entry.mjs', import.meta.url);

export async function runInChildProcess(strategy: string, ctx: StrategyContext, haltAtRows?: number): Promise<{ report: AttemptReport; maxRssBytes: number }> {
  const child = fork(ENTRY, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
  const undo = onCleanup(`strategy process ${child.pid}`, () => {
    child.kill('SIGKILL');
  });
  let killTimer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    if (child.connected) child.send({ type: 'abort' });
    // The strategy's connections are being terminated; it should fail at once. If not, stop it.
    killTimer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  };
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await new Promise((resolve, reject) => {
      let settled = false;
      child.on('message', (m: ChildMessage) => {
        switch (m.type) {
          case 'progress':
            ctx.progress(m.rows, m.committed);
            break;
          case 'phase':
            ctx.phase(m.name);
            break;
          case 'log':
            ctx.log(m.line);
            break;
          case 'done':
            settled = true;
            resolve({ report: m.report, maxRssBytes: m.maxRssBytes });
            break;
          case 'failed':
            settled = true;
            reject(new AttemptFailed(m.error, { report: m.report, maxRssBytes: m.maxRssBytes }));
            break;
        }
      });
      child.on('exit', (code, signal) => {
        if (!settled) reject(new AttemptFailed(`the strategy process exited (${signal ?? `code ${code}`}) before reporting`));
      });
      child.on('error', (err) => {
        if (!settled) reject(new AttemptFailed(err.message));
      });
      const init: ChildInit = { type: 'init', strategy, database: ctx.database, connection: ctx.server.connection(ctx.database), options: ctx.options, ...(haltAtRows !== undefined ? { haltAtRows } : {}) };
      child.send(init);
    });
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    clearTimeout(killTimer);
    if (child.connected) child.disconnect();
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((r) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          r();
        }, 5000);
        child.once('exit', () => {
          clearTimeout(t);
          r();
        });
      });
    }
    undo();
  }
}
