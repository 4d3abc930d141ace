/**
 * Generation ahead of loading: load units are generated in load order, as
 * many at once as there are generators, while no more than a memory budget
 * of them is generated and not yet loaded; COPY streams take them in the
 * same order. So a generator never waits for a stream to finish a unit, and
 * a stream finds the next unit ready.
 */
import { setImmediate as yieldToIo } from 'node:timers/promises';
import type { DatasetParams } from './chat-generator.ts';
import { ChatWorker } from './chat-worker.ts';
import type { LoadUnit } from './dataset-plan.ts';
import { UnitBuilder, type GeneratedUnit, type UnitPoison } from './unit-generator.ts';

interface UnitGenerator {
  generate(spec: DatasetParams, indices: number[], poison: UnitPoison): Promise<GeneratedUnit>;
  close(): Promise<void>;
}

/** Generation on the main thread, yielding to I/O after every chat. */
class MainThreadGenerator implements UnitGenerator {
  async generate(spec: DatasetParams, indices: number[], poison: UnitPoison): Promise<GeneratedUnit> {
    const b = new UnitBuilder(spec);
    for (const i of indices) {
      b.add(i, poison[i] ?? null);
      await yieldToIo();
    }
    return b.finish();
  }

  async close(): Promise<void> {}
}

interface PipelineOptions {
  /** Generator worker threads; 0 generates on the main thread. */
  generators: number;
  /** Planned bytes that may be generated and not yet loaded (a larger unit still goes, alone). */
  lookaheadBytes: number;
}

interface Slot {
  promise: Promise<GeneratedUnit>;
  bytes: number;
}

export class UnitPipeline {
  private readonly generators: UnitGenerator[];
  private readonly idle: UnitGenerator[];
  private readonly slots = new Map<number, Slot>();
  private readonly waiters: (() => void)[] = [];
  private next = 0;
  private aheadBytes = 0;
  private closed = false;

  constructor(
    private readonly spec: DatasetParams,
    private readonly units: readonly LoadUnit[],
    private readonly options: PipelineOptions,
  ) {
    this.generators = options.generators > 0 ? Array.from({ length: options.generators }, () => new ChatWorker()) : [new MainThreadGenerator()];
    this.idle = [...this.generators];
    this.pump();
  }

  private pump(): void {
    while (!this.closed && this.idle.length && this.next < this.units.length) {
      const unit = this.units[this.next];
      if (this.aheadBytes > 0 && this.aheadBytes + unit.plannedBytes > this.options.lookaheadBytes) break;
      const k = this.next++;
      const gen = this.idle.pop()!;
      this.aheadBytes += unit.plannedBytes;
      const promise = gen.generate(this.spec, unit.indices, unit.poison).finally(() => {
        this.idle.push(gen);
        this.pump();
      });
      // A failure surfaces where the unit is awaited, never as an unhandled rejection.
      promise.catch(() => undefined);
      this.slots.set(k, { promise, bytes: unit.plannedBytes });
    }
    for (const w of this.waiters.splice(0)) w();
  }

  /**
   * Unit `k` (in the order given), generated. Waits, while the budget holds
   * it back, until earlier units are released.
   */
  async get(k: number): Promise<GeneratedUnit> {
    if (k >= this.units.length) throw new Error(`no unit ${k}: the pipeline holds ${this.units.length}`);
    while (!this.slots.has(k)) {
      if (this.closed) throw new Error('unit pipeline closed');
      await new Promise<void>((r) => this.waiters.push(r));
    }
    return this.slots.get(k)!.promise;
  }

  /** Unit `k` is loaded (or abandoned): its memory leaves the budget. */
  release(k: number): void {
    const slot = this.slots.get(k);
    if (!slot) return;
    this.slots.delete(k);
    this.aheadBytes -= slot.bytes;
    this.pump();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w();
    await Promise.all(this.generators.map((g) => g.close()));
  }
}
