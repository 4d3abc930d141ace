/**
 * An outside process run against the database under test and measured like
 * the built-in strategies: `external`'s shell command, `upstream`'s real
 * Alembic.
 *
 * It runs in a process group of its own, with the environment of the
 * harness plus `DATABASE_URL` and `PGHOST`, `PGPORT`, `PGUSER`,
 * `PGPASSWORD`, `PGDATABASE`. Its stdout and stderr are captured (the last
 * 64 KiB of each), the peak RSS of the whole group is sampled from /proc,
 * and success is read from its exit status; the rows and the stamp are what
 * the verifier then finds in the database. On abort (a fault, an
 * interrupted harness) the whole group gets SIGTERM, then SIGKILL after 5 s.
 *
 * It cannot report progress itself: every 2 s a harness connection reads
 * how many rows `chat_message` holds (committed rows only: a single
 * transaction shows none until it commits). The count is exact while the
 * table is under 64 MB and `pg_stat_user_tables.n_live_tup` above that, so
 * the polling never scans a large table while the command runs.
 */
import { spawn } from 'node:child_process';
import { AttemptFailed, errorMessage } from '../../errors.ts';
import { onCleanup } from '../../lifecycle/cleanup.ts';
import type { Client } from '../../postgres/sql.ts';
import { withClient } from '../../postgres/with-client.ts';
import type { AttemptReport, StrategyContext } from '../strategy.ts';
import { processGroupRssBytes } from './process-group-rss.ts';
import { TailBuffer } from './tail-buffer.ts';

/** How often the group's RSS is sampled. */
const RSS_INTERVAL_MS = 250;
/** How often committed rows are counted while the command runs. */
const PROGRESS_INTERVAL_MS = 2000;
/** SIGTERM, then this long, then SIGKILL. */
const KILL_GRACE_MS = 5000;
/** Above this heap size the progress poll reads the statistics instead of counting. */
const EXACT_COUNT_BELOW_BYTES = 64 * 1024 * 1024;

/** Signal a whole process group (a command and all it started); one already gone is fine. */
export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}

/** The environment the command sees: the harness's own, plus where the database is. */
function commandEnvironment(ctx: Pick<StrategyContext, 'server' | 'database'>): NodeJS.ProcessEnv {
  const c = ctx.server.connection(ctx.database);
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: ctx.server.url(ctx.database), PGDATABASE: ctx.database };
  if (c.host !== undefined) env.PGHOST = String(c.host);
  if (c.port !== undefined) env.PGPORT = String(c.port);
  if (c.user !== undefined) env.PGUSER = String(c.user);
  if (typeof c.password === 'string') env.PGPASSWORD = c.password;
  return env;
}

async function countRows(client: Client, exact: boolean): Promise<number | null> {
  const t = await client.query<{ oid: number | null; bytes: string | null }>(
    "SELECT to_regclass('chat_message')::oid AS oid, pg_relation_size(to_regclass('chat_message')) AS bytes",
  );
  const { oid, bytes } = t.rows[0];
  if (oid === null) return null;
  if (exact || Number(bytes) < EXACT_COUNT_BELOW_BYTES) return Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM chat_message')).rows[0].n);
  const s = await client.query<{ n: string | null }>('SELECT n_live_tup AS n FROM pg_stat_user_tables WHERE relid = $1', [oid]);
  return s.rows[0]?.n == null ? null : Number(s.rows[0].n);
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join(' | ') || '(no output on stderr)';
}

/** A process to run against the database under test. */
export interface CommandSpec {
  /** Names it in messages: "external command", "upstream's alembic upgrade". */
  label: string;
  file: string;
  args: string[];
  /** How the registry and the cleanup name it. */
  display: string;
  /** Variables on top of {@link commandEnvironment}. */
  env?: Record<string, string>;
}

/**
 * Run `spec` to its end in a process group of its own, while a harness
 * connection polls the rows it has committed; its output, exit status and
 * the group's peak RSS make the attempt's report.
 */
export function runCommand(ctx: StrategyContext, spec: CommandSpec): Promise<AttemptReport> {
  // A harness connection (never ended by faults aimed at the command's own connections).
  return withClient(() => ctx.connect('external-progress'), (counter) => runWithCounter(ctx, spec, counter));
}

