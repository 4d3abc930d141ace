/**
 * One chat's messages as upstream's loop meets them, in dict order: a row to
 * insert, or a message whose insert will fail. Upstream puts both kinds into
 * the same batch (a failing message costs the whole batch its bulk insert),
 * so the ports need them interleaved, not split as `chatToRows` returns them.
 * The rules themselves are `chat-to-rows.ts`'s; nothing is restated here.
 */
import { chatOutcome, parseChatColumn, PoisonChatError, type MessageEntry, type Rules } from '../../openwebui/chat-to-rows.ts';

export type { MessageEntry };

/**
 * The entries of one `chat` row; `chatText` is the column's text as the
 * server sent it (null for SQL NULL). A chat at which upstream raises (see
 * PoisonChat) throws {@link PoisonChatError}: the attempt fails there, as
 * upstream's does. A strategy that skips such chats calls `chatOutcome`.
 */
export function messageEntries(chatId: string, userId: string | null, chatText: string | null, now: number, rules?: Rules): MessageEntry[] {
  const outcome = chatOutcome(chatId, userId, parseChatColumn(chatText), now, rules);
  if (outcome.kind === 'poison') throw new PoisonChatError(outcome);
  return outcome.entries;
}
