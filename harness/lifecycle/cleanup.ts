/**
 * Process-wide cleanup: every server, container, child process and temp
 * directory the harness creates registers how to undo itself here, so that
 * success, failure, SIGINT and SIGTERM all leave nothing behind.
 */
import { errorMessage, InterruptedError } from '../errors.ts';

type CleanupFn = () => Promise<void> | void;

interface Entry {
  label: string;
  fn: CleanupFn;
}

const stack: Entry[] = [];
/** Set once the process is stopping on a signal: nothing new may be created from then on. */
let stopping: string | undefined;
/** Undo steps run at once because their resource was created while stopping. */
const immediate: Promise<void>[] = [];

/**
 * From now on, whatever registers an undo step is undone at once and its
 * creator gets an InterruptedError: a server or child process a run was
 * starting as the signal came cannot outlive the cleanup.
 */
export function refuseNewResources(reason: string): void {
  stopping = reason;
}

/** Register an undo step; returns a function that unregisters it (when undone normally). */
export function onCleanup(label: string, fn: CleanupFn): () => void {
  if (stopping) {
    immediate.push(Promise.resolve().then(fn).then(() => undefined, () => undefined));
    throw new InterruptedError(stopping);
  }
  const entry = { label, fn };
  stack.push(entry);
  return () => {
    const i = stack.indexOf(entry);
    if (i >= 0) stack.splice(i, 1);
  };
}

/** Run every registered step, newest first; failures are reported, not thrown. */
export async function runCleanup(log: (line: string) => void = () => {}): Promise<void> {
  while (stack.length) {
    const entry = stack.pop()!;
    try {
      await entry.fn();
    } catch (err) {
      log(`cleanup of ${entry.label} failed: ${errorMessage(err)}`);
    }
  }
  await Promise.all(immediate);
}
