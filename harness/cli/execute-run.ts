/**
 * What run-like commands share once their plan is built: check the output
 * directory, run, keep a partial result.json current for interruptions,
 * write the reports, print the summary, and stop (or keep) the server.
 */
import { access, constants, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage, UsageError } from '../errors.ts';
import { runCleanup } from '../lifecycle/cleanup.ts';
import type { StartedPostgres } from '../postgres/started-postgres.ts';
import { renderTerminal, writeReports } from '../report/index.ts';
import type { RunResult } from '../result/run-result.ts';
import { newResult, runScenario, type RunIO, type RunPlan } from '../run.ts';
import type { CliContext } from './cli-context.ts';
import { ProgressDisplay } from './progress-display.ts';

/** Fail early (exit 2, nothing touched) when reports could not be written. */
export async function ensureWritableDir(dir: string, flag = '--out'): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    const probe = path.join(dir, `.write-test-${process.pid}`);
    await writeFile(probe, '');
    await rm(probe, { force: true });
    await access(dir, constants.W_OK);
  } catch (err) {
    throw new UsageError(`${flag} ${dir}: not a writable directory (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}); choose another --out`);
  }
}

/** In a GitHub Actions job, the report also goes to the job's summary page. */
export async function appendStepSummary(ctx: CliContext, file: string): Promise<void> {
  const target = ctx.env.GITHUB_STEP_SUMMARY;
  if (!target) return;
  const { appendFile, readFile } = await import('node:fs/promises');
  await appendFile(target, (await readFile(file, 'utf8')) + '\n');
}

export function defaultOutDir(ctx: CliContext, runId: string): string {
  return path.join(ctx.projectRoot, 'results', runId);
}

export interface ExecuteOptions {
  plan: RunPlan;
  outDir: string;
  quiet: boolean;
  verbose: boolean;
  /** Adjust the result before reports are written (gate checks, validate verdicts). */
  finalize?: (result: RunResult, server: StartedPostgres | undefined) => Promise<void> | void;
  /** Print the terminal summary (default true). */
  summary?: boolean;
  /** After the strategies, with their databases still there (fidelity compares them). */
  onStrategiesDone?: RunIO['onStrategiesDone'];
  /** Run something other than runScenario (the sweep). */
  runner?: (plan: RunPlan, io: RunIO, result: RunResult) => Promise<RunResult>;
}

export async function executeRun(ctx: CliContext, o: ExecuteOptions): Promise<{ result: RunResult; files: string[] }> {
  await ensureWritableDir(o.outDir);
  const display = new ProgressDisplay({ tty: ctx.stderrIsTTY, ci: ctx.ci, quiet: o.quiet, write: (l) => ctx.stderr(l) });
  const log = (line: string) => {
    if (o.quiet) return;
    display.clear();
    ctx.stderr(line);
  };
  let result = newResult(o.plan);
  let server: StartedPostgres | undefined;
  // Where the run was when the signal came: what the run does while it unwinds does not move it.
  let stoppedAtSignal: string | null | undefined;
  const markInterrupted = () => {
    if (stoppedAtSignal === undefined) return;
    result.status = 'interrupted';
    result.stoppedAt = stoppedAtSignal;
  };
  // With --keep, Ctrl-C is how a finished run's server is stopped: its result stands.
  let keeping = false;
  ctx.onInterrupt(async () => {
    if (keeping) return;
    display.clear();
    // A run that got through its stages was writing its reports (or the step summary) when the signal came.
    stoppedAtSignal = result.status === 'complete' ? 'reporting' : result.stoppedAt;
    markInterrupted();
    result.finishedAt = new Date().toISOString();
    try {
      const { files } = await writeReports(result, o.outDir);
      ctx.stderr(`interrupted during ${result.stoppedAt ?? 'the run'}; partial results: ${files.find((f) => f.endsWith('result.json'))}`);
    } catch (err) {
      ctx.stderr(`interrupted; could not write partial results: ${errorMessage(err)}`);
    }
  });
  try {
    result = await (o.runner ?? runScenario)(
      o.plan,
      {
        log,
        debug: (line) => {
          if (!o.verbose) return;
          display.clear();
          ctx.stderr(line);
        },
        warn: (l) => {
          display.clear();
          ctx.stderr(`warning: ${l}`);
        },
        signal: ctx.signal,
        registry: ctx.registry,
        onSeedProgress: (p) => display.seed(p),
        onSample: (name, s) => display.sample(name, s),
        onServer: (s) => (server = s),
        onStrategiesDone: o.onStrategiesDone,
      },
      result,
    );
    display.clear();
    if (o.finalize) await o.finalize(result, server);
  } catch (err) {
    display.clear();
    // Interrupted, what failed is the work the signal stopped (a server taken down under it): the partial result the
    // interrupt hook writes says where the run was.
    if (ctx.signal.aborted) throw err;
    result.status = 'error';
    result.error = errorMessage(err);
    result.finishedAt = new Date().toISOString();
    await writeReports(result, o.outDir).catch(() => undefined);
    throw err;
  } finally {
    if (server && !o.plan.keep) await server.stop().catch(() => undefined);
  }
  markInterrupted();
  const { files } = await writeReports(result, o.outDir);
  if (o.summary !== false) {
    ctx.stdout(renderTerminal(result, { color: ctx.stdoutIsTTY && !ctx.ci && !ctx.env.NO_COLOR }));
    ctx.stdout(`report: ${path.relative(process.cwd(), path.join(o.outDir, 'report.md')) || path.join(o.outDir, 'report.md')}`);
  }
  if (o.plan.keep && server) {
    keeping = true;
    await keepServer(ctx, result, server);
  }
  return { result, files };
}

/** `--keep`: say how to connect to each kept database; an owned server stays up until Ctrl-C. */
async function keepServer(ctx: CliContext, result: RunResult, server: StartedPostgres): Promise<void> {
  for (const s of result.strategies) {
    if (!s.kept) continue;
    // A password the harness generated for its own server is printed: it is needed to connect and guards nothing else.
    ctx.stdout(`kept ${s.name}: psql '${server.owned ? server.url(s.kept.database) : s.kept.url}'`);
  }
  if (!server.owned) return;
  ctx.stdout(`the ${server.provider} server keeps running for inspection; press Ctrl-C to stop it and remove its data`);
  await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
  await server.stop();
  await runCleanup();
}
