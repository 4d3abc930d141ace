/**
 * `validate --dry-run`: everything the run would do, decided without
 * touching any database (the provider is detected, the dataset planned, the
 * cache looked up).
 */
import { datasetKey, planDataset } from '../../seed/dataset-plan.ts';
import { describeFaults } from '../faults/fault-spec.ts';
import type { Thresholds } from '../gate/gate-checks.ts';
import { chooseProvider } from '../postgres/choose-provider.ts';
import { parseDatabaseUrl } from '../postgres/url-server.ts';
import { templateName } from '../run/prepare-data.ts';
import { readCacheEntry } from '../run/seed-cache.ts';
import { resolveStrategy, type RunPlan } from '../run.ts';
import { formatBytes, formatDuration } from '../units.ts';

export async function describeDryRun(plan: RunPlan, t: Thresholds, outDir: string): Promise<string[]> {
  const lines: string[] = ['dry run: nothing below has been done; no database was touched', ''];
  const chosen = await chooseProvider(plan.provider, plan.databaseUrl);
  lines.push(`PostgreSQL: ${chosen.provider} (${chosen.why})`);
  if (chosen.provider === 'url') {
    const u = parseDatabaseUrl(plan.databaseUrl!);
    lines.push(`  server ${u.host}:${u.port} as ${u.user}; the harness would create databases of its own there (template ${templateName(datasetKey(plan.dataset))}, one copy per strategy) and drop only those`);
  }
  lines.push(`  settings: ${Object.entries(plan.settings).map(([k, v]) => `${k}=${v}`).join(', ')}`);
  if (plan.source?.dump) {
    lines.push(`data: the dump ${plan.source.dump} would be restored into a database of the harness's own, then read once to derive the expected rows`);
  } else if (plan.source?.database) {
    lines.push(
      `data: database ${plan.source.database} would be copied (${plan.source.copyMode === 'dump' ? 'pg_dump/pg_restore' : 'CREATE DATABASE ... TEMPLATE, which needs no other session on it'}) ` +
        'into a database of the harness\'s own and read once to derive the expected rows; the source is only read',
    );
  } else {
    const dp = planDataset(plan.dataset);
    const key = datasetKey(plan.dataset);
    const cached = chosen.provider === 'embedded' && plan.cacheDir && !plan.fresh ? await readCacheEntry(plan.cacheDir, key) : null;
    lines.push(
      `dataset ${key}: ${dp.chats} chats, about ${formatBytes(dp.estimatedBytes)} on disk, seed ${plan.dataset.seed}, edge-case rate ${plan.dataset.edgeCaseRate}` +
        (cached ? ` (cached: seeding skipped)` : ' (would be seeded)'),
    );
  }
  lines.push('strategies, each on its own copy of the seeded database:');
  for (const name of plan.strategies) {
    const s = resolveStrategy(plan, name).strategy;
    const u = plan.upstream?.result;
    const detail =
      name === 'external'
        ? `\n    command: ${plan.strategyOptions.command} (with DATABASE_URL, PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE set)`
        : name === 'upstream' && u
          ? `\n    ${u.revisionFile} (${u.port ? `stands for the port ${u.port}` : 'no port stands for it'}), alembic upgrade ${plan.upstream!.setup.target === 'head' ? 'head' : u.revision} in a ${plan.upstream!.setup.shape} environment, with ${u.python.executable} (Python ${u.python.version}, alembic ${u.python.alembic}, SQLAlchemy ${u.python.sqlalchemy}, psycopg2 ${u.python.psycopg2})`
          : '';
    lines.push(`  ${name}: ${s.summary}${detail}`);
  }
  lines.push(`faults: ${describeFaults(plan.faults, plan.faults.deadline?.kind === 'fixed' ? plan.faults.deadline.ms : null)}`);
  if (plan.faults.deadline?.kind === 'relative') lines.push(`  (the deadline would be calibrated first with one uninterrupted ${plan.calibrationStrategy} run)`);
  lines.push(
    `checks for the command: finishes; rows verify; WAL amplification <= ${t.walAmplification}; every write to chat <= ${formatDuration(t.maxWriteStallMs)}; ` +
      `${t.resumable ? 'killed at half the rows, a rerun finishes with nothing lost; ' : ''}client peak memory <= ${formatBytes(t.clientPeakRssBytes)}`,
  );
  lines.push(`reports: ${outDir}/report.md, result.json, chart.svg, junit.xml`);
  lines.push(`to run it: ${plan.command.replace(/\s--dry-run\b/, '')}`);
  return lines;
}
