/**
 * At start-up, remove what an earlier harness process left behind when it
 * was killed without a chance to clean up (`kill -9`): its servers, its
 * containers, its child processes and its temp directories. Says what it did.
 */
import { readFile, rm } from 'node:fs/promises';
import { errorMessage } from '../errors.ts';
import type { OwnedResource } from '../lifecycle/owned-registry.ts';
import type { CliContext } from './cli-context.ts';

async function isPostgres(pid: number): Promise<boolean> {
  const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmd.includes('postgres');
}

function killGroup(pid: number): boolean {
  try {
    process.kill(-pid, 'SIGKILL');
    return true;
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
      return true;
    } catch {
      return false;
    }
  }
}

async function undo(r: OwnedResource): Promise<string | null> {
  switch (r.kind) {
    case 'embedded-server': {
      let what = `embedded PostgreSQL (pid ${r.postmasterPid})`;
      if ((await isPostgres(r.postmasterPid)) && killGroup(r.postmasterPid)) what += ' stopped';
      else what += ' already gone';
      if (r.removeDataDir) {
        await rm(r.dataDir, { recursive: true, force: true });
        what += `, data ${r.dataDir} removed`;
      } else what += `, data ${r.dataDir} kept (a seed in progress: the next run resumes it)`;
      return what;
    }
    case 'temp-dir':
      await rm(r.dir, { recursive: true, force: true });
      return `temp dir ${r.dir} removed`;
    case 'child-process':
      return killGroup(r.pid) ? `child process ${r.pid} (${r.command.slice(0, 40)}) killed` : null;
    case 'container': {
      try {
        const { getContainerRuntimeClient } = await import('testcontainers');
        const client = await Promise.race([getContainerRuntimeClient(), new Promise<never>((_, j) => setTimeout(() => j(new Error('timeout')), 5000))]);
        await client.container.dockerode.getContainer(r.containerId).remove({ force: true, v: true });
        return `container ${r.containerId.slice(0, 12)} removed`;
      } catch (err) {
        const msg = errorMessage(err);
        return /no such container|404/i.test(msg) ? null : `container ${r.containerId.slice(0, 12)} could not be removed (${msg.split('\n')[0]})`;
      }
    }
  }
}

export async function sweepOrphans(ctx: CliContext): Promise<void> {
  const orphans = await ctx.registry.orphans();
  for (const o of orphans) {
    // Servers first: a temp dir may hold a server's data.
    if (o.resource.kind !== 'embedded-server' && o.resource.kind !== 'child-process') continue;
    const what = await undo(o.resource).catch((e: unknown) => `could not clean up: ${errorMessage(e)}`);
    if (what) ctx.stderr(`cleaned up after an earlier run (pid ${o.harnessPid}, ${o.createdAt}) that was killed: ${what}`);
    await ctx.registry.release(o.id);
  }
  for (const o of orphans) {
    if (o.resource.kind === 'embedded-server' || o.resource.kind === 'child-process') continue;
    const what = await undo(o.resource).catch((e: unknown) => `could not clean up: ${errorMessage(e)}`);
    if (what) ctx.stderr(`cleaned up after an earlier run (pid ${o.harnessPid}, ${o.createdAt}) that was killed: ${what}`);
    await ctx.registry.release(o.id);
  }
}
