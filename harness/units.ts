/**
 * Sizes and durations as people type them, parsed strictly. Sizes are
 * 1024-based like PostgreSQL's own (`max_wal_size = 64MB` is 64 MiB, and
 * `pg_size_pretty` prints 68 GB for 68 GiB).
 */

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1024,
  kib: 1024,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

export const SIZE_HELP = 'a positive number with a unit B, kB, MB, GB or TB (e.g. 64MB, 1.5GB)';
export const DURATION_HELP = 'a positive number with a unit ms, s, min or h (e.g. 250ms, 15s, 55min)';

/** Bytes, or a message saying what is wrong. */
export function parseSize(text: string): { ok: true; bytes: number } | { ok: false; reason: string } {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]+)\s*$/.exec(text);
  if (!m) {
    if (/^\s*-/.test(text)) return { ok: false, reason: `'${text}' is negative; use ${SIZE_HELP}` };
    if (/^\s*[0-9.]+\s*$/.test(text)) return { ok: false, reason: `'${text}' has no unit; use ${SIZE_HELP}` };
    return { ok: false, reason: `'${text}' is not a size; use ${SIZE_HELP}` };
  }
  const unit = SIZE_UNITS[m[2].toLowerCase()];
  if (unit === undefined) return { ok: false, reason: `'${text}' has an unknown unit '${m[2]}'; use ${SIZE_HELP}` };
  const bytes = Math.round(Number(m[1]) * unit);
  if (!(bytes > 0)) return { ok: false, reason: `'${text}' is zero; use ${SIZE_HELP}` };
  if (!Number.isSafeInteger(bytes)) return { ok: false, reason: `'${text}' is too large` };
  return { ok: true, bytes };
}

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
};

/** Milliseconds, or a message saying what is wrong. */
export function parseDuration(text: string): { ok: true; ms: number } | { ok: false; reason: string } {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]+)\s*$/.exec(text);
  if (!m) {
    if (/^\s*-/.test(text)) return { ok: false, reason: `'${text}' is negative; use ${DURATION_HELP}` };
    if (/^\s*[0-9.]+\s*$/.test(text)) return { ok: false, reason: `'${text}' has no unit; use ${DURATION_HELP}` };
    return { ok: false, reason: `'${text}' is not a duration; use ${DURATION_HELP}` };
  }
  const unit = DURATION_UNITS[m[2].toLowerCase()];
  if (unit === undefined) return { ok: false, reason: `'${text}' has an unknown unit '${m[2]}'; use ${DURATION_HELP}` };
  const ms = Math.round(Number(m[1]) * unit);
  if (!(ms > 0)) return { ok: false, reason: `'${text}' is zero; use ${DURATION_HELP}` };
  return { ok: true, ms };
}

/** A PostgreSQL memory setting (`64MB`) for bytes that are whole kB. */
export function pgSize(bytes: number): string {
  for (const [unit, factor] of [
    ['TB', 1024 ** 4],
    ['GB', 1024 ** 3],
    ['MB', 1024 ** 2],
    ['kB', 1024],
  ] as const) {
    if (bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return `${Math.ceil(bytes / 1024)}kB`;
}

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return 'n/a';
  const abs = Math.abs(bytes);
  if (abs < 1024) return `${bytes} B`;
  for (const [unit, factor] of [
    ['TB', 1024 ** 4],
    ['GB', 1024 ** 3],
    ['MB', 1024 ** 2],
    ['kB', 1024],
  ] as const) {
    if (abs >= factor) return `${(bytes / factor).toFixed(abs / factor >= 100 ? 0 : abs / factor >= 10 ? 1 : 2)} ${unit}`;
  }
  return `${bytes} B`;
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return 'n/a';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 59_950) return `${(ms / 1000).toFixed(ms < 9_995 ? 2 : 1)} s`;
  // Whole seconds first, so 119.6 s reads "2 min 0 s", never "1 min 60 s".
  const total = Math.round(ms / 1000);
  return `${Math.floor(total / 60)} min ${total % 60} s`;
}
