/**
 * A record on disk of what each harness process owns (servers, containers,
 * temp directories), so that a run started after a `kill -9` of an earlier
 * one can find what that one left behind and remove it.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export type OwnedResource =
  | { kind: 'embedded-server'; postmasterPid: number; dataDir: string; removeDataDir: boolean }
  | { kind: 'container'; containerId: string }
  | { kind: 'child-process'; pid: number; command: string }
  | { kind: 'temp-dir'; dir: string };

interface Record_ {
  harnessPid: number;
  harnessStartTicks: string | null;
  createdAt: string;
  resource: OwnedResource;
}

/** Process start time from /proc: a pid alone can be reused by another process. */
export function processStartTicks(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class OwnedRegistry {
  private seq = 0;
  private readonly myTicks = processStartTicks(process.pid);

  constructor(readonly dir: string) {}

  /** Record a resource; returns its id for {@link release}. */
  async record(resource: OwnedResource): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    const id = `${process.pid}-${Date.now()}-${this.seq++}`;
    const rec: Record_ = { harnessPid: process.pid, harnessStartTicks: this.myTicks, createdAt: new Date().toISOString(), resource };
    await writeFile(path.join(this.dir, `${id}.json`), JSON.stringify(rec));
    return id;
  }

  async release(id: string): Promise<void> {
    await rm(path.join(this.dir, `${id}.json`), { force: true });
  }

  /**
   * Records whose harness process is gone (or is now another process).
   * Returns them with their ids; the caller cleans up and releases each.
   */
  async orphans(): Promise<{ id: string; resource: OwnedResource; harnessPid: number; createdAt: string }[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const out = [];
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      let rec: Record_;
      try {
        rec = JSON.parse(await readFile(path.join(this.dir, name), 'utf8')) as Record_;
      } catch {
        await rm(path.join(this.dir, name), { force: true });
        continue;
      }
      const alive = isProcessAlive(rec.harnessPid) && processStartTicks(rec.harnessPid) === rec.harnessStartTicks;
      if (!alive) out.push({ id: name.slice(0, -5), resource: rec.resource, harnessPid: rec.harnessPid, createdAt: rec.createdAt });
    }
    return out;
  }
}
