/**
 * `external`'s command ended badly (a non-zero exit status, a signal). The
 * error carries the attempt's report (captured output, peak RSS, rows
 * counted afterwards) so the runner keeps them for a failed attempt too.
 */
import type { AttemptReport } from '../strategy.ts';

export class ExternalCommandFailed extends Error {
  override name = 'ExternalCommandFailed';
  constructor(
    message: string,
    readonly report: AttemptReport,
  ) {
    super(message);
  }
}
