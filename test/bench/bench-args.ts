/**
 * Flags of a benchmark script, as `node:util` parses them, plus what every
 * one of them does alike: `--help`/`-h` prints the usage and exits 0, an
 * unknown or malformed flag prints the error and the usage and exits 2.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;
type Values<O extends Options> = { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string };

export function benchArgs<O extends Options>(options: O, usage: string): Values<O> {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ options: { ...options, help: { type: 'boolean', short: 'h', default: false } } }).values;
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n${usage}`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(usage);
    process.exit(0);
  }
  return values as Values<O>;
}
