/**
 * `resuming`: our proposal for the restart tax of `chunked`. The same plan,
 * statement for statement, but an attempt starts its keyset walk after the
 * last chat already in `chat_message` instead of at the first chat.
 *
 * Why that is safe: the fix walks chats in id order and commits each page of
 * 100 chats with all of its rows, so when an attempt is cut off, every chat
 * up to `max(chat_message.chat_id)` sits in a committed page and every chat
 * after it is untouched (a chat yielding no rows is skipped either way). The
 * walk continues with `id > max(chat_id)`, compared by the server as the
 * walk itself compares ids; ON CONFLICT DO NOTHING still covers the rest.
 *
 * A chat upstream cannot read (a document that is not an object, where the
 * fix fails on every attempt) is skipped, logged and reported instead (see
 * skipped-chats.ts).
 *
 * When it is not: if something other than an in-order walk wrote
 * `chat_message` rows (an interrupted `parallel`, which commits several id
 * ranges at once, or the application itself), chats below the maximum may
 * be missing; the harness's verification would show them.
 */
import { keysetFix } from './chunked.ts';
import { WALK_START } from './ported/keyset-pages.ts';

export const resuming = keysetFix({
  name: 'resuming',
  proposal: true,
  summary: 'our proposal: the fix, each attempt continuing after the last chat already in chat_message instead of re-reading from the first; skips and reports a chat upstream cannot read',
  async startAt(client, ctx) {
    const r = await client.query<{ m: string | null }>('SELECT max(chat_id) AS m FROM chat_message');
    const last = r.rows[0]?.m ?? null;
    if (last === null) return WALK_START;
    ctx.log(`resuming: continuing after chat ${last}, the last one already migrated`);
    return last;
  },
});
