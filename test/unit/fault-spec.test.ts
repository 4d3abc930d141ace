/**
 * `--fault` as people type it: every form parseFaults accepts and what it
 * makes of it, and the ones it refuses, each with a message that names the
 * fault and what is allowed (the command line turns it into exit code 2).
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../harness/errors.ts';
import { NO_FAULTS, parseFaults, type FaultSpec } from '../../harness/faults/fault-spec.ts';
import { finishedBeforeFault } from '../../harness/run/run-strategy.ts';

const ALLOWED = 'deadline=<duration>|<k>x, restarts=<n>, kill-at=<fraction>, crash-at=<fraction>, wal-retention, wal-limit=<size>, wal-tmpfs, restart-delay=<duration>';
const MB = 1024 ** 2;

describe('parseFaults accepts', () => {
  it('nothing: no faults, restarts after 500 ms', () => {
    expect(parseFaults([])).toEqual({ restarts: 0, walRetention: false, walTmpfs: false, restartDelayMs: 500 });
  });

  it.each<[string, Partial<FaultSpec>]>([
    ['deadline=55min', { deadline: { kind: 'fixed', ms: 55 * 60_000 } }],
    ['deadline=250ms', { deadline: { kind: 'fixed', ms: 250 } }],
    ['deadline=1.5h', { deadline: { kind: 'fixed', ms: 5_400_000 } }],
    ['deadline=0.8x', { deadline: { kind: 'relative', factor: 0.8 } }],
    ['deadline=2X', { deadline: { kind: 'relative', factor: 2 } }],
    ['restarts=0', { restarts: 0 }],
    ['restarts=100', { restarts: 100 }],
    ['kill-at=0.5', { killAt: 0.5 }],
    ['kill-at=.25', { killAt: 0.25 }],
    ['crash-at=0.999', { crashAt: 0.999 }],
    ['wal-retention', { walRetention: true }],
    ['wal-limit=512MB', { walLimitBytes: 512 * MB }],
    ['wal-limit=1.5GB', { walLimitBytes: 1536 * MB }],
    ['restart-delay=2s', { restartDelayMs: 2000 }],
    [' restarts = 2 ', { restarts: 2 }],
  ])('%s', (text, expected) => {
    expect(parseFaults([text])).toEqual({ ...NO_FAULTS, ...expected });
  });

  it('wal-tmpfs with the size of its tmpfs', () => {
    expect(parseFaults(['wal-tmpfs', 'wal-limit=1GB'])).toEqual({ ...NO_FAULTS, walTmpfs: true, walLimitBytes: 1024 * MB });
  });

  it('several faults in one value, comma-separated, empty parts ignored, across values', () => {
    expect(parseFaults(['deadline=0.5x,restarts=3,', 'kill-at=0.4'])).toEqual({
      ...NO_FAULTS,
      deadline: { kind: 'relative', factor: 0.5 },
      restarts: 3,
      killAt: 0.4,
    });
  });

  it('a later value overrides an earlier one, on top of a base it does not change', () => {
    const base: FaultSpec = { ...NO_FAULTS, walRetention: true, restarts: 1 };
    expect(parseFaults(['restarts=4', 'restarts=2'], base)).toEqual({ ...base, restarts: 2 });
    expect(base.restarts).toBe(1);
    expect(NO_FAULTS).toEqual({ restarts: 0, walRetention: false, walTmpfs: false, restartDelayMs: 500 });
  });
});

describe('parseFaults refuses, naming the fault and what is allowed', () => {
  it.each<[string, RegExp]>([
    ['deadline', new RegExp(`^--fault deadline: needs a value \\(allowed: ${ALLOWED.replace(/[|()<>]/g, '\\$&')}\\)$`)],
    ['deadline=soon', /^--fault deadline=soon: 'soon' is not a duration; use a positive number with a unit ms, s, min or h .*, or a factor of the calibrated backfill time like 0\.5x$/],
    ['deadline=10', /^--fault deadline=10: '10' has no unit; use a positive number/],
    ['deadline=-5s', /^--fault deadline=-5s: '-5s' is negative/],
    ['deadline=0x', /^--fault deadline=0x: the factor must be above 0 \(e\.g\. deadline=0\.5x\)$/],
    ['restarts=-1', /^--fault restarts=-1: a whole number from 0 to 100 is required$/],
    ['restarts=101', /^--fault restarts=101: a whole number from 0 to 100 is required$/],
    ['restarts=1.5', /^--fault restarts=1\.5: a whole number from 0 to 100 is required$/],
    ['kill-at=0', /^--fault kill-at=0: a fraction strictly between 0 and 1 is required \(e\.g\. kill-at=0\.5\)$/],
    ['kill-at=1', /^--fault kill-at=1: a fraction strictly between 0 and 1/],
    ['kill-at=1.5', /^--fault kill-at=1\.5: a fraction strictly between 0 and 1/],
    ['kill-at=half', /^--fault kill-at=half: a fraction strictly between 0 and 1/],
    ['crash-at=2', /^--fault crash-at=2: a fraction strictly between 0 and 1 is required \(e\.g\. crash-at=0\.5\)$/],
    ['wal-retention=yes', /^--fault wal-retention takes no value \(use wal-limit=<size> for the limit\)$/],
    ['wal-limit=0MB', /^--fault wal-limit=0MB: '0MB' is zero; use a positive number with a unit B, kB, MB, GB or TB/],
    ['wal-limit=12QB', /^--fault wal-limit=12QB: '12QB' has an unknown unit 'QB'; use a positive number with a unit B, kB, MB, GB or TB/],
    ['wal-tmpfs=1', /^--fault wal-tmpfs takes no value$/],
    ['wal-tmpfs', /^--fault wal-tmpfs needs wal-limit=<size> for the tmpfs size$/],
    ['restart-delay=fast', /^--fault restart-delay=fast: 'fast' is not a duration; use a positive number with a unit ms, s, min or h/],
    ['bogus', new RegExp(`^--fault 'bogus': unknown fault 'bogus'; allowed: ${ALLOWED.replace(/[|()<>]/g, '\\$&')}$`)],
    ['Deadline=1s', /^--fault 'Deadline=1s': unknown fault 'Deadline'; allowed: deadline=/],
  ])('%s', (text, message) => {
    let thrown: unknown;
    try {
      parseFaults([text]);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(UsageError);
    expect((thrown as UsageError).message).toMatch(message);
  });

  it('the first bad fault of a list, even after good ones', () => {
    expect(() => parseFaults(['restarts=2,kill-at=7'])).toThrow(/^--fault kill-at=7: /);
  });
});

describe('a fault after the migration had finished', () => {
  it('counts as done when the attempt had finished and stamped, so the harness does not start it again', () => {
    const stamped = { verdict: 'stamped' };
    expect(finishedBeforeFault({ ended: 'deadline', finished: true }, stamped)).toBe(true);
    expect(finishedBeforeFault({ ended: 'killed', finished: true }, stamped)).toBe(true);
    // Cut off during the migration, or its stamp not written: the next start runs it again.
    expect(finishedBeforeFault({ ended: 'deadline', finished: false }, stamped)).toBe(false);
    expect(finishedBeforeFault({ ended: 'deadline', finished: true }, { verdict: 'not-stamped' })).toBe(false);
    // Not a fault: a completed attempt is counted as such, an error is an error.
    expect(finishedBeforeFault({ ended: 'completed', finished: true }, stamped)).toBe(false);
    expect(finishedBeforeFault({ ended: 'error', finished: false }, stamped)).toBe(false);
  });
});
