/**
 * Process-wide cleanup: every server, container, child process and temp
 * directory the harness creates registers how to undo itself here, so that
 * success, failure, SIGINT and SIGTERM all leave nothing behind.
 */

type CleanupFn = () => Promise<void> | void;

interface Entry {
  label: string;
  fn: CleanupFn;
}

const stack: Entry[] = [];

/** Register an undo step; returns a function that unregisters it (when undone normally). */
export function onCleanup(label: string, fn: CleanupFn): () => void {
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
      log(`cleanup of ${entry.label} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

export function pendingCleanups(): string[] {
  return stack.map((e) => e.label);
}
