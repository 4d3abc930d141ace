/**
 * The flags every run-like command shares, their strict parsers, and how a
 * scenario plus flags become a RunPlan.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { planDataset, type DatasetSpec } from '../../seed/dataset-plan.ts';
import { errorMessage, UsageError } from '../errors.ts';
import { NO_FAULTS, parseFaults } from '../faults/fault-spec.ts';
import { ALEMBIC_ENV_SHAPES, ALEMBIC_TARGETS, type AlembicEnvShape, type AlembicTarget, type CommitVia } from '../openwebui/alembic-environment.ts';
import { REVISION_AFTER } from '../openwebui/schema.ts';
import type { RunPlan } from '../run.ts';
import { defaultCacheDir } from '../run/seed-cache.ts';
import { builtinScenarioNamesSync, loadScenario } from '../scenario/load-scenario.ts';
import { entryLabel, type Scenario } from '../scenario/scenario-schema.ts';
import { STRATEGIES, strategyByName } from '../strategies/strategy-registry.ts';
import { strategyNameProblem } from '../strategies/strategy-sequence.ts';
import { DURATION_HELP, parseDuration, parseSize, pgSize, SIZE_HELP } from '../units.ts';
import { resolveUpstream } from './resolve-upstream.ts';

export interface RunFlags {
  scenario?: string;
  provider: 'auto' | 'testcontainers' | 'embedded' | 'url';
  databaseUrl?: string;
  strategies?: string[];
  size?: number;
  chats?: number;
  seed?: number;
  edgeCaseRate?: number;
  poisonChats?: number;
  poisonAt?: number;
  fault?: string[];
  faults: boolean;
  maxWalSize?: number;
  sharedBuffers?: number;
  checkpointTimeout?: number;
  walLevel?: string;
  pgSetting?: string[];
  out?: string;
  keep?: boolean;
  fresh?: boolean;
  cache: boolean;
  cacheDir?: string;
  seedStreams?: number;
  workers?: number;
  cmd?: string;
  sampleInterval?: number;
  probe: boolean;
  probeInterval?: number;
  probeLockTimeout?: number;
  force?: boolean;
  fromDatabase?: string;
  fromDump?: string;
  copyMode?: 'template' | 'dump';
  quiet?: boolean;
  verbose?: boolean;
  openwebui?: string;
  revision?: string;
  alembicEnv?: AlembicEnvShape;
  alembicTarget?: AlembicTarget;
  commitVia?: CommitVia;
  python?: string;
}

export const size = (flag: string) => (v: string) => {
  const r = parseSize(v);
  if (!r.ok) throw new InvalidArgumentError(`${r.reason}.`);
  void flag;
  return r.bytes;
};

export const duration = () => (v: string) => {
  const r = parseDuration(v);
  if (!r.ok) throw new InvalidArgumentError(`${r.reason}.`);
  return r.ms;
};

/** Beyond these the plan alone would not fit in memory; the report's case is 68 GB and 161k chats. */
const MAX_DATASET_BYTES = 16 * 1024 ** 4;
const MAX_CHATS = 20_000_000;

const datasetSize = (v: string) => {
  const bytes = size('--size')(v);
  if (bytes > MAX_DATASET_BYTES) throw new InvalidArgumentError(`'${v}' is more than the harness seeds; use at most 16TB.`);
  return bytes;
};

const chatCount = (v: string) => {
  const n = positiveInt('a chat count')(v);
  if (n > MAX_CHATS) throw new InvalidArgumentError(`'${v}' is more chats than the harness seeds; use at most ${MAX_CHATS.toLocaleString('en-US')}.`);
  return n;
};

/** A positive decimal (`1.2`, `30`): limits and ratios. */
export const positiveNumber = (what: string, example?: string) => (v: string) => {
  const x = Number(v);
  if (!(x > 0) || !/^\s*\d*\.?\d+\s*$/.test(v)) throw new InvalidArgumentError(`'${v}' is not ${what}; use a positive number${example ? ` (e.g. ${example})` : ''}.`);
  return x;
};

export const positiveInt = (what: string) => (v: string) => {
  if (!/^\d+$/.test(v.trim()) || Number(v) < 1) throw new InvalidArgumentError(`'${v}' is not ${what}; use a whole number of at least 1.`);
  return Number(v);
};

const nonNegativeInt = (what: string) => (v: string) => {
  if (!/^\d+$/.test(v.trim())) throw new InvalidArgumentError(`'${v}' is not ${what}; use a whole number of 0 or more.`);
  return Number(v);
};

