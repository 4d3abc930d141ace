/**
 * The commands. Each action loads what it needs when it runs, so `--help`
 * stays fast.
 */
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { CheckFailed, UsageError } from '../errors.ts';
import { gateChecks, RESUME_KILL_AT, type Thresholds } from '../gate/gate-checks.ts';
import type { Check, RunResult } from '../result/run-result.ts';
import type { RunPlan } from '../run.ts';
import { parseDuration, parseSize } from '../units.ts';
import type { CliContext } from './cli-context.ts';
import { fidelityCommand } from './fidelity-command.ts';
import { addRunFlags, buildPlan, duration, positiveInt, positiveNumber, size, type RunFlags } from './run-options.ts';
import { addUpgradePathFlags, upgradeCommand, type UpgradeFlags } from './upgrade-command.ts';

function runLike(name: string, ctx: CliContext, opts: { defaultScenario: string; strategies?: boolean; faults?: boolean }): Command {
  return addRunFlags(new Command(name).exitOverride(), opts);
}

export function defineCommands(program: Command, ctx: CliContext): void {
  const repro = runLike('repro', ctx, { defaultScenario: 'issue-23273' })
    .summary('the headline reproduction of issue #23273 (what `npm run repro` runs)')
    .description(
      'Reproduce Open WebUI issue #23273 on PostgreSQL 15 with a reduced max_wal_size: seed about 1 GB of ' +
        'incompressible chats (cached after the first run), calibrate a platform deadline to this machine, then run ' +
        'the original single-transaction migration and the chunked fix under that deadline with restarts. Shows the ' +
        'original failing at every attempt with nothing kept, the fix finishing with every row verified, and the WAL, ' +
        'full-page-image and write-stall figures that explain why.',
    )
    .addHelpText('after', '\nExamples:\n  npm run repro\n  npm run repro -- --size 2GB --max-wal-size 32MB\n  npm run repro -- --provider testcontainers --out /tmp/repro')
    .action(async (flags: RunFlags) => {
      const { executeRun, defaultOutDir } = await import('./execute-run.ts');
      const plan = await buildPlan('repro', flags, ['repro', ...ctx.argv.slice(1)], ctx.env, 'issue-23273');
      await executeRun(ctx, { plan, outDir: flags.out ?? defaultOutDir(ctx, plan.runId), quiet: !!flags.quiet, verbose: !!flags.verbose });
    });

  const run = runLike('run', ctx, { defaultScenario: 'plain' })
    .summary('run strategies on seeded data under a scenario, measure and verify them')
    .description(
      "Seed (or reuse) a dataset, then run each strategy on its own copy of it, measuring WAL, checkpoints, pg_wal, " +
        'write stalls and memory, and verifying every row against the seed\'s manifest. Strategies: original (v0.8.12), ' +
        'v0.8.0, v0.9.6 (the current release), chunked (the fix), setbased, parallel, resuming (the fix without its restart tax), ' +
        'external (--cmd), upstream (--openwebui), and sequences such as chunked>v0.9.6 (one strategy per start). ' +
        'Without --scenario: the plain scenario, no faults (repro keeps the reproduction\'s deadline and restarts); ' +
        'the hazards are scenarios too: poison-chat, lost-stamp, mixed-upgrade.',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  npm run harness -- run --strategies original,chunked --size 200MB\n  npm run harness -- run --scenario small --fault kill-at=0.5 --fault restarts=1\n  npm run harness -- run --scenario mixed-upgrade\n  npm run harness -- run --strategies original,chunked,resuming --poison-chats 1 --fault restarts=2\n  npm run harness -- run --cmd "cd ../open-webui/backend && alembic upgrade 8452d01d26d7"',
    )
    .action(async (flags: RunFlags) => {
      const { executeRun, defaultOutDir } = await import('./execute-run.ts');
      const plan = await buildPlan('run', flags, ['run', ...ctx.argv.slice(1)], ctx.env, 'plain');
      await executeRun(ctx, { plan, outDir: flags.out ?? defaultOutDir(ctx, plan.runId), quiet: !!flags.quiet, verbose: !!flags.verbose });
    });

  const seed = runLike('seed', ctx, { defaultScenario: 'plain', strategies: false, faults: false })
    .summary('fill the chat table with realistic chats at a target size (and cache the result)')
    .description(
      "Seed Open WebUI's chat table (schema at revision 374d2f66af06) with documents shaped like real chats, content " +
        'as random hex that TOAST cannot compress, deterministic from --seed, resumable after a kill, with a manifest of ' +
        'the rows a correct migration must write. With the embedded server the seeded data directory is cached.',
    )
    .addHelpText('after', '\nExamples:\n  npm run harness -- seed --size 2GB\n  npm run harness -- seed --chats 5000 --seed 7\n  npm run harness -- seed --size 68GB --database-url postgres://user@staging:5432/postgres')
    .action(async (flags: RunFlags) => {
      const { executeRun, defaultOutDir } = await import('./execute-run.ts');
      const plan = await buildPlan('seed', { ...flags, faults: false, probe: false }, ['seed', ...ctx.argv.slice(1)], ctx.env, 'plain');
      plan.seedOnly = true;
      plan.strategies = [];
      await executeRun(ctx, { plan, outDir: flags.out ?? defaultOutDir(ctx, plan.runId), quiet: !!flags.quiet, verbose: !!flags.verbose });
    });

  const report = new Command('report')
    .exitOverride()
    .summary('re-render report.md, chart.svg (and junit.xml) from a result.json')
    .description('Read a result.json (validated against harness/result/result.schema.json) and write the reports next to it again.')
    .argument('<result.json>', 'a result.json written by an earlier run')
    .addHelpText('after', '\nExample:\n  npm run harness -- report results/20261121-142812-ab12/result.json')
    .action(async (file: string) => {
      const { reportCommand } = await import('../report/index.ts');
      const { files } = await reportCommand(file);
      for (const f of files) ctx.stdout(f);
    });

  program.addCommand(repro);
  program.addCommand(run);
  program.addCommand(seed);
  for (const c of extraCommands(ctx)) program.addCommand(c);
  program.addCommand(report);
}

