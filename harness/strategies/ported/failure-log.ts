/**
 * The messages an attempt failed to insert: all counted, the first
 * {@link FAILURES_LISTED} kept for the report, each logged as upstream logs it
 * (`Failed to insert message <id>: <reason>`).
 */
import type { RowFailure } from '../../openwebui/chat-to-rows.ts';

/** Failures listed in an attempt's report; the rest are only counted. */
const FAILURES_LISTED = 100;

export class FailureLog {
  count = 0;
  readonly listed: RowFailure[] = [];

  constructor(private readonly log: (line: string) => void) {}

  add(f: RowFailure): void {
    this.count++;
    if (this.listed.length < FAILURES_LISTED) this.listed.push(f);
    this.log(`Failed to insert message ${f.id}: ${f.reason}`);
  }
}