const rate = (v: string) => {
  const x = Number(v);
  if (!/^\s*\d*\.?\d+\s*$/.test(v) || !(x >= 0 && x <= 1)) throw new InvalidArgumentError(`'${v}' is not a fraction; use a number from 0 to 1 (e.g. 0.01).`);
  return x;
};

const collect = (v: string, prev: string[] | undefined) => [...(prev ?? []), v];

const STRATEGY_NAMES = STRATEGIES.map((s) => s.name);
const isStrategy = (n: string) => !!strategyByName(n);

const strategyList = (v: string, prev: string[] | undefined) => {
  const names = v.split(',').map((s) => s.trim()).filter(Boolean);
  if (!names.length) throw new InvalidArgumentError(`no strategy named; allowed: ${STRATEGY_NAMES.join(', ')}.`);
  for (const n of names) {
    const problem = strategyNameProblem(n, isStrategy, STRATEGY_NAMES);
    if (problem) throw new InvalidArgumentError(`${problem}.`);
  }
  return [...(prev ?? []), ...names];
};

const pgSettingPair = (v: string, prev: string[] | undefined) => {
  if (!/^[a-z_][a-z0-9_.]*=.+$/.test(v)) throw new InvalidArgumentError(`'${v}' is not name=value (e.g. --pg-setting wal_compression=on).`);
  return [...(prev ?? []), v];
};

/** Add the flags shared by repro, run, seed, gate, validate and sweep. */
export function addRunFlags(cmd: Command, opts: { strategies?: boolean; faults?: boolean; defaultScenario: string }): Command {
  cmd
    .option('--scenario <name|file.json>', `a built-in scenario (${builtinScenarioNamesSync().join(', ')}) or a JSON file of the same shape (default: ${opts.defaultScenario})`)
    .addOption(
      new Option('--provider <provider>', 'where PostgreSQL 15 comes from: auto uses Testcontainers when a container runtime answers, otherwise the embedded server')
        .choices(['auto', 'testcontainers', 'embedded', 'url'])
        .default('auto'),
    )
    .option('--database-url <url>', 'an existing server (implies --provider url); the harness works only in databases it creates there and never prints the password')
    .option('--size <size>', `target on-disk size of the chat table: ${SIZE_HELP}`, datasetSize)
    .option('--chats <n>', 'an exact number of chats instead of --size', chatCount)
    .option('--seed <n>', 'dataset seed: the same seed gives the same bytes on any machine', nonNegativeInt('a seed'))
    .option('--edge-case-rate <fraction>', 'share of chats carrying irregular data (timestamps in ms, non-object messages, NUL, ...)', rate)
    .option('--poison-chats <n>', 'plant n chats whose document is not an object, at which upstream fails the whole migration (default: the scenario\'s, usually 0)', nonNegativeInt('a chat count'))
    .option('--poison-at <fraction>', 'where the first poison chat sits: a fraction of the migrated chats in id order (default 0.6); the others follow it', rate)
    .option('--max-wal-size <size>', `PostgreSQL max_wal_size (the scenario's default is 64MB): ${SIZE_HELP}`, size('--max-wal-size'))
    .option('--shared-buffers <size>', `PostgreSQL shared_buffers: ${SIZE_HELP}`, size('--shared-buffers'))
    .option('--checkpoint-timeout <duration>', `PostgreSQL checkpoint_timeout: ${DURATION_HELP}`, duration())
    .addOption(new Option('--wal-level <level>', 'PostgreSQL wal_level').choices(['replica', 'logical']))
    .option('--pg-setting <name=value>', 'any other server setting (repeatable), passed as -c name=value', pgSettingPair)
    .option('--out <dir>', 'where the reports go (default: results/<run-id>)')
    .option('--keep', "keep each strategy's migrated database (and an owned server, until Ctrl-C) and print how to connect")
    .option('--fresh', 'seed anew even when a cached or existing seed matches')
    .option('--no-cache', 'do not read or write the embedded seed cache')
    .option('--cache-dir <dir>', 'where complete embedded seeds are kept (default: ~/.cache/owui-migration-harness/seeds)')
    .option('--seed-streams <n>', 'parallel COPY streams while seeding (default: the number of cores)', positiveInt('a stream count'))
    .option('--sample-interval <duration>', 'how often the server is sampled (default 250ms)', duration())
    .option('--no-probe', 'do not run the write probe (concurrent writes to chat)')
    .option('--probe-interval <duration>', 'time between probe writes (default 100ms)', duration())
    .option('--probe-lock-timeout <duration>', 'lock_timeout of each probe write (default 300s)', duration())
    .option('--from-database <name>', "instead of seeding, copy this existing Open WebUI database (at 374d2f66af06) on the --database-url server; it is only read")
    .option('--from-dump <file>', "instead of seeding, restore this dump (pg_dump custom format or plain SQL) into the harness's own server")
    .addOption(new Option('--copy-mode <mode>', 'how --from-database is copied: a file copy (needs no other sessions on it) or pg_dump/pg_restore').choices(['template', 'dump']).default('template'))
    .option('--force', 'work on a server whose database already holds a chat table the harness did not create (in databases of its own; never touching that table)')
    .option('-q, --quiet', 'only results on stdout, errors on stderr')
    .option('-v, --verbose', 'every step on stderr');
  if (opts.strategies !== false) {
    cmd
      .option('--strategies <list>', `comma-separated strategies to run: ${STRATEGIES.map((s) => s.name).join(', ')}`, strategyList)
      .option('--workers <n>', 'parallel: worker count (default: the number of cores)', positiveInt('a worker count'))
      .option('--cmd <command>', 'external: the shell command to run against the seeded database (DATABASE_URL and PG* variables are set)');
    addUpstreamFlags(cmd);
  }
  if (opts.faults !== false) {
    cmd
      .option(
        '--fault <spec>',
        'a fault (repeatable, or comma-separated): deadline=<duration>|<k>x, restarts=<n>, kill-at=<fraction>, crash-at=<fraction>, wal-retention, wal-limit=<size>, wal-tmpfs, restart-delay=<duration>',
        collect,
      )
      .option('--no-faults', "ignore the scenario's faults");
  }
  return cmd;
}