async function runWithCounter(ctx: StrategyContext, spec: CommandSpec, counter: Client): Promise<AttemptReport> {
  await counter.query("SET lock_timeout = '200ms'; SET statement_timeout = '30s'");

  const child = spawn(spec.file, spec.args, { detached: true, env: { ...commandEnvironment(ctx), ...spec.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  // Read its output and listen for its end at once, before any await: a quick command can
  // exit meanwhile, and Node drains (discards) the output nobody reads when a child exits.
  const stdout = new TailBuffer();
  const stderr = new TailBuffer();
  child.stdout.on('data', (d: Buffer) => stdout.push(d));
  child.stderr.on('data', (d: Buffer) => stderr.push(d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  exited.catch(() => undefined);
  // 'close' (every pipe drained) can follow 'exit' within the same tick.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const pgid = child.pid;
  if (pgid === undefined) throw new Error(`${spec.label}: could not start ${spec.file}`);
  const unregister = onCleanup(`${spec.label} (process group ${pgid})`, () => killGroup(pgid, 'SIGKILL'));
  // A harness killed with kill -9 cannot clean up: the next run finds the group in the registry.
  const release = ctx.own ? await ctx.own(pgid, spec.display).catch(() => undefined) : undefined;

  let peakRss = 0;
  let sampling = false;
  const sampleRss = () => {
    if (sampling) return;
    sampling = true;
    void processGroupRssBytes(pgid)
      .then((b) => (peakRss = Math.max(peakRss, b)))
      .finally(() => (sampling = false));
  };
  sampleRss();
  const rssTimer = setInterval(sampleRss, RSS_INTERVAL_MS);
  let polling = false;
  const progressTimer = setInterval(() => {
    if (polling) return;
    polling = true;
    void countRows(counter, false)
      .then((n) => n !== null && ctx.progress(n, true))
      .catch(() => undefined)
      .finally(() => (polling = false));
  }, ctx.options.progressIntervalMs ?? PROGRESS_INTERVAL_MS);

  let killTimer: NodeJS.Timeout | undefined;
  let stoppedBy: string | undefined;
  const stop = (why: string) => {
    if (stoppedBy) return;
    stoppedBy = why;
    killGroup(pgid, 'SIGTERM');
    killTimer = setTimeout(() => killGroup(pgid, 'SIGKILL'), KILL_GRACE_MS);
  };
  const onAbort = () => stop('the attempt was aborted');
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  if (ctx.signal.aborted) onAbort();
  const timeout = ctx.options.commandTimeoutMs ? setTimeout(() => stop(`it ran longer than ${ctx.options.commandTimeoutMs} ms`), ctx.options.commandTimeoutMs) : undefined;

  let exit: { code: number | null; signal: NodeJS.Signals | null };
  try {
    exit = await exited;
    // A straggler still holding the pipes open after the shell exited is ended.
    const grace = setTimeout(() => killGroup(pgid, 'SIGKILL'), KILL_GRACE_MS);
    await closed;
    clearTimeout(grace);
  } finally {
    clearInterval(rssTimer);
    clearInterval(progressTimer);
    clearTimeout(killTimer);
    clearTimeout(timeout);
    ctx.signal.removeEventListener('abort', onAbort);
    unregister();
    await release?.().catch(() => undefined);
  }
  peakRss = Math.max(peakRss, await processGroupRssBytes(pgid));

  let rows = 0;
  try {
    // Queued behind a poll still running, if any; an exact count may take a while on a large table.
    await counter.query('SET statement_timeout = 0');
    rows = (await countRows(counter, true)) ?? 0;
  } catch (err) {
    ctx.log(`${spec.label}: could not count chat_message rows after it ended: ${errorMessage(err)}`);
  }

  const report: AttemptReport = {
    rowsInserted: rows,
    rowsFailed: 0,
    failures: [],
    childPeakRssBytes: peakRss,
    stdout: stdout.text(),
    stderr: stderr.text(),
    exitCode: exit.code,
  };
  if (stoppedBy) throw new AttemptFailed(`${spec.label} was stopped because ${stoppedBy} (${exit.signal ?? `exit status ${exit.code}`})`, { report });
  if (exit.code !== 0) {
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with status ${exit.code}`;
    throw new AttemptFailed(`${spec.label} ${how}; last stderr lines: ${lastLines(report.stderr ?? '', 5)}`, { report });
  }
  return report;
}
