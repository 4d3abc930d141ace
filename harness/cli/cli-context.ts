/**
 * What a command needs from the process, gathered in one place by
 * `harness/cli.ts` (the only code that reads argv and the environment).
 */
import type { OwnedRegistry } from '../lifecycle/owned-registry.ts';

export interface CliContext {
  argv: string[];
  env: NodeJS.ProcessEnv;
  projectRoot: string;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  /** Under CI (the `CI` variable): no bars, fewer lines. */
  ci: boolean;
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal;
  /** Runs before cleanup when a signal arrives (writes partial results). */
  onInterrupt: (fn: () => Promise<void>) => void;
  registry: OwnedRegistry;
}
