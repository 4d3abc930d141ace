/**
 * The order the seeder loads a plan's chats in, which is the order they sit
 * in the table: large and small chats mixed, group by group, as in a table
 * the application filled over time (not every large chat first).
 */
import { describe, expect, it } from 'vitest';
import { BLOCKS_PER_GROUP, CHATS_PER_UNIT, planDataset, planUnits } from '../../seed/dataset-plan.ts';

const MB = 1024 * 1024;
const plan = planDataset({ seed: 23273, targetBytes: 128 * MB, edgeCaseRate: 0.01, sharedRate: 0.03 });
const units = planUnits(plan);

describe('planUnits', () => {
  it('holds every planned chat once, each in the unit of its block and size', () => {
    const seen = units.flatMap((u) => u.indices);
    expect(seen.length).toBe(plan.chats);
    expect(new Set(seen).size).toBe(plan.chats);
    for (const u of units) {
      const block = Number(u.name.slice(1));
      expect(u.name[0]).toBe(u.phase);
      for (const index of u.indices) {
        const k = plan.indices.indexOf(index);
        expect(Math.floor(k / CHATS_PER_UNIT)).toBe(block);
        expect(plan.large[k] === 1).toBe(u.phase === 'x');
      }
    }
  });

  it('loads group by group: a group’s large units, then its small ones, never more than one group of a phase in a row', () => {
    const phases = units.map((u) => u.phase).join('');
    const runs = phases.match(/x+|c+/g)!;
    expect(runs.length).toBeGreaterThan(8);
    expect(Math.max(...runs.map((r) => r.length))).toBeLessThanOrEqual(BLOCKS_PER_GROUP);
    const blocks = units.map((u) => Math.floor(Number(u.name.slice(1)) / BLOCKS_PER_GROUP));
    expect(blocks).toEqual([...blocks].sort((a, b) => a - b));
  });

  it('at every point of the load, the shares of small and of large bytes loaded stay within a quarter of each other (all large first would part them by 1)', () => {
    const total = { x: 0, c: 0 };
    for (const u of units) total[u.phase] += u.plannedBytes;
    const done = { x: 0, c: 0 };
    const groups = Math.ceil(plan.chats / (CHATS_PER_UNIT * BLOCKS_PER_GROUP));
    let worst = 0;
    for (const u of units) {
      done[u.phase] += u.plannedBytes;
      worst = Math.max(worst, Math.abs(done.x / total.x - done.c / total.c));
    }
    // Large chats are few, so one group's share of them can be several times 1/groups; all large first would be 1.
    expect(worst).toBeLessThan(0.25);
    expect(groups).toBeGreaterThan(4);
  });
});
