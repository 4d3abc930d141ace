/**
 * An external command's output is kept in result.json and report.md: if the
 * command prints its own DATABASE_URL or PGPASSWORD, the password must not
 * travel with the report. Every secret the harness hands the command is
 * replaced by `***`, as typed and percent-encoded.
 */
import type { StartedPostgres } from '../postgres/started-postgres.ts';
import type { AttemptReport } from '../strategies/strategy.ts';

export function secretsOf(server: StartedPostgres, database: string): string[] {
  const out = new Set<string>();
  const pw = server.connection(database).password;
  if (typeof pw === 'string' && pw) out.add(pw);
  if (process.env.PGPASSWORD) out.add(process.env.PGPASSWORD);
  for (const s of [...out]) {
    out.add(encodeURIComponent(s));
    out.add(Buffer.from(s).toString('base64'));
  }
  return [...out].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
}

export function scrub(text: string, secrets: string[]): string {
  let t = text;
  for (const s of secrets) t = t.split(s).join('***');
  return t;
}

export function scrubReport(report: AttemptReport, secrets: string[]): AttemptReport {
  return { ...report, stdout: report.stdout && scrub(report.stdout, secrets), stderr: report.stderr && scrub(report.stderr, secrets) };
}