interface GateFlags extends RunFlags, Pick<UpgradeFlags, 'from' | 'to' | 'secondsPerGb'> {
  walAmplification?: number;
  maxWriteStall?: number;
  maxClientMemory?: number;
  resumeCheck: boolean;
  dryRun?: boolean;
}

function addThresholdFlags(cmd: Command): Command {
  return cmd
    .option('--wal-amplification <ratio>', "limit on WAL bytes / chat_message bytes (default: the scenario's, 1.2)", positiveNumber('a ratio', '1.2'))
    .option('--max-write-stall <duration>', "limit on any one write to chat during the migration (default: the scenario's, 1s)", duration())
    .option('--max-client-memory <size>', "limit on the migration client's peak RSS (default: the scenario's, 2GB)", size('--max-client-memory'))
    .option('--no-resume-check', 'skip the kill-at-half-then-rerun check');
}

async function thresholdsOf(plan: RunPlan, flags: GateFlags): Promise<Thresholds> {
  const t = plan.scenario.thresholds;
  return {
    walAmplification: flags.walAmplification ?? t.walAmplification,
    maxWriteStallMs: flags.maxWriteStall ?? (parseDuration(t.maxWriteStall) as { ms: number }).ms,
    clientPeakRssBytes: flags.maxClientMemory ?? (parseSize(t.clientPeakMemory) as { bytes: number }).bytes,
    resumable: flags.resumeCheck !== false && t.resumable,
  };
}

function failingChecks(checks: Check[]): string {
  const bad = checks.filter((c) => !c.passed);
  return bad.map((c) => `  ✗ ${c.strategy}: ${c.name}: ${c.measured} (limit ${c.limit})`).join('\n');
}

/** A count of runs for sweep --repeat and --check-repeat: 1 to 9. */
function repeatCount(what: string, hint: string): (v: string) => number {
  return (v) => {
    const n = positiveInt('a repeat count')(v);
    if (n > 9) throw new InvalidArgumentError(`'${v}' is more repeats than ${what} takes; use 1 to 9${hint}.`);
    return n;
  };
}

