/**
 * Resident memory of a process group (a command and everything it started),
 * from /proc: the sum of VmRSS over the processes whose pgrp is the group.
 * Linux only; elsewhere it reads 0.
 */
import { readdir, readFile } from 'node:fs/promises';

/** Sum of VmRSS, in bytes, over the live processes of group `pgid`. */
export async function processGroupRssBytes(pgid: number): Promise<number> {
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((d) => /^\d+$/.test(d));
  } catch {
    return 0;
  }
  let total = 0;
  await Promise.all(
    pids.map(async (pid) => {
      try {
        const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
        // Fields after the command name (which may hold spaces and parentheses): state, ppid, pgrp.
        const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
        if (pgrp !== pgid) return;
        const m = /^VmRSS:\s+(\d+) kB/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
        if (m) total += Number(m[1]) * 1024;
      } catch {
        // The process ended between the listing and the read.
      }
    }),
  );
  return total;
}
