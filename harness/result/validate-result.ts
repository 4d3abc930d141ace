/**
 * `result.json` against `result.schema.json`: what the report command reads
 * and what the report writers check before they write (an invalid result
 * there is a harness bug).
 */
import { readFile } from 'node:fs/promises';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { errorMessage, UsageError } from '../errors.ts';
import schema from './result.schema.json' with { type: 'json' };
import type { RunResult } from './run-result.ts';

const ajv = new Ajv2020({ allErrors: true, allowUnionTypes: true, strict: true });
const validate = ajv.compile(schema);

/** How many schema errors a thrown message names before "and N more". */
const ERRORS_IN_MESSAGE = 5;

/** A JSON pointer (`/strategies/0/outcome`) as a JSON path (`$.strategies[0].outcome`). */
function jsonPath(pointer: string): string {
  if (pointer === '') return '$';
  return (
    '$' +
    pointer
      .split('/')
      .slice(1)
      .map((raw) => raw.replace(/~1/g, '/').replace(/~0/g, '~'))
      .map((key) => (/^\d+$/.test(key) ? `[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`))
      .join('')
  );
}

function describe(error: ErrorObject): string {
  const path = jsonPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return `${path}: unknown field '${String(params.additionalProperty)}'`;
    case 'required':
      return `${path}: missing required field '${String(params.missingProperty)}'`;
    case 'enum':
      return `${path}: must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `${path}: must be ${JSON.stringify(params.allowedValue)}`;
    default:
      return `${path}: ${error.message ?? error.keyword}`;
  }
}

/**
 * Checks a parsed `result.json` against the schema. Errors name the JSON path
 * (`$.strategies[0].outcome: must be one of "succeeded", "failed"`); the
 * generic "must match a schema in anyOf" that follows a nullable field's
 * error is left out.
 */
export function validateResult(value: unknown): { ok: true; result: RunResult } | { ok: false; errors: string[] } {
  if (validate(value)) return { ok: true, result: value as unknown as RunResult };
  const raw = validate.errors ?? [];
  const errors = raw.filter((e) => e.keyword !== 'anyOf' || raw.length === 1).map(describe);
  return { ok: false, errors: [...new Set(errors)] };
}

/** The first errors as one line, for a thrown message. */
export function summarizeErrors(errors: string[]): string {
  const shown = errors.slice(0, ERRORS_IN_MESSAGE).join('; ');
  return errors.length > ERRORS_IN_MESSAGE ? `${shown}; and ${errors.length - ERRORS_IN_MESSAGE} more` : shown;
}

/**
 * Reads and validates a `result.json`. Throws a UsageError (bad input: exit
 * code 2) naming the file and its first errors when it cannot be read, is
 * not JSON, or does not match the schema.
 */
export async function readResult(path: string): Promise<RunResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${path} (${code ?? String(err)}); pass the result.json a run wrote, e.g. results/<run-id>/result.json`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${path} is not JSON (${errorMessage(err)})`);
  }
  const checked = validateResult(value);
  if (!checked.ok) {
    throw new UsageError(`${path} is not a valid result.json (schemaVersion 1): ${summarizeErrors(checked.errors)}`);
  }
  return checked.result;
}
