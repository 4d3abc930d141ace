/**
 * `upgrade`, and `gate`/`validate` with `--from`: a checkout's upgrade path
 * run revision by revision (harness/upgrade/run-upgrade.ts). Everything the
 * flags name is resolved here, before anything starts: a `--from` not in the
 * chain, a `--to` before it, a checkout without revisions exit 2 with one line.
 */
import path from 'node:path';
import { Command, Option } from 'commander';
import { CheckFailed, UsageError } from '../errors.ts';
import { ALEMBIC_ENV_SHAPES, type AlembicEnvShape } from '../openwebui/alembic-environment.ts';
import type { Check } from '../result/run-result.ts';
import { defaultCacheDir } from '../run/seed-cache.ts';
import { parseDuration, parseSize } from '../units.ts';
import type { UpgradeThresholds } from '../upgrade/upgrade-checks.ts';
import { readCheckout } from '../upstream/openwebui-checkout.ts';
import type { CliContext } from './cli-context.ts';
import { pythonFor } from './resolve-upstream.ts';
import { addRunFlags, buildPlan, duration, positiveNumber, size, type RunFlags } from './run-options.ts';

export interface UpgradeFlags extends RunFlags {
  from?: string;
  to?: string;
  secondsPerGb?: number;
  walAmplification?: number;
  maxWriteStall?: number;
  maxClientMemory?: number;
  resumeCheck?: boolean;
  /** sweep --from */
  sizes?: number[];
  project?: number;
}

/** `--from`, `--to` and the per-revision limit only the upgrade path has. */
export function addUpgradePathFlags(cmd: Command, required: boolean): Command {
  return cmd
    .option('--from <revision>', `${required ? '' : 'gate the upgrade path instead of one migration: '}the revision the database starts at; the checkout's revisions up to it build the schema, then every table is seeded (needs --openwebui)`)
    .option('--to <revision>', 'the revision the upgrade ends at (default: head)')
    .option('--seconds-per-gb <n>', "upgrade path: limit on a revision's seconds per GB of the tables it touches (default: the scenario's)", positiveNumber('a number of seconds'));
}

/** The `upgrade` command. */
export function upgradeCommand(ctx: CliContext): Command {
  const cmd = addRunFlags(new Command('upgrade').exitOverride(), { defaultScenario: 'upgrade-path', strategies: false, faults: false });
  cmd
    .option('--openwebui <dir>', 'the Open WebUI checkout (repository root or backend/) whose Alembic revisions are run')
    .option('--python <interpreter>', 'the Python to run Alembic with (default: the first of python3 on PATH and the system python3 that imports alembic, sqlalchemy and psycopg2, else a cached virtual environment)')
    .addOption(
      new Option('--alembic-env <shape>', "one transaction around the whole upgrade (single, as Open WebUI's env.py ships) or one per revision (per-migration); default: what the checkout's env.py does").choices([...ALEMBIC_ENV_SHAPES]),
    );
  addUpgradePathFlags(cmd, true);
  cmd
    .option('--wal-amplification <ratio>', "limit on a revision's WAL bytes per byte of the tables it touches (default: the scenario's)", positiveNumber('a ratio'))
    .option('--max-write-stall <duration>', "limit on any write to chat, chat_message, user or file blocked by a revision (default: the scenario's)", duration())
    .option('--max-client-memory <size>', "limit on the migration process's peak RSS (default: the scenario's)", size('--max-client-memory'))
    .option('--no-resume-check', 'skip killing the costliest revision half-way and rerunning')
    .summary("run a checkout's whole upgrade path, revision by revision, on a realistic full database")
    .description(
      "Build Open WebUI's schema at --from by running the checkout's own revisions on an empty database, seed every " +
        'table in Open WebUI’s proportions (chat at --size, the rest proportionally; cached), then run `alembic upgrade ' +
        "--to` once with real Alembic in the checkout's transaction shape, measuring each revision from Alembic's own " +
        '"Running upgrade A -> B" lines: duration, WAL, full-page images, checkpoints, the longest write to chat, ' +
        'chat_message, user or file it blocked, the locks it took, the migration process\'s peak RSS. The costliest ' +
        'revision is then killed half-way on a fresh copy and the upgrade rerun. Each revision is checked against ' +
        "the scenario's limits; the report lists the costliest first. Exit 0 when the run completed (gate --from " +
        'enforces the checks). With --from-database (or --from-dump), a copy of your own database is upgraded from the ' +
        'revision it is stamped at, whatever that is.',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  npm run harness -- upgrade --openwebui ~/open-webui --from 374d2f66af06\n  npm run harness -- upgrade --openwebui ~/open-webui --from 374d2f66af06 --to f1e2d3c4b5a6 --size 1GB\n  npm run harness -- upgrade --openwebui ~/open-webui --from-database openwebui --database-url postgres://me@staging/postgres\n  npm run harness -- gate --openwebui ~/open-webui --from 374d2f66af06 --seconds-per-gb 20',
    )
    .action(async (flags: UpgradeFlags) => {
      await executeUpgrade(ctx, 'upgrade', flags);
    });
  return cmd;
}

