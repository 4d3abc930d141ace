/** Every strategy the harness can run, in the order reports list them. */
import { chunked } from './chunked.ts';
import { external } from './external/external.ts';
import { original, v096 } from './original.ts';
import { parallel } from './parallel.ts';
import { resuming } from './resuming.ts';
import { setbased } from './setbased/setbased.ts';
import type { Strategy } from './strategy.ts';
import { upstream } from './upstream.ts';
import { v080 } from './v080.ts';

export const STRATEGIES: readonly Strategy[] = [original, v080, v096, chunked, setbased, parallel, resuming, external, upstream];

/** The strategy named `name`, or undefined. */
export function strategyByName(name: string): Strategy | undefined {
  return STRATEGIES.find((s) => s.name === name);
}
