/**
 * A connection for one piece of work, closed however the work ends: the one
 * place that pairs opening a client with closing it, so no caller can leak
 * one on an early return or an error. Long-lived clients (the sampler, the
 * write probe, the seeder's streams) keep their own lifecycle.
 */
import { closeQuietly, connect, type Client } from './sql.ts';
import type { StartedPostgres } from './started-postgres.ts';

type Work<T> = (client: Client) => Promise<T>;

/** Connect to `database` on `server` as `role` (see {@link connect}), run `work`, close. */
export function withClient<T>(server: StartedPostgres, database: string, role: string, work: Work<T>): Promise<T>;
/** Open a client with `open` (a strategy's `ctx.connect`, say), run `work`, close. */
export function withClient<T>(open: () => Promise<Client>, work: Work<T>): Promise<T>;
export async function withClient<T>(...args: [StartedPostgres, string, string, Work<T>] | [() => Promise<Client>, Work<T>]): Promise<T> {
  const [open, work] = args.length === 2 ? args : [() => connect(args[0], args[1], args[2]), args[3]];
  const client = await open();
  try {
    return await work(client);
  } finally {
    await closeQuietly(client);
  }
}
