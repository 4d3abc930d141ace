import { describe, expect, it } from 'vitest';
import { formatDuration } from '../../harness/units.ts';

describe('formatDuration', () => {
  it.each([
    [null, 'n/a'],
    [999, '999 ms'],
    [9_994, '9.99 s'],
    [9_996, '10.0 s'],
    [59_949, '59.9 s'],
    [59_950, '1 min 0 s'],
    [61_500, '1 min 2 s'],
    [119_600, '2 min 0 s'],
    [3_599_600, '60 min 0 s'],
  ])('%s ms reads %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