function extraCommands(ctx: CliContext): Command[] {
  const gate = runLike('gate', ctx, { defaultScenario: 'ci-gate' });
  addUpgradePathFlags(addThresholdFlags(gate), false)
    .summary('CI regression gate: run a migration and check completion, rows, WAL, write stalls, resumability, memory')
    .description(
      'Run a migration (a built-in strategy, a checkout\'s own revision file with --openwebui <dir>, or --cmd "<command>") on seeded data under the scenario\'s faults and ' +
        'check, each against a limit: it finishes; every row verifies (7 indexes, validated FK, stamp); WAL ' +
        'amplification; the longest write to chat while it runs; killed half-way, a rerun finishes with nothing lost; ' +
        'the stamp recorded (a run that completes without it is run again at the next start, so it does not pass); ' +
        'client peak memory. Exit 0 when all hold, 1 otherwise. Writes junit.xml, report.md and result.json, and ' +
        'appends the Markdown to $GITHUB_STEP_SUMMARY when set.',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  npm run harness -- gate                               # the chunked fix on the ci-gate scenario\n  npm run harness -- gate --strategies original         # fails: single transaction\n  npm run harness -- gate --openwebui ~/open-webui      # the checkout\'s own 8452d01d26d7, real Alembic\n  npm run harness -- gate --cmd "alembic upgrade head" --wal-amplification 1.3\n  npm run harness -- gate --openwebui ~/open-webui --from 374d2f66af06   # the whole upgrade path, each revision checked (see upgrade --help)',
    )
    .action(async (flags: GateFlags) => {
      if (flags.from || flags.to || flags.secondsPerGb !== undefined) return (await import('./upgrade-command.ts')).executeUpgrade(ctx, 'gate', flags);
      const { executeRun, defaultOutDir } = await import('./execute-run.ts');
      const plan = await buildPlan('gate', withCmdDefault(flags), ['gate', ...ctx.argv.slice(1)], ctx.env, 'ci-gate');
      const thresholds = await thresholdsOf(plan, flags);
      if (thresholds.resumable) plan.resumeCheckAt = RESUME_KILL_AT;
      const outDir = flags.out ?? defaultOutDir(ctx, plan.runId);
      const { result } = await executeRun(ctx, {
        plan,
        outDir,
        quiet: !!flags.quiet,
        verbose: !!flags.verbose,
        finalize: (result) => {
          result.checks = checksOf(result, plan.strategies, thresholds);
        },
      });
      await (await import('./execute-run.ts')).appendStepSummary(ctx, path.join(outDir, 'report.md'));
      const checks = result.checks ?? [];
      ctx.stdout(`gate: ${checks.filter((c) => c.passed).length}/${checks.length} checks hold; junit: ${path.join(outDir, 'junit.xml')}`);
      if (result.status !== 'complete' || checks.some((c) => !c.passed)) throw new CheckFailed(`gate failed:\n${failingChecks(checks)}`);
    });

  const validate = runLike('validate', ctx, { defaultScenario: 'ci-gate' });
  addUpgradePathFlags(addThresholdFlags(validate), false)
    .option('--dry-run', 'show what would be done (server, data, commands, checks) and touch nothing')
    .summary("validate a pull request's migration command on seeded data (or your staging copy): one report to paste")
    .description(
      "For community testers: run the pull request's migration (--openwebui <checkout of the pull request>: its own " +
        'revision file under real Alembic, in the transaction shape its env.py gives; or --cmd "<command>") next to ' +
        'original and chunked for reference, on ' +
        'seeded data or on your own staging copy (--database-url; the harness works only in databases it creates), ' +
        'and write one report.md to paste into the pull request: a verdict per check, the figures side by side, the ' +
        'environment and settings, and the exact command line to reproduce. Exit 0 when every check holds, 1 otherwise.',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  npm run harness -- validate --openwebui ~/open-webui                  # a checkout of the pull request\n  npm run harness -- validate --cmd "cd ~/open-webui/backend && alembic upgrade 8452d01d26d7"\n  npm run harness -- validate --cmd "./migrate.sh" --dry-run\n  npm run harness -- validate --cmd "alembic upgrade head" --database-url postgres://me@staging/postgres --size 10GB',
    )
    .action(async (flags: GateFlags) => {
      if (flags.from || flags.to || flags.secondsPerGb !== undefined) {
        if (flags.dryRun) throw new UsageError('--dry-run does not apply to the upgrade path yet; run `upgrade --help` to see what it does');
        return (await import('./upgrade-command.ts')).executeUpgrade(ctx, 'validate', flags);
      }
      if (!flags.cmd && !flags.openwebui)
        throw new UsageError('validate needs the migration to validate: --openwebui <checkout of the pull request> (its own revision file), or --cmd "<command>" (run with DATABASE_URL pointing at the seeded copy)');
      // The subject: upstream's own code when a checkout is given, else the command.
      const subject = flags.openwebui ? 'upstream' : 'external';
      const plan = await buildPlan('validate', { ...flags, strategies: flags.strategies ?? [subject, 'original', 'chunked'] }, ['validate', ...ctx.argv.slice(1)], ctx.env, 'ci-gate');
      const thresholds = await thresholdsOf(plan, flags);
      const outDir = flags.out ?? (await import('./execute-run.ts')).defaultOutDir(ctx, plan.runId);
      if (flags.dryRun) {
        const { describeDryRun } = await import('./dry-run.ts');
        for (const line of await describeDryRun(plan, thresholds, outDir)) ctx.stdout(line);
        return;
      }
      if (thresholds.resumable) {
        plan.resumeCheckAt = RESUME_KILL_AT;
        // original and chunked are references, not under test.
        plan.resumeCheckStrategies = [subject];
      }
      const { executeRun } = await import('./execute-run.ts');
      const { result } = await executeRun(ctx, {
        plan,
        outDir,
        quiet: !!flags.quiet,
        verbose: !!flags.verbose,
        finalize: (result) => {
          result.checks = checksOf(result, [subject], thresholds);
        },
      });
      await (await import('./execute-run.ts')).appendStepSummary(ctx, path.join(outDir, 'report.md'));
      const checks = result.checks ?? [];
      ctx.stdout(`validate: ${checks.filter((c) => c.passed).length}/${checks.length} checks hold for the command; paste ${path.join(outDir, 'report.md')} into the pull request`);
      if (result.status !== 'complete' || checks.some((c) => !c.passed)) throw new CheckFailed(`validation failed:\n${failingChecks(checks)}`);
    });
  const sweep = addUpgradePathFlags(runLike('sweep', ctx, { defaultScenario: 'plain' }), false)
    .option('--sizes <list>', 'comma-separated dataset sizes (default 256MB,512MB,1GB)', (v: string) =>
      v.split(',').map((x) => {
        const r = parseSize(x.trim());
        if (!r.ok) throw new InvalidArgumentError(`${r.reason}.`);
        return r.bytes;
      }),
    )
    .option('--project <size>', 'project duration, WAL and FPI to this size (e.g. 68GB) from the fitted growth', size('--project'))
    .option(
      '--check-projection [sizes]',
      'also measure at the --project size (or at each of these comma-separated sizes) and report the projection error, and the duration\'s error at one machine speed (every size brought to the check run\'s speed by a fixed workload timed beside each run); use sizes this machine can hold',
      (v: string) =>
        v.split(',').map((x) => {
          const r = parseSize(x.trim());
          if (!r.ok) throw new InvalidArgumentError(`${r.reason}.`);
          return r.bytes;
        }),
    )
    .option('--target-shared-buffers <size>', "the target server's shared_buffers (default: --database-url's SHOW, else the sweep's own)", size('--target-shared-buffers'))
    .option('--target-max-wal-size <size>', "the target server's max_wal_size (default: --database-url's SHOW, else the sweep's own)", size('--target-max-wal-size'))
    .option('--repeat <n>', 'run each strategy n times at each size, each on a fresh copy, and fit the fastest duration and the median WAL and full-page images (runs of seconds are noisy; default 1, at most 9)', repeatCount('a sweep', ' (3 is usually enough)'))
    .option('--check-repeat <n>', 'run each strategy n times at each --check-projection size and compare its fastest duration and median WAL and full-page images, as --repeat does for the fitted sizes (default 1, at most 9)', repeatCount('a check', ''))
    .option('--scale-regime', "run each size in the target's regime: shared_buffers and max_wal_size scaled with the data to the target's ratios (off by default: measured here it did not bring duration or full-page images closer; see README, Regimes)")
    .summary('measure cost at several sizes, fit growth, and project to production size')
    .description(
      'Run each strategy at each size (each size seeded once, cached with the embedded server), fit duration, WAL ' +
        'bytes and full-page images against size (a power law and a straight line, with R²), flag super-linear growth, ' +
        "and project to --project with an 80% band: each figure the larger of the two fits there (a fixed cost bends the power law low, " +
        'cost per GB that grows leaves the line low), with a backtest (each fit redone without the largest size and checked against it). ' +
        "--repeat n runs each size n times, in rounds (each strategy once, then each again), and fits the fastest duration and the median WAL and images; --check-repeat n does the same at the check sizes. Projections are for this machine's speed. " +
        "On a server the harness starts, WAL and full-page images are projected from each size's WAL read back page by page (pg_walinspect; the WAL is kept with wal_keep_size 1.5x the largest size): every change to a page changed before writes an image if a checkpoint fell since, so the images follow the checkpoints expected at the target, spaced as each strategy's own came over all its runs (checkpoint cycles; points[].pages has each size's self-check). Each point records its regime (chat_message and its indexes against " +
        "shared_buffers, WAL between checkpoints, buffer hit ratio, how long the load ran against autovacuum_naptime and whether it commits as it goes). With --scale-regime each size runs in the target's regime: shared_buffers and max_wal_size scaled with the data (a checkpoint forced every scaled spacing of WAL " +
        'where max_wal_size cannot go that low), so the ratios that decide re-reads and full-page images match the target server\'s; ' +
        'a projection beyond a regime boundary no point crossed says so and widens its band (from checkpoint cycles, WAL and images widen only past autovacuum passing over a committing load\'s rows, which no shorter run shows). Against a managed server ' +
        '(AlloyDB, RDS) pass --database-url: seeds stay there as databases of the harness, reused by later sweeps. ' +
        "The scenario's faults are ignored unless --fault is given.",
    )
    .addHelpText(
      'after',
      '\nExamples:\n  npm run harness -- sweep --sizes 256MB,512MB,1GB,2GB --strategies original,chunked --project 68GB\n  npm run harness -- sweep --sizes 128MB,256MB,512MB --project 1GB --check-projection\n  npm run harness -- sweep --sizes 128MB,256MB,512MB --project 4GB --check-projection 4GB,8GB --repeat 5 --check-repeat 2\n  npm run harness -- sweep --sizes 1GB,2GB,4GB --project 68GB --scale-regime --target-shared-buffers 16GB --target-max-wal-size 4GB\n  npm run harness -- sweep --database-url postgres://me@db.internal:5432/postgres --sizes 5GB,10GB,20GB --project 68GB\n  npm run harness -- sweep --openwebui ~/open-webui --from 374d2f66af06 --sizes 256MB,512MB,1GB --project 68GB   # each revision of the upgrade path',
    )
    .action(async (flags: RunFlags & UpgradeFlags & { checkProjection?: boolean | number[]; targetSharedBuffers?: number; targetMaxWalSize?: number; scaleRegime?: boolean; repeat?: number; checkRepeat?: number }) => {
      if (flags.from || flags.to) {
        if (flags.checkProjection) throw new UsageError('--check-projection applies to strategies; for the upgrade path, run upgrade at the --project size and compare');
        if (flags.repeat !== undefined) throw new UsageError('--repeat applies to strategies; the upgrade path runs each size once');
        if (flags.checkRepeat !== undefined) throw new UsageError('--check-repeat applies to strategies; the upgrade path runs each size once');
        return (await import('./upgrade-command.ts')).executeUpgrade(ctx, 'sweep', flags);
      }
      const { executeRun, defaultOutDir } = await import('./execute-run.ts');
      const { runSweep } = await import('../sweep/run-sweep.ts');
      const { chooseProvider } = await import('../postgres/choose-provider.ts');
      const base = await buildPlan('sweep', { ...flags, faults: flags.fault ? flags.faults : false }, ['sweep', ...ctx.argv.slice(1)], ctx.env, 'plain');
      if (flags.size !== undefined || flags.chats !== undefined) throw new UsageError('sweep takes --sizes, not --size or --chats');
      const sizes = flags.sizes ?? [256, 512, 1024].map((m) => m * 1024 * 1024);
      if (sizes.length < 2) throw new UsageError('--sizes: give at least two sizes to fit growth');
      if (flags.checkProjection && !flags.project) throw new UsageError('--check-projection needs --project <size>');
      if (flags.checkRepeat !== undefined && !flags.checkProjection) throw new UsageError('--check-repeat repeats the --check-projection runs: give --check-projection too');
      for (const f of ['targetSharedBuffers', 'targetMaxWalSize'] as const)
        if (flags[f] !== undefined && !flags.project) throw new UsageError(`--${f === 'targetSharedBuffers' ? 'target-shared-buffers' : 'target-max-wal-size'} describes the --project target: give --project <size> too`);
      if (flags.targetMaxWalSize !== undefined && flags.targetMaxWalSize < 2 * 1024 * 1024)
        throw new UsageError('--target-max-wal-size: at least 2MB (PostgreSQL needs two WAL segments)');
      if (flags.targetSharedBuffers !== undefined && flags.targetSharedBuffers < 128 * 1024) throw new UsageError('--target-shared-buffers: at least 128kB (PostgreSQL\'s minimum)');
      const chosen = await chooseProvider(base.provider, base.databaseUrl);
      ctx.stderr(`PostgreSQL provider: ${chosen.provider} (${chosen.why})`);
      const plan = {
        ...base,
        provider: chosen.provider,
        sizes,
        projectBytes: flags.project,
        checkProjection: !!flags.checkProjection,
        checkSizes: Array.isArray(flags.checkProjection) ? flags.checkProjection : undefined,
        target: { sharedBuffersBytes: flags.targetSharedBuffers, maxWalSizeBytes: flags.targetMaxWalSize },
        scaleRegime: !!flags.scaleRegime,
        repeat: flags.repeat ?? 1,
        checkRepeat: flags.checkRepeat ?? 1,
      };
      await executeRun(ctx, {
        plan,
        outDir: flags.out ?? defaultOutDir(ctx, plan.runId),
        quiet: !!flags.quiet,
        verbose: !!flags.verbose,
        runner: async (p, io, result) => {
          result.postgres.provider = chosen.provider;
          const r = await runSweep(plan, io, result);
          r.status = io.signal.aborted ? 'interrupted' : 'complete';
          if (!io.signal.aborted) r.stoppedAt = null;
          r.finishedAt = new Date().toISOString();
          void p;
          return r;
        },
      });
    });
  return [gate, validate, sweep, fidelityCommand(ctx), upgradeCommand(ctx)];
}

function withCmdDefault(flags: GateFlags): GateFlags {
  if (flags.strategies) return flags;
  const subjects = [...(flags.openwebui ? ['upstream'] : []), ...(flags.cmd ? ['external'] : [])];
  return subjects.length ? { ...flags, strategies: subjects } : flags;
}

function checksOf(result: RunResult, names: string[], t: Thresholds): Check[] {
  const checks: Check[] = [];
  for (const name of names) {
    const main = result.strategies.find((s) => s.name === name);
    if (!main) continue;
    const resume = result.strategies.find((s) => s.name === `${name}:resume`);
    checks.push(...gateChecks(main, resume, t));
  }
  return checks;
}
