/**
 * The path an upgrade takes through a checkout's Alembic chain: from the
 * revision the database is at (`--from`) to `--to` (default: the head), and
 * the revisions run on the way, in the order Alembic runs them. Resolved from
 * the files' text before anything starts, so a `--from` not in the chain or a
 * `--to` before it exits 2 with one line.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.ts';
import { findRevision, type OpenWebuiCheckout, type RevisionFile } from '../upstream/openwebui-checkout.ts';

export interface UpgradePath {
  from: RevisionFile;
  /** The revision the upgrade ends at (`head` resolved). */
  to: RevisionFile;
  /** The argument to `alembic upgrade`: `head` or the revision id. */
  target: string;
  /** Revisions run on the way, after `from`, up to and including `to`. */
  revisions: RevisionFile[];
  /** Revisions up to and including `from`: they build the schema the data is seeded into. */
  base: RevisionFile[];
}

/** Every revision `rev` descends from (its down-revisions, theirs, ...). */
function ancestorsOf(checkout: OpenWebuiCheckout, rev: RevisionFile): Set<string> {
  const byId = new Map(checkout.revisions.map((r) => [r.id, r]));
  const seen = new Set<string>();
  const stack = [...rev.downRevisions];
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const r = byId.get(id);
    if (r) stack.push(...r.downRevisions);
  }
  return seen;
}

/** The chain's heads: revisions no other revision revises. */
export function headsOf(checkout: OpenWebuiCheckout): RevisionFile[] {
  const revised = new Set(checkout.revisions.flatMap((r) => r.downRevisions));
  return checkout.revisions.filter((r) => !revised.has(r.id));
}

/** Resolve `--from` and `--to` (`head` or a revision id, a unique prefix accepted). */
export function resolveUpgradePath(checkout: OpenWebuiCheckout, fromId: string, toId = 'head'): UpgradePath {
  const from = findRevision(checkout, fromId, '--from');
  let to: RevisionFile;
  if (toId === 'head') {
    const heads = headsOf(checkout);
    if (heads.length !== 1)
      throw new UsageError(`--to head: the chain in ${checkout.versionsDir} has ${heads.length} heads (${heads.map((h) => h.id).join(', ')}); give one of them as --to`);
    to = heads[0];
  } else to = findRevision(checkout, toId, '--to');
  if (to.id === from.id) throw new UsageError(`--to ${toId}: it is --from itself (${from.id}); give a later revision, or head`);
  const toAncestors = ancestorsOf(checkout, to);
  if (!toAncestors.has(from.id)) {
    const why = ancestorsOf(checkout, from).has(to.id) ? `comes before --from ${from.id}` : `is not on a path from --from ${from.id}`;
    throw new UsageError(`--to ${toId}: revision ${to.id} ${why}; give a revision after ${from.id}, or head`);
  }
  const fromAncestors = ancestorsOf(checkout, from);
  const revisions = checkout.revisions.filter((r) => (r.id === to.id || toAncestors.has(r.id)) && r.id !== from.id && !fromAncestors.has(r.id));
  const base = checkout.revisions.filter((r) => r.id === from.id || fromAncestors.has(r.id));
  return { from, to, target: toId === 'head' ? 'head' : to.id, revisions, base };
}

/** A short digest of the revision files that build the schema at `from`: part of the seed's cache key. */
export async function baseDigest(path: UpgradePath): Promise<string> {
  const h = createHash('sha256');
  for (const r of path.base) h.update(r.id).update('\0').update(await readFile(r.file)).update('\0');
  return h.digest('hex').slice(0, 8);
}
