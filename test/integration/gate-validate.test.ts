/**
 * The gate has teeth: on the ci-gate scenario it fails the original
 * single-transaction migration and v0.8.0, and passes the chunked fix, with
 * exit codes, JUnit and the GitHub step summary. `validate` checks an
 * external command (a psql script doing the chunked migration) and writes
 * one report; `--dry-run` touches nothing.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../../harness/result/run-result.ts';
import { SETBASED_HELPERS_DDL, setbasedPageSql } from '../../harness/strategies/setbased/setbased-sql.ts';

const execFileP = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/chunked-migration-psql.sh', import.meta.url));

let work: string;
let cacheDir: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'owui-gate-test-'));
  cacheDir = path.join(work, 'cache');
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileP(path.join(ROOT, 'node_modules/.bin/tsx'), [path.join(ROOT, 'harness/cli.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, CI: 'true', ...env },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function result(out: string): Promise<RunResult> {
  return JSON.parse(await readFile(path.join(out, 'result.json'), 'utf8')) as RunResult;
}

const common = ['--provider', 'embedded', '--cache-dir', () => cacheDir] as const;
const base = () => common.map((a) => (typeof a === 'function' ? a() : a));

describe('gate', () => {
  it('passes the chunked fix: exit 0, every check holds, JUnit without failures, step summary appended', async () => {
    const out = path.join(work, 'gate-chunked');
    const summary = path.join(work, 'step-summary.md');
    const r = await cli(['gate', '--scenario', 'ci-gate', '--strategies', 'chunked', ...base(), '--out', out], { GITHUB_STEP_SUMMARY: summary });
    expect(r.stderr).not.toMatch(/harness error/);
    expect(r.code).toBe(0);
    const res = await result(out);
    const checks = res.checks!;
    expect(checks.map((c) => c.name)).toEqual(['finishes', 'rows verify', 'WAL amplification', 'write stall on chat', 'resumable', 'client memory']);
    expect(checks.filter((c) => !c.passed)).toEqual([]);
    const junit = await readFile(path.join(out, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<testsuite [^>]*tests="6"[^>]*failures="0"/);
    expect(await readFile(summary, 'utf8')).toContain('✅');
  });

  it('fails the original migration and v0.8.0: exit 1, naming the failing checks', async () => {
    const out = path.join(work, 'gate-original');
    const r = await cli(['gate', '--scenario', 'ci-gate', '--strategies', 'original,v0.8.0', ...base(), '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/gate failed/);
    const res = await result(out);
    for (const name of ['original', 'v0.8.0']) {
      const failed = res.checks!.filter((c) => c.strategy === name && !c.passed).map((c) => c.name);
      // One transaction holding SHARE ROW EXCLUSIVE on chat, and nothing kept after a kill.
      expect(failed).toContain('write stall on chat');
      expect(failed).toContain('resumable');
      expect(r.stderr).toContain(`${name}: write stall on chat`);
    }
    const junit = await readFile(path.join(out, 'junit.xml'), 'utf8');
    expect(Number(/failures="(\d+)"/.exec(junit)![1])).toBeGreaterThanOrEqual(4);
  });
});

describe('validate', () => {
  async function fixtureCommand(): Promise<string> {
    const rowsSql = path.join(work, 'rows.sql');
    const pageSql = `${setbasedPageSql('careful')} RETURNING 1`;
    await writeFile(
      rowsSql,
      [
        ...SETBASED_HELPERS_DDL,
        `CREATE OR REPLACE FUNCTION owui_harness.migrate_page(after text, up_to text, now bigint) RETURNS bigint LANGUAGE sql AS $page$ WITH inserted AS (${pageSql}) SELECT count(*) FROM inserted $page$`,
      ].join(';\n') + ';\n',
    );
    return `sh '${FIXTURE}' '${rowsSql}'`;
  }

  it('--dry-run says what it would do and touches nothing', async () => {
    const tmp = await mkdtemp(path.join(work, 'tmp-'));
    const r = await cli(['validate', '--cmd', 'alembic upgrade 8452d01d26d7', '--dry-run', ...base(), '--out', path.join(work, 'dry')], { TMPDIR: tmp });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/dry run: nothing below has been done/);
    expect(r.stdout).toMatch(/external: .*\n\s+command: alembic upgrade 8452d01d26d7/);
    expect(r.stdout).toMatch(/to run it: npm run harness -- validate --cmd/);
    // tsx keeps its compile cache there; the harness must add nothing.
    expect((await readdir(tmp)).filter((f) => !f.startsWith('tsx-'))).toEqual([]);
  });

  it('checks a pull request-like command next to original and chunked and writes one report to paste', async () => {
    const out = path.join(work, 'validate');
    const r = await cli(['validate', '--scenario', 'ci-gate', '--cmd', await fixtureCommand(), ...base(), '--out', out]);
    expect(r.stderr).not.toMatch(/harness error/);
    expect(r.code).toBe(0);
    const res = await result(out);
    expect(res.strategies.map((s) => s.name)).toEqual(['external', 'original', 'chunked', 'external:resume']);
    expect(res.checks!.every((c) => c.strategy === 'external' && c.passed)).toBe(true);
    const md = await readFile(path.join(out, 'report.md'), 'utf8');
    expect(md).toContain('npm run harness -- validate --scenario ci-gate --cmd');
    expect(md).toMatch(/Checks/);
    expect(md).toMatch(/Settings/);
  });
});