/** The flags that run upstream's own code and choose the Alembic environment. */
export function addUpstreamFlags(cmd: Command): Command {
  return cmd
    .option('--openwebui <dir>', "an Open WebUI checkout (the repository root or backend/): its own revision file runs as the strategy 'upstream', with real Alembic (only alembic, SQLAlchemy and psycopg2 are needed)")
    .option('--revision <id>', `upstream: the revision under test (default ${REVISION_AFTER})`)
    .addOption(
      new Option('--alembic-env <shape>', "the Alembic environment: one transaction around the run (single, as Open WebUI's env.py ships) or a transaction per revision (per-migration, as the fix's pull request sets); default: upstream the checkout's own, each port the one it shipped with").choices([
        ...ALEMBIC_ENV_SHAPES,
      ]),
    )
    .addOption(
      new Option('--alembic-target <target>', "head: a revision follows the one under test in the same run (Open WebUI upgrading at start-up); revision: it is the last one run (alembic upgrade 8452d01d26d7); default: the scenario's, else head").choices([
        ...ALEMBIC_TARGETS,
      ]),
    )
    .addOption(
      new Option('--commit-via <how>', "our proposals (setbased, parallel, resuming): commit with conn.commit() as the fix does, or through Alembic's autocommit_block(), which keeps the stamp in every environment").choices([
        'connection',
        'autocommit-block',
      ]),
    )
    .option('--python <interpreter>', 'upstream: the Python to run Alembic with (default: the first of python3 on PATH and the system python3 that imports alembic, sqlalchemy and psycopg2, else a cached virtual environment)');
}

