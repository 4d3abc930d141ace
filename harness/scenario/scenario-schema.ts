/**
 * A scenario: the dataset, the server, the strategies, the faults and the
 * thresholds of a run, one file each under `scenarios/`. Validated with zod
 * so a wrong field is reported by its path.
 */
import { z } from 'zod';
import { ALEMBIC_ENV_SHAPES, ALEMBIC_TARGETS, type AlembicEnvShape, type AlembicTarget } from '../openwebui/alembic-environment.ts';
import { parseDuration, parseSize } from '../units.ts';

const sizeString = z.string().refine((s) => parseSize(s).ok, { message: 'not a size (use e.g. 64MB, 1GB)' });
const durationString = z.string().refine((s) => parseDuration(s).ok, { message: 'not a duration (use e.g. 250ms, 15s, 2min)' });

/** The Alembic environment a port models (see harness/openwebui/alembic-environment.ts); `--alembic-env`/`--alembic-target` override it. */
const alembicEnvironment = z
  .object({
    shape: z.enum(ALEMBIC_ENV_SHAPES as [AlembicEnvShape, ...AlembicEnvShape[]]).optional(),
    target: z.enum(ALEMBIC_TARGETS as [AlembicTarget, ...AlembicTarget[]]).optional(),
  })
  .strict();

/**
 * A strategy to run: its name (a sequence such as `chunked>v0.9.6` too), or
 * the name with a label of its own for the results (`as`, so one strategy
 * can run twice, e.g. in two Alembic environments) and an environment.
 */
const strategyEntry = z.union([
  z.string().min(1),
  z
    .object({
      strategy: z.string().min(1),
      as: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._>:()+ -]*$/, 'letters, digits and . _ > : ( ) + - or spaces').optional(),
      alembic: alembicEnvironment.optional(),
    })
    .strict(),
]);
export type StrategyEntry = z.output<typeof strategyEntry>;

/** The label an entry's results carry. */
export function entryLabel(e: StrategyEntry): string {
  return typeof e === 'string' ? e : (e.as ?? e.strategy);
}

/** Defaults of the upgrade path's limits: see scenarios/upgrade-path.ts for why these values. */
const UPGRADE_DEFAULTS = {
  secondsPerGb: 30,
  walAmplification: 2,
  maxBlockedWrite: '5s',
  clientPeakMemory: '1GB',
  resumable: true,
  judgeFrom: '1s',
  judgeWalFrom: '16MB',
};

export const ScenarioSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes'),
    description: z.string(),
    dataset: z
      .object({
        /** Target on-disk size of `chat`. */
        size: sizeString.optional(),
        /** Or an exact chat count. */
        chats: z.number().int().positive().optional(),
        seed: z.number().int().min(0).default(1),
        edgeCaseRate: z.number().min(0).max(1).default(0.01),
        sharedRate: z.number().min(0).max(1).default(0.03),
        /** Documents upstream cannot read (see seed/poison-plan.ts); `--poison-chats` overrides. */
        poisonChats: z.number().int().min(0).optional(),
        /** Where the first one sits, a fraction of the migrated chats in id order; `--poison-at` overrides. */
        poisonAt: z.number().min(0).max(1).optional(),
      })
      .strict()
      .refine((d) => (d.size === undefined) !== (d.chats === undefined), { message: 'give exactly one of size and chats' }),
    server: z.object({ settings: z.record(z.string().regex(/^[a-z_][a-z0-9_.]*$/), z.string()) }).strict(),
    strategies: z
      .array(strategyEntry)
      .min(1)
      .superRefine((entries, ctx) => {
        const seen = new Set<string>();
        for (const [i, e] of entries.entries()) {
          const label = entryLabel(e);
          if (seen.has(label)) ctx.addIssue({ code: 'custom', path: [i], message: `'${label}' is listed twice; give one of them a label of its own (as)` });
          seen.add(label);
        }
      }),
    /** The Alembic environment of every strategy that names none; the flags override it. */
    alembic: alembicEnvironment.optional(),
    /** Faults in `--fault` syntax, e.g. ["deadline=0.5x", "restarts=3"]. */
    faults: z.array(z.string()).default([]),
    /** What a relative deadline (`deadline=0.75x`) is relative to: one uninterrupted backfill of `strategy`, run on its first `sample` share and extrapolated. */
    calibration: z
      .object({ strategy: z.string().default('chunked'), sample: z.number().gt(0).max(1).default(1) })
      .strict()
      .default({ strategy: 'chunked', sample: 1 }),
    measure: z
      .object({
        sampleInterval: durationString.default('250ms'),
        probe: z.boolean().default(true),
        probeInterval: durationString.default('100ms'),
        probeLockTimeout: durationString.default('300s'),
      })
      .strict()
      .default({ sampleInterval: '250ms', probe: true, probeInterval: '100ms', probeLockTimeout: '300s' }),
    thresholds: z
      .object({
        walAmplification: z.number().positive().default(1.2),
        maxWriteStall: durationString.default('1s'),
        clientPeakMemory: sizeString.default('2GB'),
        resumable: z.boolean().default(true),
      })
      .strict()
      .default({ walAmplification: 1.2, maxWriteStall: '1s', clientPeakMemory: '2GB', resumable: true }),
    /** The upgrade path's limits, per revision (harness/upgrade/upgrade-checks.ts); flags override them. */
    upgradeThresholds: z
      .object({
        secondsPerGb: z.number().positive().default(UPGRADE_DEFAULTS.secondsPerGb),
        walAmplification: z.number().positive().default(UPGRADE_DEFAULTS.walAmplification),
        maxBlockedWrite: durationString.default(UPGRADE_DEFAULTS.maxBlockedWrite),
        clientPeakMemory: sizeString.default(UPGRADE_DEFAULTS.clientPeakMemory),
        resumable: z.boolean().default(UPGRADE_DEFAULTS.resumable),
        judgeFrom: durationString.default(UPGRADE_DEFAULTS.judgeFrom),
        judgeWalFrom: sizeString.default(UPGRADE_DEFAULTS.judgeWalFrom),
      })
      .strict()
      .default(UPGRADE_DEFAULTS),
  })
  .strict();

type ScenarioInput = z.input<typeof ScenarioSchema>;
export type Scenario = z.output<typeof ScenarioSchema>;

/**
 * The server the built-in scenarios share: a small managed server's WAL
 * budget (`max_wal_size=64MB`), so checkpoints, and the full-page images
 * after each, come as often per byte as on the report's server.
 */
export const REDUCED_WAL_SERVER = {
  max_wal_size: '64MB',
  min_wal_size: '32MB',
  wal_level: 'replica',
  shared_buffers: '128MB',
  checkpoint_timeout: '5min',
  log_checkpoints: 'on',
} as const;

/** Type-checked authoring helper for scenario files. */
export function defineScenario(s: ScenarioInput): ScenarioInput {
  return s;
}
