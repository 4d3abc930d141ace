/**
 * Resolve `--scenario`: a built-in name (a file in `scenarios/`) or a path
 * to a JSON file of the same shape. Validation errors name the field's path.
 */
import { readdirSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { errorMessage, UsageError } from '../errors.ts';
import { ScenarioSchema, type Scenario } from './scenario-schema.ts';

const SCENARIO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'scenarios');

const namesOf = (files: string[]) => files.filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort();

async function builtinScenarioNames(): Promise<string[]> {
  return namesOf(await readdir(SCENARIO_DIR));
}

/** The built-in scenarios' names, for help text (read when the command line is defined). */
export function builtinScenarioNamesSync(): string[] {
  return namesOf(readdirSync(SCENARIO_DIR));
}

function formatIssues(where: string, error: z.ZodError): string {
  const first = error.issues.slice(0, 3).map((i) => `${i.path.length ? i.path.join('.') : '(top level)'}: ${i.message}`);
  return `${where}: ${first.join('; ')}`;
}

function parseScenario(where: string, value: unknown): Scenario {
  const r = ScenarioSchema.safeParse(value);
  if (!r.success) throw new UsageError(formatIssues(where, r.error));
  return r.data;
}

export async function loadScenario(nameOrPath: string): Promise<Scenario> {
  const names = await builtinScenarioNames();
  if (names.includes(nameOrPath)) {
    const mod = (await import(path.join(SCENARIO_DIR, `${nameOrPath}.ts`))) as { default: unknown };
    return parseScenario(`scenario ${nameOrPath}`, mod.default);
  }
  if (!/\.json$/i.test(nameOrPath))
    throw new UsageError(`--scenario '${nameOrPath}': unknown scenario; use one of ${names.join(', ')} or a path to a .json file`);
  let text: string;
  try {
    text = await readFile(nameOrPath, 'utf8');
  } catch (err) {
    throw new UsageError(`--scenario ${nameOrPath}: cannot read it (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--scenario ${nameOrPath}: not valid JSON (${errorMessage(err)})`);
  }
  return parseScenario(`--scenario ${nameOrPath}`, value);
}
