/**
 * The report writers: the one place that puts a run's files on disk, after a
 * run (`writeReports`) or again from a kept result (`reportCommand`).
 * Each file is written to a temporary name and renamed, so a reader (or an
 * interrupted run) never sees half a file.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { RunResult } from '../result/run-result.ts';
import { readResult, summarizeErrors, validateResult } from '../result/validate-result.ts';
import { renderReportFiles } from './render-report-files.ts';

/** Writes `content` to `path` through a temporary file in the same directory and a rename. */
async function writeFileAtomic(path: string, content: string): Promise<void> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, content, 'utf8');
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/**
 * Writes `result.json` (2-space JSON), `report.md`, `chart.svg` and, for
 * `gate`/`validate` or a result with checks, `junit.xml` into `dir`
 * (created when missing). Validates first and throws on an invalid result.
 * Returns the paths written, `result.json` first.
 */
export async function writeReports(result: RunResult, dir: string): Promise<{ files: string[] }> {
  const checked = validateResult(result);
  if (!checked.ok) {
    // Keep the measurements: a bug in the harness should not cost the user the run.
    await mkdir(dir, { recursive: true });
    await writeFileAtomic(join(dir, 'result.invalid.json'), `${JSON.stringify(result, null, 2)}\n`);
    throw new Error(`refusing to write an invalid result.json (a harness bug; the raw result is in ${join(dir, 'result.invalid.json')}): ${summarizeErrors(checked.errors)}`);
  }
  const rendered = renderReportFiles(result);
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  const resultPath = join(dir, 'result.json');
  await writeFileAtomic(resultPath, `${JSON.stringify(result, null, 2)}\n`);
  files.push(resultPath);
  for (const file of rendered) {
    const path = join(dir, file.name);
    await writeFileAtomic(path, file.content);
    files.push(path);
  }
  return { files };
}

/**
 * `npm run harness -- report results/<run-id>/result.json`: renders
 * `report.md`, `chart.svg` (and `junit.xml` for gates and validations) again
 * next to the given `result.json`, which it reads, validates and leaves as
 * it is. Throws a UsageError naming the file when it cannot be read or does
 * not match the schema. Returns the paths written.
 */
export async function reportCommand(resultPath: string): Promise<{ files: string[] }> {
  const result = await readResult(resultPath);
  const dir = dirname(resultPath);
  const files: string[] = [];
  for (const file of renderReportFiles(result)) {
    const path = join(dir, file.name);
    await writeFileAtomic(path, file.content);
    files.push(path);
  }
  return { files };
}
