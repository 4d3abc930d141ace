/**
 * An upgrade path: `a>b` runs `a` at the first start and `b` at every later
 * one (`a>b>c`: `c` from the third on), as a database meets one release,
 * then the next. With a fault that ends the first start (`kill-at`, a
 * deadline) and a restart, it shows what a release does to what an earlier
 * one left: `chunked>v0.9.6` is the fix interrupted half-way, then the
 * current release, which finds `chat_message` there and stamps without
 * migrating the rest. Every start is one attempt of the same run, measured
 * and verified as one strategy.
 */
import type { Strategy } from './strategy.ts';

export const SEQUENCE_SEPARATOR = '>';

/** The names in a sequence (`a>b`: ['a', 'b']), or null for a single name. */
export function sequenceNames(name: string): string[] | null {
  if (!name.includes(SEQUENCE_SEPARATOR)) return null;
  return name.split(SEQUENCE_SEPARATOR).map((s) => s.trim());
}

/** Why `name` is not a strategy or a sequence of strategies, or null when it is one. */
export function strategyNameProblem(name: string, known: (n: string) => boolean, allowed: string[]): string | null {
  const parts = sequenceNames(name) ?? [name];
  if (parts.length > 1 && parts.some((p) => p === 'external' || p === 'upstream'))
    return `'${name}': a sequence runs ports only (not external or upstream)`;
  for (const p of parts) {
    if (!p) return `'${name}': an empty name in the sequence; write it as a${SEQUENCE_SEPARATOR}b, e.g. chunked${SEQUENCE_SEPARATOR}v0.9.6`;
    if (!known(p)) return `unknown strategy '${p}'; allowed: ${allowed.join(', ')}, or a sequence of them such as chunked${SEQUENCE_SEPARATOR}v0.9.6`;
  }
  return null;
}

/** The sequence as one strategy for reports and verification; the runner runs its parts, one per start. */
export function sequenceStrategy(parts: Strategy[]): Strategy {
  const names = parts.map((p) => p.name);
  return {
    name: names.join(SEQUENCE_SEPARATOR),
    summary: `an upgrade path: ${names[0]} at the first start, then ${names.slice(1).join(', then ')} at ${parts.length > 2 ? 'the starts after it (the last one for every later start)' : 'every later start'}`,
    singleTransaction: parts.every((p) => p.singleTransaction),
    resumable: parts[parts.length - 1].resumable,
    writesUsage: parts.every((p) => p.writesUsage),
    commitsInside: parts.some((p) => p.commitsInside),
    shippedEnv: null,
    async run() {
      throw new Error(`${names.join(SEQUENCE_SEPARATOR)} is a sequence: the runner runs one of its strategies per attempt`);
    },
  };
}
