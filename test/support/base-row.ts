/**
 * The row upstream writes for the tests' one-message document (`m1` in chat
 * `c1` of user `u1`: a user message "hi" at 1700000000); expectation tables
 * state what a case changes against it.
 */
import type { MessageRow } from '../../harness/openwebui/chat-to-rows.ts';

export const BASE_ROW: MessageRow = {
  id: 'c1-m1',
  chat_id: 'c1',
  user_id: 'u1',
  role: 'user',
  parent_id: null,
  content: '"hi"',
  output: 'null',
  model_id: null,
  files: 'null',
  sources: 'null',
  embeds: 'null',
  done: true,
  status_history: 'null',
  error: 'null',
  usage: 'null',
  created_at: 1700000000,
  updated_at: 1700000000,
};

/** Both timestamps of the row set to `ts`. */
export const at = (ts: number): Partial<MessageRow> => ({ created_at: ts, updated_at: ts });
