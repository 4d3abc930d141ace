/**
 * What was found in a tester's database, as lines for the log and the
 * report (the caller renders them; nothing here prints).
 */
import { formatBytes } from '../units.ts';
import type { SourceReport } from './derive-manifest.ts';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * One summary line, then one line per kind of expected failure (most
 * frequent first), then the poison chats (each stops the migration).
 */
export function describeSourceReport(name: string, r: SourceReport): string[] {
  const skipped = r.sharedChatsSkipped + r.nullOwnerSkipped;
  const lines = [
    `${name}: ${plural(r.chats, 'chat')} (${formatBytes(r.bytes)} of documents), ${plural(skipped, 'chat')} skipped ` +
      `(${r.sharedChatsSkipped} shared, ${r.nullOwnerSkipped} without an owner), ${plural(r.messages, 'message')}; ` +
      `a correct migration writes ${plural(r.expectedRows, 'row')}; ${plural(r.chatsWithoutRows, 'chat')} yield none` +
      (r.unparseableDocuments ? ` (${r.unparseableDocuments} unreadable)` : '') +
      `; ${plural(r.expectedFailures, 'message')} fail${r.expectedFailures === 1 ? 's' : ''} to insert (logged and skipped, as upstream does)`,
  ];
  for (const [reason, n] of Object.entries(r.failureReasons).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) lines.push(`  ${n} × ${reason}`);
  // Reports stored before poison chats were counted have no such fields.
  if (r.poisonChats) {
    lines.push(
      `${plural(r.poisonChats, 'chat')} stop${r.poisonChats === 1 ? 's' : ''} the migration (upstream raises there and nothing catches it: ` +
        `v0.8.12 and the fix fail at the first one they reach, every time)` +
        (r.poisonChats > r.firstPoisonChats.length ? `; the first ${r.firstPoisonChats.length} by id:` : ':'),
    );
    for (const p of r.firstPoisonChats) lines.push(`  chat ${p.chatId}: ${p.reason}`);
  }
  if (r.v080PoisonChats) lines.push(`${plural(r.v080PoisonChats, 'chat')} stop${r.v080PoisonChats === 1 ? 's' : ''} v0.8.0 (it lacks the later releases' guards)`);
  return lines;
}
