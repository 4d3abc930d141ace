/**
 * `harness fidelity --openwebui <dir>`: is the port faithful to upstream's
 * own code? One seeded template; upstream's revision file (real Alembic) and
 * the port that stands for it, each on its own clone, in the same Alembic
 * environment; then rows compared byte for byte, WAL and full-page images,
 * locks on `chat`, outcome and stamp. Exit 0 when faithful, 1 when not.
 */
import path from 'node:path';
import { Command, Option } from 'commander';
import { CheckFailed, UsageError } from '../errors.ts';
import { fidelityChecks, WAL_TOLERANCE, type FidelityFigures } from '../fidelity/fidelity-checks.ts';
import type { RowComparison } from '../fidelity/row-differences.ts';
import { STRATEGIES } from '../strategies/strategy-registry.ts';
import type { CliContext } from './cli-context.ts';
import { addRunFlags, addUpstreamFlags, buildPlan, type RunFlags } from './run-options.ts';

const PORTS = STRATEGIES.filter((s) => !s.runsCommand).map((s) => s.name);

export function fidelityCommand(ctx: CliContext): Command {
  const cmd = addUpstreamFlags(addRunFlags(new Command('fidelity').exitOverride(), { defaultScenario: 'ci-gate', strategies: false, faults: false }))
    .addOption(new Option('--port <name>', "the port to compare with upstream's file (default: the one the file stands for: chunked for the fix, original for v0.8.12, v0.8.0, v0.9.6)").choices(PORTS))
    .summary("is the port faithful? a port next to upstream's own code, on one template, in the same Alembic environment")
    .description(
      "Run an Open WebUI checkout's own revision file (real Alembic, the environment its env.py gives or --alembic-env) " +
        'and the port that stands for it, each on its own clone of one seeded template, and compare them: rows ' +
        `byte-identical (per-row digests; the first differences listed with chat id, column and both values), WAL bytes ` +
        `and full-page images within ±${WAL_TOLERANCE * 100} %, the same locks on chat held about as long, the same outcome and stamp. ` +
        'Duration and client memory are reported as port/upstream ratios: a TypeScript port is not Python. ' +
        'Autovacuum is off on a server the harness owns (--pg-setting autovacuum=on to keep it), so its WAL lands on neither side. ' +
        'Exit 0 when the port is faithful, 1 when not.',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  npm run harness -- fidelity --openwebui ~/open-webui                       # the port of whatever that checkout runs\n  npm run harness -- fidelity --openwebui ~/owui-pr-23382 --size 256MB\n  npm run harness -- fidelity --openwebui ~/open-webui --port original --alembic-env single',
    )
    .action(async (flags: RunFlags & { port?: string }) => {
      if (!flags.openwebui) throw new UsageError('fidelity needs --openwebui <dir>: the Open WebUI checkout whose revision file the port is compared with');
      const { executeRun, defaultOutDir } = await import('./execute-run.ts');
      const plan = await buildPlan('fidelity', { ...flags, faults: false, strategies: ['upstream'] }, ['fidelity', ...ctx.argv.slice(1)], ctx.env, 'ci-gate');
      const u = plan.upstream!;
      const port = flags.port ?? u.result.port;
      if (!port) throw new UsageError(`--openwebui ${flags.openwebui}: ${path.basename(u.result.revisionFile)} looks like none of the ports (${u.result.portWhy}); give --port ${PORTS.join('|')}`);
      plan.strategies = ['upstream', port];
      // Both in upstream's environment, or the comparison would measure the environments.
      plan.environment = {
        ...plan.environment,
        shape: u.setup.shape,
        target: u.setup.target,
        shapeWhy: flags.alembicEnv ? `--alembic-env ${flags.alembicEnv}` : `upstream's, so both run alike: ${plan.environment?.checkout?.evidence ?? 'the checkout’s env.py'}`,
      };
      // Autovacuum visiting one side's new table and not the other's would be counted as that side's WAL.
      if (!(flags.pgSetting ?? []).some((p) => p.startsWith('autovacuum='))) plan.settings.autovacuum = 'off';
      let rows: RowComparison | undefined;
      const outDir = flags.out ?? defaultOutDir(ctx, plan.runId);
      const { result } = await executeRun(ctx, {
        plan,
        outDir,
        quiet: !!flags.quiet,
        verbose: !!flags.verbose,
        onStrategiesDone: async (server, databases) => {
          const { compareRows } = await import('../fidelity/row-differences.ts');
          const { withClient } = await import('../postgres/with-client.ts');
          rows = await withClient(server, databases.get(port)!, 'verify', (p) => withClient(server, databases.get('upstream')!, 'verify', (up) => compareRows(p, up)));
        },
        finalize: (result) => {
          const a = result.strategies.find((s) => s.name === port);
          const b = result.strategies.find((s) => s.name === 'upstream');
          if (!a || !b || !rows) return;
          const { checks, figures } = fidelityChecks(a, b, rows, flags.port ? `--port ${port}` : u.result.portWhy);
          result.checks = checks;
          result.extra = { ...(result.extra ?? {}), fidelity: figures satisfies FidelityFigures };
        },
      });
      const checks = result.checks ?? [];
      ctx.stdout(`fidelity: ${checks.filter((c) => c.passed).length}/${checks.length} checks hold for ${port} against upstream's ${path.basename(u.result.revisionFile)}`);
      if (result.status !== 'complete' || !checks.length || checks.some((c) => !c.passed))
        throw new CheckFailed(`the port is not faithful:\n${checks.filter((c) => !c.passed).map((c) => `  ✗ ${c.name}: ${c.measured} (limit ${c.limit})`).join('\n')}`);
    });
  return cmd;
}
