/**
 * Hazard: one chat upstream cannot read. Its document is truthy but not an
 * object (here a list), planted at 60% of the chats in id order; upstream
 * calls `.get` on it, raises, and nothing catches it. The single-transaction
 * release fails every attempt and keeps nothing; the fix keeps the pages
 * before that chat, then fails at the same chat on every restart and never
 * stamps, so the service never starts; `resuming` (our proposal) skips the
 * chat, reports it and finishes. Without the write probe: its new chats
 * would move the fix's page boundaries from one attempt to the next, and
 * with them how many rows before the chat each attempt keeps.
 */
import { defineScenario, REDUCED_WAL_SERVER } from '../harness/scenario/scenario-schema.ts';

export default defineScenario({
  name: 'poison-chat',
  description: 'One chat whose document is not an object, at 60% of the chats: original fails every attempt, chunked stops at it on every restart, resuming skips and reports it',
  dataset: { size: '64MB', seed: 42, edgeCaseRate: 0.01, sharedRate: 0.03, poisonChats: 1, poisonAt: 0.6 },
  server: { settings: { ...REDUCED_WAL_SERVER } },
  strategies: ['original', 'chunked', 'resuming'],
  faults: ['restarts=2'],
  measure: { probe: false },
});
