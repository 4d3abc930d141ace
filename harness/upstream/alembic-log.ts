/**
 * The log the harness's Alembic entry point writes (python/run_alembic.py):
 * `<unix seconds.ms> <LEVEL> [<logger>] <message>` per line, with Alembic's
 * "Running upgrade A -> B, <message>" as each revision starts.
 */

export interface AlembicLogLine {
  /** Unix time in ms. */
  atMs: number;
  level: string;
  logger: string;
  message: string;
}

export interface RevisionStart {
  atMs: number;
  /** The revision it upgrades from (empty for the first revision of a chain). */
  from: string;
  to: string;
  message: string;
}

const LINE = /^(\d{9,}\.\d{3}) ([A-Z]+) \[([^\]]*)\] (.*)$/;
const RUNNING = /^Running upgrade (\S*) ?-> (\S+?)(?:, (.*))?$/;

/** One line, or null for a line that is not a log record (a traceback's continuation). */
export function parseLogLine(line: string): AlembicLogLine | null {
  const m = LINE.exec(line);
  if (!m) return null;
  return { atMs: Math.round(Number(m[1]) * 1000), level: m[2], logger: m[3], message: m[4] };
}

/** The revision a line says was started, or null for any other line. */
export function revisionStartOf(line: string): RevisionStart | null {
  const l = parseLogLine(line);
  if (!l || !l.logger.startsWith('alembic')) return null;
  const r = RUNNING.exec(l.message);
  return r ? { atMs: l.atMs, from: r[1], to: r[2], message: r[3] ?? '' } : null;
}

/** The revisions a log says were started, in order. */
export function revisionStarts(text: string): RevisionStart[] {
  return text
    .split('\n')
    .map(revisionStartOf)
    .filter((s): s is RevisionStart => s !== null);
}
