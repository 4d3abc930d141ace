/**
 * A speed floor: how long this machine takes, right now, for one fixed piece
 * of work, timed just before and just after each run of a sweep.
 *
 * Why: on a shared virtual machine the same work costs more CPU time in one
 * stretch of minutes than in the next. Measured in the projection-check
 * benchmark, the migration backends' CPU time for the same data moved from 24
 * to 33 ms per MiB of chat between stretches, with no other process busy (wall
 * time per second of backend CPU stayed 1.6-1.9 throughout). A sweep's small
 * sizes and its check sizes run minutes apart, so whichever stretch each
 * meets moves a projection's duration error by as much. A run's duration over
 * the floor timed beside it is the ratio the benchmarks rule asks for: speed
 * against a floor measured in the same run.
 *
 * Two floors: the server's (a fixed query: jsonb built and parsed, md5, a
 * sort in memory; no table is read or written) and the client's (a fixed
 * chat-like document serialised and parsed in this process). Each is the
 * fastest of a few passes, so one pass slowed by a stray process does not
 * count. Where the server's processes are this machine's (the embedded
 * provider), the server's is also read as the CPU time its backend spent on
 * the passes (/proc/<pid>/stat), and that is the one a run's floor takes: a
 * process busy beside the query takes its turns on the cores, not its CPU
 * time, while a slower machine costs CPU time too, as the migration's
 * backends showed. Not every slow reading is another process, though: in the
 * projection-check benchmark some readings just before or after a run came
 * 40-60 % slow in CPU time as much as in wall time (this kind of virtual
 * machine reports no steal time, so time its host takes counts as the
 * process's own); hence the lower of a run's two readings. Nothing in any
 * database changes.
 */
import type { Client } from '../postgres/sql.ts';
import { readProcCounters } from './backend-processes.ts';
import type { StartedPostgres } from '../postgres/started-postgres.ts';
import { withClient } from '../postgres/with-client.ts';

/** About 300 ms on the machines this was written on; the same text every time, so its time is the machine's speed. */
export const FLOOR_QUERY = `SELECT
  (SELECT sum(length(j->>'b')) FROM (SELECT jsonb_build_object('a', i, 'b', md5(i::text), 'c', repeat(md5(i::text), 8)) AS j FROM generate_series(1, 30000) i) s1),
  (SELECT count(*) FROM (SELECT md5(i::text) FROM generate_series(1, 75000) i ORDER BY 1) s2),
  (SELECT sum(length(((('{"role":"user","content":"' || repeat(md5(i::text), 6) || '","id":' || i || '}')::jsonb) ->> 'content'))) FROM generate_series(1, 30000) i)`;

/** Passes of each floor; its time is the fastest. */
export const FLOOR_PASSES = 3;

/** One reading: each floor's fastest pass, ms. */
export interface SpeedFloorReading {
  serverMs: number;
  clientMs: number;
  /** The server backend's CPU time (user + system) per pass, ms; absent where its process is not this machine's to read. */
  serverCpuMs?: number;
}

/** What a run keeps (`strategies[].speedFloor`): the readings just before and just after it. */
export interface SpeedFloor {
  before: SpeedFloorReading;
  after: SpeedFloorReading;
}

/** A chat-like document (a hundred messages of a few hundred characters), built once. */
const DOCUMENT = JSON.stringify({
  history: {
    messages: Object.fromEntries(
      Array.from({ length: 100 }, (_, i) => [
        `m${i}`,
        { id: `m${i}`, parentId: i ? `m${i - 1}` : null, role: i % 2 ? 'assistant' : 'user', content: `message ${i} `.repeat(30), timestamp: 1_700_000_000 + i },
      ]),
    ),
  },
});

/**
 * The client's fixed work: the document parsed and serialised 1,200 times
 * (about 140 ms here). Returns a figure that depends on every pass, so no
 * pass can be skipped.
 */
export function clientWork(): number {
  let n = 0;
  for (let i = 0; i < 1200; i++) n += JSON.stringify(JSON.parse(DOCUMENT)).length;
  return n;
}

function fastest(times: number[]): number {
  return Math.min(...times);
}

async function serverPasses(client: Client, passes: number, readCpu: boolean): Promise<{ serverMs: number; serverCpuMs?: number }> {
  const times: number[] = [];
  // The sort fits in memory whatever the server's work_mem: this session's setting only.
  await client.query(`SET work_mem = '32MB'`);
  const pid = readCpu ? Number((await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid) : null;
  const cpu0 = pid ? await readProcCounters(pid) : null;
  for (let i = 0; i < passes; i++) {
    const t0 = performance.now();
    await client.query(FLOOR_QUERY);
    times.push(performance.now() - t0);
  }
  const cpu1 = pid && cpu0 ? await readProcCounters(pid) : null;
  // CPU time comes in ticks of 10 ms: over every pass, not the fastest one.
  const serverCpuMs = cpu0 && cpu1 ? (cpu1.userMs + cpu1.systemMs - cpu0.userMs - cpu0.systemMs) / passes : undefined;
  return { serverMs: fastest(times), ...(serverCpuMs !== undefined && serverCpuMs > 0 ? { serverCpuMs } : {}) };
}

/** Times both floors on `server` (its maintenance database; nothing is written). */
export async function readSpeedFloor(server: StartedPostgres, passes = FLOOR_PASSES): Promise<SpeedFloorReading> {
  const onServer = await withClient(server, server.maintenanceDatabase, 'speed-floor', (c) => serverPasses(c, passes, server.provider === 'embedded'));
  const times: number[] = [];
  for (let i = 0; i < passes; i++) {
    const t0 = performance.now();
    if (clientWork() <= 0) throw new Error('speed floor: the client work came out empty');
    times.push(performance.now() - t0);
  }
  return { ...onServer, clientMs: fastest(times) };
}

/**
 * A run's server floor: the lower of the readings before and after it, in
 * the backend's CPU time where both read it, else in wall time. A reading
 * can only be slowed by what else the machine does, never sped up, so the
 * lower is nearer the machine's speed.
 */
export function serverFloorMs(f: SpeedFloor): number {
  const { before: b, after: a } = f;
  return b.serverCpuMs !== undefined && a.serverCpuMs !== undefined ? Math.min(b.serverCpuMs, a.serverCpuMs) : Math.min(b.serverMs, a.serverMs);
}

/**
 * A duration measured at floor `fromFloorMs`, as it would have been at floor
 * `toFloorMs`: the same work on a machine that far slower or faster. Both
 * floors must be positive.
 */
export function atFloor(durationMs: number, fromFloorMs: number, toFloorMs: number): number {
  if (!(fromFloorMs > 0) || !(toFloorMs > 0)) throw new RangeError(`speed floors must be positive (got ${fromFloorMs} and ${toFloorMs})`);
  return (durationMs * toFloorMs) / fromFloorMs;
}