function thresholdsOf(scenario: Awaited<ReturnType<typeof buildPlan>>['scenario'], flags: UpgradeFlags): UpgradeThresholds {
  const t = scenario.upgradeThresholds;
  return {
    secondsPerGb: flags.secondsPerGb ?? t.secondsPerGb,
    walAmplification: flags.walAmplification ?? t.walAmplification,
    maxBlockedWriteMs: flags.maxWriteStall ?? (parseDuration(t.maxBlockedWrite) as { ms: number }).ms,
    clientPeakRssBytes: flags.maxClientMemory ?? (parseSize(t.clientPeakMemory) as { bytes: number }).bytes,
    resumable: flags.resumeCheck !== false && t.resumable,
    judgeFromMs: (parseDuration(t.judgeFrom) as { ms: number }).ms,
    judgeWalFromBytes: (parseSize(t.judgeWalFrom) as { bytes: number }).bytes,
  };
}

function failing(checks: Check[]): string {
  return checks
    .filter((c) => !c.passed)
    .map((c) => `  ✗ ${c.strategy}: ${c.name}: ${c.measured} (limit ${c.limit})`)
    .join('\n');
}

/** Run the upgrade path; `gate` and `validate` exit 1 when a check fails or the upgrade does not finish. */
export async function executeUpgrade(ctx: CliContext, kind: 'upgrade' | 'gate' | 'validate' | 'sweep', flags: UpgradeFlags): Promise<void> {
  if (!flags.openwebui) throw new UsageError(`${kind === 'upgrade' ? 'upgrade' : `${kind} --from`} needs --openwebui <dir>: the Open WebUI checkout whose revisions are run`);
  const own = flags.fromDatabase ? '--from-database' : flags.fromDump ? '--from-dump' : null;
  if (own && flags.from) throw new UsageError(`--from and ${own} conflict: a copy of your database starts at the revision it is stamped at; drop --from`);
  if (!flags.from && !own) throw new UsageError('upgrade needs --from <revision> (the revision the seeded database starts at), or --from-database <name> / --from-dump <file> (your own database, at its stamp)');
  for (const f of ['strategies', 'cmd', 'revision'] as const)
    if (flags[f] !== undefined) throw new UsageError(`--${f === 'strategies' ? 'strategies' : f} does not apply to the upgrade path (it runs the checkout's own revisions from --from to --to)`);
  if (kind === 'sweep') {
    if (flags.size !== undefined || flags.chats !== undefined) throw new UsageError('sweep takes --sizes, not --size or --chats');
    if (own) throw new UsageError(`sweep ${own}: a sweep seeds each size itself; run upgrade ${own} to measure your own database`);
    if ((flags.sizes ?? []).length < 2) throw new UsageError('sweep --from: give --sizes with at least two sizes to fit each revision\'s growth (e.g. --sizes 128MB,256MB,512MB)');
  }
  const checkout = await readCheckout(flags.openwebui);
  const { resolveUpgradePath } = await import('../upgrade/upgrade-path.ts');
  // A bad --from or --to exits 2 here, before a server starts (with --from-database, --to is checked against the copy's stamp later).
  if (flags.from) resolveUpgradePath(checkout, flags.from, flags.to ?? 'head');
  else if (flags.to && flags.to !== 'head') (await import('../upstream/openwebui-checkout.ts')).findRevision(checkout, flags.to, '--to');
  const plan = await buildPlan(kind, { ...flags, openwebui: undefined, python: undefined, strategies: undefined }, [kind, ...ctx.argv.slice(1)], ctx.env, 'upgrade-path');
  const cacheDir = flags.cache === false ? null : (flags.cacheDir ?? defaultCacheDir(ctx.env));
  const python = await pythonFor(checkout, flags.python, ctx.env, cacheDir, (line) => ctx.stderr(line));
  const pinnedMajor = checkout.pins.sqlalchemy?.split('.')[0];
  if (pinnedMajor && python.sqlalchemy.split('.')[0] !== pinnedMajor)
    ctx.stderr(`warning: the checkout pins SQLAlchemy ${checkout.pins.sqlalchemy}; ${python.executable} has ${python.sqlalchemy}: revisions written for ${pinnedMajor}.x may fail (give --python an interpreter with the pinned versions)`);
  const shape: AlembicEnvShape = flags.alembicEnv ?? checkout.envShape.shape;
  const upgradePlan = {
    ...plan,
    strategies: [],
    upgrade: {
      checkout,
      fromId: flags.from ?? null,
      toId: flags.to ?? 'head',
      python,
      shape,
      shapeWhy: flags.alembicEnv ? '--alembic-env sets it' : checkout.envShape.evidence,
      thresholds: thresholdsOf(plan.scenario, flags),
      resumeCheck: flags.resumeCheck !== false && plan.scenario.upgradeThresholds.resumable,
    },
  };
  const { appendStepSummary, executeRun, defaultOutDir } = await import('./execute-run.ts');
  const { runUpgrade } = await import('../upgrade/run-upgrade.ts');
  const outDir = flags.out ?? defaultOutDir(ctx, plan.runId);
  const { result } = await executeRun(ctx, {
    plan,
    outDir,
    quiet: !!flags.quiet,
    verbose: !!flags.verbose,
    runner: async (_p, io, r) => {
      if (kind !== 'sweep') return runUpgrade(upgradePlan, io, r);
      const { runUpgradeSweep } = await import('../upgrade/sweep-upgrade.ts');
      return runUpgradeSweep(upgradePlan, flags.sizes!, flags.project ?? null, io, r);
    },
  });
  if (kind === 'gate' || kind === 'validate') await appendStepSummary(ctx, path.join(outDir, 'report.md'));
  const u = result.upgrade;
  const checks = u?.revisions.flatMap((r) => r.checks) ?? [];
  const held = checks.filter((c) => c.passed).length;
  ctx.stdout(`${kind}: ${u ? `the upgrade ${u.outcome} from ${u.from} to ${u.to}; ` : ''}${held}/${checks.length} checks hold over ${u?.revisions.length ?? 0} revision${u?.revisions.length === 1 ? '' : 's'}`);
  if (kind === 'upgrade' || kind === 'sweep') return;
  if (result.status !== 'complete' || !u || u.outcome !== 'succeeded' || checks.some((c) => !c.passed))
    throw new CheckFailed(`${kind} failed:\n${u && u.outcome !== 'succeeded' ? `  ✗ the upgrade did not finish: ${u.error}\n` : ''}${failing(checks)}`);
}
