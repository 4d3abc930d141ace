/**
 * What our proposals do at a chat upstream cannot read (a document that is
 * truthy but not an object, at which upstream raises and the whole upgrade
 * fails, on every attempt): skip it, log it, report it, and migrate the
 * rest. That chat's messages stay in `chat` and nowhere else, as they are
 * in the application today; the report names it for someone to look at.
 * This is the behaviour we recommend upstream adopts.
 */
import { chatOutcome, parseChatColumn, type MessageEntry, type PoisonChat } from '../openwebui/chat-to-rows.ts';

/** One chat a proposal skipped, and Python's exception upstream raises there. */
export interface SkippedChat {
  chatId: string;
  reason: string;
}

/** The chats an attempt skipped, each logged once. */
export class SkippedChats {
  readonly list: SkippedChat[] = [];

  constructor(private readonly log: (line: string) => void) {}

  add(p: PoisonChat): void {
    this.list.push({ chatId: p.chatId, reason: p.reason });
    this.log(`skipped chat ${p.chatId}: its document is not an object (${p.reason}); upstream fails the whole migration here, we skip it and report it`);
  }
}

/** A chat's entries, or none when it is skipped (recorded in `skipped`). */
export function entriesOrSkip(chatId: string, userId: string | null, chatText: string | null, now: number, skipped: SkippedChats): MessageEntry[] {
  const outcome = chatOutcome(chatId, userId, parseChatColumn(chatText), now);
  if (outcome.kind === 'poison') {
    skipped.add(outcome);
    return [];
  }
  return outcome.entries;
}
