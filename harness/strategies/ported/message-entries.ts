/**
 * One chat's messages as upstream's loop meets them, in dict order: a row to
 * insert, or a message whose insert will fail. Upstream puts both kinds into
 * the same batch (a failing message costs the whole batch its bulk insert),
 * so the ports need them interleaved, not split as `chatToRows` returns them.
 * The rules themselves are `chat-to-rows.ts`'s; nothing is restated here.
 */
import { isMigratedChat, messageRow, migratedMessages, parseChatColumn, type MessageRow, type RowFailure } from '../../openwebui/chat-to-rows.ts';

export type MessageEntry = { ok: true; row: MessageRow } | { ok: false; failure: RowFailure };

/** The entries of one `chat` row; `chatText` is the column's text as the server sent it (null for SQL NULL). */
export function messageEntries(chatId: string, userId: string | null, chatText: string | null, now: number): MessageEntry[] {
  if (!isMigratedChat(userId)) return [];
  const out: MessageEntry[] = [];
  for (const [messageId, message] of migratedMessages(parseChatColumn(chatText))) {
    const r = messageRow(chatId, userId, messageId, message, now);
    out.push(r.ok ? { ok: true, row: r.row } : { ok: false, failure: r.failure });
  }
  return out;
}