function newRunId(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}-${randomBytes(2).toString('hex')}`;
}

/** Replace passwords in URLs and PGPASSWORD assignments. */
function redactSecrets(text: string): string {
  return text
    .replace(/(postgres(?:ql)?:\/\/[^:@/\s]+:)[^@\s]+@/gi, '$1***@')
    .replace(/(PGPASSWORD=)\S+/g, '$1***')
    .replace(/(password=)[^\s&]+/gi, '$1***');
}

export async function buildPlan(kind: RunPlan['kind'], flags: RunFlags, argv: string[], env: NodeJS.ProcessEnv, defaultScenario: string): Promise<RunPlan> {
  // Someone's own data, without a scenario named: measure the migrations as they are, with no simulated
  // deadline calibrated to a dataset of unknown size (the headline scenario's faults are for its seed).
  const byod = !!(flags.fromDatabase || flags.fromDump);
  const scenario: Scenario = await loadScenario(flags.scenario ?? (byod && kind === 'run' ? 'small' : defaultScenario));
  if (flags.size !== undefined && flags.chats !== undefined) throw new UsageError('--size and --chats conflict: give one of them');
  if ((flags.fromDatabase || flags.fromDump) && (flags.size !== undefined || flags.chats !== undefined || flags.seed !== undefined))
    throw new UsageError('--from-database/--from-dump bring their own data: --size, --chats and --seed do not apply');
  if ((flags.fromDatabase || flags.fromDump) && (flags.poisonChats !== undefined || flags.poisonAt !== undefined))
    throw new UsageError('--from-database/--from-dump bring their own data: --poison-chats and --poison-at plant chats in seeded data only');
  const dataset: DatasetSpec = {
    seed: flags.seed ?? scenario.dataset.seed,
    edgeCaseRate: flags.edgeCaseRate ?? scenario.dataset.edgeCaseRate,
    sharedRate: scenario.dataset.sharedRate,
  };
  if (flags.chats !== undefined) dataset.chats = flags.chats;
  else if (flags.size !== undefined) dataset.targetBytes = flags.size;
  else if (scenario.dataset.chats !== undefined) dataset.chats = scenario.dataset.chats;
  else dataset.targetBytes = (parseSize(scenario.dataset.size!) as { bytes: number }).bytes;
  if (!byod) planPoisonChats(dataset, flags, scenario);

  const settings = { ...scenario.server.settings };
  if (flags.maxWalSize !== undefined) {
    if (flags.maxWalSize < 2 * 1024 * 1024 || flags.maxWalSize % 1024) throw new UsageError('--max-wal-size: at least 2MB (two WAL segments), in whole kB');
    settings.max_wal_size = pgSize(flags.maxWalSize);
    const min = parseSize(settings.min_wal_size ?? '80MB');
    if (min.ok && min.bytes > flags.maxWalSize) settings.min_wal_size = pgSize(Math.max(2 * 1024 * 1024, Math.floor(flags.maxWalSize / 2 / 1048576) * 1048576));
  }
  if (flags.sharedBuffers !== undefined) settings.shared_buffers = pgSize(flags.sharedBuffers);
  if (flags.checkpointTimeout !== undefined) {
    if (flags.checkpointTimeout < 30_000 || flags.checkpointTimeout > 86_400_000) throw new UsageError('--checkpoint-timeout: PostgreSQL allows 30s to 1d');
    settings.checkpoint_timeout = `${Math.round(flags.checkpointTimeout / 1000)}s`;
  }
  if (flags.walLevel) settings.wal_level = flags.walLevel;
  for (const pair of flags.pgSetting ?? []) {
    const i = pair.indexOf('=');
    settings[pair.slice(0, i)] = pair.slice(i + 1);
  }
  if (settings.wal_level !== undefined && !['replica', 'logical'].includes(settings.wal_level.trim().toLowerCase())) {
    const where = (flags.pgSetting ?? []).some((p) => p.startsWith('wal_level=')) ? '--pg-setting wal_level' : `scenario ${scenario.name}: server.settings.wal_level`;
    throw new UsageError(`${where}: '${settings.wal_level}' is not allowed; the harness measures with replica or logical (what a server with standbys or backups runs), e.g. --wal-level replica`);
  }

  // The scenario's strategies by label, each with the environment the scenario gives it; named on the command line, by name.
  const strategyEntries: NonNullable<RunPlan['strategyEntries']> = {};
  const entries = flags.strategies ?? scenario.strategies;
  for (const e of entries) {
    const label = entryLabel(e);
    const name = typeof e === 'string' ? e : e.strategy;
    const problem = strategyNameProblem(name, isStrategy, STRATEGY_NAMES);
    if (problem) throw new UsageError(`scenario ${scenario.name}: ${problem}`);
    const environment = { ...scenario.alembic, ...(typeof e === 'string' ? {} : e.alembic) };
    const shapeWhy = environment.shape ? `the scenario ${scenario.name} sets it` : undefined;
    if (label !== name || environment.shape || environment.target) strategyEntries[label] = { strategy: name, environment: { ...environment, ...(shapeWhy ? { shapeWhy } : {}) } };
  }
  const strategies = entries.map(entryLabel);
  if (strategies.includes('external') && !flags.cmd) throw new UsageError('--strategies external needs --cmd "<command>" (run against the seeded database with DATABASE_URL set)');
  if (flags.cmd && !strategies.includes('external')) strategies.push('external');
  if (strategies.includes('upstream') && !flags.openwebui) throw new UsageError('--strategies upstream needs --openwebui <dir>: the Open WebUI checkout whose revision file it runs');
  for (const f of ['revision', 'python'] as const)
    if (flags[f] !== undefined && !flags.openwebui) throw new UsageError(`--${f} applies to upstream's code: give --openwebui <dir> too`);
  if (!strategyByName(scenario.calibration.strategy)) throw new UsageError(`scenario ${scenario.name}: calibration.strategy '${scenario.calibration.strategy}' is not a strategy`);

  const upstream = flags.openwebui ? await resolveUpstream(flags, env, flags.cache === false ? null : (flags.cacheDir ?? defaultCacheDir(env))) : undefined;
  if (upstream && !strategies.includes('upstream')) {
    // repro runs upstream's code in place of the port of the path the checkout takes.
    const port = kind === 'repro' ? upstream.result.port : null;
    const at = port ? strategies.indexOf(port) : -1;
    if (at >= 0) strategies[at] = 'upstream';
    else strategies.push('upstream');
  }

  const faults = parseFaults(flags.faults === false ? (flags.fault ?? []) : [...scenario.faults, ...(flags.fault ?? [])], NO_FAULTS);
  const provider = flags.databaseUrl && flags.provider === 'auto' ? 'url' : flags.provider;
  // Checked here, before an output directory or a server exists: bad input touches nothing.
  if (flags.databaseUrl !== undefined) (await import('../postgres/url-server.ts')).parseDatabaseUrl(flags.databaseUrl);
  await (await import('../postgres/choose-provider.ts')).checkProviderChoice(provider, flags.databaseUrl);
  if ((faults.crashAt !== undefined) && provider === 'url')
    throw new UsageError('--fault crash-at cannot be used with --provider url: the harness does not own that server and will not kill it; use --provider embedded or testcontainers');
  if (faults.walTmpfs && provider !== 'testcontainers' && provider !== 'auto')
    throw new UsageError('--fault wal-tmpfs needs --provider testcontainers (a real size-capped tmpfs for pg_wal)');
  const measure = {
    sampleIntervalMs: flags.sampleInterval ?? (parseDuration(scenario.measure.sampleInterval) as { ms: number }).ms,
    probe: flags.probe !== false && scenario.measure.probe,
    probeIntervalMs: flags.probeInterval ?? (parseDuration(scenario.measure.probeInterval) as { ms: number }).ms,
    probeLockTimeoutMs: flags.probeLockTimeout ?? (parseDuration(scenario.measure.probeLockTimeout) as { ms: number }).ms,
  };
  return {
    kind,
    runId: newRunId(),
    command: redactSecrets(['npm run harness --', ...argv].join(' ')),
    scenario,
    provider,
    databaseUrl: flags.databaseUrl,
    settings,
    dataset,
    seedStreams: flags.seedStreams ?? Math.max(2, os.cpus().length),
    strategies,
    strategyOptions: { workers: flags.workers, command: flags.cmd },
    ...(Object.keys(strategyEntries).length ? { strategyEntries } : {}),
    environment: { shape: flags.alembicEnv, target: flags.alembicTarget, commitVia: flags.commitVia, checkout: upstream?.envShape },
    ...(upstream ? { upstream: { setup: upstream.setup, result: upstream.result } } : {}),
    faults,
    // The deadline is calibrated on upstream's own code when it runs in place of a port.
    calibrationStrategy: kind === 'repro' && upstream ? 'upstream' : scenario.calibration.strategy,
    calibrationSample: scenario.calibration.sample,
    measure,
    cacheDir: flags.cache === false ? null : (flags.cacheDir ?? defaultCacheDir(env)),
    fresh: !!flags.fresh,
    keep: !!flags.keep,
    force: !!flags.force,
    source: flags.fromDatabase || flags.fromDump ? { database: flags.fromDatabase, dump: flags.fromDump, copyMode: flags.copyMode ?? 'template' } : undefined,
  };
}

/**
 * Poison chats from the flags or the scenario, checked against the dataset
 * here (bad input exits 2 before anything starts): that they fit after
 * `--poison-at`.
 */
function planPoisonChats(dataset: DatasetSpec, flags: RunFlags, scenario: Scenario): void {
  const count = flags.poisonChats ?? scenario.dataset.poisonChats ?? 0;
  const at = flags.poisonAt ?? scenario.dataset.poisonAt;
  if (!count) {
    if (flags.poisonAt !== undefined) throw new UsageError(`--poison-at places poison chats: give --poison-chats <n> too (scenario ${scenario.name} plants none)`);
    return;
  }
  dataset.poisonChats = count;
  if (at !== undefined) dataset.poisonAt = at;
  try {
    planDataset(dataset);
  } catch (err) {
    // The plan names the dataset's fields; the flags are what the user gave.
    throw new UsageError(errorMessage(err).replace(/\bpoisonChats\b/g, '--poison-chats').replace(/\bpoisonAt\b/g, '--poison-at'));
  }
}
