/**
 * Faults that real platforms inflict, as a scenario or `--fault` flags
 * describe them. Parsing is strict: a bad fault is a UsageError naming it.
 */
import { UsageError } from '../errors.ts';
import { formatBytes, formatDuration, parseDuration, parseSize } from '../units.ts';

type Deadline = { kind: 'fixed'; ms: number } | { kind: 'relative'; factor: number };

export interface FaultSpec {
  /** The platform ends the migration's connection after this long (each attempt). */
  deadline?: Deadline;
  /** The platform starts the migration again, up to this many times. */
  restarts: number;
  /** End the migration's connection once this fraction of the expected rows is written (once). */
  killAt?: number;
  /** SIGKILL the server once this fraction is written, restart it, resume (once). */
  crashAt?: number;
  /** A physical replication slot holds WAL from the start of the strategy. */
  walRetention: boolean;
  /** The run fails when pg_wal outgrows this many bytes. */
  walLimitBytes?: number;
  /** With Testcontainers: put pg_wal on a tmpfs of `walLimitBytes` (a real full volume). */
  walTmpfs: boolean;
  /** Pause between attempts, as a platform restarting a service does. Default is 500 ms. */
  restartDelayMs: number;
}

export const NO_FAULTS: FaultSpec = { restarts: 0, walRetention: false, walTmpfs: false, restartDelayMs: 500 };

const FAULT_HELP = `deadline=<duration>|<k>x, restarts=<n>, kill-at=<fraction>, crash-at=<fraction>, wal-retention, wal-limit=<size>, wal-tmpfs, restart-delay=<duration>`;

function fraction(name: string, v: string): number {
  const x = Number(v);
  if (!/^\s*(0?\.\d+|1(\.0*)?|0)\s*$/.test(v) || !(x > 0 && x < 1)) throw new UsageError(`--fault ${name}=${v}: a fraction strictly between 0 and 1 is required (e.g. ${name}=0.5)`);
  return x;
}

/** Apply one `name=value` fault to `spec` (returns a new spec). */
function applyFault(spec: FaultSpec, text: string): FaultSpec {
  const [rawName, ...rest] = text.split('=');
  const name = rawName.trim();
  const value = rest.join('=').trim();
  const need = () => {
    if (!value) throw new UsageError(`--fault ${name}: needs a value (allowed: ${FAULT_HELP})`);
  };
  switch (name) {
    case 'deadline': {
      need();
      const rel = /^(\d+(?:\.\d+)?)x$/i.exec(value);
      if (rel) {
        const factor = Number(rel[1]);
        if (!(factor > 0)) throw new UsageError(`--fault deadline=${value}: the factor must be above 0 (e.g. deadline=0.5x)`);
        return { ...spec, deadline: { kind: 'relative', factor } };
      }
      const d = parseDuration(value);
      if (!d.ok) throw new UsageError(`--fault deadline=${value}: ${d.reason}, or a factor of the calibrated backfill time like 0.5x`);
      return { ...spec, deadline: { kind: 'fixed', ms: d.ms } };
    }
    case 'restarts': {
      need();
      if (!/^\d+$/.test(value) || Number(value) > 100) throw new UsageError(`--fault restarts=${value}: a whole number from 0 to 100 is required`);
      return { ...spec, restarts: Number(value) };
    }
    case 'kill-at':
      need();
      return { ...spec, killAt: fraction(name, value) };
    case 'crash-at':
      need();
      return { ...spec, crashAt: fraction(name, value) };
    case 'wal-retention':
      if (value) throw new UsageError(`--fault wal-retention takes no value (use wal-limit=<size> for the limit)`);
      return { ...spec, walRetention: true };
    case 'wal-limit': {
      need();
      const s = parseSize(value);
      if (!s.ok) throw new UsageError(`--fault wal-limit=${value}: ${s.reason}`);
      return { ...spec, walLimitBytes: s.bytes };
    }
    case 'wal-tmpfs':
      if (value) throw new UsageError('--fault wal-tmpfs takes no value');
      return { ...spec, walTmpfs: true };
    case 'restart-delay': {
      need();
      const d = parseDuration(value);
      if (!d.ok) throw new UsageError(`--fault restart-delay=${value}: ${d.reason}`);
      return { ...spec, restartDelayMs: d.ms };
    }
    default:
      throw new UsageError(`--fault '${text}': unknown fault '${name}'; allowed: ${FAULT_HELP}`);
  }
}

/** Parse `--fault` values (each may hold several, comma-separated). */
export function parseFaults(values: string[], base: FaultSpec = NO_FAULTS): FaultSpec {
  let spec = base;
  for (const v of values) for (const part of v.split(',').filter((p) => p.trim())) spec = applyFault(spec, part);
  if (spec.walTmpfs && !spec.walLimitBytes) throw new UsageError('--fault wal-tmpfs needs wal-limit=<size> for the tmpfs size');
  return spec;
}

export function describeFaults(f: FaultSpec, deadlineMs: number | null): string {
  const parts: string[] = [];
  if (f.deadline)
    parts.push(
      f.deadline.kind === 'fixed'
        ? `deadline ${formatDuration(f.deadline.ms)} per attempt (simulated: the connection is terminated)`
        : `deadline ${f.deadline.factor}× the calibrated backfill${deadlineMs !== null ? ` = ${formatDuration(deadlineMs)}` : ''} per attempt (simulated: the connection is terminated)`,
    );
  if (f.restarts) parts.push(`up to ${f.restarts} restart${f.restarts > 1 ? 's' : ''} (as a service that migrates at start-up)`);
  if (f.killAt !== undefined) parts.push(`kill at ${f.killAt} of the rows (simulated: the connection is terminated)`);
  if (f.crashAt !== undefined) parts.push(`server SIGKILLed at ${f.crashAt} of the rows, then restarted (real crash recovery)`);
  if (f.walRetention) parts.push('WAL held by a replication slot (as a lagging standby or archiver)');
  if (f.walLimitBytes) parts.push(`pg_wal limited to ${formatBytes(f.walLimitBytes)}${f.walTmpfs ? ' (a real size-capped tmpfs)' : ' (simulated: the connection is terminated when exceeded)'}`);
  return parts.length ? parts.join('; ') : 'none';
}
